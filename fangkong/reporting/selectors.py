"""Shared reads of the daily report, always through the user's scope: the reports, the
versions of one report and what changed between them, the completeness and timeliness of a
period (a calendar matrix and DHIS2-style rates) and the branch report of a day. Each read
costs a fixed number of queries, whatever the number of units, days and reports."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, F, FilteredRelation, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from fangkong.core.permissions import Perm
from fangkong.core.scoping import has_perm, restrict, scope_for, units_in_scope
from fangkong.org.models import OrgUnit

from .models import BranchReport, Indicator, ReportStatus, ReportValue, ReportVersion, UnitReport
from .rules import current_rules, deadline_of, is_due

# The longest period the completeness matrix covers (a year).
MAX_DAYS = 366


def indicators(*, include_retired: bool = False) -> QuerySet[Indicator]:
    """The report's indicators in order (those in force, or all of them)."""
    found = Indicator.objects.all()
    if not include_retired:
        found = found.filter(is_active=True)
    return found.order_by("order", "pk")


def reports_for(
    user: Any,
    *,
    day: dt.date | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    unit: OrgUnit | None = None,
    status: str = "",
    kind: str = "",
) -> QuerySet[UnitReport]:
    """The reports the user may see, newest day first (then in the tree's order): for one
    day or a period, in a unit's subtree, of a status, of units or of grids (``kind``)."""
    reports = restrict(UnitReport.objects.all(), user)
    if day is not None:
        reports = reports.filter(day=day)
    if start is not None:
        reports = reports.filter(day__gte=start)
    if end is not None:
        reports = reports.filter(day__lte=end)
    if unit is not None:
        reports = reports.filter(unit__path__startswith=unit.path)
    if status:
        reports = reports.filter(status=status)
    if kind:
        reports = reports.filter(unit__kind=kind)
    return reports.select_related("unit", "filled_by", "reviewed_by", "current").order_by(
        "-day", "unit__path", "pk"
    )


def versions_of(report: UnitReport) -> list[ReportVersion]:
    """The submitted versions of ``report``, oldest first, with who submitted and reviewed."""
    return list(
        ReportVersion.objects.filter(report=report, submitted_at__isnull=False)
        .select_related("submitted_by", "reviewed_by")
        .order_by("number")
    )


def draft_of(report: UnitReport) -> ReportVersion | None:
    return ReportVersion.objects.filter(report=report, submitted_at__isnull=True).first()


@dataclass(frozen=True)
class Change:
    """One line that differs between two versions: an indicator (by code), the "nothing to
    report" mark, the notes or an abnormal case (``person:<id>``)."""

    field: str
    label: str
    before: Any
    after: Any


def version_diff(before: ReportVersion | None, after: ReportVersion) -> list[Change]:
    """What ``after`` changed from ``before`` (everything, when it is the first version)."""
    old = {line["code"]: line for line in (before.snapshot if before else [])}
    new = {line["code"]: line for line in after.snapshot}
    changes = []
    for code in list(new) + [c for c in old if c not in new]:
        was, now = old.get(code), new.get(code)
        if was is not None and now is not None and was.get("value") == now.get("value"):
            continue
        label = (now or was or {}).get("name", code)
        changes.append(
            Change(
                code,
                label,
                was.get("value") if was else None,
                now.get("value") if now else None,
            )
        )
    if before is None or before.nothing_to_report != after.nothing_to_report:
        changes.append(
            Change(
                "nothing_to_report",
                _("Nothing to report"),
                before.nothing_to_report if before else None,
                after.nothing_to_report,
            )
        )
    if (before.notes if before else "") != after.notes:
        changes.append(
            Change(
                "notes", pgettext("report", "Notes"), before.notes if before else "", after.notes
            )
        )
    old_cases = {c["person_id"]: c for c in (before.cases if before else [])}
    new_cases = {c["person_id"]: c for c in after.cases}
    for person_id in list(new_cases) + [p for p in old_cases if p not in new_cases]:
        was_case, now_case = old_cases.get(person_id), new_cases.get(person_id)
        if was_case == now_case:
            continue
        name = (now_case or was_case or {}).get("name", "")
        changes.append(
            Change(
                f"person:{person_id}",
                name,
                was_case.get("action") if was_case else None,
                now_case.get("action") if now_case else None,
            )
        )
    return changes


