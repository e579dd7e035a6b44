"""Shape, determinism, identifier truth and planted messiness of the simulated world."""

from __future__ import annotations

import hashlib
import math

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from jingzhun.errors import ConfigError
from jingzhun.sim import SOURCE_FILES, TRUTH_FILES, SimOptions, simulate

COLUMNS = {
    "stores.csv": ["store_id", "name", "city", "region", "country", "latitude", "longitude", "opened_at"],
    "products.csv": ["product_id", "name", "category_path", "category", "brand", "price", "currency",
                     "is_consumable", "repurchase_days", "in_stock"],
    "customers.csv": ["record_id", "system", "user_id", "email", "phone", "device_id", "wechat_openid", "crm_id",
                      "loyalty_card", "name", "gender", "birth_date", "city", "region", "country", "postcode",
                      "latitude", "longitude", "signed_up_at", "education", "occupation", "marital_status"],
    "orders.parquet": ["order_id", "user_id", "crm_id", "loyalty_card", "phone", "wechat_openid", "ordered_at",
                       "channel", "store_id", "country", "currency", "amount", "discount", "coupon_code", "status",
                       "is_return", "n_lines"],
    "order_lines.parquet": ["order_id", "line_no", "product_id", "quantity", "unit_price", "discount", "amount",
                            "is_return"],
    "events.parquet": ["message_id", "type", "event", "user_id", "anonymous_id", "previous_id", "email", "phone",
                       "device_id", "timestamp", "channel", "properties", "context"],
    "consents.csv": ["user_id", "email", "phone", "channel", "purpose", "status", "recorded_at"],
    "reviews.csv": ["review_id", "user_id", "product_id", "rating", "text", "created_at"],
    "referrals.csv": ["referrer_user_id", "referred_user_id", "referred_at"],
}
# source file -> {column: identifier kind}
ID_COLUMNS = {
    "customers.csv": {k: k for k in ("record_id", "user_id", "email", "phone", "device_id", "wechat_openid",
                                     "crm_id", "loyalty_card")},
    "orders.parquet": {k: k for k in ("user_id", "crm_id", "loyalty_card", "phone", "wechat_openid")},
    "events.parquet": {"user_id": "user_id", "anonymous_id": "anonymous_id", "previous_id": "anonymous_id",
                       "email": "email", "phone": "phone", "device_id": "device_id"},
    "consents.csv": {"user_id": "user_id", "email": "email", "phone": "phone"},
    "reviews.csv": {"user_id": "user_id"},
    "referrals.csv": {"referrer_user_id": "user_id", "referred_user_id": "user_id"},
}


def read(folder, name) -> pd.DataFrame:
    path = folder / name
    if name.endswith(".csv"):
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    return pq.read_table(path).to_pandas()


def digest(folder) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_same_tables_and_bytes(tmp_path):
    a, b = simulate(1_000, seed=7), simulate(1_000, seed=7)
    for name in list(SOURCE_FILES) + list(TRUTH_FILES):
        assert getattr(a, name).equals(getattr(b, name)), name
    assert digest(a.write(tmp_path / "a")) == digest(b.write(tmp_path / "b"))


def test_other_seed_other_world():
    a, b = simulate(1_000, seed=7), simulate(1_000, seed=8)
    assert not a.customers.equals(b.customers)
    assert not a.orders.equals(b.orders)


def test_files_and_columns(world_dir):
    for name, columns in COLUMNS.items():
        assert list(read(world_dir, name).columns) == columns, name
    for rel in TRUTH_FILES.values():
        assert (world_dir / rel).is_file()
    assert (world_dir / "truth" / "params.json").is_file()


def test_counts_add_up(world, world_dir):
    persons = world.persons.to_pandas()
    assert len(persons) == 3_000 and persons.person_id.is_unique
    customers = read(world_dir, "customers.csv")
    assert customers.record_id.nunique() == world.records.num_rows == persons.n_records.sum()
    orders = world.orders.to_pandas()
    lines = world.order_lines.to_pandas()
    assert orders.order_id.is_unique
    assert (~orders.is_return).sum() == persons.n_purchases.sum()
    by_order = lines.groupby("order_id").amount.sum()
    assert np.allclose(orders.set_index("order_id").amount.loc[by_order.index], by_order, atol=0.05)
    assert (lines.groupby("order_id").size() == orders.set_index("order_id").n_lines.loc[by_order.index]).all()
    assert orders.is_return.sum() > 0 and (orders[orders.is_return].amount <= 0).all()
    start, end = pd.Timestamp(world.params["window"]["start"]), pd.Timestamp(world.params["window"]["end"])
    assert orders.ordered_at.min() >= start and orders.ordered_at.max() < end


