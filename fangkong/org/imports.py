"""Importing the person roster (人员名册) from Excel or CSV: a preview, then all or nothing.

:func:`preview` reads the file, checks every row and says what an import would do: households
and persons to be created, updated or left unchanged, and every problem with its sheet, row,
column, value and how to fix it. :func:`commit` does the same checks inside one transaction
and writes only when there is no problem at all.

The rules a person's data must follow are those of the forms and the API
(:func:`fangkong.org.services.clean_person_fields`); the import adds what only a file has:
required columns, labels of coded values, dates typed as text, duplicate rows, households
made of rows, and the user's scope for every row.

Matching (so that importing a file again updates instead of duplicating):

- a person by their ID number among the active persons; a row whose ID number nobody holds
  yet may also be a person of the same household registered without one (same name, and the
  same birth date or none);
- a row without an ID number (or with a masked one, as in an exported ledger) by name, birth
  date (when given) and household;
- a household by its grid and address (ignoring spaces and full-width characters).

An empty cell and a masked value (with ``*``) keep what is stored: an import never erases.
Writes go in bulk (:mod:`fangkong.core.bulk`): the rows, their audit-trail records (by the
actor, with the reason "import <file>") and their timeline events, as the services record
them, in a few statements per table.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import os
import time
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core.bulk import (
    BulkTable,
    allocate_ids,
    copy_to_history,
    update_rows,
    values_sql,
    values_subquery,
)
from fangkong.core.masking import mask_id_number, mask_phone
from fangkong.core.permissions import Perm
from fangkong.core.scoping import scope_for
from fangkong.core.search import deferred_substring_index
from fangkong.core.tabular.columns import Column
from fangkong.core.tabular.reading import (
    Row,
    Source,
    Table,
    TableError,
    choice_lookup,
    normalise_header,
    parse_date,
    read_table,
)
from fangkong.core.validators import validate_mobile

from . import services
from .ledger import ROSTER_COLUMNS
from .models import (
    Household,
    OrgUnit,
    Person,
    TimelineEvent,
    User,
    household_search_text,
    person_search_text,
)

# Households and grids looked up per query, and ID numbers (passed as one parameter).
LOOKUP_CHUNK = 5000
NUMBERS_CHUNK = 50_000
# Rows written per statement.
WRITE_CHUNK = 20_000

COLUMNS: dict[str, Column] = {column.key: column for column in ROSTER_COLUMNS}
# Required columns checked here; the name's rule ("Enter the name.") is the services' own.
_REQUIRED_HERE = tuple(c.key for c in ROSTER_COLUMNS if c.required and c.key != "name")
_CODED = ("relation", "sex", "category")
_HEAD = Person.Relation.HEAD.value
# The defaults of a person's coded fields (enum members are slow to look up row by row).
_UNKNOWN_SEX = Person.Sex.UNKNOWN.value
_OTHER_RELATION = Person.Relation.OTHER.value
_RESIDENT = Person.Category.RESIDENT.value
# The stored fields the import reads: a person's own fields and where they live.
_PERSON_FIELDS = ("id", *services.OWN_FIELDS, "grid_id", "household_id")
_HOUSEHOLD_FIELDS = ("id", "grid_id", "address", "head_id", "phone")
_OWN = services.OWN_FIELDS
_ADDRESS_LENGTH: int = getattr(Household._meta.get_field("address"), "max_length", None) or 200


# ---------------------------------------------------------------------------------------------
# The report


@dataclass(frozen=True)
class ImportProblem:
    """A problem (or a warning) at a cell of the file; ``row`` None for the file or a sheet."""

    sheet: str
    row: int | None
    column: str  # the column's header
    value: str
    message: str
    letter: str = ""

    def __str__(self) -> str:
        """``sheet row column: value — message`` (as far as the problem has them)."""
        where = " ".join(str(part) for part in (self.sheet, self.row, self.column) if part)
        return (
            f"{where}: {self.value} — {self.message}" if where else f"{self.value} — {self.message}"
        )


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> int:
        return self.created + self.updated


@dataclass
class ImportReport:
    """What an import did (or, previewed, would do)."""

    file_name: str
    rows: int = 0
    households: Counts = field(default_factory=Counts)
    persons: Counts = field(default_factory=Counts)
    problems: list[ImportProblem] = field(default_factory=list)
    warnings: list[ImportProblem] = field(default_factory=list)
    committed: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def changes(self) -> int:
        return self.households.changed + self.persons.changed

    def summary_lines(self) -> list[str]:
        """The counts, one line each (for the command line)."""
        if self.committed:
            households = _(
                "Households: %(created)d created, %(updated)d updated, %(unchanged)d unchanged"
            )
            persons = _(
                "Persons: %(created)d created, %(updated)d updated, %(unchanged)d unchanged"
            )
        else:
            households = _(
                "Households: %(created)d to create, %(updated)d to update, %(unchanged)d unchanged"
            )
            persons = _(
                "Persons: %(created)d to create, %(updated)d to update, %(unchanged)d unchanged"
            )
        return [
            _("File: %(name)s, %(rows)d rows") % {"name": self.file_name, "rows": self.rows},
            households % vars(self.households),
            persons % vars(self.persons),
        ]


# ---------------------------------------------------------------------------------------------
# Entry points


def preview(*, actor: User | None, source: Source, scope: OrgUnit | None = None) -> ImportReport:
    """Check ``source`` and report what an import would do; nothing is written.

    ``actor`` None is the operator (the command line): the whole organisation. ``scope``
    narrows the grids the rows may name to that unit's subtree.
    """
    return _run(actor=actor, source=source, scope=scope, write=False)


def commit(*, actor: User | None, source: Source, scope: OrgUnit | None = None) -> ImportReport:
    """Check ``source`` and, when there is no problem at all, write everything in one
    transaction; with any problem nothing is written (``report.committed`` is False)."""
    return _run(actor=actor, source=source, scope=scope, write=True)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: reading and checking a file allocates millions of
    objects, none of them garbage until the end, and the collector's passes over them cost
    some 15% of an import's time. (Process-wide, for the seconds an import takes.)"""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _run(*, actor: User | None, source: Source, scope: OrgUnit | None, write: bool) -> ImportReport:
    with _gc_paused():
        return _import(actor=actor, source=source, scope=scope, write=write)