# ---------------------------------------------------------------------------------------------
# Completeness and timeliness


class Cell:
    """Where a unit's report of a day stands."""

    ON_TIME = "on_time"
    LATE = "late"
    MISSING = "missing"
    RETURNED = "returned"  # received, sent back for correction
    NOT_DUE = "not_due"  # no report yet, the deadline has not passed

    RECEIVED = frozenset({ON_TIME, LATE, RETURNED})


@dataclass
class Rate:
    """DHIS2 style: reports received ÷ expected and on time ÷ expected. Expected: the days
    whose deadline has passed, and those already reported before it."""

    expected: int = 0
    received: int = 0
    on_time: int = 0

    @property
    def completeness(self) -> float | None:
        """Reports received ÷ expected, in per cent (None when nothing was expected)."""
        return round(100 * self.received / self.expected, 1) if self.expected else None

    @property
    def timeliness(self) -> float | None:
        """Reports received on time ÷ expected, in per cent."""
        return round(100 * self.on_time / self.expected, 1) if self.expected else None


@dataclass
class UnitRow:
    unit: OrgUnit
    cells: list[str]
    reports: list[int | None]  # the report of each day (its id), for links
    rate: Rate


@dataclass
class Completeness:
    start: dt.date
    end: dt.date
    days: list[dt.date]
    rows: list[UnitRow]
    rate: Rate  # over every unit and day

    def counts(self) -> dict[str, int]:
        """How many cells of each kind."""
        found: dict[str, int] = defaultdict(int)
        for row in self.rows:
            for cell in row.cells:
                found[cell] += 1
        return dict(found)


def _clean_period(start: dt.date, end: dt.date) -> list[dt.date]:
    if end < start:
        raise ValidationError({"end": _("The period must end on or after its start.")})
    days = (end - start).days + 1
    if days > MAX_DAYS:
        raise ValidationError(
            {"end": _("Choose at most %(days)d days at a time.") % {"days": MAX_DAYS}}
        )
    return [start + dt.timedelta(days=i) for i in range(days)]


def reporting_units(user: Any, *, under: OrgUnit | None = None) -> QuerySet[OrgUnit]:
    """The active units (kind unit) whose reports the user may see, in the tree's order."""
    units = units_in_scope(user, Perm.REPORTING_VIEW).filter(kind=OrgUnit.Kind.UNIT)
    if under is not None:
        units = units.filter(path__startswith=under.path)
    return units.order_by("path")


def completeness_matrix(
    user: Any,
    start: dt.date,
    end: dt.date,
    *,
    unit: OrgUnit | None = None,
    now: dt.datetime | None = None,
) -> Completeness:
    """Per unit and day: on time, late, missing, returned (received, sent back for
    correction; on time or not by its first submission), or not yet due; with the rates per
    unit and overall. Three queries (rules, units, reports) after the user's scope."""
    days = _clean_period(start, end)
    now = now or timezone.now()
    rules = current_rules()
    due = [is_due(day, now, rules) for day in days]
    units_qs = reporting_units(user, under=unit)
    units = list(units_qs)
    rows = UnitReport.objects.filter(
        unit__in=units_qs.values("pk"),
        day__gte=start,
        day__lte=end,
        first_submitted_at__isnull=False,  # a draft is no report
    ).values_list("unit_id", "day", "pk", "status", "late")
    found: dict[int, dict[dt.date, tuple[int, str, bool]]] = defaultdict(dict)
    for unit_id, day, pk, status, late in rows:
        found[unit_id][day] = (pk, status, late)
    overall = Rate()
    result = []
    for reporting_unit in units:
        mine = found.get(reporting_unit.pk, {})
        rate = Rate()
        cells = []
        ids: list[int | None] = []
        for day, is_past in zip(days, due, strict=True):
            row = mine.get(day)
            if row is None:
                cells.append(Cell.MISSING if is_past else Cell.NOT_DUE)
                ids.append(None)
                rate.expected += is_past
                continue
            pk, status, late = row
            if status == ReportStatus.RETURNED:
                cells.append(Cell.RETURNED)
            else:
                cells.append(Cell.LATE if late else Cell.ON_TIME)
            ids.append(pk)
            rate.expected += 1
            rate.received += 1
            rate.on_time += not late
        overall.expected += rate.expected
        overall.received += rate.received
        overall.on_time += rate.on_time
        result.append(UnitRow(reporting_unit, cells, ids, rate))
    return Completeness(start, end, days, result, overall)


