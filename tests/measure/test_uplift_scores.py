"""The uplift loop: a finished experiment becomes model inputs, the model is registered with its held-out
Qini, and its predictions become the ``uplift`` score a campaign ranks by; models save and load."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jingzhun.errors import InputError
from jingzhun.measure.uplift import (
    UPLIFT_MODELS, campaign_experiment, experiment_data, fit_uplift, load_uplift, score_uplift,
)
from jingzhun.models.store import latest

NAMES = ["persuadable_sign", "dog_sign", "noise"]


def _experiment(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Features, treatment, outcome and true effect: +25 pp where persuadable_sign > 0.7, -15 pp where
    dog_sign > 0.8."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.random((n, 3)), columns=NAMES)
    tau = np.where(x.persuadable_sign > 0.7, 0.25, 0.0) - np.where(x.dog_sign > 0.8, 0.15, 0.0)
    t = (rng.random(n) < 0.5).astype(int)
    y = (rng.random(n) < np.clip(0.2 + t * tau, 0, 1)).astype(int)
    return x, t, y, tau


@pytest.mark.parametrize("kind", sorted(UPLIFT_MODELS))
def test_saved_models_load_and_predict_the_same(kind, tmp_path):
    x, t, y, _ = _experiment(4_000, 1)
    model = UPLIFT_MODELS[kind](seed=2, n_estimators=30, min_child_samples=100).fit(x, t, y)
    loaded = load_uplift(model.save(tmp_path / "m.json"))
    assert type(loaded) is type(model) and loaded.get_params() == model.get_params()
    assert loaded.feature_names_ == NAMES
    fresh = x.sample(frac=1.0, axis=1, random_state=0)   # columns in another order: taken by name
    assert np.array_equal(loaded.predict(fresh), model.predict(x))


def test_load_refuses_other_files(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"format": "jingzhun.model", "model": "BetaGeoModel"}', encoding="utf-8")
    with pytest.raises(InputError, match="not an uplift model"):
        load_uplift(path)


def test_experiment_data_joins_treatment_outcome_and_features_by_hand():
    assignments = pd.DataFrame({"profile_id": ["c", "a", "b", "d"], "arm": ["control", "A", "A", "control"]})
    features = pd.DataFrame({"profile_id": ["a", "b", "c", "z"], "f": [1.0, 2.0, 3.0, 9.0]})
    data = experiment_data(assignments, ["b", "b", "c", "z"], features)
    assert data.profile_id.tolist() == ["a", "b", "c", "d"]
    assert data.treatment.tolist() == [1, 1, 0, 0]
    assert data.y.tolist() == [0, 1, 1, 0]
    assert data.X.f.tolist()[:3] == [1.0, 2.0, 3.0] and np.isnan(data.X.f.iloc[3])
    with pytest.raises(InputError, match="assigned twice"):
        experiment_data(pd.concat([assignments, assignments]), [], features)
    with pytest.raises(InputError, match="lack the column"):
        experiment_data(assignments, [], features, feature_names=["g"])


def test_fit_uplift_measures_on_held_out_people():
    x, t, y, _ = _experiment(16_000, 3)
    ids = np.array([f"p{i:05d}" for i in range(len(y))])
    data = experiment_data(pd.DataFrame({"profile_id": ids, "treated": t.astype(bool)}), ids[y == 1],
                           x.assign(profile_id=ids))
    model, metrics = fit_uplift(data, kind="two_model", holdout=0.25, seed=4)
    assert metrics["n_test"] == pytest.approx(4_000, abs=2) and metrics["n_train"] + metrics["n_test"] == 16_000
    assert metrics["qini"] > 0.005 and metrics["auuc"] > 0
    # the planted average effect: 0.3 x 0.25 - 0.2 x 0.15 = 0.045
    assert metrics["observed_uplift"] == pytest.approx(0.045, abs=0.03)
    with pytest.raises(InputError, match="unknown uplift model"):
        fit_uplift(data, kind="magic")


def test_campaign_results_to_uplift_scores(warehouse, tmp_path):
    x, t, y, tau = _experiment(6_000, 5)
    ids = [f"p{i:05d}" for i in range(len(y))]
    at = pd.Timestamp("2025-01-10T02:00Z")
    warehouse.append("assignments", pd.DataFrame({
        "campaign_id": "c1", "profile_id": ids, "arm": np.where(t == 1, "offer", "control"), "assigned_at": at}))
    warehouse.append("deliveries", pd.DataFrame({
        "delivery_id": [f"d{i}" for i in range(len(ids))], "campaign_id": "c1", "profile_id": ids,
        "arm": np.where(t == 1, "offer", "control"), "channel": "email",
        "status": np.where(t == 1, "sent", "held_out")}))
    buyers = np.flatnonzero(y == 1)
    warehouse.append("responses", pd.DataFrame({
        "delivery_id": [f"d{i}" for i in buyers], "profile_id": [ids[i] for i in buyers], "response": "conversion",
        "value": 100.0, "responded_at": at}))
    # another campaign's conversions and this campaign's opens do not count
    warehouse.append("responses", pd.DataFrame({"delivery_id": ["elsewhere", "d0"], "profile_id": [ids[1], ids[0]],
                                                "response": ["conversion", "open"], "responded_at": at}))
    features = x.assign(profile_id=ids)
    data = campaign_experiment(warehouse, "c1", features)
    assert data.y.sum() == len(buyers) and data.treatment.sum() == t.sum()
    assert data.y[data.profile_id == ids[1]][0] == y[1]

    model, metrics = fit_uplift(data, kind="x_learner", seed=6, n_estimators=40, min_child_samples=200)
    out = score_uplift(warehouse, model, features, directory=tmp_path / "models", metrics=metrics)
    assert out["scores"] == {"uplift": len(ids)}
    scores = warehouse.execute(warehouse.table("scores")).sort_values("profile_id")
    assert scores.score.unique().tolist() == ["uplift"]
    assert np.allclose(scores.value.to_numpy(), model.predict(x), atol=1e-12)
    assert np.corrcoef(scores.value, tau)[0, 1] > 0.5
    record = latest(warehouse, "uplift")
    assert record.model_id == out["model_id"] and record.metrics["qini"] == pytest.approx(metrics["qini"])
    assert np.array_equal(load_uplift(record.path).predict(x), model.predict(x))
    with pytest.raises(InputError, match="no assignments"):
        campaign_experiment(warehouse, "nope", features)
    with pytest.raises(InputError, match="lack the column"):
        score_uplift(warehouse, model, features.drop(columns="noise"), directory=tmp_path / "models")
