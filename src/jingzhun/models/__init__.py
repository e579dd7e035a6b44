"""models layer (see docs/architecture.md and docs/models.md).

Statistical models with scikit-learn conventions (parameters in `__init__`, `fit` returns self,
fitted state in `*_` attributes) and JSON persistence: the buy-till-you-die models (BG/NBD, MBG/NBD,
Pareto/NBD, Gamma-Gamma), purchase propensity (LightGBM, calibrated), churn (Cox lapse hazard), and the
two that campaigns use: the best send time and the expected response per channel.
The registry of fitted models in the warehouse is :mod:`jingzhun.models.store`; scores for everyone
come from :mod:`jingzhun.models.scoring`.
"""

from jingzhun.models.base import Model, ParametricModel
from jingzhun.models.btyd import BetaGeoModel, BTYDModel, GammaGammaModel, ModifiedBetaGeoModel, ParetoNBDModel
from jingzhun.models.channels import ChannelResponseModel
from jingzhun.models.churn import ChurnModel
from jingzhun.models.estimation import ConvergenceError
from jingzhun.models.propensity import PropensityModel
from jingzhun.models.registry import MODELS, load_model
from jingzhun.models.sendtime import SendTimeModel
from jingzhun.models.validation import ModelInputError

__all__ = [
    "Model", "ParametricModel", "BTYDModel", "BetaGeoModel", "ModifiedBetaGeoModel", "ParetoNBDModel",
    "GammaGammaModel", "PropensityModel", "ChurnModel", "SendTimeModel", "ChannelResponseModel", "MODELS", "load_model", "ModelInputError", "ConvergenceError",
]
