"""segment layer (see docs/architecture.md)."""
