"""The referee's referee: lifetimes (an independent implementation) recovers the true BG/NBD parameters
from the written orders file, computed per true person the way a user would."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from jingzhun.sim import simulate
from tests.sim.conftest import person_of

log = logging.getLogger(__name__)
ORDER_IDS = {"user_id": "user_id", "crm_id": "crm_id", "loyalty_card": "loyalty_card", "phone": "phone",
             "wechat_openid": "wechat_openid"}


def rfm_from_files(folder, world) -> pd.DataFrame:
    """frequency = purchase orders - 1 (returns excluded); recency, T in weeks from the first purchase."""
    orders = pq.read_table(folder / "orders.parquet").to_pandas()
    orders = orders[~orders.is_return]
    ids = pq.read_table(folder / "truth" / "identifiers.parquet").to_pandas()
    ids = ids[~ids.is_shared & ids.person_id.notna()]
    owner = {(k, v): p for k, v, p in zip(ids.kind, ids.value, ids.person_id)}
    orders = orders.assign(person_id=person_of(orders, owner, ORDER_IDS))
    end = pd.Timestamp(world.params["window"]["end"])
    g = orders.groupby("person_id").ordered_at
    week = pd.Timedelta(days=7)
    return pd.DataFrame({
        "frequency": g.nunique() - 1,
        "recency": (g.max() - g.min()) / week,
        "T": (end - g.min()) / week,
    })


@pytest.mark.slow
def test_lifetimes_recovers_the_true_parameters(tmp_path):
    lifetimes = pytest.importorskip("lifetimes")
    world = simulate(40_000, seed=2024, events_per_customer=1)
    folder = world.write(tmp_path)
    rfm = rfm_from_files(folder, world)
    assert len(rfm) == 40_000
    fitter = lifetimes.BetaGeoFitter(penalizer_coef=0.0)
    fitter.fit(rfm["frequency"].to_numpy(), rfm["recency"].to_numpy(), rfm["T"].to_numpy())
    truth = world.params["bgnbd"]
    summary = fitter.summary
    report = []
    for name in ("r", "alpha", "a", "b"):
        est, se = summary.loc[name, "coef"], summary.loc[name, "se(coef)"]
        z = (est - truth[name]) / se
        report.append(f"{name}: true {truth[name]:.3f} fitted {est:.3f} se {se:.3f} z {z:+.2f}")
        assert abs(z) < 3, report[-1]
    log.warning("BG/NBD recovery (40k persons): %s", "; ".join(report))