@dataclass
class Rates:
    start: dt.date
    end: dt.date
    units: list[tuple[OrgUnit, Rate]]
    overall: Rate


def rates(
    user: Any,
    start: dt.date,
    end: dt.date,
    *,
    unit: OrgUnit | None = None,
    now: dt.datetime | None = None,
) -> Rates:
    """Completeness (received ÷ expected) and timeliness (on time ÷ expected) over a period,
    per unit and overall."""
    matrix = completeness_matrix(user, start, end, unit=unit, now=now)
    return Rates(start, end, [(row.unit, row.rate) for row in matrix.rows], matrix.rate)


# ---------------------------------------------------------------------------------------------
# The branch report


@dataclass
class Line:
    """One indicator of the branch report: the sum of the approved reports (counts) and of
    the register's values they were filed with."""

    code: str
    name: str
    kind: str
    total: int | None
    register: int | None


@dataclass
class UnitLine:
    unit: OrgUnit
    report_id: int | None
    status: str  # the report's status, or "missing" / "not_due" without a submitted report
    submitted_at: dt.datetime | None
    late: bool
    nothing_to_report: bool
    counted: bool  # approved: in the totals
    values: dict[str, Any] = field(default_factory=dict)  # by code, when counted


@dataclass
class Difference:
    unit: OrgUnit
    code: str
    name: str
    value: int
    register: int
    reason: str


@dataclass
class BranchAggregate:
    day: dt.date
    branch: OrgUnit | None
    lines: list[Line]
    units: list[UnitLine]
    cases: list[dict[str, Any]]  # the abnormal cases of the approved reports, with "unit"
    missing: list[OrgUnit]  # units due without a submitted report
    differences: list[Difference]
    approval: BranchReport | None

    @property
    def expected(self) -> int:
        return len(self.units)

    @property
    def received(self) -> int:
        return sum(1 for u in self.units if u.submitted_at is not None)

    @property
    def approved(self) -> int:
        return sum(1 for u in self.units if u.counted)

    def as_dict(self, *, with_approval: bool = True) -> dict[str, Any]:
        """The aggregate in plain JSON-ready values (the API's answer, the approval's
        snapshot)."""

        def ref(unit: OrgUnit) -> dict[str, Any]:
            return {"id": unit.pk, "code": unit.code, "name": unit.name}

        def moment(value: dt.datetime | None) -> str | None:
            return timezone.localtime(value).isoformat() if value is not None else None

        data: dict[str, Any] = {
            "day": self.day.isoformat(),
            "branch": ref(self.branch) if self.branch is not None else None,
            "expected": self.expected,
            "received": self.received,
            "approved": self.approved,
            "totals": [
                {
                    "code": line.code,
                    "name": line.name,
                    "kind": line.kind,
                    "total": line.total,
                    "in_register": line.register,
                }
                for line in self.lines
            ],
            "units": [
                {
                    "unit": ref(u.unit),
                    "report_id": u.report_id,
                    "status": u.status,
                    "submitted_at": moment(u.submitted_at),
                    "late": u.late,
                    "nothing_to_report": u.nothing_to_report,
                    "counted": u.counted,
                    "values": u.values,
                }
                for u in self.units
            ],
            "cases": self.cases,
            "missing": [ref(unit) for unit in self.missing],
            "differences": [
                {
                    "unit": ref(d.unit),
                    "code": d.code,
                    "name": d.name,
                    "value": d.value,
                    "in_register": d.register,
                    "reason": d.reason,
                }
                for d in self.differences
            ],
        }
        if with_approval:
            approval = self.approval
            data["approval"] = (
                {
                    "approved_at": moment(approval.approved_at),
                    "approved_by": str(approval.approved_by) if approval.approved_by else "",
                    "note": approval.note,
                }
                if approval is not None
                else None
            )
        return data


