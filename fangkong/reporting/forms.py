"""Forms of the daily report's pages: the unit's report of a day (built from the indicators in
force and the day's abnormal cases), the office's filters (a day's list, a period), the review
comment, the leader's approval note, the indicators and the rules.

The report form only collects what was typed: the numbers and texts are checked by
:func:`fangkong.reporting.services.submit_report`, whose messages name the field
(``values.<code>``, ``reasons.<code>``, ``actions.<person id>``); :func:`apply_report_errors`
puts each on its input."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.permissions import Perm
from fangkong.core.scoping import units_in_scope
from fangkong.org.models import OrgUnit

from . import selectors
from .models import Indicator
from .prefill import Case, rule_choices
from .selectors import Board
from .services import ACTION_MAX, COMMENT_MAX, NOTES_MAX, REASON_MAX, TEXT_MAX, Prefill

# The board statuses as the pages name them (the filter, the badges, the legend).
BOARD_LABELS: dict[str, Any] = {
    Board.ON_TIME: _("Submitted on time"),
    Board.LATE: _("Submitted late"),
    Board.RETURNED: _("Returned"),
    Board.APPROVED: _("Approved"),
    Board.MISSING: _("Missing"),
    Board.NOT_DUE: _("Not yet due"),
}
# Bootstrap badge classes of the board statuses.
BOARD_CSS: dict[str, str] = {
    Board.ON_TIME: "text-bg-primary",
    Board.LATE: "text-bg-warning",
    Board.RETURNED: "text-bg-info",
    Board.APPROVED: "text-bg-success",
    Board.MISSING: "text-bg-danger",
    Board.NOT_DUE: "text-bg-light border",
}
# How long a period the completeness page shows when none is chosen (the API's default).
DEFAULT_PERIOD_DAYS = 7


def _date_input() -> forms.DateInput:
    # <input type=date> only accepts ISO dates; the zh-hans input format is 2020/02/01.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _limit_units(form: forms.Form, units: QuerySet[OrgUnit]) -> None:
    field = cast(forms.ModelChoiceField, form.fields["unit"])
    field.queryset = units
    field.choices = [("", field.empty_label), *((u.pk, str(u)) for u in units)]


# ---------------------------------------------------------------------------------------------
# The office's filters


class DayFilterForm(forms.Form):
    """The day, a board status and a unit (its subtree) of the office's list."""

    day = forms.DateField(label=_("date"), required=False, widget=_date_input())
    status = forms.ChoiceField(
        label=_("status"),
        choices=[("", _("All statuses")), *BOARD_LABELS.items()],
        required=False,
    )
    unit = forms.ModelChoiceField(
        label=_("unit"),
        queryset=OrgUnit.objects.none(),
        required=False,
        empty_label=_("All units"),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _limit_units(self, selectors.reporting_units(user))

    def selection(self, today: dt.date) -> tuple[dt.date, str, OrgUnit | None]:
        """The day (today unless a valid one is chosen), the status and the unit in force;
        an invalid filter is left out."""
        data: dict[str, Any] = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return data.get("day") or today, data.get("status") or "", data.get("unit")


class PeriodForm(forms.Form):
    """The period of the completeness matrix (at most a year: the selector's cap) and a
    unit (its subtree)."""

    start = forms.DateField(label=_("from"), required=False, widget=_date_input())
    end = forms.DateField(label=_("until"), required=False, widget=_date_input())
    unit = forms.ModelChoiceField(
        label=_("unit"),
        queryset=OrgUnit.objects.none(),
        required=False,
        empty_label=_("All units"),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _limit_units(self, selectors.reporting_units(user))

    def period(self, today: dt.date) -> tuple[dt.date, dt.date, OrgUnit | None]:
        """The period chosen: the last 7 days until ``end`` (today) when a bound is left
        empty."""
        data: dict[str, Any] = self.cleaned_data if self.is_bound and self.is_valid() else {}
        end = data.get("end") or today
        start = data.get("start") or end - dt.timedelta(days=DEFAULT_PERIOD_DAYS - 1)
        return start, end, data.get("unit")


class BranchFilterForm(forms.Form):
    """The day of the branch report and, when the user sees several, the branch."""

    day = forms.DateField(label=_("date"), required=False, widget=_date_input())
    branch = forms.ModelChoiceField(
        label=_("branch"), queryset=OrgUnit.objects.none(), required=False, empty_label=None
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        branches = units_in_scope(user, Perm.REPORTING_VIEW).filter(kind=OrgUnit.Kind.BRANCH)
        self.branches = list(branches.order_by("path"))
        field = cast(forms.ModelChoiceField, self.fields["branch"])
        field.queryset = branches
        field.choices = [(b.pk, str(b)) for b in self.branches]

    def selection(self, today: dt.date) -> tuple[dt.date, OrgUnit | None]:
        """The day (today by default) and the branch: the one chosen, or the first the user
        sees; None for a user who sees no branch (a unit head: their units only)."""
        data: dict[str, Any] = self.cleaned_data if self.is_bound and self.is_valid() else {}
        branch = data.get("branch") or (self.branches[0] if self.branches else None)
        return data.get("day") or today, branch


# ---------------------------------------------------------------------------------------------
# The unit's report of a day


def value_field(code: str) -> str:
    return f"v_{code}"


def reason_field(code: str) -> str:
    return f"r_{code}"


def action_field(person_id: int) -> str:
    return f"a_{person_id}"


class ReportForm(forms.Form):
    """The unit's report: a number (with the reason of a difference from the register) or a
    text per indicator in force, the action taken for each abnormal case, "nothing to
    report" and the notes. Everything is passed to the service as typed."""

    nothing_to_report = forms.BooleanField(
        label=_("Nothing to report"),
        required=False,
        help_text=_("No fever, no case, nothing abnormal today: 有事报情况，无事报平安."),
    )
    notes = forms.CharField(
        label=_("notes"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": NOTES_MAX}),
    )

    def __init__(
        self,
        *args: Any,
        indicators: Sequence[Indicator],
        cases: Sequence[Case],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.indicators = list(indicators)
        self.cases = list(cases)
        for indicator in self.indicators:
            code = indicator.code
            if indicator.is_count:
                self.fields[value_field(code)] = forms.CharField(
                    label=indicator.name,
                    required=False,
                    widget=forms.NumberInput(
                        attrs={"min": 0, "inputmode": "numeric", "class": "count"}
                    ),
                )
                self.fields[reason_field(code)] = forms.CharField(
                    label=_("why it differs from the register"),
                    required=False,
                    widget=forms.TextInput(
                        attrs={
                            "maxlength": REASON_MAX,
                            "placeholder": _("e.g. two arrivals not yet registered"),
                        }
                    ),
                )
            else:
                self.fields[value_field(code)] = forms.CharField(
                    label=indicator.name,
                    required=False,
                    widget=forms.Textarea(attrs={"rows": 2, "maxlength": TEXT_MAX}),
                )
        for case in self.cases:
            self.fields[action_field(case.person_id)] = forms.CharField(
                label=_("action taken"),
                required=False,
                widget=forms.TextInput(
                    attrs={"maxlength": ACTION_MAX, "placeholder": _("e.g. re-checked, 36.8 °C")}
                ),
            )

    def submission(self) -> dict[str, Any]:
        """The service's arguments from the cleaned data: values (as typed; an empty count
        keeps the pre-filled value), reasons, actions, "nothing to report" and the notes."""
        data = self.cleaned_data
        values: dict[str, Any] = {}
        reasons: dict[str, str] = {}
        for indicator in self.indicators:
            code = indicator.code
            raw = data.get(value_field(code), "")
            if indicator.is_count:
                if raw.strip():
                    values[code] = raw.strip()
                if data.get(reason_field(code), "").strip():
                    reasons[code] = data[reason_field(code)]
            else:
                values[code] = raw
        actions = {
            case.person_id: data[action_field(case.person_id)]
            for case in self.cases
            if data.get(action_field(case.person_id), "").strip()
        }
        return {
            "values": values,
            "reasons": reasons,
            "actions": actions,
            "nothing_to_report": bool(data.get("nothing_to_report")),
            "notes": data.get("notes", ""),
        }


def report_initial(
    indicators: Sequence[Indicator],
    filled: Prefill,
    *,
    snapshot: Sequence[Mapping[str, Any]] | None = None,
    cases: Sequence[Mapping[str, Any]] | None = None,
    nothing_to_report: bool = False,
    notes: str = "",
) -> dict[str, Any]:
    """What the form starts from: the version being corrected (a draft or the report as
    last submitted), or the values pre-filled from the register; an indicator the version
    does not have starts from its pre-filled value."""
    filed = {line["code"]: line for line in snapshot or []}
    initial: dict[str, Any] = {"nothing_to_report": nothing_to_report, "notes": notes}
    for indicator in indicators:
        code = indicator.code
        line = filed.get(code)
        value = line.get("value") if line is not None else filled.values.get(code)
        initial[value_field(code)] = "" if value is None else value
        if indicator.is_count:
            reason = line.get("reason", "") if line is not None else filled.reasons.get(code, "")
            initial[reason_field(code)] = reason or ""
    actions = {case.person_id: case.action for case in filled.cases}
    for case in cases or []:
        if case.get("action") and case.get("person_id") in actions:
            actions[case["person_id"]] = case["action"]
    for person_id, action in actions.items():
        initial[action_field(person_id)] = action
    return initial


def error_field(key: str) -> str | None:
    """The form field of a service error's key (``values.fevers`` → ``v_fevers``)."""
    prefix, _dot, rest = key.partition(".")
    if rest:
        return {"values": "v_", "reasons": "r_", "actions": "a_"}.get(prefix, "?") + rest
    return key if key in ("notes", "nothing_to_report") else None


def apply_report_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's errors on the report form's inputs (the others at the top)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for key, messages in error.message_dict.items():
        name = error_field(key)
        form.add_error(name if name in form.fields else None, messages)


# ---------------------------------------------------------------------------------------------
# Review and approval


class ReviewForm(forms.Form):
    """The office's comment: required to return a report (the service says so), optional
    to approve it."""

    comment = forms.CharField(
        label=_("comment"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": COMMENT_MAX}),
    )


class BranchApproveForm(forms.Form):
    note = forms.CharField(
        label=_("note"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": 300}),
        help_text=_("Optional, e.g. 'sent to the county office by fax'."),
    )


# ---------------------------------------------------------------------------------------------
# Indicators and rules


class IndicatorForm(forms.Form):
    """An indicator of the report; the service checks the code, the name and the rule."""

    code = forms.CharField(
        label=_("code"),
        required=False,
        help_text=Indicator._meta.get_field("code").help_text,
        widget=forms.TextInput(attrs={"maxlength": 40, "autocapitalize": "off"}),
    )
    name = forms.CharField(
        label=pgettext_lazy("indicator", "name"),
        required=False,
        widget=forms.TextInput(attrs={"maxlength": 100}),
    )
    kind = forms.ChoiceField(label=_("kind"), choices=Indicator.Kind.choices)
    order = forms.IntegerField(
        label=_("order"),
        initial=0,
        help_text=_("Lines are listed by this number, smallest first (the defaults are 10, 20…)."),
    )
    rule = forms.ChoiceField(
        label=_("auto-fill rule"),
        required=False,
        help_text=Indicator._meta.get_field("rule").help_text,
    )
    is_abnormal = forms.BooleanField(
        label=_("abnormal when not zero"),
        required=False,
        help_text=Indicator._meta.get_field("is_abnormal").help_text,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("None: filled in by hand")), *rule_choices()]
        cast(forms.ChoiceField, self.fields["rule"]).choices = choices


def _time_input() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class ReportingRulesForm(forms.Form):
    deadline = forms.TimeField(
        label=_("deadline"),
        widget=_time_input(),
        help_text=_("Each day's report is due by this time (Asia/Shanghai); later is late."),
    )
    grid_reports = forms.BooleanField(
        label=_("grid sub-reports"),
        required=False,
        help_text=_(
            "Grids file sub-reports to their unit; the unit's figures then start from them."
        ),
    )

    FIELDS = ("deadline", "grid_reports")
