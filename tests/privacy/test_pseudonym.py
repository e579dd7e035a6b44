import ibis
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from jingzhun.privacy import key_expr, key_for, pseudonymise

SECRET = "0" * 64


def test_key_depends_on_kind_and_secret():
    assert key_for("email", "a@b.cn", SECRET) != key_for("user_id", "a@b.cn", SECRET)
    assert key_for("email", "a@b.cn", SECRET) != key_for("email", "a@b.cn", "1" * 64)
    assert len(key_for("email", "a@b.cn", SECRET)) == 24
    assert key_for("email", None, SECRET) is None


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=20))
def test_python_and_duckdb_keys_agree(values):
    t = ibis.memtable(pd.DataFrame({"v": values}))
    got = ibis.duckdb.connect().execute(t.select(k=key_expr("phone", t.v, SECRET)))["k"].tolist()
    assert got == [key_for("phone", v, SECRET) for v in values]


def test_keys_are_identical_on_both_engines(warehouse):
    df = pd.DataFrame({"v": ["a@x.cn", None, "", "张三", "+8613800138000"]})
    t = warehouse.stage(df)
    got = warehouse.execute(t.select("v", k=key_expr("email", t.v, SECRET)))
    expected = {v: key_for("email", v or None, SECRET) for v in df.v if v is not None}
    for v, k in zip(got.v, got.k):
        if v is None or pd.isna(v):
            assert k is None or pd.isna(k)
        else:
            assert (None if pd.isna(k) else k) == expected[v]


def test_pseudonymise_moves_personal_values_to_the_vault(warehouse):
    staged = warehouse.stage(pd.DataFrame({
        "record_id": ["r1", "r2"], "email": ["a@x.cn", "a@x.cn"], "phone": ["+8613800138000", None],
        "name": ["张三", "Li Si"], "city": ["上海", "北京"],
    }))
    out = pseudonymise("customers", staged, SECRET)
    rows = warehouse.execute(out.rows.order_by("city"))
    assert "name" not in rows.columns
    assert set(rows.email) == {key_for("email", "a@x.cn", SECRET)}
    assert rows.name_key.tolist() == [key_for("name", "张三", SECRET), key_for("name", "Li Si", SECRET)]
    vault = warehouse.execute(out.vault)
    assert set(vault.kind) == {"email", "phone", "name"}   # record ids are not personal values
    assert len(vault) == 4                                  # the e-mail once: distinct
    assert "上海" not in set(vault.value)
