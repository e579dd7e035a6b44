"""Who people are, from their customer records: gender, birth date and age, place, constellation,
education, occupation and marital status.

A person with several records gets, for each trait, the most frequent non-null value among them; ties
go to the smallest value (so every engine agrees). Age is in whole years at as_of's local date; the
constellation is the Western zodiac sign of the birthday's month and day.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from jingzhun.profile.clock import Clock
from jingzhun.profile.keys import left_join

__all__ = ["TRAITS", "AGE_BANDS", "CONSTELLATIONS", "demographic_features", "age_columns", "constellation"]

TRAITS = ("gender", "birth_date", "city", "region", "education", "occupation", "marital_status")
# (lower bound in years, label); the band of an age is the last bound at or below it
AGE_BANDS = ((0, "<18"), (18, "18-24"), (25, "25-34"), (35, "35-44"), (45, "45-54"), (55, "55-64"), (65, "65+"))
# (first month*100+day of the sign, sign); capricorn wraps over the new year
CONSTELLATIONS = (
    (120, "aquarius"), (219, "pisces"), (321, "aries"), (420, "taurus"), (521, "gemini"), (621, "cancer"),
    (723, "leo"), (823, "virgo"), (923, "libra"), (1023, "scorpio"), (1122, "sagittarius"), (1222, "capricorn"),
)


def _mode(records: ir.Table, column: str) -> ir.Table:
    t = records.filter(records[column].notnull())
    if t[column].type().is_string():
        t = t.filter(t[column].strip() != "")
    counts = t.group_by(["profile_id", column]).aggregate(n=t.count())
    rank = ibis.row_number().over(ibis.window(group_by=counts.profile_id,
                                              order_by=[ibis.desc(counts.n), counts[column]]))
    ranked = counts.mutate(rank=rank)
    return ranked.filter(ranked["rank"] == 0).select("profile_id", column)


def constellation(birth: ir.DateValue) -> ir.StringValue:
    md = birth.month().cast("int64") * 100 + birth.day().cast("int64")
    cases = [(md >= start, sign) for start, sign in reversed(CONSTELLATIONS)]
    return ibis.cases(*cases, else_="capricorn")


def age_columns(birth: ir.DateValue, clock: Clock) -> dict[str, ir.Value]:
    """``age`` in whole years at as_of's local date and its ``age_band``."""
    year, month, day = clock.local_date
    md = birth.month().cast("int64") * 100 + birth.day().cast("int64")
    age = (ibis.literal(year) - birth.year().cast("int64") - (md > month * 100 + day).ifelse(1, 0)).cast("int64")
    band = ibis.cases(*[(age >= low, label) for low, label in reversed(AGE_BANDS)], else_=ibis.null("string"))
    return {"age": age, "age_band": ibis.ifelse(birth.notnull(), band, ibis.null("string"))}


def demographic_features(customers: ir.Table) -> ir.Table:
    """Most frequent traits per profile, the record count and the constellation (age is added by the caller)."""
    out = customers.group_by("profile_id").aggregate(n_records=customers.count())
    for trait in TRAITS:
        mode = _mode(customers, trait)
        out = left_join(out, mode, "profile_id")
    return out.mutate(constellation=ibis.ifelse(out.birth_date.notnull(), constellation(out.birth_date),
                                                ibis.null("string")))
