"""Reason templates rendered in Ibis write the same characters as Python's format, on both engines."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from jingzhun.profile.tags.reasons import MISSING, check_template, render, template_fields


@pytest.fixture
def values(warehouse):
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.normal(0, 1, 40), rng.normal(0, 1e4, 40), rng.uniform(0, 1, 40),
                        [0.0, 1.0, -1.0, 123456789.123, 0.5000001, -2.75, 1e-9]])
    frame = pd.DataFrame({"i": np.arange(len(x)), "x": x, "n": np.arange(len(x)) * 7 - 100,
                          "s": [f"城市{i}" for i in range(len(x))],
                          "d": [dt.date(1990, 1, 1) + dt.timedelta(days=int(i) * 97) for i in range(len(x))],
                          "b": [i % 2 == 0 for i in range(len(x))]})
    return warehouse.stage(frame), frame


def _rendered(warehouse, table, template):
    cols = {name: table[name] for name, _ in template_fields(template)}
    out = warehouse.execute(table.select("i", r=render(template, cols)).order_by("i"))
    return list(out.r)


@pytest.mark.parametrize("spec", [".0f", ".1f", ".2f", ".4f", ".0%", ".1%"])
def test_numbers_match_python(warehouse, values, spec):
    table, frame = values
    got = _rendered(warehouse, table, f"x={{x:{spec}}}")
    want = [f"{v:{spec}}" for v in frame.x]
    # Python keeps the sign of a value that rounds to zero ("-0.00"); reasons never show "-0"
    want = ["x=" + (w[1:] if float(w.rstrip("%")) == 0 and w.startswith("-") else w) for w in want]
    assert got == want


def test_defaults_nulls_and_other_types(warehouse, values):
    table, frame = values
    got = _rendered(warehouse, table, "{n} orders, {x} avg, {s} since {d}, flag {b} {{literal}}")
    want = [f"{n} orders, {x:.2f} avg, {s} since {d.isoformat()}, flag {str(b).lower()} {{literal}}"
            for n, x, s, d, b in zip(frame.n, frame.x, frame.s, frame.d, frame.b)]
    assert got == want
    empty = warehouse.stage(pd.DataFrame({"i": [1], "x": pd.array([None], dtype="Float64"),
                                          "s": pd.array([None], dtype="string")}))
    assert _rendered(warehouse, empty, "spent {x:.0f} in {s}") == [f"spent {MISSING} in {MISSING}"]


def test_template_checks():
    kinds = {"x": "number", "s": "string", "t": "timestamp"}
    assert check_template("a {x:.2f} b {s}", kinds) == [("x", ".2f"), ("s", "")]
    with pytest.raises(KeyError):
        check_template("{y}", kinds)
    for bad in ("{x:.7f}", "{x:d}", "{s:.2f}", "{t}", "{x!s}", "{0}", "{x.y}", "{x[0]}", "}"):
        with pytest.raises(ValueError):
            check_template(bad, kinds)
