"""The identity graph: which identifiers belong to one person, and a stable profile id for each.

See docs/identity.md for the graph, the guards against over-merging, the matching rules and the
stability of profile ids.
"""

from jingzhun.identity.components import ConvergenceError, connected_components
from jingzhun.identity.evaluate import pairwise_scores
from jingzhun.identity.explain import Explanation, explain, profile_for
from jingzhun.identity.matching import DEFAULT_RULES, NAME_DOB_CITY, NAME_DOB_POSTCODE, MatchRule
from jingzhun.identity.resolve import IdentityResult, resolve

__all__ = [
    "resolve", "IdentityResult", "MatchRule", "DEFAULT_RULES", "NAME_DOB_POSTCODE", "NAME_DOB_CITY", "explain", "Explanation", "profile_for",
    "pairwise_scores", "connected_components", "ConvergenceError",
]
