"""Errors of the audience language: where in the expression, and what was probably meant."""

from __future__ import annotations

from jingzhun.errors import JingzhunError

__all__ = ["AudienceError", "AudienceSyntaxError", "UnknownNameError", "AudienceTypeError"]


class AudienceError(JingzhunError):
    """An audience expression that cannot be parsed, checked or compiled.

    ``text`` is the expression, ``position`` the 0-based offset of the problem in it (``None`` when the
    expression was built as nodes rather than written), ``suggestions`` what was probably meant.
    The message shows the expression with a caret under the position.
    """

    def __init__(self, reason: str, *, text: str | None = None, position: int | None = None,
                 suggestions: tuple[str, ...] | list[str] = ()) -> None:
        self.reason = reason
        self.text = text
        self.position = position
        self.suggestions = tuple(suggestions)
        super().__init__(self._render())

    def with_text(self, text: str) -> "AudienceError":
        """The same error, located in ``text`` (used when a checked node came from that text)."""
        return type(self)(self.reason, text=text, position=self.position, suggestions=self.suggestions)

    def _render(self) -> str:
        where = f" at position {self.position}" if self.position is not None else ""
        lines = [f"{self.reason}{where}"]
        if self.suggestions:
            lines[0] += "; did you mean " + " or ".join(repr(s) for s in self.suggestions) + "?"
        if self.text is not None and self.position is not None and "\n" not in self.text:
            lines.append("    " + self.text)
            lines.append("    " + _caret_pad(self.text[: self.position]) + "^")
        return "\n".join(lines)


def _caret_pad(prefix: str) -> str:
    """Spaces as wide as ``prefix`` on a terminal (CJK and full-width characters take two columns)."""
    import unicodedata

    return "".join("  " if unicodedata.east_asian_width(c) in "WF" else " " for c in prefix)


class AudienceSyntaxError(AudienceError):
    """The expression is not in the grammar (docs/audience-language.md)."""


class UnknownNameError(AudienceError):
    """A field, tag, score, event, category, product, brand or store the catalogue does not know."""


class AudienceTypeError(AudienceError):
    """A value of the wrong type for what it is compared with (``age > 'abc'``)."""
