"""Forms of the observation ledger, of starting episodes (one person, or many from the
screening results), of decisions and period changes, and of the rules and presets."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.org.forms import ListFilterForm
from fangkong.org.models import Person
from fangkong.screening.models import Screening

from . import rules as period_rules
from . import selectors, services
from .models import (
    EpisodeResponsible,
    ObservationEpisode,
    ObservationKind,
    ObservationRules,
    PeriodPreset,
)

Status = ObservationEpisode.Status
ENDED = "ended"  # the ledger's status filter for every decided episode
RULE_FIELDS = (
    "morning_start",
    "morning_end",
    "afternoon_start",
    "afternoon_end",
    "fever_threshold",
    "need_answer_hours",
    "self_reports_per_hour",
)


def _date_input() -> forms.DateInput:
    # <input type=date> only accepts ISO dates; the zh-hans input format is 2020/02/01.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _time_input() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def _blank(choices: Any) -> list[tuple[str, Any]]:
    return [("", "—"), *choices]


def _preset_field(**kwargs: Any) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=_("period preset"),
        queryset=PeriodPreset.objects.none(),
        empty_label=None,
        help_text=_("The days of isolation and of health monitoring, as the office set them."),
        **kwargs,
    )


def _limit_presets(form: forms.Form) -> None:
    """The active presets, read once for the options and the check of the chosen one."""
    field = cast(forms.ModelChoiceField, form.fields["preset"])
    presets = selectors.active_presets()
    field.queryset = presets
    options = list(presets)
    field.choices = [(p.pk, f"{p.name} ({p.total_days})") for p in options]
    form.preset_options = {p.pk: p for p in options}  # type: ignore[attr-defined]


def default_preset_pk() -> int | None:
    try:
        return services.default_preset().pk
    except ValidationError:
        return None


# ---------------------------------------------------------------------------------------------
# The ledger


class EpisodeFilterForm(ListFilterForm):
    """Search, unit or grid (the register lists' filters), then the ledger's own."""

    search_placeholder = _("Name, ID number or phone (part is enough)")

    status = forms.ChoiceField(
        label=_("status"),
        choices=[
            ("", _("All statuses")),
            (Status.ACTIVE, Status.ACTIVE.label),
            (ENDED, _("Ended (any decision)")),
            *[(value, label) for value, label in Status.choices if value != Status.ACTIVE],
        ],
        required=False,
    )
    kind = forms.ChoiceField(
        label=_("kind"),
        choices=[("", _("All kinds")), *ObservationKind.choices],
        required=False,
    )
    reason = forms.ChoiceField(
        label=_("reason"),
        choices=[("", _("All reasons")), *ObservationEpisode.Reason.choices],
        required=False,
    )
    started_from = forms.DateField(label=_("started from"), required=False, widget=_date_input())
    started_to = forms.DateField(label=_("started until"), required=False, widget=_date_input())
    due_today = forms.BooleanField(label=_("Release due today"), required=False)
    fever_today = forms.BooleanField(label=_("Fever today"), required=False)
    no_visit_today = forms.BooleanField(label=_("No visit today"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        start, end = data.get("started_from"), data.get("started_to")
        if start and end and start > end:
            self.add_error("started_to", _("The end date cannot be before the start date."))
        return data

    def filters(self, today: dt.date | None = None) -> selectors.EpisodeFilters:
        """The filters in force: none when the form is unbound or invalid (as the list
        shows them, an export holds the same rows)."""
        if not self.is_bound or not self.is_valid():
            return selectors.EpisodeFilters()
        today = today or timezone.localdate()
        data = self.cleaned_data
        return selectors.EpisodeFilters(
            q=data["q"],
            status=data["status"],
            kind=data["kind"],
            reason=data["reason"],
            unit=data["unit"],
            due_by=today if data["due_today"] else None,
            started_from=data["started_from"],
            started_to=data["started_to"],
            fever_on=today if data["fever_today"] else None,
            no_visit_on=today if data["no_visit_today"] else None,
        )


# ---------------------------------------------------------------------------------------------
# Starting episodes


class StartForm(forms.Form):
    """One person put under observation; the period comes from the preset (previewed)."""

    kind = forms.ChoiceField(
        label=_("kind"), choices=ObservationKind.choices, initial=ObservationKind.HOME_ISOLATION
    )
    reason = forms.ChoiceField(
        label=_("reason"),
        choices=_blank(ObservationEpisode.Reason.choices),
        error_messages={"required": _("Choose why the person is put under observation.")},
    )
    reason_note = forms.CharField(
        label=_("reason details"),
        max_length=200,
        required=False,
        help_text=_("e.g. the case met, or where the person came from."),
    )
    counts_from = forms.DateField(
        label=_("counted from"),
        widget=_date_input(),
        help_text=_("The day of the last contact or of the arrival."),
        error_messages={
            "required": _("Enter the day the period counts from (last contact or arrival).")
        },
    )
    counts_from_kind = forms.ChoiceField(
        label=_("counted from what"),
        choices=ObservationEpisode.CountsFrom.choices,
        initial=ObservationEpisode.CountsFrom.LAST_CONTACT,
    )
    start_date = forms.DateField(label=_("observation started"), widget=_date_input())
    preset = _preset_field()
    place = forms.CharField(
        label=_("place"),
        max_length=100,
        required=False,
        help_text=_("Where the person stays; the household's address when left empty."),
    )

    ROLES = EpisodeResponsible.Role

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _limit_presets(self)
        for role, label in self.ROLES.choices:
            self.fields[f"{role}_name"] = forms.CharField(
                label=label, max_length=50, required=False
            )
            self.fields[f"{role}_phone"] = forms.CharField(
                label=_("phone"),
                max_length=20,
                required=False,
                widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
            )

    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.base_fields]

    def responsible_rows(self) -> list[tuple[str, forms.BoundField, forms.BoundField]]:
        """(role label, name field, phone field) for the "五包一" table."""
        return [
            (str(label), self[f"{role}_name"], self[f"{role}_phone"])
            for role, label in self.ROLES.choices
        ]

    def responsible(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        return [
            {"role": role, "name": data[f"{role}_name"], "phone": data[f"{role}_phone"]}
            for role in self.ROLES.values
            if data.get(f"{role}_name")
        ]

    def entry(self, person: Person, screening: Any = None) -> services.EpisodeStart:
        data = self.cleaned_data
        return services.EpisodeStart(
            person=person,
            reason=data["reason"],
            counts_from=data["counts_from"],
            counts_from_kind=data["counts_from_kind"],
            kind=data["kind"],
            start_date=data["start_date"],
            preset=data["preset"],
            screening=screening,
            reason_note=data["reason_note"],
            place=data["place"],
            responsible=self.responsible(),
        )

    def start_day(self) -> dt.date | None:
        try:
            day = self.fields["start_date"].clean(self["start_date"].value())
        except ValidationError:
            return None
        return day if isinstance(day, dt.date) else None

    def preview(self) -> period_rules.Period | None:
        """The period the current values give (the values typed so far, else the initial
        ones), or None while the day counted from or the preset is missing."""
        try:
            counts_from = self.fields["counts_from"].clean(self["counts_from"].value())
            preset_value = self["preset"].value()
        except ValidationError:
            return None
        options: dict[int, PeriodPreset] = self.preset_options  # type: ignore[attr-defined]
        try:
            preset = options.get(int(preset_value)) if preset_value not in (None, "") else None
        except (TypeError, ValueError):
            preset = None
        if counts_from is None or preset is None:
            return None
        return period_rules.plan_period(counts_from, preset.isolation_days, preset.monitoring_days)


class BulkStartForm(forms.Form):
    """Several key persons at once: the screenings chosen (each gives its person's reason
    and the day counted from) and what they share."""

    screenings = forms.ModelMultipleChoiceField(
        label=_("persons"),
        queryset=Screening.objects.none(),
        required=False,
        widget=forms.MultipleHiddenInput,
        error_messages={
            "invalid_choice": _(
                "A person chosen is no longer on the list (or not in your scope): reload the "
                "list and choose again."
            ),
            "invalid_pk_value": _("Choose the persons from the list."),
        },
    )
    kind = forms.ChoiceField(
        label=_("kind"), choices=ObservationKind.choices, initial=ObservationKind.HOME_ISOLATION
    )
    preset = _preset_field()
    start_date = forms.DateField(label=_("observation started"), widget=_date_input())

    def __init__(self, *args: Any, screenings: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelMultipleChoiceField, self.fields["screenings"]).queryset = screenings
        _limit_presets(self)

    def clean_screenings(self) -> Any:
        chosen = self.cleaned_data["screenings"]
        if not chosen:
            raise ValidationError(_("Tick at least one person to start."))
        return chosen

    def entries(self) -> list[services.EpisodeStart]:
        data = self.cleaned_data
        entries = []
        for screening in sorted(data["screenings"], key=lambda s: (s.person.name, s.pk)):
            found = services.start_from_screening(screening)
            entries.append(
                services.EpisodeStart(
                    person=screening.person,
                    kind=data["kind"],
                    start_date=data["start_date"],
                    preset=data["preset"],
                    screening=screening,
                    **found,
                )
            )
        return entries


# ---------------------------------------------------------------------------------------------
# Decisions and period changes


class DecideForm(forms.Form):
    outcome = forms.ChoiceField(label=_("decision"), widget=forms.RadioSelect)
    on = forms.DateField(label=_("date"), widget=_date_input())
    note = forms.CharField(
        label=_("note"),
        max_length=services.NOTE_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Who decided and on what grounds (the doctor's finding, the hospital). Needed for "
            "every decision but a release at the end of the period."
        ),
    )

    def __init__(self, *args: Any, episode: ObservationEpisode, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = services.DECISIONS.get(episode.status, set())
        cast(forms.ChoiceField, self.fields["outcome"]).choices = [
            (value, label) for value, label in Status.choices if value in allowed
        ]


class PeriodForm(forms.Form):
    planned_end = forms.DateField(
        label=_("new last day"),
        widget=_date_input(),
        error_messages={"required": _("Enter the new last day.")},
    )
    reason = forms.CharField(
        label=_("reason"),
        max_length=services.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "required": _("Say why the period changes, e.g. 'contact with a new case on 02-10'.")
        },
    )


# ---------------------------------------------------------------------------------------------
# Rules and presets


class RulesForm(forms.Form):
    morning_start = forms.TimeField(label=_("morning check from"), widget=_time_input())
    morning_end = forms.TimeField(label=_("morning check until"), widget=_time_input())
    afternoon_start = forms.TimeField(label=_("afternoon check from"), widget=_time_input())
    afternoon_end = forms.TimeField(label=_("afternoon check until"), widget=_time_input())
    fever_threshold = forms.DecimalField(
        label=_("fever threshold (°C)"),
        max_digits=3,
        decimal_places=1,
        help_text=ObservationRules._meta.get_field("fever_threshold").help_text,
    )
    need_answer_hours = forms.IntegerField(
        label=_("answer a need within (hours)"),
        min_value=1,
        max_value=720,
        help_text=ObservationRules._meta.get_field("need_answer_hours").help_text,
    )
    self_reports_per_hour = forms.IntegerField(
        label=_("self-reports per hour"),
        min_value=1,
        max_value=100,
        help_text=ObservationRules._meta.get_field("self_reports_per_hour").help_text,
    )


class PresetForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=40, help_text=_("e.g. 7+3"))
    isolation_days = forms.IntegerField(label=_("isolation days"), min_value=1, max_value=60)
    monitoring_days = forms.IntegerField(
        label=_("health monitoring days"),
        min_value=0,
        max_value=60,
        initial=0,
        help_text=PeriodPreset._meta.get_field("monitoring_days").help_text,
    )
    is_default = forms.BooleanField(
        label=_("in force"),
        required=False,
        help_text=PeriodPreset._meta.get_field("is_default").help_text,
    )
    is_active = forms.BooleanField(
        label=_("active"),
        required=False,
        initial=True,
        help_text=_("A retired preset is no longer offered; running episodes keep their days."),
    )
    order = forms.IntegerField(label=_("order"), min_value=0, max_value=999, initial=0)
