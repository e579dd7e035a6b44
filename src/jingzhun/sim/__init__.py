"""A simulated retail world with known ground truth: the demo data and the referee of every model.

    from jingzhun.sim import simulate
    world = simulate(100_000, seed=0)          # World: pyarrow Tables + params
    world.write("demo-data")                   # the files below

``simulate(customers, *, seed=0, **options)`` takes 100 to 10,000,000 customers; ``options`` are the
fields of :class:`SimOptions` (unknown names raise ConfigError). Same seed, size and options give the
same tables and byte-identical files. Persons are generated in blocks of 50,000, block b from
``SeedSequence(seed).spawn(2)[1].spawn(n_blocks)[b]`` (stores and products from ``spawn(2)[0]``).

Time: the observation window is local midnight (Asia/Shanghai, UTC+8) of ``start`` (2023-01-01) to
local midnight of ``end`` (2025-01-01), i.e. 2022-12-31T16:00Z to 2024-12-31T16:00Z by default. Every
timestamp is written in UTC; CSV timestamps as ``YYYY-MM-DDTHH:MM:SSZ``, Parquet timestamps as
``timestamp[s, UTC]`` (events: ``timestamp[ms, UTC]``). Habits (preferred hour, weekday) are local.
CSV files are UTF-8 with a header, comma-separated, quoted where needed; empty field = null; booleans
``true``/``false``; dates ``YYYY-MM-DD``.

Source files (as a business would export them)
----------------------------------------------
``stores.csv``: store_id (S0001...), name (e.g. 上海万达店), city, region (province), country (CN),
latitude, longitude (WGS84, float), opened_at (date). Stores in 10 Chinese cities, every city has one;
count ``stores`` (default customers/5,000 within 10..300).

``products.csv``: product_id (SKU100001...), name, category_path ("美妆 > 护肤 > 面霜", levels joined by
" > "), category (top level: 美妆 眼镜 服饰 食品 母婴 家居 数码 运动), brand, price (float, CNY),
currency (CNY), is_consumable (bool), repurchase_days (float, consumables only; e.g. 眼镜 > 护理液 30),
in_stock (bool). 眼镜 > 隐形眼镜 (contact lenses) and 眼镜 > 护理液 (lens solution) are a pair: 60% of
lens lines bring a solution line into the same order.

``customers.csv``: one row per customer RECORD; a person has 1-4 records, one per system used.
record_id (CRM-/WEB-/WX-/LOY- + 10 digits), system (crm, web, wechat, loyalty), user_id (web records;
9 digits), email, phone, device_id (web/wechat records; loyalty records signed up on a shop tablet),
wechat_openid (wechat records; "o" + 27 chars), crm_id (crm; CRM + 9 digits), loyalty_card (loyalty;
16 digits), name (Chinese), gender (F/M), birth_date (date), city, region, country, postcode (6
digits), latitude, longitude (geocoded home, crm/loyalty records), signed_up_at (UTC), education,
occupation, marital_status (crm records). Planted messiness, per record unless said (option: default):
e-mail in varied case (``email_case_rate``: 10% of records with an e-mail) or with leading/trailing
spaces (``email_space_rate``: 5%); a misspelt domain, e.g. @163.con (``email_typo_rate``: 2%);
phones as 13800138000 or, at ``phone_format_rate`` (30% of records with a phone), one of
"+86 138 0013 8000", "0086-138-0013-8000", "138-0013-8000"; a second e-mail or phone on the last record
of ``second_email_rate`` / ``second_phone_rate`` (5% / 3%) of persons with 2+ records; placeholders
none@none.com, test@test.com, 00000000000, 13800000000 (``placeholder_rate``: 1%); households of 2-4
(``household_rate``: 8% of persons) sharing one device_id and a home; ``shop_tablets`` (5) devices on
``tablet_rate`` (5%) of loyalty records, hundreds of people each at 1M customers; exact duplicate rows
(``duplicate_rate``: 1%). Linkage rule: a record whose e-mail is altered (second, typo, placeholder)
carries the person's primary phone; a record whose phone is altered carries the primary e-mail; never
both. Two persons never share an identifier except household devices, shop tablets and placeholders.

``orders.parquet``: order_id (SO + 4-digit block + 8 digits; returns add "-R"), user_id (web
orders), crm_id / loyalty_card / phone (store orders: the loyalty card, else the CRM id or the
11-digit phone), wechat_openid (wechat orders), ordered_at (UTC), channel (web, store, wechat),
store_id (store orders), country (CN), currency (CNY), amount (sum of the lines; negative for
returns), discount (sum of line discounts), coupon_code, status (completed, returned), is_return,
n_lines. A return is a separate credit-note order 2-20 days later (``return_rate``: 4%).

``order_lines.parquet``: order_id, line_no (from 1), product_id, quantity (float; negative on
returns), unit_price (list price), discount, amount (quantity x unit_price - discount), is_return.

``events.parquet`` (Segment spec, flattened): message_id (32 hex), type (track, identify, page,
alias), event (track name, page name, null for identify/alias), user_id, anonymous_id, previous_id
(alias), email and phone (identify traits; email also on e-mail events of people without an
account), device_id (app events), timestamp (UTC, ms), channel (web, app, email), properties (JSON
text), context (JSON text: userAgent, locale, timezone, campaign {source, medium, name}).
Events: page, 'Product Viewed', 'Product Added', 'Email Opened', 'Email Link Clicked', 'Push Opened';
about ``events_per_customer`` (10) a customer. Bots: anonymous ids with bursts of dozens of clicks
0.05-0.4 s apart (``bot_rate``; at least 2 per block), listed in truth/bots.parquet.

``consents.csv``: user_id (account holders), email, phone (primary, normalised), channel (email, sms,
push, wechat), purpose (marketing), status (granted, denied), recorded_at (UTC). A withdrawal is a
later denied record (``consent_withdraw_rate``: 8% of grants).

``reviews.csv``: review_id, user_id, product_id, rating (1-5), text (Chinese or English templates),
created_at (UTC). ``referrals.csv``: referrer_user_id, referred_user_id, referred_at (UTC).

Truth files (``truth/``)
------------------------
``persons.parquet``: person_id (P + 9 digits), name, gender, birth_date, bgnbd_lambda (purchases per
week), bgnbd_p, first_purchase_at, first_purchase_week, alive_at_end, dropout_at (null when alive),
n_purchases, n_repeat_purchases, mean_spend (Gamma-Gamma p/nu, CNY), preferred_hour (0-23 local),
preferred_weekday (Monday = 0), price_sensitivity (0-1), price_sensitive (> 0.5), preferred_channel,
activity (relative engagement, Gamma(2, 0.5), mean 1), response_type (persuadable, sure_thing,
lost_cause, sleeping_dog; leaning on purchase rate, price sensitivity and dropout), p_<offer>_control and
p_<offer>_treated for offer in discount, new_product, points, top_category_1..3,
taste_<beauty|eyewear|apparel|food|baby|home|electronics|sports> (sum to 1), city, home_latitude,
home_longitude, nearest_store_id, nearest_store_km, household_id, is_influencer, systems (e.g.
"crm,web"), n_records.

``identifiers.parquet``: kind (record_id, user_id, anonymous_id, email, phone, device_id,
wechat_openid, crm_id, loyalty_card), value (exactly as written in the source files; every value of
every source file is listed once), person_id (null for shared values and bot ids), is_shared.
Anonymous ids of events carry kind anonymous_id (also when in previous_id); referral/review user ids
kind user_id. ``records.parquet``: record_id, person_id, system, email_kind (none, primary, second,
typo, placeholder), email_cased, email_spaced, phone_kind (none, primary, second, placeholder),
phone_style (plain, intl_spaced, intl_dashed, dashed), device_kind (none, personal, household,
tablet), duplicated. ``bots.parquet``: anonymous_id, user_agent, n_events, n_bursts.
``reviews_truth.parquet``: review_id, sentiment (positive, neutral, negative), language (zh, en).
``params.json``: seed, customers, the true BG/NBD r, alpha, a, b (time unit: week), the Gamma-Gamma
p, q, gamma, the window (start, end, weeks; calibration = the whole window), options, shop tablets.

Campaign responses
------------------
``jingzhun.sim.responses.respond(persons, messages, seed=)`` draws opens, clicks and conversions of
campaign messages from this truth; ``open_probability`` and ``true_uplift`` give their expectations.

Recovering BG/NBD per person: frequency = purchase orders - 1 (returns excluded; one purchase is one
order), recency = last - first order, T = window end - first order, in weeks.
"""

from jingzhun.sim.options import SimOptions
from jingzhun.sim.world import SOURCE_FILES, TRUTH_FILES, World, simulate, simulate_to

__all__ = ["simulate", "simulate_to", "World", "SimOptions", "SOURCE_FILES", "TRUTH_FILES"]
