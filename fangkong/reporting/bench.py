"""Benchmarks of the daily zero report (每日零报告): the office's pages over 600 units × 90
days of reports, and pre-filling every unit's report of a day from the register.

``reporting_sqlite`` and ``reporting_postgresql`` seed the demo register of ``persons``
persons (the households of :data:`fangkong.screening.bench.BENCH_HOUSEHOLD_SIZES`) and
spread its grids over :data:`UNITS` units (the demo's six, and new units beside them under
the branch, each with its share of the grids: about 17 grids and 1,700 persons a unit at
1,000,000 persons). Then what the register holds besides its persons, so that the
pre-filling reads a register at work: the screening demo (an open campaign, arrivals) and the
observation load of :func:`fangkong.observation.bench.seed_load` (5 % of the persons under
observation, twice-daily readings with a few fevers, alerts). Then, in bulk
(:mod:`fangkong.core.bulk`, without audit trail: the pages measured do not read it),
:data:`DAYS` days of unit reports up to today with their values for every indicator in force
and every submitted version: most submitted before the deadline and approved by the office,
:data:`LATE` late, :data:`RETURNED` returned with a comment then corrected (a second version)
and approved, :data:`MISSING` missing (a third of them with a draft), yesterday's partly still
waiting for review, and today's partly filed (:data:`TODAY_FILED`); :data:`DIFFERS` of the
versions differ from the register on one count, with the reason; a few carry an abnormal
case. Each past day has its branch report approved by the leader (with the aggregate as
approved, from :func:`fangkong.reporting.selectors.branch_aggregate`).

Measured (the issue's target: p95 under 300 ms each): each page of :data:`PAGES`, logged in
as the office (the completeness matrix of the last :data:`MATRIX_DAYS` days, the branch report
of the day before the last — every report of it in —, the list of that day's reports) and as
the unit head (their unit's report of that day, pre-filled), and each API read of :data:`API`
(the office's reads over ``/api/v1/reporting/…``, with a token), ``REQUESTS`` times with the
test client after two warm-up requests; and the selectors behind the office's pages called
directly (:data:`SELECTORS`, the user read afresh each time as a request does). The figures
are the median and p95 in milliseconds, and the queries of one more call with the time they
took (``_db_ms``; on SQLite the rows are read after that time, so it is a lower bound). A
page whose URL does not exist yet is reported as not measured and the others are measured.

Pre-filling: :func:`fangkong.reporting.services.prefill` — what the unit's report page and
the filing services call — for all the units at once on the day measured (a whole day of
readings, fevers and arrivals), :data:`PREFILL_RUNS` times (``prefill_all_s``: the median;
target under :data:`PREFILL_LIMIT_S` s in total), with its queries and what it counted; and
for one unit (the one with the most grids), as the unit head's page asks for it, ``REQUESTS``
times.

The work runs in a child process (``python -m fangkong.reporting.bench measure PERSONS``) with
``DEBUG`` off, on a SQLite file in a temporary folder or on a PostgreSQL database created for
the run and dropped after it (``BENCH_POSTGRES_URL`` with ``_reporting`` added to the
database name; default ``fangkong_bench_reporting`` on 127.0.0.1). Run on a database that
already holds the reports (``SQLITE_PATH`` or ``DATABASE_URL`` set by hand), the child
measures again without seeding, on the days the reports were seeded for.

``BENCH_REQUESTS`` changes the number of requests per page, ``BENCH_UNITS`` and ``BENCH_DAYS``
the size of the report load (the tests use a few).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from fangkong.core import benchkit

REQUESTS = 30
LIMIT_MS = 300
UNITS = 600
DAYS = 90
MATRIX_DAYS = 30
PREFILL_RUNS = 3
PREFILL_LIMIT_S = 5.0
# Shares of the unit reports of a past day: missing (of them, with a draft), first submitted
# after the deadline, returned once then corrected; of the versions, differing from the
# register on one count (with the reason); of the reports, with an abnormal case.
MISSING = 0.03
MISSING_DRAFT = 1 / 3
LATE = 0.07
RETURNED = 0.05
DIFFERS = 0.05
FEVER_DAY = 0.03
# Yesterday: still waiting for review, returned and not corrected yet (the rest approved).
YESTERDAY_WAITING = 0.07
YESTERDAY_RETURNED = 0.03
# Today: filed so far, and of those approved already.
TODAY_FILED = 0.6
TODAY_APPROVED = 0.4
# Days written per bulk write (600 reports and 9,000 values a day).
CHUNK_DAYS = 5

# The pages measured: name → (URL name, persona, query). The query's {start}, {end}, {day}
# are filled in: the matrix's period (MATRIX_DAYS up to the last day), the day of the branch
# report and of the list (the day before the last: its reports are in, most approved). The
# unit's report page is the unit head's (their unit, LZ-01, pre-filled for that day).
PAGES: dict[str, tuple[str, str, str]] = {
    "completeness_page": ("reporting:completeness", "office", "?start={start}&end={end}"),
    "branch_page": ("reporting:branch", "office", "?day={day}"),
    "reports_page": ("reporting:day", "office", "?day={day}"),
    "file_page": ("reporting:file", "unit_head", "?day={day}"),
}
# The same reads through the API (a bearer token of the office).
API: dict[str, str] = {
    "completeness_api": "/api/v1/reporting/completeness?start={start}&end={end}",
    "branch_api": "/api/v1/reporting/branch?day={day}",
    "reports_api": "/api/v1/reporting/reports?day={day}&limit=50",
}
# The selectors behind them, called directly (the list: the day's 600 reports, unpaginated).
SELECTORS = ("completeness_selector", "branch_selector", "reports_selector")


def bench_reporting_sqlite(persons: int) -> dict[str, Any]:
    """The completeness matrix (30 days), the branch report and the list of a day's reports
    over 600 units × 90 days of reports, and pre-filling the 600 units' reports of a day from
    the register, on SQLite."""
    return benchkit.on_sqlite("fangkong.reporting.bench", "reporting", persons)


def bench_reporting_postgresql(persons: int) -> dict[str, Any]:
    """The same on PostgreSQL (skipped, with the reason, when it cannot be reached)."""
    return benchkit.on_postgresql("fangkong.reporting.bench", persons, "_reporting")


# ---------------------------------------------------------------------------------------------
# The child side: the units


def spread_units(total: int = UNITS, *, now: dt.datetime | None = None) -> int:
    """Make the demo branch ``total`` units: new units under the branch beside the demo's,
    and the demo's grids spread over them (each demo unit shares its grids, in order, with
    the new units made from it, in proportion to its grids). Returns the units added."""
    from django.db import transaction
    from django.utils import timezone

    from fangkong.core import bulk
    from fangkong.org.demo import BRANCH_CODE, chinese_number
    from fangkong.org.models import OrgUnit

    now = now or timezone.now()
    with transaction.atomic():
        bulk.lock_tables(OrgUnit)
        branch = OrgUnit.objects.get(code=BRANCH_CODE)
        demo_units = list(
            OrgUnit.objects.filter(parent=branch, kind=OrgUnit.Kind.UNIT).order_by("path")
        )
        added = total - len(demo_units)
        if added <= 0:
            return 0
        grids: dict[int, list[int]] = {unit.pk: [] for unit in demo_units}
        rows = OrgUnit.objects.filter(parent__in=demo_units, kind=OrgUnit.Kind.GRID)
        for pk, parent_id in rows.order_by("path").values_list("pk", "parent_id"):
            grids[parent_id].append(pk)
        if OrgUnit.objects.filter(depth__gt=branch.depth + 2).exists():
            raise RuntimeError("the demo's grids have sub-grids: moving them is not written")
        # Units per demo unit: in proportion to its grids (largest remainder), one at least.
        weights = [max(1, len(grids[unit.pk])) for unit in demo_units]
        shares = [total * w / sum(weights) for w in weights]
        counts = [max(1, int(share)) for share in shares]
        by_remainder = sorted(range(len(counts)), key=lambda i: counts[i] - shares[i])
        for i in by_remainder[: total - sum(counts)]:
            counts[i] += 1
        table = bulk.BulkTable(
            OrgUnit,
            ["id", "code", "name", "kind", "parent_id", "path", "depth"],
            history_date=now,
            history_reason="bench",
        )
        ids = iter(bulk.allocate_ids(OrgUnit, sum(counts) - len(demo_units)))
        new_rows: list[tuple[Any, ...]] = []
        moves: list[tuple[Any, ...]] = []
        for unit, count in zip(demo_units, counts, strict=True):
            targets = [(unit.pk, unit.path)]
            for n in range(2, count + 1):
                pk = next(ids)
                path = OrgUnit.child_path(branch.path, pk)
                name = f"{unit.name}{chinese_number(n)}分队"
                new_rows.append(
                    (pk, f"{unit.code}-U{n:03d}", name, "unit", branch.pk, path, branch.depth + 1)
                )
                targets.append((pk, path))
            mine = grids[unit.pk]
            for i, grid in enumerate(mine):
                parent, path = targets[i * count // len(mine)]
                if parent != unit.pk:
                    moves.append((parent, OrgUnit.child_path(path, grid), grid))
        table.write(new_rows)
        bulk.update_rows(OrgUnit, ["parent_id", "path"], moves)
        bulk.reset_sequences(OrgUnit)
    bulk.analyze((OrgUnit,))
    return len(new_rows)


# ---------------------------------------------------------------------------------------------
# The child side: the reports


@dataclass
class _Load:
    """What :func:`seed_reports` wrote."""

    units: int = 0
    days: int = 0
    reports: int = 0
    submitted: int = 0
    late: int = 0
    returned_once: int = 0
    waiting: int = 0
    returned: int = 0
    approved: int = 0
    drafts: int = 0
    missing: int = 0
    versions: int = 0
    values: int = 0
    branch_reports: int = 0


@dataclass
class _Unit:
    pk: int
    persons: int
    head_id: int | None
    people: list[tuple[int, str, int]] = field(default_factory=list)  # (person, name, grid)


@dataclass
class _Version:
    """One version of a report being written: its values by code and what goes with them."""

    number: int
    values: dict[str, Any]
    register: dict[str, int]
    reasons: dict[str, str]
    cases: list[dict[str, Any]]
    nothing: bool
    notes: str
    submitted_at: dt.datetime | None = None
    review: str = ""
    reviewed_at: dt.datetime | None = None
    comment: str = ""


TEXTS = {
    "disinfection": ("公共区域消毒2次", "楼道、垃圾点消毒", "办公区消毒1次"),
    "publicity": ("发放宣传单", "广播宣传3次", "微信群转发防控通知"),
    "duty": ("站长值班", "副站长值班", "值班员2人在岗"),
}
RETURN_COMMENTS = ("新到人员请先在系统登记，再核对人数", "请核实今日新到人数")
DIFFERENCE_REASON = "两名新到人员尚未登记"


class _Writer:
    """Plans and writes the reports of a day, and the tables they go to."""

    def __init__(self, rng: random.Random, now: dt.datetime) -> None:
        from django.db import connection
        from django.utils import timezone

        from fangkong.core.bulk import BulkTable
        from fangkong.org.models import User

        from .models import ReportValue, ReportVersion, UnitReport
        from .rules import current_rules
        from .services import active_indicators

        self.rng = rng
        self.now = now
        self.today = timezone.localdate(now)
        self.zone = timezone.get_current_timezone()
        self.rules = current_rules()
        self.indicators = active_indicators()
        self.office_id = User.objects.filter(username="office").values_list("pk", flat=True).first()
        self._adapt = connection.ops.adapt_datetimefield_value
        self.report_table = BulkTable(
            UnitReport,
            [
                "id",
                "unit_id",
                "day",
                "status",
                "current_id",
                "first_submitted_at",
                "submitted_at",
                "late",
                "nothing_to_report",
                "notes",
                "filled_by_id",
                "reviewed_by_id",
                "reviewed_at",
                "review_comment",
                "created_at",
            ],
        )
        self.version_table = BulkTable(
            ReportVersion,
            [
                "id",
                "report_id",
                "number",
                "submitted_at",
                "submitted_by_id",
                "nothing_to_report",
                "notes",
                "snapshot",
                "cases",
                "review_status",
                "reviewed_by_id",
                "reviewed_at",
                "review_comment",
            ],
        )
        self.value_table = BulkTable(
            ReportValue, ["version_id", "indicator_id", "number", "text", "register", "reason"]
        )
        self.reports: list[tuple[Any, ...]] = []
        self.versions: list[tuple[Any, ...]] = []
        self.values: list[tuple[Any, ...]] = []

    def db_dt(self, value: dt.datetime | None) -> Any:
        return None if value is None else self._adapt(value)

    def before_now(self, value: dt.datetime) -> dt.datetime:
        return min(value, self.now - dt.timedelta(seconds=1))

    # -- what a unit's register says on a day, and what it reports -----------------------------

    def register(self, unit: _Unit) -> dict[str, int]:
        rng, persons = self.rng, unit.persons
        arrivals = rng.choice((0, 0, 0, 1, 1, 2, 3, 5)) if persons else 0
        fevers = 1 if persons and rng.random() < FEVER_DAY else 0
        return {
            "registered": persons,
            "away": round(persons * rng.uniform(0.01, 0.03)),
            "arrivals": arrivals,
            "arrivals_key_areas": rng.randint(0, arrivals) if rng.random() < 0.3 else 0,
            "home_isolation": round(persons * rng.uniform(0.04, 0.06)),
            "home_isolation_new": rng.randrange(8) if persons else 0,
            "home_isolation_released": rng.randrange(8) if persons else 0,
            "centralised": rng.choice((0, 0, 0, 1, 2)) if persons else 0,
            "fevers": fevers,
            "suspected": 1 if fevers and rng.random() < 0.05 else 0,
            "confirmed": 0,
            "close_contacts": round(persons * rng.uniform(0.0, 0.01)),
        }

    def version(self, unit: _Unit, number: int, register: dict[str, int], *, differs: bool) -> Any:
        rng = self.rng
        values: dict[str, Any] = {}
        reasons: dict[str, str] = {}
        for indicator in self.indicators:
            code = indicator.code
            if not indicator.is_count:
                values[code] = rng.choice(TEXTS[code]) if code in TEXTS else ""
            else:
                values[code] = register.get(code, 0)
        if differs and "arrivals" in values:
            values["arrivals"] += 2
            reasons["arrivals"] = DIFFERENCE_REASON
        cases = []
        if register.get("fevers") and unit.people:
            person_id, name, grid = rng.choice(unit.people)
            cases.append(
                {
                    "person_id": person_id,
                    "name": name,
                    "unit_id": grid,
                    "temperature": rng.choice(("37.4", "37.8", "38.3")),
                    "symptoms": ["fever"],
                    "what": "suspected" if register.get("suspected") else "fever",
                    "action": "已复测，居家观察",
                    "open": False,
                }
            )
        abnormal = cases or any(
            isinstance(values.get(i.code), int) and values[i.code] > 0
            for i in self.indicators
            if i.is_abnormal and i.is_count
        )
        nothing = not abnormal and rng.random() < 0.75
        notes = "" if rng.random() < 0.8 else "今日无异常情况"
        return _Version(number, values, register, reasons, cases, nothing, notes)

    # -- one report ----------------------------------------------------------------------------

    def at(self, day: dt.date, minute: int) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0), tzinfo=self.zone) + dt.timedelta(minutes=minute)

    def report(
        self, unit: _Unit, day: dt.date, report_id: int, version_ids: Iterator[int], load: _Load
    ) -> bool:
        """Plan and queue the unit's report of ``day``; False when there is none."""
        from .models import ReportStatus
        from .rules import deadline_of

        rng = self.rng
        deadline = deadline_of(day, self.rules)
        register = self.register(unit)
        versions: list[_Version] = []
        status = ReportStatus.APPROVED
        is_today = day == self.today
        filed = rng.random() < (TODAY_FILED if is_today else 1 - MISSING)
        if not filed:
            load.missing += 1
            if rng.random() >= MISSING_DRAFT:
                return False
            load.drafts += 1
            draft = self.version(unit, 1, register, differs=False)
            created = self.before_now(self.at(day, rng.randrange(7 * 60, 12 * 60)))
            self.queue(unit, day, report_id, [draft], version_ids, ReportStatus.DRAFT, created)
            return True
        if is_today:
            opened = self.at(day, 7 * 60)
            if opened >= self.now:
                opened = self.at(day, 0)
            span = max(1, int((self.now - opened).total_seconds()))
            first = opened + dt.timedelta(seconds=rng.randrange(span))
        elif rng.random() < LATE:
            first = deadline + dt.timedelta(minutes=rng.randrange(1, 8 * 60))
        else:
            first = deadline - dt.timedelta(minutes=rng.randrange(10, 5 * 60))
        first = self.before_now(first)
        created = first - dt.timedelta(minutes=rng.randrange(2, 60))
        differs = rng.random() < DIFFERS
        returned_once = not is_today and rng.random() < RETURNED
        v1 = self.version(unit, 1, register, differs=differs or returned_once)
        v1.submitted_at = first
        versions.append(v1)
        last = v1
        if returned_once:
            v1.review = ReportStatus.RETURNED
            v1.reviewed_at = self.before_now(first + dt.timedelta(minutes=rng.randrange(30, 120)))
            v1.comment = rng.choice(RETURN_COMMENTS)
            load.returned_once += 1
        roll = rng.random()
        if is_today:
            outcome = ReportStatus.APPROVED if roll < TODAY_APPROVED else ReportStatus.SUBMITTED
        elif day == self.today - dt.timedelta(days=1):
            outcome = (
                ReportStatus.SUBMITTED
                if roll < YESTERDAY_WAITING
                else ReportStatus.RETURNED
                if roll < YESTERDAY_WAITING + YESTERDAY_RETURNED
                else ReportStatus.APPROVED
            )
        else:
            outcome = ReportStatus.APPROVED
        if returned_once and outcome != ReportStatus.RETURNED:
            assert v1.reviewed_at is not None
            v2 = self.version(unit, 2, register, differs=False)
            v2.submitted_at = self.before_now(
                v1.reviewed_at + dt.timedelta(minutes=rng.randrange(20, 120))
            )
            versions.append(v2)
            last = v2
        if outcome == ReportStatus.RETURNED and last.review != ReportStatus.RETURNED:
            last.review = ReportStatus.RETURNED
            assert last.submitted_at is not None
            last.reviewed_at = self.before_now(
                last.submitted_at + dt.timedelta(minutes=rng.randrange(30, 120))
            )
            last.comment = rng.choice(RETURN_COMMENTS)
        elif outcome == ReportStatus.APPROVED:
            assert last.submitted_at is not None
            last.review = ReportStatus.APPROVED
            last.reviewed_at = self.before_now(
                last.submitted_at + dt.timedelta(minutes=rng.randrange(20, 180))
            )
        status = outcome
        load.submitted += 1
        load.late += first > deadline
        load.waiting += status == ReportStatus.SUBMITTED
        load.returned += status == ReportStatus.RETURNED
        load.approved += status == ReportStatus.APPROVED
        self.queue(
            unit, day, report_id, versions, version_ids, status, created, late=first > deadline
        )
        return True

    def queue(
        self,
        unit: _Unit,
        day: dt.date,
        report_id: int,
        versions: list[_Version],
        version_ids: Iterator[int],
        status: str,
        created: dt.datetime,
        *,
        late: bool = False,
    ) -> None:
        """The rows of a report, its versions and their values."""
        current_id = None
        for version in versions:
            pk = next(version_ids)
            snapshot = []
            for indicator in self.indicators:
                value = version.values[indicator.code]
                register = version.register.get(indicator.code) if indicator.is_count else None
                reason = version.reasons.get(indicator.code, "")
                snapshot.append(
                    {
                        "code": indicator.code,
                        "name": indicator.name,
                        "kind": indicator.kind,
                        "value": value,
                        "in_register": register,
                        "reason": reason,
                    }
                )
                self.values.append(
                    (
                        pk,
                        indicator.pk,
                        value if indicator.is_count else None,
                        "" if indicator.is_count else value,
                        register,
                        reason,
                    )
                )
            self.versions.append(
                (
                    pk,
                    report_id,
                    version.number,
                    self.db_dt(version.submitted_at),
                    unit.head_id if version.submitted_at else None,
                    version.nothing,
                    version.notes,
                    json.dumps(snapshot, ensure_ascii=False),
                    json.dumps(version.cases, ensure_ascii=False),
                    version.review,
                    self.office_id if version.review else None,
                    self.db_dt(version.reviewed_at),
                    version.comment,
                )
            )
            if version.submitted_at is not None:
                current_id = pk
        last = versions[-1]
        submitted = [v for v in versions if v.submitted_at is not None]
        self.reports.append(
            (
                report_id,
                unit.pk,
                day.isoformat(),
                status,
                current_id,
                self.db_dt(submitted[0].submitted_at) if submitted else None,
                self.db_dt(submitted[-1].submitted_at) if submitted else None,
                late,
                last.nothing,
                last.notes,
                unit.head_id,
                self.office_id if last.review else None,
                self.db_dt(last.reviewed_at),
                last.comment,
                self.db_dt(created),
            )
        )

    def flush(self, load: _Load) -> None:
        self.report_table.write(self.reports)
        self.version_table.write(self.versions)
        self.value_table.write(self.values)
        load.reports += len(self.reports)
        load.versions += len(self.versions)
        load.values += len(self.values)
        self.reports, self.versions, self.values = [], [], []


