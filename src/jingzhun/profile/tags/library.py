"""Tag libraries: the built-in tag files, a project's own (``<project>/tags/*.yaml``), checked at load.

Loading reads each YAML file, validates every tag (errors name the file, the line, the tag and the
field), merges the project's tags over the built-in ones (a clash is an error unless the project's tag
says ``overrides: true``), checks every expression, band feature and reason field against a
:class:`~jingzhun.segment.Catalog` (unknown names come with close matches), and orders the tags so that
a tag comes after the tags its rule uses (``tag('other')``); tags that refer to each other in a cycle
are rejected.

A built-in tag whose rule names a category, product, brand, event or store that the warehouse does not
have is *inactive* there: it is listed with the reason and carried by nobody (the built-in library is
written for a general shop and the simulator's catalogue). A project's own tag with such a name is an
error, since the project wrote it for its own data.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from jingzhun.profile.tags.errors import TagDefinitionError
from jingzhun.profile.tags.model import FAMILIES, TagDef
from jingzhun.profile.tags.reasons import check_template
from jingzhun.segment import AudienceError, Catalog, parse
from jingzhun.segment.catalog import suggest
from jingzhun.segment.language.nodes import Bought, Did, Node, Tag, Within

__all__ = ["TagLibrary", "LibraryTag", "load_library", "read_tag_file", "BUILTIN_DIR", "project_tag_files",
           "static_catalog"]

log = logging.getLogger(__name__)

BUILTIN_DIR = Path(__file__).resolve().parent / "library"
PROJECT_TAG_DIR = "tags"


@dataclass(frozen=True)
class LibraryTag:
    """A tag with where it was written."""

    definition: TagDef
    file: str
    line: int | None = None
    builtin: bool = False
    lines: Mapping[str, int] = dataclasses.field(default_factory=dict)  # field path -> line

    @property
    def name(self) -> str:
        return self.definition.name

    def error(self, message: str, field: str | None = None, hint: str | None = None) -> TagDefinitionError:
        line = self.lines.get(field, self.line) if field else self.line
        return TagDefinitionError(message, file=self.file, line=line, tag=self.name, field=field, hint=hint)


@dataclass(frozen=True)
class TagLibrary:
    """Checked tags in declaration order, with their evaluation order and what is inactive."""

    entries: tuple[LibraryTag, ...]
    levels: tuple[tuple[str, ...], ...]  # names by dependency level: level k uses only tags of levels < k
    inactive: Mapping[str, str]  # name -> why nobody carries it in this warehouse
    dependencies: Mapping[str, tuple[str, ...]]  # name -> the tags its expressions use
    catalog: Catalog  # the names the tags were checked against (tags: this library's; scores: the
    #                   warehouse's and those the score tags declare)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {e.name: e for e in self.entries})

    def __iter__(self) -> Iterator[TagDef]:
        return (e.definition for e in self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> TagDef:
        return self.entry(name).definition

    def entry(self, name: str) -> LibraryTag:
        try:
            return self._by_name[name]
        except KeyError:
            close = suggest(name, self._by_name)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise TagDefinitionError(f"no tag named {name!r}{hint} (see `jingzhun tags list`)") from None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def score_names(self) -> frozenset[str]:
        return frozenset(t.score.name for t in self if t.score is not None)


# -- reading files --------------------------------------------------------------------------------------
def _field_lines(node: yaml.Node, prefix: str = "") -> dict[str, int]:
    """Line (1-based) of every key under a YAML mapping node, by dotted path."""
    out: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            path = f"{prefix}{key.value}"
            out[path] = key.start_mark.line + 1
            out.update(_field_lines(value, path + "."))
    return out


def _tag_nodes(root: yaml.Node | None, file: str) -> list[yaml.Node]:
    if not isinstance(root, yaml.MappingNode):
        raise TagDefinitionError("a tag file is a mapping with a 'tags:' list", file=file,
                                 hint="start the file with  tags:  and list the tags under it")
    keys = {k.value: v for k, v in root.value}
    unknown = sorted(set(keys) - {"tags"})
    if unknown:
        raise TagDefinitionError(f"unknown top-level key(s) {unknown}; a tag file has only 'tags:'", file=file,
                                 line=next(k.start_mark.line + 1 for k, _ in root.value if k.value == unknown[0]))
    items = keys.get("tags")
    if not isinstance(items, yaml.SequenceNode):
        raise TagDefinitionError("'tags:' must be a list of tags (each item starts with '- name: ...')", file=file)
    return list(items.value)


_KNOWN_KEYS = {
    (): ("name", "family", "label", "description", "rule", "bands", "score", "reason", "overrides"),
    ("label",): ("zh", "en"), ("description",): ("zh", "en"), ("reason",): ("zh", "en"),
    ("bands",): ("feature", "cuts", "quantiles", "labels", "where"),
    ("score",): ("name", "cuts", "quantiles", "labels"),
}


def _validation_error(exc: ValidationError, raw: dict, file: str, item_line: int, lines: dict[str, int],
                      name: str | None) -> TagDefinitionError:
    """The first problem pydantic found, in words that say what to write instead."""
    err = exc.errors()[0]
    loc = tuple(str(p) for p in err["loc"])
    if loc[:1] == ("reason",) and loc[1:2] in (("Text",), ("str",)):  # the member of the union pydantic tried
        loc = ("reason", *loc[2:])
    field = ".".join(loc) or None
    kind, msg = err["type"], err["msg"].removeprefix("Value error, ")
    hint = None
    if kind == "extra_forbidden":
        known = _KNOWN_KEYS.get(loc[:-1], ())
        close = suggest(loc[-1], known)
        msg = f"unknown field {loc[-1]!r}" + (f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else "")
        hint = f"the fields here are {', '.join(known)}" if known else None
    elif kind == "missing":
        msg = "missing: this field is required"
        if loc[-1] in ("zh", "en"):
            hint = "labels and descriptions are given in Chinese and English: {zh: ..., en: ...}"
    elif kind == "literal_error" and loc == ("family",):
        close = suggest(str(raw.get("family")), FAMILIES)
        msg = f"unknown family {raw.get('family')!r}" + (f"; did you mean {close[0]!r}?" if close else "")
        hint = f"families are {', '.join(FAMILIES)}"
    elif kind == "string_pattern_mismatch" and loc == ("name",):
        msg = f"{raw.get('name')!r} is not a tag name"
        hint = "names are lower-case ASCII letters, digits and _, starting with a letter (e.g. high_value); " \
               "Chinese goes in label.zh"
    elif loc and loc[0] == "reason":
        msg = "a reason is a template text, or {zh: ..., en: ...} with one template per language"
        field = "reason"
    line = lines.get(field, item_line) if field else item_line
    return TagDefinitionError(msg, file=file, line=line, tag=name, field=field, hint=hint)


def read_tag_file(path: str | Path, *, builtin: bool = False) -> list[LibraryTag]:
    """The tags of one YAML file, each validated (not yet checked against a catalogue)."""
    path = Path(path)
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except OSError as exc:
        raise TagDefinitionError(f"cannot read the tag file: {exc.strerror or exc}", file=file) from exc
    except UnicodeDecodeError as exc:
        raise TagDefinitionError("the tag file is not UTF-8 text", file=file, hint="save it as UTF-8") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise TagDefinitionError(f"not valid YAML: {problem}", file=file,
                                 line=mark.line + 1 if mark else None) from exc
    nodes = _tag_nodes(root, file)
    out = []
    for node, raw in zip(nodes, data["tags"]):
        line = node.start_mark.line + 1
        if not isinstance(raw, dict):
            raise TagDefinitionError("each tag is a mapping of fields (name:, family:, ...)", file=file, line=line)
        name = raw.get("name") if isinstance(raw.get("name"), str) else None
        lines = _field_lines(node)
        try:
            definition = TagDef.model_validate(raw)
        except ValidationError as exc:
            raise _validation_error(exc, raw, file, line, lines, name) from None
        out.append(LibraryTag(definition, file, line, builtin, lines))
    return out


def project_tag_files(project_dir: str | Path) -> list[Path]:
    """A project's own tag files: ``<project>/tags/*.yaml`` (and ``*.yml``), by name."""
    folder = Path(project_dir) / PROJECT_TAG_DIR
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def _merge(builtin: list[LibraryTag], own: list[LibraryTag]) -> list[LibraryTag]:
    """Built-in tags, with the project's tags added or, where they say ``overrides: true``, put in their place."""
    merged: dict[str, LibraryTag] = {}
    for entry in builtin:
        merged[entry.name] = entry
    from_project: dict[str, LibraryTag] = {}
    for entry in own:
        name = entry.name
        if name in from_project:
            first = from_project[name]
            raise entry.error(f"the name is already used by a tag in {first.file} line {first.line}", "name",
                              hint="give each tag its own name")
        base = merged.get(name)
        if base is not None and base.builtin and not entry.definition.overrides:
            raise entry.error(f"a built-in tag already has this name ({base.file} line {base.line})", "name",
                              hint="rename the tag, or write  overrides: true  to replace the built-in one")
        if entry.definition.overrides and (base is None or not base.builtin):
            raise entry.error("overrides: true, but there is no built-in tag of this name to replace", "overrides",
                              hint="remove overrides, or use the name of the built-in tag (see `jingzhun tags list`)")
        from_project[name] = entry
        merged[name] = entry
    return list(merged.values())


