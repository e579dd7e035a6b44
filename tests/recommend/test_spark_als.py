"""Spark's ALS (pyspark.ml) behind the same interface: selected on the Spark engine, same quality."""

from __future__ import annotations

import pytest

from jingzhun.recommend import ALSRecommender, SparkALSRecommender, evaluate, load_recommender, make_recommender
from tests.recommend import synthetic


def test_spark_engine_selects_spark_als():
    assert type(make_recommender("als", engine="pyspark")) is SparkALSRecommender
    assert type(make_recommender("als")) is ALSRecommender


@pytest.mark.spark
def test_spark_als_matches_implicit_within_noise(spark_session, tmp_path):
    split = synthetic.split(n_users=400, seed=4)
    ours = ALSRecommender(factors=8, iterations=10).fit(split.train)
    spark = SparkALSRecommender(factors=8, iterations=10).fit(split.train, session=spark_session)
    popularity = make_recommender("popularity").fit(split.train)
    table = evaluate({"implicit": ours, "spark": spark, "popularity": popularity}, split, k=5).table.set_index("model")
    print(table)
    assert table.loc["spark", "ndcg"] > table.loc["popularity", "ndcg"]
    assert abs(table.loc["spark", "ndcg"] - table.loc["implicit", "ndcg"]) < 0.2 * table.loc["implicit", "ndcg"]
    again = load_recommender(spark.save(tmp_path / "spark.npz"))
    assert type(again) is SparkALSRecommender
    users = split.train.matrix[:5]
    assert (again.scores(range(5), users) == spark.scores(range(5), users)).all()
