"""The model registry in the warehouse (the ``models`` table) and the ``scores`` it produces.

Not to be confused with :data:`jingzhun.models.MODELS`, the registry of model *classes*. Here every
fitted model is kept with what is needed to trust and reproduce it:

- the model file (JSON, :meth:`Model.save`) under a directory you give, usually ``<project>/models``,
  named ``<model_id>.json``;
- a ``models`` row: the id, the registry name (``clv``, ``propensity_90d``, ...), the class, its
  parameters (constructor and fitted), the fingerprint of the training data, the code version, the
  evaluation metrics, the training cut-off and the file's path.

``model_id`` is ``<name>-<trained_at as YYYYmmddTHHMMSSZ>-<first 8 hex of the file's SHA-256>``: readable,
sorted by time within a name, and tied to the file's content.

The data fingerprint (:func:`fingerprint`) is the SHA-256 of, per table, its load ids and row count
(tables without load ids, such as ``identity_map``, by row count): a new load, or a rebuilt identity
map with a different size, gives a new fingerprint.

:func:`write_scores` replaces every row of the scores it writes (for everyone) in one transaction, so
a score never mixes two models' values.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from jingzhun import __version__
from jingzhun.errors import InputError
from jingzhun.models.base import Model
from jingzhun.models.frames import moment
from jingzhun.models.registry import load_model
from jingzhun.warehouse import Warehouse

__all__ = ["RegisteredModel", "register", "fingerprint", "latest", "list_models", "load_registered", "write_scores",
           "code_version", "TRAINING_TABLES"]

log = logging.getLogger(__name__)

#: the tables the models learn from, fingerprinted by default
TRAINING_TABLES = ("orders", "order_lines", "products", "customers", "events", "identity_map")

_NAME = re.compile(r"^[\w][\w.:-]*$")


@dataclass(frozen=True)
class RegisteredModel:
    """A row of the ``models`` table, read back."""

    model_id: str
    name: str
    kind: str
    params: dict[str, Any]
    data_fingerprint: str
    code_version: str
    metrics: dict[str, Any]
    as_of: datetime | None
    path: str
    trained_at: datetime

    def load(self) -> Model:
        """The fitted model from its file."""
        return load_model(self.path)


@lru_cache(maxsize=1)
def code_version() -> str:
    """jingzhun's version, with the git commit of the source tree when it is a checkout."""
    source = Path(__file__).resolve().parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=source, capture_output=True,
                                text=True, timeout=5, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return __version__
    return f"{__version__}+g{commit}" if commit else __version__


def fingerprint(warehouse: Warehouse, tables: tuple[str, ...] = TRAINING_TABLES) -> str:
    """SHA-256 over, per table (sorted by name), its sorted load ids and its row count."""
    parts = []
    for name in sorted(tables):
        t = warehouse.table(name)
        count = int(warehouse.execute(t.count()))
        loads: list[str] = []
        if "load_id" in t.columns:
            loads = sorted(str(x) for x in warehouse.execute(t.select("load_id").distinct()).load_id)
        parts.append({"table": name, "rows": count, "loads": loads})
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, allow_nan=True)