def _import(
    *, actor: User | None, source: Source, scope: OrgUnit | None, write: bool
) -> ImportReport:
    started = time.monotonic()
    if actor is not None and scope_for(actor, Perm.REGISTER_EDIT).empty:
        raise PermissionDenied
    name = _file_name(source)
    report = ImportReport(file_name=name)
    try:
        table = read_table(source, ROSTER_COLUMNS, name=name)
    except TableError as error:
        report.problems.append(
            ImportProblem(sheet=error.sheet, row=None, column="", value=name, message=error.message)
        )
        report.seconds = time.monotonic() - started
        return report
    report.rows = len(table.rows)
    if not write:
        _Planner(table, actor, scope, report).plan()
    else:
        try:
            with transaction.atomic():
                plan = _Planner(table, actor, scope, report).plan()
                if report.ok:
                    if report.changes:
                        _write(plan, actor=actor, source=_("import %(file)s") % {"file": name})
                    report.committed = True
        except IntegrityError:
            report.committed = False
            report.problems.append(
                ImportProblem(
                    sheet="",
                    row=None,
                    column="",
                    value=name,
                    message=_(
                        "The register changed while the file was being imported (someone else added a person with one of these ID numbers). Nothing was imported: check the file again."
                    ),
                )
            )
    _sort(report.problems, table)
    _sort(report.warnings, table)
    report.seconds = time.monotonic() - started
    return report


def _sort(found: list[ImportProblem], table: Table) -> None:
    """In the order of the file: the file's own problems, then sheet by sheet, row by row,
    column by column."""
    sheets = {columns.sheet: index for index, columns in enumerate(table.sheets)}
    found.sort(
        key=lambda p: (
            p.row is not None,
            sheets.get(p.sheet, -1),
            p.row or 0,
            (len(p.letter), p.letter),
        )
    )


def _file_name(source: Source) -> str:
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    return Path(str(getattr(source, "name", "") or "")).name or "upload"


# ---------------------------------------------------------------------------------------------
# Planning: every row checked, matched and turned into what to write


