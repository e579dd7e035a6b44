"""Clustering segments: planted groups are recovered, k is chosen right, assignment in Ibis equals the
plain nearest-centroid rule in numpy, and a saved clustering assigns the same members again."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from jingzhun.errors import ConfigError, NotFittedError
from jingzhun.schema.tables import table as table_spec
from jingzhun.segment import list_segments, members
from jingzhun.segment.clusters import LOG_FEATURES, ClusterModel, save_cluster_segments, seeded_sample
from tests.segment.buyers import AS_OF

FEATURES = ("recency_days", "frequency", "monetary_total", "avg_order_value", "tenure_days")
# planted groups: (recency, frequency, order value, tenure); money and counts spread multiplicatively
GROUPS = {
    "loyal big spenders": (8, 20, 120.0, 900),
    "one-off bargain hunters": (300, 1, 15.0, 320),
    "regulars": (60, 5, 45.0, 500),
}


def planted(n_per_group: int = 300, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    parts = []
    for g, (rec, freq, aov, ten) in enumerate(GROUPS.values()):
        frequency = np.maximum(1, np.round(freq * rng.lognormal(0, 0.15, n_per_group))).astype(int)
        value = aov * rng.lognormal(0, 0.15, n_per_group)
        parts.append(pd.DataFrame({
            "recency_days": np.maximum(0, rng.normal(rec, rec * 0.1 + 2, n_per_group)).round(),
            "frequency": frequency,
            "monetary_total": frequency * value,
            "avg_order_value": value,
            "tenure_days": rng.normal(ten, 30, n_per_group).round(),
            "planted": g,
        }))
    frame = pd.concat(parts, ignore_index=True)
    frame.insert(0, "profile_id", [f"c{i:05d}" for i in range(len(frame))])
    return frame


def _numpy_assign(model: ClusterModel, frame: pd.DataFrame) -> np.ndarray:
    """The reference rule: transform, standardise, nearest centroid (lowest number on ties)."""
    cols = []
    for f in model.features:
        x = frame[f].astype(float).to_numpy()
        x = np.log1p(np.clip(x, 0, None)) if f in LOG_FEATURES else x
        cols.append(np.nan_to_num((x - model.means_[f]) / model.sds_[f], nan=0.0))
    z = np.column_stack(cols)
    d = ((z[:, None, :] - np.array(model.centroids_)[None, :, :]) ** 2).sum(axis=2)
    return d.argmin(axis=1)


def test_planted_groups_are_recovered(warehouse):
    frame = planted()
    table = warehouse.stage(frame.drop(columns="planted"))
    sample = warehouse.execute(seeded_sample(table, 600, seed=0))
    assert len(sample) == 600
    model = ClusterModel(features=FEATURES, k_max=6, seed=0).fit(sample)
    assert model.k_ == 3, model.silhouettes_
    assert max(model.silhouettes_, key=model.silhouettes_.get) == 3
    got = warehouse.execute(model.assign(table)).set_index("profile_id").loc[frame.profile_id]
    assert adjusted_rand_score(frame.planted, got.cluster) > 0.99
    assert (got.cluster.to_numpy() == _numpy_assign(model, frame)).all()
    # the big spenders' cluster is described by what sets it apart
    big = int(got.cluster[frame.planted.to_numpy() == 0].mode()[0])
    assert "buys often" in model.descriptions_[big] and "spends much" in model.descriptions_[big]


def test_the_sample_is_the_same_for_the_same_seed(warehouse):
    table = warehouse.stage(planted(50).drop(columns="planted"))
    first = warehouse.execute(seeded_sample(table, 20, seed=4)).profile_id.tolist()
    assert warehouse.execute(seeded_sample(table, 20, seed=4)).profile_id.tolist() == first
    assert warehouse.execute(seeded_sample(table, 20, seed=5)).profile_id.tolist() != first


def test_saved_clusters_assign_the_same_members(warehouse):
    frame = planted(100)
    spec = table_spec("profile_features")
    zeros = {c.name: 0 for c in spec.columns if not c.nullable and c.name not in frame.columns and c.name != "as_of"}
    rows = frame.drop(columns="planted").assign(**zeros, as_of=pd.Timestamp(AS_OF))
    warehouse.append("profile_features", rows)  # features as of AS_OF, as a build would leave them
    model = ClusterModel(features=FEATURES, seed=0).fit(frame)
    save_cluster_segments(warehouse, model)
    assert [s.name for s in list_segments(warehouse, kind="cluster")] == ["Cluster 1", "Cluster 2", "Cluster 3"]
    expected = _numpy_assign(model, frame)
    for c in range(3):
        got = set(warehouse.execute(members(warehouse, f"Cluster {c + 1}", AS_OF)).profile_id)
        assert got == set(frame.profile_id[expected == c])
    # a new fit with fewer clusters removes the segments it no longer has
    two = ClusterModel(features=FEATURES, k_min=2, k_max=2, seed=0).fit(frame)
    save_cluster_segments(warehouse, two)
    assert [s.name for s in list_segments(warehouse, kind="cluster")] == ["Cluster 1", "Cluster 2"]


def test_errors():
    with pytest.raises(NotFittedError):
        ClusterModel().to_rule()
    with pytest.raises(ConfigError, match="not columns"):
        ClusterModel(features=("nope",)).fit(planted(10))
    with pytest.raises(ConfigError, match="too few"):
        ClusterModel(features=FEATURES, k_max=8).fit(planted(2))


def test_fit_does_not_depend_on_row_order_and_numbers_by_size():
    frame = planted(60).drop(columns="planted").iloc[:150]  # groups of 60, 60 and 30
    a = ClusterModel(features=FEATURES, k_min=3, k_max=3, seed=0).fit(frame)
    b = ClusterModel(features=FEATURES, k_min=3, k_max=3, seed=0).fit(frame.sample(frac=1.0, random_state=9))
    assert np.allclose(a.centroids_, b.centroids_) and a.sizes_ == b.sizes_
    assert a.sizes_ == sorted(a.sizes_, reverse=True) and a.sizes_[-1] == 30
