"""jingzhun (精准): precision marketing, end to end, on DuckDB or Spark."""

__version__ = "0.1.0"

__all__ = ["__version__"]
