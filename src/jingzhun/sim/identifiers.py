"""Each person's identifiers: account numbers, e-mails, phones, devices, WeChat openids.

Uniqueness is by construction, not by luck: numeric ids and the digits inside e-mails and phones come
from bijections of the person's global index (:func:`jingzhun.sim.strings.scramble`), so two persons
never share a value. Device ids, anonymous ids and openids are random (128+ bits). The only values
shared between persons are household devices, shop tablets and placeholders, all marked ``is_shared``
in ``truth/identifiers.parquet``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jingzhun.sim.people import People
from jingzhun.sim.strings import HEX, OPENID, digits, join, pick, scramble, tokens
from jingzhun.sim.vocab import EMAIL_DOMAINS, EMAIL_TYPO_DOMAINS, GIVEN, PHONE_PREFIXES, SURNAMES

__all__ = ["PersonIds", "make_person_ids", "full_names", "phone_styles", "identifier_rows", "PHONE_STYLES"]

# index blocks of the phone-tail bijection: primary numbers use [0, 1e7), second numbers [4e7, 5e7);
# the tail 00000000 (the placeholder 13800000000) maps from index 20,758,638, outside both
_PHONE_MOD, _PHONE_MUL, _PHONE_OFF, _SECOND_PHONE_SHIFT = 10**8, 7919, 12345678, 4 * 10**7
PHONE_STYLES = ("plain", "intl_spaced", "intl_dashed", "dashed")


@dataclass
class PersonIds:
    person_id: pa.Array
    user_id: pa.Array           # every person has an account number; only web records and web orders show it
    crm_id: pa.Array
    loyalty_card: pa.Array
    wechat_openid: pa.Array
    email: pa.Array             # primary, lower case
    email_second: pa.Array
    email_typo: pa.Array
    phone: pa.Array             # primary, 11 digits
    phone_second: pa.Array
    device: pa.Array            # the person's own device
    family_device: pa.Array     # the household's shared device (for household members)
    anonymous_id: pa.Array      # first tracking id
    anonymous_id2: pa.Array     # a second tracking id (another browser), used by some


def _uuid_like(rng, n: int) -> pa.Array:
    t = pc.utf8_upper(tokens(rng, n, 32, HEX))
    s = lambda a, b: pc.utf8_slice_codeunits(t, a, b)  # noqa: E731
    return join(s(0, 8), "-", s(8, 12), "-", s(12, 16), "-", s(16, 20), "-", s(20, 32))


def full_names(people: People) -> pa.Array:
    surname = pick([s[0] for s in SURNAMES], people.surname)
    g1 = pick([g[0] for g in GIVEN], people.given1)
    g2 = pick([g[0] for g in GIVEN] + [""], np.where(people.given2 < 0, len(GIVEN), people.given2))
    return join(surname, g1, g2)


def make_person_ids(rng: np.random.Generator, people: People) -> PersonIds:
    n, i = people.n, people.index
    pin = join(pick([s[1] for s in SURNAMES], people.surname), pick([g[1] for g in GIVEN], people.given1),
               pick([g[1] for g in GIVEN] + [""], np.where(people.given2 < 0, len(GIVEN), people.given2)))
    email_num = digits(scramble(i, 10**8, 48271, 9_000_001))
    qq = rng.random(n) < 0.3
    dom = rng.integers(0, len(EMAIL_DOMAINS), n)
    dom = np.where(qq, EMAIL_DOMAINS.index("qq.com"), np.where(dom == EMAIL_DOMAINS.index("qq.com"), 0, dom))
    local = pc.if_else(pa.array(qq), join("1", digits(scramble(i, 10**8, 65537, 777), 8)), join(pin, email_num))
    email = join(local, "@", pick(EMAIL_DOMAINS, dom))
    email_typo = join(local, "@", pick(EMAIL_TYPO_DOMAINS, dom))
    dom2 = (dom + 1 + rng.integers(0, len(EMAIL_DOMAINS) - 1, n)) % len(EMAIL_DOMAINS)
    email_second = join(pin, ".", email_num, "@", pick(EMAIL_DOMAINS, dom2))

    prefix = pick(PHONE_PREFIXES, rng.integers(0, len(PHONE_PREFIXES), n))
    phone = join(prefix, digits(scramble(i, _PHONE_MOD, _PHONE_MUL, _PHONE_OFF), 8))
    prefix2 = pick(PHONE_PREFIXES, rng.integers(0, len(PHONE_PREFIXES), n))
    phone_second = join(prefix2, digits(scramble(i + _SECOND_PHONE_SHIFT, _PHONE_MOD, _PHONE_MUL, _PHONE_OFF), 8))

    return PersonIds(
        person_id=join("P", digits(i, 9)),
        user_id=join("1", digits(scramble(i, 10**8, 104729, 24_681_357), 8)),
        crm_id=join("CRM", digits(scramble(i, 10**9, 69621, 271_828_182), 9)),
        loyalty_card=join("8860", digits(scramble(i, 10**12, 2_862_933, 31_415_926_535), 12)),
        wechat_openid=join("o", tokens(rng, n, 27, OPENID)),
        email=email, email_second=email_second, email_typo=email_typo,
        phone=phone, phone_second=phone_second,
        device=_uuid_like(rng, n), family_device=_uuid_like(rng, n),
        anonymous_id=tokens(rng, n, 32, HEX), anonymous_id2=tokens(rng, n, 32, HEX),
    )


def phone_styles(phone: pa.Array, style: np.ndarray) -> pa.Array:
    """11-digit phones written in :data:`PHONE_STYLES` (``style`` indexes it per row):
    13800138000, +86 138 0013 8000, 0086-138-0013-8000, 138-0013-8000."""
    a, b, c = (pc.utf8_slice_codeunits(phone, x, y) for x, y in ((0, 3), (3, 7), (7, 11)))
    spaced = join("+86 ", a, " ", b, " ", c)
    dashed = join(a, "-", b, "-", c)
    intl_dashed = join("0086-", dashed)
    s = pa.array(np.asarray(style, dtype=np.int8))
    out = pc.if_else(pc.equal(s, 1), spaced, phone)
    out = pc.if_else(pc.equal(s, 2), intl_dashed, out)
    return pc.if_else(pc.equal(s, 3), dashed, out)


def identifier_rows(kind: str, values: pa.Array, person_id: pa.Array, shared) -> pa.Table:
    """Truth rows for the non-null ``values`` of one identifier kind; shared values get no person."""
    shared = pa.array(np.broadcast_to(np.asarray(shared, dtype=bool), (len(values),)).copy())
    person = pc.if_else(shared, pa.scalar(None, pa.string()), person_id)
    t = pa.table({"kind": pa.repeat(pa.scalar(kind, pa.string()), len(values)),
                  "value": values, "person_id": person, "is_shared": shared})
    return t.filter(pc.is_valid(values))
