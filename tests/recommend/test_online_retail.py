"""UCI Online Retail with a time split: train up to 2011-09-30, test after. Figures in docs/recommendations.md.

The hybrid's weights are learned on September 2011 (components fitted on purchases before it), then
its components are refitted on everything before October.
"""

from __future__ import annotations

import pytest

from jingzhun.config import Settings
from jingzhun.identity import resolve
from jingzhun.pipeline import load_source
from jingzhun.recommend import make_recommender, evaluate, time_split
from jingzhun.warehouse import Warehouse

CUTOFF = "2011-09-30T23:00:00Z"  # the end of 2011-09-30 in London (UTC+1 in summer time)


@pytest.mark.slow
def test_hybrid_beats_popularity_on_online_retail(datasets, tmp_path):
    wh = Warehouse.duckdb(tmp_path / "w.duckdb")
    try:
        wh.ensure_schema()
        load_source(wh, "online_retail", secret="5e" * 32, settings=Settings())
        resolve(wh, Settings().identity)
        split = time_split(wh, CUTOFF)
        validation = time_split(wh, "2011-08-31T23:00:00Z", CUTOFF)
    finally:
        wh.close()
    assert split.train.n_users == 3_616 and split.train.n_items == 4_070
    models = {name: make_recommender(name).fit(split.train) for name in ("popularity", "item_knn", "bm25", "als",
                                                                            "content")}
    models["hybrid"] = make_recommender("hybrid").fit(split.train, validation=validation)
    result = evaluate(models, split, k=10)
    table = result.table.set_index("model")
    print(result.markdown())
    assert len(result.users) > 1_500
    assert table.loc["hybrid", "ndcg"] > 1.8 * table.loc["popularity", "ndcg"]
    assert table.loc["hybrid", "ndcg"] >= table.drop("hybrid")["ndcg"].max() - 0.005
    assert table.loc["hybrid", "coverage"] > 10 * table.loc["popularity", "coverage"]
