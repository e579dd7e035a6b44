"""The grammar, case by case: text -> canonical text, or the error type and its position."""

from __future__ import annotations

import pytest

from jingzhun.segment import AudienceSyntaxError, AudienceTypeError, Catalog, UnknownNameError, parse

CATALOG = Catalog(
    fields={"gender": "string", "age": "number", "city": "string", "is_member": "boolean",
            "birth_date": "date", "signed_up_at": "timestamp", "latitude": "number", "longitude": "number",
            "nearest_store": "string", "recency_days": "number"},
    tags={"vip", "dormant", "new_customer", "it's"}, scores={"clv_12m", "p_alive"},
    events={"Product Viewed", "Order Completed", "Signed Up"}, categories={"skincare", "makeup"},
    products={"SKU1"}, brands={"Acme"}, stores={"S001", "S002"},
)

# text -> canonical text (same text when None)
OK = {
    # literals and comparisons
    "gender = 'F'": None,
    "gender='F'": "gender = 'F'",
    "gender = 'O''Brien'": None,
    "gender = ''": None,
    "gender <> 'F'": "gender != 'F'",
    "gender != 'F'": None,
    "age < 30": None, "age <= 30": None, "age > 30": None, "age >= 30": None,
    "age = 30.0": "age = 30",
    "age = 30.5": None,
    "age > -3": None,
    "age > 1e3": "age > 1000",
    "age > 1.5e-3": "age > 0.0015",
    "age>=18": "age >= 18",
    "is_member = true": None,
    "is_member = FALSE": "is_member = false",
    "birth_date < '1990-01-01'": None,
    "signed_up_at >= '2024-01-01'": None,
    "signed_up_at >= '2024-01-01 08:30:00'": None,
    "city = '上海'": None,
    "city = 'a;b--c/*d*/'": None,
    "city = '\\'": None,
    "city = '＇'": None,
    # between / in / contains / starts with / null
    "age between 25 and 30": None,
    "age BETWEEN 25 AND 30": "age between 25 and 30",
    "birth_date between '1990-01-01' and '1999-12-31'": None,
    "city in ('Shanghai')": None,
    "city in ('Shanghai','Beijing')": "city in ('Shanghai', 'Beijing')",
    "city not in ('Shanghai', 'Beijing')": None,
    "age in (1, 2, 3)": None,
    "city contains 'hai'": None,
    "city starts with 'Shang'": None,
    "city STARTS WITH 'Shang'": "city starts with 'Shang'",
    "city is null": None, "city is not null": None, "city IS NOT NULL": "city is not null",
    "score('clv_12m') is null": None,
    # logic and precedence
    "gender = 'F' and age > 30": None,
    "gender = 'F' or age > 30": None,
    "gender = 'F' and age > 30 or city = 'X'": None,
    "gender = 'F' and (age > 30 or city = 'X')": None,
    "(gender = 'F' and age > 30) or city = 'X'": "gender = 'F' and age > 30 or city = 'X'",
    "not gender = 'F'": None,
    "not (gender = 'F' and age > 30)": None,
    "not gender = 'F' and age > 30": None,
    "not not tag('vip')": None,
    "((gender = 'F'))": "gender = 'F'",
    "age = 1 and (city = 'b' and gender = 'c')": "age = 1 and city = 'b' and gender = 'c'",
    "(age = 1 or city = 'b') or gender = 'c'": "age = 1 or city = 'b' or gender = 'c'",
    "gender = 'F' AND age > 30 Or tag('vip')": "gender = 'F' and age > 30 or tag('vip')",
    # Chinese keywords
    "gender = 'F' 且 age > 30": "gender = 'F' and age > 30",
    "gender = 'F' 并且 age > 30": "gender = 'F' and age > 30",
    "gender = 'F' 或 age > 30": "gender = 'F' or age > 30",
    "非 tag('vip')": "not tag('vip')",
    "不 tag('vip')": "not tag('vip')",
    "gender='F'且age>30": "gender = 'F' and age > 30",
    # tags and scores
    "tag('vip')": None, "TAG('vip')": "tag('vip')", "has tag 'vip'": "tag('vip')",
    "HAS TAG 'vip'": "tag('vip')", "tag('it''s')": None,
    "score('clv_12m') > 500": None, "score('p_alive') between 0.1 and 0.3": None,
    "p_alive < 0.3": None,
    "score('clv_12m') in (1, 2)": None,
    # events
    "did 'Product Viewed'": None,
    "DID 'Product Viewed'": "did 'Product Viewed'",
    "did not 'Product Viewed'": None,
    "not did 'Product Viewed'": None,
    "did 'Product Viewed' in last 30 days": None,
    "did 'Product Viewed' in the last 30 days": "did 'Product Viewed' in last 30 days",
    "did 'Product Viewed' in last 1 day": "did 'Product Viewed' in last 1 days",
    "did 'Product Viewed' in last 2 weeks": "did 'Product Viewed' in last 14 days",
    "did 'Product Viewed' in last 6 hours": None,
    "did 'Product Viewed' at least 2 times": None,
    "did 'Product Viewed' at least once": "did 'Product Viewed' at least 1 time",
    "did 'Product Viewed' at most twice": "did 'Product Viewed' at most 2 times",
    "did 'Product Viewed' exactly 3 times": None,
    "did 'Product Viewed' exactly 0 times": None,
    "did 'Product Viewed' at least 2 times in last 30 days": None,
    "did 'Product Viewed' in last 30 days at least 2 times": "did 'Product Viewed' at least 2 times in last 30 days",
    "did 'Product Viewed' between '2024-01-01' and '2024-01-31'": None,
    "did 'Product Viewed' before '2024-01-01'": None,
    "did 'Product Viewed' after '2024-01-01'": None,
    "did 'Product Viewed' where category = 'skincare'": None,
    "did 'Product Viewed' where category = 'skincare' and price > 100": None,
    "did 'Product Viewed' where category in ('a', 'b') at least 2 times": None,
    "did 'Product Viewed' where price between 1 and 2 in last 3 days": None,
    "did 'Product Viewed' where coupon is null": None,
    "did 'Product Viewed' where name contains 'x'": None,
    "did 'Product Viewed' where name starts with 'x'": None,
    "did 'Product Viewed' where category not in ('a')": None,
    "did 'Product Viewed' where category = 'skincare' at least 2 times in last 30 days and not tag('dormant')": None,
    "(did 'Product Viewed' where category = 'a') and age > 3": None,
    "did 'Product Viewed' where category = 'a' and not tag('vip')": "(did 'Product Viewed' where category = 'a') and not tag('vip')",
    "did 'Product Viewed' where category = 'a' or tag('vip')": None,
    "age > 3 and did 'Product Viewed' where category = 'a'": "age > 3 and (did 'Product Viewed' where category = 'a')",
    "did 'Product Viewed' where category = 'a' and did 'Signed Up'": "(did 'Product Viewed' where category = 'a') and did 'Signed Up'",
    "first did 'Order Completed' in last 30 days": None,
    "last did 'Order Completed' before '2024-01-01'": None,
    "LAST DID 'Order Completed' after '2024-01-01'": "last did 'Order Completed' after '2024-01-01'",
    "first did 'Order Completed' where total > 100 between '2024-01-01' and '2024-02-01'": None,
    "did 'Order Completed' where total = 1.5": None,
    "did 'Signed Up' where vip = true": None,
    # purchases
    "bought category 'skincare'": None,
    "bought category 'skincare' in last 90 days": None,
    "bought category 'skincare' in last 90 days at least 2 times": "bought category 'skincare' at least 2 times in last 90 days",
    "bought product 'SKU1'": None,
    "bought brand 'Acme'": None,
    "never bought category 'skincare'": None,
    "NEVER BOUGHT category 'skincare'": "never bought category 'skincare'",
    "bought category 'skincare' but not category 'makeup'": None,
    "bought category 'skincare' but not brand 'Acme' in last 30 days": None,
    "bought at least 3 times": None,
    "bought": None,
    "never bought": None,
    "bought in last 30 days": None,
    "bought between '2024-01-01' and '2024-01-31'": None,
    # geography
    "within 5 km of store 'S001'": None,
    "within 2.5 km of store 'S001'": None,
    "within 3 km of point(31.23, 121.47)": None,
    "within 3 KM OF POINT(31.23,121.47)": "within 3 km of point(31.23, 121.47)",
    "within 3 km of point(-33.9, 18.4)": None,
    "nearest store = 'S001'": "nearest_store = 'S001'",
    "not within 5 km of store 'S001'": None,
}

