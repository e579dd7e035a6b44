"""Probabilistic matching: linking customer records that share no identifier but describe one person.

A rule is data: a name, the customer columns that must all be present and equal, and the largest
block it will link. Records in one block (same values of every column) are linked as a star around
the block's smallest representative identifier, each edge recorded with the rule's name.

A record is represented by its first identifier, in the order of ``STRONG_KINDS``, that the guards did
not set aside as shared; a record with no such identifier cannot be matched (there would be nothing
to link). Weak identifiers (devices, anonymous ids) never represent a record.

**Why these rules are precise.** ``name_key`` is the keyed hash of the normalised full name; with a
birth date and a postcode the chance that two different people agree on all three is the chance that
two people of one postcode (a few thousand residents) share a full name and a birthday: even for the
most common Chinese names (~0.1% of people) and ~22,000 plausible birth dates it is below 1 in 10,000
per postcode. City is a much larger area (up to millions of residents), so ``name_dob_city`` is less
precise for common names: it is offered (``NAME_DOB_CITY``) for sources that give a city but no
postcode, but it is not a default, since on the simulator at 100,000 people it joined five pairs of
different people who share a common name, a birthday and a city. Blocks larger than ``max_block``
(default: ``IdentitySettings.max_profiles_per_identifier``) are skipped whole: a dozen records with one
name, birthday and postcode are a default value or a data error, not one person.
Records whose name_key (or any rule column) is null or empty are never matched.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
from pydantic import BaseModel, ConfigDict, Field, field_validator

from jingzhun.identity.graph import STRONG_KINDS, is_bot
from jingzhun.schema.tables import table
from jingzhun.warehouse import Warehouse

__all__ = ["MatchRule", "DEFAULT_RULES", "NAME_DOB_POSTCODE", "NAME_DOB_CITY", "match_edges", "representatives"]


class MatchRule(BaseModel):
    """Link customer records whose ``equal`` columns are all present and equal."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="recorded as the rule of every edge the rule makes")
    equal: tuple[str, ...] = Field(description="customer columns that must all be present and equal")
    max_block: int | None = Field(
        None, ge=2, description="skip blocks with more distinct records' identifiers than this "
        "(default: identity.max_profiles_per_identifier)"
    )

    @field_validator("equal")
    @classmethod
    def _known_columns(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("a rule needs at least one column")
        known = table("customers").column_names
        unknown = [c for c in value if c not in known]
        if unknown:
            raise ValueError(f"columns {unknown} are not customer columns; they are {list(known)}")
        if "name_key" not in value:
            raise ValueError("every matching rule compares name_key (records without a name are never matched)")
        return value


NAME_DOB_POSTCODE = MatchRule(name="name_dob_postcode", equal=("name_key", "birth_date", "postcode"))
NAME_DOB_CITY = MatchRule(name="name_dob_city", equal=("name_key", "birth_date", "city"))

# name_dob_city is not a default: on the simulator at 100,000 people it joined 5 pairs of different
# people who share a common Chinese name, a birthday and a city (and nothing else). Opt in with
# resolve(..., rules=(NAME_DOB_POSTCODE, NAME_DOB_CITY)) for sources that give a city but no postcode.
DEFAULT_RULES: tuple[MatchRule, ...] = (NAME_DOB_POSTCODE,)


def representatives(customer_obs: ir.Table, shared: ir.Table) -> ir.Table:
    """Each customer record's first non-shared strong identifier: evidence, rep, rep_kind, rep_key."""
    rank = ibis.cases(*[(customer_obs.kind == k, i) for i, k in enumerate(STRONG_KINDS)], else_=None)
    ranked = customer_obs.mutate(rank=rank).filter(lambda t: t.rank.notnull())
    ranked = ranked.anti_join(shared, ranked.node == shared.node).view()
    best = ranked.group_by(b_evidence="evidence").aggregate(b_rank=ranked.rank.min()).view()
    joined = ranked.join(best, (ranked.evidence == best.b_evidence) & (ranked.rank == best.b_rank))
    return joined.select(evidence=ranked.evidence, rep=ranked.node, rep_kind=ranked.kind, rep_key=ranked.key)


def match_edges(warehouse: Warehouse, reps: ir.Table, rules: tuple[MatchRule, ...], *, max_block: int) -> ir.Table | None:
    """The edges the rules make: a, b, kind_a, key_a, kind_b, key_b, evidence, rule (None for no rules)."""
    if not rules:
        return None
    cus = warehouse.table("customers")
    cus = cus.filter(~is_bot(cus)).mutate(evidence=ibis.literal("customers:") + cus.source + "/" + cus.record_id)
    parts = []
    for rule in rules:
        limit = rule.max_block or max_block
        cols = list(rule.equal)
        present = [cus[c].notnull() & (cus[c] != "") if cus[c].type().is_string() else cus[c].notnull()
                   for c in cols]
        recs = cus.filter(*present).select("evidence", *cols).view()
        r = recs.join(reps, recs.evidence == reps.evidence).select(
            recs.evidence, *[recs[c] for c in cols], reps.rep, reps.rep_kind, reps.rep_key
        ).view()
        stats = r.group_by(*cols).aggregate(n=r.rep.nunique(), anchor=r.rep.min()).filter(
            lambda t: (t.n > 1) & (t.n <= limit)
        ).view()
        # the anchor's own record (the smallest evidence among records the anchor represents)
        s2 = stats.view()
        r2 = r.view()
        anchor_rec = r2.join(s2, [r2[c] == s2[c] for c in cols] + [r2.rep == s2.anchor]).group_by(
            *[r2[c].name(f"k_{c}") for c in cols]
        ).aggregate(anchor_evidence=r2.evidence.min(), anchor_kind=r2.rep_kind.min(),
                    anchor_key=r2.rep_key.min(), anchor=r2.rep.min()).view()
        r3 = r.view()
        linked = r3.join(anchor_rec, [r3[c] == anchor_rec[f"k_{c}"] for c in cols]).filter(
            lambda t: t.rep != t.anchor
        )
        first = linked.rep < linked.anchor
        parts.append(linked.select(
            a=ibis.ifelse(first, linked.rep, linked.anchor),
            b=ibis.ifelse(first, linked.anchor, linked.rep),
            kind_a=ibis.ifelse(first, linked.rep_kind, linked.anchor_kind),
            key_a=ibis.ifelse(first, linked.rep_key, linked.anchor_key),
            kind_b=ibis.ifelse(first, linked.anchor_kind, linked.rep_kind),
            key_b=ibis.ifelse(first, linked.anchor_key, linked.rep_key),
            evidence=linked.evidence + " ~ " + linked.anchor_evidence,
            rule=ibis.literal(rule.name),
        ))
    every = ibis.union(*parts, distinct=False)
    return every.group_by("a", "b", "kind_a", "key_a", "kind_b", "key_b", "rule").aggregate(
        evidence=every.evidence.min()
    )
