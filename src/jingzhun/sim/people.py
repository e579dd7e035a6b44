"""Persons: demographics, homes, households, latent tastes and habits, and their BG/NBD draws.

One :class:`People` holds a block of persons as parallel numpy arrays; no per-person Python code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jingzhun.sim.catalogue import CATEGORY_NAMES, Stores
from jingzhun.sim.options import SimOptions
from jingzhun.sim.vocab import CITIES, EDUCATION, MARITAL, OCCUPATIONS, OFFER_KINDS, RESPONSE_TYPES

__all__ = ["People", "make_people", "assign_response_types", "SYSTEMS", "CHANNELS", "km_between"]

SYSTEMS = ("crm", "web", "wechat", "loyalty")
CHANNELS = ("web", "store", "wechat")
_SYSTEM_WEIGHTS = np.array([1.0, 1.3, 1.0, 0.8])
_RECORD_COUNT_P = np.array([0.35, 0.35, 0.20, 0.10])
_RESPONSE_P = np.array([0.20, 0.25, 0.45, 0.10])      # persuadable, sure_thing, lost_cause, sleeping_dog


@dataclass
class People:
    index: np.ndarray           # global person index (person_id is P + 9 digits of it)
    female: np.ndarray
    birth_day: np.ndarray       # days since 1970-01-01
    surname: np.ndarray
    given1: np.ndarray
    given2: np.ndarray          # -1: one-character given name
    city: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    district: np.ndarray        # 0-99, the postcode's last digits after the city prefix
    household: np.ndarray       # global index of the household's first member, -1 when none
    education: np.ndarray
    occupation: np.ndarray
    marital: np.ndarray
    lam: np.ndarray             # BG/NBD purchase rate per week
    p: np.ndarray               # BG/NBD dropout probability after each repeat purchase
    nu: np.ndarray              # Gamma-Gamma spend rate; mean spend is spend_p / nu
    preferred_hour: np.ndarray  # local (Asia/Shanghai) hour 0-23
    preferred_weekday: np.ndarray  # Monday = 0
    price_sensitivity: np.ndarray
    activity: np.ndarray        # relative engagement volume, mean 1
    taste: np.ndarray           # (n, categories), rows sum to 1
    response_u: np.ndarray      # uniform draw that fixes the response type (see assign_response_types)
    nearest_store: np.ndarray
    store_km: np.ndarray
    systems: np.ndarray         # (n, 4) bool, membership of SYSTEMS
    preferred_channel: np.ndarray  # index into CHANNELS
    response_type: np.ndarray | None = None   # index into RESPONSE_TYPES, set once dropouts are known
    response_p: np.ndarray | None = None      # (n, offer kinds, 2): P(buy | control), P(buy | treated)

    @property
    def n(self) -> int:
        return len(self.index)

    @property
    def has_web(self) -> np.ndarray:
        return self.systems[:, 1]


def km_between(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Distance in km, equirectangular approximation (good to well under 1% within a city)."""
    dy = (lat1 - lat2) * 110.57
    dx = (lon1 - lon2) * 111.32 * np.cos(np.radians((lat1 + lat2) / 2))
    return np.hypot(dx, dy)


def _nearest(lat, lon, city, stores: Stores) -> tuple[np.ndarray, np.ndarray]:
    best = np.zeros(len(lat), dtype=np.int64)
    best_km = np.full(len(lat), np.inf)
    for c in np.unique(city):
        who = np.flatnonzero(city == c)
        cand = np.flatnonzero(stores.city == c)
        if len(cand) == 0:
            cand = np.arange(len(stores.ids))
        d = km_between(lat[who, None], lon[who, None], stores.lat[None, cand], stores.lon[None, cand])
        j = d.argmin(axis=1)
        best[who] = cand[j]
        best_km[who] = d[np.arange(len(who)), j]
    return best, best_km


