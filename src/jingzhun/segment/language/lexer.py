"""The lexer: audience text to tokens, rejecting anything that is not part of the language.

Outside single-quoted strings only ASCII names, numbers, the operators ``= != <> < <= > >=``,
parentheses and commas are allowed, plus the Chinese keywords 且/并且 (and), 或 (or), 非/不 (not).
Everything else (semicolons, comments, double or typographic quotes, backslashes, look-alike letters
from other scripts) is an :class:`AudienceSyntaxError` at its position, with the likely intent.
Inside a string every character is kept as written; ``''`` is one quote.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from jingzhun.segment.errors import AudienceSyntaxError

__all__ = ["Token", "tokenize", "CHINESE_KEYWORDS"]

CHINESE_KEYWORDS = {"并且": "and", "且": "and", "或": "or", "非": "not", "不": "not"}

# letters from other scripts that look like ASCII ones, for the "did you mean" of a name
_CONFUSABLE = {
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "у": "y", "х": "x", "і": "i", "ј": "j", "ѕ": "s",
    "к": "k", "м": "m", "н": "h", "т": "t", "в": "b", "А": "A", "Е": "E", "О": "O", "Р": "P", "С": "C",
    "Т": "T", "Х": "X", "Н": "H", "К": "K", "М": "M", "В": "B", "α": "a", "ο": "o", "ε": "e", "ι": "i",
    "ν": "v", "ρ": "p", "τ": "t", "υ": "u", "κ": "k",
}
_QUOTE_LOOKALIKES = "＇‘’‚‛′`´"
_DQUOTE_LOOKALIKES = "\"＂“”„‟″"
_OPERATORS = ("!=", "<>", "<=", ">=", "=", "<", ">")


@dataclass(frozen=True)
class Token:
    """``kind`` is word, string, number, op, punct or eof; ``value`` the lower-cased word, the string's
    content, the number, the operator or the punctuation; ``text`` the source as written."""

    kind: str
    value: object
    pos: int
    text: str

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.value in words

    def describe(self) -> str:
        return "the end of the expression" if self.kind == "eof" else repr(self.text)


def _ascii_guess(word: str) -> str:
    out = []
    for c in word:
        c = _CONFUSABLE.get(c, c)
        out.append(unicodedata.normalize("NFKC", c))
    return "".join(out)


def _char_name(c: str) -> str:
    return unicodedata.name(c, f"U+{ord(c):04X}")


def tokenize(text: str) -> list[Token]:
    """The tokens of ``text``, ending with an ``eof`` token."""
    if not isinstance(text, str):
        raise AudienceSyntaxError(f"an audience expression is text, not {type(text).__name__}")
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c == "'":
            i = _string(text, i, tokens)
            continue
        if c.isdigit() and c.isascii() or (c == "-" and i + 1 < n and text[i + 1].isdigit() and text[i + 1].isascii()):
            i = _number(text, i, tokens)
            continue
        if c in "(),":
            tokens.append(Token("punct", c, i, c))
            i += 1
            continue
        op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
        if op is not None:
            if op == "=" and text.startswith("==", i):
                raise AudienceSyntaxError("'==' is not an operator", text=text, position=i, suggestions=("=",))
            tokens.append(Token("op", "!=" if op == "<>" else op, i, op))
            i += len(op)
            continue
        cjk = next((k for k in CHINESE_KEYWORDS if text.startswith(k, i)), None)
        if cjk is not None:
            tokens.append(Token("word", CHINESE_KEYWORDS[cjk], i, cjk))
            i += len(cjk)
            continue
        if c.isalpha() or c == "_":
            i = _word(text, i, tokens)
            continue
        _reject(text, i)
    tokens.append(Token("eof", None, n, ""))
    return tokens


def _string(text: str, start: int, tokens: list[Token]) -> int:
    i, n, out = start + 1, len(text), []
    while i < n:
        if text[i] == "'":
            if i + 1 < n and text[i + 1] == "'":
                out.append("'")
                i += 2
                continue
            tokens.append(Token("string", "".join(out), start, text[start:i + 1]))
            return i + 1
        if unicodedata.category(text[i]) == "Cc" and text[i] not in "\t":
            raise AudienceSyntaxError(f"control character {_char_name(text[i])} inside a string", text=text,
                                      position=i)
        out.append(text[i])
        i += 1
    raise AudienceSyntaxError("this string is never closed (add a ' at its end; write '' for a quote inside)",
                              text=text, position=start)


def _number(text: str, start: int, tokens: list[Token]) -> int:
    i, n = start + (text[start] == "-"), len(text)
    while i < n and text[i].isascii() and text[i].isdigit():
        i += 1
    is_float = False
    if i + 1 < n and text[i] == "." and text[i + 1].isascii() and text[i + 1].isdigit():
        is_float = True
        i += 1
        while i < n and text[i].isascii() and text[i].isdigit():
            i += 1
    if i < n and text[i] in "eE":
        j = i + 1
        if j < n and text[j] in "+-":
            j += 1
        if j < n and text[j].isascii() and text[j].isdigit():
            is_float = True
            i = j
            while i < n and text[i].isascii() and text[i].isdigit():
                i += 1
    raw = text[start:i]
    value: int | float = float(raw) if is_float else int(raw)
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        raise AudienceSyntaxError(f"the number {raw} is too large", text=text, position=start)
    tokens.append(Token("number", value, start, raw))
    return i


def _word(text: str, start: int, tokens: list[Token]) -> int:
    i, n = start, len(text)
    while i < n and (text[i].isalnum() or text[i] == "_") and not any(text.startswith(k, i) for k in CHINESE_KEYWORDS):
        i += 1
    word = text[start:i]
    bad = next((k for k, ch in enumerate(word) if not ch.isascii()), None)
    if bad is not None:
        guess = _ascii_guess(word)
        suggestions = (guess,) if guess.isascii() and guess.isidentifier() else ()
        raise AudienceSyntaxError(
            f"names are written in ASCII letters, digits and _; {word[bad]!r} ({_char_name(word[bad])}) is not one",
            text=text, position=start + bad, suggestions=suggestions)
    tokens.append(Token("word", word.lower(), start, word))
    return i


def _reject(text: str, i: int):
    c = text[i]
    if c == ";":
        reason = "';' is not part of the audience language: an audience is one expression"
        sugg: tuple[str, ...] = ()
    elif text.startswith("--", i) or text.startswith("/*", i) or c == "#":
        reason = "comments are not part of the audience language"
        sugg = ()
    elif c in _QUOTE_LOOKALIKES:
        reason = f"{c!r} ({_char_name(c)}) is not a quote: strings are written in ASCII single quotes"
        sugg = ("'",)
    elif c in _DQUOTE_LOOKALIKES:
        reason = f"{c!r} ({_char_name(c)}) does not start a string: strings are written in single quotes, 'like this'"
        sugg = ("'",)
    elif text.startswith("&&", i) or text.startswith("||", i):
        reason = f"{text[i:i + 2]!r} is not an operator"
        sugg = ("and" if c == "&" else "or",)
    elif c == "!":
        reason = "'!' alone is not an operator"
        sugg = ("not", "!=")
    else:
        norm = unicodedata.normalize("NFKC", c)
        reason = f"unexpected character {c!r} ({_char_name(c)})"
        sugg = (norm,) if norm != c and norm.isascii() else ()
    raise AudienceSyntaxError(reason, text=text, position=i, suggestions=sugg)
