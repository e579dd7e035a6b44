"""rules layer: association rules (basket analysis), bundles and cross-sell audiences.

    >>> result = mine_rules(warehouse, MiningOptions(level="product", min_support=0.01))
    >>> write_rules(warehouse, result)
    >>> read_rules(warehouse, RuleQuery(level="product", min_lift=3, top=10))
    >>> cross_sell_audience(warehouse, ("SOLUTION",), ("LENSES",), "category", as_of="2024-12-31").text
    "bought category 'SOLUTION' but not category 'LENSES'"

See docs/rules.md for what a basket is and what each measure means.
"""

from jingzhun.rules.audiences import CrossSell, cross_sell_audience, cross_sell_node
from jingzhun.rules.baskets import LEVELS, basket_items, item_names
from jingzhun.rules.bundles import Bundle, suggest_bundles
from jingzhun.rules.mining import MiningOptions, MiningResult, fpgrowth_itemsets, mine_rules, rules_from_itemsets
from jingzhun.rules.store import RuleQuery, read_rules, rules_frame, write_rules

__all__ = [
    "LEVELS", "Bundle", "CrossSell", "MiningOptions", "MiningResult", "RuleQuery", "basket_items",
    "cross_sell_audience", "cross_sell_node", "fpgrowth_itemsets", "item_names", "mine_rules", "read_rules",
    "rules_frame", "rules_from_itemsets", "suggest_bundles", "write_rules",
]
