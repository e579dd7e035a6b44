"""Previews: the size of a target and a sample of members, each with the reasons it matched.

The sample is drawn by the SHA-256 of profile id and seed (the same people on every engine, for the
same seed). For an audience, every condition of the expression is compiled on its own and evaluated
for the sampled people, with the value it tested: ``gender = 'F' (F)``, ``did 'Product Viewed' in last
30 days (3 times)``, ``not tag('dormant')``. A condition under a ``not`` is shown with it. Conditions of
an ``or`` that did not hold are listed too, marked as not held. For built-in segments the reasons are
the numbers the rule read: RFM scores with recency, orders and spend; lifecycle days; the cluster's
distance and standardised features.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd

from jingzhun.profile.clock import Clock
from jingzhun.segment.clusters import ClusterModel, buyers, seeded_sample
from jingzhun.segment.compiler import audience, compile_conditions
from jingzhun.segment.context import as_utc
from jingzhun.segment.inputs import default_as_of, features_at, segment_context
from jingzhun.segment.language import Bought, Did, Tag, Within
from jingzhun.segment.lifecycle import lifecycle_stages, rules_of
from jingzhun.segment.membership import fields_read, members, resolve
from jingzhun.segment.rfm import rfm_scores

__all__ = ["Preview", "preview"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Preview:
    target: str
    kind: str
    as_of: dt.datetime
    size: int
    sample: list[dict]

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "as_of": self.as_of.isoformat()}


def _plain(value):
    """A JSON-friendly form of a value read back from an engine."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return as_utc(value).isoformat()
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _shown(leaf, value) -> str:
    if isinstance(leaf, Tag):
        return ""
    if isinstance(leaf, Did):
        if leaf.which != "any":
            return f" ({leaf.which} at {value})" if value is not None else " (no such event)"
        n = int(value or 0)
        return f" ({n} time{'' if n == 1 else 's'})"
    if isinstance(leaf, Bought):
        n = int(value or 0)
        return f" ({n} order{'' if n == 1 else 's'})"
    if isinstance(leaf, Within):
        return " (no home location)" if value is None else f" ({value:.2f} km)"
    if isinstance(value, float):
        return f" ({value:.6g})"
    return f" ({'missing' if value is None else value})"


def _sample_ids(warehouse, ids: ir.Table, n: int, seed: int) -> list[str]:
    picked = warehouse.execute(seeded_sample(ids.distinct(), n, seed))
    return sorted(str(p) for p in picked.profile_id)


def _audience_sample(warehouse, definition: str, as_of: dt.datetime, n: int, seed: int) -> tuple[int, list[dict]]:
    ctx = segment_context(warehouse, as_of, fields=fields_read(definition))
    ids = audience(definition, ctx)
    size = int(warehouse.execute(ids.count()))
    chosen = _sample_ids(warehouse, ids, n, seed)
    if not chosen:
        return size, []
    base = ctx.base.filter(ctx.base.profile_id.isin([ibis.literal(p) for p in chosen]))
    conditions = compile_conditions(definition, dataclasses.replace(ctx, base=base))
    table = base.select("profile_id", **{f"_h{i}": held for i, (_, _, held, _) in enumerate(conditions)})
    for i, (_, _, _, evidence) in enumerate(conditions):
        if evidence is not None:
            ev = evidence.select(**{f"_p{i}": evidence.profile_id, f"_v{i}": evidence.value})
            table = table.left_join(ev, table.profile_id == ev[f"_p{i}"]).drop(f"_p{i}")
    frame = warehouse.execute(table).sort_values("profile_id")
    sample = []
    for row in frame.to_dict("records"):
        reasons = []
        for i, (leaf, negated, _, evidence) in enumerate(conditions):
            value = _plain(row.get(f"_v{i}")) if evidence is not None else None
            held = bool(row[f"_h{i}"]) != negated
            text = ("not " if negated else "") + leaf.to_text()
            reasons.append({"condition": text, "held": held, "value": value, "text": text + _shown(leaf, value)})
        sample.append({"profile_id": row["profile_id"], "reasons": reasons})
    return size, sample


def _built_in_details(warehouse, segment, as_of: dt.datetime, chosen: list[str]) -> list[dict]:
    rule = segment.rule
    ids = [ibis.literal(p) for p in chosen]
    if segment.kind == "rfm":
        t = rfm_scores(features_at(warehouse, as_of))
        rows = warehouse.execute(t.filter(t.profile_id.isin(ids)))

        def reasons(r):
            return [f"R = {r['r']} (last purchase {int(r['recency_days'])} days ago)",
                    f"F = {r['f']} ({int(r['frequency'])} orders)",
                    f"M = {r['m']} (spent {float(r['monetary_total']):.2f})",
                    f"cell R{r['r']} F{r['f']} is {r['segment']}"]
    elif segment.kind == "lifecycle":
        t = lifecycle_stages(warehouse, Clock.at(as_of, rule.get("timezone", "UTC")), rules_of(rule))
        rows = warehouse.execute(t.filter(t.profile_id.isin(ids)))

        def reasons(r):
            gap = "none (one purchase day)" if pd.isna(r["gap_days"]) else f"{int(r['gap_days'])} days before the last"
            return [f"last purchase {int(r['recency_days'])} days ago", f"first purchase {int(r['age_days'])} days ago",
                    f"previous purchase day: {gap}",
                    f"stage {r['stage']} (new <= {rule['new_days']}, active <= {rule['active_days']}, "
                    f"lapsed > {rule['lapse_days']} days)"]
    else:
        model = ClusterModel.from_rule(rule)
        pop = buyers(features_at(warehouse, as_of))
        pop = pop.filter(pop.profile_id.isin(ids))
        z = model.standardised(pop)
        t = model.assign(pop).mutate(**{f"_z_{f}": v for f, v in z.items()})
        rows = warehouse.execute(t)

        def reasons(r):
            out = [f"nearest centroid: cluster {int(r['cluster']) + 1} (distance {float(r['distance']):.2f})"]
            out += [f"{f} = {_plain(r[f])} ({float(r['_z_' + f]):+.1f} sd)" for f in model.features]
            return out
    return [{"profile_id": r["profile_id"], "reasons": [{"condition": x, "held": True, "value": None, "text": x}
                                                        for x in reasons(r)]}
            for r in rows.sort_values("profile_id").to_dict("records")]


def preview(warehouse, target, *, as_of=None, n: int = 10, seed: int = 0) -> Preview:
    """Size and ``n`` sampled members with the reasons each matched (deterministic by ``seed``)."""
    t = resolve(warehouse, target)
    as_of = as_utc(as_of) if as_of is not None else default_as_of(warehouse)
    if t.kind == "audience":
        size, sample = _audience_sample(warehouse, t.definition, as_of, n, seed)
    else:
        ids = members(warehouse, t, as_of)
        size = int(warehouse.execute(ids.count()))
        chosen = _sample_ids(warehouse, ids, n, seed)
        sample = _built_in_details(warehouse, t.segment, as_of, chosen) if chosen else []
    return Preview(target=t.label, kind=t.kind, as_of=as_of, size=size, sample=sample)
