"""Writing ledgers (台账) and import templates as ``.xlsx`` files.

Both read a ledger's :class:`~fangkong.core.tabular.columns.Column` descriptions: the header,
the width, the allowed values (a cell holding a stored value is written as its label) and,
for templates, the meaning, format and example.

Contracts every file written here keeps:

- Text is always a text cell: a value such as ``=1+1``, ``+86…``, ``-3`` or ``@foo`` is never a
  formula, an ID or phone number never a number (and text columns carry the text format
  ``@``, so that Excel keeps them text when a user edits or adds a cell).
- Dates are date cells shown as ``YYYY-MM-DD``; aware date-times are written in local time.
- The header row is bold and frozen; the columns have their ``Column.width``.
- Headers, labels and instructions are in Chinese (``LEDGER_LANGUAGE``), whatever the
  language of the page or command that asks for the file.

:func:`write_ledger` streams: XlsxWriter's ``constant_memory`` mode writes each row to a
temporary file as soon as the next one starts, so memory stays flat however many rows the
iterable yields. (Writing the same 100,000 rows of the person ledger takes XlsxWriter about
7 s and openpyxl's write-only mode about 12 s: see ``bench_export`` in
:mod:`fangkong.org.bench`.)
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

import xlsxwriter
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from .columns import Column

Target = str | os.PathLike[str] | IO[bytes]

LEDGER_LANGUAGE = "zh-hans"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Rows of a worksheet, the header included (Excel's limit).
MAX_SHEET_ROWS = 1_048_576
MAX_DATA_ROWS = MAX_SHEET_ROWS - 1
# Excel refuses a drop-down list written inline when it is longer than this (separators
# included); longer lists go to a hidden sheet.
MAX_INLINE_LIST = 255

TEXT_FORMAT = "@"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"

# Nothing a cell holds is read as a formula, a number or a link: text is text.
WORKBOOK_OPTIONS: dict[str, Any] = {
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}

LISTS_SHEET = _("Lists")
INSTRUCTION_HEADERS = (
    _("Column"),
    _("Meaning"),
    _("Format"),
    _("Required"),
    _("Allowed values"),
)


class TooManyRows(ValueError):
    """More rows than one worksheet holds."""


class _Formats:
    """The cell formats of one workbook."""

    def __init__(self, workbook: xlsxwriter.Workbook) -> None:
        self.header = workbook.add_format(
            {"bold": True, "bg_color": "#F2F2F2", "bottom": 1, "valign": "top"}
        )
        self.required_header = workbook.add_format(
            {
                "bold": True,
                "bg_color": "#F2F2F2",
                "bottom": 1,
                "valign": "top",
                "font_color": "#C00000",
            }
        )
        self.text = workbook.add_format({"num_format": TEXT_FORMAT})
        self.date = workbook.add_format({"num_format": DATE_FORMAT})
        self.datetime = workbook.add_format({"num_format": DATETIME_FORMAT})
        self.wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        self.bold = workbook.add_format({"bold": True})


def _choice_labels(column: Column) -> dict[Any, str]:
    return {value: str(label) for value, label in column.choices}


def _write_header(
    sheet: Worksheet,
    formats: _Formats,
    columns: Sequence[Column],
    *,
    date_keys: Collection[str] = (),
    mark_required: bool = False,
) -> None:
    """Widths, column formats (text, or date for ``date_keys``), the bold frozen header."""
    for index, column in enumerate(columns):
        cell_format = formats.date if column.key in date_keys else formats.text
        sheet.set_column(index, index, column.width, cell_format)
        header_format = (
            formats.required_header if mark_required and column.required else formats.header
        )
        sheet.write_string(0, index, str(column.header), header_format)
    sheet.freeze_panes(1, 0)


def _cell_writer(sheet: Worksheet, formats: _Formats) -> Callable[[int, int, Any], None]:
    """``write(row, col, value)``: a value by its type; None and "" leave the cell empty."""
    write_string = sheet.write_string
    write_datetime = sheet.write_datetime
    write_number = sheet.write_number
    text, date, date_time = formats.text, formats.date, formats.datetime

    def write(row: int, col: int, value: Any) -> None:
        if value is None or value == "":
            return
        if isinstance(value, str):
            write_string(row, col, value, text)
        elif isinstance(value, dt.datetime):
            if timezone.is_aware(value):
                value = timezone.localtime(value).replace(tzinfo=None)
            write_datetime(row, col, value, date_time)
        elif isinstance(value, dt.date):
            write_datetime(row, col, value, date)
        elif isinstance(value, bool):
            write_string(row, col, str(_("Yes") if value else _("No")), text)
        elif isinstance(value, int | float | Decimal):
            write_number(row, col, value)
        else:
            write_string(row, col, str(value), text)

    return write


def _string_writer(sheet: Worksheet) -> Callable[[int, int, str, Any], Any]:
    """XlsxWriter's undecorated ``_write_string``, which its own ``write_row`` calls: the
    public ``write_string`` re-parses its arguments for every cell (5% of a large export).
    The public method if a later XlsxWriter renames it (the version is pinned)."""
    return getattr(sheet, "_write_string", sheet.write_string)


def write_ledger(
    target: Target,
    sheet_name: str | Promise,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    date_keys: Collection[str] = (),
) -> int:
    """Write ``rows`` (one value per column, in the order of ``columns``) under a header row,
    streaming, and return how many rows were written.

    A value of a column with ``choices`` is written as its label (an unknown value as it
    is). Strings are text cells whatever they start with; ``date_keys`` name the columns
    formatted as dates (for cells a user adds later; date values are date cells anyway).
    ``target`` is a path or a writable, seekable binary file (left open). Raises
    :class:`TooManyRows` beyond one worksheet's rows.
    """
    workbook = xlsxwriter.Workbook(target, {**WORKBOOK_OPTIONS, "constant_memory": True})
    count = 0
    try:
        with translation.override(LEDGER_LANGUAGE):
            formats = _Formats(workbook)
            sheet = workbook.add_worksheet(str(sheet_name))
            _write_header(sheet, formats, columns, date_keys=date_keys)
            labels = [_choice_labels(c) if c.choices else None for c in columns]
            write = _cell_writer(sheet, formats)
            write_string, text = _string_writer(sheet), formats.text
            for row in rows:
                count += 1
                if count > MAX_DATA_ROWS:
                    raise TooManyRows(
                        f"more than {MAX_DATA_ROWS:,} rows: split the export (by unit or filter)"
                    )
                for col, value in enumerate(row):
                    mapping = labels[col]
                    if mapping is not None:
                        value = mapping.get(value, value)
                    if value.__class__ is str:  # most cells: the short way
                        if value:
                            write_string(count, col, value, text)
                    elif value is not None:
                        write(count, col, value)
            if columns:
                sheet.autofilter(0, 0, count, len(columns) - 1)
    finally:
        workbook.close()
    return count


# ---------------------------------------------------------------------------------------------
# Import templates


@dataclass(frozen=True)
class LookupSheet:
    """Reference rows on a sheet of their own, e.g. the grids a user may import into; the
    values of its first column are the drop-down of the template's column ``feeds``."""

    name: str | Promise
    columns: Sequence[Column]
    rows: Sequence[Sequence[Any]]
    feeds: str