# -- checking against a catalogue -------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def static_catalog() -> Catalog:
    """The fields any warehouse offers audiences (from the data model; other names unchecked)."""
    from jingzhun.segment import context_from_warehouse
    from jingzhun.warehouse import Warehouse

    with Warehouse.duckdb(":memory:") as wh:
        wh.ensure_schema()
        schema = context_from_warehouse(wh, as_of="2000-01-01").base.schema()
    return Catalog.from_schema(schema)


def _missing_items(node: Node, catalog: Catalog) -> list[str]:
    """Categories, products, brands, events and stores the expression names and the catalogue lacks."""
    missing = []
    for n in node.walk():
        named = []
        if isinstance(n, Bought):
            named = [(i.kind, i.value) for i in (n.item, n.but_not) if i is not None]
        elif isinstance(n, Did):
            named = [("event", n.event)]
        elif isinstance(n, Within) and n.store is not None:
            named = [("store", n.store)]
        for kind, value in named:
            known = {"category": catalog.categories, "product": catalog.products, "brand": catalog.brands,
                     "event": catalog.events, "store": catalog.stores}[kind]
            if known is not None and value not in known:
                missing.append(f"{kind} {value!r}")
    return missing


def _expression(entry: LibraryTag, field: str, text: str, catalog: Catalog) -> tuple[Node, list[str]]:
    """The checked expression of ``field`` and the catalogue names it lacks (built-in tags only)."""
    try:
        node = parse(text)
    except AudienceError as exc:
        raise entry.error(str(exc.with_text(text) if exc.text is None else exc), field) from None
    missing = _missing_items(node, catalog) if entry.builtin else []
    if missing:
        blind = dataclasses.replace(catalog, categories=None, products=None, brands=None, events=None, stores=None)
        catalog = blind
    try:
        return catalog.check(node, text), missing
    except AudienceError as exc:
        raise entry.error(str(exc), field) from None