# text -> (error type, position)
SYNTAX = {
    "": (AudienceSyntaxError, 0),
    "   ": (AudienceSyntaxError, 3),
    "gender = 'F'; DROP TABLE profiles": (AudienceSyntaxError, 12),
    "gender = 'F' -- comment": (AudienceSyntaxError, 13),
    "gender = 'F' /* x */": (AudienceSyntaxError, 13),
    "gender = \"F\"": (AudienceSyntaxError, 9),
    "gender = ＇F＇": (AudienceSyntaxError, 9),
    "gender = ‘F’": (AudienceSyntaxError, 9),
    "gеnder = 'F'": (AudienceSyntaxError, 1),
    "ａｇｅ > 3": (AudienceSyntaxError, 0),
    "age ＞ 3": (AudienceSyntaxError, 4),
    "gender = 'F": (AudienceSyntaxError, 9),
    "gender == 'F'": (AudienceSyntaxError, 7),
    "gender = 'F' && age > 3": (AudienceSyntaxError, 13),
    "gender = 'F' || age > 3": (AudienceSyntaxError, 13),
    "!tag('vip')": (AudienceSyntaxError, 0),
    "age \\ 3": (AudienceSyntaxError, 4),
    "gender 'F'": (AudienceSyntaxError, 7),
    "gender =": (AudienceSyntaxError, 8),
    "gender = F": (AudienceSyntaxError, 9),
    "age between 1": (AudienceSyntaxError, 13),
    "age between 1 or 2": (AudienceSyntaxError, 14),
    "city in 'a'": (AudienceSyntaxError, 8),
    "city in ()": (AudienceSyntaxError, 9),
    "city in ('a',)": (AudienceSyntaxError, 13),
    "city in ('a'": (AudienceSyntaxError, 12),
    "city is 'a'": (AudienceSyntaxError, 8),
    "city is not 'a'": (AudienceSyntaxError, 12),
    "city not between 1 and 2": (AudienceSyntaxError, 5),
    "city starts 'a'": (AudienceSyntaxError, 12),
    "(gender = 'F'": (AudienceSyntaxError, 13),
    "gender = 'F')": (AudienceSyntaxError, 12),
    "gender = 'F' age > 3": (AudienceSyntaxError, 13),
    "gender = 'F' and": (AudienceSyntaxError, 16),
    "and gender = 'F'": (AudienceSyntaxError, 0),
    "or": (AudienceSyntaxError, 0),
    "not": (AudienceSyntaxError, 3),
    "tag(vip)": (AudienceSyntaxError, 4),
    "tag('vip'": (AudienceSyntaxError, 9),
    "has 'vip'": (AudienceSyntaxError, 4),
    "score(clv) > 3": (AudienceSyntaxError, 6),
    "score('clv') 3": (AudienceSyntaxError, 13),
    "did 'X' at 2 times": (AudienceSyntaxError, 11),
    "did 'X' at least 2": (AudienceSyntaxError, 18),
    "did 'X' at least -2 times": (AudienceSyntaxError, 17),
    "did 'X' at least 1.5 times": (AudienceSyntaxError, 17),
    "did 'X' in last days": (AudienceSyntaxError, 16),
    "did 'X' in last 0 days": (AudienceSyntaxError, 16),
    "did 'X' in last 3 months": (AudienceSyntaxError, 18),
    "did 'X' before '2024-13-01'": (AudienceSyntaxError, 15),
    "did 'X' before '01/02/2024'": (AudienceSyntaxError, 15),
    "did 'X' between '2024-02-01' and '2024-01-01'": (AudienceSyntaxError, 8),
    "did 'X' in last 3 days in last 4 days": (AudienceSyntaxError, 23),
    "did 'X' at least 1 time exactly 2 times": (AudienceSyntaxError, 24),
    "did X": (AudienceSyntaxError, 4),
    "did 'X' where": (AudienceSyntaxError, 13),
    "did 'X' where and": (AudienceSyntaxError, 14),
    "first did 'X'": (AudienceSyntaxError, 13),
    "first did 'X' at least 2 times in last 3 days": (AudienceSyntaxError, 14),
    "last did not 'X' in last 3 days": (AudienceSyntaxError, 9),
    "bought categories 'a'": (AudienceSyntaxError, 7),
    "bought category a": (AudienceSyntaxError, 16),
    "never bought category 'a' but not category 'b'": (AudienceSyntaxError, 26),
    "bought category 'a' but category 'b'": (AudienceSyntaxError, 24),
    "bought category 'a' but not 'b'": (AudienceSyntaxError, 28),
    "within km of store 'S1'": (AudienceSyntaxError, 7),
    "within 0 km of store 'S1'": (AudienceSyntaxError, 0),
    "within 5 of store 'S1'": (AudienceSyntaxError, 9),
    "within 5 km store 'S1'": (AudienceSyntaxError, 12),
    "within 5 km of 'S1'": (AudienceSyntaxError, 15),
    "within 5 km of point(91, 0)": (AudienceSyntaxError, 21),
    "within 5 km of point(0, 181)": (AudienceSyntaxError, 24),
    "within 5 km of point(0 0)": (AudienceSyntaxError, 23),
    "between = 3": (AudienceSyntaxError, 0),
    "gender = 'F' 年龄 > 3": (AudienceSyntaxError, 13),
    "gender = 'F'\x00": (AudienceSyntaxError, 12),
    "age > 1e999": (AudienceSyntaxError, 6),
}

