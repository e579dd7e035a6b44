"""models layer (see docs/architecture.md and docs/models.md).

Statistical models with scikit-learn conventions (parameters in `__init__`, `fit` returns self,
fitted state in `*_` attributes) and JSON persistence. Part 1: the buy-till-you-die models.
"""

from jingzhun.models.base import Model, ParametricModel
from jingzhun.models.btyd import BetaGeoModel, BTYDModel, GammaGammaModel, ModifiedBetaGeoModel, ParetoNBDModel
from jingzhun.models.estimation import ConvergenceError
from jingzhun.models.registry import MODELS, load_model
from jingzhun.models.validation import ModelInputError

__all__ = [
    "Model", "ParametricModel", "BTYDModel", "BetaGeoModel", "ModifiedBetaGeoModel", "ParetoNBDModel",
    "GammaGammaModel", "MODELS", "load_model", "ModelInputError", "ConvergenceError",
]