def _check(entry: LibraryTag, catalog: Catalog) -> tuple[tuple[str, ...], str | None]:
    """Check one tag; its dependencies (tags its expressions use) and why it is inactive, if it is."""
    tag = entry.definition
    nodes, missing = [], []
    if tag.rule is not None:
        node, gaps = _expression(entry, "rule", tag.rule, catalog)
        nodes.append(node)
        missing += gaps
    kinds = dict(catalog.fields)
    if tag.bands is not None:
        feature = tag.bands.feature
        if feature not in catalog.fields:
            close = suggest(feature, catalog.fields)
            raise entry.error(f"unknown field {feature!r}" + (f"; did you mean {' or '.join(map(repr, close))}?"
                                                               if close else ""), "bands.feature")
        if catalog.fields[feature] != "number":
            raise entry.error(f"{feature} is {catalog.fields[feature]}: bands cut a number", "bands.feature",
                              hint="for text fields write one rule tag per value, e.g. city in ('上海', '北京')")
        if tag.bands.where is not None:
            node, gaps = _expression(entry, "bands.where", tag.bands.where, catalog)
            nodes.append(node)
            missing += gaps
    if tag.banding is not None:
        kinds["value"] = "string"
    if tag.score is not None:
        kinds["score"] = "number"
        kinds["score_reason"] = "string"  # the model's own reason for the score, where it gives one
    for language in ("zh", "en"):
        template = tag.reason_template(language)
        if template is None:
            continue
        field = "reason" if isinstance(tag.reason, str) else f"reason.{language}"
        try:
            check_template(template, kinds)
        except KeyError as exc:
            close = suggest(exc.args[0], kinds)
            raise entry.error(f"unknown field {{{exc.args[0]}}} in the reason"
                              + (f"; did you mean {' or '.join(map(repr, close))}?" if close else ""), field) from None
        except ValueError as exc:
            raise entry.error(str(exc), field) from None
    deps = tuple(sorted({n.name for node in nodes for n in node.walk() if isinstance(n, Tag)}))
    inactive = None
    if missing:
        inactive = "this warehouse has no " + ", ".join(missing)
    return deps, inactive