def _households(rng, n: int, rate: float) -> np.ndarray:
    """Local index of each person's household head (-1 alone): runs of 2-4 chosen persons."""
    head = np.full(n, -1, dtype=np.int64)
    chosen = np.flatnonzero(rng.random(n) < rate)
    if len(chosen) < 2:
        return head
    sizes = rng.integers(2, 5, size=len(chosen) // 2 + 1)
    group = np.searchsorted(np.cumsum(sizes), np.arange(len(chosen)), side="right")
    first = np.r_[True, group[1:] != group[:-1]]
    starts = np.flatnonzero(first)
    counts = np.diff(np.r_[starts, len(chosen)])
    heads = np.repeat(chosen[starts], counts)
    sizes_per = np.repeat(counts, counts)
    keep = sizes_per >= 2
    head[chosen[keep]] = heads[keep]
    return head


def _preferred_hours(rng, n: int) -> np.ndarray:
    """A mixture: morning commute, lunch, evening (the largest), and anything."""
    comp = rng.choice(4, size=n, p=[0.2, 0.2, 0.5, 0.1])
    hour = np.select(
        [comp == 0, comp == 1, comp == 2],
        [rng.integers(7, 10, n), rng.integers(11, 14, n), rng.integers(19, 24, n)],
        rng.integers(0, 24, n),
    )
    return hour.astype(np.int64)


def make_people(rng: np.random.Generator, first_index: int, n: int, opts: SimOptions, stores: Stores,
                end_day: int) -> People:
    """Draw ``n`` persons whose global indices start at ``first_index``."""
    weights = np.array([c[4] for c in CITIES])
    city = rng.choice(len(CITIES), size=n, p=weights / weights.sum())
    off_lat = rng.normal(0, 0.10, n)
    off_lon = rng.normal(0, 0.12, n)
    lat = np.array([c[2] for c in CITIES])[city] + off_lat
    lon = np.array([c[3] for c in CITIES])[city] + off_lon
    district = (np.clip(((off_lat + 0.3) / 0.06).astype(np.int64), 0, 9) * 10
                + np.clip(((off_lon + 0.36) / 0.072).astype(np.int64), 0, 9))
    head = _households(rng, n, opts.household_rate)
    member = head >= 0
    city[member], lat[member], lon[member], district[member] = (
        city[head[member]], lat[head[member]], lon[head[member]], district[head[member]])
    household = np.where(member, head + first_index, -1)

    female = rng.random(n) < 0.62
    age_days = (rng.gamma(6.0, 1.0, n) * 5.5 + 16) * 365.25
    birth_day = (end_day - age_days).astype(np.int64)
    given2 = np.where(rng.random(n) < 0.7, rng.integers(0, 36, n), -1)

    lam = rng.gamma(opts.bgnbd_r, 1.0 / opts.bgnbd_alpha, n)
    p = rng.beta(opts.bgnbd_a, opts.bgnbd_b, n)
    nu = rng.gamma(opts.spend_q, 1.0 / opts.spend_gamma, n)

    sensitivity = rng.beta(2.0, 3.0, n)
    taste = rng.dirichlet(np.full(len(CATEGORY_NAMES), 0.35), size=n)
    # women lean to beauty and baby, men to electronics and sports (a visible, recoverable signal)
    tilt = np.ones((n, len(CATEGORY_NAMES)))
    tilt[female, 0] *= 2.0
    tilt[female, 4] *= 1.5
    tilt[~female, 6] *= 2.0
    tilt[~female, 7] *= 1.5
    taste = taste * tilt
    taste /= taste.sum(axis=1, keepdims=True)

    # one uniform per person, as Generator.choice(p=...) would draw; the type is cut from it once the
    # purchase process says who has dropped out (assign_response_types)
    response_u = rng.random(n)

    nearest, km = _nearest(lat, lon, city, stores)

    k = rng.choice(4, size=n, p=_RECORD_COUNT_P) + 1
    score = np.log(_SYSTEM_WEIGHTS)[None, :] + rng.gumbel(size=(n, 4))
    rank = np.argsort(np.argsort(-score, axis=1), axis=1)
    systems = rank < k[:, None]

    age = age_days / 365.25
    logits = np.stack([
        0.4 + 0.6 * (age < 35),              # web
        1.2 - km / 4.0,                       # store: the nearer, the likelier
        0.2 + 0.8 * (age < 30),              # wechat
    ], axis=1) + rng.gumbel(size=(n, 3))
    logits[:, 0] = np.where(systems[:, 1], logits[:, 0], -np.inf)
    logits[:, 2] = np.where(systems[:, 2], logits[:, 2], -np.inf)
    preferred_channel = logits.argmax(axis=1)

    return People(
        index=np.arange(first_index, first_index + n, dtype=np.int64),
        female=female, birth_day=birth_day,
        surname=rng.integers(0, 30, n), given1=rng.integers(0, 36, n), given2=given2,
        city=city, lat=lat, lon=lon, district=district, household=household,
        education=rng.choice(len(EDUCATION), size=n, p=[0.2, 0.25, 0.4, 0.12, 0.03]),
        occupation=rng.integers(0, len(OCCUPATIONS), n),
        marital=rng.choice(len(MARITAL), size=n, p=[0.4, 0.52, 0.08]),
        lam=lam, p=p, nu=nu,
        preferred_hour=_preferred_hours(rng, n), preferred_weekday=rng.integers(0, 7, n),
        price_sensitivity=sensitivity, activity=rng.gamma(2.0, 0.5, n),
        taste=taste, response_u=response_u,
        nearest_store=nearest, store_km=km, systems=systems, preferred_channel=preferred_channel,
    )


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _type_weights(lam: np.ndarray, sensitivity: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """Unnormalised leaning of each person to each response type, from things a business can observe.

    Persuadables are price-sensitive, middling buyers (about 2.6 purchases a year); sure things buy often
    and care little for price; sleeping dogs are the very frequent (so recent) buyers whom a message
    annoys; anyone may be a lost cause, rare buyers more, and someone who has dropped out is one: they buy
    nothing more.
    """
    log_rate = np.log(np.maximum(lam, 1e-9))
    persuadable = (0.3 + 3.0 * sensitivity) * np.exp(-0.5 * ((log_rate - np.log(0.05)) / 0.7) ** 2)
    sure_thing = (1.3 - sensitivity) * _sigmoid(3.0 * (log_rate - np.log(0.1)))
    lost_cause = 1.0 + _sigmoid(-3.0 * (log_rate - np.log(0.02)))
    sleeping_dog = _sigmoid(4.0 * (log_rate - np.log(0.3)))
    w = np.stack([persuadable, sure_thing, lost_cause, sleeping_dog], axis=1)
    w[~alive] = (0.0, 0.0, 1.0, 0.0)
    return w


def _calibrated(w: np.ndarray, target: np.ndarray, rounds: int = 60) -> np.ndarray:
    """Per-person type probabilities proportional to ``w`` times one factor per type, the factors chosen
    (by fixed-point iteration) so that the shares over the block are ``target``."""
    scale = np.ones(w.shape[1])
    for _ in range(rounds):
        probs = w * scale
        probs /= probs.sum(axis=1, keepdims=True)
        share = probs.mean(axis=0)
        scale *= np.where(share > 0, target / np.where(share > 0, share, 1.0), 1.0)
    probs = w * scale
    return probs / probs.sum(axis=1, keepdims=True)


def assign_response_types(people: People, alive: np.ndarray) -> None:
    """Set each person's response type and per-offer buying probabilities (control, treated).

    The type depends on the purchase rate, price sensitivity and whether the person has dropped out by the
    end of the window (``alive``), with overall shares 20/25/45/10 (persuadable, sure thing, lost cause,
    sleeping dog); the person's uniform ``response_u`` is cut by their own cumulative probabilities.
    """
    probs = _calibrated(_type_weights(people.lam, people.price_sensitivity, alive), _RESPONSE_P)
    cum = np.cumsum(probs, axis=1)
    rtype = np.minimum((cum <= people.response_u[:, None]).sum(axis=1), len(RESPONSE_TYPES) - 1)
    base = np.array(list(RESPONSE_TYPES.values()))[rtype]          # (n, 2)
    mod = np.stack([
        0.6 + 0.8 * people.price_sensitivity,                      # discount: price-sensitive respond more
        0.5 + 2.0 * people.taste.max(axis=1),                      # new product: strong tastes respond more
        np.full(people.n, 0.9),                                     # points
    ], axis=1)
    response_p = np.clip(base[:, None, :] * mod[:, :, None], 0, 0.95)
    assert response_p.shape[1] == len(OFFER_KINDS)
    people.response_type = rtype
    people.response_p = response_p
