"""Profile features: jingzhun's Ibis build on DuckDB against a straightforward pandas version, and the
incremental refresh against the full build.

    python -m benchmarks.bench_features [--customers N] [--events-per-customer E]

The simulated world is written straight into the canonical tables (loading a million customers through
``load_source`` would time the ingest, not the features): identifier values are used as their own keys
(the features only join keys, so hashing them changes no timing that matters here), the identity map
comes from the simulator's truth (one profile per true person; shared values are shared), and bot
events carry the ``bot`` flag as quality would set it. The printout says so.

Three timings, one run, one warehouse:

1. the full feature build (every column of profile_features) on DuckDB;
2. pandas computing every column of profile_features from the same tables, attaching people to rows the
   same way, written the straightforward way (see "the pandas reference" below); its result is compared
   with ours on every row and column (floats within 1e-9 relative), so the two do the same work;
3. an incremental refresh after 1% of the customers got new orders and events.

The machine's load average is printed beside each timing: the ratios within one run are what count.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import tempfile
import time
from pathlib import Path

os.environ["OPENBLAS_NUM_THREADS"] = "1"

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402
import ibis  # noqa: E402
import pyarrow.compute as pc  # noqa: E402

from jingzhun.profile import build_features  # noqa: E402
from jingzhun.sim import simulate  # noqa: E402
from jingzhun.warehouse import Warehouse  # noqa: E402

AS_OF = "2025-01-07T16:00:00Z"  # a week after the simulated window: room for the new data
_ORDER_IDS = ("user_id", "crm_id", "loyalty_card", "phone", "email", "wechat_openid", "anonymous_id")


def _with_load(t: pa.Table, source: str, load_id: str, flags: pa.Array | None = None) -> pa.Table:
    n = t.num_rows
    t = t.append_column("source", pa.array([source] * n)) if "source" not in t.column_names else t
    t = t.append_column("load_id", pa.array([load_id] * n))
    return t.append_column("quality_flags", flags if flags is not None else pa.array([""] * n))


def write_world(wh: Warehouse, world) -> None:
    truth = world.identifiers.to_pandas()
    truth = truth[truth.kind != "record_id"].drop_duplicates(["kind", "value"])
    shared = truth.person_id.isna()
    imap = pd.DataFrame({"kind": truth.kind, "key": truth.value,
                         "profile_id": np.where(shared, "s" + truth.value.astype(str), truth.person_id),
                         "is_shared": shared})
    wh.append("identity_map", imap)
    wh.append("stores", _with_load(world.stores, "sim", "l1"))
    wh.append("products", _with_load(world.products, "sim", "l1"))
    cust = world.customers.drop_columns([c for c in ("system", "name") if c in world.customers.column_names])
    wh.append("customers", _with_load(cust, "sim", "l1"))
    wh.append("orders", _with_load(world.orders, "sim", "l1"))
    wh.append("order_lines", _with_load(world.order_lines, "sim", "l1"))
    ev = world.events
    bots = pa.array(world.bots.column("anonymous_id").to_pylist())
    flags = pc.if_else(pc.is_in(ev.column("anonymous_id"), value_set=bots), "bot", "")
    wh.append("events", _with_load(ev, "sim", "l1", flags))


def add_new_data(wh: Warehouse, people: int, seed: int = 0) -> tuple[int, int]:
    """New orders and events (load l2) for ``people`` web buyers, dated in the week after the window.

    Each chosen person buys their first order again (with its lines) and repeats their track events a week
    later, so their features change and everybody else's stay the same.
    """
    o = wh.table("orders")
    buys = o.filter(o.user_id.notnull() & ~o.is_return)
    users = sorted(wh.execute(buys.select("user_id").distinct()).user_id)
    rng = np.random.default_rng(seed)
    chosen = ibis.memtable({"user_id": rng.choice(users, size=min(people, len(users)), replace=False)})
    mine = buys.semi_join(chosen, "user_id")
    first = mine.group_by("user_id").aggregate(order_id=mine.order_id.min())
    new = mine.semi_join(first, ["user_id", "order_id"])
    old_ids = new.select("source", "order_id")
    new = new.mutate(order_id=new.order_id + "-N", load_id=ibis.literal("l2"),
                     ordered_at=ibis.literal(pd.Timestamp("2025-01-02 03:00", tz="UTC"), type="timestamp('UTC')"))
    lines = wh.table("order_lines").semi_join(old_ids, ["source", "order_id"])
    lines = lines.mutate(order_id=lines.order_id + "-N", load_id=ibis.literal("l2"))
    ev = wh.table("events")
    ev = ev.filter(ev.type == "track").semi_join(chosen, "user_id")
    ev = ev.mutate(message_id=ev.message_id + "n", load_id=ibis.literal("l2"),
                   timestamp=ev.timestamp + ibis.interval(days=7))
    new_events = wh.stage(ev)
    with wh.transaction():
        wh.append("orders", wh.stage(new))
        wh.append("order_lines", wh.stage(lines))
        wh.append("events", new_events)
    return int(wh.execute(chosen.count())), wh.execute(new_events.count())


# -- the pandas reference -------------------------------------------------------------------------------
# Every column of profile_features, the way a data scientist would write it: read the needed columns into
# DataFrames (identifier and label columns as categoricals, so a million people fit in memory), attach
# people with the identity map, then groupby/agg, with a window-like diff or a small apply where that is
# the natural way. It follows docs/features.md and shares no code with jingzhun.profile.

_DAY = 86_400


def _read(wh: Warehouse, name: str, columns, categorical=()) -> pd.DataFrame:
    t = wh.con.table(name).select(*columns).to_pyarrow()
    for c in categorical:
        t = t.set_column(t.column_names.index(c), c, pc.dictionary_encode(t.column(c)))
    return t.to_pandas()


def _epoch(ts: pd.Series) -> pd.Series:
    """Whole seconds since 1970 (floor), as int64."""
    return (ts - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)


def _attach(df: pd.DataFrame, kinds, lookup: dict[str, pd.Series]) -> pd.Series:
    """The profile of the first identifier in ``kinds`` that the identity map knows."""
    pid = pd.Series(np.nan, index=df.index, dtype=object)
    for k in kinds:
        if k in df and k in lookup:
            pid = pid.fillna(df[k].map(lookup[k]).astype(object))
    return pid


def _round_half_away(x: pd.Series) -> pd.Series:
    """SQL ROUND: halves away from zero (numpy rounds them to even; floor(x + 0.5) errs just below a half)."""
    whole = np.trunc(x)
    return pd.Series(np.where(np.abs(x - whole) == 0.5, whole + np.sign(x), np.round(x)), index=x.index)


def _top(spend: pd.DataFrame, key: str) -> pd.DataFrame:
    """Per profile: the key with most spend (ties: smallest), its share, the number of keys."""
    total = spend.groupby("profile_id", observed=True).spend.transform("sum")
    spend = spend.assign(share=spend.spend / total)
    ranked = spend.sort_values(["profile_id", "spend", key], ascending=[True, False, True])
    top = ranked.drop_duplicates("profile_id").set_index("profile_id")
    out = pd.DataFrame({f"top_{key}": top[key], f"top_{key}_share": top.share})
    out[f"n_{key}s"] = spend.groupby("profile_id", observed=True).size()
    return out, spend


def _haversine(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    a = np.sin(np.radians(lat2 - lat1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.minimum(np.sqrt(a), 1.0))


def _mode(records: pd.DataFrame, column: str) -> pd.Series:
    v = records[["profile_id", column]].dropna()
    if isinstance(v[column].dtype, pd.CategoricalDtype):  # compare values as text, not in category order
        v[column] = v[column].astype(str)
        v = v[v[column].str.strip() != ""]
    counts = v.groupby(["profile_id", column], observed=True).size().rename("n").reset_index()
    counts = counts.sort_values(["profile_id", "n", column], ascending=[True, False, True])
    return counts.drop_duplicates("profile_id").set_index("profile_id")[column]


_SIGNS = ((120, "aquarius"), (219, "pisces"), (321, "aries"), (420, "taurus"), (521, "gemini"), (621, "cancer"),
          (723, "leo"), (823, "virgo"), (923, "libra"), (1023, "scorpio"), (1122, "sagittarius"),
          (1222, "capricorn"))
_BANDS = ((65, "65+"), (55, "55-64"), (45, "45-54"), (35, "35-44"), (25, "25-34"), (18, "18-24"), (0, "<18"))
_ENGAGEMENT = {"email_opened_90d": ("email opened",), "email_clicked_90d": ("email link clicked", "email clicked"),
               "push_opened_90d": ("push opened", "push notification opened"),
               "sms_clicked_90d": ("sms link clicked", "sms clicked")}


def pandas_features(wh: Warehouse, as_of: str, offset_hours: int) -> pd.DataFrame:
    """profile_features computed with pandas from the warehouse's tables (one row per profile)."""
    as_of = pd.Timestamp(as_of)
    now = int(as_of.timestamp())
    off = offset_hours * 3600
    imap = _read(wh, "identity_map", ["kind", "key", "profile_id", "is_shared"])
    imap = imap[~imap.is_shared]
    lookup = {k: g.set_index("key").profile_id for k, g in imap.groupby("kind")}
    out = imap.groupby("profile_id").size().rename("n_identifiers").to_frame()

    # orders: RFM, intervals, returns, discounts, price index, channels
    o = _read(wh, "orders", ["source", "order_id", "ordered_at", "status", "is_return", "channel", "store_id",
                             "amount", "discount", "coupon_code", "n_lines", *_ORDER_IDS],
              categorical=["status", "channel", "store_id", *_ORDER_IDS])
    o = o[o.ordered_at < as_of]
    o["profile_id"] = _attach(o, _ORDER_IDS, lookup)
    o = o[o.profile_id.notna()]
    o["buy"] = ~o.is_return & (o.status.astype(str).str.lower() != "cancelled") & (o.amount > 0)
    o["day"] = (_epoch(o.ordered_at) + off) // _DAY
    o["disc"] = o.discount.fillna(0.0)
    o["coupon"] = o.coupon_code.notna() & (o.coupon_code.fillna("").str.strip() != "")
    o["discounted"] = (o.disc > 0) | o.coupon
    buys = o[o.buy]
    g = buys.groupby("profile_id")
    rate = buys.disc / (buys.amount + buys.disc)
    rfm = pd.DataFrame({
        "first_purchase_at": g.ordered_at.min(), "last_purchase_at": g.ordered_at.max(), "frequency": g.size(),
        "purchase_days": g.day.nunique(), "monetary_total": g.amount.sum(),
        "discount_share": g.discounted.mean(), "coupon_share": g.coupon.mean(),
        "mean_discount_rate": rate[(buys.amount + buys.disc) > 0].groupby(buys.profile_id).mean(),
        "mean_lines": g.n_lines.mean(),
    })
    plain = ~buys.coupon
    rfm["price_sensitivity"] = ((g.coupon.sum() + (plain & (buys.disc > 0)).groupby(buys.profile_id).sum() + 1.2)
                                / (g.size() + plain.groupby(buys.profile_id).sum() + 4.0))
    rfm["monetary_mean"] = rfm.monetary_total / rfm.purchase_days
    rfm["avg_order_value"] = rfm.monetary_total / rfm.frequency
    channel = buys.channel.astype(str).str.lower()
    for c in ("web", "app", "store", "wechat", "marketplace"):
        rfm[f"share_{c}"] = (channel == c).groupby(buys.profile_id).sum() / rfm.frequency
    rets = o[o.is_return]
    rr = rets.groupby("profile_id").agg(returns=("amount", "size"), returned_amount=("amount", lambda a: a.abs().sum()))
    out = out.join(rfm).join(rr)
    out["return_rate"] = (out.returns.fillna(0) / out.frequency).where(out.frequency > 0)
    days = buys[["profile_id", "day"]].drop_duplicates().sort_values(["profile_id", "day"])
    days["gap"] = days.groupby("profile_id").day.diff()
    gaps = days.dropna(subset=["gap"]).groupby("profile_id").gap
    out["interpurchase_mean_days"] = gaps.mean()
    out["interpurchase_sd_days"] = gaps.std(ddof=1)

    # purchase lines: basket units, category and brand shares, repurchase cycles
    ln = _read(wh, "order_lines", ["source", "order_id", "product_id", "quantity", "amount", "is_return"])
    prods = _read(wh, "products", ["source", "product_id", "category", "category_path", "brand", "is_consumable",
                                   "repurchase_days"])
    ln = ln[~ln.is_return].drop(columns="is_return")
    ln = ln.merge(buys[["source", "order_id", "profile_id", "ordered_at"]], on=["source", "order_id"])
    ln = ln.merge(prods, on=["source", "product_id"], how="left")
    units = ln.groupby(["profile_id", "source", "order_id"]).quantity.sum()
    out["mean_units"] = units.groupby(level="profile_id").mean()
    for key, with_text in (("category", True), ("brand", False)):
        sel = ln[ln[key].notna() & (ln[key] != "") & (ln.amount > 0)]
        spend = sel.groupby(["profile_id", key]).amount.sum().rename("spend").reset_index()
        top, spend = _top(spend, key)
        out = out.join(top)
        if with_text:
            spend["text"] = spend[key] + ":" + (_round_half_away(spend.share * 1000).astype(int) / 1000).map("{:.3f}".format)
            out["category_shares"] = spend.groupby("profile_id").text.agg(lambda t: ";".join(sorted(t)))
    c = ln[ln.is_consumable.fillna(False).astype(bool)].copy()
    c["leaf"] = c.category_path.fillna(c.product_id.astype(str))
    c["day"] = (_epoch(c.ordered_at) + off) // _DAY
    catalogue = prods[prods.is_consumable.fillna(False).astype(bool)]
    typical = catalogue.groupby(catalogue.category_path.fillna(catalogue.product_id)).repurchase_days.mean()
    typical = typical.rename("typical").rename_axis("leaf")
    per_day = c.groupby(["profile_id", "leaf", "day"]).ordered_at.max().rename("last_at").reset_index()
    per_day["gap"] = per_day.groupby(["profile_id", "leaf"]).day.diff()
    leaf = per_day.groupby(["profile_id", "leaf"]).agg(last_at=("last_at", "max"), own=("gap", "mean"),
                                                       n_gaps=("gap", "count"), gap_sum=("gap", "sum"))
    leaf = leaf.join(typical, on="leaf")
    cycle = leaf.own.fillna(leaf.typical)
    leaf["next_at"] = leaf.last_at + pd.to_timedelta(_round_half_away(cycle * _DAY), unit="s")
    per = leaf.groupby(level="profile_id").agg(gap_sum=("gap_sum", "sum"), n_gaps=("n_gaps", "sum"),
                                               next_repurchase_at=("next_at", "min"))
    out["repurchase_cycle_days"] = (per.gap_sum / per.n_gaps).where(per.n_gaps > 0)
    out["next_repurchase_at"] = per.next_repurchase_at
    del ln, c, per_day, leaf

    # engagement events: hours, weekdays, peaks, 90-day counts
    ev = _read(wh, "events", ["type", "event", "timestamp", "quality_flags", "user_id", "anonymous_id", "device_id"],
               categorical=["type", "event", "quality_flags", "user_id", "anonymous_id", "device_id"])
    bot = ev.quality_flags.map(lambda f: "bot" in f.split(","), na_action="ignore").astype("boolean").fillna(False)
    ev = ev[(ev.timestamp < as_of) & ~bot]
    names = ev.event.map(lambda e: e.lower().replace("_", " ").strip(), na_action="ignore").astype(object).fillna("")
    wanted = {n for ns in _ENGAGEMENT.values() for n in ns}
    ev = ev.assign(name=names)[(ev.type == "track") & names.isin(wanted)]
    ev["profile_id"] = _attach(ev, ("user_id", "anonymous_id", "device_id"), lookup)
    ev = ev[ev.profile_id.notna()]
    acts = pd.concat([pd.DataFrame({"profile_id": buys.profile_id, "ts": buys.ordered_at, "weight": 1}),
                      pd.DataFrame({"profile_id": ev.profile_id, "ts": ev.timestamp, "weight": 4})])
    local = _epoch(acts.ts) + off
    acts["hour"], acts["weekday"] = local // 3600 % 24, (local // _DAY + 3) % 7
    hours = acts.groupby(["profile_id", "hour"]).size().unstack(fill_value=0).reindex(columns=range(24), fill_value=0)
    weekdays = acts.groupby(["profile_id", "weekday"]).size().unstack(fill_value=0).reindex(columns=range(7),
                                                                                          fill_value=0)
    weights = acts.groupby(["profile_id", "hour"]).weight.sum().unstack(fill_value=0).reindex(columns=range(24),
                                                                                            fill_value=0)
    w = weights.to_numpy()
    scores = sum(k * (np.roll(w, d, axis=1) + np.roll(w, -d, axis=1)) for d, k in ((1, 4), (2, 2))) + 5 * w
    hist = hours.set_axis([f"hour_{h:02d}" for h in range(24)], axis=1)
    hist = hist.join(weekdays.set_axis([f"weekday_{d}" for d in range(7)], axis=1))
    hist["peak_hour"] = np.where(scores.max(axis=1) > 0, scores.argmax(axis=1), np.nan)
    wd = weekdays.to_numpy()
    hist["peak_weekday"] = np.where(wd.max(axis=1) > 0, wd.argmax(axis=1), np.nan)
    hist["n_events"] = ev.groupby("profile_id").size()
    recent = ev[_epoch(ev.timestamp) >= now - 90 * _DAY]
    hist["events_90d"] = recent.groupby("profile_id").size()
    for col, ns in _ENGAGEMENT.items():
        hist[col] = recent.name.isin(ns).groupby(recent.profile_id).sum()
    out = out.join(hist)
    del ev, acts, recent, names

    # customer records: demographics, home, tenure's sign-up
    cust_ids = ("crm_id", "user_id", "loyalty_card", "email", "phone", "wechat_openid", "device_id")
    traits = ("gender", "birth_date", "city", "region", "education", "occupation", "marital_status")
    cu = _read(wh, "customers", [*cust_ids, *traits, "latitude", "longitude", "signed_up_at"],
               categorical=[*cust_ids, "gender", "city", "region", "education", "occupation", "marital_status"])
    cu["profile_id"] = _attach(cu, cust_ids, lookup)
    cu = cu[cu.profile_id.notna()]
    out["n_records"] = cu.groupby("profile_id").size()
    for t in traits:
        out[t] = _mode(cu, t).astype(object)
    located = cu[cu.latitude.notna() & cu.longitude.notna()]
    home = located.groupby("profile_id")[["latitude", "longitude"]].mean()
    out["home_latitude"], out["home_longitude"] = home.latitude, home.longitude
    signed = cu[cu.signed_up_at < as_of].groupby("profile_id").signed_up_at.min()
    out["_signed"] = signed
    out["customer_since"] = out[["_signed", "first_purchase_at"]].min(axis=1)
    out = out.drop(columns="_signed")

    # stores: nearest to home, and the one used most
    st = _read(wh, "stores", ["store_id", "latitude", "longitude"]).dropna()
    st = st.groupby("store_id")[["latitude", "longitude"]].mean()
    slat, slon, sid = st.latitude.to_numpy(), st.longitude.to_numpy(), st.index.to_numpy()
    best_id, best_km = [], []
    for i in range(0, len(home), 100_000):  # a distance matrix per chunk of homes
        h = home.iloc[i:i + 100_000]
        km = _haversine(h.latitude.to_numpy()[:, None], h.longitude.to_numpy()[:, None], slat[None, :], slon[None, :])
        best_id.append(sid[km.argmin(axis=1)])
        best_km.append(km.min(axis=1))
    if best_id:
        out["nearest_store_id"] = pd.Series(np.concatenate(best_id), index=home.index)
        out["nearest_store_km"] = pd.Series(np.concatenate(best_km), index=home.index)
    at_store = buys[buys.store_id.notna() & (buys.store_id.astype(str) != "")]
    counts = at_store.groupby(["profile_id", "store_id"], observed=True).size().rename("n").reset_index()
    counts["store_id"] = counts.store_id.astype(str)
    top = counts.sort_values(["profile_id", "n", "store_id"], ascending=[True, False, True]).drop_duplicates("profile_id")
    top = top.set_index("profile_id").join(home).join(st.add_prefix("s_"), on="store_id")
    out["top_store_id"] = top.store_id
    out["top_store_km"] = _haversine(top.latitude, top.longitude, top.s_latitude, top.s_longitude)

    # as_of-relative columns, and zeros for the counts of people with nothing to count
    out["as_of"] = as_of
    out["recency_days"] = (now - _epoch(out.last_purchase_at)) // _DAY
    out["tenure_days"] = (now - _epoch(out.customer_since)) // _DAY
    out["repurchase_due_days"] = (_epoch(out.next_repurchase_at) - now) / _DAY
    local = pd.Timestamp(now + off, unit="s")
    birth = pd.to_datetime(out.birth_date)
    md = birth.dt.month * 100 + birth.dt.day
    out["age"] = local.year - birth.dt.year - (md > local.month * 100 + local.day).astype(int)
    out["age_band"] = out.age.map(lambda a: next((b for lo, b in _BANDS if a >= lo), None) if pd.notna(a) else None)
    out["constellation"] = md.map(
        lambda x: next((s for start, s in reversed(_SIGNS) if x >= start), "capricorn") if pd.notna(x) else None)
    counts = ["frequency", "purchase_days", "monetary_total", "returns", "returned_amount", "n_categorys", "n_brands",
              "n_records", "n_events", "events_90d", *[f"hour_{h:02d}" for h in range(24)],
              *[f"weekday_{d}" for d in range(7)], *_ENGAGEMENT]
    out[counts] = out[counts].fillna(0)
    out = out.rename(columns={"n_categorys": "n_categories"})
    return out.rename_axis("profile_id").reset_index()


