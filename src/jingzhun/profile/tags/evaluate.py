"""Who carries each tag: every tag is one set-based Ibis expression over the audience context.

The context's tables are staged once (the profile base with its features; purchases and events only
when a rule reads them), then the tags are evaluated level by level in dependency order: the rows of
each level are staged and become the ``tags`` table the next level's ``tag('...')`` reads. A level is
one ``UNION ALL`` of its tags, so the engine sees a handful of large queries, never a loop over people.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Mapping

import ibis
import ibis.expr.types as ir

from jingzhun.profile.tags.library import TagLibrary
from jingzhun.profile.tags.model import Banding, TagDef
from jingzhun.profile.tags.reasons import render, template_fields
from jingzhun.segment import AudienceContext, compile_audience, context_from_warehouse, parse
from jingzhun.segment.language.nodes import Bought, Did, Field, Within
from jingzhun.warehouse import Warehouse

__all__ = ["TagRows", "evaluate", "tag_rows", "lower_quantiles", "default_reason", "ROW_COLUMNS"]

log = logging.getLogger(__name__)

ROW_COLUMNS = ("profile_id", "tag", "value", "reason")


@dataclasses.dataclass
class TagRows:
    """The result of an evaluation: one row per profile and tag, and the cut-offs quantile bands used."""

    rows: ir.Table  # profile_id, tag, value, reason
    cuts: dict[str, list[float]]  # tag -> the cut-offs its bands used (quantile bands: computed here)
    seconds: dict[str, float] = dataclasses.field(default_factory=dict)  # context, level_0, level_1, ...


def lower_quantiles(warehouse: Warehouse, values: ir.NumericColumn, quantiles) -> list[float] | None:
    """The population's quantiles by the "lower" rule: the value at 0-based position ``floor(q * (n - 1))``
    of the sorted non-null values (numpy ``quantile(method="lower")``); None when there are no values.

    Computed by position rather than by the engines' quantile functions (interpolated on DuckDB,
    approximate on Spark), so both engines give the same cut-offs."""
    table = values.name("x").as_table()
    table = table.filter(table.x.notnull())
    n = int(warehouse.execute(table.count()))
    if n == 0:
        return None
    positions = [math.floor(q * (n - 1)) for q in quantiles]
    ranked = table.mutate(_k=ibis.row_number().over(order_by=table.x))
    found = warehouse.execute(ranked.filter(ranked._k.isin(sorted(set(positions)))).select("_k", "x"))
    at = dict(zip(found._k.astype(int), found.x.astype(float)))
    return [at[p] for p in positions]


def default_reason(tag: TagDef, language: str) -> str:
    """The reason a tag without a template gets: its rule, or its field and band."""
    if tag.rule is not None:
        return parse(tag.rule).to_text().replace("{", "{{").replace("}", "}}")
    if tag.bands is not None:
        f = tag.bands.feature
        return f"{f} = {{{f}}}，{{value}} 档" if language == "zh" else f"{f} = {{{f}}}: band {{value}}"
    name = tag.score.name
    return f"{name} = {{score:.2f}}，{{value}} 级" if language == "zh" else f"{name} = {{score:.2f}}: level {{value}}"


def _labelled(x: ir.NumericValue, banding: Banding, cuts: list[float]) -> ir.StringValue:
    """The band label of ``x`` (null for bands left untagged): bands are closed below, open above."""
    labels = banding.labels
    branches = [(x < ibis.literal(float(c)), ibis.literal(label, type="string")) for c, label in zip(cuts, labels)]
    return ibis.cases(*branches, else_=ibis.literal(labels[-1], type="string"))


def _rows(table: ir.Table, tag: TagDef, columns: Mapping[str, ir.Value], value: ir.Value,
          language: str) -> ir.Table:
    template = tag.reason_template(language) or default_reason(tag, language)
    needed = {name for name, _ in template_fields(template)}
    reason = render(template, {k: v for k, v in columns.items() if k in needed})
    return table.select(profile_id=table.profile_id, tag=ibis.literal(tag.name, type="string"),
                        value=value, reason=reason)


def tag_rows(tag: TagDef, context: AudienceContext, warehouse: Warehouse, *, language: str = "en",
             cuts: list[float] | None = None) -> tuple[ir.Table, list[float] | None]:
    """The rows of one tag (profile_id, tag, value, reason) and the cut-offs used, if banded.

    ``cuts`` overrides quantile cut-offs (else they are computed from the population now)."""
    base = context.base
    if tag.rule is not None:
        members = base.filter(compile_audience(tag.rule, context))
        columns = {c: members[c] for c in members.columns}
        return _rows(members, tag, columns, ibis.null("string"), language), None
    if tag.bands is not None:
        scope = base.filter(base[tag.bands.feature].notnull())
        if tag.bands.where is not None:
            scope = scope.filter(compile_audience(tag.bands.where, context))
        x_name = tag.bands.feature
    else:
        scores = context.scores
        mine = scores.filter((scores.score == tag.score.name) & scores.value.notnull())
        reason = mine.reason if "reason" in mine.columns else ibis.null("string")
        mine = mine.select(_score_pid="profile_id", _score="value", _score_reason=reason)
        scope = base.join(mine, base.profile_id == mine._score_pid).drop("_score_pid")
        x_name = "_score"
    banding = tag.banding
    if cuts is None:
        cuts = list(banding.cuts) if banding.cuts is not None else lower_quantiles(warehouse, scope[x_name],
                                                                                  banding.quantiles)
    if cuts is None:  # quantiles of nobody: nobody is banded
        return scope.filter(ibis.literal(False)).select(
            profile_id="profile_id", tag=ibis.literal(tag.name, type="string"), value=ibis.null("string"),
            reason=ibis.null("string")), None
    labelled = scope.mutate(_value=_labelled(scope[x_name], banding, cuts))
    labelled = labelled.filter(labelled._value.notnull())
    columns = {c: labelled[c] for c in base.columns}
    columns["value"] = labelled._value
    if tag.score is not None:
        columns["score"] = labelled._score
        columns["score_reason"] = labelled._score_reason.fill_null("")
    return _rows(labelled, tag, columns, labelled._value, language), cuts


def _expressions(library: TagLibrary):
    """The checked expressions of the active tags (rules and band ``where`` clauses)."""
    for tag in library:
        if tag.name in library.inactive:
            continue
        for text in (tag.rule, tag.bands.where if tag.bands is not None else None):
            if text is not None:
                yield library.catalog.check(parse(text), text)


def _fields_used(library: TagLibrary, language: str) -> set[str]:
    """The base columns the active tags read: in expressions, as band features, in reasons."""
    used: set[str] = set()
    for node in _expressions(library):
        for n in node.walk():
            if isinstance(n, Field):
                used.add(n.name)
            elif isinstance(n, Within):
                used |= {"latitude", "longitude"}
    for tag in library:
        if tag.name in library.inactive:
            continue
        if tag.bands is not None:
            used.add(tag.bands.feature)
        template = tag.reason_template(language) or default_reason(tag, language)
        used |= {name for name, _ in template_fields(template)} - {"value", "score", "score_reason"}
    return used


def staged_context(warehouse: Warehouse, library: TagLibrary, *, as_of, language: str = "en") -> AudienceContext:
    """The audience context with what the library reads materialised once: the base (a join of profiles,
    the latest customer records and the features) narrowed to the columns the tags use; purchases and
    events (joins through identity_map) only when a rule reads them."""
    ctx = context_from_warehouse(warehouse, as_of=as_of, catalog=library.catalog)
    fields = sorted(_fields_used(library, language) - {"profile_id"})
    base = warehouse.stage(ctx.base.select("profile_id", *fields))
    nodes = [n for node in _expressions(library) for n in node.walk()]
    read = {}
    if any(isinstance(n, Bought) for n in nodes):
        read["purchases"] = warehouse.stage(ctx.purchases)
    if any(isinstance(n, Did) for n in nodes):
        read["events"] = warehouse.stage(ctx.events)
    return dataclasses.replace(ctx, base=base, **read)


def _empty(context: AudienceContext) -> ir.Table:
    base = context.base
    return base.filter(ibis.literal(False)).select(
        profile_id="profile_id", tag=ibis.null("string"), value=ibis.null("string"), reason=ibis.null("string"))


def evaluate(warehouse: Warehouse, library: TagLibrary, *, as_of, language: str = "en") -> TagRows:
    """Every active tag of ``library`` as of ``as_of``: staged rows and the cut-offs used."""
    t = time.perf_counter()
    context = staged_context(warehouse, library, as_of=as_of, language=language)
    seconds = {"context": time.perf_counter() - t}
    done: list[ir.Table] = []
    cuts: dict[str, list[float]] = {}
    for level, names in enumerate(library.levels):
        t = time.perf_counter()
        if done:
            so_far = ibis.union(*done, distinct=False) if len(done) > 1 else done[0]
            context = dataclasses.replace(context, tags=so_far.select("profile_id", "tag"))
        parts = []
        for name in names:
            if name in library.inactive:
                continue
            rows, used = tag_rows(library[name], context, warehouse, language=language)
            parts.append(rows)
            if used is not None:
                cuts[name] = used
        if parts:
            level_rows = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
            done.append(warehouse.stage(level_rows))
        seconds[f"level_{level}"] = time.perf_counter() - t
        log.info("tags level %d: %d tags in %.1fs", level, len(parts), seconds[f"level_{level}"])
    if not done:
        rows = _empty(context)
    elif len(done) == 1:
        rows = done[0]
    else:
        rows = ibis.union(*done, distinct=False)
    return TagRows(rows=rows, cuts=cuts, seconds=seconds)