def _units() -> list[_Unit]:
    """The reporting units with their persons (the grids' kept counts), their head and a few
    of their persons (for the abnormal cases)."""
    from fangkong.core.permissions import Role
    from fangkong.org.models import GridCount, OrgUnit, Person, RoleAssignment

    units = {
        pk: _Unit(pk=pk, persons=0, head_id=None)
        for pk in OrgUnit.objects.filter(is_active=True, kind=OrgUnit.Kind.UNIT)
        .order_by("path")
        .values_list("pk", flat=True)
    }
    grid_unit = dict(
        OrgUnit.objects.filter(kind=OrgUnit.Kind.GRID, parent__in=list(units)).values_list(
            "pk", "parent_id"
        )
    )
    for grid, persons in GridCount.objects.values_list("grid_id", "persons"):
        if grid in grid_unit:
            units[grid_unit[grid]].persons += persons
    heads = RoleAssignment.objects.filter(role=Role.UNIT_HEAD, org_unit__in=list(units))
    for unit_id, user_id in heads.order_by("pk").values_list("org_unit_id", "user_id"):
        if units[unit_id].head_id is None:
            units[unit_id].head_id = user_id
    # A few persons of each unit: every 500th person of the register.
    people = Person.objects.filter(is_active=True).order_by("pk").values_list("pk", "name", "grid")
    for i, (pk, name, grid) in enumerate(people.iterator(chunk_size=20_000)):
        if i % 500 == 0 and grid in grid_unit:
            units[grid_unit[grid]].people.append((pk, name, grid))
    return list(units.values())


