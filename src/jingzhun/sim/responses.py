"""Responses to campaign messages drawn from the simulator's hidden truth: opens, clicks, conversions.

The referee of every campaign policy: give it who got which message when (and who was held out), and it
says who opened, clicked and bought, as the simulated people would have. The model, per message row
(formulas in docs/simulator.md):

* P(open) = base[channel] x activity factor x time factor, at most 0.95, and 0 for a control row (nothing
  was sent). The activity factor is ``0.5 + 0.5 min(activity, 2)``; the time factor is
  ``(floor + (1 - floor) exp(-d^2 / (2 sigma^2))) x (1 if the local weekday is the preferred one, else
  OFF_DAY)``, with ``d`` the circular distance in hours between the local (Asia/Shanghai) send time and
  the person's preferred hour. Opens come a log-normal delay after sending (median 45 minutes).
* Clicks: a share of opens per channel, a few minutes after the open.
* Purchases in the window: a person alive at the end of the simulated history keeps buying at their own
  BG/NBD rate whether messaged or not: ``N ~ Poisson(lambda x window weeks)`` organic purchases, so
  ``q = 1 - exp(-lambda x weeks)`` (0 for someone who has dropped out). A seen offer (sent *and* opened)
  acts through ``d = p_<offer>_treated - p_<offer>_control`` of the person's response type: when ``d >= 0``
  it makes a buyer, with probability ``d``, of someone who would not have bought; when ``d < 0`` (sleeping
  dogs) it puts off, with probability ``-d``, someone who would have, and they buy nothing in the window.
  An unseen offer, a held-out row, or a message without an offer changes nothing. So the expected
  incremental conversions of a message are ``P(open) x d x (1 - q)``, or ``P(open) x d x q`` when
  ``d < 0``. A message has at most one conversion row: its time is the first organic purchase
  (exponential delay of mean ``1 / lambda``, truncated to the window) or, for a purchase the offer made,
  a truncated exponential delay (mean a quarter of the window) after the open; its value is the spend of
  all the window's purchases, each from the person's Gamma-Gamma spend
  ``Gamma(spend_p, scale=mean_spend / spend_p)``.

Every random draw of a row comes from a counter-based stream keyed by ``seed`` and the row's
``message_id``, so a message's fate does not depend on the other rows, their order, or how many there are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from jingzhun.errors import InputError
from jingzhun.sim.options import LOCAL_OFFSET_HOURS, SimOptions
from jingzhun.sim.vocab import OFFER_KINDS

__all__ = ["respond", "open_probability", "true_uplift", "true_revenue_uplift", "OPEN_BASE", "CLICK_SHARE",
           "HOUR_SIGMA", "HOUR_FLOOR", "OFF_DAY", "RESPONSE_COLUMNS"]

#: P(open) at the best time for a person of average-to-high activity, per channel ("read" for sms)
OPEN_BASE = {"email": 0.25, "push": 0.35, "wechat": 0.45, "sms": 0.70, "direct_mail": 0.50}
#: P(click | open), per channel (for direct mail: scanning the QR code)
CLICK_SHARE = {"email": 0.20, "push": 0.15, "wechat": 0.25, "sms": 0.10, "direct_mail": 0.05}
HOUR_SIGMA = 2.0        # hours
HOUR_FLOOR = 0.3        # the time factor far from the preferred hour
OFF_DAY = 0.85          # the time factor on a day other than the preferred weekday
MAX_OPEN = 0.95
OPEN_DELAY_MEDIAN_H = 0.75
CLICK_DELAY_MEAN_MIN = 4.0
RESPONSE_COLUMNS = ("message_id", "person_id", "response", "at", "value")

_PERSON_COLUMNS = ("person_id", "preferred_hour", "preferred_weekday", "activity", "mean_spend",
                   "bgnbd_lambda", "alive_at_end",
                   *(f"p_{o}_{arm}" for o in OFFER_KINDS for arm in ("control", "treated")))
_MESSAGE_COLUMNS = ("message_id", "person_id", "channel", "offer_kind", "treated", "sent_at")
_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


# -- inputs ----------------------------------------------------------------------------------------------
def _require(frame: pd.DataFrame, columns, what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        hint = (" (truth/persons.parquet of a current simulation has them: re-run `jingzhun sim`)"
                if what == "persons" else "")
        raise InputError(f"{what} lack the column(s) {', '.join(missing)}{hint}", field=missing[0])


def _joined(persons: pd.DataFrame, messages: pd.DataFrame, columns) -> pd.DataFrame:
    """The messages with the person columns they need, in the messages' order."""
    _require(persons, _PERSON_COLUMNS, "persons")
    _require(messages, columns, "messages")
    channels = messages["channel"].astype(object)
    unknown = sorted(set(channels.dropna()) - set(OPEN_BASE)) + (["(null)"] if channels.isna().any() else [])
    if unknown:
        raise InputError(f"unknown channel(s) {', '.join(map(str, unknown))}; use one of {', '.join(OPEN_BASE)}",
                         field="channel")
    if "offer_kind" in messages.columns:
        offers = set(messages["offer_kind"].dropna()) - set(OFFER_KINDS)
        if offers:
            raise InputError(f"unknown offer kind(s) {', '.join(sorted(map(str, offers)))}; use one of "
                             f"{', '.join(OFFER_KINDS)} or null for a message without an offer", field="offer_kind")
    people = persons.loc[:, list(_PERSON_COLUMNS)].drop_duplicates("person_id").set_index("person_id")
    missing = ~messages["person_id"].isin(people.index)
    if missing.any():
        raise InputError(f"{int(missing.sum())} message(s) go to persons not in the persons table, e.g. "
                         f"{messages.loc[missing, 'person_id'].iloc[0]!r}", field="person_id")
    return people.loc[messages["person_id"].to_numpy()].reset_index()


