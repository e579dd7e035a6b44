"""Model monitoring: the scores a model made at its ``as_of`` against what people did since.

A score promises something about a horizon after its model's ``as_of``; as time passes, the orders show
how it is going. Per tenth of the people, ranked by the score (ties broken by profile id, so both engines
cut the same groups; the engines' ``ntile`` splits ties differently):

| score | predicted | actual since as_of |
|---|---|---|
| ``expected_purchases_<N>d`` | the expectation x the share of the N days elapsed | purchase days (as the BG/NBD counts them) |
| ``p_buy_<N>d`` (and per category) | the probability | bought at least once so far (a lower bound until N days have passed) |
| ``clv_<M>m`` | the value x the share of the M months elapsed | revenue (undiscounted, before margin) |

Spreading an expectation evenly over its horizon is an approximation: a cohort's purchases slow as
people drop out, so early in the horizon the prorated prediction runs a little high. The calibration
error is the people-weighted mean absolute gap between predicted and actual means over the groups.

:func:`record_monitoring` appends each check to the model's registry row (``metrics.monitoring``, one
entry per check), so the history of a model, and of the models that replaced it, is data: the overview
report draws the calibration error against the days since each model's ``as_of`` (calibration drift).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from jingzhun.activation.consent import as_utc_literal
from jingzhun.errors import InputError
from jingzhun.profile.keys import keyed_orders, left_join
from jingzhun.profile.rfm import is_purchase
from jingzhun.warehouse import Warehouse

__all__ = ["ScoreCheck", "MONITORED", "score_check", "monitor_scores", "record_monitoring", "monitoring_history"]

log = logging.getLogger(__name__)

_PATTERNS = (
    (re.compile(r"^expected_purchases_(\d+)d$"), "purchase_days", 1.0),
    (re.compile(r"^p_buy_(\d+)d(?::.+)?$"), "bought", 1.0),
    (re.compile(r"^clv_(\d+)m$"), "revenue", 365.25 / 12),
)
MONITORED = "expected_purchases_<N>d, p_buy_<N>d, clv_<M>m"


@dataclass
class ScoreCheck:
    """One score's predicted against actual, per group, at one moment."""

    score: str
    model_id: str
    as_of: pd.Timestamp
    at: pd.Timestamp
    horizon_days: float
    elapsed_days: float
    groups: pd.DataFrame  # group (1 = lowest scores), n, predicted_mean, actual_mean

    @property
    def complete(self) -> bool:
        return self.elapsed_days >= self.horizon_days

    @property
    def calibration_error(self) -> float:
        g = self.groups
        return float(((g.predicted_mean - g.actual_mean).abs() * g.n).sum() / g.n.sum()) if g.n.sum() else float("nan")

    def summary(self) -> dict:
        g = self.groups
        n = g.n.sum()
        return {"score": self.score, "model_id": self.model_id, "as_of": self.as_of.isoformat(),
                "at": self.at.isoformat(), "horizon_days": self.horizon_days, "elapsed_days": self.elapsed_days,
                "complete": self.complete, "people": int(n), "calibration_error": self.calibration_error,
                "predicted_mean": float((g.predicted_mean * g.n).sum() / n) if n else None,
                "actual_mean": float((g.actual_mean * g.n).sum() / n) if n else None}


def _kind(score: str) -> tuple[str, float]:
    for pattern, kind, unit_days in _PATTERNS:
        m = pattern.match(score)
        if m:
            return kind, float(m.group(1)) * unit_days
    raise InputError(f"score {score!r} cannot be monitored against orders; monitored scores: {MONITORED}",
                     field="score")


