"""The purchase process: BG/NBD timing, Gamma-Gamma spend, baskets from tastes, coupons, returns.

Timing follows the BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way",
Marketing Science 24(2)), in weeks. Person i makes a first purchase at ``t0`` (uniform over the window:
persons join over the period); while alive, repeat purchases follow a Poisson process of rate
``lambda_i``; after each repeat purchase the person drops out with probability ``p_i``. So the number of
repeat purchases before dropout is ``K ~ Geometric(p_i)`` on {1, 2, ...}, and with ``N ~
Poisson(lambda_i T_i)`` arrivals in the person's observed span ``T_i = end - t0`` the person shows
``x = min(N, K)`` repeat purchases, the first ``x`` of ``N`` uniform arrival times on (0, T_i]; the
person is alive at the end exactly when ``K > N``. The order statistics are drawn without drawing all
``N``: with exponential spacings, ``U_(k) = S_k / (S_x + G)`` where ``S_k`` sums ``k`` standard
exponentials and ``G ~ Gamma(N + 1 - x)`` stands for the remaining ``N + 1 - x`` spacings.

Every purchase is exactly one order (never split, never merged), so a user recovers the BG/NBD
summary per person as: frequency = purchase orders - 1 (returns excluded), recency = last - first
purchase, T = end - first purchase, in weeks. Order timestamps keep the purchase's local day and take
a clock time from the person's daily rhythm, so recency and T are exact to within a day.

Spend per order follows the Gamma-Gamma model (Fader & Hardie 2013, "The Gamma-Gamma Model of
Monetary Value"): ``z ~ Gamma(spend_p, rate=nu_i)``, ``nu_i ~ Gamma(spend_q, rate=spend_gamma)``; the
basket's quantities are chosen so that its list value approximates ``z``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingzhun.sim.catalogue import Catalogue, Stores
from jingzhun.sim.identifiers import PersonIds
from jingzhun.sim.options import SimOptions
from jingzhun.sim.people import CHANNELS, People
from jingzhun.sim.strings import digits, join, nulls_where, pick, ts_array
from jingzhun.sim.vocab import COUPONS

__all__ = ["Purchases", "Timing", "simulate_timing", "make_orders", "group_rank", "local_clock", "choose_products",
           "reference_timing"]

_STR = pa.string()


@dataclass
class Timing:
    t0: np.ndarray            # first purchase, weeks from the window start
    x: np.ndarray             # repeat purchases seen in the window
    alive: np.ndarray         # alive at the end of the window
    dropout: np.ndarray       # weeks from the window start of the dropout (nan when alive)
    person: np.ndarray        # per purchase: local person index (grouped by person, time ascending)
    t: np.ndarray             # per purchase: weeks from the window start


@dataclass
class Purchases:
    timing: Timing
    orders: pa.Table
    lines: pa.Table
    first_purchase_at: pa.Array   # per person: timestamp of the first order
    first_purchase_s: np.ndarray  # per person: the same, seconds from the window start
    dropout_at: pa.Array          # per person: dropout time (null when alive)
    order_person: np.ndarray      # per purchase order (returns excluded): local person index
    order_ts: np.ndarray          # per purchase order: seconds from the window start
    order_first_product: np.ndarray  # per purchase order: product index of its first line
    order_coupon: np.ndarray      # per purchase order: used a coupon


def group_rank(group: np.ndarray) -> np.ndarray:
    """Position of each element within its run of equal, contiguous ``group`` values (from 0)."""
    n = len(group)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    start = np.r_[True, group[1:] != group[:-1]]
    idx = np.arange(n)
    return idx - np.maximum.accumulate(np.where(start, idx, 0))


def local_clock(rng, center: np.ndarray, sd: float, lo: int = 0, hi: int = 23, wrap: bool = True) -> np.ndarray:
    """Seconds after local midnight: hour around ``center`` (normal, ``sd`` hours), minute and second uniform."""
    hour = np.rint(center + rng.normal(0, sd, len(center))).astype(np.int64)
    hour = hour % 24 if wrap else np.clip(hour, lo, hi)
    return hour * 3600 + rng.integers(0, 3600, len(center))


def simulate_timing(rng: np.random.Generator, people: People, opts: SimOptions) -> Timing:
    n, W = people.n, opts.window_weeks
    t0 = rng.uniform(0, W, n)
    T = W - t0
    N = rng.poisson(people.lam * T)
    K = rng.geometric(people.p)
    x = np.minimum(N, K)
    alive = K > N
    rep = np.repeat(np.arange(n), x)
    e = rng.standard_exponential(len(rep))
    cs = np.r_[0.0, np.cumsum(e)]
    bounds = np.r_[0, np.cumsum(x)]
    s_k = cs[1:] - cs[bounds[:-1]][rep]
    s_x = cs[bounds[1:]] - cs[bounds[:-1]]
    g = rng.gamma(N + 1 - x)
    t_rep = t0[rep] + s_k / (s_x[rep] + g[rep]) * T[rep]
    last = np.where(x > 0, t_rep[np.maximum(bounds[1:] - 1, 0)] if len(t_rep) else 0.0, t0)
    dropout = np.where(alive, np.nan, last)
    person = np.r_[np.arange(n), rep]
    t = np.r_[t0, t_rep]
    order = np.lexsort((t, person))
    return Timing(t0, x, alive, dropout, person[order], t[order])


def reference_timing(rng: np.random.Generator, lam, p, t0, window_weeks: float) -> tuple[list, np.ndarray]:
    """Plain per-person loop of the same BG/NBD process (the reference :func:`simulate_timing` is checked
    against, and the benchmark's baseline): returns each person's repeat purchase times and alive flags."""
    times, alive = [], np.zeros(len(lam), bool)
    for i in range(len(lam)):
        t, mine = t0[i], []
        while True:
            t += rng.exponential(1.0 / lam[i])
            if t > window_weeks:
                alive[i] = True
                break
            mine.append(t)
            if rng.random() < p[i]:
                break
        times.append(mine)
    return times, alive


def choose_products(rng, cat: Catalogue, taste_rows: np.ndarray, sens: np.ndarray) -> np.ndarray:
    cum = np.cumsum(taste_rows, axis=1)
    c = (rng.random(len(sens))[:, None] * cum[:, -1:] > cum).sum(axis=1)
    c = np.minimum(c, len(cat.by_category) - 1)
    sizes = np.array([len(b) for b in cat.by_category])
    offsets = np.r_[0, np.cumsum(sizes)[:-1]]
    flat = np.concatenate(cat.by_category)
    # price-sensitive people lean to the cheap end of a category (u ** (1 + 2s) piles up near 0)
    pos = np.floor(rng.random(len(sens)) ** (1.0 + 2.0 * sens) * sizes[c]).astype(np.int64)
    return flat[offsets[c] + np.minimum(pos, sizes[c] - 1)]


def make_orders(rng: np.random.Generator, block: int, people: People, ids: PersonIds, timing: Timing,
                opts: SimOptions, cat: Catalogue, stores: Stores) -> Purchases:
    n_orders = len(timing.person)
    who = timing.person
    day = np.minimum(np.floor(timing.t * 7.0).astype(np.int64), opts.window_days - 1)

    # channel: the preferred one most of the time, else any the person has
    avail = np.stack([people.systems[:, 1], np.ones(people.n, bool), people.systems[:, 2]], axis=1)
    rand_ch = (rng.random((n_orders, 3)) * avail[who]).argmax(axis=1)
    channel = np.where(rng.random(n_orders) < 0.7, people.preferred_channel[who], rand_ch)
    store = channel == 1
    clock = np.where(store, local_clock(rng, people.preferred_hour[who], 2.0, 10, 21, wrap=False),
                     local_clock(rng, people.preferred_hour[who], 2.5))
    secs = day * 86400 + clock
    # keep each person's orders in time order (a repeat purchase can land on the first purchase's day)
    order = np.lexsort((secs, who))
    who, secs, channel, store = who[order], secs[order], channel[order], store[order]

    # the identifier the channel knows
    has_loyalty, has_crm = people.systems[:, 3], people.systems[:, 0]
    by_card = store & has_loyalty[who]
    by_crm = store & ~by_card & has_crm[who] & (rng.random(n_orders) < 0.5)
    by_phone = store & ~by_card & ~by_crm
    take = pa.array(who)
    user_id = nulls_where(ids.user_id.take(take), channel != 0)
    openid = nulls_where(ids.wechat_openid.take(take), channel != 2)
    card = nulls_where(ids.loyalty_card.take(take), ~by_card)
    crm = nulls_where(ids.crm_id.take(take), ~by_crm)
    phone = nulls_where(ids.phone.take(take), ~by_phone)

    # store: the nearest most of the time, else another in the same city
    city = people.city[who]
    city_start = np.searchsorted(stores.city, np.arange(city.max() + 1 if len(city) else 1))
    city_count = np.searchsorted(stores.city, np.arange(len(city_start)), side="right") - city_start
    other = city_start[city] + np.floor(rng.random(n_orders) * np.maximum(city_count[city], 1)).astype(np.int64)
    other = np.where(city_count[city] > 0, other, people.nearest_store[who])
    store_idx = np.where(rng.random(n_orders) < 0.8, people.nearest_store[who], other)
    store_id = nulls_where(pick(stores.ids, store_idx), ~store)

    # spend and basket
    sens = people.price_sensitivity[who]
    spend = rng.gamma(opts.spend_p, 1.0 / people.nu[who])
    n_lines = np.minimum(1 + rng.poisson(0.9, n_orders), 6)
    l_order = np.repeat(np.arange(n_orders), n_lines)
    l_product = choose_products(rng, cat, people.taste[who[l_order]], sens[l_order])
    # contact lenses bring their solution along
    is_lens = np.isin(l_product, cat.lens)
    add = is_lens & (rng.random(len(l_order)) < 0.6)
    l_order = np.r_[l_order, l_order[add]]
    l_product = np.r_[l_product, cat.solution[rng.integers(0, len(cat.solution), add.sum())]]
    srt = np.argsort(l_order, kind="stable")
    l_order, l_product = l_order[srt], l_product[srt]
    lines_per = np.bincount(l_order, minlength=n_orders)
    price = cat.price[l_product]
    qty = np.clip(np.rint(spend[l_order] / lines_per[l_order] / price), 1, 10)
    coupon = rng.random(n_orders) < 0.05 + 0.45 * sens
    coupon_rate = np.where(coupon, rng.choice([0.05, 0.1, 0.15, 0.2], n_orders), 0.0)
    promo = rng.random(len(l_order)) < 0.1 + 0.4 * sens[l_order]
    promo_rate = np.where(promo, rng.choice([0.1, 0.2, 0.3], len(l_order)), 0.0)
    gross = qty * price
    l_discount = np.round(gross * (promo_rate + coupon_rate[l_order]), 2)
    l_amount = np.round(gross - l_discount, 2)
    o_amount = np.round(np.bincount(l_order, l_amount, n_orders), 2)
    o_discount = np.round(np.bincount(l_order, l_discount, n_orders), 2)

    order_id = join("SO", digits(np.full(n_orders, block), 4), digits(np.arange(n_orders), 8))
    ts = ts_array(opts.start_utc, secs)
    coupon_code = nulls_where(pick(COUPONS, rng.integers(0, len(COUPONS), n_orders)), ~coupon)
    ch_name = pick(CHANNELS, channel)
    orders = pa.table({
        "order_id": order_id, "user_id": user_id, "crm_id": crm, "loyalty_card": card, "phone": phone,
        "wechat_openid": openid, "ordered_at": ts, "channel": ch_name, "store_id": store_id,
        "country": pa.repeat(pa.scalar("CN"), n_orders), "currency": pa.repeat(pa.scalar("CNY"), n_orders),
        "amount": pa.array(o_amount), "discount": pa.array(o_discount), "coupon_code": coupon_code,
        "status": pa.repeat(pa.scalar("completed"), n_orders), "is_return": pa.array(np.zeros(n_orders, bool)),
        "n_lines": pa.array(lines_per.astype(np.int64)),
    })
    line_no = group_rank(l_order) + 1
    lines = pa.table({
        "order_id": order_id.take(pa.array(l_order)), "line_no": pa.array(line_no.astype(np.int64)),
        "product_id": cat.ids.take(pa.array(l_product)), "quantity": pa.array(qty),
        "unit_price": pa.array(price), "discount": pa.array(l_discount), "amount": pa.array(l_amount),
        "is_return": pa.array(np.zeros(len(l_order), bool)),
    })

    # returns: a credit note some days later for the whole order
    ret_secs = secs + rng.uniform(2, 20, n_orders) * 86400
    ret = np.flatnonzero((rng.random(n_orders) < opts.return_rate) & (ret_secs < opts.window_days * 86400))
    r_orders = orders.take(pa.array(ret))
    r_orders = r_orders.set_column(0, "order_id", join(r_orders["order_id"].combine_chunks(), "-R"))
    r_orders = r_orders.set_column(r_orders.schema.get_field_index("ordered_at"), "ordered_at",
                                   ts_array(opts.start_utc, ret_secs[ret]))
    for name in ("amount", "discount"):
        r_orders = r_orders.set_column(r_orders.schema.get_field_index(name), name, pc.negate(r_orders[name]))
    r_orders = r_orders.set_column(r_orders.schema.get_field_index("status"), "status",
                                   pa.repeat(pa.scalar("returned"), len(ret)))
    r_orders = r_orders.set_column(r_orders.schema.get_field_index("is_return"), "is_return",
                                   pa.array(np.ones(len(ret), bool)))
    r_orders = r_orders.set_column(r_orders.schema.get_field_index("coupon_code"), "coupon_code",
                                   pa.nulls(len(ret), _STR))
    r_line_mask = np.isin(l_order, ret)
    r_lines = lines.filter(pa.array(r_line_mask))
    r_lines = r_lines.set_column(0, "order_id", join(r_lines["order_id"].combine_chunks(), "-R"))
    for name in ("quantity", "discount", "amount"):
        r_lines = r_lines.set_column(r_lines.schema.get_field_index(name), name, pc.negate(r_lines[name]))
    r_lines = r_lines.set_column(r_lines.schema.get_field_index("is_return"), "is_return",
                                 pa.array(np.ones(r_lines.num_rows, bool)))

    first_idx = np.r_[0, np.flatnonzero(who[1:] != who[:-1]) + 1]
    first_at = ts_array(opts.start_utc, secs[first_idx])
    drop = timing.dropout
    dropout_at = nulls_where(ts_array(opts.start_utc, np.nan_to_num(drop) * 7 * 86400), np.isnan(drop))
    first_line = np.r_[0, np.flatnonzero(l_order[1:] != l_order[:-1]) + 1]
    return Purchases(
        timing=timing,
        orders=pa.concat_tables([orders, r_orders]),
        lines=pa.concat_tables([lines, r_lines]),
        first_purchase_at=first_at, first_purchase_s=secs[first_idx].astype(np.float64), dropout_at=dropout_at,
        order_person=who, order_ts=secs.astype(np.float64), order_first_product=l_product[first_line],
        order_coupon=coupon,
    )
