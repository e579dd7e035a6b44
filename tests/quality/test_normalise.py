"""Normalisation: phones, e-mails, names and ids; the Python and Ibis twins agree."""

import ibis
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jingzhun.config import QualitySettings
from jingzhun.quality.normalise import (
    INVALID,
    PLACEHOLDER,
    normalise_column,
    normalise_email,
    normalise_id,
    normalise_identifiers,
    normalise_name,
    normalise_phone,
    normalise_value,
    problem_column,
)

# raw value, expected E.164 (None when rejected), expected problem
PHONES = [
    ("13800138000", "+8613800138000", None),
    ("138 0013 8000", "+8613800138000", None),
    ("138-0013-8000", "+8613800138000", None),
    ("138.0013.8000", "+8613800138000", None),
    ("+86 138-0013-8000", "+8613800138000", None),
    ("+86 (138) 0013 8000", "+8613800138000", None),
    ("0086 13800138000", "+8613800138000", None),
    ("008613800138000", "+8613800138000", None),
    ("86-13800138000", "+8613800138000", None),
    ("8613800138000", "+8613800138000", None),
    ("  +8613800138000\t", "+8613800138000", None),
    ("１３８００１３８０００", "+8613800138000", None),          # full-width digits
    ("+86 199 1234 5678", "+8619912345678", None),
    ("010-12345678", "+861012345678", None),                    # Beijing landline
    ("(010) 1234 5678", "+861012345678", None),
    ("021-87654321", "+862187654321", None),                    # Shanghai
    ("0755-8888 1234", "+8675588881234", None),                 # Shenzhen
    ("+86 0755 88881234", "+8675588881234", None),              # trunk zero after the code
    ("0571-8888888", "+865718888888", None),                    # 7-digit local number
    ("+44 20 7946 0958", "+442079460958", None),                # London
    ("0044 20 7946 0958", "+442079460958", None),
    ("+1 (415) 555-2671", "+14155552671", None),                # San Francisco
    ("+852 9123 4567", "+85291234567", None),                   # Hong Kong mobile
    ("+81 90-1234-5678", "+819012345678", None),                # Japan mobile
    ("+49 30 901820", "+4930901820", None),                     # Berlin
    ("00000000000", None, PLACEHOLDER),
    ("13800000000", None, PLACEHOLDER),
    ("139 1111 1111", None, PLACEHOLDER),
    ("11111111111", None, PLACEHOLDER),
    ("+86 0000 0000 000", None, PLACEHOLDER),
    ("N/A", None, PLACEHOLDER),
    ("无", None, PLACEHOLDER),
    ("12345", None, INVALID),                                   # too short
    ("1380013800", None, INVALID),                              # a mobile one digit short
    ("138001380001", None, INVALID),                            # one digit long
    ("12800138000", None, INVALID),                             # no such mobile prefix
    ("+12345678901234567", None, INVALID),                      # beyond E.164's 15 digits
    ("call me", None, INVALID),
    ("138-0013-8000 ext 12", None, INVALID),
    ("+86 138 0013 800x", None, INVALID),
    ("", None, None),
    ("   ", None, None),
    ("--", None, PLACEHOLDER),
    (None, None, None),
]

EMAILS = [
    ("Li.Wei@Shop.CN", "li.wei@shop.cn", None),
    ("  zhang_san+shop@qq.com ", "zhang_san+shop@qq.com", None),
    ("wang@163.com.", "wang@163.com", None),                      # trailing dot
    ("ｗａｎｇ＠１６３．ｃｏｍ", "wang@163.com", None),             # full-width
    ("o'neil@mail.co.uk", "o'neil@mail.co.uk", None),
    ("none@none.com", None, PLACEHOLDER),
    ("test@test.com", None, PLACEHOLDER),
    ("noemail@shop.cn", None, PLACEHOLDER),
    ("no-email@gmail.com", None, PLACEHOLDER),
    ("a@a.com", None, PLACEHOLDER),
    ("someone@example.com", None, PLACEHOLDER),
    ("NULL", None, PLACEHOLDER),
    ("li.wei", None, INVALID),
    ("li wei@qq.com", None, INVALID),
    ("li@@qq.com", None, INVALID),
    ("li@qq", None, INVALID),
    ("li..wei@qq.com", None, INVALID),
    (".li@qq.com", None, INVALID),
    ("李伟@qq.com", None, INVALID),
    ("li@-qq.com", None, INVALID),
    ("", None, None),
    (None, None, None),
]

NAMES = [
    ("  john   smith ", "John Smith"),
    ("JOHN SMITH", "John Smith"),
    ("mary-jane o'neil", "Mary-jane O'neil"),
    ("John McDonald", "John McDonald"),      # mixed case kept
    ("张三", "张三"),
    (" 欧阳\u3000娜娜 ", "欧阳 娜娜"),
    ("ＪＯＨＮ", "John"),
    ("José Álvarez", "José Álvarez"),
    ("", None),
    (None, None),
]


