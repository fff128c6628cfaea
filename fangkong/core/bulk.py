"""Bulk writes: many rows and their audit trail (simple-history records) in a few statements.

The demo data and the imports write tens of thousands of rows at a time. Going through the
ORM one object at a time (``save()``, a history record per save, a timeline event per save)
costs a query each; here rows are precomputed tuples written with ``COPY`` on PostgreSQL and
one ``executemany`` elsewhere, and the matching history records are derived from the same
tuples. The rows must be complete as the services would leave them (search text, derived
fields): nothing here validates.

Primary keys are given by the caller (so that rows can point to each other before they are
written): :func:`allocate_ids` hands out a block of them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models
from django.db.models import Max
from django.db.models.expressions import RawSQL


def insert_rows(table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert rows: ``COPY`` on PostgreSQL, one ``executemany`` elsewhere."""
    if not rows:
        return
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})", rows)


def update_rows(
    model: type[models.Model], columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Update rows by primary key in one ``executemany``: each row gives the values of
    ``columns`` (attribute names) in order, then the primary key."""
    if not rows:
        return
    quote = connection.ops.quote_name
    fields = {f.attname: f for f in model._meta.concrete_fields}
    sets = ", ".join(f"{quote(fields[name].column)} = %s" for name in columns)
    pk = quote(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {quote(model._meta.db_table)} SET {sets} WHERE {pk} = %s", rows)


def next_id(model: type[models.Model]) -> int:
    """One more than the largest primary key in use (0 rows: 1)."""
    return (model._default_manager.aggregate(top=Max("pk"))["top"] or 0) + 1


def allocate_ids(model: type[models.Model], count: int) -> list[int]:
    """``count`` fresh primary keys for rows about to be inserted with explicit keys.

    PostgreSQL draws them from the table's sequence (safe beside concurrent inserts). SQLite
    has one writer at a time (the transaction holds the write lock from ``BEGIN IMMEDIATE``),
    so the keys after the largest one in use are free until the transaction ends; call this
    inside the transaction that inserts the rows.
    """
    if count <= 0:
        return []
    if connection.vendor == "postgresql":
        meta = model._meta
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, count],
            )
            return [row[0] for row in cursor.fetchall()]
    first = next_id(model)
    if connection.vendor == "sqlite":
        # Not below a key handed out before to a row since deleted (AUTOINCREMENT's record):
        # the audit trail still holds that row's history under its key.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT seq FROM sqlite_sequence WHERE name = %s", [model._meta.db_table]
            )
            found = cursor.fetchone()
        if found is not None:
            first = max(first, found[0] + 1)
    return list(range(first, first + count))


def reset_sequences(*model_classes: type[models.Model]) -> None:
    """After explicit primary keys, move the database's id sequences past them (PostgreSQL)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_classes))
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def lock_tables(*model_classes: type[models.Model]) -> None:
    """On PostgreSQL keep other writers out of the tables numbered with :func:`next_id`."""
    if connection.vendor != "postgresql":
        return  # SQLite: the transaction took the write lock at BEGIN IMMEDIATE
    tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in model_classes)
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")


def values_sql(values: Sequence[Any], *, db_type: str = "text") -> tuple[str, list[Any]]:
    """SQL selecting ``values`` (one per row) and its parameters: the values passed as one
    parameter (a JSON array on SQLite, an array on PostgreSQL) instead of one parameter per
    value, which costs time to compile and bind and meets the databases' limits on
    parameters. For ``… IN (<sql>)``."""
    if connection.vendor == "postgresql":
        return f"SELECT unnest(%s::{db_type}[])", [list(values)]
    if connection.vendor == "sqlite":
        return "SELECT value FROM json_each(%s)", [json.dumps(list(values))]
    return ", ".join(["%s"] * len(values)) or "NULL", list(values)


def values_subquery(values: Sequence[Any], *, db_type: str = "text") -> RawSQL:
    """:func:`values_sql` for the ORM: ``filter(field__in=values_subquery(values))``."""
    sql, params = values_sql(values, db_type=db_type)
    return RawSQL(sql, params)


def copy_to_history(
    model: type[models.Model],
    pks: Sequence[Any],
    *,
    history_date: dt.datetime,
    history_type: str,
    history_reason: str = "",
    history_user_id: int | None = None,
) -> None:
    """Write a history record of each row ``pks`` of ``model`` as it is stored now, in one
    ``INSERT … SELECT``: "+" after inserting the rows, "~" after changing them."""
    if not pks:
        return
    history_model = model.history.model  # type: ignore[attr-defined]
    own = {
        "history_date": history_date,
        "history_type": history_type,
        "history_change_reason": history_reason[:100] or None,
        "history_user_id": history_user_id,
    }
    copied: list[str] = []
    own_columns: list[str] = []
    own_values: list[Any] = []
    for f in history_model._meta.concrete_fields:
        if f.attname == "history_id":
            continue
        if f.attname in own:
            own_columns.append(f.column)
            own_values.append(f.get_db_prep_save(own[f.attname], connection))
        else:
            copied.append(f.column)  # the history model's copy of the model's field
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in copied)
    marks = ", ".join(["%s"] * len(own_columns))
    pk = quote(model._meta.pk.column)
    ids, params = values_sql(pks, db_type="bigint")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(history_model._meta.db_table)} "
            f"({names}, {', '.join(quote(c) for c in own_columns)}) "
            f"SELECT {names}, {marks} FROM {quote(model._meta.db_table)} WHERE {pk} IN ({ids})",
            [*own_values, *params],
        )


