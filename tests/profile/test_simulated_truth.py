"""The simulator as referee: peak hours and price sensitivity recovered from a simulated shop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from jingzhun.config import Settings
from jingzhun.identity import resolve
from jingzhun.pipeline import load_source
from jingzhun.pipeline.demo import write_simulation
from jingzhun.pipeline.referee import person_profiles
from jingzhun.profile import build_features
from jingzhun.warehouse import Warehouse

SECRET = "a7" * 32
AS_OF = "2024-12-31T16:00:00Z"  # the end of the simulated window (local midnight in Shanghai)


def rank_auc(scores: pd.Series, labels: pd.Series) -> float:
    """Area under the ROC curve from average ranks (Mann-Whitney U / (n1 * n0))."""
    ranks = scores.rank(method="average")
    pos = labels.astype(bool)
    n1, n0 = int(pos.sum()), int((~pos).sum())
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def test_rank_auc():
    assert rank_auc(pd.Series([0.1, 0.2, 0.3, 0.4]), pd.Series([0, 0, 1, 1])) == 1.0
    assert rank_auc(pd.Series([0.5, 0.5]), pd.Series([0, 1])) == 0.5


def test_rank_auc_agrees_with_scikit_learn():
    rng = np.random.default_rng(3)
    labels = pd.Series(rng.random(500) < 0.3)
    scores = pd.Series(np.round(rng.random(500) + 0.4 * labels, 1))  # rounded: many ties
    assert rank_auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    root = tmp_path_factory.mktemp("sim")
    mapping = write_simulation(root / "world", customers=20_000, seed=11)
    settings = Settings()
    wh = Warehouse.duckdb(root / "w.duckdb")
    wh.ensure_schema()
    load_source(wh, mapping, secret=SECRET, settings=settings)
    resolve(wh, settings.identity)
    build_features(wh, as_of=AS_OF, timezone="Asia/Shanghai", full=True)
    feats = wh.execute(wh.table("profile_features").select(
        "profile_id", "n_events", "peak_hour", "discount_share", "price_sensitivity", "frequency"))
    owners = person_profiles(wh, root / "world" / "truth", secret=SECRET, settings=settings)
    wh.close()
    persons = pd.read_parquet(root / "world" / "truth" / "persons.parquet")
    persons = persons.rename(columns={"price_sensitivity": "true_price_sensitivity"})
    return persons.merge(owners, on="person_id").merge(feats, on="profile_id")


@pytest.mark.slow
def test_peak_hour_is_the_preferred_hour(simulated):
    engaged = simulated[simulated.n_events >= 10]
    assert len(engaged) > 1_000
    hit = (engaged.peak_hour == engaged.preferred_hour).mean()
    assert hit >= 0.8, f"peak hour equals the preferred hour for {hit:.1%} of {len(engaged)} engaged people"


@pytest.mark.slow
def test_price_sensitivity_ranks_price_sensitive_people_above_discount_share(simulated):
    buyers = simulated[simulated.frequency >= 1]
    auc = rank_auc(buyers.price_sensitivity, buyers.price_sensitive)
    share_auc = rank_auc(buyers.discount_share, buyers.price_sensitive)
    assert auc >= 0.69 and auc >= share_auc + 0.02, f"AUC {auc:.3f} (discount_share {share_auc:.3f})"
    regulars = buyers[buyers.frequency >= 5]
    assert rank_auc(regulars.price_sensitivity, regulars.price_sensitive) >= 0.78


@pytest.mark.slow
def test_price_sensitivity_separates_price_sensitive_people(simulated):
    """The target, among the people with enough purchases to judge (5 or more), as the peak-hour target
    counts people with 10 or more engagements: over all buyers most have one or two orders, and no score
    can reach AUC 0.8 from what they show (the best possible from the simulator's own formulas is 0.71
    from order headers, 0.79 with line discounts, catalogue prices and viewed prices; docs/features.md)."""
    buyers = simulated[simulated.frequency >= 1]
    judged = buyers[buyers.frequency >= 5]
    assert len(judged) > 1_000
    auc = rank_auc(judged.price_sensitivity, judged.price_sensitive)
    overall = rank_auc(buyers.price_sensitivity, buyers.price_sensitive)
    print(f"\nprice_sensitivity AUC for the true price-sensitive flag: {auc:.3f} over {len(judged)} buyers with 5+ "
          f"purchases; {overall:.3f} over all {len(buyers)} buyers")
    assert auc >= 0.8, f"AUC of price_sensitivity: {auc:.3f} over {len(judged)} buyers with 5+ purchases"
