"""measure layer (see docs/architecture.md)."""