def _branch_of(user: Any, units: list[OrgUnit], branch: OrgUnit | None) -> OrgUnit | None:
    """The branch the aggregate is of: the one asked for, or the one above all the units,
    when the user may see it (a unit head does not: no query then)."""
    scope = scope_for(user, Perm.REPORTING_VIEW)
    if branch is not None:
        return branch if scope.covers(branch) else None
    tops = {unit.path_ids[0] for unit in units if unit.path_ids}
    if len(tops) != 1:
        return None
    top = tops.pop()
    if not scope.covers(OrgUnit(pk=top, path=OrgUnit.child_path("", top))):
        return None
    return OrgUnit.objects.filter(pk=top, kind=OrgUnit.Kind.BRANCH).first()


def branch_aggregate(
    user: Any,
    day: dt.date,
    *,
    branch: OrgUnit | None = None,
    now: dt.datetime | None = None,
) -> BranchAggregate:
    """The branch report of ``day`` over the units the user may see (of ``branch``, when
    given): per indicator the sum of the APPROVED unit reports (a report submitted but not
    approved, or returned, is not counted), one line per unit, the abnormal cases of the
    approved reports, the units still missing and the differences from the register; with
    the leader's approval when the user may see the branch. A fixed number of queries."""
    now = now or timezone.now()
    rules = current_rules()
    units_qs = reporting_units(user, under=branch)
    units = list(units_qs)
    reports = UnitReport.objects.filter(day=day, unit__in=units_qs.values("pk")).values_list(
        "unit_id",
        "pk",
        "status",
        "first_submitted_at",
        "late",
        "nothing_to_report",
        "current_id",
        "current__cases",
    )
    by_unit = {row[0]: row[1:] for row in reports}
    approved = {  # the current version of each approved report → its unit
        current: unit_id
        for unit_id, (_pk, status, _first, _late, _nothing, current, _cases) in by_unit.items()
        if status == ReportStatus.APPROVED and current is not None
    }
    every = {i.pk: i for i in Indicator.objects.all()}
    values = ReportValue.objects.filter(version_id__in=list(approved)).values_list(
        "version_id", "indicator_id", "number", "text", "register", "reason"
    )
    by_id = {unit.pk: unit for unit in units}
    totals: dict[int, Line] = {}
    unit_values: dict[int, dict[str, Any]] = defaultdict(dict)
    differences = []
    used: set[int] = set()
    for version_id, indicator_id, number, text, register, reason in values:
        indicator = every[indicator_id]
        used.add(indicator_id)
        unit_id = approved[version_id]
        if not indicator.is_count:
            unit_values[unit_id][indicator.code] = text
            continue
        unit_values[unit_id][indicator.code] = number
        line = totals.get(indicator_id)
        if line is None:
            line = totals[indicator_id] = Line(
                indicator.code, indicator.name, indicator.kind, 0, None
            )
        line.total = (line.total or 0) + (number or 0)
        if register is not None:
            line.register = (line.register or 0) + register
            if number is not None and number != register:
                differences.append(
                    Difference(
                        by_id[unit_id], indicator.code, indicator.name, number, register, reason
                    )
                )
    lines = []
    shown = [i for i in every.values() if i.is_active or i.pk in used]
    for indicator in sorted(shown, key=lambda i: (i.order, i.pk)):
        if indicator.pk in totals:
            lines.append(totals[indicator.pk])
        else:
            total = 0 if indicator.is_count else None
            lines.append(Line(indicator.code, indicator.name, indicator.kind, total, None))
    order = {indicator.code: indicator.order for indicator in every.values()}
    differences.sort(key=lambda d: (d.unit.path, order.get(d.code, 0), d.code))
    due = is_due(day, now, rules)
    unit_lines: list[UnitLine] = []
    missing: list[OrgUnit] = []
    cases: list[dict[str, Any]] = []
    for unit in units:
        row = by_unit.get(unit.pk)
        if row is None or row[2] is None:  # no report, or a draft only
            status = "missing" if due else "not_due"
            if due:
                missing.append(unit)
            unit_lines.append(
                UnitLine(unit, row[0] if row else None, status, None, False, False, False)
            )
            continue
        pk, status, first, late, nothing, current, filed_cases = row
        counted = current in approved
        unit_lines.append(
            UnitLine(
                unit=unit,
                report_id=pk,
                status=status,
                submitted_at=first,
                late=late,
                nothing_to_report=nothing,
                counted=counted,
                values=dict(unit_values.get(unit.pk, {})),
            )
        )
        if counted:
            ref = {"id": unit.pk, "code": unit.code, "name": unit.name}
            cases.extend({**case, "unit": ref} for case in filed_cases or [])
    the_branch = _branch_of(user, units, branch)
    approval = None
    if the_branch is not None:
        approval = (
            BranchReport.objects.select_related("approved_by")
            .filter(branch=the_branch, day=day)
            .first()
        )
    return BranchAggregate(
        day=day,
        branch=the_branch,
        lines=lines,
        units=unit_lines,
        cases=cases,
        missing=missing,
        differences=differences,
        approval=approval,
    )


