"""Recommendations (see docs/recommendations.md): who should be shown which products, and why.

Interactions come from the warehouse (:mod:`~jingzhun.recommend.interactions`, Ibis); recommenders
share one interface (:mod:`~jingzhun.recommend.base`): popularity, item-item similarity, implicit ALS
(and Spark's), content-based and a hybrid with learned weights; business rules and reasons turn scores
into the lists a marketer sees (:mod:`~jingzhun.recommend.rules`, :mod:`~jingzhun.recommend.scoring`);
:mod:`~jingzhun.recommend.evaluation` measures them offline.
"""

from jingzhun.recommend.base import Recommender
from jingzhun.recommend.content import ContentRecommender
from jingzhun.recommend.evaluation import Evaluation, evaluate, ranking_metrics
from jingzhun.recommend.factors import ALSRecommender, SparkALSRecommender
from jingzhun.recommend.hybrid import HybridRecommender
from jingzhun.recommend.interactions import (
    Interactions,
    TimeSplit,
    attach_groups,
    interaction_table,
    load_interactions,
    time_split,
)
from jingzhun.recommend.neighbours import ItemKNNRecommender
from jingzhun.recommend.popularity import PopularityRecommender
from jingzhun.recommend.registry import RECOMMENDERS, load_recommender, make_recommender
from jingzhun.recommend.rules import BusinessRules
from jingzhun.recommend.scoring import recommend_all, write_recommendations

__all__ = [
    "Recommender", "PopularityRecommender", "ItemKNNRecommender", "ALSRecommender", "SparkALSRecommender",
    "ContentRecommender", "HybridRecommender", "RECOMMENDERS", "make_recommender", "load_recommender",
    "Interactions", "TimeSplit", "load_interactions", "interaction_table", "attach_groups", "time_split",
    "BusinessRules", "recommend_all", "write_recommendations", "Evaluation", "evaluate", "ranking_metrics",
]
