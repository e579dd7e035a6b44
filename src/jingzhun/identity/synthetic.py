"""A generated world of people and their identifiers with the truth known, for tests and benchmarks.

Smaller and more pointed than :mod:`jingzhun.sim`: it exists to stress identity resolution. Each person
has some of a CRM number, an account, one or two e-mails and phones, a WeChat openid, a loyalty card,
one to three devices and one to four anonymous ids, spread over customer records (crm, web, wechat,
loyalty), orders and events. Planted on top, with no true owner:

* shop tablets, each identified with about fifty different people;
* household devices shared by two or three people;
* placeholder e-mails and phones (``none@none.com``, ``00000000000``) on records of many people;
* bot events linking random people (flagged ``bot``);

and, for matching, records with a mistyped e-mail that share nothing with their person but name, birth
date and postcode. Identifiers are keyed with :func:`jingzhun.privacy.key_for` and a fixed secret, as a
load would key them. Deterministic by seed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from jingzhun.privacy import key_for
from jingzhun.warehouse import Warehouse

__all__ = ["IdentityWorld", "generate_world"]

_SECRET = "synthetic-world-secret-0123456789abcdef"
_T0 = pd.Timestamp("2023-01-01", tz="UTC")


@dataclass
class IdentityWorld:
    customers: pd.DataFrame
    orders: pd.DataFrame
    events: pd.DataFrame
    truth: pd.DataFrame  # kind, key, person (-1 for planted identifiers that belong to nobody)

    def load(self, warehouse: Warehouse) -> None:
        with warehouse.transaction():
            warehouse.append("customers", self.customers)
            warehouse.append("orders", self.orders)
            warehouse.append("events", self.events)


class _Builder:
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.truth: dict[tuple[str, str], int] = {}
        self.customers: dict[str, list] = {c: [] for c in (
            "source", "record_id", "crm_id", "user_id", "email", "phone", "wechat_openid", "loyalty_card",
            "name_key", "birth_date", "postcode", "city")}
        self.orders: dict[str, list] = {c: [] for c in ("order_id", "user_id", "crm_id", "loyalty_card", "email", "day")}
        self.events: dict[str, list] = {c: [] for c in (
            "message_id", "type", "user_id", "anonymous_id", "email", "phone", "device_id", "day", "quality_flags")}

    def key(self, kind: str, value: str, person: int) -> str:
        k = key_for(kind, value, self.secret)
        self.truth[(kind, k)] = person
        return k

    def record(self, source: str, rid: str, **cols) -> None:
        for c, values in self.customers.items():
            values.append(cols.get(c, source if c == "source" else rid if c == "record_id" else None))

    def order(self, oid: str, day: int, **ids) -> None:
        for c, values in self.orders.items():
            values.append(oid if c == "order_id" else day if c == "day" else ids.get(c))

    def event(self, type_: str, day: int, flags: str = "", **ids) -> None:
        n = len(self.events["message_id"])
        for c, values in self.events.items():
            values.append(f"m{n}" if c == "message_id" else type_ if c == "type" else day if c == "day"
                          else flags if c == "quality_flags" else ids.get(c))


def generate_world(n_persons: int, *, seed: int = 0, secret: str = _SECRET) -> IdentityWorld:
    """A world of ``n_persons`` people (see the module docstring)."""
    rng = np.random.default_rng(seed)
    b = _Builder(secret)
    # 50,000 names, skewed: the commonest is carried by ~0.45% of people (a very common Chinese name)
    names = (rng.random(n_persons) ** 2 * 50_000).astype(int)
    dobs = rng.integers(0, 60 * 365, size=n_persons)
    postcodes = rng.integers(0, 3000, size=n_persons)
    u = rng.random((n_persons, 12))
    n_devices = rng.integers(1, 4, size=n_persons)
    n_anon = rng.integers(1, 5, size=n_persons)
    emails, phones, strong_of = {}, {}, {}
    for p in range(n_persons):
        k = lambda kind, suffix="": b.key(kind, f"{kind}-{p}{suffix}", p)  # noqa: E731
        crm = k("crm_id") if u[p, 0] < 0.8 else None
        user = k("user_id") if u[p, 1] < 0.7 else None
        em = [k("email")] + ([k("email", "b")] if u[p, 2] < 0.3 else [])
        ph = [k("phone")] + ([k("phone", "b")] if u[p, 3] < 0.25 else [])
        wx = k("wechat_openid") if u[p, 4] < 0.4 else None
        card = k("loyalty_card") if u[p, 5] < 0.4 else None
        devices = [k("device_id", str(i)) for i in range(n_devices[p])]
        anons = [k("anonymous_id", str(i)) for i in range(n_anon[p])]
        has_name = u[p, 6] > 0.08 or u[p, 8] < 0.05  # matching needs the name on both records
        name = key_for("name", f"name-{names[p]}", secret) if has_name else None
        traits = dict(name_key=name, birth_date=dt.date(1950, 1, 1) + dt.timedelta(days=int(dobs[p])),
                      postcode=f"{postcodes[p]:05d}", city=f"city-{postcodes[p] // 50}")
        emails[p], phones[p] = em, ph
        strong_of[p] = dict(user_id=user) if user else dict(email=em[0])
        hub = dict(crm_id=crm) if crm else dict(email=em[0], phone=ph[0])
        b.record("crm" if crm else "web", f"r{p}a", **{**hub, "email": em[0], "phone": ph[0]}, **traits)
        # every record carries one identifier another record of the person also carries
        if user:
            b.record("web", f"r{p}b", user_id=user, email=em[-1], phone=ph[0], **(traits if u[p, 7] < 0.5 else {}))
        if wx:
            b.record("wechat", f"r{p}c", wechat_openid=wx, phone=ph[-1], email=em[0])
        if card:
            b.record("loyalty", f"r{p}d", loyalty_card=card, **hub, **traits)
        if len(ph) > 1 and not wx:
            b.record("pos", f"r{p}e", phone=ph[1], email=em[0])
        if len(em) > 1 and not user:
            b.record("pos", f"r{p}f", email=em[1], phone=ph[0])
        if u[p, 8] < 0.05:  # a record with a mistyped e-mail and nothing else in common but the traits
            typo = b.key("email", f"email-{p}-typo", p)
            b.record("web", f"r{p}t", email=typo, **traits)
        for j in range(int(u[p, 9] * 4)):
            buyer = dict(user_id=user) if user and j % 2 == 0 else dict(crm_id=crm) if crm else dict(email=em[0])
            b.order(f"o{p}-{j}", int(u[p, 10] * 300) + j * 7, **buyer)
        for i, anon in enumerate(anons):
            device = devices[i % len(devices)]
            b.event("track", i * 3, anonymous_id=anon, device_id=device)
            if i == 0 or u[p, 11] > 0.03:  # now and then a browser never logs in: no evidence links it
                b.event("identify", i * 3 + 1, anonymous_id=anon, device_id=device, **strong_of[p])
    # planted identifiers that belong to nobody
    _plant(b, rng, n_persons, strong_of, emails, phones)
    customers = pd.DataFrame(b.customers).assign(load_id="synthetic", quality_flags="")
    orders = pd.DataFrame(b.orders)
    orders = orders.assign(
        source="shop", load_id="synthetic", quality_flags="", status="completed", is_return=False, currency="CNY",
        amount=25.0, n_lines=1, ordered_at=_T0 + pd.to_timedelta(orders.pop("day"), unit="D"),
    )
    events = pd.DataFrame(b.events)
    events = events.assign(source="web", load_id="synthetic",
                           timestamp=_T0 + pd.to_timedelta(events.pop("day"), unit="D"))
    written = set()
    for frame in (customers, orders, events):
        for kind in ("crm_id", "user_id", "email", "phone", "wechat_openid", "loyalty_card", "anonymous_id", "device_id"):
            if kind in frame:
                written.update((kind, k) for k in frame[kind].dropna())
    truth = pd.DataFrame([(k, v, p) for (k, v), p in b.truth.items() if (k, v) in written],
                         columns=["kind", "key", "person"])
    return IdentityWorld(customers=customers, orders=orders, events=events, truth=truth)


def _plant(b: _Builder, rng: np.random.Generator, n: int, strong_of, emails, phones) -> None:
    for t in range(max(1, n // 400)):  # shop tablets
        tablet = b.key("device_id", f"tablet-{t}", -1)
        for p in rng.choice(n, size=min(n, 50), replace=False):
            anon = b.key("anonymous_id", f"tablet-{t}-{p}", int(p))
            b.event("identify", 5, anonymous_id=anon, device_id=tablet, **strong_of[int(p)])
    for h in range(max(1, n // 50)):  # household devices
        device = b.key("device_id", f"household-{h}", -1)
        for p in rng.choice(n, size=int(rng.integers(2, 4)), replace=False):
            anon = b.key("anonymous_id", f"household-{h}-{p}", int(p))
            b.event("identify", 9, anonymous_id=anon, device_id=device, **strong_of[int(p)])
    none_email = b.key("email", "none@none.com", -1)
    zero_phone = b.key("phone", "00000000000", -1)
    for p in rng.choice(n, size=max(10, n // 100), replace=False):  # placeholders on store records
        b.record("pos", f"x{p}", email=none_email, phone=phones[int(p)][0])
    for p in rng.choice(n, size=max(10, n // 100), replace=False):
        b.record("pos", f"z{p}", email=emails[int(p)][0], phone=zero_phone)
    for i in range(max(5, n // 200)):  # bots identifying random people together
        p, q = (int(x) for x in rng.choice(n, size=2, replace=False))
        b.event("identify", 11, flags="bot", phone=phones[p][0], **strong_of[q])
