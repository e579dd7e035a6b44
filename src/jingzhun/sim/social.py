"""Reviews with known sentiment, the referral graph with a few influencers, and consents."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingzhun.sim.catalogue import CATEGORY_NAMES, CATEGORY_SLUGS, Catalogue
from jingzhun.sim.identifiers import PersonIds, identifier_rows
from jingzhun.sim.options import SimOptions
from jingzhun.sim.people import People
from jingzhun.sim.purchases import Purchases
from jingzhun.sim.strings import digits, join, nulls_where, pick, ts_array
from jingzhun.sim.vocab import REVIEW_TEMPLATES

__all__ = ["make_reviews", "make_referrals", "make_consents", "SENTIMENTS", "CONSENT_CHANNELS"]

SENTIMENTS = ("positive", "neutral", "negative")
CONSENT_CHANNELS = ("email", "sms", "push", "wechat")
_EN_CATEGORY = {"beauty": "beauty product", "eyewear": "lens", "apparel": "item", "food": "food",
                "baby": "baby product", "home": "home item", "electronics": "gadget", "sports": "gear"}
_STR = pa.string()


def make_reviews(rng: np.random.Generator, block: int, people: People, ids: PersonIds, buys: Purchases,
                 opts: SimOptions, cat: Catalogue) -> tuple[pa.Table, pa.Table]:
    """Account holders review some orders' first product; text from templates of a known sentiment."""
    who = buys.order_person
    created = buys.order_ts + rng.uniform(2, 20, len(who)) * 86400
    chosen = np.flatnonzero(people.has_web[who] & (rng.random(len(who)) < opts.review_rate)
                            & (created < opts.window_days * 86400))
    m = len(chosen)
    product = buys.order_first_product[chosen]
    sentiment = rng.choice(3, size=m, p=[0.65, 0.2, 0.15])
    rating = np.select([sentiment == 0, sentiment == 1], [rng.integers(4, 6, m), np.full(m, 3)], rng.integers(1, 3, m))
    english = rng.random(m) < 0.3
    texts, keys = [], []
    for s_i, s in enumerate(SENTIMENTS):
        for lang in ("zh", "en"):
            for t_i, template in enumerate(REVIEW_TEMPLATES[s][lang]):
                for c_i, c in enumerate(CATEGORY_NAMES):
                    word = c if lang == "zh" else _EN_CATEGORY[CATEGORY_SLUGS[c_i]]
                    texts.append(template.format(c=word))
                    keys.append((s_i, lang == "en", t_i, c_i))
    lookup = {k: i for i, k in enumerate(keys)}
    # index of each review's text: template chosen uniformly within its sentiment and language
    n_t = np.array([[len(REVIEW_TEMPLATES[s][lang]) for lang in ("zh", "en")] for s in SENTIMENTS])
    t_pick = np.floor(rng.random(m) * n_t[sentiment, english.astype(int)]).astype(np.int64)
    base = np.array([[lookup[(s, e, 0, 0)] for e in (False, True)] for s in range(3)])
    text_idx = base[sentiment, english.astype(int)] + t_pick * len(CATEGORY_NAMES) + cat.category[product]
    review_id = join("RV", digits(np.full(m, block), 4), digits(np.arange(m), 7))
    reviews = pa.table({
        "review_id": review_id,
        "user_id": ids.user_id.take(pa.array(who[chosen])),
        "product_id": cat.ids.take(pa.array(product)),
        "rating": pa.array(rating.astype(np.int64)),
        "text": pick(texts, text_idx),
        "created_at": ts_array(opts.start_utc, created[chosen]),
    })
    truth = pa.table({"review_id": review_id, "sentiment": pick(SENTIMENTS, sentiment),
                      "language": pick(["zh", "en"], english.astype(np.int64))})
    return reviews, truth


