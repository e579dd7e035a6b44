"""Behavioural events as flattened Segment-spec messages, and bots.

Per person, ``Poisson(events_per_customer x activity)`` events (activity ~ Gamma(2, 0.5), mean 1), plus
for account holders one ``identify`` (anonymous id + user id, with e-mail and phone traits) and, for
30% of them, an ``alias`` (a second anonymous id onto the user id). Account holders browse (page,
'Product Viewed', 'Product Added' with products drawn from their tastes) and engage ('Email Opened',
'Email Link Clicked', 'Push Opened'); people without an account only open and click e-mails, known by
their e-mail address. Engagement happens around the person's preferred local hour (normal,
``engagement_hour_sd``; a share ``engagement_noise`` at any hour) and half of it is moved onto the
person's preferred weekday. Bots: anonymous ids with 2-4 bursts of 20-60 clicks each, 0.05-0.4 s apart.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingzhun.sim.catalogue import CATEGORY_NAMES, Catalogue
from jingzhun.sim.identifiers import PersonIds, identifier_rows
from jingzhun.sim.options import SimOptions
from jingzhun.sim.people import People
from jingzhun.sim.purchases import choose_products, local_clock
from jingzhun.sim.strings import HEX, digits, join, nulls_where, pick, tokens, ts_array
from jingzhun.sim.vocab import BOT_USER_AGENTS, USER_AGENTS

__all__ = ["make_events", "EVENT_NAMES", "ENGAGEMENT_EVENTS"]

# kind index -> (type, event name, channel)
_KINDS = (
    ("page", "商品详情", "web"), ("track", "Product Viewed", "web"), ("track", "Product Added", "web"),
    ("track", "Email Opened", "email"), ("track", "Email Link Clicked", "email"), ("track", "Push Opened", "app"),
    ("identify", None, "web"), ("alias", None, "web"),
)
EVENT_NAMES = tuple(k[1] for k in _KINDS)
ENGAGEMENT_EVENTS = ("Email Opened", "Email Link Clicked", "Push Opened")
_P_WEB = np.array([0.30, 0.20, 0.06, 0.24, 0.08, 0.12])
_P_NOWEB = np.array([0.0, 0.0, 0.0, 0.75, 0.25, 0.0])
_STR = pa.string()
_MONTHS = 40
_UA_CHANNEL = (("newsletter", "email"), ("push", "push"))


def _properties_vocab(cat: Catalogue) -> list[str]:
    """Codes: [0, P) page of product i; [P, 2P) product event; 2P + month: campaign; last: {}."""
    ids = cat.ids.to_pylist()
    names = [CATEGORY_NAMES[c] for c in cat.category]
    page = [f'{{"path":"/product/{p}"}}' for p in ids]
    prod = [f'{{"product_id":"{p}","category":"{c}","price":{price:g}}}' for p, c, price in zip(ids, names, cat.price)]
    camp = [f'{{"campaign_id":"cmp-{k + 1:02d}"}}' for k in range(_MONTHS)]
    return page + prod + camp + ["{}"]


def _context_vocab() -> list[str]:
    """Code (user agent * 3 + campaign kind) * months + month; campaign kind 0 none, 1 e-mail, 2 push."""
    out = []
    for ua in USER_AGENTS:
        for camp in range(3):
            for k in range(_MONTHS):
                extra = ""
                if camp:
                    source, medium = _UA_CHANNEL[camp - 1]
                    extra = f',"campaign":{{"source":"{source}","medium":"{medium}","name":"cmp-{k + 1:02d}"}}'
                out.append(f'{{"userAgent":"{ua}","locale":"zh-CN","timezone":"Asia/Shanghai"{extra}}}')
    return out


def _spread_days(rng, n: int, lo: np.ndarray, window_days: int) -> np.ndarray:
    return lo + np.floor(rng.random(n) * (window_days - lo)).astype(np.int64)


def make_events(rng: np.random.Generator, people: People, ids: PersonIds, first_purchase_s: np.ndarray,
                opts: SimOptions, cat: Catalogue, email_known: np.ndarray) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Return (events, identifier truth rows, bots truth) for a block.

    E-mail events of people without a web account carry their primary e-mail only where one of their
    customer records shows it (``email_known``): a business can only e-mail addresses it holds.
    """
    n, wd = people.n, opts.window_days
    web = people.has_web
    count = rng.poisson(opts.events_per_customer * people.activity)
    who = np.repeat(np.arange(n), count)
    m = len(who)
    u = rng.random(m)
    cum_web, cum_noweb = np.cumsum(_P_WEB), np.cumsum(_P_NOWEB)
    kind = np.where(web[who], (u[:, None] > cum_web[None, :]).sum(1), (u[:, None] > cum_noweb[None, :]).sum(1))
    kind = np.minimum(kind, 5)
    aliased = web & (rng.random(n) < 0.3)
    extra_who = np.r_[np.flatnonzero(web), np.flatnonzero(aliased)]
    extra_kind = np.r_[np.full(web.sum(), 6), np.full(aliased.sum(), 7)]
    who = np.r_[who, extra_who]
    kind = np.r_[kind, extra_kind]
    m = len(who)

    # when: engagement around the preferred hour and weekday; the rest from 30 days before joining on
    first_day = np.floor(first_purchase_s / 86400).astype(np.int64)
    engage = (kind >= 3) & (kind <= 5)
    day = np.where(engage, _spread_days(rng, m, np.zeros(m, np.int64), wd),
                   _spread_days(rng, m, np.maximum(first_day[who] - 30, 0), wd))
    weekday = (day + opts.start_weekday) % 7
    shift = (people.preferred_weekday[who] - weekday) % 7
    moved = day + shift
    moved = np.where(moved >= wd, moved - 7, moved)
    day = np.where(engage & (rng.random(m) < 0.5), moved, day)
    focused = engage & (rng.random(m) >= opts.engagement_noise)
    clock = np.where(focused, local_clock(rng, people.preferred_hour[who], opts.engagement_hour_sd),
                     np.where(engage, rng.integers(0, 86400, m), local_clock(rng, people.preferred_hour[who], 3.0)))
    secs = day * 86400 + clock + rng.random(m)
    ident = kind >= 6
    join_s = np.maximum(first_purchase_s[who] - rng.uniform(0, 30, m) * 86400, 0) + rng.random(m)
    secs = np.where(ident, join_s, secs)

    # who they say they are
    tw = pa.array(who)
    use_anon2 = (kind == 7) | ((kind <= 2) & aliased[who] & (rng.random(m) < 0.4))
    anon = pc.if_else(pa.array(use_anon2), ids.anonymous_id2.take(tw), ids.anonymous_id.take(tw))
    has_anon = (kind <= 2) | (kind == 5) | ident
    email_on = (kind == 6) | ((kind >= 3) & (kind <= 4) & ~web[who] & email_known[who])
    logged_in = ((kind <= 2) & (rng.random(m) < 0.5)) | ((kind >= 3) & web[who])
    app = ((kind <= 2) & (rng.random(m) < 0.4)) | (kind == 5)
    in_house = people.household[who] >= 0
    head_local = np.where(in_house, people.household[who] - people.index[0], who)
    family = in_house & (rng.random(m) < 0.5)
    device = pc.if_else(pa.array(family), ids.family_device.take(pa.array(head_local)), ids.device.take(tw))
    channel = np.array([("web", "email", "app").index(k[2]) for k in _KINDS])[kind]
    channel = np.where(app & (kind <= 2), 2, channel)

    # properties and context come from small vocabularies: build each distinct text once, then index
    product = choose_products(rng, cat, people.taste[who], people.price_sensitivity[who])
    month = np.minimum(day // 30, _MONTHS - 1)
    n_p = len(cat.price)
    prop_code = np.select([kind == 0, kind <= 2, engage], [product, n_p + product, 2 * n_p + month], 2 * n_p + _MONTHS)
    ua = np.where(app, rng.integers(4, 6, m), rng.integers(0, 4, m))
    camp = np.where(kind == 5, 2, np.where(engage, 1, 0))
    ctx_code = (ua * 3 + camp) * _MONTHS + np.where(engage, month, 0)
    events = pa.table({
        "message_id": tokens(rng, m, 32, HEX),
        "type": pick([k[0] for k in _KINDS], kind),
        "event": nulls_where(pick([k[1] or "" for k in _KINDS], kind), ident),
        "user_id": nulls_where(ids.user_id.take(tw), ~(logged_in | ident)),
        "anonymous_id": nulls_where(anon, ~has_anon),
        "previous_id": nulls_where(ids.anonymous_id2.take(tw), kind != 7),
        "email": nulls_where(ids.email.take(tw), ~email_on),
        "phone": nulls_where(ids.phone.take(tw), kind != 6),
        "device_id": nulls_where(device, ~app),
        "timestamp": ts_array(opts.start_utc, secs, "ms"),
        "channel": pick(("web", "email", "app"), channel),
        "properties": pick(_properties_vocab(cat), prop_code),
        "context": pick(_context_vocab(), ctx_code),
    })
    # identifier truth from the distinct (person, variant) pairs rather than from every event
    id_rows = []
    for kind_name, values, mask in (
        ("user_id", ids.user_id, logged_in | ident), ("email", ids.email, email_on),
        ("phone", ids.phone, kind == 6), ("anonymous_id", ids.anonymous_id, has_anon & ~use_anon2),
        ("anonymous_id", ids.anonymous_id2, (has_anon & use_anon2) | (kind == 7)),
        ("device_id", ids.device, app & ~family),
    ):
        used = np.unique(who[mask])
        id_rows.append(identifier_rows(kind_name, values.take(pa.array(used)), ids.person_id.take(pa.array(used)), False))
    heads = np.unique(head_local[app & family])
    id_rows.append(identifier_rows("device_id", ids.family_device.take(pa.array(heads)),
                                   ids.person_id.take(pa.array(heads)), True))

    bots, bot_truth = _bots(rng, max(2, round(n * opts.bot_rate)), opts, cat)
    events = pa.concat_tables([events, bots])
    id_rows.append(pa.table({"kind": pa.repeat(pa.scalar("anonymous_id"), bot_truth.num_rows),
                             "value": bot_truth["anonymous_id"], "person_id": pa.nulls(bot_truth.num_rows, _STR),
                             "is_shared": pa.array(np.zeros(bot_truth.num_rows, bool))}))
    return events, pa.concat_tables(id_rows), bot_truth


def _bots(rng, n_bots: int, opts: SimOptions, cat: Catalogue) -> tuple[pa.Table, pa.Table]:
    bot_ids = tokens(rng, n_bots, 32, HEX)
    bursts = rng.integers(2, 5, n_bots)
    b_bot = np.repeat(np.arange(n_bots), bursts)
    b_start = rng.uniform(0, opts.window_days * 86400 - 3600, len(b_bot))
    b_size = rng.integers(20, 61, len(b_bot))
    e_burst = np.repeat(np.arange(len(b_bot)), b_size)
    gaps = rng.uniform(0.05, 0.4, len(e_burst))
    csum = np.cumsum(gaps)
    base = np.r_[0.0, csum][np.r_[0, np.cumsum(b_size)][:-1]][e_burst]
    secs = b_start[e_burst] + (csum - base)
    e_bot = b_bot[e_burst]
    m = len(e_bot)
    clicks = rng.random(m) < 0.7
    product = rng.integers(0, len(cat.price), m)
    props = pc.if_else(pa.array(clicks), join('{"campaign_id":"cmp-', digits(rng.integers(1, 25, m), 2), '"}'),
                       join('{"product_id":"', cat.ids.take(pa.array(product)), '"}'))
    ua_idx = rng.integers(0, len(BOT_USER_AGENTS), n_bots)
    events = pa.table({
        "message_id": tokens(rng, m, 32, HEX),
        "type": pa.repeat(pa.scalar("track"), m),
        "event": pick(["Product Viewed", "Email Link Clicked"], clicks.astype(np.int64)),
        "user_id": pa.nulls(m, _STR), "anonymous_id": bot_ids.take(pa.array(e_bot)),
        "previous_id": pa.nulls(m, _STR), "email": pa.nulls(m, _STR), "phone": pa.nulls(m, _STR),
        "device_id": pa.nulls(m, _STR),
        "timestamp": ts_array(opts.start_utc, secs, "ms"),
        "channel": pa.repeat(pa.scalar("web"), m),
        "properties": props,
        "context": join('{"userAgent":"', pick(BOT_USER_AGENTS, ua_idx[e_bot]), '","locale":"en-US"}'),
    })
    truth = pa.table({"anonymous_id": bot_ids, "user_agent": pick(BOT_USER_AGENTS, ua_idx),
                      "n_events": pa.array(np.bincount(e_bot, minlength=n_bots).astype(np.int64)),
                      "n_bursts": pa.array(bursts.astype(np.int64))})
    return events, truth
