"""Clustering segments: k-means on standardised profile features, k chosen by silhouette.

1. **Features.** A chosen list of numeric ``profile_features`` columns (default: recency, frequency,
   monetary total, average order value, tenure) over the buyers. Money and count features are skewed,
   so they enter as ``log1p(max(x, 0))``; then every feature is standardised with the mean and standard
   deviation of the fitting sample. A missing value becomes 0 after standardising (the sample mean).
2. **Fit** on a seeded sample (default 20,000 buyers, drawn by the SHA-256 of the profile id and the
   seed, the same rows on every engine): scikit-learn's k-means (k-means++ starts, 10 runs) for each k
   in the range (default 2 to 8), and k is the one with the **largest mean silhouette** (computed on up
   to 5,000 sample rows), the usual criterion when nothing else is known: it rewards clusters that are
   tight and well apart. Ties go to the smaller k. Clusters are numbered by size, largest first, and
   the sample is sorted by profile id before fitting, so a fit does not depend on the order an engine
   returns rows in.
3. **Assignment** of every profile happens in Ibis, on any engine and at any size: the profile's
   standardised features, and the nearest centroid by squared Euclidean distance (ties: the lower
   cluster number). The transforms, means, standard deviations and centroids are saved with each
   cluster segment, so assigning again gives the same clusters.
4. **Description.** Each cluster is described by the features whose cluster mean (in standardised
   units) lies furthest from everyone's (0): up to three with |z| >= 0.5, in words such as "buys often
   (+1.4 sd)".
"""

from __future__ import annotations

import logging
import math

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from jingzhun.errors import ConfigError, NotFittedError
from jingzhun.segment.saved import Segment, delete_segment, list_segments, save_segment

__all__ = ["ClusterModel", "DEFAULT_FEATURES", "LOG_FEATURES", "seeded_sample", "buyers", "save_cluster_segments",
           "CLUSTER_PREFIX"]

log = logging.getLogger(__name__)

DEFAULT_FEATURES = ("recency_days", "frequency", "monetary_total", "avg_order_value", "tenure_days")
LOG_FEATURES = frozenset({"frequency", "purchase_days", "monetary_total", "monetary_mean", "avg_order_value",
                          "returns", "returned_amount", "n_events", "events_90d", "mean_units", "mean_lines",
                          "n_categories", "n_brands"})
CLUSTER_PREFIX = "Cluster "
# feature -> (words when high, words when low)
_WORDS = {
    "recency_days": ("last bought long ago", "bought recently"),
    "frequency": ("buys often", "buys rarely"),
    "purchase_days": ("buys on many days", "buys on few days"),
    "monetary_total": ("spends much", "spends little"),
    "monetary_mean": ("spends much per purchase day", "spends little per purchase day"),
    "avg_order_value": ("large orders", "small orders"),
    "tenure_days": ("customer for long", "customer since recently"),
    "discount_share": ("buys on discount", "rarely uses discounts"),
    "return_rate": ("returns often", "rarely returns"),
    "n_categories": ("buys across many categories", "buys in few categories"),
    "events_90d": ("engaged lately", "not engaged lately"),
}


def seeded_sample(table: ir.Table, n: int, seed: int) -> ir.Table:
    """Up to ``n`` rows chosen by the SHA-256 of profile id and seed: the same rows on every engine
    (``sample(seed=)`` is not available on Spark)."""
    key = (table.profile_id + ibis.literal(f"#{seed}")).hexdigest("sha256")
    return table.mutate(_key=key).order_by(["_key", "profile_id"]).limit(n).drop("_key")


def _describe(z: pd.Series) -> str:
    far = z[z.abs() >= 0.5].reindex(z.abs().sort_values(ascending=False).index).dropna()[:3]
    if far.empty:
        return "close to the average on every feature"
    parts = []
    for feature, value in far.items():
        high, low = _WORDS.get(feature, (f"high {feature}", f"low {feature}"))
        parts.append(f"{high if value > 0 else low} ({value:+.1f} sd)")
    return ", ".join(parts)


