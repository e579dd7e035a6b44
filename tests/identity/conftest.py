"""Small canonical tables for identity tests, built row by row."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from jingzhun.identity import resolve
from jingzhun.warehouse import Warehouse

_T0 = pd.Timestamp("2024-01-01", tz="UTC")
_seq = itertools.count()


def customer(source: str, record_id: str, **cols) -> dict:
    return {"source": source, "record_id": record_id, "load_id": "l1", "quality_flags": "", **cols}


def order(order_id: str, *, day: int = 0, source: str = "shop", **ids) -> dict:
    return {"source": source, "order_id": order_id, "load_id": "l1", "quality_flags": "",
            "ordered_at": _T0 + pd.Timedelta(days=day), "status": "completed", "is_return": False,
            "currency": "CNY", "amount": 10.0, "n_lines": 1, **ids}


def event(type_: str, *, day: int = 0, flags: str = "", message_id: str | None = None, **ids) -> dict:
    return {"source": "web", "message_id": message_id or f"m{next(_seq)}", "type": type_, "load_id": "l1",
            "quality_flags": flags, "timestamp": _T0 + pd.Timedelta(days=day), **ids}


class World:
    """Rows to load, and helpers to resolve and read the result."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.wh = warehouse

    def load(self, customers=(), orders=(), events=()) -> None:
        for name, rows in (("customers", customers), ("orders", orders), ("events", events)):
            if rows:
                frame = pd.DataFrame(list(rows))
                if "birth_date" in frame:
                    frame["birth_date"] = pd.to_datetime(frame["birth_date"]).dt.date
                self.wh.append(name, frame)

    def resolve(self, **kwargs):
        return resolve(self.wh, **kwargs)

    def map(self) -> pd.DataFrame:
        t = self.wh.table("identity_map")
        return self.wh.execute(t).sort_values(["kind", "key"]).reset_index(drop=True)

    def pid(self, kind: str, key: str) -> str:
        m = self.map()
        got = m[(m.kind == kind) & (m.key == key)]
        assert len(got) == 1, f"{kind} {key} not in identity_map"
        return got.profile_id.iloc[0]

    def shared(self, kind: str, key: str) -> bool:
        m = self.map()
        return bool(m[(m.kind == kind) & (m.key == key)].is_shared.iloc[0])


@pytest.fixture
def world(warehouse) -> World:
    return World(warehouse)