def seed_reports(*, days: int = DAYS, seed: int = 2020, now: dt.datetime | None = None) -> _Load:
    """``days`` days of reports of every unit up to today's, in bulk (one transaction), then
    the leader's approval of each past day's branch report."""
    from django.db import transaction
    from django.utils import timezone

    from fangkong.core import bulk

    from .models import BranchReport, ReportValue, ReportVersion, UnitReport

    now = now or timezone.now()
    rng = random.Random(seed)
    load = _Load()
    with transaction.atomic():
        bulk.lock_tables(UnitReport, ReportVersion, ReportValue, BranchReport)
        writer = _Writer(rng, now)
        units = _units()
        load.units, load.days = len(units), days
        first = writer.today - dt.timedelta(days=days - 1)
        # Keys for every report and version that may be written (at most two versions a
        # report); those left over are never used.
        report_ids = iter(bulk.allocate_ids(UnitReport, len(units) * days))
        version_ids = iter(bulk.allocate_ids(ReportVersion, 2 * len(units) * days))
        report_id = next(report_ids)
        for offset in range(days):
            day = first + dt.timedelta(days=offset)
            for unit in units:
                if writer.report(unit, day, report_id, version_ids, load):
                    report_id = next(report_ids, 0)
            if offset % CHUNK_DAYS == CHUNK_DAYS - 1:
                writer.flush(load)
        writer.flush(load)
        bulk.reset_sequences(UnitReport, ReportVersion, ReportValue)
        load.branch_reports = _approve_branch_reports(first, writer.today, now)
        bulk.reset_sequences(BranchReport)
    bulk.analyze((UnitReport, ReportVersion, ReportValue, BranchReport))
    return load


