"""The error types jingzhun raises.

Every error carries a message that says what went wrong and what to do about it. Errors about input
data also name the file, the row (1-based, counting the header as row 1 for delimited files) and the
field, so a person can open the file and find the problem.
"""

from __future__ import annotations

__all__ = [
    "JingzhunError",
    "ConfigError",
    "SchemaError",
    "WarehouseError",
    "InputError",
    "MappingError",
    "NotFittedError",
    "ConvergenceError",
    "ProfileNotFoundError",
]


class JingzhunError(Exception):
    """Base class of every error jingzhun raises on purpose."""


class ConfigError(JingzhunError):
    """A project's configuration is missing or wrong."""


class SchemaError(JingzhunError):
    """The warehouse's tables do not match the canonical data model (run `jingzhun init` or migrate)."""


class WarehouseError(JingzhunError):
    """The warehouse cannot be opened or written."""


class MappingError(JingzhunError):
    """A source mapping (YAML) is invalid."""


class InputError(JingzhunError):
    """Input data that cannot be read or loaded as a whole.

    ``file``, ``row`` and ``field`` locate the problem where they are known.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.file = file
        self.row = row
        self.field = field
        self.hint = hint
        self.reason = message
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.file is not None:
            where.append(f"file {self.file}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        text = f"{', '.join(where)}: {self.reason}" if where else self.reason
        if self.hint:
            text += f" ({self.hint})"
        return text


class NotFittedError(JingzhunError):
    """A model was used before `fit` was called."""


class ConvergenceError(JingzhunError):
    """An iterative computation (a likelihood maximum, label propagation) did not settle."""


class ProfileNotFoundError(JingzhunError):
    """No profile has the id asked for."""
