"""The Ibis components kernel against a plain union-find, and its bound on rounds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from jingzhun.identity import ConvergenceError, MatchRule
from jingzhun.identity.components import Scratch, connected_components


def _reference(a, b) -> dict[str, str]:
    parent: dict[str, str] = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            x = parent[x]
        return x

    for x, y in zip(a, b):
        rx, ry = find(x), find(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)
    return {x: find(x) for x in parent}


def _graph(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 400, 300)
    b = rng.integers(0, 400, 300)
    chain = np.arange(1000, 1130)  # a long path, in shuffled order, to need several rounds
    order = rng.permutation(len(chain) - 1)
    a = np.concatenate([a, chain[:-1][order]])
    b = np.concatenate([b, chain[1:][order]])
    frame = pd.DataFrame({"a": [f"n{x:05d}" for x in a], "b": [f"n{x:05d}" for x in b]})
    return frame[frame.a != frame.b].reset_index(drop=True)


def test_components_match_union_find(warehouse):
    frame = _graph()
    scratch = Scratch(warehouse)
    comps = connected_components(scratch, scratch.stage(frame))
    got = warehouse.execute(comps.labels)
    assert dict(zip(got.node, got.label)) == _reference(frame.a, frame.b)
    assert 2 <= comps.rounds <= 12
    scratch.drop_all()


def test_seeded_components_finish_fast_and_agree(warehouse):
    frame = _graph(1)
    scratch = Scratch(warehouse)
    half = scratch.stage(frame.iloc[: len(frame) // 2])
    seed = connected_components(scratch, half).labels
    full = connected_components(scratch, scratch.stage(frame), seed=seed)
    got = warehouse.execute(full.labels)
    assert dict(zip(got.node, got.label)) == _reference(frame.a, frame.b)
    scratch.drop_all()


def test_rounds_are_bounded(warehouse):
    frame = _graph(2)
    scratch = Scratch(warehouse)
    with pytest.raises(ConvergenceError, match="max_iterations"):
        connected_components(scratch, scratch.stage(frame), max_iterations=1)
    scratch.drop_all()


def test_match_rules_are_checked():
    with pytest.raises(ValueError, match="name_key"):
        MatchRule(name="dob_only", equal=("birth_date", "postcode"))
    with pytest.raises(ValueError, match="not customer columns"):
        MatchRule(name="typo", equal=("name_key", "birthdate"))
    rule = MatchRule(name="r", equal=("name_key", "birth_date"))
    assert MatchRule.model_validate_json(rule.model_dump_json()) == rule
