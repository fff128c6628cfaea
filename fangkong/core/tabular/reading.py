"""Reading a ledger from a file: ``.xlsx`` (python-calamine) or ``.csv`` (UTF-8 or GBK).

:func:`read_table` takes a file and the ledger's :class:`~.columns.Column` list and returns
its data rows, every cell as text, with where it came from: the sheet, the row number as
Excel shows it, and the column's letter and header. Every sheet whose header row names at
least two of the columns is read (a template's instruction and code sheets are not); the
header row may sit below a title. A header matches a column's Chinese or English title,
ignoring surrounding spaces, a ``*`` marking a required column and letter case; other
columns are ignored; a missing required column is one problem naming it. Empty rows are
skipped wherever they are.

Excel stores numbers as floating point with 15 significant digits: an ID number typed as a
number comes back as ``6.20723197503141E+17`` with its last digits lost. Such a cell is a
problem ("type it as text"), never silently a wrong number. Dates come back as YYYY-MM-DD,
formulas as their cached values (the value Excel last computed and saved).

A file that cannot be a ledger (another type, larger than ``IMPORT_MAX_BYTES``, more rows
than ``IMPORT_MAX_ROWS``, damaged, no header row) raises :class:`TableError` with a message
that says what to do.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, TypeAlias

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from .columns import Column

# What a ledger can be read from: a path, or an open binary file (an upload) with a name.
Source: TypeAlias = str | os.PathLike[str] | IO[bytes]

XLSX, CSV = ".xlsx", ".csv"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, .doc and password-protected .xlsx
# How far down a sheet the header row is looked for (a title and notes may come first).
HEADER_SEARCH_ROWS = 20
# A header row names at least this many of the ledger's columns.
MIN_HEADER_MATCHES = 2
# Excel keeps 15 significant digits: an integer this large has lost digits.
EXCEL_DIGITS_LIMIT = 10**15
# Numbers that Excel wrote to a CSV in scientific notation (6.20723E+17).
_SCIENTIFIC = re.compile(r"^\d(?:\.\d+)?[eE]\+?(\d+)$")
_DATE_PATTERNS = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:\s+0{1,2}:00(?::00)?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)


class TableError(Exception):
    """The file cannot be read as a ledger; the message says why and what to do."""

    def __init__(self, message: str, *, sheet: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.sheet = sheet


@dataclass(frozen=True)
class Cell:
    """One cell of a data row, as text, with where it is in the file."""

    sheet: str
    row: int  # as Excel shows it (the header row is usually 1)
    letter: str  # "A", "B", … "AA"
    header: str  # the column's header as written in the file
    value: str


@dataclass(frozen=True)
class CellProblem:
    """A cell (or, with ``row`` None, a sheet or the file) that cannot be read as it is."""

    sheet: str
    row: int | None
    letter: str
    header: str
    value: str
    message: str


@dataclass(frozen=True)
class SheetColumns:
    """Where the ledger's columns are in one sheet: key → (position, letter, header), and
    the keys of the required columns the sheet lacks (each one a problem of the table)."""

    sheet: str
    header_row: int
    positions: dict[str, tuple[int, str, str]]
    missing: tuple[str, ...] = ()

    def letter(self, key: str) -> str:
        found = self.positions.get(key)
        return found[1] if found else ""

    def header(self, key: str) -> str:
        found = self.positions.get(key)
        return found[2] if found else ""


@dataclass(slots=True)
class Row:
    """A data row: the text of each of the ledger's columns found in its sheet (a column
    missing from the sheet is ""). ``unreadable`` names the cells already reported as
    problems (a number that lost digits), so that they are not judged again."""

    columns: SheetColumns
    number: int
    values: dict[str, str]
    unreadable: frozenset[str] = frozenset()

    @property
    def sheet(self) -> str:
        return self.columns.sheet

    def cell(self, key: str) -> Cell:
        """The cell of column ``key`` in this row."""
        return Cell(
            sheet=self.columns.sheet,
            row=self.number,
            letter=self.columns.letter(key),
            header=self.columns.header(key),
            value=self.values.get(key, ""),
        )


@dataclass
class Table:
    """What :func:`read_table` found: the data rows of every ledger sheet, in file order,
    and the cells (or missing columns) that could not be read."""

    name: str
    rows: list[Row] = field(default_factory=list)
    problems: list[CellProblem] = field(default_factory=list)
    sheets: list[SheetColumns] = field(default_factory=list)


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def normalise_header(text: str) -> str:
    """A header as compared: NFKC, no surrounding spaces or ``*`` marks, lower case."""
    text = unicodedata.normalize("NFKC", text).strip().strip("*").strip()
    return " ".join(text.split()).casefold()


def header_names(column: Column) -> set[str]:
    """The headers a column answers to: its title in Chinese, in English and in the language
    in use, normalised."""
    names = {normalise_header(str(column.header))}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            names.add(normalise_header(str(column.header)))
    return names


def choice_lookup(column: Column) -> dict[str, str]:
    """Stored value by accepted text for a coded column: each label in Chinese, English and
    the language in use, and the stored value itself, as written and as compared (after
    :func:`normalise_header`: look a cell up as written first, then normalised)."""
    lookup: dict[str, str] = {}
    for language in (None, "zh-hans", "en"):
        with translation.override(language) if language else nullcontext():
            for value, label in column.choices:
                lookup.setdefault(str(label), value)
                lookup.setdefault(normalise_header(str(label)), value)
    for value, _label in column.choices:
        lookup.setdefault(value, value)
        lookup.setdefault(normalise_header(value), value)
    return lookup


def parse_date(text: str) -> dt.date | None:
    """A date written as 1975-03-14, 1975/3/14, 1975.3.14, 1975年3月14日 or 19750314; None
    when the text is none of these or not a real date."""
    if len(text) == 10 and text[4] == "-" and text[7] == "-":  # 1975-03-14, the usual case
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            pass
    text = unicodedata.normalize("NFKC", text).strip()
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return dt.date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                return None
    return None


def excel_number(value: float) -> str:
    """A large number as Excel shows it: 6.20723197503141E+17."""
    mantissa, exponent = f"{value:.14E}".split("E")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}E{'+' if int(exponent) >= 0 else '-'}{abs(int(exponent)):02d}"


def lost_digits_message() -> str:
    return _(
        "Excel stored this as a number and kept only 15 digits, so the last digits are lost. "
        "Format the column as Text and type the value again (an ID number must be typed as text)."
    )


def _limits() -> tuple[int, int]:
    return settings.IMPORT_MAX_ROWS, settings.IMPORT_MAX_BYTES


# ---------------------------------------------------------------------------------------------
# The file


def _source_name(source: Source) -> str:
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    return Path(str(getattr(source, "name", "") or "")).name


def _read_bytes(source: Source, max_bytes: int) -> bytes:
    """The file's content, refused (before reading it all) when larger than ``max_bytes``."""
    too_big = TableError(
        _(
            "The file is larger than %(limit)s MB. Split it into several files (for example one per unit) and import them one after the other."
        )
        % {"limit": f"{max_bytes / 1_000_000:g}"}
    )
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if path.stat().st_size > max_bytes:
            raise too_big
        return path.read_bytes()
    size = getattr(source, "size", None)
    if isinstance(size, int) and size > max_bytes:
        raise too_big
    if hasattr(source, "seek"):
        source.seek(0)
    data = source.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise too_big
    return data


