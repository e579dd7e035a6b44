"""Cross-sell audiences from rules: for A -> C, the people who bought A but never C.

The audience is built as nodes of the audience language (:mod:`jingzhun.segment.language`), so its
text is the language's canonical text with every value quoted by the language itself, and it is
checked by compiling it against the warehouse before anyone sees it. A marketer can save the text as
a segment unchanged.

Meaning for a rule A -> C: bought every item of A, and none of the items of C (the offer). A single
item on each side reads ``bought product 'A' but not product 'C'``. A category below the top level
(``'眼镜 > 护理液'``, from ``category_depth`` 2 or more) is not a name the language knows, so it is
written as its products: ``(bought product 'p1' or bought product 'p2')``.
"""

from __future__ import annotations

from dataclasses import dataclass

from jingzhun.errors import JingzhunError
from jingzhun.rules.baskets import PATH_SEPARATOR, products_under
from jingzhun.segment import Catalog, compile_audience, context_from_warehouse
from jingzhun.segment.language import And, Bought, Item, Node, Not, Or, Window, parse
from jingzhun.warehouse import Warehouse

__all__ = ["CrossSell", "cross_sell_node", "cross_sell_audience"]


@dataclass(frozen=True)
class CrossSell:
    """A rule's cross-sell audience: its text, and how many people it holds at ``as_of``."""

    antecedent: tuple[str, ...]
    consequent: tuple[str, ...]
    level: str
    text: str
    size: int

    def to_dict(self) -> dict:
        return {"antecedent": list(self.antecedent), "consequent": list(self.consequent), "level": self.level,
                "audience": self.text, "size": self.size}


def _bought_any(items: list[Item], window: Window | None) -> Node:
    nodes = [Bought(item=i, window=window) for i in items]
    return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))


def cross_sell_node(antecedent, consequent, level: str, *, window_days: int | None = None,
                    products_of=None) -> Node:
    """The audience node of a rule. ``products_of(category_path)`` lists a sub-category's products
    (needed only for categories below the top level); ``window_days`` limits every purchase condition
    to the last that many days."""
    window = Window("last", n=window_days, unit="days") if window_days else None

    def items(value: str) -> list[Item]:
        if level == "product":
            return [Item("product", value)]
        if PATH_SEPARATOR not in value:
            return [Item("category", value)]
        products = products_of(value) if products_of is not None else []
        if not products:
            raise JingzhunError(f"no product in the catalogue has the category {value!r}: mine the rules again")
        return [Item("product", p) for p in products]

    left = [items(a) for a in antecedent]
    right = [items(c) for c in consequent]
    if len(left) == 1 and len(right) == 1 and len(left[0]) == 1 and len(right[0]) == 1:
        return Bought(item=left[0][0], but_not=right[0][0], window=window)
    parts = [_bought_any(i, window) for i in left]
    for i in right:
        offer = _bought_any(i, window)
        parts.append(Bought(item=offer.item, window=window, negated=True) if isinstance(offer, Bought) else Not(offer))
    return And(tuple(parts))


def cross_sell_audience(warehouse: Warehouse, antecedent, consequent, level: str, *, as_of,
                        window_days: int | None = None, catalog: Catalog | None = None) -> CrossSell:
    """The rule's audience text, checked by parsing it back and compiling it, with its size at ``as_of``.

    Pass ``catalog`` when checking many rules (``Catalog.from_warehouse`` reads the warehouse once).
    """
    def products_of(path: str) -> list[str]:
        return products_under(warehouse, path, path.count(PATH_SEPARATOR) + 1)

    node = cross_sell_node(antecedent, consequent, level, window_days=window_days, products_of=products_of)
    text = node.to_text()
    if parse(text) != node:  # the language's own round trip: the text means exactly this node
        raise JingzhunError(f"the audience text does not read back as written: {text}")
    context = context_from_warehouse(warehouse, as_of=as_of, catalog=catalog or Catalog.from_warehouse(warehouse))
    members = compile_audience(text, context)
    size = int(warehouse.execute(context.base.filter(members).count()))
    return CrossSell(tuple(antecedent), tuple(consequent), level, text, size)
