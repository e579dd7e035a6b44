"""A simulated shop in a DuckDB warehouse with each profile's true tastes: the referee's data for recommenders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from jingzhun.config import Settings
from jingzhun.identity import resolve
from jingzhun.pipeline import load_source
from jingzhun.pipeline.demo import write_simulation
from jingzhun.pipeline.referee import person_profiles
from jingzhun.warehouse import Warehouse

SECRET = "c4" * 32
END = "2024-12-31T16:00:00Z"  # the end of the simulated window


def build(root: Path, customers: int, seed: int) -> tuple[Path, pd.DataFrame]:
    """Simulate, load (orders, lines, products and the identifiers' sources), resolve identities.

    Returns the warehouse file and the true persons with their profile_id.
    """
    mapping = write_simulation(root / "world", customers=customers, seed=seed)
    spec = yaml.safe_load(mapping.read_text(encoding="utf-8"))
    spec["files"] = [f for f in spec["files"] if f["table"] in ("orders", "order_lines", "products", "customers",
                                                                 "stores")]
    mapping.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    settings = Settings()
    path = root / "w.duckdb"
    wh = Warehouse.duckdb(path)
    try:
        wh.ensure_schema()
        load_source(wh, mapping, secret=SECRET, settings=settings)
        resolve(wh, settings.identity)
        people = person_profiles(wh, root / "world" / "truth", secret=SECRET, settings=settings)
    finally:
        wh.close()
    persons = pd.read_parquet(root / "world" / "truth" / "persons.parquet")
    return path, persons.merge(people, on="person_id")


def category_hits(recommended: np.ndarray, item_category: np.ndarray, truth: pd.DataFrame) -> pd.DataFrame:
    """Per person: share of her recommended items in her true top-3 categories, and whether the first
    recommendation is in her true favourite category. ``truth`` is aligned with ``recommended``'s rows."""
    top3 = truth[["top_category_1", "top_category_2", "top_category_3"]].to_numpy(dtype=object)
    cats = np.where(recommended >= 0, item_category[np.maximum(recommended, 0)], None)
    in_top3 = (cats[:, :, None] == top3[:, None, :]).any(axis=2)
    valid = recommended >= 0
    return pd.DataFrame({"top3_share": in_top3.sum(axis=1) / np.maximum(valid.sum(axis=1), 1),
                         "first_is_favourite": cats[:, 0] == top3[:, 0]})
