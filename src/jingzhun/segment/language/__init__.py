"""The audience language: lexer, nodes and parser (no engine, no catalogue)."""

from jingzhun.segment.language.nodes import *  # noqa: F401,F403
from jingzhun.segment.language.nodes import __all__ as _nodes_all
from jingzhun.segment.language.parser import parse

__all__ = ["parse", *_nodes_all]