@dataclass(frozen=True)
class TemplateSheet:
    """The sheet a user fills in: its columns, the example row (``Column.example``), and
    ``date_keys``, the columns holding dates (the others are formatted as text)."""

    name: str | Promise
    columns: Sequence[Column]
    date_keys: Collection[str] = ()


def _sheet_ref(sheet: str, first_row: int, last_row: int, col: int = 0) -> str:
    """An absolute reference such as ``='网格'!$A$2:$A$41`` (rows zero-based)."""
    letter = xl_col_to_name(col)
    quoted = "'" + sheet.replace("'", "''") + "'"
    return f"={quoted}!${letter}${first_row + 1}:${letter}${last_row + 1}"


def _example_value(column: Column, date_keys: Collection[str]) -> Any:
    if column.key in date_keys and column.example:
        try:
            return dt.date.fromisoformat(column.example)
        except ValueError:
            return column.example
    return column.example


def _allowed_values(column: Column, lookups: dict[str, LookupSheet]) -> str:
    if column.key in lookups:
        return str(_("A code from the %(sheet)s sheet") % {"sheet": lookups[column.key].name})
    return "、".join(column.labels)


def build_template(
    target: Target,
    sheet: TemplateSheet,
    *,
    instructions_name: str | Promise,
    lookups: Sequence[LookupSheet] = (),
    notes: Sequence[str | Promise] = (),
) -> None:
    """Write an import template: ``sheet`` with its header (required columns in red) and one
    example row; an instructions sheet (each column's header, meaning, format, whether it is
    required, its allowed values; then ``notes``); each lookup sheet; list drop-downs on
    the columns with choices and on the columns a lookup sheet feeds (a long list is read
    from a hidden sheet). Every column but the date columns is formatted as text, so Excel
    keeps an 18-digit ID number or a leading zero as typed.
    """
    workbook = xlsxwriter.Workbook(target, WORKBOOK_OPTIONS)
    try:
        with translation.override(LEDGER_LANGUAGE):
            _build_template(workbook, sheet, instructions_name, lookups, notes)
    finally:
        workbook.close()


