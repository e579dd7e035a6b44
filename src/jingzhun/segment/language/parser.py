"""A hand-written recursive-descent parser: audience text to nodes (grammar: docs/audience-language.md).

Precedence, loosest first: ``or``, ``and``, ``not``. Keywords are case-insensitive and contextual, so an
event property may be called ``category``. Inside ``did ... where``, ``and`` goes on with one more
property condition when a name and a comparison follow it (as in SQL's WHERE); to go back to the
audience, end the event condition with a count or a time window, or put it in parentheses.
"""

from __future__ import annotations

import datetime as dt
import re

from jingzhun.segment.errors import AudienceSyntaxError
from jingzhun.segment.language.lexer import Token, tokenize
from jingzhun.segment.language.nodes import (
    And, Between, Bought, Compare, Contains, Count, Did, Field, InList, IsNull, Item, Literal, Node, Not, Or,
    Prop, ScoreRef, StartsWith, Tag, Window, Within,
)

__all__ = ["parse"]

# words that begin something other than a field name where a condition starts
_STARTS = {"not", "did", "first", "last", "bought", "never", "tag", "has", "score", "within", "nearest"}
# words that can never be a field or property name
_RESERVED = {"and", "or", "not", "between", "in", "is", "null", "true", "false", "contains", "starts", "where"}
_PREDICATE_WORDS = {"between", "in", "not", "contains", "starts", "is"}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_UNITS = {"day": ("days", 1), "days": ("days", 1), "hour": ("hours", 1), "hours": ("hours", 1),
          "week": ("days", 7), "weeks": ("days", 7)}
_PREDICATE_HELP = "=, !=, <, <=, >, >=, between, in, not in, contains, starts with, is null or is not null"


