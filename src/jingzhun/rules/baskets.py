"""Baskets: what was bought together, one row per (basket, item), written once in Ibis.

What counts (docs/rules.md says the same to users):

* one basket is one purchase order, keyed ``source/order_id`` (the key the audience language uses);
* orders that are returns or cancellations (``is_return``, or ``status = 'cancelled'``) are left out,
  and so are return lines, lines without a product, and lines that were not paid for
  (``quantity <= 0`` or ``unit_price <= 0``: free gifts and adjustments are not a buyer's choice);
* at the product level an item is a ``product_id``; at the category level it is the product's
  ``category`` (``category_depth=1``) or the first ``category_depth`` levels of its
  ``category_path`` (``'眼镜 > 隐形眼镜'``). Lines whose product has no category at that depth do not
  make items; a basket with no item at a level is not a basket of that level;
* an item is in a basket once, however many lines or units hold it.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from jingzhun.errors import ConfigError
from jingzhun.warehouse import Warehouse

__all__ = ["LEVELS", "PATH_SEPARATOR", "basket_items", "category_at_depth", "item_names", "products_under"]

LEVELS = ("product", "category")
PATH_SEPARATOR = " > "


def _check_level(level: str, category_depth: int) -> None:
    if level not in LEVELS:
        raise ConfigError(f"unknown rules level {level!r}: use one of {', '.join(LEVELS)}")
    if not isinstance(category_depth, int) or category_depth < 1:
        raise ConfigError(f"category depth must be a whole number >= 1, not {category_depth!r}")


def category_at_depth(products: ir.Table, depth: int) -> ir.StringValue:
    """The product's category at ``depth``: ``category`` for 1, else the first ``depth`` levels of
    ``category_path`` (a shorter path is the whole path; no path gives null)."""
    if depth == 1:
        return products.category
    # lazily the shortest prefix of `depth` levels, then optionally the rest: same meaning in RE2 and Java
    prefix = r"^(.*?(?: > .*?){" + str(depth - 1) + r"})(?: > .*)?$"
    path = products.category_path
    head = path.re_extract(prefix, 1)
    return ibis.cases((path.isnull() | (path == ""), ibis.null("string")), (head == "", path), else_=head)


def _paid_lines(warehouse: Warehouse) -> ir.Table:
    orders = warehouse.table("orders")
    orders = orders.filter(~orders.is_return, orders.status != "cancelled").select(
        _o_source="source", _o_id="order_id")
    lines = warehouse.table("order_lines")
    lines = lines.filter(~lines.is_return, lines.quantity > 0, lines.unit_price > 0, lines.product_id.notnull())
    joined = lines.join(orders, (lines.source == orders._o_source) & (lines.order_id == orders._o_id))
    return joined.select(basket=joined.source + ibis.literal("/") + joined.order_id, product_id=joined.product_id)


def basket_items(warehouse: Warehouse, level: str = "product", *, category_depth: int = 1,
                 exclude: tuple[str, ...] = ()) -> ir.Table:
    """The distinct (``basket``, ``item``) pairs of the warehouse's purchases at ``level``.

    ``exclude`` drops items by name (e.g. a postage code that rides along in every parcel).
    """
    _check_level(level, category_depth)
    lines = _paid_lines(warehouse)
    if level == "product":
        items = lines.select("basket", item=lines.product_id)
    else:
        products = warehouse.table("products")
        cats = products.group_by(_p_id=products.product_id).aggregate(
            item=category_at_depth(products, category_depth).max())
        joined = lines.join(cats, lines.product_id == cats._p_id)
        items = joined.select("basket", "item")
    items = items.filter(items.item.notnull(), items.item != "")
    if exclude:
        items = items.filter(~items.item.isin(list(exclude)))
    return items.distinct()


def products_under(warehouse: Warehouse, category: str, depth: int) -> list[str]:
    """The product ids whose category at ``depth`` is ``category`` (sorted)."""
    products = warehouse.table("products")
    hits = products.filter(category_at_depth(products, depth) == category).select("product_id").distinct()
    return sorted(warehouse.execute(hits).product_id.astype(str))


def item_names(warehouse: Warehouse, items, level: str) -> dict[str, str]:
    """A readable name per item: the product's name at the product level (ids without one are left
    out); a category is its own name."""
    items = sorted({str(i) for i in items})
    if level != "product" or not items:
        return {}
    products = warehouse.table("products")
    named = products.filter(products.product_id.isin(items), products.name.notnull())
    named = named.group_by("product_id").aggregate(name=named.name.min())
    frame = warehouse.execute(named)
    return {str(p): str(n).strip() for p, n in zip(frame.product_id, frame.name)}