def make_referrals(rng: np.random.Generator, people: People, ids: PersonIds, first_purchase_s: np.ndarray,
                   opts: SimOptions) -> tuple[pa.Table, np.ndarray]:
    """Referrals among account holders: a share of them joined by referral, many referred by a few
    influencers. Returns the table and the influencer mask."""
    web = np.flatnonzero(people.has_web)
    influencer = np.zeros(people.n, bool)
    if len(web) < 10:
        empty = pa.table({"referrer_user_id": pa.array([], _STR), "referred_user_id": pa.array([], _STR),
                          "referred_at": pa.array([], pa.timestamp("s", tz="UTC"))})
        return empty, influencer
    # influencers joined early: pick among the earliest half of account holders
    early = web[np.argsort(first_purchase_s[web], kind="stable")[: len(web) // 2]]
    n_inf = max(1, round(len(web) * opts.influencer_rate))
    infl = rng.choice(early, size=n_inf, replace=False)
    influencer[infl] = True
    referred = web[(rng.random(len(web)) < opts.referral_rate) & ~influencer[web]]
    by_infl = rng.random(len(referred)) < 0.4
    referrer = np.where(by_infl, infl[rng.integers(0, n_inf, len(referred))], web[rng.integers(0, len(web), len(referred))])
    ok = (first_purchase_s[referrer] < first_purchase_s[referred]) & (referrer != referred)
    referrer, referred = referrer[ok], referred[ok]
    table = pa.table({
        "referrer_user_id": ids.user_id.take(pa.array(referrer)),
        "referred_user_id": ids.user_id.take(pa.array(referred)),
        "referred_at": ts_array(opts.start_utc, first_purchase_s[referred] - rng.uniform(0, 3, len(referred)) * 86400),
    })
    return table, influencer


def make_consents(rng: np.random.Generator, people: People, ids: PersonIds, first_purchase_s: np.ndarray,
                  opts: SimOptions, email_known: np.ndarray) -> tuple[pa.Table, pa.Table]:
    """Marketing consent per person and channel (email, sms always; push for account holders; wechat for
    WeChat users), granted or denied at sign-up; some grants withdrawn later by a denied record. A
    consent row carries the person's e-mail only where a customer record of theirs shows it
    (``email_known``): consent is recorded against addresses the business holds."""
    has = np.stack([np.ones(people.n, bool), np.ones(people.n, bool), people.has_web, people.systems[:, 2]], axis=1)
    who, ch = np.nonzero(has)
    m = len(who)
    granted = rng.random(m) < opts.consent_grant_rate
    at = np.maximum(first_purchase_s[who] - rng.exponential(30, m) * 86400, 0)
    withdraw_at = at + rng.uniform(10, opts.window_days, m) * 86400
    withdrawn = granted & (rng.random(m) < opts.consent_withdraw_rate) & (withdraw_at < opts.window_days * 86400)
    rows = np.r_[np.arange(m), np.flatnonzero(withdrawn)]
    status = np.r_[np.where(granted, 0, 1), np.ones(withdrawn.sum(), np.int64)]
    when = np.r_[at, withdraw_at[withdrawn]]
    order = np.lexsort((when, rows))
    rows, status, when = rows[order], status[order], when[order]
    tw = pa.array(who[rows])
    user_id = nulls_where(ids.user_id.take(tw), ~people.has_web[who[rows]])
    consents = pa.table({
        "user_id": user_id, "email": nulls_where(ids.email.take(tw), ~email_known[who[rows]]),
        "phone": ids.phone.take(tw),
        "channel": pick(CONSENT_CHANNELS, ch[rows]), "purpose": pa.repeat(pa.scalar("marketing"), len(rows)),
        "status": pick(["granted", "denied"], status), "recorded_at": ts_array(opts.start_utc, when),
    })
    # every person has consent rows carrying their e-mail and phone; account holders their user id
    id_rows = pa.concat_tables([
        identifier_rows("user_id", nulls_where(ids.user_id, ~people.has_web), ids.person_id, False),
        identifier_rows("email", nulls_where(ids.email, ~email_known), ids.person_id, False),
        identifier_rows("phone", ids.phone, ids.person_id, False),
    ])
    return consents, id_rows
