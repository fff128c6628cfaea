"""The screening ledger (排查台账) as an ``.xlsx`` file.

The file holds the rows the ledger page shows for the same user and filters
(:func:`fangkong.screening.selectors.screenings_for`), in the columns of
:mod:`fangkong.screening.ledger`, written by the shared writer
(:func:`fangkong.core.tabular.writing.write_ledger`). ID and phone numbers are masked unless
the export asks for full numbers, which needs ``pii.reveal``, is limited to the results where
the user holds it, and is recorded (:func:`fangkong.core.services.record_export`).

Streaming: the results are read in chunks as plain values (no model instance per row), the
names they point to (grids and units, campaigns, users, regions, contacts) are read once
beforehand, and each row is written as it comes: memory stays flat however many rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy

from fangkong.core.health import symptom_labels
from fangkong.core.masking import mask_id_number, mask_phone
from fangkong.core.permissions import Perm
from fangkong.core.scoping import has_perm, restrict
from fangkong.core.tabular.exports import dated_filename, write_recorded_ledger
from fangkong.core.tabular.writing import Target
from fangkong.org.models import OrgUnit, Person, User

from . import ledger
from .models import Campaign, Region, Screening
from .rules import describe
from .selectors import LedgerFilters, screenings_for

OBJECT_TYPE = "screening_ledger"  # SensitiveAccess.object_type of an unmasked export
CHUNK_SIZE = 2000
OTHER_UNIT = gettext_lazy("(other unit)")

# What is read of each result, as plain values.
SCREENING_FIELDS = (
    "kind",
    "campaign_id",
    "grid_id",
    "screened_at",
    "screened_by_id",
    "presence",
    "from_region_id",
    "departed_at",
    "arrived_at",
    "transport",
    "transport_no",
    "stopovers",
    "contact_kind",
    "contact_person_id",
    "contact_name",
    "contact_relation",
    "contact_mode",
    "contact_date",
    "symptoms",
    "temperature",
    "category",
    "is_key",
    "is_urgent",
    "late_registration",
    "reasons",
)
PERSON_VALUES = {
    "p_name": F("person__name"),
    "p_sex": F("person__sex"),
    "p_birth": F("person__birth_date"),
    "p_id_number": F("person__id_number"),
    "p_phone": F("person__phone"),
    "p_occupation": F("person__occupation"),
    # The household where the person was screened, else their household now.
    "p_address": Coalesce(F("household__address"), F("person__household__address")),
}


def age_on(birth: dt.date | None, day: dt.date) -> int | None:
    """Whole years from ``birth`` to ``day``."""
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def reason_text(reasons: list[dict[str, Any]] | None) -> str:
    return "；".join(describe(reason) for reason in reasons or ())


class _Names:
    """The names the rows point to, read once for the whole export (a few queries, whatever
    the number of rows): grids with their unit, campaigns, users, regions, and which contact
    persons the user may see by name."""

    def __init__(self, screenings: QuerySet[Screening], user: Any) -> None:
        plain = screenings.order_by()
        self.grids = (
            OrgUnit.objects.filter(pk__in=plain.values("grid_id"))
            .select_related("parent")
            .in_bulk()
        )
        self.campaigns = dict(
            Campaign.objects.filter(pk__in=plain.values("campaign_id")).values_list("pk", "name")
        )
        self.users = {
            u.pk: str(u)
            for u in User.objects.filter(pk__in=plain.values("screened_by_id")).only(
                "pk", "full_name", "username"
            )
        }
        self.regions = {
            r.code: r.full_name
            for r in Region.objects.filter(pk__in=plain.values("from_region_id")).select_related(
                "parent__parent"
            )
        }
        self.contacts = dict(
            restrict(
                Person.objects.filter(pk__in=plain.values("contact_person_id")), user
            ).values_list("pk", "name")
        )

    def employer(self, grid_id: int) -> str:
        grid = self.grids.get(grid_id)
        if grid is None:
            return ""
        return grid.parent.name if grid.parent is not None else grid.name

    def contact(self, row: dict[str, Any]) -> str:
        if row["contact_name"]:
            return str(row["contact_name"])
        person_id = row["contact_person_id"]
        if person_id is None:
            return ""
        return self.contacts.get(person_id) or str(OTHER_UNIT)


def _reader(names: _Names, *, unmasked: bool) -> Callable[[dict[str, Any]], list[Any]]:
    """One row of values (in the order of ``ledger.COLUMNS``) from one result's values;
    choices as stored values (the writer shows their labels)."""
    id_number: Callable[[str], str] = (lambda v: v) if unmasked else mask_id_number
    phone: Callable[[str], str] = (lambda v: v) if unmasked else mask_phone
    arrival = Screening.Kind.ARRIVAL

    def read(row: dict[str, Any]) -> list[Any]:
        screened_at = row["screened_at"]
        campaign = (
            names.campaigns.get(row["campaign_id"], "")
            if row["campaign_id"] is not None
            else str(arrival.label)
        )
        return [
            row["p_name"],
            row["p_sex"],
            age_on(row["p_birth"], timezone.localdate(screened_at)),
            id_number(row["p_id_number"] or ""),
            phone(row["p_phone"] or ""),
            row["p_occupation"],
            row["p_address"] or "",
            names.employer(row["grid_id"]),
            campaign,
            screened_at,
            names.users.get(row["screened_by_id"], ""),
            row["presence"],
            names.regions.get(row["from_region_id"], row["from_region_id"] or ""),
            row["departed_at"],
            row["arrived_at"],
            row["transport"],
            row["transport_no"],
            row["stopovers"],
            row["contact_kind"],
            names.contact(row),
            row["contact_relation"],
            row["contact_mode"],
            row["contact_date"],
            symptom_labels(row["symptoms"] or []),
            row["temperature"],
            row["category"],
            row["is_key"],
            row["is_urgent"],
            row["late_registration"],
            reason_text(row["reasons"]),
            ledger.NOT_YET,
        ]

    return read


def ledger_queryset(
    user: Any, filters: LedgerFilters, *, unmasked: bool = False
) -> QuerySet[Screening]:
    """The results of the ledger page for ``user`` and ``filters``; with ``unmasked`` only
    those where the user may see full numbers."""
    screenings = screenings_for(user, filters)
    if unmasked:
        screenings = restrict(screenings, user, Perm.PII_REVEAL)
    return screenings


def ledger_rows(
    screenings: QuerySet[Screening], user: Any, *, unmasked: bool = False
) -> Iterator[list[Any]]:
    """The rows of the file, read in chunks."""
    names = _Names(screenings, user)
    read = _reader(names, unmasked=unmasked)
    values = (
        screenings.select_related(None)
        .annotate(**PERSON_VALUES)
        .values(*SCREENING_FIELDS, *PERSON_VALUES)
    )
    for row in values.iterator(chunk_size=CHUNK_SIZE):
        yield read(row)


def describe_filters(filters: LedgerFilters) -> dict[str, Any]:
    """The filters in force, as JSON for the audit trail."""
    described: dict[str, Any] = {}
    for name in ("q", "kind", "category", "key_only", "urgent_only", "late_only"):
        value = getattr(filters, name)
        if value:
            described[name] = value
    if filters.campaign is not None:
        described["campaign"] = filters.campaign.pk
    if filters.unit is not None:
        described["unit"] = filters.unit.code
    if filters.date_from is not None:
        described["date_from"] = filters.date_from.isoformat()
    if filters.date_to is not None:
        described["date_to"] = filters.date_to.isoformat()
    return described


def export_screening_ledger(
    target: Target,
    *,
    user: Any,
    filters: LedgerFilters | None = None,
    unmasked: bool = False,
    via: str = "web",
) -> int:
    """Write the screening ledger of ``user`` with ``filters`` to ``target`` and return its
    row count. Masked ID and phone numbers unless ``unmasked``, which needs ``pii.reveal``
    (else PermissionDenied), keeps only the results where the user holds it, and records
    the export once the file is written."""
    filters = filters or LedgerFilters()
    if unmasked and not has_perm(user, Perm.PII_REVEAL):
        raise PermissionDenied
    screenings = ledger_queryset(user, filters, unmasked=unmasked)
    return write_recorded_ledger(
        target,
        ledger.LEDGER_SHEET,
        ledger.COLUMNS,
        ledger_rows(screenings, user, unmasked=unmasked),
        user=user,
        unmasked=unmasked,
        object_type=OBJECT_TYPE,
        describe=lambda: describe_filters(filters),
        via=via,
        date_keys=ledger.DATE_KEYS,
    )


def ledger_filename(today: dt.date | None = None) -> str:
    """``排查台账-2020-02-10.xlsx``: in Chinese, like the file's content."""
    return dated_filename(ledger.LEDGER_SHEET, today)
