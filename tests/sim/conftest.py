"""A small simulated world shared by the simulator's tests (built once per session)."""

from __future__ import annotations

import pandas as pd
import pytest

from jingzhun.sim import simulate


@pytest.fixture(scope="session")
def world():
    return simulate(3_000, seed=11)


@pytest.fixture(scope="session")
def world_dir(world, tmp_path_factory):
    return world.write(tmp_path_factory.mktemp("sim-world"))


@pytest.fixture(scope="session")
def owner(world):
    """(kind, value) -> person_id for identifiers that belong to one person."""
    ids = world.identifiers.to_pandas()
    ids = ids[~ids.is_shared & ids.person_id.notna()]
    return {(k, v): p for k, v, p in zip(ids.kind, ids.value, ids.person_id)}


def person_of(frame: pd.DataFrame, owner: dict, columns: dict[str, str]) -> pd.Series:
    """The true person of each row, from the first identifier column (source column -> kind) that knows."""
    out = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    for column, kind in columns.items():
        found = frame[column].map(lambda v, k=kind: owner.get((k, v)) if isinstance(v, str) else None)
        out = out.where(out.notna(), found)
    return out
