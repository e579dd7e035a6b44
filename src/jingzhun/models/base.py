"""What every jingzhun model shares: parameters in `__init__`, fitted state in `*_` attributes,
`get_params`, a readable `repr`, the fitted check, and JSON save/load.

A model file is plain JSON (no pickle)::

    {"format": "jingzhun.model", "format_version": 1, "model": "BetaGeoModel",
     "jingzhun_version": "0.1.0", "init_params": {...}, "params": {...},
     "log_likelihood": ..., "n_customers": ..., "standard_errors": {...} | null, "fit": {...}}

Floats are written with `repr`, so a loaded model predicts exactly what the saved one did.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from jingzhun import __version__
from jingzhun.errors import InputError, NotFittedError
from jingzhun.models.estimation import maximise_likelihood, standard_errors, unique_rows
from jingzhun.models.validation import ModelInputError

__all__ = ["Model", "ParametricModel", "FORMAT_VERSION"]

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


class Model:
    """Base of the models: scikit-learn conventions, JSON persistence."""

    #: registry key (see jingzhun.models.MODELS)
    name: ClassVar[str] = ""
    #: what `fit` takes per customer, in order
    input_names: ClassVar[tuple[str, ...]] = ()
    #: what `predict` takes, when it is not all of `input_names` (the outcomes a model learns from)
    predict_input_names: ClassVar[tuple[str, ...] | None] = None

    def get_params(self) -> dict[str, Any]:
        """The constructor's parameters, so that ``type(m)(**m.get_params())`` is an unfitted clone."""
        names = [p.name for p in inspect.signature(type(self).__init__).parameters.values()
                 if p.name != "self" and p.kind is not inspect.Parameter.VAR_KEYWORD]
        return {name: getattr(self, name) for name in names}

    @property
    def is_fitted(self) -> bool:
        return getattr(self, "params_", None) is not None

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet: call fit(...) first, or load(path)")

    def __repr__(self) -> str:
        config = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        text = f"{type(self).__name__}({config})"
        if self.is_fitted:
            text += " fitted: " + ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        return text

    # -- persistence -------------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        raise NotImplementedError

    def _set_state(self, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def save(self, path: str | os.PathLike) -> Path:
        """Write the fitted model as JSON to `path`; returns the path."""
        self._check_fitted()
        document = {
            "format": "jingzhun.model",
            "format_version": FORMAT_VERSION,
            "model": type(self).__name__,
            "jingzhun_version": __version__,
            "init_params": self.get_params(),
            **self._state(),
        }
        path = Path(path)
        path.write_text(json.dumps(document, indent=2, allow_nan=True) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> Model:
        """Read a model written by `save`. Called on a model class, the file must hold that model."""
        path = Path(path)
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"cannot read a model from it: {exc}", file=str(path)) from exc
        if not isinstance(document, dict) or document.get("format") != "jingzhun.model":
            raise InputError("not a jingzhun model file", file=str(path))
        if document.get("format_version", 0) > FORMAT_VERSION:
            raise InputError(f"model format version {document['format_version']} is newer than this "
                             f"jingzhun reads ({FORMAT_VERSION}): upgrade jingzhun", file=str(path))
        if document.get("model") != cls.__name__:
            raise InputError(f"the file holds a {document.get('model')}, not a {cls.__name__} "
                             "(jingzhun.models.load_model reads any model)", file=str(path))
        model = cls(**document.get("init_params", {}))
        model._set_state(document)
        return model


class ParametricModel(Model):
    """A model fitted by maximum likelihood over compressed rows of per-customer inputs.

    Subclasses define `param_names`, `_loglik(params, *columns)` (log-likelihood per row),
    optionally `_loglik_gradient(params, *columns)` (shape rows x params), and `_start(...)`.
    """

    param_names: ClassVar[tuple[str, ...]] = ()

    def _loglik(self, params: np.ndarray, *columns: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    _loglik_gradient: ClassVar[Any] = None

    def _prepare(self, uniques: list[np.ndarray], counts: np.ndarray) -> Any:
        """Whatever `_total` needs, computed once per fit from the distinct rows and their counts."""
        return uniques, counts

    def _total(self, params: np.ndarray, prepared: Any) -> float:
        """Summed log-likelihood of the prepared rows (plain version: weights @ per-row values)."""
        uniques, counts = prepared
        return float(counts @ self._loglik(params, *uniques))

    def _total_with_gradient(self, params: np.ndarray, prepared: Any) -> tuple[float, np.ndarray]:
        """Summed log-likelihood and its gradient (only when `_loglik_gradient` exists)."""
        uniques, counts = prepared
        return float(counts @ self._loglik(params, *uniques)), counts @ self._loglik_gradient(params, *uniques)

    def _start(self, columns: list[np.ndarray], weights: np.ndarray) -> np.ndarray:
        return np.ones(len(self.param_names))

    def _params_array(self) -> np.ndarray:
        return np.array([self.params_[k] for k in self.param_names])

    def _fit_rows(self, columns: list[np.ndarray], weights: np.ndarray, compute_se: bool) -> ParametricModel:
        """Compress, maximise, and set the fitted attributes. Columns are already validated."""
        penalizer = float(self.penalizer)
        if not (np.isfinite(penalizer) and penalizer >= 0):
            raise ModelInputError(f"penalizer must be a non-negative number, got {self.penalizer!r}",
                                  field="penalizer")
        keep = weights > 0
        uniques, inverse, _ = unique_rows(*[c[keep] for c in columns])
        counts = np.bincount(inverse, weights=weights[keep])
        log.debug("%s: %d customers compressed to %d distinct rows", type(self).__name__, columns[0].size,
                  counts.size)

        prepared = self._prepare(uniques, counts)

        def total(params: np.ndarray) -> float:
            return self._total(params, prepared)

        with_gradient = None
        if self._loglik_gradient is not None:
            def with_gradient(params: np.ndarray) -> tuple[float, np.ndarray]:
                return self._total_with_gradient(params, prepared)

        start = self._start(uniques, counts)
        result = maximise_likelihood(total, start, float(counts.sum()), total_with_gradient=with_gradient,
                                     penalizer=penalizer)
        self.params_ = {k: float(v) for k, v in zip(self.param_names, result.params)}
        self.log_likelihood_ = result.log_likelihood
        self.n_customers_ = int(columns[0].size)
        self.fit_info_ = {
            "n_unique": int(counts.size),
            "total_weight": float(counts.sum()),
            "iterations": result.iterations,
            "evaluations": result.evaluations,
            "converged": result.converged,
            "message": result.message,
            "optimizer": "L-BFGS-B on log-parameters",
        }
        self.standard_errors_ = None
        self.covariance_ = None
        if compute_se:
            se, cov = standard_errors(total, result.params)
            self.standard_errors_ = {k: float(v) for k, v in zip(self.param_names, se)}
            self.covariance_ = cov
        log.info("%s fitted on %d customers (%d distinct): %s, log-likelihood %.4f", type(self).__name__,
                 self.n_customers_, counts.size, self.params_, self.log_likelihood_)
        return self

    def _state(self) -> dict[str, Any]:
        return {
            "params": self.params_,
            "log_likelihood": self.log_likelihood_,
            "n_customers": self.n_customers_,
            "standard_errors": self.standard_errors_,
            "covariance": None if self.covariance_ is None else self.covariance_.tolist(),
            "fit": self.fit_info_,
        }

    def _set_state(self, state: dict[str, Any]) -> None:
        params = state.get("params") or {}
        if set(params) != set(self.param_names):
            raise InputError(f"{type(self).__name__} needs parameters {list(self.param_names)}, "
                             f"the file has {sorted(params)}")
        self.params_ = {k: float(params[k]) for k in self.param_names}
        self.log_likelihood_ = float(state["log_likelihood"])
        self.n_customers_ = int(state["n_customers"])
        se = state.get("standard_errors")
        self.standard_errors_ = None if se is None else {k: float(se[k]) for k in self.param_names}
        cov = state.get("covariance")
        self.covariance_ = None if cov is None else np.asarray(cov, dtype=np.float64)
        self.fit_info_ = dict(state.get("fit") or {})
