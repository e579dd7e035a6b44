"""pipeline layer (see docs/architecture.md)."""
