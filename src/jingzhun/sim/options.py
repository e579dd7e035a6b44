"""The knobs of the simulated world, with defaults that look like a Chinese retailer.

All times are in the Asia/Shanghai local day (UTC+8, no daylight saving) where a person's habits are
concerned (preferred hour, weekday), and written in UTC. The observation window runs from local
midnight of ``start`` to local midnight of ``end``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from jingzhun.errors import ConfigError

__all__ = ["SimOptions", "LOCAL_OFFSET_HOURS", "MAX_CUSTOMERS", "BLOCK_SIZE"]

LOCAL_OFFSET_HOURS = 8          # Asia/Shanghai
MAX_CUSTOMERS = 10_000_000
BLOCK_SIZE = 50_000             # persons per block; fixed, so results depend only on seed, size and options


@dataclass(frozen=True)
class SimOptions:
    """Options of :func:`jingzhun.sim.simulate`; every one can be passed as a keyword.

    BG/NBD (Fader, Hardie & Lee 2005) in weeks: purchase rate ``lambda ~ Gamma(shape=bgnbd_r,
    rate=bgnbd_alpha)`` per week, dropout probability ``p ~ Beta(bgnbd_a, bgnbd_b)`` after each repeat
    purchase. Spend per order, Gamma-Gamma (Fader & Hardie 2013): ``z ~ Gamma(spend_p, rate=nu)``,
    ``nu ~ Gamma(spend_q, rate=spend_gamma)``; a person's mean spend is ``spend_p / nu``.
    """

    # the window
    start: str = "2023-01-01"
    end: str = "2025-01-01"
    # purchase process (weeks)
    bgnbd_r: float = 0.75
    bgnbd_alpha: float = 10.0
    bgnbd_a: float = 0.8
    bgnbd_b: float = 2.5
    spend_p: float = 6.0
    spend_q: float = 4.0
    spend_gamma: float = 100.0
    # catalogue and stores
    products: int = 400
    stores: int | None = None            # default: customers / 5,000, between 10 and 300
    shop_tablets: int = 5
    # behaviour
    events_per_customer: float = 10.0
    engagement_hour_sd: float = 0.8      # hours; engagement events around the preferred hour
    engagement_noise: float = 0.15       # share of engagement events at a uniformly random hour
    return_rate: float = 0.04            # share of orders later returned
    review_rate: float = 0.06            # share of account holders' orders reviewed
    referral_rate: float = 0.12          # share of account holders who joined by referral
    influencer_rate: float = 0.002       # share of account holders who are influencers (at least 1 a block)
    bot_rate: float = 0.0001             # bots per customer (at least 2 a block)
    consent_grant_rate: float = 0.7
    consent_withdraw_rate: float = 0.08
    # planted messiness (rates per customer record unless said otherwise)
    email_case_rate: float = 0.10        # e-mail written in varied case
    email_space_rate: float = 0.05       # e-mail with leading/trailing spaces
    email_typo_rate: float = 0.02        # e-mail with a misspelt domain
    phone_format_rate: float = 0.30      # phone written in one of three formatted styles instead of 11 digits
    second_email_rate: float = 0.05      # per person with 2+ records: last record carries a second e-mail
    second_phone_rate: float = 0.03      # per person with 2+ records: last record carries a second phone
    placeholder_rate: float = 0.01       # record with a placeholder e-mail or phone
    household_rate: float = 0.08         # per person: lives in a household of 2-4 sharing a device
    tablet_rate: float = 0.05            # per loyalty record: signed up on a shop tablet
    duplicate_rate: float = 0.01         # record written twice, identically

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name.endswith("_rate") or f.name in ("engagement_noise",):
                if not 0.0 <= float(value) <= 1.0:
                    raise ConfigError(f"sim option {f.name}={value!r} must be a share between 0 and 1")
        for name in ("bgnbd_r", "bgnbd_alpha", "bgnbd_a", "bgnbd_b", "spend_p", "spend_q", "spend_gamma",
                     "engagement_hour_sd"):
            if not float(getattr(self, name)) > 0:
                raise ConfigError(f"sim option {name} must be positive, got {getattr(self, name)!r}")
        if self.spend_q <= 1:
            raise ConfigError("sim option spend_q must be above 1 so that mean spend is finite")
        if self.events_per_customer < 0:
            raise ConfigError("sim option events_per_customer must be 0 or more")
        if self.products < 40:
            raise ConfigError("sim option products must be at least 40 (every sub-category needs a few)")
        if self.stores is not None and self.stores < 1:
            raise ConfigError("sim option stores must be at least 1")
        try:
            s, e = date.fromisoformat(self.start), date.fromisoformat(self.end)
        except ValueError as exc:
            raise ConfigError(f"sim options start/end must be ISO dates like 2025-01-01: {exc}") from None
        if (e - s).days < 28:
            raise ConfigError("sim option end must be at least 28 days after start")

    @classmethod
    def from_kwargs(cls, options: dict) -> "SimOptions":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(f"unknown sim option(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**options)

    # derived values
    @property
    def start_utc(self) -> datetime:
        d = date.fromisoformat(self.start)
        return datetime(d.year, d.month, d.day, tzinfo=timezone.utc) - timedelta(hours=LOCAL_OFFSET_HOURS)

    @property
    def end_utc(self) -> datetime:
        d = date.fromisoformat(self.end)
        return datetime(d.year, d.month, d.day, tzinfo=timezone.utc) - timedelta(hours=LOCAL_OFFSET_HOURS)

    @property
    def window_days(self) -> int:
        return (date.fromisoformat(self.end) - date.fromisoformat(self.start)).days

    @property
    def window_weeks(self) -> float:
        return self.window_days / 7.0

    @property
    def start_weekday(self) -> int:
        """Weekday of the first local day (Monday = 0)."""
        return date.fromisoformat(self.start).weekday()

    def n_stores(self, customers: int) -> int:
        if self.stores is not None:
            return self.stores
        return int(min(300, max(10, customers // 5_000)))

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)
