"""The simulator as referee of churn: does churn_risk rank the people who truly dropped out above
those still active? (persons.parquet knows who dropped out and when.)"""

from __future__ import annotations

import pandas as pd
import pytest

from jingzhun.config import Settings
from jingzhun.models.evaluation import auc
from jingzhun.models.scoring import ScoreSettings, btyd_summary, score_btyd, score_churn
from jingzhun.pipeline.referee import keyed_truth
from jingzhun.warehouse import Warehouse

from tests.models.conftest import SIM_END, SIM_SECRET, build_sim_shop


def _person_profiles(wh, truth_dir) -> pd.DataFrame:
    """Each true person's profile: the one holding most of their identifiers (ties: smallest id)."""
    imap = wh.execute(wh.table("identity_map").select("kind", "key", "profile_id", "is_shared"))
    truth = keyed_truth(truth_dir, secret=SIM_SECRET, settings=Settings())
    truth = truth[truth.person_id.notna() & truth.key.notna()].drop_duplicates(["kind", "key"])
    linked = truth.merge(imap[~imap.is_shared.astype(bool)], on=["kind", "key"])
    votes = linked.groupby(["person_id", "profile_id"]).size().rename("n").reset_index()
    votes = votes.sort_values(["person_id", "n", "profile_id"], ascending=[True, False, True])
    return votes.drop_duplicates("person_id")[["person_id", "profile_id"]]


@pytest.mark.slow
def test_churn_risk_ranks_true_dropouts_first(tmp_path):
    path, truth_dir = build_sim_shop(tmp_path, 10_000, seed=17)
    settings = ScoreSettings(timezone="Asia/Shanghai")
    with Warehouse.duckdb(path) as wh:
        churn = score_churn(wh, SIM_END, directory=tmp_path / "models", settings=settings)
        score_btyd(wh, SIM_END, directory=tmp_path / "models", settings=settings)
        scores = wh.execute(wh.table("scores")).pivot(index="profile_id", columns="score", values="value")
        reasons = wh.execute(wh.table("scores").filter(lambda t: t.score == "churn_risk"))
        people = _person_profiles(wh, truth_dir)
        summary = wh.execute(btyd_summary(wh, SIM_END, timezone="Asia/Shanghai")).set_index("profile_id")
    persons = pd.read_parquet(truth_dir / "persons.parquet")
    persons = persons[persons.first_purchase_at < pd.Timestamp(SIM_END)]
    judged = persons.merge(people, on="person_id").merge(scores, left_on="profile_id", right_index=True)
    judged = judged.drop_duplicates("profile_id", keep=False)  # profiles that mix persons say nothing
    dropped = ~judged.alive_at_end.astype(bool)
    churn_auc = auc(dropped, judged.churn_risk)
    alive_auc = auc(dropped, 1 - judged.p_alive)
    # in a BG/NBD world a person can only drop out after a repeat purchase: one-time buyers are all
    # alive, yet after 180 quiet days they have lapsed, which is what churn_risk predicts
    repeat = (judged.profile_id.map(summary.frequency) > 0).to_numpy()
    repeat_auc = auc(dropped[repeat], judged.churn_risk[repeat])
    repeat_alive_auc = auc(dropped[repeat], 1 - judged.p_alive[repeat])
    print(f"\nchurn on {len(judged):,} simulated persons ({dropped.mean():.1%} truly dropped out): "
          f"AUC of churn_risk {churn_auc:.3f}, of 1 - p_alive {alive_auc:.3f}; among the {repeat.sum():,} "
          f"repeat buyers ({dropped[repeat].mean():.1%} dropped out): {repeat_auc:.3f} and {repeat_alive_auc:.3f}; "
          f"concordance at fit {churn['concordance']:.3f}")
    print(reasons[reasons.value < 1].sort_values("value").tail(3)[["value", "reason"]].to_string(index=False))
    assert len(judged) > 8_000
    assert churn_auc > 0.6 and repeat_auc > 0.7
    assert reasons.reason.notna().all()