def _approve_branch_reports(first: dt.date, today: dt.date, now: dt.datetime) -> int:
    """Each past day's branch report, approved by the leader at 17:00 (or now) with the
    aggregate as it stood."""
    from django.db import connection
    from django.utils import timezone

    from fangkong.core.bulk import BulkTable
    from fangkong.core.scoping import Operator
    from fangkong.org.demo import BRANCH_CODE
    from fangkong.org.models import OrgUnit, User

    from .models import BranchReport
    from .selectors import branch_aggregate

    branch = OrgUnit.objects.get(code=BRANCH_CODE)
    leader_id = User.objects.filter(username="leader").values_list("pk", flat=True).first()
    table = BulkTable(
        BranchReport, ["branch_id", "day", "approved_at", "approved_by_id", "note", "snapshot"]
    )
    zone = timezone.get_current_timezone()
    rows = []
    day = first
    viewer = Operator()
    while day < today:
        approved = min(dt.datetime.combine(day, dt.time(17, 0), tzinfo=zone), now)
        snapshot = branch_aggregate(viewer, day, branch=branch, now=approved).as_dict(
            with_approval=False
        )
        rows.append(
            (
                branch.pk,
                day.isoformat(),
                connection.ops.adapt_datetimefield_value(approved),
                leader_id,
                "",
                json.dumps(snapshot, ensure_ascii=False),
            )
        )
        day += dt.timedelta(days=1)
    table.write(rows)
    return len(rows)


