"""The branch report of a day as ``.xlsx`` in the upward format (统一信息报送): sheet 1 the
branch totals per indicator (with the register's sum and the day's figures on top), sheet 2
one row per unit, sheet 3 the abnormal cases. In Chinese, like every file the app writes
(``LEDGER_LANGUAGE``), with the shared workbook options (text is never a formula, a number
never a date); the aggregate is :func:`fangkong.reporting.selectors.branch_aggregate`'s."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import IO, Any

import xlsxwriter
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from fangkong.core.health import symptom_labels
from fangkong.core.tabular.writing import LEDGER_LANGUAGE, WORKBOOK_OPTIONS

from .models import ReportStatus
from .selectors import BranchAggregate

# What an abnormal case is about (the prefill's ``Case.what``).
CASE_WHAT: dict[str, Any] = {
    "fever": gettext_lazy("Fever"),
    "symptoms": gettext_lazy("Symptoms"),
    "referred": gettext_lazy("Referred to hospital"),
    "suspected": gettext_lazy("Suspected case"),
    "confirmed": gettext_lazy("Confirmed case"),
}
# A unit line's status (the report's, or missing / not yet due without a submitted report).
UNIT_STATUS: dict[str, Any] = {
    **dict(ReportStatus.choices),
    "missing": gettext_lazy("Missing"),
    "not_due": gettext_lazy("Not yet due"),
}


def case_rows(cases: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The abnormal cases as the pages show them: with what they are about and the
    symptoms in words."""
    return [
        {
            **case,
            "what_label": CASE_WHAT.get(case.get("what", ""), case.get("what", "")),
            "symptoms_text": symptom_labels(case.get("symptoms") or []),
        }
        for case in cases
    ]


def sheet_names() -> list[str]:
    """The three sheets, in the language of the moment (Chinese when writing)."""
    return [_("Branch totals"), _("Units"), _("Abnormal cases")]


def unit_headers(aggregate: BranchAggregate) -> list[str]:
    return [
        _("Unit code"),
        _("Unit"),
        _("Status"),
        _("First submitted"),
        _("Late"),
        _("Nothing to report"),
        _("Counted"),
        *(line.name for line in aggregate.lines),
    ]


def case_headers() -> list[str]:
    return [
        _("Unit code"),
        _("Unit"),
        _("Name"),
        _("Temperature °C"),
        _("Symptoms"),
        _("What"),
        _("Action taken"),
        _("Not resolved"),
    ]


def branch_filename(aggregate: BranchAggregate) -> str:
    """``每日零报告汇总-临泽分公司-2020-02-05.xlsx``: in Chinese, like the file."""
    with translation.override(LEDGER_LANGUAGE):
        title = _("Daily zero report summary")
    where = f"-{aggregate.branch.name}" if aggregate.branch is not None else ""
    return f"{title}{where}-{aggregate.day.isoformat()}.xlsx"


def write_branch_report(target: str | IO[bytes], aggregate: BranchAggregate) -> None:
    """Write the three sheets of the upward format for ``aggregate``."""
    workbook = xlsxwriter.Workbook(target, WORKBOOK_OPTIONS)
    try:
        with translation.override(LEDGER_LANGUAGE):
            _Writer(workbook, aggregate).write()
    finally:
        workbook.close()


