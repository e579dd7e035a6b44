"""models layer (see docs/architecture.md and docs/models.md).

Statistical models with scikit-learn conventions (parameters in `__init__`, `fit` returns self,
fitted state in `*_` attributes) and JSON persistence: the buy-till-you-die models (BG/NBD, MBG/NBD,
Pareto/NBD, Gamma-Gamma), purchase propensity (LightGBM, calibrated) and churn (Cox lapse hazard).
The registry of fitted models in the warehouse is :mod:`jingzhun.models.store`; scores for everyone
come from :mod:`jingzhun.models.scoring`.
"""

from jingzhun.models.base import Model, ParametricModel
from jingzhun.models.btyd import BetaGeoModel, BTYDModel, GammaGammaModel, ModifiedBetaGeoModel, ParetoNBDModel
from jingzhun.models.churn import ChurnModel
from jingzhun.models.estimation import ConvergenceError
from jingzhun.models.propensity import PropensityModel
from jingzhun.models.registry import MODELS, load_model
from jingzhun.models.validation import ModelInputError

__all__ = [
    "Model", "ParametricModel", "BTYDModel", "BetaGeoModel", "ModifiedBetaGeoModel", "ParetoNBDModel",
    "GammaGammaModel", "PropensityModel", "ChurnModel", "MODELS", "load_model", "ModelInputError", "ConvergenceError",
]