def compare(ours: pd.DataFrame, ref: pd.DataFrame) -> dict[str, str]:
    """Column by column, the rows where ours and the reference differ (floats within 1e-9 relative)."""
    ours, ref = ours.set_index("profile_id").sort_index(), ref.set_index("profile_id").sort_index()
    rows = ours.index.symmetric_difference(ref.index)
    diffs = {"<rows>": f"{len(rows)} profiles in one only, e.g. {list(rows[:3])}"} if len(rows) else {}
    ref = ref.reindex(ours.index)
    for col in ours.columns:
        a, b = ours[col], ref[col] if col in ref else pd.Series(np.nan, index=ours.index)
        if isinstance(a.dtype, pd.DatetimeTZDtype) or a.dtype.kind == "M":
            a, b = pd.to_datetime(a, utc=True), pd.to_datetime(b, utc=True)
            same = (a == b) | (a.isna() & b.isna())
        elif a.dtype.kind in "fiu" or b.dtype.kind in "fiu":
            fa, fb = pd.to_numeric(a, errors="coerce").astype(float), pd.to_numeric(b, errors="coerce").astype(float)
            same = np.isclose(fa, fb, rtol=1e-9, atol=1e-9) | (fa.isna() & fb.isna())
        elif col == "category_shares":  # names exactly, shares to within their last printed digit
            same = pd.Series([_same_shares(x, y) for x, y in zip(a, b)], index=a.index)
        else:
            sa, sb = a.astype(object).where(a.notna(), None), b.astype(object).where(b.notna(), None)
            same = pd.Series([x == y or (x is None and y is None) for x, y in zip(map(_plain, sa), map(_plain, sb))],
                             index=a.index)
        if not same.all():
            first = same.index[~same.to_numpy()][0]
            diffs[col] = f"{int((~same).sum())} rows, e.g. {first}: ours {a[first]!r}, pandas {b[first]!r}"
    return diffs


