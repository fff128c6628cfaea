"""The person ledger (人员台账) as an ``.xlsx`` file, and the roster (人员名册) import template.

The ledger holds the rows the person list shows for the same user and filters
(:func:`fangkong.org.selectors.persons_for`), in the columns of :mod:`fangkong.org.ledger`:
the roster's columns first (so the file can be edited and imported again), then unit, grid
and status. ID and phone numbers are masked unless the export asks for full numbers, which
needs ``pii.reveal``, is limited to the persons where the user holds it, and is recorded
(:func:`fangkong.core.services.record_export`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from operator import attrgetter
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import F, QuerySet
from django.utils.translation import gettext_lazy as _

from fangkong.core.masking import mask_id_number, mask_phone
from fangkong.core.permissions import Perm
from fangkong.core.scoping import Operator, has_perm, restrict
from fangkong.core.tabular.columns import Column
from fangkong.core.tabular.exports import dated_filename, write_recorded_ledger
from fangkong.core.tabular.writing import (
    LookupSheet,
    Target,
    TemplateSheet,
    build_template,
)

from . import ledger
from .models import OrgUnit, Person, User
from .selectors import PersonFilters, persons_for

LEDGER_COLUMNS: tuple[Column, ...] = (*ledger.ROSTER_COLUMNS, *ledger.LEDGER_EXTRA_COLUMNS)
DATE_KEYS = frozenset({"birth_date"})
OBJECT_TYPE = "person_ledger"  # SensitiveAccess.object_type of an unmasked export
CHUNK_SIZE = 2000

# The person's fields the ledger's columns read (the others are left out: building the model
# instances costs less). A column reading another field would cost one query per row; the
# query-count test of the export catches that.
LOADED_FIELDS = (
    "name",
    "sex",
    "id_number",
    "birth_date",
    "phone",
    "relation",
    "category",
    "status",
    "occupation",
    "note",
    "grid",
)
# The household's columns, read with the person (no household model instance per row).
HOUSEHOLD_VALUES = {
    "household_address": F("household__address"),
    "household_phone": F("household__phone"),
}

_MASKS: dict[str, Callable[[str], str]] = {
    "id_number": mask_id_number,
    "phone": mask_phone,
    "household_phone": mask_phone,
}


# How to read the roster's columns that are not attributes of the person.
_VALUES: dict[str, Callable[[Person], Any]] = {
    "grid_code": lambda person: person.grid.code,
    "address": attrgetter("household_address"),
    "household_phone": attrgetter("household_phone"),
}


def _masked(read: Callable[[Person], Any], mask: Callable[[str], str]) -> Callable[[Person], Any]:
    return lambda person: mask(read(person) or "")


def _readers(*, unmasked: bool) -> list[Callable[[Person], Any]]:
    readers = []
    for column in LEDGER_COLUMNS:
        read = column.value or _VALUES.get(column.key) or attrgetter(column.key)
        if not unmasked and column.key in _MASKS:
            read = _masked(read, _MASKS[column.key])
        readers.append(read)
    return readers


def ledger_rows(persons: Iterable[Person], *, unmasked: bool = False) -> Iterator[list[Any]]:
    """One row of values per person, in the order of ``LEDGER_COLUMNS`` (stored values of
    choices; the writer shows their labels). ID and phone numbers masked unless ``unmasked``."""
    readers = _readers(unmasked=unmasked)
    for person in persons:
        yield [read(person) for read in readers]


def ledger_queryset(
    user: User | None, filters: PersonFilters, *, unmasked: bool = False
) -> QuerySet[Person]:
    """The persons of the ledger: those of the person list (``user``'s scope and
    ``filters``; the whole organisation for the operator, ``user=None``), and with
    ``unmasked`` only those where ``user`` may see full numbers."""
    persons = persons_for(user if user is not None else Operator(), filters)
    if unmasked and user is not None:
        persons = restrict(persons, user, Perm.PII_REVEAL)
    return persons


def _read_persons(persons: QuerySet[Person]) -> Iterator[Person]:
    """The persons, read in chunks, with their household's address and phone, and their
    grid and the grid's unit attached from one query of their grids: joining those would
    build three more model instances per row (half the time spent reading 100,000 persons)
    for a few thousand grids."""
    grids = (
        OrgUnit.objects.filter(pk__in=persons.order_by().values("grid_id"))
        .select_related("parent")
        .in_bulk()
    )
    attach = Person.grid.field.set_cached_value
    rows = persons.select_related(None).only(*LOADED_FIELDS).annotate(**HOUSEHOLD_VALUES)
    for person in rows.iterator(chunk_size=CHUNK_SIZE):
        grid = grids.get(person.grid_id)
        if grid is not None:  # else (a grid added since) Django reads it
            attach(person, grid)
        yield person


def describe_filters(filters: PersonFilters) -> dict[str, Any]:
    """The filters in force, as JSON for the audit trail (a unit by its code)."""
    described: dict[str, Any] = {}
    if filters.q:
        described["q"] = filters.q
    if filters.unit is not None:
        described["unit"] = filters.unit.code
    if filters.household is not None:
        described["household"] = filters.household.pk
    if filters.category:
        described["category"] = filters.category
    if filters.status:
        described["status"] = filters.status
    if filters.lacks_id:
        described["lacks_id"] = True
    return described


def export_person_ledger(
    target: Target,
    *,
    user: User | None,
    filters: PersonFilters | None = None,
    unmasked: bool = False,
    via: str = "web",
) -> int:
    """Write the person ledger of ``user`` (``None``: the operator, the whole organisation)
    with ``filters`` to ``target`` and return its row count.

    Masked ID and phone numbers unless ``unmasked``, which needs ``pii.reveal`` (else
    PermissionDenied), keeps only the persons where the user holds it, and records the
    export (filters, row count, ``via``) once the file is written. Streams: the persons are
    read in chunks and each row is written as it comes.
    """
    filters = filters or PersonFilters()
    if unmasked and user is not None and not has_perm(user, Perm.PII_REVEAL):
        raise PermissionDenied
    persons = _read_persons(ledger_queryset(user, filters, unmasked=unmasked))
    return write_recorded_ledger(
        target,
        ledger.ROSTER_SHEET,
        LEDGER_COLUMNS,
        ledger_rows(persons, unmasked=unmasked),
        user=user,
        unmasked=unmasked,
        object_type=OBJECT_TYPE,
        describe=lambda: describe_filters(filters),
        via=via,
        date_keys=DATE_KEYS,
    )


def ledger_filename(today: dt.date | None = None) -> str:
    """``人员台账-2026-11-29.xlsx``: in Chinese, like the file's content."""
    return dated_filename(_("Person ledger"), today)


