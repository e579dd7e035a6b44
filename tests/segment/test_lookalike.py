"""Lookalike audiences: a planted segment of the simulator recovered from a seed of its members."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from jingzhun.config import Settings
from jingzhun.errors import InputError
from jingzhun.identity import resolve
from jingzhun.pipeline import load_source
from jingzhun.pipeline.demo import write_simulation
from jingzhun.pipeline.referee import person_profiles
from jingzhun.profile import build_features
from jingzhun.segment.lookalike import feature_frame, lookalike
from jingzhun.warehouse import Warehouse

SECRET = "c4" * 32


def test_feature_frame_spreads_the_category_mix_and_one_hot_fields():
    pf = pd.DataFrame({"profile_id": ["p1", "p2"], "frequency": [3, 0], "category_shares": ["a:0.250;b:0.750", None],
                       "gender": ["F", None]})
    X = feature_frame(pf, ["frequency"], categorical=("gender",))
    assert X.loc["p1", "category:a"] == 0.25 and X.loc["p1", "category:b"] == 0.75
    assert X.loc["p2", "category:a"] == 0.0 and X.loc["p1", "gender=F"] == 1.0 and X.loc["p2", "gender=F"] == 0.0
    with pytest.raises(InputError, match="no column 'nope'"):
        feature_frame(pf, ["nope"])


def test_a_tiny_seed_is_refused():
    pf = pd.DataFrame({"profile_id": [f"p{i}" for i in range(100)], "frequency": np.arange(100)})
    with pytest.raises(InputError, match="at least"):
        lookalike(pf, ["p1", "p2"], features=["frequency"])


@pytest.mark.slow
def test_lookalike_recovers_a_planted_segment(tmp_path):
    """The planted segment: people whose true taste for eyewear is strong. The marketer knows 30% of them
    (the seed); the rest are hidden among everyone else, and the lookalike ranking must find them."""
    world = write_simulation(tmp_path / "world", customers=12_000, seed=21)
    settings = Settings()
    wh = Warehouse.duckdb(tmp_path / "w.duckdb")
    wh.ensure_schema()
    load_source(wh, world, secret=SECRET, settings=settings)
    resolve(wh, settings.identity)
    build_features(wh, as_of="2024-12-31T16:00:00Z", timezone="Asia/Shanghai", full=True)
    pf = wh.execute(wh.table("profile_features"))
    owners = person_profiles(wh, tmp_path / "world" / "truth", secret=SECRET, settings=settings)
    persons = pd.read_parquet(tmp_path / "world" / "truth" / "persons.parquet")
    truth = owners.merge(persons[["person_id", "taste_eyewear"]], on="person_id")
    truth = truth[truth.profile_id.isin(pf[pf.frequency > 0].profile_id)]
    members = truth[truth.taste_eyewear > 0.3].profile_id
    rng = np.random.default_rng(0)
    seed = members[rng.random(len(members)) < 0.3]
    result = lookalike(pf, seed)
    hidden = result.scores[~result.scores.in_seed & result.scores.profile_id.isin(truth.profile_id)]
    auc = roc_auc_score(hidden.profile_id.isin(members), hidden.score)
    print(f"\nlookalike: {len(members)} planted members, seed {result.n_seed}; held-out AUC {result.holdout_auc:.3f}; "
          f"AUC against the hidden members' true membership {auc:.3f}; top features "
          f"{list(result.importance)[:5]}")
    assert auc >= 0.8
    assert result.holdout_auc >= 0.75  # seed against everyone else, hidden members included among the others
    assert result.scores["rank"].min() == 1 and result.scores.profile_id.is_unique
    wh.close()