def deadline_for(day: dt.date) -> dt.datetime:
    """When ``day``'s reports are due under the rules in force."""
    return deadline_of(day, current_rules())


# ---------------------------------------------------------------------------------------------
# The pages' reads (added with the pages): a day's board of units, the reports a user files,
# the home page's figures, the grids' sub-reports of a unit, and who may review a report.


class Board:
    """Where each unit stands on a day, as the office's list shows it: a submitted report
    waiting for review is on time or late (by its first submission), a reviewed one returned
    or approved; without a submitted report a unit is missing once the deadline has passed,
    not yet due before."""

    ON_TIME = "on_time"
    LATE = "late"
    RETURNED = "returned"
    APPROVED = "approved"
    MISSING = "missing"
    NOT_DUE = "not_due"

    ALL = (ON_TIME, LATE, RETURNED, APPROVED, MISSING, NOT_DUE)
    RECEIVED = frozenset({ON_TIME, LATE, RETURNED, APPROVED})


def _board_condition(status: str, due: bool) -> Q | None:
    """The condition on the day's report (``day_report``) for a board status; None when no
    unit can have it (missing before the deadline, not yet due after it)."""
    unsubmitted = Q(day_report__first_submitted_at__isnull=True)
    conditions = {
        Board.ON_TIME: Q(day_report__status=ReportStatus.SUBMITTED, day_report__late=False),
        Board.LATE: Q(day_report__status=ReportStatus.SUBMITTED, day_report__late=True),
        Board.RETURNED: Q(day_report__status=ReportStatus.RETURNED),
        Board.APPROVED: Q(day_report__status=ReportStatus.APPROVED),
        Board.MISSING: unsubmitted if due else None,
        Board.NOT_DUE: None if due else unsubmitted,
    }
    return conditions[status]


def board_status(status: str, first_submitted_at: dt.datetime | None, late: bool, due: bool) -> str:
    """The board status of a unit from its day's report (status and first submission)."""
    if first_submitted_at is None:
        return Board.MISSING if due else Board.NOT_DUE
    if status == ReportStatus.APPROVED:
        return Board.APPROVED
    if status == ReportStatus.RETURNED:
        return Board.RETURNED
    return Board.LATE if late else Board.ON_TIME


@dataclass
class BoardRow:
    """One unit of the board with its day's report (its fields; ids only, no extra query)."""

    unit: OrgUnit
    status: str
    report_id: int | None
    report_status: str
    first_submitted_at: dt.datetime | None
    submitted_at: dt.datetime | None
    late: bool
    nothing_to_report: bool
    version: int | None
    reviewed_at: dt.datetime | None

    @property
    def received(self) -> bool:
        return self.status in Board.RECEIVED


