"""The person roster (人员名册) and ledger (台账) as sheets: the columns of the import template,
of the import, and of the export, described once (see :mod:`fangkong.core.tabular`).

One row is one person; rows with the same grid code and household address are one household
(户), whose head is the row whose relation is 户主. An exported ledger has the roster's
columns first, so it can be edited and imported again; the columns after them are for reading
and an import ignores them. Masked values (with ``*``) in an imported file mean "unchanged".
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from fangkong.core.tabular.columns import Column

from .models import Person

ROSTER_SHEET = _("Roster")
GRIDS_SHEET = _("Grids")
INSTRUCTIONS_SHEET = _("Instructions")

ROSTER_COLUMNS: tuple[Column, ...] = (
    Column(
        "grid_code",
        _("Grid code"),
        meaning=_("The grid the household lives in."),
        format=_("A code from the Grids sheet, e.g. LZ-01-03."),
        required=True,
        example="LZ-01-01",
    ),
    Column(
        "address",
        _("Household address"),
        meaning=_("Rows with the same grid and address are one household."),
        format=_("Text, e.g. 三站5排12号."),
        required=True,
        example="一站1排3号",
        width=18,
    ),
    Column(
        "household_phone",
        _("Household phone"),
        meaning=_("The household's contact number."),
        format=_("11-digit mobile number."),
        example="13800001111",
    ),
    Column(
        "name",
        _("Name"),
        meaning=_("The person's name."),
        required=True,
        example="张建国",
        width=10,
    ),
    Column(
        "relation",
        _("Relation to head"),
        meaning=_("One row per household is the head (户主)."),
        required=True,
        choices=Person.Relation.choices,
        example="户主",
        width=10,
    ),
    Column(
        "sex",
        _("Sex"),
        meaning=_("Taken from the ID number when there is one."),
        choices=Person.Sex.choices,
        example="男",
        width=6,
    ),
    Column(
        "id_number",
        _("ID number"),
        meaning=_("Resident ID number. Leave empty for a child or visitor without one."),
        format=_("18 characters, the last a digit or X. Type it as text."),
        example="620723197503141316",
        width=21,
    ),
    Column(
        "birth_date",
        _("Birth date"),
        meaning=_("Taken from the ID number when there is one."),
        format=_("YYYY-MM-DD, e.g. 1975-03-14."),
        example="1975-03-14",
        width=12,
    ),
    Column(
        "phone",
        _("Mobile phone"),
        format=_("11-digit mobile number."),
        example="13912345678",
        width=13,
    ),
    Column(
        "category",
        _("Category"),
        required=True,
        choices=Person.Category.choices,
        example="职工",
        width=10,
    ),
    Column("occupation", _("Occupation"), example="农机手", width=10),
    Column("note", _("Note"), width=20),
)

# Export only, after the roster columns.
LEDGER_EXTRA_COLUMNS: tuple[Column, ...] = (
    Column("unit_name", _("Unit"), value=lambda p: p.grid.parent.name if p.grid.parent else ""),
    Column("grid_name", _("Grid"), value=lambda p: p.grid.name),
    Column("status", _("Status"), choices=Person.Status.choices),
)