def _refuse_type(name: str, data: bytes) -> str:
    """The kind of file (XLSX or CSV) by extension and content, or TableError."""
    suffix = Path(name).suffix.lower()
    head = data[:8]
    if suffix == ".xls" or (head == OLE_MAGIC and suffix != XLSX):
        raise TableError(
            _(
                "This is an old Excel file (.xls). Open it in Excel and save it as an Excel Workbook (.xlsx), then import that file."
            )
        )
    if suffix == XLSX:
        if head == OLE_MAGIC:
            raise TableError(
                _(
                    "This workbook is password-protected. Remove the password in Excel (File → Info → Protect Workbook), save, and import it again."
                )
            )
        if not data.startswith(ZIP_MAGIC):
            raise TableError(
                _(
                    "The file is named .xlsx but is not an Excel workbook. Open it in Excel and save it as an Excel Workbook (.xlsx)."
                )
            )
        return XLSX
    if suffix == CSV:
        if data.startswith(ZIP_MAGIC) or head == OLE_MAGIC or b"\x00" in data[:4096]:
            raise TableError(
                _(
                    "The file is named .csv but is not a text file. Save it from Excel as CSV, or import the .xlsx workbook itself."
                )
            )
        return CSV
    raise TableError(
        _(
            "Import an Excel workbook (.xlsx) or a CSV file (.csv); %(name)s is neither. Download the template, fill it in and import it."
        )
        % {"name": name or _("this file")}
    )