@dataclass
class DayBoard:
    """The units of a day (a queryset to page through: :meth:`rows` turns a page of it into
    :class:`BoardRow`), the number in each board status (under the unit filter, whatever the
    status filter) and the deadline."""

    day: dt.date
    deadline: dt.datetime
    due: bool
    units: QuerySet[OrgUnit]
    counts: dict[str, int]

    @property
    def expected(self) -> int:
        return sum(self.counts.values())

    @property
    def received(self) -> int:
        return sum(n for status, n in self.counts.items() if status in Board.RECEIVED)

    @property
    def missing(self) -> int:
        return self.counts.get(Board.MISSING, 0)

    def rows(self, units: Any) -> list[BoardRow]:
        return [
            BoardRow(
                unit=unit,
                status=board_status(
                    unit.report_status or "", unit.report_first, bool(unit.report_late), self.due
                ),
                report_id=unit.report_id,
                report_status=unit.report_status or "",
                first_submitted_at=unit.report_first,
                submitted_at=unit.report_submitted,
                late=bool(unit.report_late),
                nothing_to_report=bool(unit.report_nothing),
                version=unit.report_version,
                reviewed_at=unit.report_reviewed,
            )
            for unit in units
        ]


def _day_report(day: dt.date) -> FilteredRelation:
    return FilteredRelation("daily_reports", condition=Q(daily_reports__day=day))


def _with_day_report(units: QuerySet[OrgUnit]) -> QuerySet[OrgUnit]:
    """``units`` (annotated with ``day_report``: :func:`_day_report`) with the fields of
    that report (``report_*``; None without one)."""
    return units.annotate(
        report_id=F("day_report__pk"),
        report_status=F("day_report__status"),
        report_first=F("day_report__first_submitted_at"),
        report_submitted=F("day_report__submitted_at"),
        report_late=F("day_report__late"),
        report_nothing=F("day_report__nothing_to_report"),
        report_version=F("day_report__current__number"),
        report_reviewed=F("day_report__reviewed_at"),
    )


def day_board(
    user: Any,
    day: dt.date,
    *,
    unit: OrgUnit | None = None,
    status: str = "",
    now: dt.datetime | None = None,
) -> DayBoard:
    """Every unit the user may see (in ``unit``'s subtree) with its report of ``day`` and its
    board status, of one status when asked. Two queries (the rules, the counts per status)
    and the page of units, whatever the number of units."""
    now = now or timezone.now()
    rules = current_rules()
    deadline = deadline_of(day, rules)
    due = is_due(day, now, rules)
    units = reporting_units(user, under=unit).annotate(day_report=_day_report(day))
    conditions = {s: _board_condition(s, due) for s in Board.ALL}
    wanted = {s: Count("pk", filter=c) for s, c in conditions.items() if c is not None}
    found = units.aggregate(**wanted) if wanted else {}
    counts = {s: int(found.get(s) or 0) for s in Board.ALL}
    if status in conditions:
        condition = conditions[status]
        units = units.filter(condition) if condition is not None else units.none()
    listed = _with_day_report(units).order_by("path")
    return DayBoard(day=day, deadline=deadline, due=due, units=listed, counts=counts)


# Units listed as "my reports" at most (a system administrator files for every unit).
MINE_MAX = 10


@dataclass
class MyReport:
    """A unit (or a grid, with sub-reports on) the user files for, and its report of a day."""

    unit: OrgUnit
    status: str  # the report's status ("draft" for a draft), or "" without one
    late: bool
    first_submitted_at: dt.datetime | None
    deadline: dt.datetime
    due: bool
    review_comment: str

    @property
    def board(self) -> str:
        return board_status(self.status, self.first_submitted_at, self.late, self.due)


