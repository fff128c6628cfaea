"""Substring search over large tables through an index, never ``LIKE '%…%'`` over the table.

A searchable model keeps a lower-cased ``search_text`` column. On SQLite an FTS5 table with
the ``trigram`` tokenizer (kept in step by triggers) indexes it; on PostgreSQL a ``pg_trgm``
GIN index does. Both answer substring queries of three characters or more from the index;
shorter ones (a two-character name, "3排") scan the rows in the user's scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import connection, migrations, models
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

M = TypeVar("M", bound=models.Model)

MIN_SUBSTRING = 3


def _sqlite_sql(table: str) -> list[str]:
    fts = f"{table}_fts"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5(search_text, content='{table}', "
        f"content_rowid='id', tokenize='trigram')",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text); END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text); END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF search_text ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
        f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text); END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",
    ]


def _sqlite_drop(table: str) -> list[str]:
    fts = f"{table}_fts"
    return [f"DROP TRIGGER IF EXISTS {fts}_{s}" for s in ("ai", "ad", "au")] + [
        f"DROP TABLE IF EXISTS {fts}"
    ]


def _postgres_sql(table: str) -> list[str]:
    return [
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        f"CREATE INDEX IF NOT EXISTS {table}_search_trgm ON {table} "
        f"USING gin (search_text gin_trgm_ops)",
    ]


def substring_index_operation(table: str) -> migrations.RunPython:
    """A migration operation creating the substring index of ``table.search_text``."""

    def forward(apps: Any, schema_editor: Any) -> None:
        vendor = schema_editor.connection.vendor
        statements = {"sqlite": _sqlite_sql, "postgresql": _postgres_sql}.get(vendor)
        for sql in statements(table) if statements else []:
            schema_editor.execute(sql)

    def backward(apps: Any, schema_editor: Any) -> None:
        vendor = schema_editor.connection.vendor
        if vendor == "sqlite":
            for sql in _sqlite_drop(table):
                schema_editor.execute(sql)
        elif vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {table}_search_trgm")

    return migrations.RunPython(forward, backward)


@contextmanager
def deferred_substring_index(model: type[models.Model]) -> Iterator[None]:
    """Bulk inserts into ``model``'s table inside this block are indexed at its end, in one
    statement. On SQLite the FTS5 insert trigger, run row by row between the table's own
    writes, makes an ``executemany`` of 100,000 rows six times slower than indexing the same
    rows afterwards; the block drops the trigger, indexes the rows added (those with a larger
    id than any before) and puts the trigger back. Use it inside a transaction (which holds
    SQLite's write lock, so no other connection inserts meanwhile) around inserts with ids
    above the largest in use (as :func:`fangkong.core.bulk.allocate_ids` hands out).
    Elsewhere (PostgreSQL's ``pg_trgm`` index is an ordinary index) it does nothing.
    """
    if connection.vendor != "sqlite":
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("deferred_substring_index needs a transaction")
    table = model._meta.db_table
    fts = f"{table}_fts"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s", [f"{fts}_ai"]
        )
        found = cursor.fetchone()
        if found is None:  # no substring index on this table
            yield
            return
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        (before,) = cursor.fetchone()
        cursor.execute(f"DROP TRIGGER {fts}_ai")
    try:
        yield
    except BaseException:
        with connection.cursor() as cursor:
            cursor.execute(found[0])
        raise
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {fts}(rowid, search_text) SELECT id, search_text FROM {table} "
            "WHERE id > %s",
            [before],
        )
        cursor.execute(found[0])


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def substring_filter(queryset: QuerySet[M], query: str) -> QuerySet[M]:
    """Rows whose ``search_text`` contains ``query`` (case-insensitive), using the index."""
    query = " ".join(query.lower().split())
    if not query:
        return queryset
    if len(query) < MIN_SUBSTRING:
        # No trigram to look up: scan the rows the queryset already limits (a user's scope).
        # Measured at a million persons: 0.35 s for a whole branch, 3 ms for a grid.
        return queryset.filter(search_text__contains=query)
    table = queryset.model._meta.db_table
    if connection.vendor == "sqlite":
        # FTS5 answers LIKE from the trigram index only without an ESCAPE clause (with one it
        # scans every row), so ESCAPE is used only when the query holds a % or _.
        literal = "%" not in query and "_" not in query
        ids = RawSQL(
            f"SELECT rowid FROM {table}_fts WHERE search_text LIKE %s"
            + ("" if literal else " ESCAPE '\\'"),
            (f"%{query if literal else _escape_like(query)}%",),
        )
        return queryset.filter(pk__in=ids)
    return queryset.filter(search_text__contains=query)