def template_filename(today: dt.date | None = None) -> str:
    return dated_filename(_("Roster template"), today)


# ---------------------------------------------------------------------------------------------
# The import template

GRID_COLUMNS: tuple[Column, ...] = (
    Column("code", _("Grid code"), width=14),
    Column("name", _("Grid"), width=18),
    Column("unit", _("Unit"), width=18),
)

TEMPLATE_NOTES = (
    _(
        "One row per person. Rows with the same grid code and household address are one "
        "household; one of its rows is the head (户主)."
    ),
    _(
        "Row 2 of the roster sheet is an example: overwrite it with your first person or "
        "delete it (left as it is, it is not imported)."
    ),
    _(
        "Columns with a red header are required. Type ID and phone numbers as they are: "
        "the columns keep them as text."
    ),
    _("Grid codes: the grids sheet lists the grids you may import into."),
    _(
        "An exported ledger can be edited and imported again: masked numbers (with *) stay "
        "unchanged, and the columns after the roster's are ignored."
    ),
)


def template_grids(user: User) -> list[tuple[str, str, str]]:
    """Code, name and unit of each active grid where ``user`` may add people."""
    grids = OrgUnit.objects.filter(kind=OrgUnit.Kind.GRID, is_active=True)
    grids = restrict(grids, user, Perm.REGISTER_EDIT).select_related("parent").order_by("path")
    return [(g.code, g.name, g.parent.name if g.parent else "") for g in grids]


def write_roster_template(target: Target, *, user: User) -> None:
    """The roster import template for ``user``: the roster sheet (header and example row),
    the instructions, and the grids of the user's ``register.edit`` scope, which feed the
    grid code's drop-down."""
    build_template(
        target,
        TemplateSheet(ledger.ROSTER_SHEET, ledger.ROSTER_COLUMNS, date_keys=DATE_KEYS),
        instructions_name=ledger.INSTRUCTIONS_SHEET,
        lookups=[LookupSheet(ledger.GRIDS_SHEET, GRID_COLUMNS, template_grids(user), "grid_code")],
        notes=TEMPLATE_NOTES,
    )
