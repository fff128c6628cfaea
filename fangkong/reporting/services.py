"""Every write of the daily report: pre-filling (a read the writes share), drafts, submission,
review, the branch report's approval, indicators, the rules, and the deadline job that finds
missing reports.

Each call validates, checks the permission (``actor=None`` is the system itself: the
scheduler, a command) and runs in one transaction; the audit trail (simple-history) is
attributed to the actor. Validation errors name the field: ``values.<code>`` for an
indicator's value, ``reasons.<code>`` for the reason of a difference from the register,
``actions.<person id>`` for the action of an abnormal case, else the argument's name."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.alerts.models import Alert, AlertKind, AlertLevel
from fangkong.alerts.services import resolve_alert
from fangkong.command.models import Lapse
from fangkong.command.services import record_lapses
from fangkong.core.health import symptom_labels
from fangkong.core.permissions import Perm, Role
from fangkong.core.scoping import Operator, check_perm_on, has_perm, scope_for
from fangkong.core.services import acting_user as _user
from fangkong.core.services import attribute_history as _history_actor
from fangkong.org.models import OrgUnit, RoleAssignment

from . import prefill as rules_of_prefill
from .models import (
    BranchReport,
    Indicator,
    ReportingRules,
    ReportStatus,
    ReportValue,
    ReportVersion,
    UnitReport,
)
from .prefill import Case
from .rules import current_rules, deadline_of, is_late
from .tree import Target, Tree

# A count above this is a typing mistake (the register holds a million persons at most).
COUNT_MAX = 10_000_000
TEXT_MAX = 1000
NOTES_MAX = 2000
REASON_MAX = 300
COMMENT_MAX = 1000
ACTION_MAX = 300
# The first run of the deadline job looks back a day (the latest deadline); after downtime,
# at most this far.
FIRST_LOOKBACK = dt.timedelta(days=1)
LOOKBACK = dt.timedelta(days=30)
# Pre-filling more units than this reads the register of the whole organisation at once.
WHOLE_TREE_FROM = 20

Value = int | str


def _day(value: dt.date) -> str:
    return value.isoformat()


def _time(value: dt.datetime) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def active_indicators() -> list[Indicator]:
    """The indicators in force, in the report's order."""
    return list(Indicator.objects.filter(is_active=True).order_by("order", "pk"))


def missing_key(unit_id: int, day: dt.date) -> str:
    """What the missing-report alert and lapse of a unit and day are keyed by."""
    return f"missing_report:{unit_id}:{day.isoformat()}"


# ---------------------------------------------------------------------------------------------
# Pre-filling from the register


@dataclass
class Prefill:
    """What a unit's (or a grid's) report starts from on a day.

    ``register`` holds the register's value of each count indicator with an auto-fill rule;
    ``texts`` the text written from the day's records for each text indicator with a rule
    (the day's work); ``values`` what the form starts from: the register's values and the
    records' texts or, with grid sub-reports on, the grids' reported figures (their reasons
    in ``reasons``) and texts (a grid's text that only repeats its records is not repeated).
    ``cases`` lists the abnormal cases of the day."""

    unit_id: int
    day: dt.date
    values: dict[str, Value] = field(default_factory=dict)
    register: dict[str, int] = field(default_factory=dict)
    texts: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    cases: list[Case] = field(default_factory=list)
    grid_reports: list[int] = field(default_factory=list)  # the sub-reports used

    def abnormal(self, indicators: Sequence[Indicator]) -> list[str]:
        """What makes "nothing to report" wrong here, in words (empty when nothing does)."""
        return _abnormal(self.cases, indicators, self.values)


def _case_words(case: Case) -> str:
    details = []
    if case.temperature:
        details.append(f"{case.temperature} °C")
    if case.symptoms:
        details.append(symptom_labels(case.symptoms))
    what = {
        "fever": _("fever"),
        "symptoms": _("symptoms"),
        "referred": _("referred to hospital"),
        "suspected": _("suspected case"),
        "confirmed": _("confirmed case"),
    }.get(case.what, case.what)
    details.append(what)
    if case.open:
        details.append(_("not resolved"))
    return f"{case.name} ({', '.join(details)})"


def _abnormal(
    cases: Sequence[Case], indicators: Sequence[Indicator], values: Mapping[str, Any]
) -> list[str]:
    found = [_case_words(case) for case in cases]
    for indicator in indicators:
        value = values.get(indicator.code)
        if indicator.is_abnormal and indicator.is_count and isinstance(value, int) and value > 0:
            found.append(f"{indicator.name}: {value}")
    return found


