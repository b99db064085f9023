"""A DuckDB-connection look-alike over a Spark session: the engine's own Python runs its own SQL on Spark.

The stages call `con.execute(sql, params)`, `fetchall()`, `fetchone()`, `register(name, table)`,
`cursor()`. `SparkCon` answers those by transpiling each statement (`spark.sql.transpile`, the
macros it has seen created expanded) and running it on Spark, so a stage is not written again for
Spark: it is run again, on Spark.

DuckDB's catalogue is modelled by temporary views of the analysis' own SQL session:
- `CREATE [OR REPLACE] TABLE t AS SELECT …`: the result, computed once and kept
  (`localCheckpoint`: the lineage cut, as a DuckDB table is stored), as the view `t`;
- `CREATE VIEW v AS …`: a temporary view of the SQL text (resolved when read, as DuckDB's are);
- `CREATE TABLE t (columns)`, `INSERT INTO t …`, `UPDATE t SET … FROM …`, `ALTER TABLE … ADD COLUMN
  / RENAME TO`, `DROP`: the table's view replaced by its new contents;
- `CREATE MACRO`: kept and expanded into later statements (`sql.Macros`);
- `SET`, `ATTACH`: nothing to do (the work database is the session; schema prefixes are dropped);
- `duckdb_tables()`, `duckdb_views()`, `duckdb_databases()`, `information_schema.columns`: answered
  from the catalogue this class keeps.

Parameters (`?`) become Spark's named parameters (`:p1`…), bound, never spliced into SQL text; a
naive `datetime` is bound as its ISO text and read back by the statement's own `CAST(? AS TIMESTAMP)`.

Imports this package's `sql`, `con_sql` and `frames`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import sqlglot
from sqlglot import exp

from tui.engine.spark.con_sql import (
    CATALOGUE,
    WORK,
    drop_schemas,
    is_list,
    list_slice,
    named_params,
    py,
    quoted,
    with_rowids,
)
from tui.engine.spark.frames import inline_frame_bounds
from tui.engine.spark.sql import READ, Macros, rewrite, to_spark

_MACRO = re.compile(r"^\s*CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP\s+|TEMPORARY\s+)?MACRO\s", re.I)
_IGNORED = re.compile(
    r"^\s*(SET|ATTACH|DETACH|CALL|PRAGMA|CHECKPOINT|VACUUM|ANALYZE|BEGIN|COMMIT|ROLLBACK)\b", re.I
)

# `INSERT INTO t VALUES (?, ?, …)` (executemany), and the rows put in one INSERT
_VALUES = re.compile(
    r"^\s*(INSERT\s+INTO\s+[\w.]+\s+VALUES)\s*(\((?:\s*(?:\?|CAST\(\?\s+AS\s+\w+\))\s*,?)+\))\s*;?\s*$", re.I
)
_ROWS_PER_INSERT = 500


class SparkCon:
    """The subset of `duckdb.DuckDBPyConnection` the engine's stages use, on a Spark session."""

    def __init__(self, spark: Any, macros: Macros | None = None) -> None:
        self.spark = spark
        self.macros = macros or Macros()
        self.kinds: dict[str, str] = {}  # name → "table" | "view", as DuckDB's catalogue says
        self._rows: list[tuple[Any, ...]] = []
        self._at = 0
        self.description: list[tuple[str, ...]] | None = None
        self.log: list[str] = []  # every Spark statement run (for a failure's message and the tests)

    # --- the connection ----------------------------------------------------------------------

    def cursor(self) -> SparkCon:
        return self

    def close(self) -> None:
        pass

    def interrupt(self) -> None:
        self.spark.sparkContext.cancelAllJobs()

    def register(self, name: str, table: Any) -> SparkCon:
        """An Arrow table (or pandas frame) as the view `name`."""
        frame = self.spark.createDataFrame(table)
        frame.createOrReplaceTempView(name)
        self.kinds[name.lower()] = "view"
        return self

    def unregister(self, name: str) -> SparkCon:
        self._drop(name)
        return self

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> SparkCon:
        """Each row's statement; `INSERT INTO t VALUES (?, …)` as one INSERT of many rows (each
        value still a bound parameter), not a Spark job and a stored copy of `t` per row."""
        values = _VALUES.match(sql)
        if values is None:
            for row in rows:
                self.execute(sql, list(row))
            return self
        batch = list(rows)
        for at in range(0, len(batch), _ROWS_PER_INSERT):
            chunk = batch[at : at + _ROWS_PER_INSERT]
            many = ", ".join([values.group(2)] * len(chunk))
            self.execute(f"{values.group(1)} {many}", [v for row in chunk for v in row])
        return self

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> SparkCon:
        self._rows, self._at, self.description = [], 0, None
        if _IGNORED.match(sql):
            return self
        if _MACRO.match(sql):
            self.macros.add(sql)
            return self
        text, args = named_params(sql, params)
        for tree in sqlglot.parse(text, read=READ):
            if tree is not None:
                self._statement(tree, args)
        return self

    # --- results -----------------------------------------------------------------------------

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._rows, self._at = self._rows[self._at :], [], 0
        return rows

    def fetchone(self) -> tuple[Any, ...] | None:
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._rows[self._at - 1]

    def fetchmany(self, size: int = 1) -> list[tuple[Any, ...]]:
        rows = self._rows[self._at : self._at + size]
        self._at += len(rows)
        return rows

    def sql(self, sql: str, params: Sequence[Any] | None = None) -> Relation:
        """DuckDB's relation API, as far as the stages use it: Arrow out of a SELECT."""
        return Relation(self.frame(sql, params))

    def frame(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """The Spark DataFrame of one SELECT (no rows fetched)."""
        text, args = named_params(sql, params)
        return self._select(sqlglot.parse_one(text, read=READ), args)

    # --- statements --------------------------------------------------------------------------

    def _statement(self, tree: exp.Expr, args: dict[str, Any]) -> None:
        drop_schemas(tree)
        if isinstance(tree, exp.Create):
            self._create(tree, args)
        elif isinstance(tree, exp.Insert):
            self._insert(tree, args)
        elif isinstance(tree, exp.Update):
            self._update(tree, args)
        elif isinstance(tree, exp.Delete):
            self._delete(tree, args)
        elif isinstance(tree, exp.Drop):
            for table in tree.args.get("tables") or [tree.this]:
                self._drop(table.name)
        elif isinstance(tree, exp.Alter):
            self._alter(tree)
        elif isinstance(tree, exp.Describe):
            self._describe(tree.this, args)
        elif isinstance(tree, exp.Command | exp.Set | exp.Pragma):
            return
        else:
            frame = self._select(tree, args)
            self.description = [(name,) for name in frame.columns]
            self._rows = [py(row) for row in frame.collect()]

    def _spark_sql(self, tree: exp.Expr) -> str:
        drop_schemas(tree)
        tree = self._catalogue(self.macros.expand(tree))
        tree = inline_frame_bounds(tree, self._constant)
        for cte in tree.find_all(exp.CTE):
            cte.set("materialized", None)  # DuckDB's hint; Spark plans CTEs itself
        typed = any(True for _ in tree.find_all(exp.Length, exp.Slice))
        if typed or any(s.args.get("except_") or s.args.get("replace") for s in tree.find_all(exp.Star)):
            tree = self._qualified(tree, typed)
        tree = with_rowids(tree, {n for n, k in self.kinds.items() if k == "table"})
        return to_spark(rewrite(tree))

    def _qualified(self, tree: exp.Expr, typed: bool) -> exp.Expr:
        """`* EXCLUDE (…)` / `* REPLACE (…)` (Spark has neither) as the columns they stand for, from
        the catalogue's schemas (sqlglot's `qualify`); with `typed`, DuckDB's `len()` and `[a:b]`
        of a list as Spark's `size()` and `slice()` (`len` of text stays `length`), the types from
        sqlglot's `annotate_types` over the same schemas."""
        from sqlglot.optimizer.annotate_types import annotate_types
        from sqlglot.optimizer.qualify import qualify
        from sqlglot.schema import MappingSchema

        ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
        schema: dict[str, object] = {}
        for table in tree.find_all(exp.Table):
            name = table.name
            if name.lower() in ctes or name in schema or not name:
                continue
            try:
                fields = self._table(name).schema.fields
            except Exception:  # noqa: BLE001 - not a table (a function's result): left as it is
                continue
            schema[name] = {f.name: f.dataType.simpleString() for f in fields}
        known = MappingSchema(schema, dialect="spark")
        tree = qualify(
            tree, schema=known, dialect="duckdb", quote_identifiers=False, validate_qualify_columns=False
        )
        if typed:
            tree = annotate_types(tree, schema=known, dialect="duckdb")
            for length in list(tree.find_all(exp.Length)):
                if is_list(length.this):
                    length.replace(exp.ArraySize(this=length.this))
            for bracket in list(tree.find_all(exp.Bracket)):
                cut = bracket.expressions[0] if len(bracket.expressions) == 1 else None
                if isinstance(cut, exp.Slice):
                    bracket.replace(list_slice(bracket.this, cut))
        return tree

    def _constant(self, value: exp.Expr, tables: dict[str, str]) -> Any:
        """The one value of `value` (DuckDB SQL) over `tables` (alias → stored table), each of which
        must hold exactly one row (the engine's parameter tables): `frames.inline_frame_bounds`."""
        select = exp.select(value.as_("v"))
        for i, (alias, name) in enumerate(tables.items()):
            if self.kinds.get(name.lower()) != "table" or self._table(name).count() != 1:
                raise NotImplementedError(f"a window frame bound reading {name}, not a one-row table")
            table = exp.to_table(name).as_(alias)
            select = select.from_(table) if i == 0 else select.join(table)  # a cross join of one row
        rows = self.spark.sql(to_spark(rewrite(select))).collect()
        return rows[0][0]

    def _select(self, tree: exp.Expr, args: dict[str, Any]) -> Any:
        text = self._spark_sql(tree)
        self.log.append(text)
        return self.spark.sql(text, args=args or None)

    def keep(self, name: str, frame: Any) -> None:
        """`frame` computed once and stored as the table `name`."""
        stored = frame.localCheckpoint(eager=True)
        stored.createOrReplaceTempView(name)
        self.kinds[name.lower()] = "table"

    def _table(self, name: str) -> Any:
        return self.spark.table(name)

    def _create(self, tree: exp.Create, args: dict[str, Any]) -> None:
        kind = str(tree.args.get("kind") or "").upper()
        target = tree.this
        name = (target.this if isinstance(target, exp.Schema) else target).name
        replace = bool(tree.args.get("replace"))
        if not replace and tree.args.get("exists") and name.lower() in self.kinds:
            return
        query = tree.expression
        if kind == "VIEW":
            text = self._spark_sql(query)
            self.log.append(text)
            self.spark.sql(f"CREATE OR REPLACE TEMPORARY VIEW `{name}` AS {text}", args=args or None)
            self.kinds[name.lower()] = "view"
            return
        if query is None and isinstance(target, exp.Schema):  # CREATE TABLE t (a TYPE, …): empty
            columns = ", ".join(
                f"CAST(NULL AS {to_spark(c.args['kind'])}) AS `{c.name}`" for c in target.expressions
            )
            self.keep(name, self.spark.sql(f"SELECT {columns} WHERE false"))
            return
        self.keep(name, self._select(query, args))

    def _insert(self, tree: exp.Insert, args: dict[str, Any]) -> None:
        """`INSERT INTO t [(columns)] SELECT … | VALUES …`: t's rows and the new ones, by position (or
        by the columns named), cast to t's column types."""
        target = tree.this
        named = None
        if isinstance(target, exp.Schema):
            named = [c.name for c in target.expressions]
            target = target.this
        name = target.name
        old = self._table(name)
        query = tree.expression
        if isinstance(query, exp.Values):
            query = exp.select("*").from_(query.as_("_v"))
        new = self._select(query, args)
        names = named or old.columns[: len(new.columns)]
        new = new.toDF(*names)
        # one expression list (a py4j call per column each would cost more than the insert)
        typed = new.selectExpr(
            *[
                f"CAST({quoted(f.name) if f.name in names else 'NULL'} AS {f.dataType.simpleString()}) "
                f"AS {quoted(f.name)}"
                for f in old.schema.fields
            ]
        )
        # only the new rows are computed and stored; the table is the union of its stored parts
        # (storing old and new again at each INSERT would copy the table once per indicator)
        part = typed.localCheckpoint(eager=True)
        old.unionByName(part).createOrReplaceTempView(name)
        self.kinds[name.lower()] = "table"

    def _update(self, tree: exp.Update, args: dict[str, Any]) -> None:
        """`UPDATE t SET c = e, … [FROM s] WHERE cond`: every row of t, with the set columns changed
        where the condition holds (with FROM, from the source row it matches: at most one, as the
        engine's updates are written)."""
        from pyspark.sql import functions as F

        drop_schemas(tree)
        name = tree.this.name
        old = self._table(name)
        types = {f.name: f.dataType for f in old.schema.fields}
        sets = {eq.this.name: eq.expression for eq in tree.expressions}
        where = tree.args.get("where")
        cond = where.this if where is not None else exp.true()
        source = tree.args.get("from") or tree.args.get("from_")
        alias = "_t"
        # the target's own name in the statement reads the row being updated
        for col in [*cond.find_all(exp.Column), *[c for e in sets.values() for c in e.find_all(exp.Column)]]:
            if (col.table and col.table.lower() == name.lower()) or (not col.table and source is None):
                col.set("table", exp.to_identifier(alias))
        row = "_triage_row"
        old.withColumn(row, F.monotonically_increasing_id()).createOrReplaceTempView("_triage_update")
        matched = exp.select(exp.column(row, alias), *[sets[c].copy().as_(f"_set_{c}") for c in sets])
        if source is None:
            matched = matched.from_(exp.to_table("_triage_update").as_(alias)).where(cond.copy())
        else:
            matched = matched.from_(exp.to_table("_triage_update").as_(alias)).join(
                source.this.copy(), on=cond.copy()
            )
        self._select(matched, args).createOrReplaceTempView("_triage_matched")
        joined = self.spark.sql(
            "SELECT t.*, "
            + ", ".join(f"m.`_set_{c}`" for c in sets)
            + f", m.`{row}` IS NOT NULL AS _hit FROM _triage_update t LEFT JOIN _triage_matched m "
            f"ON m.`{row}` = t.`{row}`"
        )
        changed = [
            F.when(F.col("_hit"), F.col(f"`_set_{c}`")).otherwise(F.col(f"`{c}`")).cast(types[c]).alias(c)
            if c in sets
            else F.col(f"`{c}`")
            for c in old.columns
        ]
        self.keep(name, joined.select(*changed))
        self.spark.catalog.dropTempView("_triage_matched")
        self.spark.catalog.dropTempView("_triage_update")

    def _delete(self, tree: exp.Delete, args: dict[str, Any]) -> None:
        name = tree.this.name
        where = tree.args.get("where")
        if where is None:
            self.keep(name, self._table(name).limit(0))
            return
        columns = [exp.column(c, quoted=True) for c in self._table(name).columns]
        keep = exp.not_(exp.func("coalesce", where.this.copy(), exp.false()))
        self.keep(name, self._select(exp.select(*columns).from_(name).where(keep), args))

    def _alter(self, tree: exp.Alter) -> None:
        name = tree.this.name
        for action in tree.args.get("actions") or []:
            if isinstance(action, exp.ColumnDef):  # ADD COLUMN c TYPE
                from pyspark.sql import functions as F

                spark_type = to_spark(action.args["kind"])
                self.keep(name, self._table(name).withColumn(action.name, F.lit(None).cast(spark_type)))
            elif isinstance(action, exp.AlterRename):  # within the table's own database
                new = action.this.name
                if name.startswith(f"{WORK}__") and not new.startswith(f"{WORK}__"):
                    new = f"{WORK}__{new}"
                self._table(name).createOrReplaceTempView(new)
                self.kinds[new.lower()] = self.kinds.get(name.lower(), "table")
                self._drop(name)
            else:
                raise NotImplementedError(f"ALTER TABLE {action.sql('duckdb')} on Spark")

    def _describe(self, target: exp.Expr, args: dict[str, Any]) -> None:
        """`DESCRIBE t` or `DESCRIBE SELECT …`: the columns and their types."""
        frame = self._table(target.name) if isinstance(target, exp.Table) else self._select(target, args)
        fields = frame.schema.fields
        self.description = [("column_name",), ("column_type",)]
        self._rows = [(f.name, f.dataType.simpleString().upper()) for f in fields]

    def _drop(self, name: str, missing_ok: bool = True) -> None:
        self.spark.catalog.dropTempView(name)
        self.kinds.pop(name.lower(), None)

    def _catalogue(self, tree: exp.Expr) -> exp.Expr:
        """DuckDB's catalogue functions and information_schema, as views of what this class keeps."""
        for table in list(tree.find_all(exp.Table)):
            fn = table.this
            name = fn.name.lower() if isinstance(fn, exp.Anonymous | exp.Identifier) else ""
            if isinstance(fn, exp.Anonymous) and name in CATALOGUE:
                view = self._catalogue_view(name)
                table.set("this", exp.to_identifier(view))
            elif name in ("columns", "tables") and (table.db or "").lower() == "information_schema":
                view = self._columns_view() if name == "columns" else self._tables_view()
                table.set("this", exp.to_identifier(view))
                table.set("db", None)
        return tree

    def _catalogue_view(self, which: str) -> str:
        rows: list[tuple[str, ...]]
        if which == "duckdb_databases":
            rows, schema = [("memory",), ("triage_work",)], "database_name string"
        else:  # the work database's `triage_work.t` is kept as `triage_work__t` (`drop_schemas`)
            want = "table" if which == "duckdb_tables" else "view"
            rows = [
                (WORK, n.removeprefix(f"{WORK}__")) if n.startswith(f"{WORK}__") else ("memory", n)
                for n, k in self.kinds.items()
                if k == want
            ]
            schema = f"database_name string, {want}_name string"
        self.spark.createDataFrame(rows, schema).createOrReplaceTempView(f"_triage_{which}")
        return f"_triage_{which}"

    def _tables_view(self) -> str:
        """information_schema.tables: every table and view (the work database's by their own name)."""
        rows = [
            (n.removeprefix(f"{WORK}__"), "BASE TABLE" if k == "table" else "VIEW")
            for n, k in self.kinds.items()
        ]
        schema = "table_name string, table_type string"
        self.spark.createDataFrame(rows, schema).createOrReplaceTempView("_triage_tables")
        return "_triage_tables"

    def _columns_view(self) -> str:
        rows = []
        for name in self.kinds:
            try:
                fields = self._table(name).schema.fields
            except Exception:  # noqa: BLE001 - a view whose sources are gone
                continue
            rows += [(name, f.name, f.dataType.simpleString().upper(), i + 1) for i, f in enumerate(fields)]
        schema = "table_name string, column_name string, data_type string, ordinal_position int"
        self.spark.createDataFrame(rows, schema).createOrReplaceTempView("_triage_columns")
        return "_triage_columns"


class Relation:
    """A SELECT's result as DuckDB's `DuckDBPyRelation` gives it: Arrow, in batches."""

    def __init__(self, frame: Any) -> None:
        self.frame = frame

    def arrow(self) -> Any:
        return self.frame.toArrow()

    fetch_arrow_table = arrow

    def to_arrow_reader(self, batch_size: int = 1_000_000) -> Any:
        return self.arrow().to_reader(max_chunksize=batch_size)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [py(row) for row in self.frame.collect()]
