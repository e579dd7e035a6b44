"""activation layer (see docs/architecture.md)."""