def _levels(entries: list[LibraryTag], deps: Mapping[str, tuple[str, ...]]) -> tuple[tuple[str, ...], ...]:
    """Tags by dependency level; a cycle is an error naming its tags in order."""
    by_name = {e.name: e for e in entries}
    level: dict[str, int] = {}
    visiting: list[str] = []

    def visit(name: str) -> int:
        if name in level:
            return level[name]
        if name in visiting:
            cycle = visiting[visiting.index(name):] + [name]
            entry = by_name[cycle[0]]
            field = "rule" if entry.definition.rule is not None else "bands.where"
            raise entry.error("tags refer to each other in a cycle: " + " -> ".join(cycle), field,
                              hint="a tag may use other tags only if they do not use it back")
        visiting.append(name)
        level[name] = 1 + max((visit(d) for d in deps[name]), default=-1)
        visiting.pop()
        return level[name]

    for e in entries:
        visit(e.name)
    depth = max(level.values(), default=-1) + 1
    return tuple(tuple(e.name for e in entries if level[e.name] == k) for k in range(depth))


def load_library(*, project_dir: str | Path | None = None, files: Iterable[str | Path] = (),
                 catalog: Catalog | None = None, builtin: bool = True) -> TagLibrary:
    """The built-in tags (unless ``builtin=False``), the project's and ``files``' tags, all checked.

    ``catalog`` is the warehouse's (``Catalog.from_warehouse``), so that unknown names are caught with
    suggestions; without one, fields are checked against the data model and other names are not.
    """
    base = [t for f in sorted(BUILTIN_DIR.glob("*.yaml")) for t in read_tag_file(f, builtin=True)] if builtin else []
    paths = [*(project_tag_files(project_dir) if project_dir is not None else []), *map(Path, files)]
    own = [t for p in paths for t in read_tag_file(p)]
    entries = _merge(base, own)
    catalog = catalog if catalog is not None else static_catalog()
    # scores a rule may use: the warehouse's and those the score tags declare (filled by the models later)
    scores = {t.definition.score.name for t in entries if t.definition.score is not None}
    catalog = dataclasses.replace(catalog, tags=frozenset(e.name for e in entries),
                                  scores=frozenset(catalog.scores or ()) | scores)
    deps, inactive = {}, {}
    for entry in entries:
        deps[entry.name], why = _check(entry, catalog)
        if why:
            inactive[entry.name] = why
            log.info("built-in tag %s is inactive: %s", entry.name, why)
    return TagLibrary(entries=tuple(entries), levels=_levels(entries, deps), inactive=inactive, dependencies=deps,
                      catalog=catalog)