def address_key(address: str) -> str:
    """An address as compared: NFKC (full-width digits as ASCII), spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", address).split())


def _given(row: Row, values: dict[str, Any]) -> list[str]:
    """The own fields a row sets: its non-empty cells that are not masked (a valid ID number
    sets the birth date and the sex it holds)."""
    cells = row.values
    given = ["name", "relation", "category"]  # required
    for key in ("occupation", "note", "sex", "birth_date"):
        if cells.get(key):
            given.append(key)
    for key in ("id_number", "phone"):
        text = cells.get(key, "")
        if text and "*" not in text:
            given.append(key)
    if values["id_number"]:
        given.extend(("birth_date", "sex"))
    return given


def _where(first: Row, row: Row) -> str:
    """How a message names the earlier of two rows: its number, with its sheet if another."""
    return str(first.number) if first.sheet == row.sheet else f"{first.sheet} {first.number}"


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(slots=True)
class _Entry:
    """A row that passed its own checks: the person it describes."""

    row: Row
    household: _HouseholdPlan
    values: dict[str, Any]  # the cleaned own fields (defaults where the file says nothing)
    masked_id: str = ""
    masked_phone: str = ""
    match: dict[str, Any] | None = None  # the registered person, as stored
    pk: int = 0  # the registered person's, or (when written) the new one's
    changed: tuple[str, ...] = ()  # own fields, and "household"
    after: dict[str, Any] | None = None  # own fields after the import (matched and changed)


@dataclass(slots=True)
class _HouseholdPlan:
    """The rows of one household (same grid and address)."""

    grid_id: int
    address: str
    key: tuple[int, str]
    first: Row
    entries: list[_Entry] = field(default_factory=list)
    phone: str = ""  # the household phone the rows give ("": keep the stored one)
    phone_row: Row | None = None
    stored: dict[str, Any] | None = None  # the registered household
    pk: int = 0
    # The head after the import: a row of the file, or a registered member not in it.
    head_entry: _Entry | None = None
    head_pk: int | None = None

    def head_id(self) -> int | None:
        return self.head_entry.pk if self.head_entry is not None else self.head_pk

    def changes(self) -> bool:
        """Whether a registered household changes (its phone or its head)."""
        stored = self.stored
        if stored is None:
            return False
        if self.phone and self.phone != stored["phone"]:
            return True
        entry = self.head_entry
        if entry is not None:
            return entry.match is None or entry.pk != stored["head_id"]
        return self.head_pk != stored["head_id"]


@dataclass
class _Registered:
    """The registered persons an import may touch, as stored."""

    by_number: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    seen: set[int] = field(default_factory=set)

    def add(self, person: dict[str, Any]) -> None:
        if person["id"] in self.seen:
            return
        self.seen.add(person["id"])
        if person["id_number"]:
            self.by_number[person["id_number"]] = person
        if person["household_id"] is not None:
            self.members.setdefault(person["household_id"], []).append(person)


@dataclass
class _Plan:
    households: list[_HouseholdPlan]
    created: list[_Entry]
    updated: list[_Entry]
    # Registered households the rows' persons leave, as stored (pk → row).
    left: dict[int, dict[str, Any]]
    # Of those, the ones not in the file whose head leaves them.
    headless: list[int]


_AMBIGUOUS: dict[str, Any] = {}  # _find's answer when a problem was reported


class _Planner:
    """Checks the rows of a table and works out the writes (see the module's description)."""

    def __init__(
        self, table: Table, actor: User | None, scope: OrgUnit | None, report: ImportReport
    ) -> None:
        self.table = table
        self.report = report
        self.today = timezone.localdate()
        self.everything, self.paths = _edit_paths(actor, scope)
        self.lookups = {key: choice_lookup(COLUMNS[key]) for key in _CODED}
        self.households: dict[tuple[int, str], _HouseholdPlan] = {}
        self.entries: list[_Entry] = []
        # Registered persons described by a row.
        self.claimed: set[int] = set()
        # Households with a row that has a problem: their heads are not checked (the rows
        # will change).
        self.incomplete: set[tuple[int, str]] = set()
        # Lookups done once per distinct value: valid household phones, address keys, grids
        # by their code as written.
        self.phones: dict[str, str] = {}
        self.addresses: dict[str, str] = {}
        self.grids_seen: dict[str, dict[str, Any]] = {}

    # Problems

    def problem(self, row: Row, key: str, message: str) -> None:
        self.report.problems.append(self._at(row, key, message))

    def _at(self, row: Row, key: str, message: str) -> ImportProblem:
        cell = row.cell(key)
        return ImportProblem(
            sheet=cell.sheet,
            row=cell.row,
            column=cell.header or str(COLUMNS[key].header),
            value=cell.value,
            message=message,
            letter=cell.letter,
        )

    def address_key(self, address: str) -> str:
        """:func:`address_key`, once per address (a household's rows repeat it)."""
        key = self.addresses.get(address)
        if key is None:
            key = self.addresses[address] = address_key(address)
        return key

    def in_scope(self, path: str) -> bool:
        return self.everything or path.startswith(self.paths)

    # The plan

    def plan(self) -> _Plan:
        self.report.problems.extend(
            ImportProblem(
                sheet=p.sheet,
                row=p.row,
                column=p.header,
                value=p.value,
                message=p.message,
                letter=p.letter,
            )
            for p in self.table.problems
        )
        grids = self._load_grids()
        example = {c.key: c.example for c in ROSTER_COLUMNS}
        for row in self.table.rows:
            if row.columns.missing:
                continue  # the sheet lacks a required column (one problem, reported above)
            if row.values == {key: example[key] for key in row.values}:
                self.report.warnings.append(
                    self._at(
                        row,
                        "name",
                        _("This is the template's example row: it was left out of the import."),
                    )
                )
                continue
            self._check_row(row, grids)
        self._load_households()
        registered = self._load_persons()
        self._match(registered)
        left = self._left_households()
        headless = self._heads(registered, left)
        return self._count(left, headless)

    def _load_grids(self) -> dict[str, dict[str, Any]]:
        codes = {row.values.get("grid_code", "").upper() for row in self.table.rows}
        codes.discard("")
        found: dict[str, dict[str, Any]] = {}
        for chunk in _chunks(sorted(codes), LOOKUP_CHUNK):
            units = OrgUnit.objects.filter(code__in=chunk, is_active=True)
            for unit in units.values("pk", "code", "kind", "path"):
                found[unit["code"]] = dict(unit)
        return found

    def _check_row(self, row: Row, grids: dict[str, dict[str, Any]]) -> None:
        """One row's own checks; a row that passes becomes an entry of its household."""
        values = row.values
        problems = len(self.report.problems)
        skip = row.unreadable
        for key in _REQUIRED_HERE:
            if key not in skip and not values.get(key):
                self.problem(
                    row,
                    key,
                    _("“%(header)s” is required: fill it in.")
                    % {"header": row.columns.header(key) or COLUMNS[key].header},
                )
        grid = self.grids_seen.get(values.get("grid_code", ""))
        if grid is None:
            grid = self._grid(row, grids)
        clean: dict[str, Any] = {
            "name": values.get("name", ""),
            "sex": _UNKNOWN_SEX,
            "id_number": "",
            "birth_date": None,
            "phone": "",
            "relation": _OTHER_RELATION,
            "category": _RESIDENT,
            "occupation": values.get("occupation", ""),
            "note": values.get("note", ""),
        }
        for key in _CODED:
            text = values.get(key, "")
            if text and key not in skip:
                lookup = self.lookups[key]
                value = lookup.get(text) or lookup.get(normalise_header(text))
                if value is None:
                    self.problem(row, key, services.choice_error(key))
                else:
                    clean[key] = value
        birth = values.get("birth_date", "")
        if birth and "birth_date" not in skip:
            parsed = parse_date(birth)
            if parsed is None:
                self.problem(row, "birth_date", _("Write the date as YYYY-MM-DD, e.g. 1975-03-14."))
            else:
                clean["birth_date"] = parsed
        masked_id = masked_phone = ""
        id_number = values.get("id_number", "")
        if id_number and "id_number" not in skip:
            if "*" in id_number:
                masked_id = id_number
            else:
                clean["id_number"] = id_number
        phone = values.get("phone", "")
        if phone and "phone" not in skip:
            if "*" in phone:
                masked_phone = phone
            else:
                clean["phone"] = phone
        try:
            warnings = services.clean_person_fields(clean, today=self.today)
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                if key not in skip:
                    self.problem(row, key if key in COLUMNS else "name", " ".join(messages))
        else:
            if warnings:
                self.report.warnings.extend(self._at(row, "id_number", m) for m in warnings)
        household_phone = self._household_phone(row)
        address = values.get("address", "")
        if len(address) > _ADDRESS_LENGTH:
            self.problem(
                row,
                "address",
                _("Shorten the address to %(limit)d characters or fewer.")
                % {"limit": _ADDRESS_LENGTH},
            )
            return
        if grid is None or not address:
            return
        if skip or len(self.report.problems) > problems:  # (``skip``: reported when read)
            self.incomplete.add((grid["pk"], self.address_key(address)))
            return
        household = self._household(row, grid["pk"], address, household_phone)
        if household is None:
            return
        entry = _Entry(row, household, clean, masked_id, masked_phone)
        household.entries.append(entry)
        self.entries.append(entry)

    def _grid(self, row: Row, grids: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
        """The row's grid, or None with a problem (no such grid, a unit, outside the scope)."""
        code = row.values.get("grid_code", "").upper()
        if not code or "grid_code" in row.unreadable:
            return None
        grid = grids.get(code)
        if grid is None:
            self.problem(
                row,
                "grid_code",
                _(
                    "There is no grid with this code. Use a code from the Grids sheet of the template, e.g. LZ-01-03."
                ),
            )
        elif grid["kind"] != OrgUnit.Kind.GRID:
            self.problem(
                row,
                "grid_code",
                _("%(code)s is a unit, not a grid: give the code of one of its grids.")
                % {"code": code},
            )
        elif not self.in_scope(grid["path"]):
            self.problem(
                row,
                "grid_code",
                _(
                    "This grid is outside the area you may change. Import only into the grids listed on the Grids sheet of your template."
                ),
            )
        else:
            self.grids_seen[row.values["grid_code"]] = grid
            return grid
        return None

    def _household_phone(self, row: Row) -> str:
        """The household phone of a row, validated ("" for none, masked or unreadable)."""
        text = row.values.get("household_phone", "")
        if not text or "*" in text or "household_phone" in row.unreadable:
            return ""
        valid = self.phones.get(text)  # the rows of a household repeat its phone
        if valid is None:
            try:
                valid = self.phones[text] = validate_mobile(text)
            except ValidationError as error:
                self.problem(row, "household_phone", " ".join(error.messages))
                return ""
        return valid

    def _household(self, row: Row, grid_id: int, address: str, phone: str) -> _HouseholdPlan | None:
        """The household of a row (its grid and address), or None with a problem."""
        key = (grid_id, self.address_key(address))
        household = self.households.get(key)
        if household is None:
            household = self.households[key] = _HouseholdPlan(
                grid_id=grid_id, address=address, key=key, first=row
            )
        if phone:
            if household.phone and household.phone != phone:
                assert household.phone_row is not None
                self.problem(
                    row,
                    "household_phone",
                    _(
                        "Rows %(first)s and %(row)s are one household with different household phones. Give the same number on every row of a household, or only on one."
                    )
                    % {"first": _where(household.phone_row, row), "row": row.number},
                )
                return None
            household.phone, household.phone_row = phone, row
        return household

    def _load_households(self) -> None:
        """The registered households of the file's grids, matched by address."""
        grid_ids = sorted({h.grid_id for h in self.households.values()})
        households = self.households
        for chunk in _chunks(grid_ids, LOOKUP_CHUNK):
            stored_rows = (
                Household.objects.filter(grid_id__in=chunk, is_active=True)
                .order_by("pk")
                .values(*_HOUSEHOLD_FIELDS)
            )
            for stored in stored_rows:
                plan = households.get((stored["grid_id"], address_key(stored["address"])))
                if plan is not None and plan.stored is None:
                    plan.stored = stored
                    plan.pk = stored["id"]

    def _load_persons(self) -> _Registered:
        """The active persons the rows may describe: those holding the file's ID numbers and
        the members of the file's registered households."""
        registered = _Registered()
        fields = (*_PERSON_FIELDS, "grid__path")
        household_ids = sorted(h.pk for h in self.households.values() if h.stored is not None)
        for chunk in _chunks(household_ids, LOOKUP_CHUNK):
            members = Person.objects.filter(household_id__in=chunk, is_active=True)
            for person in members.values(*fields):
                registered.add(person)
        numbers = sorted({e.values["id_number"] for e in self.entries if e.values["id_number"]})
        for chunk in _chunks(numbers, NUMBERS_CHUNK):
            # (The empty-number exclusion lets the database use the partial unique index.)
            holders = Person.objects.filter(id_number__in=values_subquery(chunk), is_active=True)
            for person in holders.exclude(id_number="").values(*fields):
                registered.add(person)
        return registered

    def _match(self, registered: _Registered) -> None:
        """Find the registered person of every entry; merge and check the changed ones."""
        by_number: dict[str, _Entry] = {}
        new_people: dict[tuple[Any, ...], _Entry] = {}
        claimed: dict[int, _Entry] = {}
        same_person = _(
            "Rows %(first)s and %(row)s are the same person. A person is listed once: delete one of the rows."
        )
        kept: list[_Entry] = []
        for entry in self.entries:
            row, values = entry.row, entry.values
            number = values["id_number"]
            if number:
                first = by_number.get(number)
                if first is not None:
                    self.problem(
                        row,
                        "id_number",
                        _(
                            "Rows %(first)s and %(row)s have the same ID number. A person is listed once: delete one of the rows."
                        )
                        % {"first": _where(first.row, row), "row": row.number},
                    )
                    continue
                by_number[number] = entry
            match = self._find(entry, registered)
            if match is _AMBIGUOUS:
                continue
            if match is None:
                if entry.masked_id or entry.masked_phone:
                    self.problem(
                        row,
                        "id_number" if entry.masked_id else "phone",
                        _(
                            "This number is masked (it has *), and no person of this household in the register has it. Type the full number."
                        ),
                    )
                    continue
                if not number:
                    key = (entry.household.key, values["name"], values["birth_date"])
                    first = new_people.get(key)
                    if first is not None:
                        self.problem(
                            row,
                            "name",
                            same_person % {"first": _where(first.row, row), "row": row.number},
                        )
                        continue
                    new_people[key] = entry
                kept.append(entry)
                continue
            first = claimed.get(match["id"])
            if first is not None:
                self.problem(
                    row, "name", same_person % {"first": _where(first.row, row), "row": row.number}
                )
                continue
            claimed[match["id"]] = entry
            entry.match = match
            entry.pk = match["id"]
            if self._merge(entry, match):
                kept.append(entry)
        # Rows with problems found here leave their households (nothing is written anyway).
        if len(kept) != len(self.entries):
            keep = {id(entry) for entry in kept}
            for household in self.households.values():
                if len(household.entries) != sum(id(e) in keep for e in household.entries):
                    self.incomplete.add(household.key)
                    household.entries = [e for e in household.entries if id(e) in keep]
            self.entries = kept
        self.claimed = set(claimed)

    def _find(self, entry: _Entry, registered: _Registered) -> dict[str, Any] | None:
        """The registered person an entry describes, None for a new one, or _AMBIGUOUS (with
        a problem reported)."""
        values = entry.values
        number = values["id_number"]
        if number:
            person = registered.by_number.get(number)
            if person is not None:
                if not self.in_scope(person["grid__path"]):
                    self.problem(
                        entry.row,
                        "id_number",
                        _(
                            "A person with this ID number is registered outside the area you may change. Ask the office to move the person to your area, or delete the row."
                        ),
                    )
                    return _AMBIGUOUS
                return person
        household = entry.household
        if household.stored is None:
            return None
        name, birth = values["name"], values["birth_date"]
        candidates = [p for p in registered.members.get(household.pk, ()) if p["name"] == name]
        if number:
            # Registered without an ID number, now given one.
            candidates = [
                p for p in candidates if not p["id_number"] and p["birth_date"] in (None, birth)
            ]
        else:
            if entry.masked_id:
                masked = entry.masked_id.upper()
                candidates = [p for p in candidates if mask_id_number(p["id_number"]) == masked]
            if birth is not None:
                candidates = [p for p in candidates if p["birth_date"] in (None, birth)]
        if len(candidates) > 1:
            exact = [p for p in candidates if p["birth_date"] == birth]
            if len(exact) == 1:
                candidates = exact
        if len(candidates) > 1:
            self.problem(
                entry.row,
                "name",
                _(
                    "%(count)d persons with this name live in this household. Give the ID number or the birth date to tell them apart."
                )
                % {"count": len(candidates)},
            )
            return _AMBIGUOUS
        return candidates[0] if candidates else None

    def _merge(self, entry: _Entry, stored: dict[str, Any]) -> bool:
        """Work out the person as stored after the import: the file's values over the stored
        ones, empty and masked cells keeping them; check it with the services' rules. False
        (with a problem reported) when it breaks a rule."""
        row, values = entry.row, entry.values
        if entry.masked_phone and mask_phone(stored["phone"]) != entry.masked_phone:
            self.problem(
                row,
                "phone",
                _(
                    "This masked number (with *) is not the stored one. Type the full number to change it."
                ),
            )
            return False
        after = {name: stored[name] for name in _OWN}
        for name in _given(row, values):
            after[name] = values[name]
        changed = [name for name in _OWN if after[name] != stored[name]]
        if changed:
            try:
                services.clean_person_fields(after, today=self.today)
            except ValidationError as error:
                for key, messages in error.message_dict.items():
                    self.problem(row, key if key in COLUMNS else "name", " ".join(messages))
                return False
            changed = [name for name in _OWN if after[name] != stored[name]]
        if stored["household_id"] != entry.household.pk or entry.household.stored is None:
            changed.append("household")
        if changed:
            entry.changed = tuple(changed)
            entry.after = after
        return True

    def _left_households(self) -> dict[int, dict[str, Any]]:
        """The registered households that persons of the file leave (to record the move and,
        if their head leaves, to clear it)."""
        ids = sorted(
            {
                e.match["household_id"]
                for e in self.entries
                if e.match is not None and "household" in e.changed and e.match["household_id"]
            }
        )
        left: dict[int, dict[str, Any]] = {}
        for chunk in _chunks(ids, LOOKUP_CHUNK):
            for stored in Household.objects.filter(pk__in=chunk).values(*_HOUSEHOLD_FIELDS):
                left[stored["id"]] = stored
        return left

    def _heads(self, registered: _Registered, left: dict[int, dict[str, Any]]) -> list[int]:
        """Check that every household of the file ends with exactly one head and note it.
        Returns the households not in the file whose head leaves them."""
        claimed = self.claimed
        for household in self.households.values():
            if not household.entries or household.key in self.incomplete:
                continue  # a row has a problem: check the household once it is fixed
            in_file = [e for e in household.entries if e.values["relation"] == _HEAD]
            staying = [
                p["id"]
                for p in registered.members.get(household.pk, ())
                if household.stored is not None
                and p["relation"] == _HEAD
                and p["id"] not in claimed
            ]
            if len(in_file) + len(staying) == 1:
                household.head_entry = in_file[0] if in_file else None
                household.head_pk = staying[0] if staying else None
            elif not in_file and staying:
                # Several heads in the register already: not this file's doing; keep its head.
                stored_head = household.stored["head_id"] if household.stored else None
                household.head_pk = stored_head if stored_head in staying else staying[0]
            elif not in_file:
                self.problem(
                    household.first,
                    "relation",
                    _("Household %(address)s has no head: mark one of its rows “%(head)s”.")
                    % {"address": household.address, "head": Person.Relation.HEAD.label},
                )
            elif len(in_file) > 1:
                first = in_file[0]
                for entry in in_file[1:]:
                    self.problem(
                        entry.row,
                        "relation",
                        _(
                            "Rows %(first)s and %(row)s are both the head of household %(address)s. Mark only one row “%(head)s” and give the others their relation to the head."
                        )
                        % {
                            "first": _where(first.row, entry.row),
                            "row": entry.row.number,
                            "address": household.address,
                            "head": Person.Relation.HEAD.label,
                        },
                    )
            else:
                self.problem(
                    in_file[0].row,
                    "relation",
                    _(
                        "Household %(address)s already has a head in the register. Give this row its relation to the head, or add a row for the current head with their new relation."
                    )
                    % {"address": household.address},
                )
        in_file_pks = {h.pk for h in self.households.values() if h.stored is not None}
        return sorted(
            pk
            for pk, stored in left.items()
            if pk not in in_file_pks
            and stored["head_id"] is not None
            and stored["head_id"] in claimed
        )

    def _count(self, left: dict[int, dict[str, Any]], headless: list[int]) -> _Plan:
        created = [e for e in self.entries if e.match is None]
        updated = [e for e in self.entries if e.match is not None and e.changed]
        self.report.persons = Counts(
            created=len(created),
            updated=len(updated),
            unchanged=len(self.entries) - len(created) - len(updated),
        )
        households = [h for h in self.households.values() if h.entries]
        new = sum(1 for h in households if h.stored is None)
        changed = sum(1 for h in households if h.changes())
        self.report.households = Counts(
            created=new,
            updated=changed + len(headless),
            unchanged=len(households) - new - changed,
        )
        return _Plan(
            households=households, created=created, updated=updated, left=left, headless=headless
        )


def _edit_paths(actor: User | None, scope: OrgUnit | None) -> tuple[bool, tuple[str, ...]]:
    """Where the rows may write: (everything, paths of the subtrees), within the actor's
    REGISTER_EDIT scope (everything for the operator) and ``scope``'s subtree."""
    edit = scope_for(actor, Perm.REGISTER_EDIT) if actor is not None else None
    if edit is None or edit.everything:
        return (scope is None, (scope.path,) if scope is not None else ())
    if scope is None:
        return False, edit.paths
    paths = []
    for path in edit.paths:
        if scope.path.startswith(path):
            paths.append(scope.path)  # the unit asked for lies within the actor's scope
        elif path.startswith(scope.path):
            paths.append(path)  # a part of the actor's scope lies within the unit
    return False, tuple(paths)


# ---------------------------------------------------------------------------------------------
# Writing


def _write(plan: _Plan, *, actor: User | None, source: str) -> None:
    """Write a plan without problems: new households and persons, changed ones, their audit
    trail and timeline events, in bulk."""
    now = timezone.now()
    user_id = actor.pk if actor is not None and actor.is_authenticated else None
    ops = connection.ops
    stamp = ops.adapt_datetimefield_value(now)
    history: dict[str, Any] = {
        "history_date": now,
        "history_reason": source,
        "history_user_id": user_id,
    }  # the audit trail's fields of every record the import writes
    timeline = BulkTable(
        TimelineEvent,
        ["person_id", "kind", "summary", "data"],
        constants={"occurred_at": now, "actor_id": user_id},
    )
    new_households = [h for h in plan.households if h.stored is None]
    for household, pk in zip(
        new_households, allocate_ids(Household, len(new_households)), strict=True
    ):
        household.pk = pk
    for entry, pk in zip(plan.created, allocate_ids(Person, len(plan.created)), strict=True):
        entry.pk = pk

    if plan.created or new_households:
        with deferred_substring_index(Household), deferred_substring_index(Person):
            _write_new(plan, now=now, source=source, **history)
    _write_changed_persons(plan, stamp=stamp, source=source, timeline=timeline, **history)
    _write_changed_households(plan, stamp=stamp, **history)
    services.refresh_grid_counts(
        {h.grid_id for h in plan.households}
        | {e.match["grid_id"] for e in plan.updated if e.match is not None}
    )


def _write_new(plan: _Plan, *, now: dt.datetime, source: str, **history: Any) -> None:
    """Insert the new households and persons, their "+" history records and "created"
    timeline events."""
    new_households = [h for h in plan.households if h.stored is None]
    households = BulkTable(
        Household,
        ["id", "grid_id", "address", "head_id", "phone", "search_text"],
        constants={"created_at": now, "updated_at": now},
        **history,
    )
    for chunk in _chunks(new_households, WRITE_CHUNK):
        households.write(
            [
                (
                    h.pk,
                    h.grid_id,
                    h.address,
                    h.head_id(),
                    h.phone,
                    household_search_text(h.address, h.phone),
                )
                for h in chunk
            ]
        )
    persons = BulkTable(
        Person,
        [
            "id",
            "name",
            "sex",
            "id_number",
            "birth_date",
            "phone",
            "grid_id",
            "household_id",
            "relation",
            "category",
            "occupation",
            "note",
            "search_text",
        ],
        constants={"created_at": now, "updated_at": now},
        **history,
    )
    adapt_date = connection.ops.adapt_datefield_value
    for chunk in _chunks(plan.created, WRITE_CHUNK):
        rows = []
        for e in chunk:
            v = e.values
            household = e.household
            rows.append(
                (
                    e.pk,
                    v["name"],
                    v["sex"],
                    v["id_number"],
                    adapt_date(v["birth_date"]),
                    v["phone"],
                    household.grid_id,
                    household.pk,
                    v["relation"],
                    v["category"],
                    v["occupation"],
                    v["note"],
                    person_search_text(v["name"], v["id_number"], v["phone"]),
                )
            )
        persons.write(rows)
        _created_events([row[0] for row in rows], now=now, source=source, **history)


def _created_events(
    pks: list[int], *, now: dt.datetime, source: str, history_user_id: int | None, **_: Any
) -> None:
    """The "created" timeline events of the new persons ``pks``, as create_person records
    them, made from the stored rows in one ``INSERT … SELECT``."""
    quote = connection.ops.quote_name
    ids, params = values_sql(pks, db_type="bigint")
    if connection.vendor == "postgresql":
        data = "jsonb_build_object('household', household_id, 'grid', grid_id, 'source', %s::text)"
    else:
        data = "json_object('household', household_id, 'grid', grid_id, 'source', %s)"
    column = {f.attname: f.column for f in TimelineEvent._meta.concrete_fields}
    columns = ", ".join(
        quote(column[name])
        for name in ("person_id", "occurred_at", "kind", "summary", "data", "actor_id")
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(TimelineEvent._meta.db_table)} ({columns}) "
            f"SELECT id, %s, 'created', CASE WHEN id_number = '' THEN %s ELSE %s END, {data}, %s "
            f"FROM {quote(Person._meta.db_table)} WHERE id IN ({ids})",
            [
                connection.ops.adapt_datetimefield_value(now),
                services.created_summary(source, lacks_id_number=True)[:300],
                services.created_summary(source, lacks_id_number=False)[:300],
                source,
                history_user_id,
                *params,
            ],
        )


def _write_changed_persons(
    plan: _Plan, *, stamp: Any, source: str, timeline: BulkTable, **history: Any
) -> None:
    """Update the changed persons; a "~" history record and timeline events for each."""
    if not plan.updated:
        return
    adapt_date = connection.ops.adapt_datefield_value
    columns = [
        "name",
        "sex",
        "id_number",
        "birth_date",
        "phone",
        "grid_id",
        "household_id",
        "relation",
        "category",
        "occupation",
        "note",
        "search_text",
        "updated_at",
    ]
    addresses = {h.pk: h.address for h in plan.households}
    addresses.update({pk: stored["address"] for pk, stored in plan.left.items()})
    for chunk in _chunks(plan.updated, WRITE_CHUNK):
        updates = []
        events = []
        for e in chunk:
            stored = e.match
            assert stored is not None and e.after is not None
            a = e.after
            household = e.household
            search = person_search_text(a["name"], a["id_number"], a["phone"])
            updates.append(
                (
                    a["name"],
                    a["sex"],
                    a["id_number"],
                    adapt_date(a["birth_date"]),
                    a["phone"],
                    household.grid_id,
                    household.pk,
                    a["relation"],
                    a["category"],
                    a["occupation"],
                    a["note"],
                    search,
                    stamp,
                    e.pk,
                )
            )
            if "household" in e.changed:
                old = stored["household_id"]
                events.append(
                    (
                        e.pk,
                        "moved",
                        services.moved_summary(
                            addresses.get(old) if old else None, household.address, source
                        )[:300],
                        json.dumps(
                            {
                                "from_household": old,
                                "to_household": household.pk,
                                "from_grid": stored["grid_id"],
                                "to_grid": household.grid_id,
                                "source": source,
                            },
                            ensure_ascii=False,
                        ),
                    )
                )
            details = [name for name in e.changed if name != "household"]
            if details:
                events.append(
                    (
                        e.pk,
                        "changed",
                        services.changed_summary(
                            [(name, stored[name], a[name]) for name in details], source
                        )[:300],
                        json.dumps({"fields": details, "source": source}, ensure_ascii=False),
                    )
                )
        update_rows(Person, columns, updates)
        copy_to_history(Person, [e.pk for e in chunk], history_type="~", **history)
        timeline.write(events)


def _write_changed_households(plan: _Plan, *, stamp: Any, **history: Any) -> None:
    """Update the registered households whose phone or head changes (and those whose head
    moved out), with a "~" history record each."""
    changes: list[tuple[dict[str, Any], str, int | None]] = [
        (h.stored, h.phone or h.stored["phone"], h.head_id())
        for h in plan.households
        if h.stored is not None and h.changes()
    ]
    changes.extend((plan.left[pk], plan.left[pk]["phone"], None) for pk in plan.headless)
    if not changes:
        return
    for chunk in _chunks(changes, WRITE_CHUNK):
        update_rows(
            Household,
            ["phone", "head_id", "search_text", "updated_at"],
            [
                (phone, head, household_search_text(stored["address"], phone), stamp, stored["id"])
                for stored, phone, head in chunk
            ],
        )
        copy_to_history(
            Household,
            [stored["id"] for stored, _phone, _head in chunk],
            history_type="~",
            **history,
        )
