"""Frequent itemsets on Spark: ``pyspark.ml.fpm.FPGrowth`` (Li et al. 2008, parallel FP-growth).

Used by :func:`jingzhun.rules.mine_rules` when the warehouse runs on PySpark: the baskets never leave
the cluster, only the frequent itemsets with their counts come back (they are few by construction).
Rules are then derived by the same code as on DuckDB, so both engines agree on the same baskets.
"""

from __future__ import annotations

import ibis.expr.types as ir
import pandas as pd

from jingzhun.warehouse import Warehouse

__all__ = ["spark_itemsets"]


def spark_itemsets(warehouse: Warehouse, pairs: ir.Table, min_baskets: int, max_len: int) -> pd.DataFrame:
    """Itemsets of at most ``max_len`` items in at least ``min_baskets`` baskets, with their counts.

    ``pairs`` is an Ibis table of (``basket``, ``item``) on the warehouse's Spark session; it may hold
    only the baskets with a frequent item (counts are absolute, so the others do not matter).
    """
    from pyspark.ml.fpm import FPGrowth
    from pyspark.sql import functions as F

    session = warehouse.con._session
    frame = session.sql(str(warehouse.con.compile(pairs)))
    baskets = frame.groupBy("basket").agg(F.collect_set("item").alias("items")).cache()
    try:
        n_fed = baskets.count()
        if n_fed == 0:
            return pd.DataFrame({"items": pd.Series([], dtype=object), "count": pd.Series([], dtype="int64")})
        # Spark keeps itemsets with freq >= ceil(minSupport x rows): half a basket under gives min_baskets
        model = FPGrowth(itemsCol="items", minSupport=(min_baskets - 0.5) / n_fed, minConfidence=1.0).fit(baskets)
        found = model.freqItemsets.filter(F.size("items") <= max_len).toPandas()
    finally:
        baskets.unpersist()
    return pd.DataFrame({
        "items": [tuple(sorted(str(x) for x in items)) for items in found["items"]],
        "count": found["freq"].astype("int64").to_numpy(),
    })
