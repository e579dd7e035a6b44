"""profile layer (see docs/architecture.md)."""