def parse(text: str) -> Node:
    """The node tree of an audience expression; :class:`AudienceSyntaxError` if it is not in the grammar.

    Names are not checked here (see :meth:`jingzhun.segment.Catalog.check`)."""
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    # -- helpers ---------------------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def advance(self) -> Token:
        t = self.tokens[self.i]
        self.i = min(self.i + 1, len(self.tokens) - 1)
        return t

    def error(self, reason: str, tok: Token | None = None, suggestions=()) -> AudienceSyntaxError:
        tok = tok or self.tok
        return AudienceSyntaxError(reason, text=self.text, position=tok.pos, suggestions=suggestions)

    def accept(self, *words: str) -> Token | None:
        if self.tok.is_word(*words):
            return self.advance()
        return None

    def expect_word(self, word: str, after: str) -> Token:
        if not self.tok.is_word(word):
            raise self.error(f"expected {word!r} after {after}, found {self.tok.describe()}")
        return self.advance()

    def expect_punct(self, p: str, after: str) -> Token:
        if not (self.tok.kind == "punct" and self.tok.value == p):
            raise self.error(f"expected {p!r} after {after}, found {self.tok.describe()}")
        return self.advance()

    def expect_string(self, what: str) -> Token:
        if self.tok.kind != "string":
            raise self.error(f"expected {what} in single quotes, found {self.tok.describe()}")
        return self.advance()

    def expect_int(self, what: str, minimum: int = 0) -> int:
        t = self.tok
        if t.kind != "number" or not isinstance(t.value, int) or t.value < minimum:
            raise self.error(f"expected {what} (a whole number >= {minimum}), found {t.describe()}")
        self.advance()
        return t.value

    def expect_number(self, what: str) -> int | float:
        t = self.tok
        if t.kind != "number":
            raise self.error(f"expected {what} (a number), found {t.describe()}")
        self.advance()
        return t.value

    def expect_date(self, what: str) -> str:
        t = self.expect_string(f"{what} ('YYYY-MM-DD')")
        try:
            if not _DATE.fullmatch(t.value):
                raise ValueError
            dt.date.fromisoformat(t.value)
        except ValueError:
            raise self.error(f"{t.text} is not a date: write 'YYYY-MM-DD', e.g. '2024-06-30'", t) from None
        return t.value

    # -- expressions -----------------------------------------------------------------------------------
    def parse(self) -> Node:
        if self.tok.kind == "eof":
            raise self.error("the expression is empty: write a condition such as gender = 'F'")
        node = self.or_()
        if self.tok.kind != "eof":
            if self.tok.kind == "punct" and self.tok.value == ")":
                raise self.error("this ')' closes no '('")
            raise self.error(f"unexpected {self.tok.describe()} after a complete condition; join conditions "
                             "with 'and' or 'or'", suggestions=("and", "or"))
        return node

    def or_(self) -> Node:
        start = self.tok
        items = [self.and_()]
        while self.accept("or"):
            items.append(self.and_())
        return items[0] if len(items) == 1 else Or(tuple(items), pos=start.pos)

    def and_(self) -> Node:
        start = self.tok
        items = [self.not_()]
        while self.accept("and"):
            items.append(self.not_())
        return items[0] if len(items) == 1 else And(tuple(items), pos=start.pos)

    def not_(self) -> Node:
        start = self.tok
        if self.accept("not"):
            return Not(self.not_(), pos=start.pos)
        return self.primary()

    def primary(self) -> Node:
        t = self.tok
        if t.kind == "punct" and t.value == "(":
            self.advance()
            node = self.or_()
            self.expect_punct(")", "a condition in parentheses")
            return node
        if t.kind != "word":
            raise self.error(f"expected a condition, found {t.describe()}")
        w = t.value
        if w == "tag":
            self.advance()
            self.expect_punct("(", "tag")
            name = self.expect_string("a tag name")
            self.expect_punct(")", "the tag name")
            return Tag(name.value, pos=name.pos)
        if w == "has":
            self.advance()
            self.expect_word("tag", "has")
            name = self.expect_string("a tag name")
            return Tag(name.value, pos=name.pos)
        if w == "score":
            self.advance()
            self.expect_punct("(", "score")
            name = self.expect_string("a score name")
            self.expect_punct(")", "the score name")
            return self.predicate(ScoreRef(name.value, pos=name.pos), start=t)
        if w == "did" or (w in ("first", "last") and self.peek().is_word("did")):
            return self.did()
        if w in ("bought", "never"):
            return self.bought()
        if w == "within":
            return self.within()
        if w == "nearest" and self.peek().is_word("store"):
            self.advance()
            self.advance()
            return self.predicate(Field("nearest_store", pos=t.pos), start=t)
        if w in _RESERVED or w in _STARTS:
            raise self.error(f"expected a condition, found the keyword {t.text!r}")
        self.advance()
        return self.predicate(Field(t.text, pos=t.pos), start=t)

    # -- predicates ------------------------------------------------------------------------------------
    def literal(self, what: str = "a value") -> Literal:
        t = self.tok
        if t.kind == "string":
            self.advance()
            return Literal(t.value, "string", t.pos)
        if t.kind == "number":
            self.advance()
            return Literal(t.value, "number", t.pos)
        if t.is_word("true", "false"):
            self.advance()
            return Literal(t.value == "true", "boolean", t.pos)
        if t.is_word("null"):
            self.advance()
            return Literal(None, "null", t.pos)
        hint = ()
        if t.kind == "word":
            hint = (f"'{t.text}'",)
        raise self.error(f"expected {what} ('text', a number, true, false or null), found {t.describe()}",
                         suggestions=hint)

    def predicate(self, left, start: Token) -> Node:
        t = self.tok
        pos = start.pos
        if t.kind == "op":
            self.advance()
            return Compare(left, t.value, self.literal(), pos=pos)
        if t.is_word("between"):
            self.advance()
            low = self.literal("the lower end")
            self.expect_word("and", "the lower end of between")
            return Between(left, low, self.literal("the upper end"), pos=pos)
        if t.is_word("in"):
            self.advance()
            return InList(left, self.values(), False, pos=pos)
        if t.is_word("not") and self.peek().is_word("in"):
            self.advance()
            self.advance()
            return InList(left, self.values(), True, pos=pos)
        if t.is_word("contains"):
            self.advance()
            return Contains(left, self.literal(), pos=pos)
        if t.is_word("starts"):
            self.advance()
            self.expect_word("with", "starts")
            return StartsWith(left, self.literal(), pos=pos)
        if t.is_word("is"):
            self.advance()
            negated = self.accept("not") is not None
            if not self.tok.is_word("null"):
                raise self.error(f"expected 'null' after 'is{' not' if negated else ''}', found {self.tok.describe()}")
            self.advance()
            return IsNull(left, negated, pos=pos)
        if t.is_word("not"):
            raise self.error(f"'not' after {left.to_text()} is followed only by 'in'; put 'not' before the "
                             f"condition: not ({left.to_text()} ...)", suggestions=("not in",))
        raise self.error(f"expected a comparison after {start.text!r} ({_PREDICATE_HELP}), found {t.describe()}")

    def values(self) -> tuple[Literal, ...]:
        self.expect_punct("(", "in")
        items = [self.literal()]
        while self.tok.kind == "punct" and self.tok.value == ",":
            self.advance()
            items.append(self.literal())
        self.expect_punct(")", "the list of values")
        return tuple(items)

    # -- events ----------------------------------------------------------------------------------------
    def did(self) -> Did:
        start = self.tok
        which = "any"
        if self.tok.is_word("first", "last"):
            which = self.advance().value
        self.expect_word("did", which)
        not_tok = self.accept("not")
        negated = not_tok is not None
        if negated and which != "any":
            raise self.error(f"'{which} did not' has no meaning; write not ({which} did ...)", not_tok)
        name = self.expect_string("an event name, e.g. 'Product Viewed',")
        where = []
        if self.accept("where"):
            where.append(self.property_condition())
            while self.tok.is_word("and") and self._property_follows():
                self.advance()
                where.append(self.property_condition())
        count, window = self.count_and_window(allow_count=which == "any")
        if which != "any" and window is None:
            raise self.error(f"'{which} did' needs a time condition (in last N days, between, before or after)")
        return Did(name.value, tuple(where), count, window, negated, which, pos=start.pos)

    def _property_follows(self) -> bool:
        name, after = self.peek(1), self.peek(2)
        if name.kind != "word" or name.value in _RESERVED or name.value in _STARTS:
            return False
        if after.kind == "op":
            return True
        if after.kind == "word" and after.value in _PREDICATE_WORDS:
            return not (after.value == "not" and not self.peek(3).is_word("in"))
        return False

    def property_condition(self) -> Node:
        t = self.tok
        if t.kind != "word" or t.value in _RESERVED or t.value in _STARTS:
            raise self.error(f"expected an event property name after 'where', found {t.describe()}")
        self.advance()
        return self.predicate(Prop(t.text, pos=t.pos), start=t)

    def count_and_window(self, *, allow_count: bool = True) -> tuple[Count | None, Window | None]:
        count = window = None
        while True:
            t = self.tok
            if t.is_word("at", "exactly"):
                if not allow_count:
                    raise self.error("'first did' and 'last did' take no count")
                if count is not None:
                    raise self.error("only one count per condition")
                count = self.count()
            elif t.is_word("between", "before", "after") or (t.is_word("in") and self.peek().is_word("last", "the")):
                if window is not None:
                    raise self.error("only one time condition per condition; use and between two conditions")
                window = self.window()
            else:
                return count, window

    def count(self) -> Count:
        t = self.advance()
        if t.value == "at":
            op = self.tok
            if not op.is_word("least", "most"):
                raise self.error(f"expected 'least' or 'most' after 'at', found {op.describe()}")
            self.advance()
            name = f"at {op.value}"
        else:
            name = "exactly"
        if self.accept("once"):
            return Count(name, 1, pos=t.pos)
        if self.accept("twice"):
            return Count(name, 2, pos=t.pos)
        n = self.expect_int("how many times")
        if not self.accept("times", "time"):
            raise self.error(f"expected 'times' after {n}, found {self.tok.describe()}", suggestions=("times",))
        return Count(name, n, pos=t.pos)

    def window(self) -> Window:
        t = self.advance()
        if t.value == "in":
            self.accept("the")
            self.expect_word("last", "in")
            n = self.expect_int("how many days or hours", minimum=1)
            unit = self.tok
            if unit.kind != "word" or unit.value not in _UNITS:
                raise self.error(f"expected days or hours after {n}, found {unit.describe()}",
                                 suggestions=("days", "hours"))
            self.advance()
            name, factor = _UNITS[unit.value]
            return Window("last", n * factor, name, pos=t.pos)
        if t.value == "between":
            start = self.expect_date("the first day")
            self.expect_word("and", "the first day")
            end = self.expect_date("the last day")
            if end < start:
                raise self.error(f"the period ends ({end}) before it starts ({start})", t)
            return Window("between", start=start, end=end, pos=t.pos)
        day = self.expect_date("a day")
        return Window(t.value, start=day if t.value == "after" else None,
                      end=day if t.value == "before" else None, pos=t.pos)

    # -- purchases and geography -----------------------------------------------------------------------
    def item(self) -> Item | None:
        t = self.tok
        if t.is_word("category", "product", "brand"):
            self.advance()
            value = self.expect_string(f"a {t.value}")
            return Item(t.value, value.value, pos=value.pos)
        if t.is_word("categories", "products", "brands"):
            raise self.error(f"write {t.value[:-1] if t.value != 'categories' else 'category'} 'name'",
                             suggestions=("category" if t.value == "categories" else t.value[:-1],))
        return None

    def bought(self) -> Bought:
        start = self.tok
        negated = self.accept("never") is not None
        self.expect_word("bought", "never")
        item = self.item()
        but_not = None
        if self.tok.is_word("but"):
            if negated or item is None:
                raise self.error("'but not' follows bought with an item: bought category 'A' but not category 'B'")
            self.advance()
            self.expect_word("not", "but")
            but_not = self.item()
            if but_not is None:
                raise self.error(f"expected category, product or brand after 'but not', found {self.tok.describe()}")
        count, window = self.count_and_window()
        return Bought(item, count, window, negated, but_not, pos=start.pos)

    def within(self) -> Within:
        start = self.advance()
        km = self.expect_number("a distance")
        if km <= 0:
            raise self.error("the distance must be more than 0 km", start)
        self.expect_word("km", "the distance")
        self.expect_word("of", "km")
        if self.accept("store"):
            store = self.expect_string("a store id")
            return Within(km, store=store.value, pos=start.pos)
        if self.accept("point"):
            self.expect_punct("(", "point")
            lat_tok = self.tok
            lat = self.expect_number("a latitude")
            self.expect_punct(",", "the latitude")
            lon_tok = self.tok
            lon = self.expect_number("a longitude")
            self.expect_punct(")", "the longitude")
            if not -90 <= lat <= 90:
                raise self.error("a latitude is between -90 and 90", lat_tok)
            if not -180 <= lon <= 180:
                raise self.error("a longitude is between -180 and 180", lon_tok)
            return Within(km, latitude=lat, longitude=lon, pos=start.pos)
        raise self.error(f"expected store 'id' or point(latitude, longitude) after 'of', found {self.tok.describe()}",
                         suggestions=("store", "point"))