def _build_template(
    workbook: xlsxwriter.Workbook,
    template: TemplateSheet,
    instructions_name: str | Promise,
    lookups: Sequence[LookupSheet],
    notes: Sequence[str | Promise],
) -> None:
    formats = _Formats(workbook)
    columns = template.columns
    by_key = {lookup.feeds: lookup for lookup in lookups}

    data = workbook.add_worksheet(str(template.name))
    _write_header(data, formats, columns, date_keys=template.date_keys, mark_required=True)
    write = _cell_writer(data, formats)
    for col, column in enumerate(columns):
        write(1, col, _example_value(column, template.date_keys))

    instructions = workbook.add_worksheet(str(instructions_name))
    widths = (16, 40, 36, 10, 40)
    for col, (header, width) in enumerate(zip(INSTRUCTION_HEADERS, widths, strict=True)):
        instructions.set_column(col, col, width, formats.wrap)
        instructions.write_string(0, col, str(header), formats.header)
    instructions.freeze_panes(1, 0)
    for row, column in enumerate(columns, start=1):
        cells = (
            str(column.header),
            str(column.meaning),
            str(column.format),
            str(_("Yes") if column.required else _("No")),  # under the header "Required"
            _allowed_values(column, by_key),
        )
        for col, text in enumerate(cells):
            if text:
                instructions.write_string(row, col, text, formats.wrap)
    for offset, note in enumerate(notes, start=len(columns) + 2):
        instructions.write_string(offset, 0, str(note))

    for lookup in lookups:
        sheet = workbook.add_worksheet(str(lookup.name))
        _write_header(sheet, formats, lookup.columns)
        write = _cell_writer(sheet, formats)
        for row, values in enumerate(lookup.rows, start=1):
            for col, value in enumerate(values):
                write(row, col, value)

    lists: Worksheet | None = None
    list_col = 0
    for col, column in enumerate(columns):
        source: str | list[str] | None = None
        listed_on = instructions_name
        if column.key in by_key:
            lookup = by_key[column.key]
            listed_on = lookup.name
            if lookup.rows:
                source = _sheet_ref(str(lookup.name), 1, len(lookup.rows))
        elif column.choices:
            labels = column.labels
            if len(",".join(labels)) <= MAX_INLINE_LIST and not any("," in x for x in labels):
                source = labels
            else:
                if lists is None:
                    lists = workbook.add_worksheet(str(LISTS_SHEET))
                    lists.hide()
                for row, label in enumerate(labels):
                    lists.write_string(row, list_col, label)
                source = _sheet_ref(str(LISTS_SHEET), 0, len(labels) - 1, list_col)
                list_col += 1
        if source is None:
            continue
        data.data_validation(
            1,
            col,
            MAX_SHEET_ROWS - 1,
            col,
            {
                "validate": "list",
                "source": source,
                "error_type": "stop",
                "error_title": str(_("Not in the list")),
                "error_message": str(
                    _("Choose a value from the drop-down list; the %(sheet)s sheet lists them.")
                    % {"sheet": listed_on}
                ),
            },
        )
    data.activate()
