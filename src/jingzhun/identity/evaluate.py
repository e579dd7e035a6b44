"""Scoring a resolution against the truth: pairwise precision and recall from cluster sizes.

Two items form a *predicted pair* when they share a predicted label and a *true pair* when they share a
true label. Precision is the share of predicted pairs that are true pairs, recall the share of true
pairs that are predicted. Counting pairs from cluster sizes (a cluster of n items has n(n-1)/2 pairs,
and the pairs both right are those inside each (predicted, true) cell) needs one group-by per count,
so millions of items score in a second; no pair is ever enumerated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["pairwise_scores"]


def _pairs(sizes: pd.Series) -> int:
    n = sizes.astype("int64")
    return int((n * (n - 1) // 2).sum())


def pairwise_scores(predicted: pd.Series, truth: pd.Series) -> tuple[float, float]:
    """(precision, recall) of ``predicted`` labels against ``truth`` labels for the same items.

    The two series are aligned by position; an item whose label is missing (NaN or None) is alone in
    its own cluster. With no predicted pairs precision is 1.0; with no true pairs recall is 1.0.
    """
    if len(predicted) != len(truth):
        raise ValueError(f"predicted has {len(predicted)} items and truth {len(truth)}: they must be the same items")
    frame = pd.DataFrame({"p": predicted.to_numpy(), "t": truth.to_numpy()})
    for col in ("p", "t"):
        missing = frame[col].isna().to_numpy()
        frame[col] = frame[col].astype(object)
        if missing.any():  # each unlabelled item gets a label no other item has
            frame.loc[missing, col] = ["\x00" + str(i) for i in np.flatnonzero(missing)]
    predicted_pairs = _pairs(frame.groupby("p").size())
    true_pairs = _pairs(frame.groupby("t").size())
    both = _pairs(frame.groupby(["p", "t"]).size())
    precision = both / predicted_pairs if predicted_pairs else 1.0
    recall = both / true_pairs if true_pairs else 1.0
    return precision, recall
