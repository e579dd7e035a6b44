"""Connections to the engines, handing out Ibis tables: DuckDB by default, PySpark for scale."""

from jingzhun.warehouse.warehouse import Warehouse, open_warehouse

__all__ = ["Warehouse", "open_warehouse"]