def register(warehouse: Warehouse, model: Model, name: str, *, as_of: Any, data_fingerprint: str,
             metrics: dict[str, Any] | None, directory: str | os.PathLike,
             trained_at: datetime | None = None) -> RegisteredModel:
    """Save ``model`` to ``directory/<model_id>.json`` and append its ``models`` row; returns the record."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InputError(f"model name {name!r} must be letters, digits and _ . : - (e.g. propensity_90d)",
                         field="name")
    model._check_fitted()
    trained_at = (trained_at or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    draft = directory / f".{name}-{os.getpid()}.json.part"
    model.save(draft)
    digest = hashlib.sha256(draft.read_bytes()).hexdigest()[:8]
    model_id = f"{name}-{trained_at:%Y%m%dT%H%M%SZ}-{digest}"
    path = directory / f"{model_id}.json"
    draft.replace(path)
    record = RegisteredModel(
        model_id=model_id, name=name, kind=type(model).__name__,
        params={"init": model.get_params(), "fitted": getattr(model, "params_", None)},
        data_fingerprint=data_fingerprint, code_version=code_version(), metrics=metrics or {},
        as_of=None if as_of is None else moment(as_of), path=str(path.resolve()), trained_at=trained_at,
    )
    row = pd.DataFrame([{
        "model_id": record.model_id, "name": record.name, "kind": record.kind, "params": _json(record.params),
        "data_fingerprint": record.data_fingerprint, "code_version": record.code_version,
        "metrics": _json(record.metrics), "as_of": pd.Timestamp(record.as_of) if record.as_of else pd.NaT,
        "path": record.path, "trained_at": pd.Timestamp(record.trained_at),
    }])
    with warehouse.transaction():
        warehouse.append("models", row)
    log.info("registered %s (%s) at %s", model_id, record.kind, path)
    return record


def _record(row: pd.Series) -> RegisteredModel:
    def when(value: Any) -> datetime | None:
        return None if value is None or pd.isna(value) else moment(pd.Timestamp(value))

    return RegisteredModel(
        model_id=row.model_id, name=row["name"], kind=row.kind, params=json.loads(row.params),
        data_fingerprint=row.data_fingerprint, code_version=row.code_version,
        metrics=json.loads(row.metrics) if isinstance(row.metrics, str) else {}, as_of=when(row.as_of),
        path=row.path, trained_at=when(row.trained_at),
    )


def list_models(warehouse: Warehouse, name: str | None = None) -> pd.DataFrame:
    """The registry (without params and metrics), newest first; only ``name``'s models when given."""
    t = warehouse.table("models")
    if name is not None:
        t = t.filter(t["name"] == name)
    t = t.select("model_id", "name", "kind", "as_of", "trained_at", "data_fingerprint", "code_version", "path")
    return warehouse.execute(t.order_by([ibis.desc("trained_at"), ibis.desc("model_id")])).reset_index(drop=True)


def _one(warehouse: Warehouse, t: ir.Table) -> RegisteredModel | None:
    rows = warehouse.execute(t.order_by([ibis.desc("trained_at"), ibis.desc("model_id")]).limit(1))
    return None if rows.empty else _record(rows.iloc[0])


def latest(warehouse: Warehouse, name: str) -> RegisteredModel | None:
    """The most recently trained model registered under ``name`` (None when there is none)."""
    t = warehouse.table("models")
    return _one(warehouse, t.filter(t["name"] == name))


def load_registered(warehouse: Warehouse, model_id: str) -> Model:
    """The fitted model of a ``models`` row, from its file."""
    t = warehouse.table("models")
    record = _one(warehouse, t.filter(t.model_id == model_id))
    if record is None:
        raise InputError(f"no model {model_id!r} in the registry; `list_models` shows the ids", field="model_id")
    return record.load()


def write_scores(warehouse: Warehouse, scores: pd.DataFrame | ir.Table, model_id: str, *,
                 computed_at: datetime | None = None) -> int:
    """Replace, for everyone, the scores named in ``scores`` (columns profile_id, score, value and
    optionally reason) by these rows, in one transaction; rows without a value are left out. Returns
    the number of rows written."""
    t = scores if isinstance(scores, ir.Table) else ibis.memtable(scores)
    missing = [c for c in ("profile_id", "score", "value") if c not in t.columns]
    if missing:
        raise InputError(f"scores need the columns profile_id, score and value; missing: {', '.join(missing)}")
    names = sorted(str(n) for n in warehouse.execute(t.select("score").distinct()).score)
    when = (computed_at or datetime.now(timezone.utc)).astimezone(timezone.utc)
    rows = t.filter(t.value.notnull() & ~t.value.isnan() & t.profile_id.notnull())
    rows = rows.select(
        "profile_id", "score", value=rows.value.cast("float64"),
        reason=rows.reason.cast("string") if "reason" in t.columns else ibis.null("string"),
        model_id=ibis.literal(model_id), computed_at=ibis.literal(when, type="timestamp('UTC')"))
    staged = warehouse.stage(rows)
    written = int(warehouse.execute(staged.count()))
    with warehouse.transaction():
        warehouse.delete_where("scores", lambda s: s.score.isin(names))
        warehouse.append("scores", staged)
    warehouse.drop_stage(staged.get_name())
    log.info("wrote %d rows of %s from %s", written, ", ".join(names), model_id)
    return written
