"""RFM scores and segments: a hand-worked example, ties against pandas, and UCI Online Retail."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jingzhun.config import Settings
from jingzhun.profile import build_features
from jingzhun.segment import members
from jingzhun.segment.rfm import (
    RFM_GRID, RFM_SEGMENTS, grid_frame, rfm_grid, rfm_scores, rfm_summary, save_rfm_segments, segment_of,
)
from tests.segment.buyers import AS_OF, load_buyers


def _pandas_scores(frame: pd.DataFrame) -> pd.DataFrame:
    """The documented rule in pandas: 1 + floor(5 r / n), r = buyers with a strictly worse value."""
    b = frame[frame.frequency > 0].copy()
    n = len(b)

    def score(worse_first: pd.Series) -> pd.Series:
        return (1 + (5 * (worse_first.rank(method="min").astype(int) - 1)) // n).astype(int)

    b["r"] = score(-b.recency_days)
    b["f"] = score(b.frequency)
    b["m"] = score(b.monetary_total.round(2))
    b["segment"] = [RFM_GRID[r][f - 1] for r, f in zip(b.r, b.f)]
    return b.set_index("profile_id")


def test_grid_maps_every_cell_to_one_of_the_eleven():
    cells = {(r, f): segment_of(r, f) for r in range(1, 6) for f in range(1, 6)}
    assert len(cells) == 25 and set(cells.values()) == set(RFM_SEGMENTS) and len(RFM_SEGMENTS) == 11
    assert segment_of(5, 5) == "Champions" and segment_of(1, 1) == "Lost" and segment_of(5, 1) == "New"


def test_scores_by_hand(warehouse):
    load_buyers(warehouse)
    build_features(warehouse, as_of=AS_OF, full=True)
    got = warehouse.execute(rfm_scores(warehouse.table("profile_features"))).set_index("profile_id").sort_index()
    # recency 10 (pNew), 20, 10 (pWon), 90, 300 over n = 5 buyers: pLapsed r=0 -> 1, pRisk 1 -> 2,
    # pActive 2 -> 3, pNew and pWon tie at r=3 -> 4 (nobody gets 5: ties are never split)
    # frequency 1, 3, 2, 2, 2: pNew 1; the three 2s tie at r=1 -> 2; pActive r=4 -> 5
    # monetary 50, 300, 80, 80, 20 (the cancelled 999 is no purchase): pLapsed 1, pNew 2, pWon/pRisk 3, pActive 5
    want = pd.DataFrame({
        "r": [3, 1, 2, 4, 4], "f": [5, 2, 2, 1, 2], "m": [5, 1, 3, 2, 3],
        "segment": ["Loyal", "Lost", "Hibernating", "Promising", "Potential Loyalist"],
    }, index=pd.Index(["pActive", "pLapsed", "pRisk", "pNew", "pWon"], name="profile_id")).sort_index()
    pd.testing.assert_frame_equal(got[["r", "f", "m", "segment"]], want, check_dtype=False)
    assert got.loc["pActive", "rfm"] == "355"

    save_rfm_segments(warehouse)
    assert set(warehouse.execute(members(warehouse, "RFM: Promising", AS_OF)).profile_id) == {"pNew"}
    assert warehouse.execute(members(warehouse, "RFM: Champions", AS_OF)).empty


def test_ties_and_grid_against_pandas(warehouse):
    rng = np.random.default_rng(3)
    n = 500
    frame = pd.DataFrame({
        "profile_id": [f"q{i:04d}" for i in range(n)],
        "recency_days": rng.integers(0, 40, n),  # many ties
        "frequency": rng.choice([0, 1, 1, 1, 2, 2, 3, 5, 8], n),
        # sums that differ only by rounding tie at whole cents
        "monetary_total": np.where(rng.random(n) < 0.5, 0.1 + 0.2, 0.3) + rng.integers(0, 5, n) * 10.0,
    })
    table = warehouse.stage(frame)
    got = warehouse.execute(rfm_scores(table)).set_index("profile_id").sort_index()
    want = _pandas_scores(frame).sort_index()
    assert list(got.index) == list(want.index)  # buyers only
    for col in ("r", "f", "m", "segment"):
        assert (got[col].to_numpy() == want[col].to_numpy()).all(), col
    grid = warehouse.execute(rfm_grid(rfm_scores(table)))
    counts = want.groupby(["r", "f"]).size()
    assert {(int(g.r), int(g.f)): int(g.profiles) for g in grid.itertuples()} == counts.to_dict()
    shaped = grid_frame(grid)
    assert [c["r"] for c in (row[0] for row in shaped["rows"])] == [5, 4, 3, 2, 1]
    assert sum(c["profiles"] for row in shaped["rows"] for c in row) == len(want)
    summary = warehouse.execute(rfm_summary(rfm_scores(table))).set_index("segment")
    assert summary.profiles.to_dict() == want.segment.value_counts().to_dict()


def _pandas_rfm_online_retail(csv, as_of: pd.Timestamp) -> pd.DataFrame:
    """R, F, M from the raw CSV (as tests/profile/test_real_data.py), scored with pandas ranks."""
    raw = pd.read_csv(csv, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": "Int64"}, encoding="utf-8")
    raw = raw[raw.CustomerID.notna() & ~raw.InvoiceNo.str.startswith("C")]
    raw = raw[(raw.Quantity > 0) & (raw.UnitPrice > 0)]
    raw["at"] = (pd.to_datetime(raw.InvoiceDate, format="%Y-%m-%d %H:%M:%S")
                 .dt.tz_localize("Europe/London").dt.tz_convert("UTC"))
    raw["spend"] = raw.Quantity * raw.UnitPrice
    g = raw.groupby("CustomerID")
    out = pd.DataFrame({"frequency": g.InvoiceNo.nunique(), "monetary_total": g.spend.sum(), "last": g["at"].max()})
    out["recency_days"] = ((as_of - out["last"]).dt.total_seconds() // 86400).astype("int64")
    out.index = out.index.astype(str)
    return _pandas_scores(out.rename_axis("profile_id").reset_index())


@pytest.mark.slow
def test_online_retail_rfm_segments_match_pandas(datasets, tmp_path):
    from jingzhun.identity import resolve
    from jingzhun.pipeline import load_source
    from jingzhun.warehouse import Warehouse

    as_of = pd.Timestamp("2011-12-10", tz="UTC")
    wh = Warehouse.duckdb(tmp_path / "w.duckdb")
    try:
        wh.ensure_schema()
        load_source(wh, "online_retail", secret="5e" * 32, settings=Settings())
        resolve(wh, Settings().identity)
        build_features(wh, as_of=as_of.to_pydatetime(), full=True)
        imap, vault = wh.table("identity_map"), wh.table("pii_vault")
        ids = imap.filter(imap.kind == "user_id").join(vault.filter(vault.kind == "user_id"), ["kind", "key"])
        scores = rfm_scores(wh.table("profile_features"))
        got = wh.execute(scores.join(ids.select("profile_id", customer=ids.value), "profile_id"))
    finally:
        wh.close()
    want = _pandas_rfm_online_retail(datasets / "online_retail" / "online_retail.csv.gz", as_of)
    assert len(want) == 4_338 and len(got) == 4_338
    got["customer"] = got.customer.str.replace(r"\.0$", "", regex=True)
    got = got.set_index("customer").loc[want.index]
    for col in ("r", "f", "m", "segment"):
        bad = got[col].to_numpy() != want[col].to_numpy()
        assert not bad.any(), f"{col} differs for customers {list(want.index[bad][:10])}"
    sizes = want.segment.value_counts()
    assert sizes.sum() == 4_338 and set(sizes.index) <= set(RFM_SEGMENTS)
    print("Online Retail RFM segment sizes:", sizes.to_dict())
