"""Tags: labels a marketer can read and target, declared as data and computed set-based in Ibis.

    from jingzhun.profile.tags import build_tags, catalogue, load_library, tags_of
    library = load_library(project_dir="my-shop", catalog=Catalog.from_warehouse(warehouse))
    result = build_tags(warehouse, as_of="2025-01-01", library=library)
    catalogue(warehouse, library)            # definition and coverage of every tag
    tags_of(warehouse, "p0001", library)     # one person's tags with reasons

A tag is a rule (an audience expression), bands of a profile field, or levels of a model score, in one
of five families (basic, interests, social, consumption, predictions). docs/tags.md describes the YAML
and the built-in library.
"""

from jingzhun.profile.tags.build import TagBuildResult, build_tags, features_built_as_of, last_tag_build
from jingzhun.profile.tags.catalogue import TagInfo, catalogue, tag_changes, tag_history, tags_of
from jingzhun.profile.tags.errors import TagDefinitionError
from jingzhun.profile.tags.evaluate import evaluate, lower_quantiles
from jingzhun.profile.tags.library import BUILTIN_DIR, LibraryTag, TagLibrary, load_library, read_tag_file
from jingzhun.profile.tags.model import FAMILIES, FAMILY_LABELS, Bands, ScoreLevels, TagDef, Text

__all__ = [
    "build_tags", "TagBuildResult", "features_built_as_of", "last_tag_build", "catalogue", "TagInfo", "tags_of",
    "tag_history", "tag_changes", "TagDefinitionError", "evaluate", "lower_quantiles", "load_library",
    "read_tag_file", "TagLibrary", "LibraryTag", "BUILTIN_DIR", "FAMILIES", "FAMILY_LABELS", "TagDef", "Bands",
    "ScoreLevels", "Text",
]
