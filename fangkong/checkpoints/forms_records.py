"""Forms of the records: places to disinfect, a disinfection, publicity, and the lists'
filters. Values are passed to the services as typed; the services validate."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.permissions import Perm
from fangkong.core.scoping import units_in_scope
from fangkong.org.forms import ListFilterForm
from fangkong.org.models import OrgUnit

from .models import PublicityRecord
from .rules_records import AGENTS, MAX_TIMES_PER_DAY, MIN_TIMES_PER_DAY
from .selectors import records as selectors

# Above this many org units a drop-down is too long: grids are left out (a place of a grid is
# added from the grid's unit by its head, whose list is short).
MAX_UNIT_OPTIONS = 300


def _date_input() -> forms.DateInput:
    # <input type=date> only accepts ISO dates; the zh-hans input format is 2020/02/01.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _datetime_input() -> forms.DateTimeInput:
    # <input type=datetime-local> only accepts 2020-02-10T08:30.
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def now_minute() -> dt.datetime:
    return timezone.localtime().replace(second=0, microsecond=0)


def unit_choices(user: Any, perm: Perm) -> QuerySet[OrgUnit]:
    """The active org units where ``user`` holds ``perm``, in tree order."""
    return units_in_scope(user, perm).order_by("path")


def _limit_units(form: forms.Form, units: QuerySet[OrgUnit], current: OrgUnit | None) -> None:
    field = cast(forms.ModelChoiceField, form.fields["unit"])
    field.queryset = units
    options = list(units[: MAX_UNIT_OPTIONS + 1])
    if len(options) > MAX_UNIT_OPTIONS:
        options = list(units.exclude(kind=OrgUnit.Kind.GRID)[:MAX_UNIT_OPTIONS])
    if current is not None and current not in options:
        options.append(current)
    field.choices = [("", "—"), *((u.pk, str(u)) for u in options)]
    if len(options) == 1 and not form.is_bound:
        form.initial.setdefault("unit", options[0].pk)


class PlaceForm(forms.Form):
    """A place to disinfect: where it is, and how many times a day."""

    unit = forms.ModelChoiceField(label=_("org unit"), queryset=OrgUnit.objects.none())
    name = forms.CharField(
        label=pgettext_lazy("disinfection", "place"),
        max_length=80,
        help_text=_("E.g. 食堂, 东门卡口, 3排公厕."),
    )
    location = forms.CharField(label=_("location"), max_length=200, required=False)
    times_per_day = forms.IntegerField(
        label=_("times a day"),
        min_value=MIN_TIMES_PER_DAY,
        max_value=MAX_TIMES_PER_DAY,
        initial=2,
        help_text=_("2: every 12 hours. Overdue when the last disinfection is older than that."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, user: Any, current: OrgUnit | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _limit_units(self, unit_choices(user, Perm.DUTY_MANAGE), current)
        self.fields["unit"].error_messages["required"] = _("Choose the unit the place belongs to.")
        self.fields["name"].error_messages["required"] = _("Name the place, e.g. 食堂 or 东门卡口.")


class DisinfectionForm(forms.Form):
    """A disinfection done: when (now unless earlier), with what, by whom."""

    done_at = forms.DateTimeField(
        label=_("time"),
        required=False,
        widget=_datetime_input(),
        help_text=_("Now, unless it was done earlier."),
    )
    agent = forms.CharField(
        label=_("disinfectant"),
        max_length=80,
        widget=forms.TextInput(attrs={"list": "agents", "autocomplete": "off"}),
    )
    done_by = forms.CharField(
        label=_("done by"),
        max_length=50,
        required=False,
        help_text=_("Your name unless someone else did it."),
    )
    note = forms.CharField(label=_("note"), max_length=200, required=False)

    agents = AGENTS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("done_at", now_minute())
            self.initial.setdefault("agent", AGENTS[0])
        self.fields["agent"].error_messages["required"] = _(
            "Name the disinfectant, e.g. 84消毒液 1:100."
        )

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "done_at": data.get("done_at"),
            "agent": data["agent"],
            "done_by": data.get("done_by", ""),
            "note": data.get("note", ""),
        }


class PublicityForm(forms.Form):
    """Publicity done: the day, the kind, what, where, how many people, how many copies."""

    unit = forms.ModelChoiceField(label=_("org unit"), queryset=OrgUnit.objects.none())
    day = forms.DateField(label=_("date"), widget=_date_input())
    kind = forms.ChoiceField(label=_("kind"), choices=[("", "—"), *PublicityRecord.Kind.choices])
    content = forms.CharField(
        label=_("content"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was published or said, e.g. 致全场职工群众的一封信."),
    )
    place = forms.CharField(label=_("where"), max_length=200, required=False)
    reach = forms.IntegerField(
        label=_("people reached"),
        min_value=0,
        required=False,
        help_text=_("About how many people."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    quantity = forms.IntegerField(
        label=_("copies or times"),
        min_value=0,
        required=False,
        help_text=_("Posters put up, broadcasts made, …"),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args: Any, user: Any, current: OrgUnit | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        _limit_units(self, unit_choices(user, Perm.DUTY_RECORD), current)
        if not self.is_bound:
            self.initial.setdefault("day", timezone.localdate())
        self.fields["unit"].error_messages["required"] = _("Choose the unit that did it.")
        self.fields["kind"].error_messages["required"] = _(
            "Choose the kind: notice, poster, broadcast, meeting, …"
        )
        self.fields["content"].error_messages["required"] = _(
            "Say what was published, e.g. 致全场职工群众的一封信."
        )

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "unit": data["unit"],
            "day": data["day"],
            "kind": data["kind"],
            "content": data["content"],
            "place": data.get("place", ""),
            "reach": data.get("reach"),
            "quantity": data.get("quantity"),
        }


# ---------------------------------------------------------------------------------------------
# Filters


class _DaysFilterForm(ListFilterForm):
    start = forms.DateField(label=_("from"), required=False, widget=_date_input())
    end = forms.DateField(label=_("until"), required=False, widget=_date_input())

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("The end is before the start: swap the dates."))
        return data

    def _cleaned(self) -> dict[str, Any]:
        if not self.is_bound or not self.is_valid():
            # Invalid filters are ignored field by field: what is valid still applies.
            return {
                name: value
                for name, value in getattr(self, "cleaned_data", {}).items()
                if name not in self.errors
            }
        return self.cleaned_data


class PlaceFilterForm(ListFilterForm):
    search_placeholder = _("Place or location (part is enough)")

    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    inactive = forms.BooleanField(label=_("Inactive too"), required=False)

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return {
            "unit": data.get("unit"),
            "q": data.get("q", ""),
            "active": None if data.get("inactive") else True,
            "overdue": bool(data.get("overdue")),
        }


class LogFilterForm(_DaysFilterForm):
    search_placeholder = _("Place, disinfectant or who (part is enough)")

    def filters(self) -> selectors.LogFilters:
        data = self._cleaned()
        return selectors.LogFilters(
            unit=data.get("unit"), start=data.get("start"), end=data.get("end"), q=data.get("q", "")
        )


class PublicityFilterForm(_DaysFilterForm):
    search_placeholder = _("Content or place (part is enough)")

    kind = forms.ChoiceField(
        label=_("kind"),
        choices=[("", _("All kinds")), *PublicityRecord.Kind.choices],
        required=False,
    )

    def filters(self) -> selectors.PublicityFilters:
        data = self._cleaned()
        return selectors.PublicityFilters(
            unit=data.get("unit"),
            kind=data.get("kind", ""),
            start=data.get("start"),
            end=data.get("end"),
            q=data.get("q", ""),
        )