def _utc(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _actuals(warehouse: Warehouse, start: pd.Timestamp, end: pd.Timestamp, category: str | None) -> ir.Table:
    """Per profile that bought in (start, end]: purchase days, bought (1) and revenue."""
    orders = warehouse.table("orders")
    orders = orders.filter(is_purchase(orders) & (orders.ordered_at > as_utc_literal(start))
                           & (orders.ordered_at <= as_utc_literal(end)))
    if category is not None:
        lines, products = warehouse.table("order_lines"), warehouse.table("products")
        wanted = lines.join(products.filter(products.category == category), "product_id").select("order_id")
        orders = orders.semi_join(wanted, "order_id")
    buys = keyed_orders(warehouse, orders)
    buys = buys.filter(buys.profile_id.notnull())
    return buys.group_by("profile_id").aggregate(
        purchase_days=buys.ordered_at.date().nunique().cast("float64"), bought=ibis.literal(1.0),
        revenue=buys.amount.sum().cast("float64"))


def score_check(warehouse: Warehouse, score: str, *, at: Any, groups: int = 10) -> ScoreCheck:
    """The current ``scores`` of ``score`` against the orders from its model's as_of up to ``at`` (or
    the horizon's end, whichever comes first), per ``groups`` equal groups of people by score."""
    kind, horizon = _kind(score)
    s = warehouse.table("scores")
    s = s.filter(s.score == score)
    models = warehouse.table("models").select("model_id", "as_of")
    made = warehouse.execute(s.select("model_id").distinct().join(models, "model_id"))
    if made.empty or made.as_of.isna().all():
        raise InputError(f"no scores {score!r} with a model as_of in the warehouse: run `jingzhun models fit`",
                         field="score")
    if len(made) > 1:
        log.warning("score %s comes from %d models; monitoring against the latest as_of", score, len(made))
    model_id, as_of = made.sort_values("as_of").iloc[-1][["model_id", "as_of"]]
    as_of, at = _utc(as_of), _utc(at)
    end = min(at, as_of + pd.Timedelta(days=horizon))
    elapsed = max((end - as_of) / pd.Timedelta(days=1), 0.0)
    category = score.split(":", 1)[1] if ":" in score else None
    share = 1.0 if kind == "bought" else min(elapsed / horizon, 1.0)
    actual = _actuals(warehouse, as_of, end, category)
    joined = left_join(s.select("profile_id", "value"), actual, "profile_id")
    joined = joined.mutate(_actual=joined[kind].fill_null(0.0), _predicted=joined.value * share)
    ranked = joined.mutate(_rank=ibis.row_number().over(ibis.window(order_by=[joined.value, joined.profile_id])),
                           _n=joined.profile_id.count().over(ibis.window()))
    ranked = ranked.mutate(group=(ranked._rank * groups // ranked._n + 1).cast("int64"))
    per = ranked.group_by("group").aggregate(n=ranked.count(), predicted_mean=ranked._predicted.mean(),
                                             actual_mean=ranked._actual.mean())
    table = warehouse.execute(per.order_by("group")).reset_index(drop=True)
    table["n"] = table.n.astype("int64")
    return ScoreCheck(score=score, model_id=str(model_id), as_of=as_of, at=at, horizon_days=horizon,
                      elapsed_days=elapsed, groups=table)


def monitor_scores(warehouse: Warehouse, *, at: Any, groups: int = 10) -> dict[str, ScoreCheck]:
    """Every monitorable score in ``scores`` checked at ``at`` (scores made after ``at`` are skipped)."""
    s = warehouse.table("scores")
    names = sorted(str(n) for n in warehouse.execute(s.select("score").distinct()).score)
    out = {}
    for name in names:
        try:
            _kind(name)
        except InputError:
            continue
        check = score_check(warehouse, name, at=at, groups=groups)
        if check.elapsed_days > 0:
            out[name] = check
    return out


def record_monitoring(warehouse: Warehouse, checks: dict[str, ScoreCheck]) -> int:
    """Append each check's summary to its model's ``metrics.monitoring`` in the registry (a check at a
    moment already recorded for that score replaces it). Returns the models updated."""
    by_model: dict[str, list[dict]] = {}
    for check in checks.values():
        by_model.setdefault(check.model_id, []).append(check.summary())
    if not by_model:
        return 0
    t = warehouse.table("models")
    rows = warehouse.execute(t.filter(t.model_id.isin(list(by_model))))
    for i, row in rows.iterrows():
        metrics = json.loads(row.metrics) if isinstance(row.metrics, str) and row.metrics else {}
        entries = [e for e in metrics.get("monitoring", [])
                   if (e["score"], e["at"]) not in {(n["score"], n["at"]) for n in by_model[row.model_id]}]
        metrics["monitoring"] = sorted(entries + by_model[row.model_id], key=lambda e: (e["score"], e["at"]))
        rows.loc[i, "metrics"] = json.dumps(metrics, sort_keys=True, default=str)
    ids = list(rows.model_id)
    with warehouse.transaction():
        warehouse.delete_where("models", lambda m: m.model_id.isin(ids))
        warehouse.append("models", rows)
    return len(ids)


def monitoring_history(warehouse: Warehouse) -> pd.DataFrame:
    """Every recorded check of every model: model_id, name, score, as_of, at, elapsed_days, complete,
    people, calibration_error, predicted_mean, actual_mean (oldest model first)."""
    t = warehouse.table("models")
    rows = warehouse.execute(t.select("model_id", "name", "metrics"))
    out = []
    for model_id, name, metrics in zip(rows.model_id, rows["name"], rows.metrics):
        try:
            entries = json.loads(metrics).get("monitoring", []) if metrics else []
        except (json.JSONDecodeError, AttributeError):
            continue
        out += [{"model_id": model_id, "name": name, **e} for e in entries]
    columns = ["model_id", "name", "score", "as_of", "at", "horizon_days", "elapsed_days", "complete", "people",
               "calibration_error", "predicted_mean", "actual_mean"]
    frame = pd.DataFrame(out, columns=columns)
    return frame.sort_values(["as_of", "score", "at"], ignore_index=True)