# ---------------------------------------------------------------------------------------------
# The child side: measure


@dataclass(frozen=True)
class _Days:
    """The days measured: the last seeded (partly filed) and the one before it (every
    report in), and the matrix's period."""

    last: dt.date
    day: dt.date
    start: dt.date

    def fill(self, template: str) -> str:
        return template.format(
            start=self.start.isoformat(), end=self.last.isoformat(), day=self.day.isoformat()
        )


def _targets(days: _Days) -> tuple[dict[str, Callable[[], Any]], dict[str, str]]:
    """What is measured, each as a call; and the pages that could not be."""
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from fangkong.core.permissions import Perm
    from fangkong.core.scoping import units_in_scope
    from fangkong.org.models import OrgUnit, User
    from fangkong.org.services import issue_api_token

    from . import selectors

    calls: dict[str, Callable[[], Any]] = {}
    missing: dict[str, str] = {}
    office = User.objects.get(username="office")
    clients: dict[str, Client] = {}
    for page, (url_name, username, query) in PAGES.items():
        user = User.objects.get(username=username)
        try:
            if url_name == "reporting:file":  # the unit head's own unit
                unit = units_in_scope(user, Perm.REPORTING_FILE).get(kind=OrgUnit.Kind.UNIT)
                url = reverse(url_name, kwargs={"orgunit_id": unit.pk})
            else:
                url = reverse(url_name)
        except NoReverseMatch:
            missing[page] = f"no URL named {url_name!r} yet"
            continue
        if username not in clients:
            clients[username] = Client()
            clients[username].force_login(user)
        calls[page] = benchkit.get_ok(clients[username], url + days.fill(query))
    _token, key = issue_api_token(user=office, name="bench")
    api = Client()
    for name, url in API.items():
        calls[name] = benchkit.get_ok(api, days.fill(url), Authorization=f"Bearer {key}")

    def fresh() -> Any:  # read afresh, as each request does (the scope is cached on it)
        return User.objects.get(pk=office.pk)

    calls["completeness_selector"] = lambda: selectors.completeness_matrix(
        fresh(), days.start, days.last
    )
    calls["branch_selector"] = lambda: selectors.branch_aggregate(fresh(), days.day)
    calls["reports_selector"] = lambda: list(selectors.reports_for(fresh(), day=days.day))
    return calls, missing


