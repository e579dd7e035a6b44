"""A load killed with SIGKILL inside its transaction leaves the warehouse as it was (DuckDB)."""

import os
import signal
import subprocess
import sys
import textwrap
import time

from jingzhun.ingest import SourceSpec
from jingzhun.pipeline import load_source
from jingzhun.schema import TABLES
from jingzhun.warehouse import Warehouse

SECRET = "k" * 64

CHILD = textwrap.dedent("""
    import pathlib, sys, time
    from jingzhun.ingest import SourceSpec
    from jingzhun.pipeline import load_source
    from jingzhun.warehouse import Warehouse

    db, mapping, marker = sys.argv[1:4]
    wh = Warehouse.duckdb(db)

    def on_progress(step, done, total):
        if step == "write" and done == 1:  # the first table is appended, the transaction is open
            pathlib.Path(marker).write_text("inside")
            time.sleep(120)

    load_source(wh, SourceSpec.from_yaml(mapping), secret=sys.argv[4], on_progress=on_progress)
""")


def _counts(path):
    wh = Warehouse.duckdb(path)
    try:
        return {n: wh.count(n) for n, t in TABLES.items() if t.kind in ("source", "system")}
    finally:
        wh.close()


def _write_source(tmp_path, name, n_orders):
    lines = ["Invoice,Sku,Qty,Price,When,Customer"]
    for i in range(n_orders):
        for j in range(3):
            lines.append(f"{name}{i},P{j},{j + 1},{1.25 * (j + 1)},2024-02-{1 + i % 28:02d} 10:00:00,c{i % 5000}")
    (tmp_path / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    mapping = tmp_path / f"{name}.yaml"
    mapping.write_text(textwrap.dedent(f"""
        source: {name}
        files:
          - path: {name}.csv
            table: order_lines
            line_no: auto
            columns: {{order_id: Invoice, product_id: Sku, quantity: Qty, unit_price: Price}}
            orders:
              columns: {{user_id: Customer, ordered_at: When}}
    """))
    return mapping


def test_sigkill_inside_the_transaction_leaves_the_warehouse_as_it_was(tmp_path):
    db = str(tmp_path / "w.duckdb")
    wh = Warehouse.duckdb(db)
    wh.ensure_schema()
    load_source(wh, SourceSpec.from_yaml(_write_source(tmp_path, "first", 50)), secret=SECRET)
    wh.close()
    before = _counts(db)

    mapping = _write_source(tmp_path, "big", 60_000)
    marker = tmp_path / "marker"
    child = subprocess.Popen([sys.executable, "-c", CHILD, db, str(mapping), str(marker), SECRET],
                             stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while not marker.exists():
        assert child.poll() is None, child.stderr.read().decode()
        assert time.monotonic() < deadline, "the load never reached its write step"
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL

    assert _counts(db) == before  # nothing of the killed load is visible

    wh = Warehouse.duckdb(db)
    report = load_source(wh, SourceSpec.from_yaml(mapping), secret=SECRET)
    wh.close()
    assert [(f.table_name, f.rows_loaded) for f in report.files] == [("order_lines", 180_000), ("orders", 60_000)]
    after = _counts(db)
    assert after["order_lines"] == before["order_lines"] + 180_000 and after["loads"] == before["loads"] + 2