def my_reports(user: Any, day: dt.date, *, now: dt.datetime | None = None) -> list[MyReport]:
    """The units the user files the daily report for (their units; a grid worker's grids
    when the office has turned grid sub-reports on) with their report of ``day``: one query
    (the rules come with it), none without ``reporting.file``."""
    from .models import ReportingRules

    if not has_perm(user, Perm.REPORTING_FILE):
        return []
    now = now or timezone.now()
    rules = ReportingRules.objects.filter(pk=ReportingRules.SINGLETON_PK)
    in_scope = units_in_scope(user, Perm.REPORTING_FILE).annotate(
        day_report=_day_report(day),
        rule_deadline=Subquery(rules.values("deadline")[:1]),
        rule_grids=Exists(rules.filter(grid_reports=True)),
    )
    fields = (
        "pk",
        "code",
        "name",
        "kind",
        "path",
        "parent_id",
        "day_report__status",
        "day_report__late",
        "day_report__first_submitted_at",
        "day_report__review_comment",
        "rule_deadline",
        "rule_grids",
    )
    # Units first ("unit" > "grid"), then the grids that file (sub-reports on, not inside
    # another grid): the grids are the user's only when no unit is.
    filing = Q(kind=OrgUnit.Kind.UNIT) | (
        Q(kind=OrgUnit.Kind.GRID, rule_grids=True) & ~Q(parent__kind=OrgUnit.Kind.GRID)
    )
    found_rows = list(
        in_scope.filter(filing).order_by("-kind", "path").values_list(*fields)[:MINE_MAX]
    )
    units = [row for row in found_rows if row[3] == OrgUnit.Kind.UNIT]
    rows = units or found_rows
    default = ReportingRules(pk=ReportingRules.SINGLETON_PK)
    found = []
    for pk, code, name, kind, path, parent_id, status, late, first, comment, at, _on in rows:
        rules_now = ReportingRules(pk=default.pk, deadline=at or default.deadline)
        unit = OrgUnit(pk=pk, code=code, name=name, kind=kind, path=path, parent_id=parent_id)
        found.append(
            MyReport(
                unit=unit,
                status=status or "",
                late=bool(late),
                first_submitted_at=first,
                deadline=deadline_of(day, rules_now),
                due=is_due(day, now, rules_now),
                review_comment=comment or "",
            )
        )
    return found


@dataclass
class TodaySummary:
    """The home page's daily-report figures: the reports the user files (``mine``) and,
    for those who follow the units' reports (the office, the leader, an auditor), the day's
    board (received, expected, missing)."""

    day: dt.date
    mine: list[MyReport]
    board: DayBoard | None


def today_summary(user: Any, *, now: dt.datetime | None = None) -> TodaySummary:
    """For the home page: one query for a unit head, three for the office."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    mine = my_reports(user, day, now=now)
    follows = (
        has_perm(user, Perm.REPORTING_REVIEW)
        or has_perm(user, Perm.REPORTING_APPROVE)
        or (has_perm(user, Perm.REPORTING_VIEW) and not has_perm(user, Perm.REPORTING_FILE))
    )
    board = day_board(user, day, now=now) if follows else None
    return TodaySummary(day=day, mine=mine, board=board)


def grid_reports_of(user: Any, unit: OrgUnit, day: dt.date) -> list[BoardRow]:
    """The grids that file sub-reports to ``unit`` (its grids not inside another grid) with
    their report of ``day`` and its board status, in the tree's order: two queries (the
    rules, the grids with their reports)."""
    rules = current_rules()
    due = is_due(day, timezone.now(), rules)
    grids = (
        units_in_scope(user, Perm.REPORTING_VIEW)
        .filter(kind=OrgUnit.Kind.GRID, path__startswith=unit.path)
        .exclude(parent__kind=OrgUnit.Kind.GRID)
        .annotate(day_report=_day_report(day))
    )
    board = DayBoard(day=day, deadline=deadline_of(day, rules), due=due, units=grids, counts={})
    return board.rows(_with_day_report(grids).order_by("path"))


def may_review(user: Any, report: UnitReport) -> bool:
    """Whether ``user`` may approve or return ``report`` (the office; the unit head for a
    grid's sub-report): the rule of the review services, for showing the buttons."""
    from .services import _check_review

    try:
        _check_review(user, report)
    except PermissionDenied:
        return False
    return True