def _measure_prefill(figures: dict[str, Any], days: _Days, requests: int) -> None:
    """Pre-fill every unit's report of the day measured at once (a whole day of the
    register's readings and arrivals), and one unit's (the largest)."""
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext

    from fangkong.org.models import OrgUnit

    from .services import prefill

    units = list(OrgUnit.objects.filter(is_active=True, kind=OrgUnit.Kind.UNIT).order_by("path"))
    seconds = []
    filled: dict[int, Any] = {}
    for _i in range(PREFILL_RUNS):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            filled = prefill(units=units, day=days.day)
            seconds.append(time.perf_counter() - started)
    figures["prefill_units"] = len(filled)
    figures["prefill_all_s"] = round(statistics.median(seconds), 2)
    figures["prefill_all_max_s"] = round(max(seconds), 2)
    figures["prefill_all_queries"] = len(queries)
    figures["prefill_all_db_s"] = round(sum(float(q["time"]) for q in queries.captured_queries), 2)
    for code in ("registered", "home_isolation", "fevers", "arrivals"):
        figures[f"prefill_{code}"] = sum(int(f.values.get(code, 0)) for f in filled.values())
    figures["prefill_cases"] = sum(len(f.cases) for f in filled.values())
    figures["prefill_limit_s"] = PREFILL_LIMIT_S
    largest = (
        OrgUnit.objects.filter(pk__in=[u.pk for u in units])
        .annotate(grids=Count("children"))
        .order_by("-grids", "path")
        .first()
    )
    if largest is not None:
        times, queries = benchkit.timed(lambda: prefill(units=[largest], day=days.day), requests)
        figures["prefill_unit_median_ms"] = round(statistics.median(times), 1)
        figures["prefill_unit_p95_ms"] = round(benchkit.percentile(times, 0.95), 1)
        figures["prefill_unit_queries"] = len(queries)
        figures["prefill_unit_db_ms"] = round(
            sum(float(q["time"]) for q in queries.captured_queries) * 1000, 1
        )


