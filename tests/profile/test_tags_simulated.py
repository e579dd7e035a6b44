"""The built-in library on a simulated shop: every tag compiles and most cover someone; memberships agree
with pandas over the same features; history between two builds is exactly the difference of the two
tag sets; DuckDB and PySpark give the same tags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from jingzhun.config import Settings
from jingzhun.identity import resolve
from jingzhun.pipeline import load_source
from jingzhun.pipeline.demo import write_simulation
from jingzhun.profile import build_features
from jingzhun.profile.tags import build_tags, load_library
from jingzhun.segment import Catalog
from jingzhun.warehouse import Warehouse

pytestmark = pytest.mark.slow

SECRET = "3c" * 32
EARLIER = "2024-09-30T16:00:00Z"
END = "2024-12-31T16:00:00Z"  # the end of the simulated window (local midnight in Shanghai)
COPIED = ("identity_map", "profiles", "profile_features", "customers", "orders", "order_lines", "products",
          "events", "stores", "scores")


def _tags(wh) -> pd.DataFrame:
    df = wh.execute(wh.table("tags").select("profile_id", "tag", "value", "reason"))
    return df.sort_values(["tag", "profile_id"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    root = tmp_path_factory.mktemp("tags-sim")
    mapping = write_simulation(root / "world", customers=2_000, seed=3)
    spec = yaml.safe_load(mapping.read_text(encoding="utf-8"))  # consents are not read by tags
    spec["files"] = [f for f in spec["files"] if f["table"] != "consents"]
    mapping.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    wh = Warehouse.duckdb(root / "w.duckdb")
    wh.ensure_schema()
    load_source(wh, mapping, secret=SECRET, settings=Settings())
    resolve(wh, Settings().identity)
    library = load_library(catalog=Catalog.from_warehouse(wh))
    build_features(wh, as_of=EARLIER, timezone="Asia/Shanghai", full=True)
    first = build_tags(wh, as_of=EARLIER, library=library)
    before = _tags(wh)
    build_features(wh, as_of=END, timezone="Asia/Shanghai", full=True)
    second = build_tags(wh, as_of=END, library=library)
    yield {"wh": wh, "library": library, "first": first, "second": second, "before": before, "after": _tags(wh)}
    wh.close()


def test_every_tag_compiles_and_most_cover_someone(shop):
    library, result = shop["library"], shop["second"]
    assert not library.inactive and result.active == result.tags == len(library) >= 40
    counts = shop["after"].groupby("tag").size()
    predictions = {t.name for t in library if t.family == "predictions"}
    behavioural = [t.name for t in library if t.name not in predictions]
    covered = [n for n in behavioural if counts.get(n, 0) > 0]
    assert len(covered) >= 0.9 * len(behavioural), sorted(set(behavioural) - set(covered))
    assert not predictions & set(counts.index)  # no model has written scores yet
    assert shop["after"].reason.notna().all() and (shop["after"].reason.str.len() > 0).all()


def test_memberships_agree_with_pandas(shop):
    wh = shop["wh"]
    pf = wh.execute(wh.table("profile_features"))
    tags = shop["after"]

    def members(name):
        return set(tags.profile_id[tags.tag == name])

    f = pf
    assert members("high_value") == set(f.profile_id[(f.monetary_total >= 2000) & (f.frequency >= 3)])
    assert members("dormant") == set(f.profile_id[(f.frequency >= 1) & (f.recency_days >= 365)])
    assert members("price_sensitive") == set(f.profile_id[(f.frequency >= 2) & (f.price_sensitivity >= 0.6)])
    active = (f.frequency >= 2) | (f.n_events >= 3)
    assert members("night_owl") == set(f.profile_id[f.peak_hour.isin([22, 23, 0, 1, 2, 3]) & active])
    assert members("weekend_shopper") == set(f.profile_id[f.peak_weekday.isin([5, 6]) & active])
    assert members("vip_at_risk") == members("high_value") & set(f.profile_id[f.recency_days > 120])

    buyers = f[f.frequency >= 1]
    cuts = np.quantile(buyers.monetary_total, [0.5, 0.8, 0.95], method="lower")
    assert shop["second"].cuts["value_tier"] == list(cuts)
    want = pd.cut(buyers.monetary_total, [-np.inf, *cuts, np.inf], right=False, labels=["low", "mid", "high", "top"])
    got = tags[tags.tag == "value_tier"].set_index("profile_id").value
    assert got.to_dict() == dict(zip(buyers.profile_id, want.astype(str)))

    has = f[f.recency_days.notna()]
    want = pd.cut(has.recency_days, [-np.inf, 30, 90, 180, 365, np.inf], right=False,
                  labels=["0-29d", "30-89d", "90-179d", "180-364d", "365d+"])
    got = tags[tags.tag == "recency"].set_index("profile_id").value
    assert got.to_dict() == dict(zip(has.profile_id, want.astype(str)))


def test_history_is_the_difference_of_the_two_builds(shop):
    wh = shop["wh"]
    before, after = shop["before"], shop["after"]
    h = wh.execute(wh.table("tag_history"))
    h["as_of"] = pd.to_datetime(h.as_of, utc=True)
    second = h[h.as_of == pd.Timestamp(END)]
    key = ["profile_id", "tag"]
    both = before.merge(after, on=key, how="outer", suffixes=("_before", "_after"), indicator=True)
    gained = both[both._merge == "right_only"]
    lost = both[both._merge == "left_only"]
    kept = both[both._merge == "both"]
    changed = kept[kept.value_before.fillna("\0") != kept.value_after.fillna("\0")]

    def pairs(df):
        return set(zip(df.profile_id, df.tag))

    assert pairs(second[second.change == "gained"]) == pairs(gained)
    assert pairs(second[second.change == "lost"]) == pairs(lost)
    assert pairs(second[second.change == "changed"]) == pairs(changed)
    assert len(gained) and len(lost) and len(changed)  # three months of behaviour cross thresholds
    assert (shop["second"].gained, shop["second"].lost, shop["second"].changed) == (
        len(gained), len(lost), len(changed))
    assert set(second.previous_as_of.map(lambda t: pd.Timestamp(t).isoformat()[:10])) == {"2024-09-30"}
    # active customers came and went; and every row of `tags` has its gain in the history
    assert {"gained", "lost"} <= set(second.change[second.tag == "active_customer"])
    assert len(h[h.change == "gained"]) - len(h[h.change == "lost"]) == len(after)


@pytest.mark.spark
def test_duckdb_and_pyspark_give_the_same_tags(shop, spark_session):
    duck = shop["wh"]
    spark = Warehouse.spark(spark_session, database="tags_parity")
    spark.ensure_schema()
    for name in COPIED:
        frame = duck.execute(duck.table(name))
        if len(frame):
            spark.append(name, frame)
    build_tags(spark, as_of=END, library=shop["library"])
    got = _tags(spark)
    pd.testing.assert_frame_equal(got, shop["after"], check_dtype=False)
    spark.close()