def _grid_reports(day: dt.date, grid_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The submitted (or approved) sub-reports of ``grid_ids`` on ``day``: by grid, the
    report's id, its values by code (number, text, reason) and the actions of its cases."""
    if not grid_ids:
        return {}
    reports = UnitReport.objects.filter(
        day=day,
        unit_id__in=list(grid_ids),
        status__in=[ReportStatus.SUBMITTED, ReportStatus.APPROVED],
        current__isnull=False,
    ).values_list("pk", "unit_id", "current_id", "current__cases")
    found: dict[int, dict[str, Any]] = {}
    by_version: dict[int, int] = {}
    for pk, unit_id, version_id, cases in reports:
        actions = {c["person_id"]: c.get("action", "") for c in cases or [] if c.get("action")}
        found[unit_id] = {"report": pk, "values": {}, "actions": actions}
        by_version[version_id] = unit_id
    values = ReportValue.objects.filter(version_id__in=list(by_version)).values_list(
        "version_id", "indicator__code", "number", "text", "reason"
    )
    for version_id, code, number, text, reason in values:
        found[by_version[version_id]]["values"][code] = (number, text, reason)
    return found


def prefill(
    *,
    units: Sequence[Target],
    day: dt.date,
    indicators: Sequence[Indicator] | None = None,
    rules: ReportingRules | None = None,
) -> dict[int, Prefill]:
    """What the reports of ``units`` (org units of kind unit, or grids filing sub-reports)
    start from on ``day``, by unit id. Reads the register once per auto-fill rule, whatever
    the number of units (all 600 units of a million-person register in a few seconds)."""
    indicators = list(indicators) if indicators is not None else active_indicators()
    rules = rules or current_rules()
    if not units:
        return {}
    if len(units) > WHOLE_TREE_FROM:
        tree = Tree.load()
        org_units = None
    else:
        tree = Tree.load(under=units)
        org_units = set(tree.nodes)
    wanted = [i.rule for i in indicators if i.is_count and i.rule in rules_of_prefill.RULES]
    counts = rules_of_prefill.register_counts(day, wanted, org_units)
    written = [
        i.rule for i in indicators if not i.is_count and i.rule in rules_of_prefill.TEXT_RULES
    ]
    tallies = rules_of_prefill.register_texts(day, written, org_units)
    cases = rules_of_prefill.abnormal_cases(day, org_units)
    blocks = {unit.pk: tree.blocks(unit) for unit in units if unit.kind == OrgUnit.Kind.UNIT}
    subs: dict[int, dict[str, Any]] = {}
    if rules.grid_reports:
        grids = [pk for unit_blocks in blocks.values() for pk in unit_blocks]
        subs = _grid_reports(day, [pk for pk in grids if tree.nodes[pk].kind == OrgUnit.Kind.GRID])

    def register_of(indicator: Indicator, among: Sequence[int]) -> int:
        by_unit = counts.get(indicator.rule, {})
        return sum(by_unit.get(pk, 0) for pk in among)

    def text_of(indicator: Indicator, among: Sequence[int]) -> str:
        found = rules_of_prefill.summed(tallies[indicator.rule], among)
        return rules_of_prefill.render_text(indicator.rule, found)

    result: dict[int, Prefill] = {}
    for unit in units:
        members = tree.members(unit)
        filled = Prefill(unit_id=unit.pk, day=day)
        texts: dict[str, list[str]] = {}
        for indicator in indicators:
            if indicator.is_count:
                if indicator.rule in counts:
                    filled.register[indicator.code] = register_of(indicator, members)
                    filled.values[indicator.code] = filled.register[indicator.code]
                else:
                    filled.values[indicator.code] = 0
            elif indicator.rule in tallies:
                filled.texts[indicator.code] = text_of(indicator, members)
                filled.values[indicator.code] = filled.texts[indicator.code]
            else:
                filled.values[indicator.code] = ""
        actions: dict[int, str] = {}
        for block, among in blocks.get(unit.pk, {}).items():
            sub = subs.get(block)
            if sub is None:
                continue
            filled.grid_reports.append(sub["report"])
            grid = tree.nodes[block]
            actions.update(sub["actions"])
            for indicator in indicators:
                if indicator.code not in sub["values"]:
                    continue
                number, text, reason = sub["values"][indicator.code]
                if indicator.is_count and number is not None:
                    base = register_of(indicator, among) if indicator.rule in counts else 0
                    filled.values[indicator.code] = int(filled.values[indicator.code]) + (
                        number - base
                    )
                    if reason:
                        earlier = filled.reasons.get(indicator.code, "")
                        line = f"{grid.name}: {reason}"
                        filled.reasons[indicator.code] = f"{earlier}; {line}" if earlier else line
                elif not indicator.is_count and text:
                    if indicator.rule in tallies and text == text_of(indicator, among):
                        continue  # the grid's records: in the unit's text already
                    texts.setdefault(indicator.code, []).append(f"{grid.name}: {text}")
        for code, lines in texts.items():
            if filled.texts.get(code):
                lines = [filled.texts[code], *lines]
            filled.values[code] = "\n".join(lines)[:TEXT_MAX]
        found = [case for pk in members for case in cases.get(pk, [])]
        for case in found:
            if not case.action and case.person_id in actions:
                case.action = actions[case.person_id]
        filled.cases = sorted(found, key=lambda c: (c.name, c.person_id))
        result[unit.pk] = filled
    return result


# ---------------------------------------------------------------------------------------------
# Filing


def _check_target(unit: OrgUnit, rules: ReportingRules) -> None:
    if not unit.is_active:
        raise ValidationError({"unit": _("%(unit)s is no longer active.") % {"unit": unit.name}})
    if unit.kind == OrgUnit.Kind.GRID and not rules.grid_reports:
        raise ValidationError(
            {
                "unit": _(
                    "Grids do not file sub-reports (the office has not turned them on): the "
                    "unit head files the unit's report."
                )
            }
        )
    if unit.kind not in (OrgUnit.Kind.UNIT, OrgUnit.Kind.GRID):
        raise ValidationError(
            {"unit": _("Only units (and grids, when turned on) file daily reports.")}
        )


def _check_day(day: dt.date, now: dt.datetime) -> None:
    if day is None:
        raise ValidationError({"day": _("Enter the day the report is for.")})
    if day > timezone.localdate(now):
        raise ValidationError(
            {
                "day": _("%(day)s has not come yet: a report is filed on its day or later.")
                % {"day": _day(day)}
            }
        )


def _locked_report(unit: OrgUnit, day: dt.date, now: dt.datetime, actor: Any) -> UnitReport:
    """The unit's report of ``day`` under a row lock, created (as a draft) if need be."""
    report = UnitReport.objects.select_for_update().filter(unit=unit, day=day).first()
    if report is not None:
        return report
    report = UnitReport(unit=unit, day=day, created_at=now, filled_by=_user(actor))
    _history_actor(report, actor)
    try:
        with transaction.atomic():
            report.save()
    except IntegrityError:  # created at the same moment by someone else
        return UnitReport.objects.select_for_update().get(unit=unit, day=day)
    return report


def _clean_count(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError
    if isinstance(raw, int):
        number = raw
    elif isinstance(raw, str) and raw.strip().isdigit():
        number = int(raw.strip())
    else:
        raise ValueError
    if not 0 <= number <= COUNT_MAX:
        raise ValueError
    return number


@dataclass
class _Line:
    indicator: Indicator
    number: int | None
    text: str
    register: int | None
    reason: str


def _clean_lines(
    indicators: Sequence[Indicator],
    filled: Prefill,
    values: Mapping[str, Any],
    reasons: Mapping[str, Any],
    *,
    strict: bool,
) -> tuple[list[_Line], dict[str, list[str]]]:
    """The report's lines from the given values (the pre-filled ones where none is given),
    and the errors by field. ``strict`` (submitting): a count that differs from the register
    needs a reason."""
    errors: dict[str, list[str]] = {}
    codes = {indicator.code for indicator in indicators}
    for code in list(values) + list(reasons):
        if code not in codes:
            key = f"values.{code}" if code in values else f"reasons.{code}"
            errors.setdefault(key, []).append(
                _("%(code)s is not an indicator of the report (it may have been retired).")
                % {"code": code}
            )
    lines = []
    for indicator in indicators:
        code = indicator.code
        raw = values.get(code)
        number: int | None = None
        text = ""
        if indicator.is_count:
            if raw is None or raw == "":
                number = int(filled.values.get(code, 0))
            else:
                try:
                    number = _clean_count(raw)
                except ValueError:
                    errors.setdefault(f"values.{code}", []).append(
                        _("%(name)s: enter a whole number from 0 to %(max)d.")
                        % {"name": indicator.name, "max": COUNT_MAX}
                    )
                    continue
        else:
            text = str(filled.values.get(code, "") if raw is None else raw).strip()
            if len(text) > TEXT_MAX:
                errors.setdefault(f"values.{code}", []).append(
                    _("%(name)s: keep it under %(max)d characters.")
                    % {"name": indicator.name, "max": TEXT_MAX}
                )
        register = filled.register.get(code) if indicator.is_count else None
        given = str(reasons.get(code) or "").strip()
        if len(given) > REASON_MAX:
            errors.setdefault(f"reasons.{code}", []).append(
                _("Keep the reason under %(max)d characters.") % {"max": REASON_MAX}
            )
        carried = filled.reasons.get(code, "") if number == filled.values.get(code) else ""
        # A reason explains a difference from the register; without one it is not kept.
        differs = register is not None and number != register
        reason = (given or carried)[:REASON_MAX] if differs else ""
        if strict and differs and not reason:
            errors.setdefault(f"reasons.{code}", []).append(
                _(
                    "%(name)s: %(value)s differs from the register (%(register)s): say why, "
                    "e.g. 'two arrivals not yet registered'."
                )
                % {"name": indicator.name, "value": number, "register": register}
            )
        lines.append(_Line(indicator, number, text, register, reason))
    return lines, errors


def _clean_actions(
    cases: Sequence[Case], actions: Mapping[Any, Any], errors: dict[str, list[str]]
) -> list[dict[str, Any]]:
    by_person = {case.person_id: case for case in cases}
    for key, action in actions.items():
        try:
            person_id = int(key)
        except (TypeError, ValueError):
            person_id = -1
        if person_id not in by_person:
            errors.setdefault(f"actions.{key}", []).append(
                _("This person is not among the day's abnormal cases.")
            )
            continue
        action = str(action or "").strip()
        if len(action) > ACTION_MAX:
            errors.setdefault(f"actions.{key}", []).append(
                _("Keep the action under %(max)d characters.") % {"max": ACTION_MAX}
            )
        elif action:
            by_person[person_id].action = action
    return [case.as_dict() for case in cases]


def _clean_notes(notes: str, errors: dict[str, list[str]]) -> str:
    notes = (notes or "").strip()
    if len(notes) > NOTES_MAX:
        errors.setdefault("notes", []).append(
            _("Keep the notes under %(max)d characters.") % {"max": NOTES_MAX}
        )
    return notes


def _snapshot(lines: Sequence[_Line]) -> list[dict[str, Any]]:
    return [
        {
            "code": line.indicator.code,
            "name": line.indicator.name,
            "kind": line.indicator.kind,
            "value": line.number if line.indicator.is_count else line.text,
            "in_register": line.register,
            "reason": line.reason,
        }
        for line in lines
    ]


def _draft_of(report: UnitReport) -> ReportVersion:
    """The report's draft version, created after the last submitted one if there is none."""
    draft = ReportVersion.objects.filter(report=report, submitted_at__isnull=True).first()
    if draft is not None:
        return draft
    submitted = ReportVersion.objects.filter(report=report, submitted_at__isnull=False).count()
    return ReportVersion.objects.create(report=report, number=submitted + 1)


def _write_lines(version: ReportVersion, lines: Sequence[_Line]) -> None:
    ReportValue.objects.filter(version=version).delete()
    ReportValue.objects.bulk_create(
        [
            ReportValue(
                version=version,
                indicator=line.indicator,
                number=line.number,
                text=line.text,
                register=line.register,
                reason=line.reason,
            )
            for line in lines
        ]
    )


@dataclass
class _Filing:
    unit: OrgUnit
    report: UnitReport
    indicators: list[Indicator]
    prefilled: Prefill
    lines: list[_Line]
    cases: list[dict[str, Any]]
    notes: str


def _file(
    *,
    actor: Any,
    unit: OrgUnit,
    day: dt.date,
    values: Mapping[str, Any] | None,
    reasons: Mapping[str, Any] | None,
    nothing_to_report: bool,
    notes: str,
    actions: Mapping[Any, Any] | None,
    now: dt.datetime,
    strict: bool,
) -> _Filing:
    unit = OrgUnit.objects.get(pk=unit.pk)
    if actor is not None:
        check_perm_on(actor, Perm.REPORTING_FILE, unit)
    rules = current_rules()
    _check_target(unit, rules)
    _check_day(day, now)
    report = _locked_report(unit, day, now, actor)
    if report.status == ReportStatus.APPROVED:
        raise ValidationError(
            _("The report of %(day)s is approved: it can no longer be changed.")
            % {"day": _day(day)}
        )
    if not strict and report.status == ReportStatus.SUBMITTED:
        raise ValidationError(
            _("The report is submitted and waits for review: submit a corrected version instead.")
        )
    indicators = active_indicators()
    filled = prefill(units=[unit], day=day, indicators=indicators, rules=rules)[unit.pk]
    lines, errors = _clean_lines(indicators, filled, values or {}, reasons or {}, strict=strict)
    cases = _clean_actions(filled.cases, actions or {}, errors)
    notes = _clean_notes(notes, errors)
    if strict and nothing_to_report:
        submitted = {line.indicator.code: line.number for line in lines if line.number is not None}
        abnormal = _abnormal(filled.cases, indicators, submitted)
        if abnormal:
            errors.setdefault("nothing_to_report", []).append(
                _(
                    "Not 'nothing to report' on %(day)s: %(abnormal)s. Report what happened "
                    "and what was done."
                )
                % {"abnormal": "; ".join(abnormal), "day": _day(day)}
            )
    if errors:
        raise ValidationError(errors)
    return _Filing(unit, report, indicators, filled, lines, cases, notes)


def _filled_version(filing: _Filing, nothing_to_report: bool) -> ReportVersion:
    """The report's draft version holding what was filed: its values, the snapshot of the
    lines, the cases with their actions (not saved yet)."""
    version = _draft_of(filing.report)
    _write_lines(version, filing.lines)
    version.nothing_to_report = nothing_to_report
    version.notes = filing.notes
    version.snapshot = _snapshot(filing.lines)
    version.cases = filing.cases
    return version


@transaction.atomic
def save_draft(
    *,
    actor: Any,
    unit: OrgUnit,
    day: dt.date,
    values: Mapping[str, Any] | None = None,
    reasons: Mapping[str, Any] | None = None,
    nothing_to_report: bool = False,
    notes: str = "",
    actions: Mapping[Any, Any] | None = None,
    at: dt.datetime | None = None,
) -> UnitReport:
    """Keep the unit's report of ``day`` as a draft (not yet a report: at the deadline a
    draft is missing). Values not given are pre-filled from the register. A submitted report
    waiting for review is corrected by submitting again, not by a draft."""
    now = at or timezone.now()
    filing = _file(
        actor=actor,
        unit=unit,
        day=day,
        values=values,
        reasons=reasons,
        nothing_to_report=nothing_to_report,
        notes=notes,
        actions=actions,
        now=now,
        strict=False,
    )
    report = filing.report
    draft = _filled_version(filing, nothing_to_report)
    draft.save(update_fields=["nothing_to_report", "notes", "snapshot", "cases"])
    if report.current is None:  # else the report shows its submitted version until the next
        report.nothing_to_report = nothing_to_report
        report.notes = filing.notes
        report.filled_by = _user(actor) or report.filled_by
        _history_actor(report, actor)
        report.save()
    return report


@transaction.atomic
def submit_report(
    *,
    actor: Any,
    unit: OrgUnit,
    day: dt.date,
    values: Mapping[str, Any] | None = None,
    reasons: Mapping[str, Any] | None = None,
    nothing_to_report: bool = False,
    notes: str = "",
    actions: Mapping[Any, Any] | None = None,
    at: dt.datetime | None = None,
) -> UnitReport:
    """Submit the unit's report of ``day`` (a new version each time: the first, or a
    correction after a return or before the review). Values not given are the pre-filled
    ones; a count that differs from the register needs a reason; "nothing to report" is
    refused, with the reason, while the register has an abnormal case that day. The first
    submission decides whether the report is late; a missing-report alert still open is
    resolved."""
    now = at or timezone.now()
    filing = _file(
        actor=actor,
        unit=unit,
        day=day,
        values=values,
        reasons=reasons,
        nothing_to_report=nothing_to_report,
        notes=notes,
        actions=actions,
        now=now,
        strict=True,
    )
    report = filing.report
    version = _filled_version(filing, nothing_to_report)
    version.submitted_at = now
    version.submitted_by = _user(actor)
    version.save()
    if report.first_submitted_at is None:
        report.first_submitted_at = now
        report.late = is_late(day, now, current_rules())
    report.status = ReportStatus.SUBMITTED
    report.current = version
    report.submitted_at = now
    report.nothing_to_report = nothing_to_report
    report.notes = filing.notes
    report.filled_by = _user(actor) or report.filled_by
    report.reviewed_by = None
    report.reviewed_at = None
    report.review_comment = ""
    _history_actor(report, actor)
    report.save()
    missing = Alert.objects.filter(key=missing_key(report.unit_id, day)).exclude(
        status=Alert.Status.RESOLVED
    )
    for alert in missing:
        resolve_alert(
            actor=None,
            alert=alert,
            note=_("Report submitted at %(time)s.") % {"time": _time(now)},
        )
    return report


# ---------------------------------------------------------------------------------------------
# Review


def _check_review(actor: Any, report: UnitReport) -> None:
    """The office reviews unit reports; a grid's sub-report is also reviewed by the head of
    the unit it reports to (the nearest unit above the grid)."""
    if actor is None or scope_for(actor, Perm.REPORTING_REVIEW).covers(report.unit):
        return
    if report.unit.kind == OrgUnit.Kind.GRID:
        unit = (
            OrgUnit.objects.filter(pk__in=report.unit.path_ids, kind=OrgUnit.Kind.UNIT)
            .order_by("-depth")
            .first()
        )
        if unit is not None and scope_for(actor, Perm.REPORTING_FILE).covers(unit):
            return
    raise PermissionDenied


def _locked_for_review(actor: Any, report: UnitReport) -> UnitReport:
    report = (
        UnitReport.objects.select_for_update(of=("self",))
        .select_related("unit", "current")
        .get(pk=report.pk)
    )
    _check_review(actor, report)
    if report.status != ReportStatus.SUBMITTED:
        raise ValidationError(
            _("Only a submitted report can be reviewed (this one is %(status)s).")
            % {"status": report.get_status_display()}
        )
    return report


def _clean_comment(comment: str, *, required: bool) -> str:
    comment = (comment or "").strip()
    if required and not comment:
        raise ValidationError(
            {"comment": _("Say what to correct, e.g. 'fevers: 张三 was re-checked at 36.8 °C'.")}
        )
    if len(comment) > COMMENT_MAX:
        raise ValidationError(
            {"comment": _("Keep the comment under %(max)d characters.") % {"max": COMMENT_MAX}}
        )
    return comment


def _review(
    actor: Any, report: UnitReport, outcome: str, comment: str, at: dt.datetime | None
) -> UnitReport:
    now = at or timezone.now()
    report.status = outcome
    report.reviewed_by = _user(actor)
    report.reviewed_at = now
    report.review_comment = comment
    _history_actor(report, actor)
    report.save()
    version = report.current
    if version is not None:
        version.review_status = outcome
        version.reviewed_by = _user(actor)
        version.reviewed_at = now
        version.review_comment = comment
        version.save(
            update_fields=["review_status", "reviewed_by", "reviewed_at", "review_comment"]
        )
    return report


@transaction.atomic
def return_report(
    *, actor: Any, report: UnitReport, comment: str, at: dt.datetime | None = None
) -> UnitReport:
    """Send a submitted report back to the unit with a comment saying what to correct; the
    unit corrects it and submits again (a new version)."""
    report = _locked_for_review(actor, report)
    comment = _clean_comment(comment, required=True)
    return _review(actor, report, ReportStatus.RETURNED, comment, at)


@transaction.atomic
def approve_report(
    *, actor: Any, report: UnitReport, comment: str = "", at: dt.datetime | None = None
) -> UnitReport:
    """Approve a submitted report: it counts in the branch report from now on."""
    report = _locked_for_review(actor, report)
    comment = _clean_comment(comment, required=False)
    return _review(actor, report, ReportStatus.APPROVED, comment, at)


# ---------------------------------------------------------------------------------------------
# The branch report


@transaction.atomic
def approve_branch_report(
    *,
    actor: Any,
    branch: OrgUnit,
    day: dt.date,
    note: str = "",
    at: dt.datetime | None = None,
) -> BranchReport:
    """The leader (or a deputy) approves the branch's report of ``day``: it counts as sent,
    with who and when, and the aggregate as approved is kept. Approving again is possible
    once the aggregate has changed (a unit report approved since)."""
    from .selectors import branch_aggregate

    now = at or timezone.now()
    branch = OrgUnit.objects.get(pk=branch.pk)
    if actor is not None:
        check_perm_on(actor, Perm.REPORTING_APPROVE, branch)
    if branch.kind != OrgUnit.Kind.BRANCH:
        raise ValidationError({"branch": _("Choose a branch: only a branch report is approved.")})
    if day is None or day > timezone.localdate(now):
        raise ValidationError({"day": _("Choose today or an earlier day.")})
    note = (note or "").strip()
    if len(note) > 300:
        raise ValidationError({"note": _("Keep the note under 300 characters.")})
    viewer = actor if actor is not None else Operator()
    aggregate = branch_aggregate(viewer, day, branch=branch, now=now)
    if aggregate.approved == 0:
        raise ValidationError(
            {
                "day": _(
                    "No unit report of %(day)s is approved yet: approve the units' reports first."
                )
                % {"day": _day(day)}
            }
        )
    snapshot = aggregate.as_dict(with_approval=False)
    report = BranchReport.objects.select_for_update().filter(branch=branch, day=day).first()
    if report is not None and report.snapshot == snapshot:
        raise ValidationError(
            _("%(name)s approved this report at %(time)s and nothing has changed since.")
            % {
                "name": str(report.approved_by) if report.approved_by else _("the system"),
                "time": _time(report.approved_at),
            }
        )
    report = report or BranchReport(branch=branch, day=day)
    report.approved_at = now
    report.approved_by = _user(actor)
    report.note = note
    report.snapshot = snapshot
    _history_actor(report, actor)
    report.save()
    return report


# ---------------------------------------------------------------------------------------------
# Indicators and rules


def _check_manage(actor: Any) -> None:
    if actor is not None and not has_perm(actor, Perm.REPORTING_MANAGE):
        raise PermissionDenied


@transaction.atomic
def save_indicator(
    *,
    actor: Any,
    indicator: Indicator | None = None,
    code: str,
    name: str,
    kind: str = Indicator.Kind.COUNT,
    order: int = 0,
    rule: str = "",
    is_abnormal: bool = False,
) -> Indicator:
    """Add an indicator, or change one. Its code and kind stay fixed once a report used it
    (the reports filed with it must keep reading the same)."""
    _check_manage(actor)
    errors: dict[str, list[str]] = {}
    code = (code or "").strip().lower()
    name = (name or "").strip()
    rule = (rule or "").strip()
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", code):
        errors["code"] = [
            _("Use lower-case letters, digits and _ (up to 40, a letter first), e.g. fevers.")
        ]
    elif (
        Indicator.objects.filter(code=code)
        .exclude(pk__in=[indicator.pk] if indicator is not None and indicator.pk else [])
        .exists()
    ):
        errors["code"] = [_("An indicator with this code exists: choose another code.")]
    if not name:
        errors["name"] = [_("Name the indicator as the form shows it, e.g. 今日发热人数.")]
    elif len(name) > 100:
        errors["name"] = [_("Keep the name under 100 characters.")]
    if kind not in Indicator.Kind.values:
        errors["kind"] = [_("Choose count or text.")]
    rule_kind = rules_of_prefill.rule_kind(rule) if rule else None
    if rule and rule_kind is None:
        errors["rule"] = [_("Choose an auto-fill rule from the list, or none.")]
    elif rule and rule_kind == "count" and kind != Indicator.Kind.COUNT:
        errors["rule"] = [_("This rule fills a count: choose the kind count, or another rule.")]
    elif rule and rule_kind == "text" and kind != Indicator.Kind.TEXT:
        errors["rule"] = [_("This rule writes a text: choose the kind text, or another rule.")]
    if not 0 <= int(order) <= 32767:
        errors["order"] = [_("Enter an order from 0 to 32767.")]
    if indicator is not None and indicator.pk is not None:
        used = ReportValue.objects.filter(indicator=indicator).exists()
        if used and code != indicator.code:
            errors.setdefault("code", []).append(
                _("Reports use this indicator: its code cannot change.")
            )
        if used and kind != indicator.kind:
            errors.setdefault("kind", []).append(
                _("Reports use this indicator: it cannot change between count and text.")
            )
    if errors:
        raise ValidationError(errors)
    indicator = indicator or Indicator()
    indicator.code = code
    indicator.name = name
    indicator.kind = kind
    indicator.order = int(order)
    indicator.rule = rule
    indicator.is_abnormal = bool(is_abnormal) and kind == Indicator.Kind.COUNT
    _history_actor(indicator, actor)
    indicator.save()
    return indicator


@transaction.atomic
def retire_indicator(
    *, actor: Any, indicator: Indicator, at: dt.datetime | None = None
) -> Indicator:
    """Take an indicator off the report from now on; the reports filed with it keep it."""
    _check_manage(actor)
    indicator = Indicator.objects.select_for_update().get(pk=indicator.pk)
    if not indicator.is_active:
        raise ValidationError(_("This indicator is already retired."))
    indicator.is_active = False
    indicator.retired_at = at or timezone.now()
    _history_actor(indicator, actor)
    indicator.save()
    return indicator


@transaction.atomic
def reinstate_indicator(*, actor: Any, indicator: Indicator) -> Indicator:
    """Put a retired indicator back on the report."""
    _check_manage(actor)
    indicator = Indicator.objects.select_for_update().get(pk=indicator.pk)
    if indicator.is_active:
        raise ValidationError(_("This indicator is in force already."))
    indicator.is_active = True
    indicator.retired_at = None
    _history_actor(indicator, actor)
    indicator.save()
    return indicator


RULE_FIELDS = ("deadline", "grid_reports")


@transaction.atomic
def update_rules(*, actor: Any, **values: Any) -> ReportingRules:
    """Change the deadline or turn grid sub-reports on or off (the office)."""
    _check_manage(actor)
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise TypeError(f"unknown reporting rules: {sorted(unknown)}")
    rules = (
        ReportingRules.objects.select_for_update().filter(pk=ReportingRules.SINGLETON_PK).first()
    )
    rules = rules or ReportingRules(pk=ReportingRules.SINGLETON_PK)
    if "deadline" in values:
        deadline = values["deadline"]
        if not isinstance(deadline, dt.time):
            raise ValidationError({"deadline": _("Enter the deadline as a time, e.g. 13:00.")})
        rules.deadline = deadline.replace(microsecond=0, tzinfo=None)
    if "grid_reports" in values:
        rules.grid_reports = bool(values["grid_reports"])
    _history_actor(rules, actor)
    rules.save()
    return rules


# ---------------------------------------------------------------------------------------------
# The deadline job


def _unit_heads(unit_ids: Sequence[int]) -> dict[int, int]:
    """A unit head (user id) of each unit that has one (the first assigned)."""
    rows = (
        RoleAssignment.objects.filter(
            role=Role.UNIT_HEAD, org_unit_id__in=list(unit_ids), user__is_active=True
        )
        .order_by("pk")
        .values_list("org_unit_id", "user_id")
    )
    heads: dict[int, int] = {}
    for unit_id, user_id in rows:
        heads.setdefault(unit_id, user_id)
    return heads


def _record_missing(day: dt.date, deadline: dt.datetime, now: dt.datetime) -> int:
    units = dict(
        OrgUnit.objects.filter(is_active=True, kind=OrgUnit.Kind.UNIT).values_list("pk", "name")
    )
    reports: dict[int, tuple[int, dt.datetime | None]] = {
        unit_id: (pk, first)
        for unit_id, pk, first in UnitReport.objects.filter(
            day=day, unit__kind=OrgUnit.Kind.UNIT
        ).values_list("unit_id", "pk", "first_submitted_at")
    }

    def submitted_by_deadline(pk: int) -> bool:
        first = reports[pk][1] if pk in reports else None
        return first is not None and first <= deadline

    missing = [pk for pk in units if not submitted_by_deadline(pk)]
    if not missing:
        return 0
    heads = _unit_heads(missing)
    summary = _("%(unit)s: no daily report for %(day)s by %(deadline)s")
    lapses = []
    alerts = []
    for pk in missing:
        key = missing_key(pk, day)
        text = summary % {
            "unit": units[pk],
            "day": _day(day),
            "deadline": timezone.localtime(deadline).strftime("%H:%M"),
        }
        report_id = reports[pk][0] if pk in reports else None
        lapses.append(
            Lapse(
                kind=Lapse.Kind.MISSING_REPORT,
                key=key,
                unit_id=pk,
                day=day,
                responsible_id=heads.get(pk),
                object_type="reporting.unitreport" if report_id else "",
                object_id=report_id,
                note=text,
                created_at=now,
            )
        )
        if pk not in reports or reports[pk][1] is None:  # still nothing: someone must act
            alerts.append(
                Alert(
                    kind=AlertKind.MISSING_REPORT,
                    key=key,
                    unit_id=pk,
                    object_type="reporting.unitreport" if report_id else "",
                    object_id=report_id,
                    summary=text,
                    data={"day": day.isoformat(), "deadline": deadline.isoformat()},
                    raised_at=deadline,
                    level=AlertLevel.UNIT,
                )
            )
    recorded = record_lapses(lapses)
    if alerts:
        existing = set(
            Alert.objects.filter(key__in=[a.key for a in alerts]).values_list("key", flat=True)
        )
        fresh = [a for a in alerts if a.key not in existing]
        Alert.objects.bulk_create(fresh, ignore_conflicts=True, batch_size=500)
    return len(recorded)


def find_missing_reports(*, now: dt.datetime, since: dt.datetime | None = None) -> int:
    """At each deadline that passed in (since, now], every active unit without a report
    submitted by the deadline is missing — once, however often or late this runs (keyed by
    unit and day): a lapse is recorded against the unit (its head responsible) and, unless
    the report has arrived meanwhile, an alert goes to the unit head. Grids' sub-reports are
    not chased: the unit's report is what is due. Returns the lapses recorded."""
    rules = current_rules()
    start = now - FIRST_LOOKBACK if since is None else max(since, now - LOOKBACK)
    recorded = 0
    day = timezone.localtime(start).date() - dt.timedelta(days=1)
    last = timezone.localtime(now).date()
    while day <= last:
        deadline = deadline_of(day, rules)
        if start < deadline <= now:
            recorded += _record_missing(day, deadline, now)
        day += dt.timedelta(days=1)
    return recorded
