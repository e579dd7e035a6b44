"""The warehouse: the one place that talks to an engine. Everything else gets Ibis tables from here.

Two engines run the same Ibis expressions:

* DuckDB (default): one file, real transactions. ``transaction()`` is BEGIN ... COMMIT, and any error
  rolls every write in the block back, schema changes included.
* PySpark: managed tables in a Spark warehouse folder. Spark has no multi-table transactions, so
  inside ``transaction()`` writes are held back and applied when the block ends without error; a
  failure inside the block writes nothing. (A crash during the final apply can still leave part of a
  load; docs/engines.md says so.)
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
from ibis.backends.sql.compilers.duckdb import DuckDBCompiler
import sqlglot.expressions as sge

from jingzhun.errors import SchemaError, WarehouseError
from jingzhun.schema import MIGRATIONS, SCHEMA_VERSION, TABLES, VERSION_TABLE, AddColumn, CreateTable, table

__all__ = ["Warehouse", "open_warehouse"]

log = logging.getLogger(__name__)

_Data = pd.DataFrame | pa.Table | ir.Table


class _DuckDBCompiler(DuckDBCompiler):
    """Ibis's DuckDB compiler, with epoch seconds of a timestamp with time zone read without a conversion.

    Ibis writes ``epoch(CAST(ts AS TIMESTAMP))``: a time-zone conversion per row (DuckDB's ICU) that
    costs ten times the rest of the expression, and every local hour, day and recency goes through it.
    ``epoch()`` of a TIMESTAMPTZ is already seconds since 1970-01-01 UTC, whatever the session's zone.
    """

    def visit_ExtractEpochSeconds(self, op, *, arg):
        if op.arg.dtype.is_timestamp() and op.arg.dtype.timezone is not None:
            return self.f.epoch(arg)
        return super().visit_ExtractEpochSeconds(op, arg=arg)


class Warehouse:
    """A connection to one warehouse. Use :func:`open_warehouse` or the class methods to make one."""

    def __init__(self, con: ibis.BaseBackend, engine: str, url: str, *, owns_engine: bool = True) -> None:
        self.con = con
        self._owns_engine = owns_engine
        self.engine = engine
        self.url = url
        self._depth = 0
        self._pending: list[Callable[[], None]] = []
        self._stages: list[str] = []

    # -- opening -----------------------------------------------------------------------------------
    @classmethod
    def duckdb(cls, path: str | os.PathLike = ":memory:") -> "Warehouse":
        path = str(path)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            con = ibis.duckdb.connect(path)
        except Exception as exc:  # duckdb raises IOException when another process holds the file
            raise WarehouseError(
                f"cannot open the DuckDB warehouse {path}: {exc}. Another jingzhun process may be using it; "
                "stop it or go through its service"
            ) from exc
        con.compiler = _DuckDBCompiler()
        return cls(con, "duckdb", f"duckdb:///{path}")

    @classmethod
    def spark(cls, session=None, *, warehouse_dir: str | os.PathLike | None = None,
              database: str | None = None) -> "Warehouse":
        """A Spark warehouse on an existing session, or a local one whose tables live in ``warehouse_dir``."""
        owns = session is None
        if session is None:
            from jingzhun.warehouse.spark import local_spark_session

            session = local_spark_session(warehouse_dir or "spark-warehouse")
        if database:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", database):
                raise WarehouseError(f"invalid Spark database name {database!r}")
            session.sql(f"CREATE DATABASE IF NOT EXISTS {database}")
            session.catalog.setCurrentDatabase(database)
        con = ibis.pyspark.connect(session)
        return cls(con, "pyspark", f"spark://{database or 'default'}", owns_engine=owns)

    # -- reading -----------------------------------------------------------------------------------
    def table(self, name: str) -> ir.Table:
        """The canonical table ``name`` (or a staging table) as an Ibis expression."""
        try:
            return self.con.table(name)
        except Exception as exc:
            if name in TABLES:
                raise SchemaError(
                    f"table {name!r} is missing from the warehouse {self.url}: run `jingzhun init` (or "
                    "Warehouse.ensure_schema()) to create the data model"
                ) from exc
            raise

    def has_table(self, name: str) -> bool:
        return name in self.con.list_tables()

    def execute(self, expr: ir.Expr, **kwargs) -> Any:
        return self.con.execute(expr, **kwargs)

    def count(self, name: str) -> int:
        return int(self.con.execute(self.table(name).count()))

    # -- schema ------------------------------------------------------------------------------------
    def version(self) -> int:
        if not self.has_table(VERSION_TABLE):
            return 0
        v = self.con.execute(self.table(VERSION_TABLE).version.max())
        return 0 if v is None or pd.isna(v) else int(v)

    def ensure_schema(self) -> int:
        """Create or upgrade the data model in place; returns the version the warehouse is now at."""
        current = self.version()
        if current > SCHEMA_VERSION:
            raise SchemaError(
                f"the warehouse {self.url} is at schema version {current}, newer than this jingzhun "
                f"({SCHEMA_VERSION}): upgrade jingzhun"
            )
        for migration in MIGRATIONS:
            if migration.version <= current:
                continue
            self.apply_migration(migration)
            current = migration.version
        return current

    def apply_migration(self, migration) -> None:
        log.info("migrating %s to schema version %d: %s", self.url, migration.version, migration.description)
        with self.transaction():
            if not self.has_table(VERSION_TABLE):
                self.con.create_table(
                    VERSION_TABLE,
                    schema=ibis.schema({"version": "int64", "description": "string", "applied_at": "timestamp('UTC')"}),
                )
            for step in migration.steps:
                if isinstance(step, CreateTable):
                    if not self.has_table(step.table):
                        self.con.create_table(step.table, schema=table(step.table).ibis_schema)
                elif isinstance(step, AddColumn):
                    self._add_column(step)
                else:  # pragma: no cover - a programming error
                    raise SchemaError(f"unknown migration step {step!r}")
            row = pd.DataFrame(
                {"version": [migration.version], "description": [migration.description],
                 "applied_at": [pd.Timestamp.now(tz="UTC")]}
            )
            self._insert_now(VERSION_TABLE, ibis.memtable(row).cast(self.con.table(VERSION_TABLE).schema()))

    def _add_column(self, step: AddColumn) -> None:
        """Add a column in place by rebuilding the table (portable across engines)."""
        current = self.con.table(step.table)
        if step.column.name in current.columns:
            return
        value = ibis.literal(step.default, type=step.column.ibis_type) if step.default is not None else \
            ibis.null(step.column.ibis_type)
        rebuilt = current.mutate(**{step.column.name: value})
        tmp = f"_migrate_{step.table}_{uuid.uuid4().hex[:8]}"
        self.con.create_table(tmp, rebuilt)
        self.con.drop_table(step.table)
        self.con.create_table(step.table, self.con.table(tmp))
        self.con.drop_table(tmp)

    # -- writing -----------------------------------------------------------------------------------
    def conform(self, name: str, data: _Data) -> ir.Table:
        """``data`` as an Ibis table with exactly the columns and types of canonical table ``name``.

        Columns the table has and the data lacks are filled with null; extra columns are an error, so
        a typo in a mapping cannot lose a field silently.
        """
        spec = table(name) if name in TABLES else None
        expr = data if isinstance(data, ir.Table) else ibis.memtable(data)
        target = spec.ibis_schema if spec is not None else self.con.table(name).schema()
        extra = [c for c in expr.columns if c not in target.names]
        if extra:
            raise SchemaError(f"columns {extra} are not in table {name!r}; it has {list(target.names)}")
        cols = {}
        for col, typ in target.items():
            cols[col] = expr[col].cast(typ) if col in expr.columns else ibis.null(typ)
        return expr.select(**cols)

    def append(self, name: str, data: _Data) -> None:
        """Append rows to table ``name``, conformed to its schema."""
        expr = self.conform(name, data)
        if self._depth and self.engine != "duckdb":
            self._pending.append(lambda: self._insert_now(name, expr))
        else:
            self._insert_now(name, expr)

    def replace(self, name: str, data: _Data) -> None:
        """Replace every row of table ``name`` (derived tables are rebuilt this way)."""
        expr = self.conform(name, data)
        if self.engine == "duckdb":
            # DELETE + INSERT stays inside the transaction; an expression that reads `name` itself is
            # materialised first, since the DELETE would empty what it reads.
            if _reads(expr, name):
                expr = self.stage(expr)
            self.con.raw_sql(f'DELETE FROM "{name}"')
            self._insert_now(name, expr)
        else:
            def apply() -> None:
                self.con.insert(name, self.stage(expr), overwrite=True)

            if self._depth:
                self._pending.append(apply)
            else:
                apply()

    def delete_where(self, name: str, predicate: Callable[[ir.Table], ir.BooleanValue]) -> None:
        """Delete the rows of ``name`` for which ``predicate(table)`` is true (keeps the rest).

        On DuckDB this is a real ``DELETE ... WHERE`` inside the current transaction, so deleting a few
        rows costs a few rows (``profile_id IN (SELECT ... FROM a staged table)`` is the usual form).
        Spark tables are immutable files: the rows kept are written anew.
        """
        t = self.table(name)
        cond = predicate(t)
        if self.engine == "duckdb" and (sql := _delete_sql(self.con, t, cond)) is not None:
            self.con.raw_sql(sql)
            return
        self.replace(name, t.filter(~cond.fill_null(False)))

    def _insert_now(self, name: str, expr: ir.Table) -> None:
        self.con.insert(name, expr)

    def stage(self, data: _Data, name: str | None = None) -> ir.Table:
        """Materialise ``data`` as a temporary staging table (dropped by :meth:`drop_stages` or on close)."""
        name = name or f"_stage_{uuid.uuid4().hex[:12]}"
        obj = data if isinstance(data, ir.Table) else ibis.memtable(data)
        if self.engine == "duckdb":
            t = self.con.create_table(name, obj, temp=True)
        else:
            t = self.con.create_table(name, obj, overwrite=True)
        self._stages.append(name)
        return t

    def drop_stage(self, name: str) -> None:
        """Drop one staging table now (long computations free their per-round tables this way)."""
        if name in self._stages:
            self._stages.remove(name)
        with contextlib.suppress(Exception):
            self.con.drop_table(name, force=True)

    def drop_stages(self) -> None:
        while self._stages:
            name = self._stages.pop()
            with contextlib.suppress(Exception):
                self.con.drop_table(name, force=True)

    @contextlib.contextmanager
    def unordered_writes(self) -> Iterator["Warehouse"]:
        """Inside the block, tables may be written and read in any row order.

        DuckDB otherwise keeps the order in which rows arrive, which makes it write a staged or inserted
        table with one thread; a bulk build that orders nothing by position writes on every core (at a
        million profiles the feature build took 60% longer in order). Results without ORDER BY come in
        no particular order inside the block, as SQL allows. Spark never promised an order: nothing to do.
        """
        if self.engine != "duckdb":
            yield self
            return
        before = self.con.raw_sql("SELECT current_setting('preserve_insertion_order')").fetchone()[0]
        self.con.raw_sql("SET preserve_insertion_order = false")
        try:
            yield self
        finally:
            self.con.raw_sql(f"SET preserve_insertion_order = {'true' if before else 'false'}")

    @contextlib.contextmanager
    def transaction(self) -> Iterator["Warehouse"]:
        """All writes in the block land together or not at all (see the module docstring for Spark)."""
        outer = self._depth == 0
        if outer and self.engine == "duckdb":
            self.con.con.begin()
        self._depth += 1
        try:
            yield self
        except BaseException:
            self._depth -= 1
            if outer:
                self._pending.clear()
                if self.engine == "duckdb":
                    self.con.con.rollback()
            raise
        self._depth -= 1
        if outer:
            if self.engine == "duckdb":
                self.con.con.commit()
            else:
                pending, self._pending = self._pending, []
                for apply in pending:
                    apply()

    def close(self) -> None:
        self.drop_stages()
        if self._owns_engine:  # never stop a Spark session someone else handed us
            with contextlib.suppress(Exception):
                self.con.disconnect()

    def __enter__(self) -> "Warehouse":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Warehouse({self.url!r})"


def _reads(expr: ir.Table, name: str) -> bool:
    """Whether ``expr`` reads the warehouse table ``name``."""
    return any(op.name == name for op in expr.op().find(ops.DatabaseTable))


def _delete_sql(con: ibis.BaseBackend, t: ir.Table, cond: ir.BooleanValue) -> str | None:
    """``DELETE FROM t WHERE cond`` in DuckDB's SQL, or None when Ibis does not compile the filter to a plain
    ``SELECT ... FROM t WHERE ...`` (the caller then rewrites the table instead)."""
    select = con.compiler.to_sqlglot(t.filter(cond))
    source = select.args.get("from_") or select.args.get("from")
    if (not isinstance(select, sge.Select) or select.args.get("with") or select.args.get("joins")
            or select.args.get("where") is None or source is None or not isinstance(source.this, sge.Table)):
        return None
    return sge.Delete(this=source.this, where=select.args["where"]).sql(dialect="duckdb")


def open_warehouse(url: str, base_dir: str | os.PathLike | None = None) -> Warehouse:
    """Open a warehouse by URL.

    * ``duckdb:///data/warehouse.duckdb``: a DuckDB file, relative to ``base_dir`` (the project);
      ``duckdb:////abs/path.duckdb`` for an absolute path; ``duckdb:///:memory:`` in memory.
    * a plain path ending in ``.duckdb``: the same as the first form.
    * ``spark://local`` or ``spark://local/DATABASE``: a local Spark session with its warehouse folder
      in ``base_dir/data/spark-warehouse``.
    """
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    if url.startswith("duckdb://"):
        rest = url[len("duckdb://"):]
        if rest.startswith("/"):
            rest = rest[1:]
        if rest in ("", ":memory:"):
            return Warehouse.duckdb(":memory:")
        path = Path(rest)
        return Warehouse.duckdb(path if path.is_absolute() else base / path)
    if url.endswith(".duckdb"):
        path = Path(url)
        return Warehouse.duckdb(path if path.is_absolute() else base / path)
    if url.startswith("spark://"):
        rest = url[len("spark://"):].strip("/")
        host, _, database = rest.partition("/")
        if host not in ("", "local"):
            raise WarehouseError(
                f"{url}: only spark://local is started by jingzhun; for a cluster, build a SparkSession "
                "yourself and use Warehouse.spark(session)"
            )
        return Warehouse.spark(warehouse_dir=base / "data" / "spark-warehouse", database=database or "jingzhun")
    raise WarehouseError(f"unknown warehouse URL {url!r}: use duckdb:///path.duckdb or spark://local")