def read_table(
    source: Source,
    columns: Sequence[Column],
    *,
    name: str | None = None,
    max_rows: int | None = None,
    max_bytes: int | None = None,
) -> Table:
    """The data rows of the ledger ``columns`` in ``source`` (see the module's description).
    ``name`` is the file's name when ``source`` does not carry it; the limits default to
    the settings ``IMPORT_MAX_ROWS`` and ``IMPORT_MAX_BYTES``."""
    default_rows, default_bytes = _limits()
    max_rows = default_rows if max_rows is None else max_rows
    max_bytes = default_bytes if max_bytes is None else max_bytes
    name = name or _source_name(source)
    data = _read_bytes(source, max_bytes)
    kind = _refuse_type(name, data)
    matcher = _HeaderMatcher(columns)
    table = Table(name=name)
    sheets = _xlsx_sheets(data, max_rows) if kind == XLSX else [_csv_sheet(data, name)]
    for sheet_name, rows in sheets:
        _read_sheet(table, sheet_name, rows, matcher, max_rows)
    if not table.sheets:
        raise TableError(
            _(
                "No sheet has a header row with the column titles (%(headers)s). Put the titles in the first row, as in the template."
            )
            % {"headers": "、".join(str(c.header) for c in columns)}
        )
    return table


# ---------------------------------------------------------------------------------------------
# Sheets


def _xlsx_sheets(data: bytes, max_rows: int) -> Iterable[tuple[str, list[list[Any]]]]:
    from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum

    damaged = TableError(
        _(
            "The workbook cannot be read: it may be damaged or password-protected. Open it in Excel, save it again as .xlsx and import that file."
        )
    )
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except (CalamineError, ValueError, OSError) as error:
        raise damaged from error
    with workbook:
        for meta in workbook.sheets_metadata:
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue  # chart sheets and macro sheets hold no rows
            try:
                sheet = workbook.get_sheet_by_name(meta.name)
                start = sheet.start
                if start is None:
                    continue  # an empty sheet
                # A sheet taller than the limit allows (with room for titles and blank rows)
                # is refused before its cells are loaded.
                if sheet.height > max_rows * 2 + HEADER_SEARCH_ROWS + 1000:
                    raise _too_many_rows(max_rows)
                rows = sheet.to_python(skip_empty_area=False)
            except (CalamineError, ValueError, OSError) as error:
                raise damaged from error
            yield meta.name, rows


def _csv_sheet(data: bytes, name: str) -> tuple[str, list[list[Any]]]:
    """A CSV file as one sheet named after the file: UTF-8 (with or without BOM), else
    GB18030 (a superset of GBK, which Chinese Excel writes)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise TableError(
                _(
                    "The CSV file is neither UTF-8 nor GBK text. Save it from Excel as “CSV UTF-8” and import it again."
                )
            ) from None
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    sheet = Path(name).stem or name
    return sheet, list(reader)


class _HeaderMatcher:
    def __init__(self, columns: Sequence[Column]) -> None:
        self.columns = list(columns)
        self.by_name: dict[str, str] = {}
        for column in self.columns:
            for header in header_names(column):
                self.by_name.setdefault(header, column.key)
        with translation.override("en"):
            self.english = {normalise_header(str(c.header)) for c in self.columns}

    def language(self, found: dict[str, tuple[int, str, str]]) -> str:
        """The language of a sheet's headers: English when most are English, else Chinese
        (to name a missing column the way the sheet names the others)."""
        english = sum(normalise_header(header) in self.english for _i, _l, header in found.values())
        return "en" if english * 2 > len(found) else "zh-hans"

    def match(self, row: list[Any]) -> dict[str, tuple[int, str, str]]:
        """key → (position, letter, header as written) of the ledger's columns in ``row``."""
        found: dict[str, tuple[int, str, str]] = {}
        for index, value in enumerate(row):
            if not isinstance(value, str) or not value.strip():
                continue
            key = self.by_name.get(normalise_header(value))
            if key is not None and key not in found:
                found[key] = (index, column_letter(index), value.strip())
        return found


