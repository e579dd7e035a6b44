"""The model registry in the warehouse and the scores table, on both engines."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from jingzhun.errors import InputError
from jingzhun.models import BetaGeoModel
from jingzhun.models.store import (
    fingerprint, latest, list_models, load_registered, register, write_scores,
)


def _at(hour: int) -> datetime:
    return datetime(2025, 1, 1, hour, tzinfo=timezone.utc)


@pytest.fixture
def fitted(synthetic):
    x, r, t = synthetic.simulate_bgnbd(800, seed=9)
    return BetaGeoModel().fit(x, r, t), (x, r, t)


def test_register_and_read_back(warehouse, fitted, tmp_path):
    model, inputs = fitted
    first = register(warehouse, model, "clv", as_of="2024-12-31", data_fingerprint="f1", metrics={"auc": 0.7},
                     directory=tmp_path / "models", trained_at=_at(1))
    second = register(warehouse, model, "clv", as_of="2025-01-31", data_fingerprint="f2", metrics={"auc": 0.8},
                      directory=tmp_path / "models", trained_at=_at(2))
    register(warehouse, model, "other", as_of=None, data_fingerprint="f3", metrics=None,
             directory=tmp_path / "models", trained_at=_at(3))
    assert first.model_id.startswith("clv-20250101T010000Z-")
    assert (tmp_path / "models" / f"{first.model_id}.json").exists()
    newest = latest(warehouse, "clv")
    assert newest.model_id == second.model_id and newest.metrics == {"auc": 0.8}
    assert newest.as_of == datetime(2025, 1, 31, tzinfo=timezone.utc) and newest.kind == "BetaGeoModel"
    assert newest.params["fitted"] == model.params_ and newest.params["init"] == model.get_params()
    assert newest.code_version.startswith("0.") and newest.data_fingerprint == "f2"
    assert latest(warehouse, "nothing") is None
    listed = list_models(warehouse)
    assert list(listed.model_id[:2]) == [latest(warehouse, "other").model_id, second.model_id]
    assert list(list_models(warehouse, "clv").model_id) == [second.model_id, first.model_id]
    loaded = load_registered(warehouse, first.model_id)
    assert np.array_equal(loaded.predict(*inputs), model.predict(*inputs))
    with pytest.raises(InputError, match="no model"):
        load_registered(warehouse, "clv-nope")
    with pytest.raises(InputError, match="model name"):
        register(warehouse, model, "bad name", as_of=None, data_fingerprint="", metrics=None, directory=tmp_path)


def test_fingerprint_follows_loads_and_sizes(warehouse):
    empty = fingerprint(warehouse)
    assert empty == fingerprint(warehouse)
    order = {"source": "s", "order_id": "o1", "load_id": "L1", "quality_flags": "", "status": "completed",
             "ordered_at": pd.Timestamp("2024-01-01", tz="UTC"), "is_return": False, "currency": "CNY",
             "amount": 1.0, "n_lines": 1}
    warehouse.append("orders", pd.DataFrame([order]))
    one = fingerprint(warehouse)
    warehouse.append("identity_map", pd.DataFrame([{"kind": "user_id", "key": "k", "profile_id": "p",
                                                    "is_shared": False}]))
    two = fingerprint(warehouse)
    assert len({empty, one, two}) == 3
    assert fingerprint(warehouse, ("orders",)) != fingerprint(warehouse, ("identity_map",))


def test_write_scores_replaces_a_score_for_everyone(warehouse):
    write_scores(warehouse, pd.DataFrame({"profile_id": ["a", "b"], "score": "p_alive", "value": [0.2, 0.9]}), "m1")
    write_scores(warehouse, pd.DataFrame({"profile_id": ["a"], "score": "clv_12m", "value": [120.0]}), "m2")
    written = write_scores(warehouse, pd.DataFrame({
        "profile_id": ["b", "c", "d"], "score": "p_alive", "value": [0.5, 0.1, np.nan],
        "reason": ["r-b", "r-c", "r-d"]}), "m3", computed_at=_at(4))
    assert written == 2  # d has no value
    scores = warehouse.execute(warehouse.table("scores")).sort_values(["score", "profile_id"]).reset_index(drop=True)
    assert scores[["profile_id", "score", "value", "model_id", "reason"]].to_dict("records") == [
        {"profile_id": "a", "score": "clv_12m", "value": 120.0, "model_id": "m2", "reason": None},
        {"profile_id": "b", "score": "p_alive", "value": 0.5, "model_id": "m3", "reason": "r-b"},
        {"profile_id": "c", "score": "p_alive", "value": 0.1, "model_id": "m3", "reason": "r-c"},
    ]
    assert (pd.to_datetime(scores.computed_at[1:], utc=True) == pd.Timestamp(_at(4))).all()
    with pytest.raises(InputError, match="missing: value"):
        write_scores(warehouse, pd.DataFrame({"profile_id": ["a"], "score": "x"}), "m4")


def test_metrics_are_json(warehouse, fitted, tmp_path):
    model, _ = fitted
    record = register(warehouse, model, "clv", as_of="2024-12-31", data_fingerprint="f", directory=tmp_path,
                      metrics={"table": [{"group": 1, "lift": 1.5}], "auc": float("nan")})
    row = warehouse.execute(warehouse.table("models"))
    assert json.loads(row.metrics[0])["table"] == [{"group": 1, "lift": 1.5}]
    assert np.isnan(latest(warehouse, "clv").metrics["auc"]) and record.path.endswith(".json")
