"""Buy-till-you-die models: BG/NBD, MBG/NBD, Pareto/NBD purchase models, the Gamma-Gamma spend model,
their data preparation (`data`) and evaluation (`evaluation`). See docs/models.md."""

from jingzhun.models.btyd.base import BTYDModel
from jingzhun.models.btyd.bgnbd import BetaGeoModel, ModifiedBetaGeoModel
from jingzhun.models.btyd.gammagamma import GammaGammaModel
from jingzhun.models.btyd.paretonbd import ParetoNBDModel

__all__ = ["BTYDModel", "BetaGeoModel", "ModifiedBetaGeoModel", "ParetoNBDModel", "GammaGammaModel"]