def _utc(values) -> pd.DatetimeIndex:
    at = pd.DatetimeIndex(pd.to_datetime(values, utc=True))
    if at.isna().any():
        raise InputError("every message needs a sent_at time (for a control row: when it would have gone)",
                         field="sent_at")
    return at


# -- the model -------------------------------------------------------------------------------------------
def _time_factor(sent_at: pd.DatetimeIndex, preferred_hour: np.ndarray, preferred_weekday: np.ndarray) -> np.ndarray:
    local = sent_at + pd.Timedelta(hours=LOCAL_OFFSET_HOURS)
    hour = local.hour.to_numpy() + local.minute.to_numpy() / 60.0 + local.second.to_numpy() / 3600.0
    gap = np.abs(hour - preferred_hour) % 24.0
    d = np.minimum(gap, 24.0 - gap)
    by_hour = HOUR_FLOOR + (1.0 - HOUR_FLOOR) * np.exp(-(d ** 2) / (2.0 * HOUR_SIGMA ** 2))
    by_day = np.where(local.weekday.to_numpy() == preferred_weekday, 1.0, OFF_DAY)
    return by_hour * by_day


def _open_p(rows: pd.DataFrame, messages: pd.DataFrame) -> np.ndarray:
    base = messages["channel"].map(OPEN_BASE).to_numpy(dtype=np.float64)
    activity = 0.5 + 0.5 * np.minimum(rows["activity"].to_numpy(dtype=np.float64), 2.0)
    when = _time_factor(_utc(messages["sent_at"]), rows["preferred_hour"].to_numpy(dtype=np.float64),
                        rows["preferred_weekday"].to_numpy())
    return np.minimum(base * activity * when, MAX_OPEN)


def _offer_effect(rows: pd.DataFrame, offer: pd.Series) -> np.ndarray:
    """``d = p_treated - p_control`` of each row's offer for its person's response type; 0 without an offer."""
    gaps = np.stack([rows[f"p_{o}_treated"].to_numpy(dtype=np.float64)
                     - rows[f"p_{o}_control"].to_numpy(dtype=np.float64) for o in OFFER_KINDS], axis=1)
    kind = offer.map({o: k for k, o in enumerate(OFFER_KINDS)}).to_numpy()
    has = ~pd.isna(kind)
    k = np.where(has, kind, 0).astype(np.int64)
    return np.where(has, gaps[np.arange(len(rows)), k], 0.0)


def _organic_mean(rows: pd.DataFrame, window_days: float) -> np.ndarray:
    """Expected organic purchases in the window: ``lambda x weeks`` while alive, 0 once dropped out."""
    alive = rows["alive_at_end"].fillna(False).to_numpy(dtype=bool)
    return np.where(alive, rows["bgnbd_lambda"].to_numpy(dtype=np.float64) * window_days / 7.0, 0.0)


