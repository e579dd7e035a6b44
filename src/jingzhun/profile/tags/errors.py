"""The error a tag definition raises: which file, which line, which tag, which field, and what to do."""

from __future__ import annotations

from jingzhun.errors import ConfigError

__all__ = ["TagDefinitionError"]


class TagDefinitionError(ConfigError):
    """A tag file or a tag in it that cannot be used.

    ``file``, ``line`` (1-based), ``tag`` and ``field`` (dotted, e.g. ``bands.cuts``) locate the problem
    where they are known; ``hint`` says what to do. The message starts with the location so that a
    person can open the file at the right line.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None, tag: str | None = None,
                 field: str | None = None, hint: str | None = None) -> None:
        self.reason = message
        self.file = file
        self.line = line
        self.tag = tag
        self.field = field
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.file is not None:
            where.append(f"{self.file}" + (f" line {self.line}" if self.line is not None else ""))
        if self.tag is not None:
            where.append(f"tag {self.tag!r}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        text = f"{', '.join(where)}: {self.reason}" if where else self.reason
        if self.hint:
            text += f"\n  ({self.hint})"
        return text