@pytest.mark.parametrize("raw,value,problem", PHONES)
def test_phone_python(raw, value, problem):
    assert normalise_phone(raw) == (value, problem)


@pytest.mark.parametrize("raw,value,problem", EMAILS)
def test_email_python(raw, value, problem):
    assert normalise_email(raw) == (value, problem)


@pytest.mark.parametrize("raw,value", NAMES)
def test_name_python(raw, value):
    assert normalise_name(raw) == (value, None)


def test_phone_default_country_code():
    assert normalise_phone("020 7946 0958", "44") == ("+442079460958", None)
    assert normalise_phone("+8613800138000", "44") == ("+8613800138000", None)
    assert normalise_phone("86-13800138000", "1") == ("+8613800138000", None)


def test_id_python():
    assert normalise_id("  AB-1 ") == ("AB-1", None)
    assert normalise_id("   ") == (None, None)
    assert normalise_id(None) == (None, None)


def _none(v):
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v


def _frame(values):
    return pd.DataFrame({"i": range(len(values)), "v": pd.Series(values, dtype="object")})


def _collect(got):
    return [(_none(a), _none(b)) for a, b in zip(got.v, got.problem)]


def _run(warehouse, values, kind):
    t = warehouse.stage(_frame(values))
    return _collect(warehouse.execute(normalise_column(t, "v", kind, problem="problem").order_by("i")))


def test_phone_table_on_engine(warehouse):
    got = _run(warehouse, [p[0] for p in PHONES], "phone")
    assert got == [(p[1], p[2]) for p in PHONES]


def test_email_table_on_engine(warehouse):
    got = _run(warehouse, [e[0] for e in EMAILS], "email")
    assert got == [(e[1], e[2]) for e in EMAILS]


def test_name_and_id_table_on_engine(warehouse):
    got = _run(warehouse, [n[0] for n in NAMES], "name")
    assert got == [(n[1], None) for n in NAMES]
    ids = ["  AB-1 ", "", "\u3000x\u3000", None]
    assert _run(warehouse, ids, "id") == [normalise_id(v) for v in ids]


def test_normalise_identifiers_picks_the_right_normaliser(warehouse):
    staged = warehouse.stage(pd.DataFrame({
        "record_id": [" r1 ", "r2"], "email": ["A@QQ.COM", "none@none.com"], "phone": ["138 0013 8000", "123"],
        "crm_id": ["  ", "C9"], "name": ["LI  WEI", "王 五"], "city": ["  上海 ", None],
    }))
    out = normalise_identifiers("customers", staged, settings=QualitySettings(), problems=True)
    got = warehouse.execute(out.order_by("record_id"))
    assert got.record_id.tolist() == ["r1", "r2"]
    assert [_none(v) for v in got.email] == ["a@qq.com", None]
    assert [_none(v) for v in got.phone] == ["+8613800138000", None]
    assert [_none(v) for v in got.crm_id] == [None, "C9"]
    assert got.name.tolist() == ["Li Wei", "王 五"]
    assert got.city.tolist()[0] == "  上海 "                       # not an identifier: untouched
    assert [_none(v) for v in got[problem_column("email")]] == [None, PLACEHOLDER]
    assert [_none(v) for v in got[problem_column("phone")]] == [None, INVALID]


_phone_chars = st.sampled_from(list("0123456789+-. ()/86１３０\t") + ["00", "86", "138", " ", "\u3000", "\n", "x"])
_email_chars = st.sampled_from(list("abAB.@_-+'1 ") + ["@", "qq", ".com", ".", "none", "test", "＠", "\n", "\u2028", "é"])
_name_chars = st.sampled_from(list("abcABC '-.") + ["张", "三", "\u3000", "Ｊ", "  ", "\t", "é"])


_DUCK = ibis.duckdb.connect()


def _twins_agree(values, kind):
    t = ibis.memtable(_frame(values))
    got = _collect(_DUCK.execute(normalise_column(t, "v", kind, problem="problem").order_by("i")))
    assert got == [tuple(normalise_value(kind, v)) for v in values]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_phone_chars, max_size=18).map("".join), min_size=1, max_size=30))
def test_phone_twins_agree(values):
    _twins_agree(values, "phone")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.lists(_email_chars, max_size=12).map("".join), st.emails()), min_size=1, max_size=30))
def test_email_twins_agree(values):
    _twins_agree(values, "email")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.lists(_name_chars, max_size=10).map("".join), st.text(max_size=8)), min_size=1, max_size=30))
def test_name_and_id_twins_agree(values):
    _twins_agree(values, "name")
    _twins_agree(values, "id")
