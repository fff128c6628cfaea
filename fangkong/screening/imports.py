"""Importing a list of risk areas (风险地区名单) from Excel or CSV: all or nothing.

One row is one period of one region: its GB/T 2260 code, the level (高/中/低, 高风险…, or
high/medium/low), the first day and, optionally, the last day and a note. Every row is
checked; any problem, with its row number, column letter and what to do, and nothing is
written. The rules are the services' own: each row goes through
:func:`fangkong.screening.services.set_risk_level` inside one transaction (so an open period
of a region that started earlier ends the day before the row's start, and any other overlap
with a stored period is refused), and the transaction is rolled back if any row fails.

What only a file has is checked here first: required cells, unknown codes, levels written
another way, dates typed as text, an end before the start, and two rows of one region that
share a day (an open row runs on for ever: give the earlier row its last day).

Importing the same file again changes nothing: a row equal to a stored period (region, level,
start and end) is left as it is; a row that gives the last day of a stored open period with
the same region, level and start ends that period.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.core.permissions import Perm
from fangkong.core.scoping import has_perm
from fangkong.core.tabular.columns import Column
from fangkong.core.tabular.reading import (
    Row,
    Source,
    TableError,
    choice_lookup,
    normalise_header,
    parse_date,
    read_table,
)
from fangkong.core.tabular.writing import Target, TemplateSheet, build_template
from fangkong.org.imports import ImportProblem
from fangkong.org.models import User

from . import services
from .models import Region, RiskAreaPeriod, RiskLevel

SHEET = gettext_lazy("Risk areas")
INSTRUCTIONS_SHEET = gettext_lazy("Instructions")
NOTE_LENGTH = 200

COLUMNS: tuple[Column, ...] = (
    Column(
        "region_code",
        gettext_lazy("region code"),
        meaning=gettext_lazy("The province, prefecture or county (GB/T 2260)."),
        format=gettext_lazy("6 digits, e.g. 420106."),
        required=True,
        example="420106",
        width=12,
    ),
    Column(
        "level",
        gettext_lazy("risk level"),
        meaning=gettext_lazy("The risk level the region held."),
        format=gettext_lazy("高, 中 or 低 (or high, medium, low)."),
        required=True,
        choices=RiskLevel.choices,
        example=str(RiskLevel.HIGH.label),
        width=10,
    ),
    Column(
        "start",
        gettext_lazy("from"),
        meaning=gettext_lazy("The first day at this level."),
        format=gettext_lazy("A date, e.g. 2020-01-23."),
        required=True,
        example="2020-01-23",
        width=12,
    ),
    Column(
        "end",
        gettext_lazy("until"),
        meaning=gettext_lazy("The last day at this level; empty while it holds."),
        format=gettext_lazy("A date, e.g. 2020-03-31, or empty."),
        example="",
        width=12,
    ),
    Column(
        "note",
        gettext_lazy("note"),
        meaning=gettext_lazy("Where the decision comes from, e.g. the notice."),
        format=gettext_lazy("Text, at most 200 characters."),
        example="",
        width=30,
    ),
)
DATE_KEYS = ("start", "end")
TEMPLATE_NOTES = (
    gettext_lazy(
        "One row per region and period. A region's open period that started earlier ends on "
        "the day before a new row's start; two rows of one region must not share a day."
    ),
    gettext_lazy("All or nothing: with any problem in the file, nothing is imported."),
)
# The short forms a list usually has, besides the labels (高风险) and values (high).
_SHORT_LEVELS = {"高": RiskLevel.HIGH, "中": RiskLevel.MEDIUM, "低": RiskLevel.LOW}


@dataclass
class RiskAreaImportReport:
    file_name: str
    rows: int = 0
    created: int = 0
    ended: int = 0
    unchanged: int = 0
    problems: list[ImportProblem] = field(default_factory=list)
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        return _(
            "%(file)s: %(rows)d rows; %(created)d periods added, %(ended)d ended, "
            "%(unchanged)d already there."
        ) % {
            "file": self.file_name,
            "rows": self.rows,
            "created": self.created,
            "ended": self.ended,
            "unchanged": self.unchanged,
        }


def describe_problem(problem: ImportProblem) -> str:
    """``风险地区, row 3, column B (风险等级): 极高 — Write 高, 中 or 低…`` (the sheet, row,
    column and value as far as the problem has them)."""
    parts = [problem.sheet] if problem.sheet else []
    if problem.row is not None:
        parts.append(_("row %(row)s") % {"row": problem.row})
    if problem.letter or problem.column:
        parts.append(
            _("column %(letter)s (%(header)s)")
            % {"letter": problem.letter, "header": problem.column}
            if problem.letter
            else problem.column
        )
    where = ", ".join(parts)
    what = f"{problem.value} — {problem.message}" if problem.value else problem.message
    return f"{where}: {what}" if where else what


@dataclass
class _Line:
    row: Row
    region: Region
    level: str
    start: dt.date
    end: dt.date | None
    note: str


class _Rollback(Exception):
    """Raised inside the transaction to undo it (a problem, or a dry run)."""


def import_risk_areas(
    *, actor: User | None, source: Source, name: str | None = None, dry_run: bool = False
) -> RiskAreaImportReport:
    """Check ``source`` and, with no problem at all and unless ``dry_run``, write every row
    in one transaction. ``actor`` None is the operator (the command line)."""
    if actor is not None and not has_perm(actor, Perm.RISK_AREAS_MANAGE):
        raise PermissionDenied
    report = RiskAreaImportReport(file_name=name or _file_name(source))
    try:
        table = read_table(source, COLUMNS, name=name)
    except TableError as error:
        report.problems.append(ImportProblem("", None, "", "", error.message))
        return report
    report.file_name = table.name
    report.rows = len(table.rows)
    for cell in table.problems:
        report.problems.append(
            ImportProblem(cell.sheet, cell.row, cell.header, cell.value, cell.message, cell.letter)
        )
    if any(p.row is not None and not p.letter for p in report.problems):
        return report  # a required column is missing: its cells cannot be judged
    lines = _check_rows(table.rows, report.problems)
    # The rows without a problem of their own go through the services too (and are rolled
    # back), so that overlaps with stored periods are reported with the file's problems.
    clashing = _check_overlaps(lines, report.problems)
    lines = [line for line in lines if (line.row.sheet, line.row.number) not in clashing]
    try:
        with transaction.atomic():
            _write(actor, lines, report)
            if report.problems or dry_run:
                raise _Rollback
    except _Rollback:
        _sort(report)
        return report
    report.committed = True
    return report


def write_template(target: Target) -> None:
    """The import template: the list sheet with an example row, and the instructions."""
    build_template(
        target,
        TemplateSheet(SHEET, COLUMNS, date_keys=DATE_KEYS),
        instructions_name=INSTRUCTIONS_SHEET,
        notes=TEMPLATE_NOTES,
    )


def template_filename() -> str:
    return _("risk-areas-template.xlsx")


# ---------------------------------------------------------------------------------------------
# Checks


def _file_name(source: Source) -> str:
    if isinstance(source, str | os.PathLike):
        return Path(source).name
    return Path(str(getattr(source, "name", "") or "")).name


def _problem(row: Row, key: str, message: str) -> ImportProblem:
    cell = row.cell(key)
    header = cell.header or next(str(c.header) for c in COLUMNS if c.key == key)
    return ImportProblem(cell.sheet, cell.row, header, cell.value, message, cell.letter)


def _levels() -> dict[str, str]:
    lookup = choice_lookup(COLUMNS[1])
    for text, level in _SHORT_LEVELS.items():
        lookup.setdefault(text, level.value)
    return lookup


def _check_rows(rows: list[Row], problems: list[ImportProblem]) -> list[_Line]:
    codes = {r.values.get("region_code", "") for r in rows}
    regions = Region.objects.select_related("parent__parent").in_bulk(
        [c for c in codes if len(c) == 6 and c.isdigit()]
    )
    levels = _levels()
    lines: list[_Line] = []
    for row in rows:
        found = len(problems)
        unreadable = bool(row.unreadable & {"region_code", "start", "end"})
        if "region_code" in row.unreadable:
            region = None
        else:
            code = row.values.get("region_code", "")
            region = regions.get(code)
            if not code:
                problems.append(_problem(row, "region_code", _("Enter the 6-digit region code.")))
            elif region is None:
                problems.append(
                    _problem(
                        row,
                        "region_code",
                        _(
                            "No region has this code. Enter the 6-digit GB/T 2260 code of the "
                            "province, prefecture or county, e.g. 420106 (look it up on the "
                            "risk-area page by the region's name)."
                        ),
                    )
                )
        text = row.values.get("level", "")
        level = levels.get(text) or levels.get(normalise_header(text))
        if level is None:
            problems.append(
                _problem(
                    row,
                    "level",
                    _("Write 高, 中 or 低 (or high, medium, low).")
                    if text
                    else _("Enter the risk level: 高, 中 or 低."),
                )
            )
        start = _date(row, "start", problems, required=True)
        end = _date(row, "end", problems, required=False)
        if start is not None and end is not None and end < start:
            problems.append(
                _problem(row, "end", _("The end date cannot be before the start date."))
            )
        note = row.values.get("note", "")
        if len(note) > NOTE_LENGTH:
            problems.append(
                _problem(row, "note", _("At most %(limit)s characters.") % {"limit": NOTE_LENGTH})
            )
        if len(problems) == found and not unreadable:
            assert region is not None and level is not None and start is not None
            lines.append(_Line(row, region, level, start, end, note))
    return lines


def _date(row: Row, key: str, problems: list[ImportProblem], *, required: bool) -> dt.date | None:
    text = row.values.get(key, "")
    if not text or key in row.unreadable:
        if required and not text:
            problems.append(_problem(row, key, _("Enter the first day, e.g. 2020-01-23.")))
        return None
    day = parse_date(text)
    if day is None:
        problems.append(_problem(row, key, _("Write the date as YYYY-MM-DD, e.g. 2020-01-23.")))
    return day


def _check_overlaps(lines: list[_Line], problems: list[ImportProblem]) -> set[tuple[str, int]]:
    """Two rows of one region sharing a day: the later row (in the file) is the problem.
    Returns the rows found so (sheet, row number)."""
    clashing: set[tuple[str, int]] = set()
    by_region: dict[str, list[_Line]] = {}
    for line in lines:
        for other in by_region.get(line.region.code, []):
            if _share_a_day(line, other):
                problems.append(
                    _problem(
                        line.row,
                        "start",
                        _(
                            "Row %(row)s already sets %(region)s from %(start)s to "
                            "%(end)s, which shares days with this row. Give the earlier period "
                            "its last day (until), or remove one of the rows."
                        )
                        % {
                            "row": other.row.number,
                            "region": line.region.name,
                            "start": other.start.isoformat(),
                            "end": other.end.isoformat() if other.end else "—",
                        },
                    )
                )
                clashing.add((line.row.sheet, line.row.number))
                break
        by_region.setdefault(line.region.code, []).append(line)
    return clashing


def _share_a_day(a: _Line, b: _Line) -> bool:
    return (a.end is None or b.start <= a.end) and (b.end is None or a.start <= b.end)


def _sort(report: RiskAreaImportReport) -> None:
    report.problems.sort(key=lambda p: (p.sheet, p.row or 0, len(p.letter), p.letter, p.column))


# ---------------------------------------------------------------------------------------------
# Writing


_FIELD_COLUMNS = {"level": "level", "start": "start", "end": "end", "note": "note"}


def _write(actor: User | None, lines: list[_Line], report: RiskAreaImportReport) -> None:
    """Each row through the service, earliest start first per region (so that an earlier open
    period is closed by a later one, as the office means it); a row's ValidationError
    becomes a problem at its cell."""
    stored: dict[tuple[str, dt.date, str], list[RiskAreaPeriod]] = {}
    for period in RiskAreaPeriod.objects.filter(region__in={line.region.code for line in lines}):
        stored.setdefault((period.region_id, period.start, period.level), []).append(period)
    for line in sorted(lines, key=lambda item: (item.region.code, item.start)):
        same = stored.get((line.region.code, line.start, line.level), [])
        if any(p.end == line.end for p in same):
            report.unchanged += 1
            continue
        try:
            if line.end is not None and any(p.end is None for p in same):
                services.end_risk_period(actor=actor, region=line.region, end=line.end)
                report.ended += 1
                continue
            services.set_risk_level(
                actor=actor,
                region=line.region,
                level=line.level,
                start=line.start,
                end=line.end,
                note=line.note,
            )
            report.created += 1
        except ValidationError as error:
            report.problems.extend(_row_problems(line.row, error))


def _row_problems(row: Row, error: ValidationError) -> list[ImportProblem]:
    found: list[ImportProblem] = []
    if hasattr(error, "error_dict"):
        for name, messages in error.message_dict.items():
            key = _FIELD_COLUMNS.get(name, "region_code")
            found.extend(_problem(row, key, message) for message in messages)
    else:
        found.extend(_problem(row, "region_code", message) for message in error.messages)
    return found
