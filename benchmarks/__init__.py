"""Benchmarks: side-by-side comparisons in one run that print figures and ratios (see README.md)."""
