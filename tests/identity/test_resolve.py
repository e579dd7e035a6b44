"""Identity resolution on small hand-built worlds, on DuckDB and PySpark."""

from __future__ import annotations

import pandas as pd

from jingzhun.identity import explain, profile_for

from .conftest import customer, event, order


def _person_over_channels():
    """One person: crm, web, wechat and loyalty records, two e-mails, two phones, orders and events."""
    return dict(
        customers=[
            customer("crm", "c1", crm_id="C1", email="E1", phone="P1", name_key="N1", birth_date="1985-03-02",
                     postcode="200001"),
            customer("web", "w1", user_id="U1", email="E1", phone="P2"),
            customer("wechat", "x1", wechat_openid="W1", phone="P2"),
            customer("loyalty", "l1", loyalty_card="L1", email="E2", crm_id="C1"),
        ],
        orders=[order("o1", day=3, user_id="U1", email="E2"), order("o2", day=9, loyalty_card="L1")],
        events=[event("identify", day=1, user_id="U1", anonymous_id="A1", device_id="D1"),
                event("page", day=0, anonymous_id="A1", device_id="D1")],
    )


def test_person_over_channels_is_one_profile(world):
    world.load(**_person_over_channels())
    result = world.resolve()
    m = world.map()
    assert m.profile_id.nunique() == 1 and not m.is_shared.any()
    assert set(zip(m.kind, m.key)) >= {("email", "E1"), ("email", "E2"), ("phone", "P1"), ("phone", "P2"),
                                       ("wechat_openid", "W1"), ("loyalty_card", "L1"), ("anonymous_id", "A1")}
    assert result.profiles == 1 and result.shared == 0
    prof = world.wh.execute(world.wh.table("profiles"))
    assert prof.n_records.iloc[0] == 4 and prof.n_identifiers.iloc[0] == len(m)
    # PySpark hands timestamps back without their zone (they are UTC: the session's time zone)
    utc = lambda ts: ts if ts.tzinfo else ts.tz_localize("UTC")  # noqa: E731
    assert utc(prof.first_seen_at.iloc[0]) == pd.Timestamp("2024-01-01", tz="UTC")
    assert utc(prof.last_seen_at.iloc[0]) == pd.Timestamp("2024-01-10", tz="UTC")
    assert m.profile_id.iloc[0].startswith("p") and len(m.profile_id.iloc[0]) == 21


def test_household_device_keeps_two_people_apart(world):
    world.load(events=[
        event("identify", user_id="U1", anonymous_id="A1", device_id="TV"),
        event("identify", user_id="U2", anonymous_id="A2", device_id="TV"),
        event("track", anonymous_id="A3", device_id="TV"),  # browsing nobody can be sure of
    ])
    world.resolve()
    assert world.pid("user_id", "U1") != world.pid("user_id", "U2")
    assert world.pid("anonymous_id", "A1") == world.pid("user_id", "U1")
    assert world.pid("anonymous_id", "A2") == world.pid("user_id", "U2")
    assert world.shared("device_id", "TV")
    assert world.pid("anonymous_id", "A3") not in {world.pid("user_id", "U1"), world.pid("user_id", "U2")}


def test_shop_tablet_on_fifty_people_merges_nobody(world):
    events = [event("identify", user_id=f"U{i}", anonymous_id=f"A{i}", device_id="TABLET") for i in range(50)]
    events += [event("identify", user_id="U0", email="E0")]
    world.load(events=events)
    result = world.resolve()
    m = world.map()
    assert world.shared("device_id", "TABLET")
    people = m[~m.is_shared]
    assert people.profile_id.nunique() == 50
    assert world.pid("email", "E0") == world.pid("user_id", "U0") == world.pid("anonymous_id", "A0")
    assert result.shared == 1 and result.candidates == 1
    edges = world.wh.execute(world.wh.table("identity_edges"))
    tablet = edges[(edges.key_a == "TABLET") | (edges.key_b == "TABLET")]
    assert len(tablet) == 100 and not tablet.used.any()