def test_every_identifier_in_the_files_is_in_the_truth(world, world_dir):
    ids = world.identifiers.to_pandas()
    known = {(k, v) for k, v in zip(ids.kind, ids.value)}
    for name, cols in ID_COLUMNS.items():
        frame = read(world_dir, name)
        for column, kind in cols.items():
            values = set(frame[column].dropna())
            missing = {v for v in values if (kind, v) not in known}
            assert not missing, f"{name}.{column}: {len(missing)} values not in truth, e.g. {sorted(missing)[:3]}"


def test_identifiers_are_owned_by_one_person_unless_shared(world, world_dir):
    ids = world.identifiers.to_pandas()
    assert not ids.duplicated(["kind", "value"]).any()
    assert ids[ids.is_shared].person_id.isna().all()
    # from the files: each non-shared value on customer records belongs to a single true person
    customers = read(world_dir, "customers.csv").merge(world.records.to_pandas()[["record_id", "person_id"]])
    shared = set(zip(ids[ids.is_shared].kind, ids[ids.is_shared].value))
    for kind in ("email", "phone", "device_id", "user_id", "wechat_openid", "crm_id", "loyalty_card"):
        rows = customers[[kind, "person_id"]].dropna()
        rows = rows[[(kind, v) not in shared for v in rows[kind]]]
        assert (rows.groupby(kind).person_id.nunique() == 1).all(), kind
    # shared values are the planted ones: household devices, shop tablets, placeholders
    kinds = set(ids[ids.is_shared].kind)
    assert kinds <= {"device_id", "email", "phone"}
    tablets = set(world.params["shop_tablets"])
    tablet_rows = customers[customers.device_id.isin(tablets)]
    assert tablet_rows.person_id.nunique() >= 2


def _within(count: int, n: int, rate: float, sigmas: float = 4.0) -> bool:
    return abs(count - n * rate) <= sigmas * math.sqrt(n * rate * (1 - rate)) + 2


def test_messiness_rates(world, world_dir):
    opts = SimOptions()
    customers = read(world_dir, "customers.csv")
    truth = world.records.to_pandas()
    n = len(truth)
    assert _within(int(customers.duplicated().sum()), n, opts.duplicate_rate)
    placeholders = customers.drop_duplicates().email.isin(["none@none.com", "test@test.com"]) | \
        customers.drop_duplicates().phone.isin(["00000000000", "13800000000"])
    free = truth.email_kind.ne("second") & truth.phone_kind.ne("second")
    assert _within(int(placeholders.sum()), int(free.sum() * (1 - opts.email_typo_rate)), opts.placeholder_rate)
    assert _within(int((truth.email_kind == "typo").sum()), int(free.sum()), opts.email_typo_rate)
    with_phone = truth[truth.phone_kind.isin(["primary", "second"])]
    assert _within(int((with_phone.phone_style != "plain").sum()), len(with_phone), opts.phone_format_rate)
    with_email = truth[truth.email_kind != "none"]
    assert _within(int(with_email.email_cased.sum()), len(with_email), opts.email_case_rate)
    assert _within(int(with_email.email_spaced.sum()), len(with_email), opts.email_space_rate)
    # formats as documented
    phones = customers.phone.dropna()
    assert phones.str.fullmatch(r"\d{11}|\+86 \d{3} \d{4} \d{4}|0086-\d{3}-\d{4}-\d{4}|\d{3}-\d{4}-\d{4}").all()
    assert (customers.email.dropna().str.strip() != customers.email.dropna()).any()
    # the linkage guarantee: an altered e-mail comes with the primary phone, an altered phone with the primary e-mail
    assert (truth[truth.email_kind.isin(["second", "typo", "placeholder"])].phone_kind == "primary").all()
    assert (truth[truth.phone_kind.isin(["second", "placeholder"])].email_kind == "primary").all()
    persons = world.persons.to_pandas()
    assert persons.household_id.notna().mean() == pytest.approx(opts.household_rate, abs=0.03)


def test_bad_arguments_say_what_to_do():
    with pytest.raises(ConfigError, match="unknown sim option"):
        simulate(1_000, colour="red")
    with pytest.raises(ConfigError, match="between 0 and 1"):
        simulate(1_000, duplicate_rate=1.5)
    with pytest.raises(ConfigError, match="between"):
        simulate(10)
