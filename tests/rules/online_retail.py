"""Online Retail for the rules tests: the shop's products get a product type as their category.

The data set has no categories. Its descriptions name the product type, usually as the last telling
word ("WHITE HANGING HEART T-LIGHT HOLDER", "JUMBO BAG RED RETROSPOT"), so a product's category is
the group of the right-most word found in :data:`TYPE_WORDS`; products with none stay uncategorised
(and are left out of category baskets, as any product without a category is).
"""

from __future__ import annotations

import re

import ibis
import pandas as pd

TYPE_WORDS: dict[str, tuple[str, ...]] = {
    "bags": ("BAG", "BAGS", "PURSE", "SHOPPER", "TOTE"),
    "kitchen": ("MUG", "MUGS", "CUP", "CUPS", "TEACUP", "SAUCER", "PLATE", "PLATES", "BOWL", "BOWLS", "SPOON",
                "SPOONS", "JAR", "JARS", "TIN", "TINS", "CAKESTAND", "NAPKINS", "APRON", "TRAY", "BOTTLE",
                "CASES", "TEAPOT", "JUG", "TUMBLER", "MOULD", "CUTTERS", "COASTER", "COASTERS", "CUTLERY"),
    "lighting": ("CANDLE", "CANDLES", "HOLDER", "LIGHTS", "LIGHT", "LANTERN", "LAMP", "NIGHTLIGHT"),
    "jewellery": ("NECKLACE", "BRACELET", "EARRINGS", "RING", "CHARM", "BROOCH", "HAIRCLIP"),
    "stationery": ("CARD", "CARDS", "NOTEBOOK", "PEN", "PENS", "PENCILS", "STICKERS", "WRAP", "PAPER", "TAPE",
                   "CALENDAR", "ENVELOPES", "NOTEPAD", "CHALKBOARD", "ERASER", "STICKER"),
    "decoration": ("DECORATION", "ORNAMENT", "GARLAND", "BUNTING", "SIGN", "FRAME", "CLOCK", "MIRROR", "WREATH",
                   "BAUBLE", "BAUBLES", "PLAQUE", "DOORSTOP", "VASE"),
    "textiles": ("CUSHION", "COVER", "DOORMAT", "BLANKET", "TOWEL", "TOWELS", "THROW", "COSY", "WARMER"),
    "storage": ("BOX", "BOXES", "BASKET", "HOOK", "HOOKS", "HANGER", "DRAWER", "CABINET", "CRATE", "SHELF", "RACK",
                "BIN"),
    "toys": ("TOY", "GAME", "PUZZLE", "DOLL", "KIT", "SKITTLES", "DOMINOES", "JIGSAW", "BLOCK", "PLAYHOUSE"),
}
_GROUP = {w: g for g, words in TYPE_WORDS.items() for w in words}


def product_type(description) -> str | None:
    """The category of a description: the group of its right-most type word (None when none)."""
    if not isinstance(description, str):
        return None
    for word in reversed(re.split(r"[\s,./]+", description.strip().upper())):
        if word in _GROUP:
            return _GROUP[word]
    return None


def categorise_products(wh) -> int:
    """Give the warehouse's Online Retail products their product type as ``category``; returns how many got one."""
    products = wh.execute(wh.table("products").select("product_id", "name"))
    types = pd.DataFrame({"_pid": products.product_id, "_type": products.name.map(product_type)}).dropna()
    t = wh.table("products")
    lookup = ibis.memtable(types)
    joined = t.left_join(lookup, t.product_id == lookup._pid)
    wh.replace("products", joined.mutate(category=joined._type).drop("_pid", "_type"))
    return len(types)


def raw_baskets(csv) -> pd.DataFrame:
    """(basket, product) pairs straight from the raw CSV: no cancellation invoice ("C..."), quantity and
    price above zero, each product once per invoice."""
    raw = pd.read_csv(csv, dtype={"InvoiceNo": str, "StockCode": str}, encoding="utf-8")
    raw = raw[~raw.InvoiceNo.str.startswith("C") & (raw.Quantity > 0) & (raw.UnitPrice > 0)]
    out = pd.DataFrame({"basket": raw.InvoiceNo.str.strip(), "product": raw.StockCode.str.strip(),
                        "name": raw.Description})
    return out.drop_duplicates(["basket", "product"])