def test_placeholder_email_on_twenty_records_merges_nobody(world):
    rows = [customer("crm", f"r{i}", crm_id=f"C{i}", email="NONE", phone=f"P{i}") for i in range(20)]
    world.load(customers=rows)
    world.resolve()
    m = world.map()
    assert world.shared("email", "NONE")
    assert m[~m.is_shared].profile_id.nunique() == 20
    assert world.pid("crm_id", "C3") == world.pid("phone", "P3")
    assert world.pid("email", "NONE").startswith("s")


def test_heavy_real_person_is_not_shared(world):
    # 2 e-mails, 2 phones, 3 devices, 4 anonymous ids: within every limit
    rows = [customer("crm", "c", crm_id="C", email="E1", phone="P1"), customer("web", "w", user_id="U", email="E2",
                                                                                phone="P2", crm_id="C")]
    events = [event("identify", user_id="U", anonymous_id=f"A{i}", device_id=f"D{i % 3}") for i in range(4)]
    # one phone seen with 8 anonymous ids over the years (cookies cleared), every one identified as U
    events += [event("identify", user_id="U", anonymous_id=f"OLD{i}", phone="P1") for i in range(8)]
    # an e-mail on 7 web accounts of one person, the accounts also chained together by phones
    rows += [customer("web", f"x{i}", user_id=f"X{i}", email="E1", phone=f"Q{i}") for i in range(7)]
    rows += [customer("app", f"y{i}", user_id=f"X{i + 1}", phone=f"Q{i}") for i in range(6)]
    world.load(customers=rows, events=events)
    result = world.resolve()
    m = world.map()
    assert not m.is_shared.any() and m.profile_id.nunique() == 1
    assert result.candidates == 1  # E1 (7 user ids, 8 phones), cleared: they are one person without it


def test_placeholders_on_the_same_records_vouch_for_nobody(world):
    rows = [customer("crm", f"r{i}", crm_id=f"C{i}", email="NONE", phone="000") for i in range(8)]
    world.load(customers=rows)
    world.resolve()
    assert world.shared("email", "NONE") and world.shared("phone", "000")
    assert world.map()[lambda m: ~m.is_shared].profile_id.nunique() == 8


def test_alias_and_identify_stitch_anonymous_browsing(world):
    world.load(events=[
        event("page", anonymous_id="A1"),
        event("track", anonymous_id="A1", device_id="D1"),
        event("identify", user_id="U1", anonymous_id="A1", email="E1"),
        event("alias", previous_id="U0", user_id="U1"),
        event("page", anonymous_id="A9", user_id="U0"),
    ])
    world.resolve()
    p = world.pid("user_id", "U1")
    assert {world.pid(k, v) for k, v in [("anonymous_id", "A1"), ("device_id", "D1"), ("email", "E1"),
                                          ("user_id", "U0"), ("anonymous_id", "A9")]} == {p}


def test_bot_events_are_ignored(world):
    world.load(events=[
        event("identify", user_id="U1", anonymous_id="A1"),
        event("identify", user_id="U2", anonymous_id="A2"),
        event("identify", user_id="U1", anonymous_id="A2", flags="bot"),
        event("track", user_id="U2", anonymous_id="A1", flags="abnormal_frequency,bot"),
    ])
    world.resolve()
    assert world.pid("user_id", "U1") != world.pid("user_id", "U2")
    assert world.pid("anonymous_id", "A2") == world.pid("user_id", "U2")


def test_probabilistic_rule_links_typo_record_only_with_same_birth_date(world):
    same = dict(name_key="N1", postcode="200001", city="Shanghai")
    world.load(customers=[
        customer("crm", "c1", crm_id="C1", email="alice", birth_date="1990-05-01", **same),
        customer("web", "w1", user_id="U1", email="alcie", birth_date="1990-05-01", **same),  # typo'd e-mail
        customer("web", "w2", user_id="U2", email="alice2", birth_date="1990-05-02", **same),  # other birthday
        customer("web", "w3", user_id="U3", email="x", birth_date="1990-05-01", postcode="200001"),  # no name
    ])
    world.resolve()
    assert world.pid("email", "alcie") == world.pid("crm_id", "C1")
    assert world.pid("user_id", "U2") != world.pid("crm_id", "C1")
    assert world.pid("user_id", "U3") != world.pid("crm_id", "C1")
    edges = world.wh.execute(world.wh.table("identity_edges"))
    matched = edges[edges.rule != "deterministic"]
    assert set(matched.rule) <= {"name_dob_postcode", "name_dob_city"} and len(matched) >= 1
    assert matched.evidence.str.contains("customers:web/w1").all()


