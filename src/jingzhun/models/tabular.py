"""Input checks for the models that learn from a table of features per person (propensity, churn).

The same habits as :mod:`jingzhun.models.validation`: checked once at the public boundary, failures
counted and located (by position, or by the frame's own index when it has one), a hint on what to do.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from jingzhun.models.validation import ModelInputError, as_float_array, fail_where

__all__ = ["feature_matrix", "binary_outcome", "check_rows"]


def feature_matrix(features: Any, *, columns: list[str] | None = None,
                   allow_missing: bool) -> tuple[np.ndarray, list[str]]:
    """A float64 matrix (people x features) and the column names, from a pandas DataFrame.

    ``columns`` (the names a fitted model knows) selects and orders the columns, so extra columns are
    ignored and a missing one is an error that names it. Missing values (NaN) are allowed only with
    ``allow_missing``; infinities never are.
    """
    if not isinstance(features, pd.DataFrame):
        raise ModelInputError(f"features must be a pandas DataFrame with one column per feature, got "
                              f"{type(features).__name__}", field="features")
    if columns is None:
        columns = [str(c) for c in features.columns]
        if not columns:
            raise ModelInputError("features has no columns", field="features")
    else:
        absent = [c for c in columns if c not in features.columns]
        if absent:
            raise ModelInputError(f"features lack the column(s) the model was fitted on: {', '.join(absent)}",
                                  field=absent[0])
    matrix = np.empty((len(features), len(columns)), dtype=np.float64)
    for j, name in enumerate(columns):
        column = features[name]
        if not (pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)):
            raise ModelInputError(f"feature {name!r} is not numeric (dtype {column.dtype})", field=name,
                                  hint="encode it as numbers or leave it out")
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        fail_where(np.isinf(values), f"feature {name!r} is infinite", field=name, source=column)
        if not allow_missing:
            fail_where(np.isnan(values), f"feature {name!r} is NaN (missing)", field=name, source=column,
                       hint="fill missing values before fitting this model")
        matrix[:, j] = values
    return matrix, list(columns)


def binary_outcome(name: str, values: Any) -> np.ndarray:
    """A 0/1 outcome per person as float64 (booleans allowed); anything else is counted and located."""
    if isinstance(values, pd.Series) and pd.api.types.is_bool_dtype(values):
        values = values.astype("float64")
    y = as_float_array(name, values)
    if y.ndim != 1:
        raise ModelInputError(f"{name} needs one value per person", field=name)
    fail_where((y != 0) & (y != 1), f"{name} is not 0 or 1", field=name, source=values)
    return y


def check_rows(n_features: int, **others: np.ndarray) -> int:
    """Every per-person input has the features' number of rows; there is at least one row."""
    lengths = {"features": n_features, **{k: v.shape[0] for k, v in others.items()}}
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{k} {n}" for k, n in lengths.items())
        raise ModelInputError(f"inputs have different lengths: {described}")
    if n_features == 0:
        raise ModelInputError("no people to fit on (the inputs are empty)")
    return n_features