CHECK = {
    "gendr = 'F'": (UnknownNameError, 0, "gender"),
    "Gender = 'F'": (UnknownNameError, 0, "gender"),
    "age > 3 and citty = 'x'": (UnknownNameError, 12, "city"),
    "tag('vipp')": (UnknownNameError, 4, "vip"),
    "has tag 'Dormant'": (UnknownNameError, 8, "dormant"),
    "score('clv12m') > 3": (UnknownNameError, 6, "clv_12m"),
    "p_alivee < 0.3": (UnknownNameError, 0, "p_alive"),
    "did 'Product View'": (UnknownNameError, 0, "Product Viewed"),
    "last did 'order completed' in last 3 days": (UnknownNameError, 0, "Order Completed"),
    "bought category 'skin care'": (UnknownNameError, 16, "skincare"),
    "bought brand 'acme'": (UnknownNameError, 13, "Acme"),
    "bought product 'SKU2'": (UnknownNameError, 15, "SKU1"),
    "bought category 'skincare' but not category 'makup'": (UnknownNameError, 44, "makeup"),
    "within 5 km of store 'S01'": (UnknownNameError, 0, "S001"),
    "age > 'abc'": (AudienceTypeError, 6, None),
    "gender = 1": (AudienceTypeError, 9, "'1'"),
    "gender = null": (AudienceTypeError, 9, "gender is null"),
    "gender != null": (AudienceTypeError, 10, "gender is not null"),
    "is_member = 'yes'": (AudienceTypeError, 12, None),
    "is_member > true": (AudienceTypeError, 0, None),
    "birth_date < '1990'": (AudienceTypeError, 13, None),
    "birth_date < 1990": (AudienceTypeError, 13, None),
    "signed_up_at > 'yesterday'": (AudienceTypeError, 15, None),
    "age between 1 and 'x'": (AudienceTypeError, 18, None),
    "city in ('a', 1)": (AudienceTypeError, 9, None),
    "age contains 'x'": (AudienceTypeError, 0, None),
    "city starts with 3": (AudienceTypeError, 0, None),
    "score('clv_12m') > 'high'": (AudienceTypeError, 19, None),
    "age in (null)": (AudienceTypeError, 8, None),
    "did 'Signed Up' where vip = null": (AudienceTypeError, 28, None),
}