@dataclass(frozen=True)
class _HistoryLayout:
    """Where a history record's columns come from: picked from the full row, then constants."""

    table: str
    columns: list[str]
    pick: Callable[[tuple[Any, ...]], tuple[Any, ...]]
    tail: tuple[Any, ...]


@dataclass
class BulkTable:
    """Bulk inserts into a model's table, and the matching records into its history table.

    Rows give ``columns`` (attribute names) in order; every other column gets its constant from
    ``constants`` or the field default, so a field added to the model later needs no change here
    unless it has no default.

    With ``history_date`` set, :meth:`write` also writes a "+" (created) history record per
    row, attributed to ``history_user_id`` with ``history_reason``: copied from the stored
    rows (:func:`copy_to_history`) when the rows give their primary key, else built from the
    rows.
    """

    model: type[models.Model]
    columns: Sequence[str]
    constants: dict[str, Any] = field(default_factory=dict)
    history_date: dt.datetime | None = None
    history_reason: str = ""
    history_user_id: int | None = None
    written: int = 0

    def __post_init__(self) -> None:
        self._table, self._columns, self._tail, attnames = self._layout(
            self.model, self.columns, self.constants
        )
        pk = self.model._meta.pk
        self._pk_position = attnames.index(pk.attname) if pk.attname in attnames else None
        self._history: _HistoryLayout | None = None
        history_manager = getattr(self.model, "history", None)
        if self.history_date is None or history_manager is None:
            return
        history_model = history_manager.model
        index = {name: i for i, name in enumerate(attnames)}
        picked: list[str] = []
        positions: list[int] = []
        tail_columns: list[str] = []
        tail: list[Any] = []
        own = {
            "history_date": self.history_date,
            "history_type": "+",
            "history_change_reason": self.history_reason[:100] or None,
            "history_user_id": self.history_user_id,
        }
        for f in history_model._meta.concrete_fields:
            if f.attname == "history_id":
                continue
            if f.attname in index:
                picked.append(f.column)
                positions.append(index[f.attname])
            else:
                value = own[f.attname] if f.attname in own else f.get_default()
                tail_columns.append(f.column)
                tail.append(f.get_db_prep_save(value, connection))
        self._history = _HistoryLayout(
            table=history_model._meta.db_table,
            columns=picked + tail_columns,
            pick=itemgetter(*positions),
            tail=tuple(tail),
        )

    @staticmethod
    def _layout(
        model: type[models.Model], columns: Sequence[str], constants: dict[str, Any]
    ) -> tuple[str, list[str], tuple[Any, ...], list[str]]:
        """Table, column names, constant values and attribute names of a full row."""
        fields = {f.attname: f for f in model._meta.concrete_fields}
        unknown = [name for name in columns if name not in fields]
        if unknown:
            raise ValueError(f"{model.__name__} has no fields {unknown}")
        attnames = list(columns)
        tail: list[Any] = []
        for name, f in fields.items():
            if name in columns or (f.primary_key and name not in constants):
                continue
            value = constants[name] if name in constants else f.get_default()
            if value is None and not f.null:
                raise ValueError(f"no value for {model.__name__}.{name}: add it to the constants")
            attnames.append(name)
            tail.append(f.get_db_prep_save(value, connection))
        return (
            model._meta.db_table,
            [fields[name].column for name in attnames],
            tuple(tail),
            attnames,
        )

    def write(self, rows: list[tuple[Any, ...]]) -> None:
        """Insert ``rows`` (and their history records)."""
        tail = self._tail
        full = [row + tail for row in rows] if tail else rows
        insert_rows(self._table, self._columns, full)
        history = self._history
        if history is not None and rows:
            position = self._pk_position
            if position is not None and self.history_date is not None:
                copy_to_history(
                    self.model,
                    [row[position] for row in rows],
                    history_date=self.history_date,
                    history_type="+",
                    history_reason=self.history_reason,
                    history_user_id=self.history_user_id,
                )
            else:
                pick, history_tail = history.pick, history.tail
                insert_rows(
                    history.table, history.columns, [pick(row) + history_tail for row in full]
                )
        self.written += len(rows)


@contextmanager
def streaming_reads(cache_kib: int = 8192) -> Iterator[None]:
    """For one long pass over many rows (an export): on SQLite, a small page cache and no
    memory map while it runs, so the process's memory does not grow with the table (the
    connection's own settings, sized for random access by many requests, come back after).
    Elsewhere it does nothing."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (cache_size,) = cursor.fetchone()
        cursor.execute("PRAGMA mmap_size")
        mapped = cursor.fetchone()  # no row for an in-memory database
        cursor.execute(f"PRAGMA cache_size=-{int(cache_kib)}")
        if mapped is not None:
            cursor.execute("PRAGMA mmap_size=0")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size={int(cache_size)}")
            if mapped is not None:
                cursor.execute(f"PRAGMA mmap_size={int(mapped[0])}")


def analyze(tables_of: Sequence[type[models.Model]]) -> None:
    """Refresh the planner statistics of the tables of ``models`` after a bulk load."""
    tables = [m._meta.db_table for m in tables_of]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE " + ", ".join(tables))
        elif connection.vendor == "sqlite":
            # A sample per index is enough for the planner and takes a moment, not minutes.
            cursor.execute("PRAGMA analysis_limit=1000")
            for table in tables:
                cursor.execute(f"ANALYZE {table}")
