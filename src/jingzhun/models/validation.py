"""Input checks shared by the models: exact, vectorised, and with messages that locate the customers.

Every check counts the customers that fail it and names a few of them, by position in the input
(0-based) or, when the input is a pandas Series with its own index, by that index::

    recency is larger than T for 3 customers: positions 4, 17, 230

Models call these once at their public boundary; internal code then trusts its arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from jingzhun.errors import InputError

__all__ = ["ModelInputError", "as_float_array", "fail_where", "check_same_length", "check_weights"]

_SHOWN = 5


class ModelInputError(InputError):
    """Data given to a model's `fit` or prediction methods is not valid for that model."""


def _labels(values: Any) -> tuple[str, np.ndarray | None]:
    """How to name rows: by a pandas index when one is meaningful, else by position."""
    index = getattr(values, "index", None)
    if index is None or callable(index) or type(index).__name__ == "RangeIndex":
        return "positions", None
    return "ids", np.asarray(index)


def fail_where(mask: np.ndarray, what: str, *, field: str, source: Any = None, hint: str | None = None) -> None:
    """Raise ModelInputError if any element of `mask` is true, counting and naming the failures."""
    mask = np.asarray(mask)
    if not mask.any():
        return
    where = np.flatnonzero(mask.ravel())
    kind, labels = _labels(source)
    if labels is not None and labels.shape[0] != mask.size:
        kind, labels = "positions", None
    shown = [str(labels[i]) if labels is not None else str(i) for i in where[:_SHOWN]]
    more = ", ..." if where.size > _SHOWN else ""
    noun = "customer" if where.size == 1 else "customers"
    raise ModelInputError(
        f"{what} for {where.size} {noun}: {kind} {', '.join(shown)}{more}", field=field, hint=hint
    )


def as_float_array(name: str, values: Any) -> np.ndarray:
    """`values` as a float64 array (0-d or 1-d), with NaN and infinities rejected."""
    if values is None:
        raise ModelInputError(f"{name} is missing", field=name)
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelInputError(f"{name} must be numeric ({exc})", field=name) from exc
    if array.ndim > 1:
        raise ModelInputError(f"{name} must be one-dimensional, got shape {array.shape}", field=name)
    fail_where(~np.isfinite(array), f"{name} is NaN or infinite", field=name, source=values,
               hint="drop or fill those customers first")
    return array


def check_same_length(named: dict[str, np.ndarray]) -> int:
    """All arrays one-dimensional and of one length (for `fit`); returns that length."""
    lengths = {name: (a.shape[0] if a.ndim == 1 else None) for name, a in named.items()}
    if any(n is None for n in lengths.values()):
        scalars = [name for name, n in lengths.items() if n is None]
        raise ModelInputError(f"fit needs one value per customer; got a scalar for {', '.join(scalars)}",
                              field=scalars[0])
    if len(set(lengths.values())) > 1:
        described = ", ".join(f"{name} {n}" for name, n in lengths.items())
        raise ModelInputError(f"inputs have different lengths: {described}")
    n = next(iter(lengths.values()))
    if n == 0:
        raise ModelInputError("no customers to fit on (the inputs are empty)")
    return n


def check_weights(weights: Any, n: int) -> np.ndarray:
    """Per-customer weights (counts): finite, non-negative, not all zero. None means ones."""
    if weights is None:
        return np.ones(n)
    w = as_float_array("weights", weights)
    if w.ndim != 1 or w.shape[0] != n:
        raise ModelInputError(f"weights must have one value per customer ({n}), got shape {w.shape}",
                              field="weights")
    fail_where(w < 0, "weights is negative", field="weights", source=weights)
    if not w.sum() > 0:
        raise ModelInputError("weights are all zero", field="weights")
    return w
