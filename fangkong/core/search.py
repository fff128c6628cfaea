"""Substring search over large tables through an index, never ``LIKE '%…%'`` over the table.

A searchable model keeps a lower-cased ``search_text`` column. On SQLite an FTS5 table with
the ``trigram`` tokenizer (kept in step by triggers) indexes it; on PostgreSQL a ``pg_trgm``
GIN index does. Both answer substring queries of three characters or more from the index;
shorter ones (a two-character name, "3排") scan the rows in the user's scope.
"""

from __future__ import annotations

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