@pytest.mark.parametrize("text,canonical", list(OK.items()))
def test_parses_to_canonical_text(text, canonical):
    node = parse(text)
    assert node.to_text() == (canonical or text)
    assert parse(node.to_text()) == node
    CATALOG.check(node, text)  # every accepted example names only known things


@pytest.mark.parametrize("text,expected", list(SYNTAX.items()))
def test_syntax_errors_point_at_the_problem(text, expected):
    kind, position = expected
    with pytest.raises(kind) as info:
        parse(text)
    assert info.value.position == position, str(info.value)
    assert "^" in str(info.value)


@pytest.mark.parametrize("text,expected", list(CHECK.items()))
def test_catalogue_errors_suggest_what_was_meant(text, expected):
    kind, position, suggestion = expected
    with pytest.raises(kind) as info:
        CATALOG.check(parse(text), text)
    assert info.value.position == position, str(info.value)
    if suggestion is not None:
        assert suggestion in info.value.suggestions, str(info.value)
        assert repr(suggestion) in str(info.value)


def test_there_are_many_cases():
    assert len(OK) + len(SYNTAX) + len(CHECK) >= 150


def test_messages_show_a_caret_under_the_position():
    with pytest.raises(UnknownNameError) as info:
        CATALOG.check(parse("age > 3 and citty = 'x'"), "age > 3 and citty = 'x'")
    lines = str(info.value).splitlines()
    assert lines[1].strip() == "age > 3 and citty = 'x'"
    assert lines[2].index("^") == lines[1].index("citty")
    assert "did you mean 'city'" in lines[0]


def test_bare_score_names_resolve_to_scores():
    node = CATALOG.check(parse("p_alive < 0.3"))
    assert node.to_text() == "score('p_alive') < 0.3"


def test_fingerprint_follows_meaning_not_spelling():
    a, b = parse("gender='F'  AND age>3"), parse("gender = 'F' and age > 3")
    assert a == b and hash(a) == hash(b) and a.fingerprint == b.fingerprint
    assert parse("age > 3").fingerprint != parse("age > 4").fingerprint
    assert parse("is_member = true") != parse("is_member = 1")