def test_rebuild_with_nothing_changed_gives_identical_map(world):
    world.load(**_person_over_channels())
    world.load(customers=[customer("crm", "c2", crm_id="C2", email="F1")])
    world.resolve()
    before = world.map()
    result = world.resolve()
    assert world.map().equals(before)
    assert result.profile_ids_kept == 2


def test_new_record_keeps_ids_and_merge_keeps_larger(world):
    world.load(customers=[
        customer("crm", "a1", crm_id="CA", email="EA", phone="PA"),
        customer("crm", "b1", crm_id="CB", email="EB"),
        customer("crm", "c1", crm_id="CC", email="EC"),
    ])
    world.resolve()
    a, b, c = (world.pid("crm_id", k) for k in ("CA", "CB", "CC"))
    # a new record for person B: nobody's id changes
    world.load(customers=[customer("web", "b2", user_id="UB", email="EB")])
    world.resolve()
    assert (world.pid("crm_id", "CA"), world.pid("crm_id", "CB"), world.pid("crm_id", "CC")) == (a, b, c)
    assert world.pid("user_id", "UB") == b
    # evidence merges A (3 identifiers) with C (2): the merged profile keeps A's id
    world.load(orders=[order("o1", crm_id="CC", phone="PA")])
    world.resolve()
    assert world.pid("crm_id", "CC") == world.pid("crm_id", "CA") == a
    assert world.pid("crm_id", "CB") == b


def test_split_keeps_id_with_larger_part(world):
    world.load(customers=[
        customer("crm", "a1", crm_id="CA", email="EA", phone="PA"),
        customer("web", "x", user_id="UX", email="EA"),
    ])
    world.load(customers=[customer("web", f"n{i}", user_id=f"UN{i}", email="NOBODY") for i in range(3)])
    world.load(customers=[customer("web", "n9", user_id="UX", email="NOBODY")])
    world.resolve()
    before = world.pid("crm_id", "CA")
    assert world.pid("user_id", "UN0") == before  # NOBODY is not yet over the limit of 5
    world.load(customers=[customer("web", f"m{i}", user_id=f"UM{i}", email="NOBODY") for i in range(5)])
    world.resolve()
    assert world.shared("email", "NOBODY")
    assert world.pid("crm_id", "CA") == before
    assert world.pid("user_id", "UN0") != before
    assert world.map()[lambda m: ~m.is_shared].groupby("profile_id").size().max() == 4


def test_explain_shows_the_path(world):
    world.load(**_person_over_channels())
    world.load(events=[event("identify", user_id=f"Z{i}", device_id="D1") for i in range(3)])
    world.resolve()
    pid = world.pid("wechat_openid", "W1")
    assert profile_for(world.wh, "wechat_openid", "W1") == pid
    assert profile_for(world.wh, "email", "nobody") is None
    ex = explain(world.wh, pid)
    path = ex.path(("wechat_openid", "W1"), ("anonymous_id", "A1"))
    assert path[0].evidence == "customers:wechat/x1" and path[-1].evidence.startswith("events:")
    assert len(path) == 3  # W1 - P2 - U1 - A1
    assert ("device_id", "D1") in ex.shared
    text = ex.render()
    assert pid in text and "customers:wechat/x1" in text and "shared identifiers" in text
    d = ex.to_dict()
    assert d["profile_id"] == pid and len(d["identifiers"]) == len(ex.identifiers)


def test_every_identifier_is_mapped_even_from_bot_rows_and_consents(world):
    world.load(events=[event("track", anonymous_id="BOT1", flags="bot")])
    world.wh.append("consents", pd.DataFrame([{
        "email": "EC", "channel": "email", "purpose": "marketing", "status": "granted",
        "recorded_at": pd.Timestamp("2024-01-01", tz="UTC"), "source": "crm", "load_id": "l1", "quality_flags": "",
    }]))
    world.resolve()
    m = world.map()
    assert set(m.key) == {"BOT1", "EC"}