def _check_window(window_days: float) -> None:
    if not window_days > 0:
        raise InputError(f"window_days must be positive, got {window_days!r}", field="window_days")


def open_probability(persons: pd.DataFrame, messages: pd.DataFrame) -> np.ndarray:
    """Expected P(open) of each message row, were it sent (``treated`` is not read).

    ``messages`` needs person_id, channel and sent_at; ``persons`` is the truth persons table.
    """
    rows = _joined(persons, messages, ("person_id", "channel", "sent_at"))
    return _open_p(rows, messages)


def _uplifts(persons, messages, window_days):
    _check_window(window_days)
    rows = _joined(persons, messages, ("person_id", "channel", "offer_kind", "sent_at"))
    d = _offer_effect(rows, messages["offer_kind"])
    organic = _organic_mean(rows, window_days)
    return rows, _open_p(rows, messages), d, organic


def true_uplift(persons: pd.DataFrame, messages: pd.DataFrame, *, window_days: float = 14.0) -> np.ndarray:
    """Expected incremental conversions (people buying in the window) of each message row, were it sent
    rather than held out: ``P(open) x d x (1 - q)``, or ``P(open) x d x q`` for a put-off (``d < 0``), with
    ``d = p_treated - p_control`` of its offer and ``q = 1 - exp(-lambda x weeks)`` the chance of buying
    anyway (0 without an offer; negative for sleeping dogs). Use the ``window_days`` of the campaign.

    ``messages`` needs person_id, channel, offer_kind and sent_at (``treated`` is not read).
    """
    _, opened, d, organic = _uplifts(persons, messages, window_days)
    q = -np.expm1(-organic)
    return opened * d * np.where(d >= 0, 1.0 - q, q)


def true_revenue_uplift(persons: pd.DataFrame, messages: pd.DataFrame, *, window_days: float = 14.0) -> np.ndarray:
    """Expected incremental revenue of each message row, were it sent rather than held out:
    ``P(open) x mean_spend x d x (1 - q)`` for ``d >= 0`` (one purchase made), and
    ``P(open) x mean_spend x d x lambda x weeks`` for a put-off (all the window's organic purchases lost).
    """
    rows, opened, d, organic = _uplifts(persons, messages, window_days)
    spend = rows["mean_spend"].to_numpy(dtype=np.float64)
    return opened * spend * d * np.where(d >= 0, np.exp(-organic), organic)


