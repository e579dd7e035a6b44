"""The truth is visible in the data: hours, coupons, bots, tastes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.sim.conftest import person_of

ENGAGEMENT = ["Email Opened", "Email Link Clicked", "Push Opened"]
ORDER_IDS = {"user_id": "user_id", "crm_id": "crm_id", "loyalty_card": "loyalty_card", "phone": "phone",
             "wechat_openid": "wechat_openid"}


def test_preferred_hour_is_the_mode_of_engagement_hours(world, owner):
    ev = world.events.to_pandas()
    ev = ev[ev.event.isin(ENGAGEMENT)].copy()
    ev["person_id"] = person_of(ev, owner, {"user_id": "user_id", "email": "email"})
    ev["hour"] = (ev.timestamp.dt.hour + 8) % 24          # preferred hours are Asia/Shanghai local
    counts = ev.groupby("person_id").size()
    busy = counts[counts >= 15].index
    mode = ev[ev.person_id.isin(busy)].groupby("person_id").hour.agg(lambda h: h.value_counts().idxmax())
    truth = world.persons.to_pandas().set_index("person_id").preferred_hour
    share = (mode == truth.loc[mode.index]).mean()
    assert len(mode) >= 100
    assert share > 0.5, f"preferred hour is the mode for only {share:.0%} of {len(mode)} busy persons"


def test_price_sensitive_people_use_more_coupons(world, owner):
    orders = world.orders.to_pandas()
    orders = orders[~orders.is_return].copy()
    orders["person_id"] = person_of(orders, owner, ORDER_IDS)
    assert orders.person_id.notna().all()
    sensitive = world.persons.to_pandas().set_index("person_id").price_sensitive
    orders["sensitive"] = sensitive.loc[orders.person_id].to_numpy()
    rate = orders.coupon_code.notna().groupby(orders.sensitive).mean()
    assert rate[True] > rate[False] + 0.1, rate.to_dict()


def test_bots_click_in_bursts_and_people_do_not(world):
    ev = world.events.to_pandas()
    bots = set(world.bots.to_pandas().anonymous_id)
    ev = ev[ev.anonymous_id.notna()].sort_values(["anonymous_id", "timestamp"])
    gap = ev.groupby("anonymous_id").timestamp.diff().dt.total_seconds()
    fast = (gap < 0.5).groupby(ev.anonymous_id).sum()
    assert (fast.loc[sorted(bots)] >= 19).all()
    assert fast.drop(sorted(bots)).max() <= 2


def test_baskets_follow_tastes(world, owner):
    orders = world.orders.to_pandas()
    orders = orders[~orders.is_return]
    person = pd.Series(person_of(orders, owner, ORDER_IDS).to_numpy(), index=orders.order_id)
    lines = world.order_lines.to_pandas()
    lines = lines[~lines.is_return]
    category = world.products.to_pandas().set_index("product_id").category
    lines["category"] = category.loc[lines.product_id].to_numpy()
    lines["person_id"] = person.loc[lines.order_id].to_numpy()
    top = world.persons.to_pandas().set_index("person_id").top_category_1
    share_top = (lines.category == top.loc[lines.person_id].to_numpy()).mean()
    assert share_top > 0.35   # uniform choice over 8 categories would give 0.125


def test_referrals_have_influencers(world):
    ref = world.referrals.to_pandas()
    per = ref.groupby("referrer_user_id").size()
    assert per.max() >= 5 * max(1.0, np.median(per))
