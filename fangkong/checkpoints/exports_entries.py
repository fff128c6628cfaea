"""The entry log of the checkpoints (卡口登记台账) as an ``.xlsx`` file: one row per person.

The file holds the entries the log page shows for the same user and filters
(:func:`fangkong.checkpoints.selectors.entries.entries_for`), written by the shared writer
(:func:`fangkong.core.tabular.writing.write_ledger`). ID and phone numbers are masked
unless the export asks for full numbers, which needs ``pii.reveal``, is limited to the
entries where the user holds it, and is recorded (:func:`fangkong.core.services.record_export`).

Streaming: the entries are read in chunks as plain values, their people once per chunk: the
number of queries does not grow with the rows, and memory stays flat.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from fangkong.core.health import symptom_labels
from fangkong.core.masking import mask_id_number, mask_phone
from fangkong.core.permissions import Perm
from fangkong.core.scoping import has_perm, restrict
from fangkong.core.tabular.columns import Column
from fangkong.core.tabular.exports import dated_filename, write_recorded_ledger
from fangkong.core.tabular.writing import Target
from fangkong.screening.models import RiskLevel

from .models import Direction, Entry, EntryPerson
from .selectors.entries import EntryFilters, entries_for

OBJECT_TYPE = "checkpoint_log"  # SensitiveAccess.object_type of an unmasked export
CHUNK_SIZE = 2000
LEDGER_SHEET = gettext_lazy("Checkpoint log")
YES_NO = (("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No")))

COLUMNS: tuple[Column, ...] = (
    Column("at", gettext_lazy("Time"), width=17),
    Column("checkpoint", gettext_lazy("Checkpoint"), width=16),
    Column("unit", gettext_lazy("Unit"), width=14),
    Column("direction", gettext_lazy("Direction"), choices=Direction.choices, width=8),
    Column("name", gettext_lazy("Name"), width=10),
    Column("id_number", gettext_lazy("ID number"), width=21),
    Column("phone", gettext_lazy("Mobile phone"), width=13),
    Column("temperature", gettext_lazy("Temperature (°C)"), width=8),
    Column("fever", gettext_lazy("Fever"), choices=YES_NO, width=6),
    Column("symptoms", gettext_lazy("Symptoms"), width=14),
    Column("disinfected", gettext_lazy("Disinfected"), choices=YES_NO, width=8),
    Column("plate", gettext_lazy("Plate number"), width=11),
    Column("vehicle_disinfected", gettext_lazy("Vehicle disinfected"), choices=YES_NO, width=8),
    Column("from_region", gettext_lazy("Came from"), width=14),
    Column("risk_level", gettext_lazy("Risk level of origin"), choices=RiskLevel.choices, width=10),
    Column("purpose", gettext_lazy("Purpose"), width=14),
    Column("flagged", gettext_lazy("Flagged"), choices=YES_NO, width=6),
    Column("recorded_by", gettext_lazy("Recorded by"), width=10),
    Column("note", gettext_lazy("Note"), width=20),
)

ENTRY_VALUES = {
    "e_checkpoint": F("checkpoint__name"),
    "e_unit": F("unit__name"),
    "e_region": F("from_region__name"),
    "e_by_name": F("recorded_by__full_name"),
    "e_by_username": F("recorded_by__username"),
}
ENTRY_FIELDS = (
    "pk",
    "at",
    "direction",
    "plate",
    "vehicle_disinfected",
    "risk_level",
    "purpose",
    "note",
)
PERSON_FIELDS = (
    "entry_id",
    "name",
    "id_number",
    "phone",
    "person__id_number",
    "person__phone",
    "temperature",
    "is_fever",
    "is_flagged",
    "symptoms",
    "disinfected",
)


def _yes_no(value: bool | None) -> str:
    return {True: "yes", False: "no"}.get(value, "")  # type: ignore[arg-type]


def ledger_queryset(user: Any, filters: EntryFilters, *, unmasked: bool = False) -> QuerySet[Entry]:
    """The entries of the log page for ``user`` and ``filters``; with ``unmasked`` only
    those where the user may see full numbers."""
    entries = entries_for(user, filters)
    if unmasked:
        entries = restrict(entries, user, Perm.PII_REVEAL)
    return entries


def _people(entry_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    for row in (
        EntryPerson.objects.filter(entry_id__in=entry_ids)
        .order_by("entry_id", "position")
        .values(*PERSON_FIELDS)
    ):
        found.setdefault(row["entry_id"], []).append(row)
    return found


def ledger_rows(entries: QuerySet[Entry], *, unmasked: bool = False) -> Iterator[list[Any]]:
    """The rows of the file (in the order of ``COLUMNS``): one per person, read in chunks."""
    id_number: Callable[[str], str] = (lambda v: v) if unmasked else mask_id_number
    phone: Callable[[str], str] = (lambda v: v) if unmasked else mask_phone
    values = (
        entries.select_related(None).annotate(**ENTRY_VALUES).values(*ENTRY_FIELDS, *ENTRY_VALUES)
    )
    batch: list[dict[str, Any]] = []

    def flush() -> Iterator[list[Any]]:
        people = _people([row["pk"] for row in batch])
        for entry in batch:
            for person in people.get(entry["pk"], []):
                yield [
                    timezone.localtime(entry["at"]),
                    entry["e_checkpoint"],
                    entry["e_unit"],
                    entry["direction"],
                    person["name"],
                    id_number(person["person__id_number"] or person["id_number"] or ""),
                    phone(person["person__phone"] or person["phone"] or ""),
                    person["temperature"],
                    _yes_no(person["is_fever"]),
                    symptom_labels(person["symptoms"] or []),
                    _yes_no(person["disinfected"]),
                    entry["plate"],
                    _yes_no(entry["vehicle_disinfected"]) if entry["plate"] else "",
                    entry["e_region"] or "",
                    entry["risk_level"],
                    entry["purpose"],
                    _yes_no(person["is_flagged"]),
                    entry["e_by_name"] or entry["e_by_username"] or "",
                    entry["note"],
                ]
        batch.clear()

    for row in values.iterator(chunk_size=CHUNK_SIZE):
        batch.append(row)
        if len(batch) >= CHUNK_SIZE:
            yield from flush()
    if batch:
        yield from flush()


def describe_filters(filters: EntryFilters) -> dict[str, Any]:
    """The filters in force, as JSON for the audit trail."""
    described: dict[str, Any] = {}
    if filters.checkpoint is not None:
        described["checkpoint"] = filters.checkpoint.pk
    for name in ("day_from", "day_to"):
        value = getattr(filters, name)
        if value is not None:
            described[name] = value.isoformat()
    for name in ("direction", "flagged", "fever", "plate"):
        value = getattr(filters, name)
        if value:
            described[name] = value
    return described


def export_entry_log(
    target: Target,
    *,
    user: Any,
    filters: EntryFilters | None = None,
    unmasked: bool = False,
    via: str = "web",
) -> int:
    """Write the entry log of ``user`` with ``filters`` to ``target`` and return its row
    count. Masked ID and phone numbers unless ``unmasked``, which needs ``pii.reveal``
    (else PermissionDenied), keeps only the entries where the user holds it, and records
    the export once the file is written."""
    filters = filters or EntryFilters()
    if unmasked and not has_perm(user, Perm.PII_REVEAL):
        raise PermissionDenied
    entries = ledger_queryset(user, filters, unmasked=unmasked)
    return write_recorded_ledger(
        target,
        LEDGER_SHEET,
        COLUMNS,
        ledger_rows(entries, unmasked=unmasked),
        user=user,
        unmasked=unmasked,
        object_type=OBJECT_TYPE,
        describe=lambda: describe_filters(filters),
        via=via,
    )


def ledger_filename(today: dt.date | None = None) -> str:
    """``卡口登记台账-2020-02-10.xlsx``: in Chinese, like the file's content."""
    return dated_filename(LEDGER_SHEET, today)
