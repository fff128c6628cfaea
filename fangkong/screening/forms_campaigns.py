"""Forms of the campaign pages: campaigns, the to-do filters, grid assignment, the rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.permissions import Perm
from fangkong.core.scoping import units_in_scope
from fangkong.org.models import OrgUnit, User

from .models import Campaign
from .services import RULE_LIMITS


def _date_input() -> forms.DateInput:
    # <input type=date> only accepts ISO dates; the zh-hans input format is 2020/02/01.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# Above this many options a drop-down is too long to send to a phone: grids are left out of
# it (a grid is still accepted, e.g. from a link on its page).
MAX_OPTIONS = 300


def _unit_choices(field: forms.ModelChoiceField, units: QuerySet[OrgUnit], wanted: Any) -> None:
    options = list(units[: MAX_OPTIONS + 1])
    if len(options) > MAX_OPTIONS:
        options = list(units.exclude(kind=OrgUnit.Kind.GRID)[:MAX_OPTIONS])
        wanted = str(wanted or "")
        selected = units.filter(pk=int(wanted)).first() if wanted.isdigit() else None
        if selected is not None and selected not in options:
            options.append(selected)
    empty = [("", field.empty_label)] if field.empty_label is not None else []
    field.choices = [*empty, *((u.pk, f"{u.name} ({u.code})") for u in options)]


class CampaignForm(forms.Form):
    name = forms.CharField(
        label=pgettext_lazy("campaign", "name"),
        max_length=100,
        help_text=_("e.g. 2月第一轮摸排"),
    )
    unit = forms.ModelChoiceField(
        label=_("scope"),
        queryset=OrgUnit.objects.none(),
        help_text=_("The branch, unit or grid whose households are screened."),
    )
    start = forms.DateField(label=_("from"), widget=_date_input())
    end = forms.DateField(
        label=_("until"),
        required=False,
        widget=_date_input(),
        help_text=_("The last day of the campaign; leave empty while it runs."),
    )
    instructions = forms.CharField(
        label=_("instructions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the grid workers ask at the door, what to bring, whom to call."),
    )

    def __init__(self, *args: Any, user: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:  # the scope is fixed once the campaign exists
            del self.fields["unit"]
            return
        units = units_in_scope(user, Perm.SCREENING_MANAGE).order_by("path")
        field = cast(forms.ModelChoiceField, self.fields["unit"])
        field.queryset = units
        _unit_choices(field, units, self.data.get("unit") if self.is_bound else None)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end date cannot be before the start date."))
        return data


class CampaignFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("status"),
        choices=[("", _("Open and closed")), *Campaign.Status.choices],
        required=False,
    )


class TodoFilterForm(forms.Form):
    """Which part of the to-do list: households or persons, one grid, my grids or all."""

    SHOW_HOUSEHOLDS = "households"
    SHOW_PERSONS = "persons"

    show = forms.ChoiceField(
        choices=[(SHOW_HOUSEHOLDS, _("Households left")), (SHOW_PERSONS, _("Persons never seen"))],
        required=False,
        widget=forms.HiddenInput,
    )
    grid = forms.ModelChoiceField(
        label=_("grid"),
        queryset=OrgUnit.objects.none(),
        required=False,
        empty_label=_("All grids"),
    )
    mine = forms.ChoiceField(
        label=_("whose"),
        choices=[("1", _("My grids")), ("0", _("Every grid I may see"))],
        required=False,
    )

    def __init__(self, *args: Any, grids: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["grid"])
        field.queryset = grids
        _unit_choices(field, grids.order_by("path"), self.data.get("grid"))


class WorkersField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.full_name} ({obj.username})" if obj.full_name else str(obj.username)


class AssignForm(forms.Form):
    workers = WorkersField(
        label=_("grid workers"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Those holding the grid worker role on this grid or on a unit above it."),
    )

    def __init__(self, *args: Any, candidates: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelMultipleChoiceField, self.fields["workers"])
        field.queryset = candidates


class RulesForm(forms.Form):
    travel_window_days = forms.IntegerField(
        label=_("travel window (days)"),
        min_value=RULE_LIMITS["travel_window_days"][0],
        max_value=RULE_LIMITS["travel_window_days"][1],
    )
    medium_risk_is_key = forms.BooleanField(label=_("medium-risk areas count"), required=False)
    contact_window_days = forms.IntegerField(
        label=_("contact window (days)"),
        min_value=RULE_LIMITS["contact_window_days"][0],
        max_value=RULE_LIMITS["contact_window_days"][1],
    )
    fever_threshold = forms.DecimalField(
        label=_("fever threshold (°C)"),
        max_digits=3,
        decimal_places=1,
        min_value=Decimal(RULE_LIMITS["fever_threshold"][0]),
        max_value=Decimal(RULE_LIMITS["fever_threshold"][1]),
    )
    arrival_report_hours = forms.IntegerField(
        label=_("arrival report limit (hours)"),
        min_value=RULE_LIMITS["arrival_report_hours"][0],
        max_value=RULE_LIMITS["arrival_report_hours"][1],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("travel_window_days", "contact_window_days", "arrival_report_hours"):
            self.fields[name].widget.attrs["inputmode"] = "numeric"
        self.fields["fever_threshold"].widget.attrs.update({"inputmode": "decimal", "step": "0.1"})
