"""The disinfection log (消毒记录) and the publicity records (宣传记录) as ``.xlsx`` files,
written by the shared writer (:func:`fangkong.core.tabular.writing.write_ledger`): the rows
the list pages show for the same user and filters, in Chinese whatever the page's language.
No personal numbers are in them (names of who did it only), so there is no unmasked export.

The rows are read in chunks as plain values with their place and unit joined: the number of
queries does not grow with the rows, and memory stays flat."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import F
from django.utils.translation import gettext_lazy

from fangkong.core.bulk import streaming_reads
from fangkong.core.tabular.columns import Column
from fangkong.core.tabular.writing import Target, write_ledger

from .models import PublicityRecord
from .selectors import records as selectors

CHUNK_SIZE = 2000

DISINFECTION_SHEET = gettext_lazy("Disinfection log")
PUBLICITY_SHEET = gettext_lazy("Publicity records")

DISINFECTION_COLUMNS: tuple[Column, ...] = (
    Column("done_at", gettext_lazy("Time"), width=17),
    Column("unit", gettext_lazy("Unit"), width=14),
    Column("place", gettext_lazy("Place"), width=16),
    Column("location", gettext_lazy("Location"), width=18),
    Column("agent", gettext_lazy("Disinfectant"), width=18),
    Column("done_by", gettext_lazy("Done by"), width=10),
    Column("note", gettext_lazy("Note"), width=24),
    Column("recorded_by", gettext_lazy("Recorded by"), width=10),
    Column("created_at", gettext_lazy("Recorded at"), width=17),
)

PUBLICITY_COLUMNS: tuple[Column, ...] = (
    Column("day", gettext_lazy("Date"), width=12),
    Column("unit", gettext_lazy("Unit"), width=14),
    Column("kind", gettext_lazy("Kind"), choices=PublicityRecord.Kind.choices, width=12),
    Column("content", gettext_lazy("Content"), width=40),
    Column("place", gettext_lazy("Where"), width=18),
    Column("reach", gettext_lazy("People reached"), width=10),
    Column("quantity", gettext_lazy("Copies or times"), width=10),
    Column("recorded_by", gettext_lazy("Recorded by"), width=10),
)


def _user_name(first: str | None, last: str | None, username: str | None) -> str:
    full = f"{first or ''} {last or ''}".strip()
    return full or username or ""


def disinfection_rows(user: Any, filters: selectors.LogFilters) -> Iterator[list[Any]]:
    records = (
        selectors.disinfections_for(user, filters)
        .select_related(None)
        .values_list(
            "done_at",
            "place__unit__name",
            "place__name",
            "place__location",
            "agent",
            "done_by",
            "note",
            "recorded_by__first_name",
            "recorded_by__last_name",
            "recorded_by__username",
            "created_at",
        )
    )
    for row in records.iterator(chunk_size=CHUNK_SIZE):
        done_at, unit, place, location, agent, done_by, note, first, last, name, created = row
        yield [
            done_at,
            unit,
            place,
            location,
            agent,
            done_by,
            note,
            _user_name(first, last, name),
            created,
        ]


def publicity_rows(user: Any, filters: selectors.PublicityFilters) -> Iterator[list[Any]]:
    records = (
        selectors.publicity_for(user, filters)
        .select_related(None)
        .annotate(unit_name=F("unit__name"))
        .values_list(
            "day",
            "unit_name",
            "kind",
            "content",
            "place",
            "reach",
            "quantity",
            "recorded_by__first_name",
            "recorded_by__last_name",
            "recorded_by__username",
        )
    )
    for row in records.iterator(chunk_size=CHUNK_SIZE):
        *values, first, last, name = row
        yield [*values, _user_name(first, last, name)]


def export_disinfections(
    target: Target, *, user: Any, filters: selectors.LogFilters | None = None
) -> int:
    """Write the disinfection log of ``user`` with ``filters``; returns the row count."""
    with streaming_reads():
        return write_ledger(
            target,
            DISINFECTION_SHEET,
            DISINFECTION_COLUMNS,
            disinfection_rows(user, filters or selectors.LogFilters()),
        )


def export_publicity(
    target: Target, *, user: Any, filters: selectors.PublicityFilters | None = None
) -> int:
    """Write the publicity records of ``user`` with ``filters``; returns the row count."""
    with streaming_reads():
        return write_ledger(
            target,
            PUBLICITY_SHEET,
            PUBLICITY_COLUMNS,
            publicity_rows(user, filters or selectors.PublicityFilters()),
            date_keys={"day"},
        )