def _same_shares(x, y) -> bool:
    """Two ``name:0.375;...`` texts with the same names and shares within 0.001 (a share of exactly x.5 per
    mille can round either way, depending on the order in which each side summed the spend)."""
    if not isinstance(x, str) or not isinstance(y, str):
        return not isinstance(x, str) and not isinstance(y, str)
    px, py = [p.rsplit(":", 1) for p in x.split(";")], [p.rsplit(":", 1) for p in y.split(";")]
    return ([n for n, _ in px] == [n for n, _ in py]
            and all(abs(float(u) - float(v)) <= 0.0011 for (_, u), (_, v) in zip(px, py)))


def _plain(x):
    return None if x is None else str(x)


def _load() -> str:
    return "load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--events-per-customer", type=float, default=20.0,
                        help="the simulator's option (its default, 10, gives about 11M events at 1M customers)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-pandas", action="store_true", help="time ours only (no reference, no check)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    t = time.perf_counter()
    world = simulate(args.customers, seed=args.seed, events_per_customer=args.events_per_customer)
    print(f"simulated {args.customers:,} customers ({args.events_per_customer:g} events per customer): "
          f"{world.orders.num_rows:,} orders, {world.order_lines.num_rows:,} lines, {world.events.num_rows:,} events "
          f"in {time.perf_counter() - t:.1f}s")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.duckdb"
        with Warehouse.duckdb(path) as wh:
            wh.ensure_schema()
            t = time.perf_counter()
            write_world(wh, world)
            print(f"written straight to the canonical tables (identifier values as keys, identity from the truth) "
                  f"in {time.perf_counter() - t:.1f}s")
        del world
        gc.collect()
        # each step opens the warehouse afresh, as a build in its own process would (and DuckDB's cache of
        # one step does not hold memory the next one needs)
        print(f"[{_load()}]")
        with Warehouse.duckdb(path) as wh:
            t = time.perf_counter()
            full = build_features(wh, as_of=AS_OF, timezone="Asia/Shanghai", full=True)
            ours = time.perf_counter() - t
            print(f"jingzhun full build (DuckDB, {len(wh.table('profile_features').columns)} columns, "
                  f"{full.profiles:,} profiles): {ours:.1f}s  {full.seconds}  [{_load()}]")

        if not args.skip_pandas:
            with Warehouse.duckdb(path) as wh:
                t = time.perf_counter()
                ref = pandas_features(wh, AS_OF, 8)
                naive = time.perf_counter() - t
                print(f"pandas, every column ({len(ref):,} profiles): {naive:.1f}s  [{_load()}]")
                print(f"ratio pandas / jingzhun: {naive / ours:.1f}x (target >= 10x)")
                diffs = compare(wh.execute(wh.table("profile_features")), ref)
            print("pandas and jingzhun agree on every row and column" if not diffs else
                  f"DISAGREEMENT (column: rows): {diffs}")
            del ref
            gc.collect()

        with Warehouse.duckdb(path) as wh:
            people, n_events = add_new_data(wh, max(1, args.customers // 100))  # 1% of the customers
        with Warehouse.duckdb(path) as wh:
            t = time.perf_counter()
            inc = build_features(wh, as_of=AS_OF, timezone="Asia/Shanghai")
            refresh = time.perf_counter() - t
        print(f"incremental refresh after new orders and events for {people:,} people ({n_events:,} events): "
              f"{refresh:.1f}s, {inc.recomputed:,} profiles recomputed  {inc.seconds}  [{_load()}]")
        print(f"ratio full / incremental: {ours / refresh:.1f}x (target >= 10x)")


if __name__ == "__main__":
    main()