def measure(persons: int, requests: int = REQUESTS) -> dict[str, Any]:
    """Seed an empty (migrated here) database and measure."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Max
    from django.utils import timezone

    from fangkong.alerts.models import Alert
    from fangkong.observation.bench import seed_load
    from fangkong.observation.models import ObservationEpisode, TemperatureReading
    from fangkong.org import demo as org_demo
    from fangkong.org.models import OrgUnit, Person
    from fangkong.screening.bench import BENCH_HOUSEHOLD_SIZES
    from fangkong.screening.demo import seed_screening_demo
    from fangkong.screening.models import Screening

    from .models import BranchReport, ReportStatus, ReportValue, ReportVersion, UnitReport

    call_command("migrate", verbosity=0)
    figures: dict[str, Any] = {"database": connection.vendor}
    if not UnitReport.objects.exists():
        now = timezone.now()
        steps: list[tuple[str, Callable[[], Any]]] = [
            (
                "seed_register_s",
                lambda: org_demo.seed_demo(persons=persons, household_sizes=BENCH_HOUSEHOLD_SIZES),
            ),
            ("seed_units_s", lambda: spread_units(int(os.environ.get("BENCH_UNITS") or UNITS))),
            ("seed_screening_s", lambda: seed_screening_demo(now=now)),
            ("seed_observation_s", lambda: seed_load(now=now)),
            (
                "seed_reports_s",
                lambda: seed_reports(days=int(os.environ.get("BENCH_DAYS") or DAYS), now=now),
            ),
        ]
        for name, step in steps:
            started = time.perf_counter()
            step()
            figures[name] = round(time.perf_counter() - started, 1)
    # else: a database kept from an earlier run (measured again after a change)

    last = UnitReport.objects.aggregate(last=Max("day"))["last"]
    first = UnitReport.objects.order_by("day").values_list("day", flat=True).first()
    days = _Days(
        last=last,
        day=max(first, last - dt.timedelta(days=1)),
        start=max(first, last - dt.timedelta(days=MATRIX_DAYS - 1)),
    )
    reports = UnitReport.objects
    figures.update(
        {
            "persons": Person.objects.count(),
            "registered": Person.objects.filter(is_active=True)
            .exclude(status=Person.Status.MOVED_OUT)
            .count(),
            "units": OrgUnit.objects.filter(kind=OrgUnit.Kind.UNIT, is_active=True).count(),
            "grids": OrgUnit.objects.filter(kind=OrgUnit.Kind.GRID).count(),
            "screenings": Screening.objects.count(),
            "episodes": ObservationEpisode.objects.count(),
            "readings": TemperatureReading.objects.count(),
            "alerts": Alert.objects.count(),
            "days": (last - first).days + 1,
            "reports": reports.count(),
            "submitted": reports.filter(first_submitted_at__isnull=False).count(),
            "late": reports.filter(late=True).count(),
            "approved": reports.filter(status=ReportStatus.APPROVED).count(),
            "versions": ReportVersion.objects.count(),
            "values": ReportValue.objects.count(),
            "branch_reports": BranchReport.objects.count(),
            "day_measured": days.day.isoformat(),
            "requests": requests,
        }
    )
    calls, missing = _targets(days)
    worst = benchkit.time_pages(calls, requests, figures, missing)
    figures["worst_p95_ms"] = round(worst, 1)
    figures["limit_ms"] = LIMIT_MS
    _measure_prefill(figures, days, requests)
    figures["within_limit"] = (
        worst < LIMIT_MS and not missing and figures["prefill_all_s"] < PREFILL_LIMIT_S
    )
    return figures


def main(argv: list[str]) -> int:
    """``python -m fangkong.reporting.bench measure PERSONS``: print the figures as JSON."""
    return benchkit.child_main(argv, measure, __doc__, REQUESTS)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
