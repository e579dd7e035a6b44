"""segment layer: the audience language, parsed to frozen nodes and compiled to Ibis.

    >>> ctx = context_from_warehouse(warehouse, as_of="2024-06-30")
    >>> members = audience("gender = 'F' and did 'Product Viewed' in last 30 days", ctx)

See docs/audience-language.md for the grammar and docs/segments.md for saved segments, RFM, lifecycle
and clustering segments.
"""

from jingzhun.segment.catalog import Catalog
from jingzhun.segment.compiler import audience, bind, compile_audience, haversine_km
from jingzhun.segment.context import AudienceContext, context_from_warehouse
from jingzhun.segment.errors import AudienceError, AudienceSyntaxError, AudienceTypeError, UnknownNameError
from jingzhun.segment.language import parse
from jingzhun.segment.membership import export_csv, members, overlap, resolve, size
from jingzhun.segment.preview import preview
from jingzhun.segment.saved import Segment, SegmentNotFoundError, delete_segment, get_segment, list_segments, save_segment
from jingzhun.segment.snapshots import diff, list_snapshots, take_snapshot

__all__ = [
    "AudienceContext", "AudienceError", "AudienceSyntaxError", "AudienceTypeError", "Catalog", "UnknownNameError",
    "audience", "bind", "compile_audience", "context_from_warehouse", "haversine_km", "parse",
    "Segment", "SegmentNotFoundError", "save_segment", "get_segment", "list_segments", "delete_segment",
    "members", "size", "overlap", "export_csv", "resolve", "preview", "take_snapshot", "list_snapshots", "diff",
]
