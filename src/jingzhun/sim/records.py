"""Customer records: 1-4 per person, one in each system they use, with planted messiness.

Linkage guarantee (what identity resolution can rely on): a record whose e-mail is altered (a second
address, a misspelt domain or a placeholder) always carries the person's primary phone; a record whose
phone is altered (a second number or a placeholder) always carries the person's primary e-mail; a
record never has both altered. Every record shows a phone (in China the phone number is the key of
every account), and when one of a person's records shows an altered phone, the others show the primary
e-mail too. A person's records are therefore always linkable through e-mail or phone, except a person
with one record whose e-mail and another whose phone is altered (rare: the product of two small rates).
CRM and loyalty records also carry name + birth_date + postcode for probabilistic matching.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingzhun.sim.catalogue import Stores
from jingzhun.sim.identifiers import PHONE_STYLES, PersonIds, full_names, identifier_rows, phone_styles
from jingzhun.sim.options import SimOptions
from jingzhun.sim.people import SYSTEMS, People
from jingzhun.sim.purchases import group_rank
from jingzhun.sim.strings import digits, join, nulls_where, pick, scramble, ts_array
from jingzhun.sim.vocab import CITIES, EDUCATION, MARITAL, OCCUPATIONS, PLACEHOLDER_EMAILS, PLACEHOLDER_PHONES

__all__ = ["make_records", "EMAIL_KINDS", "PHONE_KINDS", "DEVICE_KINDS"]

EMAIL_KINDS = ("none", "primary", "second", "typo", "placeholder")
PHONE_KINDS = ("none", "primary", "second", "placeholder")
DEVICE_KINDS = ("none", "personal", "household", "tablet")
_PREFIX = ("CRM", "WEB", "WX", "LOY")
#                        crm   web   wechat loyalty
_P_EMAIL = np.array([0.80, 0.98, 0.20, 0.50])
_P_DEVICE = np.array([0.00, 0.70, 0.80, 0.00])
_P_NAME = np.array([1.00, 0.70, 0.50, 1.00])
_P_BIRTH = np.array([0.90, 0.40, 0.00, 0.95])
_P_POSTCODE = np.array([0.90, 0.30, 0.00, 0.90])
_P_GEO = np.array([0.80, 0.00, 0.00, 0.80])
_P_CITY = np.array([1.00, 0.80, 0.70, 1.00])


def make_records(rng: np.random.Generator, people: People, ids: PersonIds, first_purchase_s: np.ndarray,
                 opts: SimOptions, stores: Stores) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Return (customers rows, records truth, identifier truth rows, primary e-mail known per person)."""
    pers, sysi = np.nonzero(people.systems)
    n = len(pers)
    k = people.systems.sum(axis=1)
    rank = group_rank(pers)
    last = rank == k[pers] - 1
    u = lambda: rng.random(n)  # noqa: E731

    # --- which e-mail and phone each record shows
    multi = k[pers] >= 2
    p_second_email = rng.random(people.n) < opts.second_email_rate
    p_second_phone = (rng.random(people.n) < opts.second_phone_rate) & ~p_second_email
    email_kind = np.zeros(n, np.int8)
    phone_kind = np.zeros(n, np.int8)
    second_e = last & multi & p_second_email[pers]
    second_p = last & multi & p_second_phone[pers]
    free = ~second_e & ~second_p
    typo = free & (u() < opts.email_typo_rate)
    free &= ~typo
    ph = free & (u() < opts.placeholder_rate)
    ph_email = ph & (u() < 0.5)
    ph_phone = ph & ~ph_email
    email_altered = second_e | typo | ph_email
    phone_altered = second_p | ph_phone
    # Every record shows a phone (the person's primary one unless the phone is what is altered), and a
    # person with an altered phone shows the primary e-mail on every other record too: so a person's
    # records are always linkable, except in the rare person with one record of each alteration.
    phone_altered_person = np.bincount(pers, weights=phone_altered, minlength=people.n) > 0
    email_on = (u() < _P_EMAIL[sysi]) | email_altered | phone_altered | (phone_altered_person[pers] & ~email_altered)
    phone_on = np.ones(n, dtype=bool)
    email_kind[email_on] = 1
    email_kind[second_e] = 2
    email_kind[typo] = 3
    email_kind[ph_email] = 4
    phone_kind[phone_on] = 1
    phone_kind[second_p] = 2
    phone_kind[ph_phone] = 3

    tp = pa.array(pers)
    ek = pa.array(email_kind)
    email = pc.if_else(pc.equal(ek, 2), ids.email_second.take(tp), ids.email.take(tp))
    email = pc.if_else(pc.equal(ek, 3), ids.email_typo.take(tp), email)
    email = pc.if_else(pc.equal(ek, 4), pick(PLACEHOLDER_EMAILS, rng.integers(0, 2, n)), email)
    # formatting: case and spaces (on records that show an e-mail)
    case = email_on & (u() < opts.email_case_rate)
    upper_all = u() < 0.3
    cased = pc.if_else(pa.array(upper_all), pc.utf8_upper(email), pc.utf8_capitalize(email))
    email = pc.if_else(pa.array(case), cased, email)
    space = email_on & (u() < opts.email_space_rate)
    where = rng.integers(0, 3, n)
    spaced = pc.if_else(pa.array(where == 0), join(" ", email), pc.if_else(pa.array(where == 1), join(email, " "),
                                                                            join("  ", email, " ")))
    email = pc.if_else(pa.array(space), spaced, email)
    email = nulls_where(email, email_kind == 0)

    pk = pa.array(phone_kind)
    phone_raw = pc.if_else(pc.equal(pk, 2), ids.phone_second.take(tp), ids.phone.take(tp))
    style = np.where((phone_kind == 1) | (phone_kind == 2),
                     np.where(u() < opts.phone_format_rate, rng.integers(1, len(PHONE_STYLES), n), 0), 0)
    phone = phone_styles(phone_raw, style)
    phone = pc.if_else(pc.equal(pk, 3), pick(PLACEHOLDER_PHONES, rng.integers(0, 2, n)), phone)
    phone = nulls_where(phone, phone_kind == 0)
    style = np.where(phone_kind == 0, -1, style)

    # --- devices: own or household device on web/wechat records; shop tablets on some loyalty records
    in_household = people.household[pers] >= 0
    device_on = u() < _P_DEVICE[sysi]
    tablet = (sysi == 3) & (u() < opts.tablet_rate) & (len(stores.tablet_ids) > 0)
    head_local = np.where(in_household, people.household[pers] - people.index[0], pers)
    device = pc.if_else(pa.array(in_household), ids.family_device.take(pa.array(head_local)), ids.device.take(tp))
    tablet_pick = rng.integers(0, max(len(stores.tablet_ids), 1), n)
    if len(stores.tablet_ids):
        device = pc.if_else(pa.array(tablet), pick(stores.tablet_ids, tablet_pick), device)
    device_kind = np.where(tablet, 3, np.where(device_on, np.where(in_household, 2, 1), 0)).astype(np.int8)
    device = nulls_where(device, device_kind == 0)

    # --- traits
    def on(p):
        return u() < p[sysi]

    city_names = pick([c[0] for c in CITIES], people.city[pers])
    city_on = on(_P_CITY)
    postcode = join(pick([c[5] for c in CITIES], people.city[pers]), digits(people.district[pers], 2), "00")
    geo = on(_P_GEO)
    gender = pick(["M", "F"], people.female[pers].astype(np.int64))
    signed = first_purchase_s[pers] - rng.exponential(60.0, n) * 86400
    record_id = join(pick(_PREFIX, sysi), "-", digits(scramble(people.index[pers] * 4 + sysi, 10**10, 7_777_777, 123_456_789), 10))
    is_sys = lambda s: sysi == SYSTEMS.index(s)  # noqa: E731
    crm_traits = is_sys("crm") & (u() < 0.8)
    user_id = nulls_where(ids.user_id.take(tp), ~is_sys("web"))
    openid = nulls_where(ids.wechat_openid.take(tp), ~is_sys("wechat"))
    crm_id = nulls_where(ids.crm_id.take(tp), ~is_sys("crm"))
    card = nulls_where(ids.loyalty_card.take(tp), ~is_sys("loyalty"))
    customers = pa.table({
        "record_id": record_id,
        "system": pick(SYSTEMS, sysi),
        "user_id": user_id,
        "email": email,
        "phone": phone,
        "device_id": device,
        "wechat_openid": openid,
        "crm_id": crm_id,
        "loyalty_card": card,
        "name": nulls_where(full_names(people).take(tp), ~on(_P_NAME)),
        "gender": nulls_where(gender, u() < np.where(sysi == 1, 0.5, 0.05)),
        "birth_date": nulls_where(pa.array(people.birth_day[pers].astype(np.int32)).cast(pa.date32()), ~on(_P_BIRTH)),
        "city": nulls_where(city_names, ~city_on),
        "region": nulls_where(pick([c[1] for c in CITIES], people.city[pers]), ~city_on),
        "country": nulls_where(pa.repeat(pa.scalar("CN"), n), ~city_on),
        "postcode": nulls_where(postcode, ~on(_P_POSTCODE)),
        "latitude": nulls_where(pa.array(np.round(people.lat[pers] + rng.normal(0, 0.002, n), 6)), ~geo),
        "longitude": nulls_where(pa.array(np.round(people.lon[pers] + rng.normal(0, 0.002, n), 6)), ~geo),
        "signed_up_at": ts_array(opts.start_utc, signed),
        "education": nulls_where(pick(EDUCATION, people.education[pers]), ~crm_traits),
        "occupation": nulls_where(pick(OCCUPATIONS, people.occupation[pers]), ~crm_traits),
        "marital_status": nulls_where(pick(MARITAL, people.marital[pers]), ~crm_traits),
    })
    dup = u() < opts.duplicate_rate
    rows = np.repeat(np.arange(n), np.where(dup, 2, 1))
    customers = customers.take(pa.array(rows))

    person_id = ids.person_id.take(tp)
    truth = pa.table({
        "record_id": record_id, "person_id": person_id, "system": pick(SYSTEMS, sysi),
        "email_kind": pick(EMAIL_KINDS, email_kind), "email_cased": pa.array(case), "email_spaced": pa.array(space),
        "phone_kind": pick(PHONE_KINDS, phone_kind),
        "phone_style": nulls_where(pick(PHONE_STYLES, np.maximum(style, 0)), style < 0),
        "device_kind": pick(DEVICE_KINDS, device_kind), "duplicated": pa.array(dup),
    })
    id_rows = pa.concat_tables([
        identifier_rows("record_id", record_id, person_id, False),
        identifier_rows("user_id", user_id, person_id, False),
        identifier_rows("email", email, person_id, email_kind == 4),
        identifier_rows("phone", phone, person_id, phone_kind == 3),
        identifier_rows("device_id", device, person_id, device_kind >= 2),
        identifier_rows("wechat_openid", openid, person_id, False),
        identifier_rows("crm_id", crm_id, person_id, False),
        identifier_rows("loyalty_card", card, person_id, False),
    ])
    # whose primary e-mail the business holds: only those addresses can receive its e-mails
    email_known = np.bincount(pers, weights=(email_kind == 1), minlength=people.n) > 0
    return customers, truth, id_rows, email_known
