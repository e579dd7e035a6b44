"""The registry of model classes: one entry per model, keyed by its `name`.

A model registered here is covered by the shared contract test (tests/models/test_contract.py) and
can be read back from a file with `load_model` without knowing its class.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from jingzhun.errors import InputError
from jingzhun.models.base import Model
from jingzhun.models.btyd import BetaGeoModel, GammaGammaModel, ModifiedBetaGeoModel, ParetoNBDModel
from jingzhun.models.churn import ChurnModel
from jingzhun.models.propensity import PropensityModel
from jingzhun.models.channels import ChannelResponseModel
from jingzhun.models.sendtime import SendTimeModel

__all__ = ["MODELS", "WAREHOUSE_MODELS", "load_model"]

MODELS: dict[str, type[Model]] = {
    cls.name: cls for cls in (BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel, GammaGammaModel, PropensityModel,
                              ChurnModel)
}

#: models fitted on a warehouse's tables rather than on per-customer arrays: loadable, but outside the
#: array contract test (their own tests check fit, predict, save and load)
WAREHOUSE_MODELS: dict[str, type[Model]] = {cls.name: cls for cls in (SendTimeModel, ChannelResponseModel)}


def load_model(path: str | os.PathLike) -> Model:
    """Read any registered model written by `Model.save`."""
    path = Path(path)
    try:
        kind = json.loads(path.read_text(encoding="utf-8")).get("model")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
        raise InputError(f"cannot read a model from it: {exc}", file=str(path)) from exc
    by_class = {cls.__name__: cls for cls in (*MODELS.values(), *WAREHOUSE_MODELS.values())}
    if kind not in by_class:
        raise InputError(f"unknown model {kind!r}; known: {', '.join(sorted(by_class))}", file=str(path))
    return by_class[kind].load(path)
