"""Recency, frequency and monetary on UCI Online Retail against an independent pandas computation."""

from __future__ import annotations

import pandas as pd
import pytest

from jingzhun.config import Settings
from jingzhun.identity import resolve
from jingzhun.pipeline import load_source
from jingzhun.profile import build_features
from jingzhun.warehouse import Warehouse

SECRET = "5e" * 32
AS_OF = pd.Timestamp("2011-12-10", tz="UTC")


def _pandas_rfm(csv) -> pd.DataFrame:
    """RFM straight from the raw CSV: known customer, no cancellation, positive quantity and price."""
    raw = pd.read_csv(csv, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": "Int64"}, encoding="utf-8")
    raw = raw[raw.CustomerID.notna() & ~raw.InvoiceNo.str.startswith("C")]
    raw = raw[(raw.Quantity > 0) & (raw.UnitPrice > 0)]
    raw["at"] = (pd.to_datetime(raw.InvoiceDate, format="%Y-%m-%d %H:%M:%S")
                 .dt.tz_localize("Europe/London").dt.tz_convert("UTC"))
    raw["spend"] = raw.Quantity * raw.UnitPrice
    g = raw.groupby("CustomerID")
    out = pd.DataFrame({"frequency": g.InvoiceNo.nunique(), "monetary_total": g.spend.sum(), "last": g["at"].max()})
    out["recency_days"] = ((AS_OF - out["last"]).dt.total_seconds() // 86400).astype("int64")
    out.index = out.index.astype(str)
    return out


@pytest.mark.slow
def test_online_retail_rfm_matches_pandas(datasets, tmp_path):
    wh = Warehouse.duckdb(tmp_path / "w.duckdb")
    try:
        wh.ensure_schema()
        load_source(wh, "online_retail", secret=SECRET, settings=Settings())
        resolve(wh, Settings().identity)
        build_features(wh, as_of=AS_OF.to_pydatetime(), full=True)
        feats = wh.table("profile_features")
        imap = wh.table("identity_map")
        vault = wh.table("pii_vault")
        ids = imap.filter(imap.kind == "user_id").join(vault.filter(vault.kind == "user_id"), ["kind", "key"])
        got = wh.execute(feats.join(ids.select("profile_id", customer=ids.value), "profile_id")
                         .select("customer", "frequency", "monetary_total", "recency_days")
                         .filter(feats.frequency > 0))
    finally:
        wh.close()
    want = _pandas_rfm(datasets / "online_retail" / "online_retail.csv.gz")
    assert len(want) == 4_338 and round(want.monetary_total.sum(), 2) == 8_911_407.90
    got["customer"] = got.customer.str.replace(r"\.0$", "", regex=True)
    got = got.set_index("customer").loc[want.index]  # every one of the 4,338 customers has features
    bad = got.frequency.astype(int) != want.frequency
    assert not bad.any(), f"frequency differs for customers {list(got.index[bad][:10])}"
    assert (got.recency_days.astype(int) == want.recency_days).all()
    pd.testing.assert_series_equal(got.monetary_total.astype(float), want.monetary_total, check_names=False,
                                   rtol=1e-9)
