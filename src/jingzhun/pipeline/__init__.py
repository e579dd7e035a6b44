"""pipeline layer (see docs/architecture.md): orchestration of loads and builds."""

from jingzhun.pipeline.load import load_source

__all__ = ["load_source"]