def _temperature(value: Any) -> float | str:
    """A case's temperature ("38.1") as a number, as it is typed when it is not one."""
    try:
        return float(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return str(value or "")


def _yes(value: bool) -> str:
    return _("Yes") if value else _("No")


class _Writer:
    def __init__(self, workbook: xlsxwriter.Workbook, aggregate: BranchAggregate) -> None:
        self.workbook = workbook
        self.aggregate = aggregate
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self.label = workbook.add_format({"bold": True})
        self.header = workbook.add_format(
            {"bold": True, "bg_color": "#F2F2F2", "bottom": 1, "text_wrap": True, "valign": "top"}
        )
        self.text = workbook.add_format({"num_format": "@", "valign": "top"})
        self.number = workbook.add_format({"num_format": "0", "valign": "top"})
        self.total = workbook.add_format({"num_format": "0", "bold": True, "top": 1})
        self.when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm", "valign": "top"})
        self.temperature = workbook.add_format({"num_format": "0.0", "valign": "top"})

    def write(self) -> None:
        totals, units, cases = sheet_names()
        self._totals(self.workbook.add_worksheet(totals))
        self._units(self.workbook.add_worksheet(units))
        self._cases(self.workbook.add_worksheet(cases))

    def _cell(self, sheet: Any, row: int, col: int, value: Any) -> None:
        if value is None or value == "":
            return
        if isinstance(value, bool):
            sheet.write_string(row, col, _yes(value), self.text)
        elif isinstance(value, float):
            sheet.write_number(row, col, value, self.temperature)
        elif isinstance(value, int):
            sheet.write_number(row, col, value, self.number)
        elif isinstance(value, dt.datetime):
            local = timezone.localtime(value).replace(tzinfo=None)
            sheet.write_datetime(row, col, local, self.when)
        else:
            sheet.write_string(row, col, str(value), self.text)

    def _header(self, sheet: Any, row: int, headers: Sequence[str]) -> None:
        for col, header in enumerate(headers):
            sheet.write_string(row, col, header, self.header)

    def _totals(self, sheet: Any) -> None:
        aggregate = self.aggregate
        sheet.set_column(0, 0, 22)
        sheet.set_column(1, 1, 26)
        sheet.set_column(2, 4, 14)
        branch = aggregate.branch.name if aggregate.branch is not None else ""
        sheet.write_string(0, 0, f"{branch}{_('Daily zero report summary')}".strip(), self.title)
        facts: list[tuple[str, Any]] = [
            (_("Date"), aggregate.day.isoformat()),
            (_("Branch"), branch),
            (_("Units expected"), aggregate.expected),
            (_("Reports received"), aggregate.received),
            (_("Reports approved (counted)"), aggregate.approved),
            (_("Units missing"), len(aggregate.missing)),
        ]
        approval = aggregate.approval
        if approval is not None:
            facts += [
                (_("Approved by"), str(approval.approved_by or "")),
                (_("Approved at"), approval.approved_at),
                (_("Note"), approval.note),
            ]
        else:
            facts.append((_("Approved by"), _("Not approved yet")))
        row = 1
        for name, value in facts:
            sheet.write_string(row, 0, name, self.label)
            self._cell(sheet, row, 1, value)
            row += 1
        row += 1
        self.totals_header_row = row
        self._header(sheet, row, [_("Code"), _("Indicator"), _("Total"), _("Register total")])
        for line in aggregate.lines:
            row += 1
            sheet.write_string(row, 0, line.code, self.text)
            sheet.write_string(row, 1, line.name, self.text)
            self._cell(sheet, row, 2, line.total)
            self._cell(sheet, row, 3, line.register)
        sheet.freeze_panes(self.totals_header_row + 1, 0)
        self._print(sheet)

    def _units(self, sheet: Any) -> None:
        aggregate = self.aggregate
        headers = unit_headers(aggregate)
        sheet.set_column(0, 0, 12)
        sheet.set_column(1, 1, 18)
        sheet.set_column(2, 6, 11)
        sheet.set_column(7, len(headers) - 1, 12)
        self._header(sheet, 0, headers)
        sheet.freeze_panes(1, 2)
        row = 0
        for unit in aggregate.units:
            row += 1
            cells = [
                unit.unit.code,
                unit.unit.name,
                str(UNIT_STATUS.get(unit.status, unit.status)),
                unit.submitted_at,
                unit.late if unit.submitted_at is not None else None,
                unit.nothing_to_report if unit.submitted_at is not None else None,
                unit.counted,
                *(unit.values.get(line.code) for line in aggregate.lines),
            ]
            for col, value in enumerate(cells):
                self._cell(sheet, row, col, value)
        row += 1
        sheet.write_string(row, 1, _("Total (approved reports)"), self.label)
        for col, line in enumerate(aggregate.lines, start=7):
            if line.total is not None:
                sheet.write_number(row, col, line.total, self.total)
        self._print(sheet)

    def _cases(self, sheet: Any) -> None:
        headers = case_headers()
        for col, width in enumerate((12, 18, 10, 10, 18, 14, 30, 8)):
            sheet.set_column(col, col, width)
        self._header(sheet, 0, headers)
        sheet.freeze_panes(1, 0)
        for row, case in enumerate(self.aggregate.cases, start=1):
            unit = case.get("unit") or {}
            cells = [
                unit.get("code", ""),
                unit.get("name", ""),
                case.get("name", ""),
                _temperature(case.get("temperature")),
                symptom_labels(case.get("symptoms") or []),
                str(CASE_WHAT.get(case.get("what", ""), case.get("what", ""))),
                case.get("action", ""),
                bool(case.get("open")),
            ]
            for col, value in enumerate(cells):
                self._cell(sheet, row, col, value)
        self._print(sheet)

    def _print(self, sheet: Any) -> None:
        sheet.set_paper(9)  # A4
        sheet.set_landscape()
        sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
        sheet.fit_to_pages(1, 0)