# -- random draws keyed by message -----------------------------------------------------------------------
def _splitmix64(x: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser: a well-mixed 64-bit value from each input (Steele, Lea & Flood 2014)."""
    with np.errstate(over="ignore"):
        z = (x + np.uint64(0x9E3779B97F4A7C15)) & _MASK64
        z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK64
        z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK64
        return z ^ (z >> np.uint64(31))


class _Draws:
    """Uniforms in (0, 1) per row: the ``j``-th draw of a row depends only on the seed, its message id and j."""

    def __init__(self, message_ids: pd.Series, seed: int) -> None:
        keys = pd.util.hash_pandas_object(message_ids.astype(str), index=False).to_numpy(dtype=np.uint64)
        self._keys = _splitmix64(keys ^ _splitmix64(np.full(len(keys), seed, dtype=np.uint64)))

    def uniform(self, j: int) -> np.ndarray:
        with np.errstate(over="ignore"):
            bits = _splitmix64(self._keys + np.uint64(j) * np.uint64(0xD1B54A32D192ED03))
        return ((bits >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)

    def normal(self, j: int) -> np.ndarray:
        from scipy.special import ndtri

        return ndtri(self.uniform(j))

    def gamma(self, j: int, shape: float | np.ndarray) -> np.ndarray:
        from scipy.special import gammaincinv

        return gammaincinv(shape, self.uniform(j))


def _truncated_exponential(u: np.ndarray, mean: float, limit: float) -> np.ndarray:
    """Inverse CDF of an exponential of ``mean`` cut at ``limit``."""
    return -mean * np.log1p(-u * (1.0 - np.exp(-limit / mean)))


def _window_purchases(rows: pd.DataFrame, messages: pd.DataFrame, opened: np.ndarray, open_h: np.ndarray,
                      draws: _Draws, window_days: float) -> tuple[np.ndarray, np.ndarray]:
    """(purchases in the window, hours from sending to the first) per row: the person's organic purchases,
    plus one the seen offer made of a non-buyer, or none when the seen offer put a buyer off."""
    from scipy.stats import poisson

    organic_mean = _organic_mean(rows, window_days)
    organic = poisson.ppf(draws.uniform(7), organic_mean).astype(np.int64)
    d = _offer_effect(rows, messages["offer_kind"])
    acts = opened & (draws.uniform(2) < np.abs(d))
    made = acts & (d > 0) & (organic == 0)
    purchases = np.where(acts & (d < 0), 0, np.where(made, 1, organic))
    limit = window_days * 24.0
    rate_h = np.where(organic_mean > 0, organic_mean, 1.0) / limit
    first_organic_h = _truncated_exponential(draws.uniform(5), 1.0 / rate_h, limit)
    after_open_h = open_h + _truncated_exponential(draws.uniform(5), limit / 4.0, limit - open_h)
    return purchases, np.where(made, after_open_h, first_organic_h)


def respond(persons: pd.DataFrame, messages: pd.DataFrame, *, seed: int = 0, window_days: float = 14.0,
            spend_p: float | None = None) -> pd.DataFrame:
    """Draw the opens, clicks and conversions of ``messages`` from the truth of ``persons``.

    ``messages``: message_id, person_id, channel (email, sms, push, wechat, direct_mail), offer_kind
    (discount, new_product, points, or null), treated (False: held out, nothing sent), sent_at (UTC; for
    a control row, when it would have gone). ``persons``: the truth persons table (``world.persons`` or
    truth/persons.parquet). ``spend_p`` is the Gamma-Gamma shape of the world (default: the simulator's).

    Returns one row per response: message_id, person_id, response ('open', 'click', 'conversion'), at
    (UTC), value (of a conversion: the spend of all the person's purchases in the window, else NaN); at
    most one conversion per message, at the first purchase; ordered by message, then open, click,
    conversion. ``window_days``: the campaign's conversion window. Deterministic by ``seed``, row by row.
    """
    _check_window(window_days)
    rows = _joined(persons, messages, _MESSAGE_COLUMNS)
    treated = messages["treated"].astype(bool).to_numpy()
    sent = _utc(messages["sent_at"])
    draws = _Draws(messages["message_id"], seed)
    shape = float(spend_p if spend_p is not None else SimOptions().spend_p)

    opened = treated & (draws.uniform(0) < _open_p(rows, messages))
    clicked = opened & (draws.uniform(1) < messages["channel"].map(CLICK_SHARE).to_numpy(dtype=np.float64))
    open_h = np.exp(np.log(OPEN_DELAY_MEDIAN_H) + draws.normal(3))
    open_h = np.minimum(open_h, window_days * 24.0 / 2.0)
    click_h = open_h - CLICK_DELAY_MEAN_MIN / 60.0 * np.log(draws.uniform(4))

    purchases, convert_h = _window_purchases(rows, messages, opened, open_h, draws, window_days)
    converted = purchases > 0
    value = (draws.gamma(6, np.where(converted, purchases * shape, shape))
             * rows["mean_spend"].to_numpy(dtype=np.float64) / shape)

    parts = []
    for order, (name, mask, hours, worth) in enumerate((
            ("open", opened, open_h, None), ("click", clicked, click_h, None),
            ("conversion", converted, convert_h, value))):
        idx = np.flatnonzero(mask)
        parts.append(pd.DataFrame({
            "message_id": messages["message_id"].to_numpy()[idx], "person_id": messages["person_id"].to_numpy()[idx],
            "response": name, "at": sent[idx] + pd.to_timedelta(hours[idx], unit="h"),
            "value": worth[idx] if worth is not None else np.nan, "_row": idx, "_order": order}))
    out = pd.concat(parts, ignore_index=True).sort_values(["_row", "_order"], kind="stable")
    out["at"] = out["at"].dt.floor("s")
    return out.loc[:, list(RESPONSE_COLUMNS)].reset_index(drop=True)