def _too_many_rows(max_rows: int) -> TableError:
    return TableError(
        _(
            "The file has more than %(limit)s rows. Split it into several files (for example one per unit) and import them one after the other."
        )
        % {"limit": f"{max_rows:,}"}
    )


def _read_sheet(
    table: Table, sheet: str, rows: list[list[Any]], matcher: _HeaderMatcher, max_rows: int
) -> None:
    """Add the data rows of one sheet to ``table`` (TableError past ``max_rows`` in all)."""
    header_index = -1
    positions: dict[str, tuple[int, str, str]] = {}
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found = matcher.match(row)
        if len(found) >= MIN_HEADER_MATCHES and len(found) > len(positions):
            header_index, positions = index, found
            if len(found) == len(matcher.columns):
                break
    if header_index < 0:
        return
    missing = [c for c in matcher.columns if c.required and c.key not in positions]
    columns = SheetColumns(
        sheet=sheet,
        header_row=header_index + 1,
        positions=positions,
        missing=tuple(c.key for c in missing),
    )
    table.sheets.append(columns)
    with translation.override(matcher.language(positions)):
        headers = [str(column.header) for column in missing]
    for header in headers:
        table.problems.append(
            CellProblem(
                sheet=sheet,
                row=header_index + 1,
                letter="",
                header=header,
                value="",
                message=_(
                    "The required column “%(header)s” is missing. Add it to the header row (copy it from the template)."
                )
                % {"header": header},
            )
        )
    keys = list(positions)
    indexes = [positions[key][0] for key in keys]
    width = max(indexes) + 1
    data_rows = table.rows
    pick = itemgetter(*indexes) if len(indexes) > 1 else lambda raw: (raw[indexes[0]],)
    lost: list[int] = []  # positions in the row of numbers that lost digits

    def convert(value: Any, position: int) -> str:
        text, digits_lost = cell_text(value)
        if digits_lost:
            lost.append(position)
        return text

    no_problems: frozenset[str] = frozenset()
    for number, raw in enumerate(rows[header_index + 1 :], start=header_index + 2):
        if len(raw) < width:
            raw = list(raw) + [""] * (width - len(raw))
        # Most cells are text: strip them, convert the others.
        texts = [
            c.strip() if c.__class__ is str else convert(c, i) for i, c in enumerate(pick(raw))
        ]
        if not any(texts):
            continue  # an empty row (or one with only spaces)
        joined = "".join(texts)
        if "E" in joined or "e" in joined:  # text in scientific notation, from a CSV file
            for position, text in enumerate(texts):
                if position not in lost and cell_text(text)[1]:
                    lost.append(position)
        unreadable = no_problems
        if lost:
            unreadable = frozenset(keys[position] for position in lost)
            for position in lost:
                key = keys[position]
                table.problems.append(
                    CellProblem(
                        sheet=sheet,
                        row=number,
                        letter=positions[key][1],
                        header=positions[key][2],
                        value=texts[position],
                        message=lost_digits_message(),
                    )
                )
            lost.clear()
        if len(data_rows) >= max_rows:
            raise _too_many_rows(max_rows)
        data_rows.append(Row(columns, number, dict(zip(keys, texts, strict=True)), unreadable))


def cell_text(value: Any) -> tuple[str, bool]:
    """A cell's value as text, and whether it is a number that lost digits: a float of 16
    digits or more, or text in scientific notation for a number of 11 digits or more (what
    Excel writes to a CSV file for a long number in a General cell, e.g. 6.20723E+17)."""
    if isinstance(value, str):
        text = value.strip()
        match = _SCIENTIFIC.match(text)
        return text, bool(match and int(match[1]) >= 10)
    if value is None:
        return "", False
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), False
    if isinstance(value, int):
        return str(value), False
    if isinstance(value, float):
        if value.is_integer():
            if abs(value) >= EXCEL_DIGITS_LIMIT:
                return excel_number(value), True
            return str(int(value)), False
        return f"{value:.15g}", False
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat(), False
        return value.isoformat(sep=" ", timespec="seconds"), False
    if isinstance(value, dt.date):
        return value.isoformat(), False
    if isinstance(value, dt.time):
        return value.isoformat(timespec="seconds"), False
    return str(value).strip(), False