class ClusterModel:
    """k-means on standardised features with k chosen by silhouette (see the module docstring)."""

    def __init__(self, *, features: tuple[str, ...] = DEFAULT_FEATURES, k_min: int = 2, k_max: int = 8,
                 seed: int = 0, n_init: int = 10, silhouette_rows: int = 5_000) -> None:
        self.features = tuple(features)
        self.k_min = k_min
        self.k_max = k_max
        self.seed = seed
        self.n_init = n_init
        self.silhouette_rows = silhouette_rows

    # -- fitting ---------------------------------------------------------------------------------------
    def _check(self, frame: pd.DataFrame) -> None:
        missing = [f for f in self.features if f not in frame.columns]
        if missing:
            raise ConfigError(f"clustering features {missing} are not columns of the profile features; "
                              f"numeric columns there include {', '.join(DEFAULT_FEATURES)}")
        if not 2 <= self.k_min <= self.k_max:
            raise ConfigError("the number of clusters is chosen between k_min >= 2 and k_max >= k_min; "
                              f"got {self.k_min}..{self.k_max}")
        if len(frame) <= self.k_max:
            raise ConfigError(f"{len(frame)} profiles are too few to try up to {self.k_max} clusters")

    def _transformed(self, frame: pd.DataFrame) -> pd.DataFrame:
        out = pd.DataFrame(index=frame.index)
        for f in self.features:
            x = pd.to_numeric(frame[f], errors="coerce").astype("float64")
            out[f] = np.log1p(x.clip(lower=0)) if f in LOG_FEATURES else x
        return out

    def fit(self, frame: pd.DataFrame) -> "ClusterModel":
        """Fit on a pandas sample with the feature columns (see :func:`seeded_sample`)."""
        from sklearn.cluster import KMeans
        from sklearn.metrics import silhouette_score

        self._check(frame)
        if "profile_id" in frame.columns:  # the same fit whatever order the engine returned the rows in
            frame = frame.sort_values("profile_id", kind="stable").reset_index(drop=True)
        x = self._transformed(frame)
        mean = x.mean()
        sd = x.std(ddof=0).replace(0.0, 1.0).fillna(1.0)
        z = ((x - mean) / sd).fillna(0.0).to_numpy()
        rows = min(self.silhouette_rows, len(z))
        scores, fits = {}, {}
        for k in range(self.k_min, self.k_max + 1):
            km = KMeans(n_clusters=k, n_init=self.n_init, random_state=self.seed).fit(z)
            if len(set(km.labels_)) < 2:
                continue
            scores[k] = float(silhouette_score(z, km.labels_, sample_size=rows, random_state=self.seed))
            fits[k] = km
        if not scores:
            raise ConfigError("the profiles do not split into two clusters or more on these features")
        best = max(scores, key=lambda k: (scores[k], -k))
        km = fits[best]
        # number the clusters by size, largest first (k-means' own numbering is arbitrary)
        counts = np.bincount(km.labels_, minlength=best)
        order = sorted(range(best), key=lambda c: (-counts[c], tuple(km.cluster_centers_[c])))
        self.k_ = best
        self.silhouettes_ = scores
        self.means_ = {f: float(mean[f]) for f in self.features}
        self.sds_ = {f: float(sd[f]) for f in self.features}
        self.centroids_ = [[float(v) for v in km.cluster_centers_[c]] for c in order]
        labels = pd.Series(np.argsort(order)[km.labels_])
        zframe = pd.DataFrame(z, columns=list(self.features))
        self.sizes_ = [int((labels == c).sum()) for c in range(best)]
        self.profiles_ = [{f: round(float(v), 3) for f, v in zframe[labels == c].mean().items()} for c in range(best)]
        self.descriptions_ = [_describe(zframe[labels == c].mean()) for c in range(best)]
        self.sample_size_ = len(frame)
        return self

    def _fitted(self) -> None:
        if not hasattr(self, "centroids_"):
            raise NotFittedError("fit the cluster model first (ClusterModel(...).fit(sample))")

    # -- assigning -------------------------------------------------------------------------------------
    def standardised(self, table: ir.Table) -> dict[str, ir.FloatingValue]:
        """The standardised features of each row of ``table``, as Ibis columns (0 where missing)."""
        self._fitted()
        out = {}
        for f in self.features:
            x = table[f].cast("float64")
            if f in LOG_FEATURES:
                x = (ibis.greatest(x, 0.0) + 1.0).ln()
            out[f] = ((x - self.means_[f]) / self.sds_[f]).fill_null(0.0)
        return out

    def assign(self, table: ir.Table) -> ir.Table:
        """``table`` (profile_id and the features) with ``cluster`` (0-based) and ``distance`` to its centroid."""
        z = self.standardised(table)
        dists = [sum((z[f] - c[j]) ** 2 for j, f in enumerate(self.features)) for c in self.centroids_]
        best, low = ibis.literal(0), dists[0]
        for c, d in enumerate(dists[1:], 1):
            best = ibis.ifelse(d < low, c, best)
            low = ibis.least(low, d)
        return table.mutate(cluster=best.cast("int64"), distance=low.sqrt())

    # -- storing ---------------------------------------------------------------------------------------
    def to_rule(self) -> dict:
        """Everything assignment needs, as JSON-ready data."""
        self._fitted()
        return {"features": list(self.features), "log1p": sorted(f for f in self.features if f in LOG_FEATURES),
                "means": self.means_, "sds": self.sds_, "centroids": self.centroids_, "k": self.k_,
                "silhouettes": {str(k): round(v, 4) for k, v in self.silhouettes_.items()}, "seed": self.seed,
                "sample_size": self.sample_size_, "population": "buyers"}

    @classmethod
    def from_rule(cls, rule: dict) -> "ClusterModel":
        model = cls(features=tuple(rule["features"]), seed=rule.get("seed", 0))
        logs = set(rule.get("log1p", ()))
        if logs != {f for f in model.features if f in LOG_FEATURES}:
            raise ConfigError(f"a saved clustering transforms {sorted(logs)} with log1p; this version would transform "
                              f"{sorted(f for f in model.features if f in LOG_FEATURES)}: fit the clusters again")
        model.k_ = int(rule["k"])
        model.means_ = {f: float(v) for f, v in rule["means"].items()}
        model.sds_ = {f: float(v) for f, v in rule["sds"].items()}
        model.centroids_ = [[float(v) for v in c] for c in rule["centroids"]]
        model.silhouettes_ = {int(k): float(v) for k, v in rule.get("silhouettes", {}).items()}
        model.sample_size_ = rule.get("sample_size")
        if any(not math.isfinite(v) for c in model.centroids_ for v in c):
            raise ConfigError("a saved clustering has a centroid that is not finite: fit the clusters again")
        return model


def buyers(features: ir.Table) -> ir.Table:
    """The population clusters are fitted on and assigned to: profiles with a purchase."""
    return features.filter(features.frequency > 0)


def save_cluster_segments(warehouse, model: ClusterModel, *, prefix: str = CLUSTER_PREFIX) -> list[tuple[Segment, str]]:
    """Save one segment per cluster (kind ``cluster``), named ``Cluster 1`` ... ``Cluster k``, each with the
    whole model in its rule; cluster segments of an earlier fit beyond k are deleted."""
    rule = model.to_rule()
    out = []
    for c in range(model.k_):
        out.append(save_segment(warehouse, f"{prefix}{c + 1}", {**rule, "cluster": c}, kind="cluster",
                                description=model.descriptions_[c]))
    for seg in list_segments(warehouse, kind="cluster"):
        number = seg.name[len(prefix):]
        if seg.name.startswith(prefix) and number.isdigit() and int(number) > model.k_:
            delete_segment(warehouse, seg.segment_id)
    return out
