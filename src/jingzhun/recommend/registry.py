"""The recommenders by name, and reading any saved one back."""

from __future__ import annotations

import os
from typing import Any

from jingzhun.errors import InputError
from jingzhun.recommend.base import Recommender, read_document
from jingzhun.recommend.content import ContentRecommender
from jingzhun.recommend.factors import ALSRecommender, SparkALSRecommender
from jingzhun.recommend.hybrid import HybridRecommender
from jingzhun.recommend.neighbours import ItemKNNRecommender
from jingzhun.recommend.popularity import PopularityRecommender

__all__ = ["RECOMMENDERS", "make_recommender", "recommender_class", "load_recommender"]

#: name -> (class, fixed parameters): the names the CLI and the hybrid's components use
RECOMMENDERS: dict[str, tuple[type[Recommender], dict[str, Any]]] = {
    "popularity": (PopularityRecommender, {}),
    "item_knn": (ItemKNNRecommender, {"similarity": "cosine"}),
    "bm25": (ItemKNNRecommender, {"similarity": "bm25"}),
    "als": (ALSRecommender, {}),
    "content": (ContentRecommender, {}),
    "hybrid": (HybridRecommender, {}),
}

_CLASSES = {cls.__name__: cls for cls in (PopularityRecommender, ItemKNNRecommender, ALSRecommender,
                                          SparkALSRecommender, ContentRecommender, HybridRecommender)}


def make_recommender(name: str, *, engine: str = "duckdb", **params: Any) -> Recommender:
    """An unfitted recommender by name; on the Spark engine ALS is Spark's (pyspark.ml)."""
    if name not in RECOMMENDERS:
        raise InputError(f"unknown recommender {name!r}; choose one of {', '.join(RECOMMENDERS)}", field="model")
    cls, fixed = RECOMMENDERS[name]
    if cls is ALSRecommender and engine == "pyspark":
        cls = SparkALSRecommender
    return cls(**{**fixed, **params})


def recommender_class(class_name: str) -> type[Recommender]:
    if class_name not in _CLASSES:
        raise InputError(f"unknown recommender class {class_name!r}; known: {', '.join(sorted(_CLASSES))}")
    return _CLASSES[class_name]


def load_recommender(path: str | os.PathLike) -> Recommender:
    """Read any recommender written by ``Recommender.save``."""
    document, arrays = read_document(path)
    return recommender_class(document["model"])._from_parts(document, arrays)
