"""Acceptance: purchase propensity on UCI Online Retail with a time split.

Features as of 2011-09-01 (nothing later read for them), label = a purchase in the next 90 days; the
model is fitted on what was known on 2011-09-01 (snapshots up to 2011-06-03 with their 90-day labels).
The AUC must beat the RFM baselines' on the same people.
"""

from __future__ import annotations

import pandas as pd
import pytest

from jingzhun.config import Settings
from jingzhun.identity import resolve
from jingzhun.models.propensity import fit_propensity
from jingzhun.pipeline import load_source
from jingzhun.warehouse import Warehouse

SECRET = "5e" * 32


@pytest.mark.slow
def test_propensity_beats_rfm_on_online_retail(datasets, tmp_path):
    with Warehouse.duckdb(tmp_path / "w.duckdb") as wh:
        wh.ensure_schema()
        load_source(wh, "online_retail", secret=SECRET, settings=Settings())
        resolve(wh, Settings().identity)
        model, report = fit_propensity(wh, "2011-09-01", 90, timezone="Europe/London", seed=0)
    test = report["test"]
    ours, logistic, score = test["model"], test["rfm_logistic"], test["rfm_score"]
    print(f"\nOnline Retail propensity, features to 2011-09-01, label = purchase in the next 90 days: "
          f"{ours['n']} buyers, base rate {ours['base_rate']:.3f}")
    print(f"  LightGBM (calibrated): AUC {ours['auc']:.4f}  ECE {ours['ece']:.4f}  Brier {ours['brier']:.4f}  "
          f"top-decile lift {ours['top_group_lift']:.2f}  gain@30% {ours['gain_at_30pct']:.3f}")
    print(f"  uncalibrated trees: ECE {test['model_uncalibrated_ece']:.4f}")
    print(f"  RFM logistic: AUC {logistic['auc']:.4f}  ECE {logistic['ece']:.4f}  Brier {logistic['brier']:.4f}")
    print(f"  RFM score (R+F+M quintiles): AUC {score['auc']:.4f}  top-decile lift {score['top_group_lift']:.2f}")
    print(pd.DataFrame(ours["calibration"]).round(3).to_string(index=False))
    assert ours["n"] > 3_000 and report["n_train"] > 8_000
    assert ours["auc"] > logistic["auc"] and ours["auc"] > score["auc"]
    assert ours["ece"] < 0.08 and ours["brier"] < logistic["brier"]
