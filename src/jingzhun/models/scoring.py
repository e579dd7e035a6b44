"""Scores for everyone, as of a moment: fit (or reuse) the models, register them, write ``scores``.

=========================  ==========================================================  ==================
score                      what                                                        model
=========================  ==========================================================  ==================
``p_alive``                P(still an active customer at as_of)                        BG/NBD
``expected_purchases_90d`` expected purchase days in the next 90 days                  BG/NBD
``next_purchase_days``     expected days to the next purchase if active (E[1/lambda]);  BG/NBD
                           only where finite (r + x > 1)
``clv_12m``                expected value of the next 12 months' purchases,            Gamma-Gamma with
                           discounted monthly, times the margin                        BG/NBD
``p_buy_90d``              calibrated P(a purchase in the next 90 days)                PropensityModel
``p_buy_90d:<category>``   the same for one category                                   PropensityModel
``churn_risk``             P(lapse within 90 days), with a reason; 1 for people         ChurnModel
                           already lapsed
``send_hour``,             best local hour (0-23) and weekday (Monday 0) to send, with  SendTimeModel
``send_weekday``           a reason; for everyone in identity_map
``response_<channel>``     expected open or click per message on email, sms, push,      ChannelResponseModel
                           wechat, direct_mail; for everyone in identity_map
=========================  ==========================================================  ==================

(90 days and 12 months are the defaults of ``horizon_days`` and ``clv_months``; the names follow them.)

The purchase scores are for the people with a purchase before as_of; the send-time and channel scores
(``settings.send_time``, ``settings.channels``) for everyone, since people who only open e-mails are
reached by e-mail too. The BTYD inputs come from
:func:`btyd_summary`, the Ibis version of :func:`jingzhun.models.btyd.data.summary_from_transactions`
(a purchase occasion is a local calendar day with a purchase; times in weeks; ``monetary_value`` the
mean value of the repeat occasions), checked against it in tests. Only the compact per-person summary
and feature frames come into memory for the fits.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from jingzhun.models.btyd import BetaGeoModel, GammaGammaModel
from jingzhun.models.channels import ChannelResponseModel, channel_scores
from jingzhun.models.churn import ChurnModel, churn_covariates, fit_churn
from jingzhun.models.frames import buyers_as_of, category_share, moment
from jingzhun.models.propensity import fit_propensity, propensity_features
from jingzhun.models.sendtime import SendTimeModel, send_time_scores
from jingzhun.models.store import fingerprint, register, write_scores
from jingzhun.profile.clock import Clock, epoch_seconds
from jingzhun.profile.keys import keyed_orders
from jingzhun.profile.rfm import is_purchase
from jingzhun.warehouse import Warehouse

__all__ = ["ScoreSettings", "btyd_summary", "score_btyd", "score_propensity", "score_churn", "score_send_time",
           "score_channels", "score_all", "DAYS_PER_MONTH"]

log = logging.getLogger(__name__)

DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class ScoreSettings:
    """What the scores mean: horizons, CLV terms, the lapse definition, the local time zone, the seed."""

    horizon_days: int = 90          # p_buy, expected purchases and churn risk look this far ahead
    clv_months: int = 12
    discount_rate: float = 0.01     # per month
    margin: float = 1.0             # share of revenue that is profit (1.0: CLV in revenue)
    lapse_days: int = 180
    followup_days: int = 180
    timezone: str = "UTC"
    seed: int = 0
    categories: tuple[str, ...] = ()
    snapshots: int = 4              # training snapshots of the propensity model (see fit_propensity)
    send_time: bool = True          # send_hour and send_weekday (SendTimeModel)
    channels: bool = True           # response_<channel> (ChannelResponseModel)
    segment: str = "age_band"       # the profile_features column whose pattern thin histories borrow


def btyd_summary(warehouse: Warehouse, as_of: Any, *, timezone: str = "UTC") -> ir.Table:
    """Per profile with a purchase before ``as_of``: frequency (repeat purchase days), recency and T in
    weeks (from the first purchase day to the last, and to the last local day before as_of), and
    monetary_value (mean value of the repeat purchase days, 0 without)."""
    clock = Clock.at(as_of, timezone)
    orders = warehouse.table("orders")
    buys = orders.filter(is_purchase(orders) & (epoch_seconds(orders.ordered_at) < clock.as_of_epoch))
    buys = keyed_orders(warehouse, buys)
    buys = buys.filter(buys.profile_id.notnull())
    buys = buys.mutate(day=clock.local_day(buys.ordered_at))
    days = buys.group_by(["profile_id", "day"]).aggregate(value=buys.amount.sum())
    w = ibis.window(group_by=days.profile_id)
    days = days.mutate(first=days.day.min().over(w))
    per = days.group_by("profile_id").aggregate(
        n=days.count(), first=days.first.min(), last=days.day.max(),
        repeat_value=days.value.sum(where=days.day > days.first))
    end_day = (clock.as_of_epoch - 1 + clock.offset_seconds) // 86_400
    frequency = (per.n - 1).cast("float64")
    return per.select(
        "profile_id", frequency=frequency, recency=(per["last"] - per["first"]).cast("float64") / 7.0,
        T=(ibis.literal(end_day) - per["first"]).cast("float64") / 7.0,
        monetary_value=ibis.ifelse(per.n > 1, per.repeat_value.fill_null(0.0) / frequency, 0.0))


def _scores(profile_id: pd.Series, name: str, values: np.ndarray, reasons: list[str] | None = None) -> pd.DataFrame:
    frame = pd.DataFrame({"profile_id": profile_id.to_numpy(), "score": name, "value": np.asarray(values, float)})
    if reasons is not None:
        frame["reason"] = reasons
    return frame[np.isfinite(frame.value)]


def score_btyd(warehouse: Warehouse, as_of: Any, *, directory: str | os.PathLike,
               settings: ScoreSettings = ScoreSettings(), data_fingerprint: str | None = None) -> dict[str, Any]:
    """Fit BG/NBD and Gamma-Gamma on everyone's history at ``as_of``, register both, write p_alive,
    expected purchases, next purchase days and CLV."""
    summary = warehouse.execute(btyd_summary(warehouse, as_of, timezone=settings.timezone).order_by("profile_id"))
    x, r, big_t, m = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T", "monetary_value"))
    bg = BetaGeoModel().fit(x, r, big_t)
    repeat = (x > 0) & (m > 0)
    gg = GammaGammaModel().fit(x[repeat], m[repeat])
    data_fingerprint = data_fingerprint or fingerprint(warehouse)
    horizon = settings.horizon_days
    bg_record = register(warehouse, bg, "bgnbd", as_of=as_of, data_fingerprint=data_fingerprint, directory=directory,
                         metrics={"log_likelihood": bg.log_likelihood_, "n_customers": bg.n_customers_,
                                  **bg.fit_info_})
    gg_record = register(warehouse, gg, "gammagamma", as_of=as_of, data_fingerprint=data_fingerprint,
                         directory=directory, metrics={"log_likelihood": gg.log_likelihood_,
                                                       "n_customers": gg.n_customers_,
                                                       "purchase_model": bg_record.model_id})
    clv = gg.expected_clv(bg, x, r, big_t, np.where(repeat, m, 0.0), horizon=settings.clv_months,
                          discount_rate=settings.discount_rate, freq_per_period=DAYS_PER_MONTH / 7.0,
                          margin=settings.margin)
    ids = summary.profile_id
    written = {}
    for name, values, record in (
        ("p_alive", bg.probability_alive(x, r, big_t), bg_record),
        (f"expected_purchases_{horizon}d", bg.expected_purchases(horizon / 7.0, x, r, big_t), bg_record),
        ("next_purchase_days", 7.0 * bg.expected_time_to_next_purchase(x, r, big_t), bg_record),
        (f"clv_{settings.clv_months}m", clv, gg_record),
    ):
        written[name] = write_scores(warehouse, _scores(ids, name, values), record.model_id)
    return {"models": [bg_record.model_id, gg_record.model_id], "scores": written, "bgnbd": bg.params_,
            "gammagamma": gg.params_}


def score_propensity(warehouse: Warehouse, as_of: Any, *, directory: str | os.PathLike,
                     settings: ScoreSettings = ScoreSettings(), data_fingerprint: str | None = None) -> dict[str, Any]:
    """Fit purchase propensity (overall and per category in ``settings.categories``) as known at
    ``as_of``, register it, write ``p_buy_<h>d`` (and ``p_buy_<h>d:<category>``)."""
    horizon = settings.horizon_days
    extra = ("category_shares",) if settings.categories else ()
    frame = buyers_as_of(warehouse, as_of, timezone=settings.timezone, extra=extra)
    data_fingerprint = data_fingerprint or fingerprint(warehouse)
    out: dict[str, Any] = {"models": [], "scores": {}}
    for category in (None, *settings.categories):
        model, report = fit_propensity(warehouse, as_of, horizon, category=category, seed=settings.seed,
                                       timezone=settings.timezone, snapshots=settings.snapshots, evaluate=False)
        suffix = "" if category is None else f":{category}"
        record = register(warehouse, model, f"propensity_{horizon}d{suffix}", as_of=as_of,
                          data_fingerprint=data_fingerprint, metrics=report, directory=directory)
        scored = frame if category is None else frame.assign(category_share=category_share(frame.category_shares,
                                                                                           category))
        name = f"p_buy_{horizon}d{suffix}"
        probability = model.predict_proba(propensity_features(scored))
        out["scores"][name] = write_scores(warehouse, _scores(scored.profile_id, name, probability), record.model_id)
        out["models"].append(record.model_id)
    return out


def score_churn(warehouse: Warehouse, as_of: Any, *, directory: str | os.PathLike,
                settings: ScoreSettings = ScoreSettings(), data_fingerprint: str | None = None) -> dict[str, Any]:
    """Fit the lapse hazard as known at ``as_of``, register it, write ``churn_risk`` with reasons.

    People already lapsed at as_of (no purchase for ``lapse_days``) get risk 1 and that as the reason."""
    model, report = fit_churn(warehouse, as_of, horizon_days=settings.horizon_days,
                              followup_days=settings.followup_days, lapse_days=settings.lapse_days,
                              timezone=settings.timezone)
    record = register(warehouse, model, "churn", as_of=as_of, data_fingerprint=data_fingerprint or
                      fingerprint(warehouse), metrics=report, directory=directory)
    frame = buyers_as_of(warehouse, as_of, timezone=settings.timezone)
    scores = churn_scores(model, frame)
    written = write_scores(warehouse, scores, record.model_id)
    return {"models": [record.model_id], "scores": {"churn_risk": written}, "concordance": report["concordance"]}


def churn_scores(model: ChurnModel, frame: pd.DataFrame) -> pd.DataFrame:
    """churn_risk and its reason for each person of a ``buyers_as_of`` frame."""
    lapsed = (frame.recency_days >= model.lapse_days).to_numpy()
    risk = np.ones(len(frame))
    reasons = [f"no purchase for {d:,.0f} days: lapsed (over {model.lapse_days} days)" for d in frame.recency_days]
    active = frame[~lapsed]
    if len(active):
        covariates = churn_covariates(active)
        risk[~lapsed] = model.predict(covariates)
        for i, text in zip(np.flatnonzero(~lapsed), model.reasons(covariates)):
            reasons[i] = text
    return _scores(frame.profile_id, "churn_risk", risk, reasons)


def score_send_time(warehouse: Warehouse, as_of: Any, *, directory: str | os.PathLike,
                    settings: ScoreSettings = ScoreSettings(), data_fingerprint: str | None = None) -> dict[str, Any]:
    """Fit the send-time model at ``as_of``, register it as ``send_time``, write send_hour and send_weekday."""
    model = SendTimeModel(timezone=settings.timezone, segment=settings.segment)
    with warehouse.unordered_writes():
        histograms = warehouse.stage(model.histograms(warehouse, as_of))  # one pass over the events
        model.fit(warehouse, as_of, histograms=histograms)
        predicted = warehouse.stage(model.predict(warehouse, as_of, histograms=histograms))
    record = register(warehouse, model, "send_time", as_of=as_of, directory=directory, metrics=dict(model.params_),
                      data_fingerprint=data_fingerprint or fingerprint(warehouse))
    written = write_scores(warehouse, send_time_scores(predicted), record.model_id)
    for staged in (histograms, predicted):
        warehouse.drop_stage(staged.get_name())
    return {"models": [record.model_id], "scores": {"send_hour, send_weekday": written}}


def score_channels(warehouse: Warehouse, as_of: Any, *, directory: str | os.PathLike,
                   settings: ScoreSettings = ScoreSettings(), data_fingerprint: str | None = None) -> dict[str, Any]:
    """Fit the channel response model at ``as_of``, register it as ``channel_response``, write
    response_<channel> for every channel."""
    model = ChannelResponseModel(timezone=settings.timezone, segment=settings.segment)
    with warehouse.unordered_writes():
        history = warehouse.stage(model.history(warehouse, as_of))  # one pass over the events
        model.fit(warehouse, as_of, history=history)
        predicted = warehouse.stage(channel_scores(model.predict(warehouse, as_of, history=history)))
    record = register(warehouse, model, "channel_response", as_of=as_of, directory=directory,
                      metrics=dict(model.params_), data_fingerprint=data_fingerprint or fingerprint(warehouse))
    written = write_scores(warehouse, predicted, record.model_id)
    for staged in (history, predicted):
        warehouse.drop_stage(staged.get_name())
    return {"models": [record.model_id], "scores": {"response_<channel>": written}}


def score_all(warehouse: Warehouse, as_of: Any, *, directory: str | os.PathLike,
              settings: ScoreSettings = ScoreSettings()) -> dict[str, Any]:
    """Every score of this module as of ``as_of`` (models under ``directory``); returns what was written."""
    as_of = moment(as_of)
    data_fingerprint = fingerprint(warehouse)
    out = {"as_of": as_of.isoformat(), "data_fingerprint": data_fingerprint}
    started = pd.Timestamp.now(tz="UTC")
    out["btyd"] = score_btyd(warehouse, as_of, directory=directory, settings=settings,
                             data_fingerprint=data_fingerprint)
    out["propensity"] = score_propensity(warehouse, as_of, directory=directory, settings=settings,
                                         data_fingerprint=data_fingerprint)
    out["churn"] = score_churn(warehouse, as_of, directory=directory, settings=settings,
                               data_fingerprint=data_fingerprint)
    if settings.send_time:
        out["send_time"] = score_send_time(warehouse, as_of, directory=directory, settings=settings,
                                           data_fingerprint=data_fingerprint)
    if settings.channels:
        out["channels"] = score_channels(warehouse, as_of, directory=directory, settings=settings,
                                         data_fingerprint=data_fingerprint)
    out["seconds"] = round((pd.Timestamp.now(tz="UTC") - started) / timedelta(seconds=1), 1)
    return out
