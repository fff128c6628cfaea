"""Forms of the checkpoints and their entry log: a checkpoint, the gate (one entry: a person
on foot or a vehicle with its occupants), a correction, the log's filters and the daily
counts' period."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.health import Symptom
from fangkong.core.permissions import Perm
from fangkong.core.scoping import restrict, units_in_scope
from fangkong.org.models import OrgUnit, Person, User
from fangkong.screening.models import Region

from .models import Checkpoint, Direction
from .selectors import entries as selectors
from .services.entries import EntryPersonIn

# Rows of people on the gate page: the person on foot or the driver, and the occupants.
GATE_ROWS = 6
YES, NO = "yes", "no"
YES_NO = [(YES, _("Yes")), (NO, _("No"))]
# The counts page shows a week by default, and at most this many days at once.
COUNTS_DEFAULT_DAYS = 7
COUNTS_MAX_DAYS = 92


def new_key() -> str:
    """A fresh idempotency key for the gate form as it is shown: the same form sent twice (a
    double tap, a phone retrying) carries the same key and is recorded once."""
    return secrets.token_hex(20)


def _date_input() -> forms.DateInput:
    # <input type=date> only accepts ISO dates; the zh-hans input format is 2020/02/01.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _datetime_input() -> forms.DateTimeInput:
    # <input type=datetime-local> only accepts 2020-02-10T08:30.
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _yes_no(value: Any) -> bool | None:
    return {YES: True, NO: False}.get(value)


# ---------------------------------------------------------------------------------------------
# Checkpoints


class UserChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        user = cast(User, obj)
        return f"{user.full_name} ({user.username})" if user.full_name else user.username


class CheckpointForm(forms.Form):
    name = forms.CharField(
        label=pgettext_lazy("checkpoint", "name"),
        max_length=60,
        help_text=_("e.g. 场区东门卡口"),
    )
    location = forms.CharField(label=_("location"), max_length=200, required=False)
    unit = forms.ModelChoiceField(
        label=_("org unit"),
        queryset=OrgUnit.objects.none(),
        help_text=Checkpoint._meta.get_field("unit").help_text,
    )
    intake_grid = forms.ModelChoiceField(
        label=_("grid for new arrivals"),
        queryset=OrgUnit.objects.none(),
        required=False,
        help_text=Checkpoint._meta.get_field("intake_grid").help_text,
    )
    operators = UserChoices(
        label=_("operators"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Users with a role in the checkpoint's unit: the gate is on their phone."),
    )
    is_active = forms.BooleanField(
        label=_("active"),
        required=False,
        help_text=_("A closed checkpoint keeps its log; nothing more can be logged there."),
    )

    def __init__(self, *args: Any, user: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        units = units_in_scope(user, Perm.CHECKPOINTS_MANAGE)
        cast(forms.ModelChoiceField, self.fields["unit"]).queryset = units.exclude(
            kind=OrgUnit.Kind.GRID
        ).order_by("path")
        cast(forms.ModelChoiceField, self.fields["intake_grid"]).queryset = units.filter(
            kind=OrgUnit.Kind.GRID
        ).order_by("path")
        cast(forms.ModelMultipleChoiceField, self.fields["operators"]).queryset = (
            User.objects.filter(
                is_active=True, assignments__org_unit__in=units.values("pk")
            ).distinct()
        ).order_by("username")
        if not editing:
            del self.fields["is_active"]


# ---------------------------------------------------------------------------------------------
# The gate


@dataclass
class GateRow:
    """One person's fields on the gate page, with the register's person when chosen."""

    index: int
    person: Person | None
    fields: dict[str, forms.BoundField]

    @property
    def filled(self) -> bool:
        return self.person is not None or any(
            self.fields[name].value() for name in ("name", "id_number", "phone", "temperature")
        )


class GateForm(forms.Form):
    """One entry: when, which way, the people (each found in the register or typed in, with
    a temperature and whether they were disinfected), the vehicle, where from and why.
    Everything is optional here: the service says what is missing, by field."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=80)
    at = forms.DateTimeField(
        label=_("time"),
        required=False,
        widget=_datetime_input(),
        help_text=_("Leave empty for now."),
    )
    direction = forms.ChoiceField(
        label=_("direction"),
        choices=Direction.choices,
        initial=Direction.IN,
        required=False,
        widget=forms.RadioSelect,
    )
    plate = forms.CharField(label=_("plate number"), max_length=20, required=False)
    vehicle_disinfected = forms.ChoiceField(
        label=_("vehicle disinfected"),
        choices=YES_NO,
        initial=YES,
        required=False,
        widget=forms.RadioSelect,
    )
    from_region = forms.CharField(label=_("came from"), max_length=6, required=False)
    purpose = forms.CharField(label=_("purpose"), max_length=100, required=False)
    note = forms.CharField(label=_("note"), max_length=200, required=False)

    ROW_FIELDS = ("person", "name", "id_number", "phone", "temperature", "disinfected", "symptoms")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", new_key())
        for i in range(GATE_ROWS):
            self.fields[f"p{i}_person"] = forms.IntegerField(
                required=False, widget=forms.HiddenInput
            )
            self.fields[f"p{i}_name"] = forms.CharField(
                label=_("name"), max_length=50, required=False
            )
            self.fields[f"p{i}_id_number"] = forms.CharField(
                label=_("ID number"), max_length=20, required=False
            )
            self.fields[f"p{i}_phone"] = forms.CharField(
                label=_("phone"), max_length=20, required=False
            )
            self.fields[f"p{i}_temperature"] = forms.CharField(
                label=_("temperature (°C)"), max_length=10, required=False
            )
            self.fields[f"p{i}_disinfected"] = forms.ChoiceField(
                label=_("disinfected"),
                choices=YES_NO,
                initial=YES,
                required=False,
                widget=forms.RadioSelect,
            )
            self.fields[f"p{i}_symptoms"] = forms.MultipleChoiceField(
                label=_("symptoms"),
                choices=Symptom.choices,
                required=False,
                widget=forms.CheckboxSelectMultiple,
            )
        self._persons = self._load_persons()

    def _raw(self, name: str) -> Any:
        return self[name].value()

    def _load_persons(self) -> dict[int, Person]:
        """The register's persons the rows name, among those the user may see (one query)."""
        ids = set()
        for i in range(GATE_ROWS):
            try:
                ids.add(int(self._raw(f"p{i}_person")))
            except (TypeError, ValueError):
                continue
        if not ids:
            return {}
        persons = restrict(
            Person.objects.filter(pk__in=ids, is_active=True), self.user, Perm.REGISTER_VIEW
        ).select_related("grid", "household")
        return {p.pk: p for p in persons}

    def person_of(self, index: int) -> Person | None:
        try:
            return self._persons.get(int(self._raw(f"p{index}_person")))
        except (TypeError, ValueError):
            return None

    def rows(self) -> list[GateRow]:
        return [
            GateRow(
                index=i,
                person=self.person_of(i),
                fields={name: self[f"p{i}_{name}"] for name in self.ROW_FIELDS},
            )
            for i in range(GATE_ROWS)
        ]

    def first_rows(self) -> list[GateRow]:
        """The rows shown open: the first, and every other one that is filled."""
        return [row for row in self.rows() if row.index == 0 or row.filled]

    def more_rows(self) -> list[GateRow]:
        return [row for row in self.rows() if row.index != 0 and not row.filled]

    def region(self) -> Region | None:
        code = self._raw("from_region")
        if not code:
            return None
        return Region.objects.select_related("parent__parent").filter(pk=str(code)).first()

    def entry(self) -> tuple[dict[str, Any], list[int]] | None:
        """The service's arguments (and which row each person came from), or None with the
        errors on the form."""
        data = self.cleaned_data
        people: list[EntryPersonIn] = []
        rows: list[int] = []
        for row in self.rows():
            values = {name: data.get(f"p{row.index}_{name}") for name in self.ROW_FIELDS}
            empty = (
                not any(
                    values[name] for name in ("person", "name", "id_number", "phone", "temperature")
                )
                and not values["symptoms"]
            )
            if empty:
                continue
            if values["person"] and row.person is None:
                self.add_error(f"p{row.index}_name", _("No such person in your scope."))
                continue
            rows.append(row.index)
            people.append(
                EntryPersonIn(
                    person=row.person,
                    name=values["name"] or "",
                    id_number=values["id_number"] or "",
                    phone=values["phone"] or "",
                    temperature=values["temperature"] or None,
                    symptoms=values["symptoms"] or [],
                    disinfected=_yes_no(values["disinfected"]),
                )
            )
        region = None
        if data["from_region"]:
            region = Region.objects.filter(pk=data["from_region"].strip()).first()
            if region is None:
                self.add_error(
                    "from_region",
                    _("No region has the code %(code)s: find it by its name.")
                    % {"code": data["from_region"]},
                )
        if self.errors:
            return None
        values = {
            "people": people,
            "at": data["at"],
            "direction": data["direction"] or Direction.IN,
            "plate": data["plate"],
            "vehicle_disinfected": _yes_no(data["vehicle_disinfected"]),
            "from_region": region,
            "purpose": data["purpose"],
            "note": data["note"],
            "idempotency_key": data["idempotency_key"],
        }
        return values, rows

    def apply_service_errors(self, error: ValidationError, rows: list[int]) -> None:
        """A service's errors on the fields they name: ``people.1.temperature`` on the
        temperature of the row of the second person sent."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error.messages)
            return
        for name, messages in error.message_dict.items():
            parts = name.split(".")
            target: str | None = name if name in self.fields else None
            if parts[0] == "people" and len(parts) == 3 and int(parts[1]) < len(rows):
                field = {"person": "name"}.get(parts[2], parts[2])
                target = f"p{rows[int(parts[1])]}_{field}"
                if target not in self.fields:
                    target = None
            self.add_error(target, messages)


def free_row(data: Any) -> int | None:
    """The first row of the gate form's ``data`` with nobody in it."""
    for i in range(GATE_ROWS):
        if not any(data.get(f"p{i}_{name}") for name in ("person", "name", "id_number", "phone")):
            return i
    return None


def clear_row(data: Any, index: int) -> None:
    for name in GateForm.ROW_FIELDS:
        data.pop(f"p{index}_{name}", None)


# ---------------------------------------------------------------------------------------------
# Corrections


class CorrectForm(forms.Form):
    direction = forms.ChoiceField(
        label=_("direction"), choices=Direction.choices, widget=forms.RadioSelect
    )
    plate = forms.CharField(label=_("plate number"), max_length=20, required=False)
    vehicle_disinfected = forms.ChoiceField(
        label=_("vehicle disinfected"),
        choices=[("", "—"), *YES_NO],
        required=False,
    )
    purpose = forms.CharField(label=_("purpose"), max_length=100, required=False)
    note = forms.CharField(label=_("note"), max_length=200, required=False)

    def changes(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["vehicle_disinfected"] = _yes_no(data["vehicle_disinfected"])
        return data


def correct_initial(entry: Any) -> dict[str, Any]:
    disinfected = {True: YES, False: NO}.get(entry.vehicle_disinfected, "")
    return {
        "direction": entry.direction,
        "plate": entry.plate,
        "vehicle_disinfected": disinfected,
        "purpose": entry.purpose,
        "note": entry.note,
    }


# ---------------------------------------------------------------------------------------------
# The log and the counts


class EntryFilterForm(forms.Form):
    checkpoint = forms.ModelChoiceField(
        label=_("checkpoint"),
        queryset=Checkpoint.objects.none(),
        required=False,
        empty_label=_("All checkpoints"),
    )
    day_from = forms.DateField(label=_("from"), required=False, widget=_date_input())
    day_to = forms.DateField(label=_("until"), required=False, widget=_date_input())
    direction = forms.ChoiceField(
        label=_("direction"),
        choices=[("", _("Both directions")), *Direction.choices],
        required=False,
    )
    plate = forms.CharField(
        label=_("plate number"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("Plate, or its start: 甘G12")}),
    )
    flagged = forms.BooleanField(label=_("Flagged only"), required=False)
    fever = forms.BooleanField(label=_("Fever only"), required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(
            forms.ModelChoiceField, self.fields["checkpoint"]
        ).queryset = selectors.checkpoints_for(user)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        start, end = data.get("day_from"), data.get("day_to")
        if start and end and start > end:
            self.add_error("day_to", _("The end date cannot be before the start date."))
        return data

    def filters(self) -> selectors.EntryFilters:
        """The filters in force: none when the form is unbound or invalid (as the list
        shows them, an export holds the same rows)."""
        if not self.is_bound or not self.is_valid():
            return selectors.EntryFilters()
        data = self.cleaned_data
        return selectors.EntryFilters(
            checkpoint=data["checkpoint"],
            day_from=data["day_from"],
            day_to=data["day_to"],
            direction=data["direction"],
            flagged=data["flagged"],
            fever=data["fever"],
            plate=data["plate"].strip(),
        )


class CountsForm(forms.Form):
    """The period of the daily counts (``?from=&to=``) and, optionally, one checkpoint."""

    checkpoint = forms.ModelChoiceField(
        label=_("checkpoint"),
        queryset=Checkpoint.objects.none(),
        required=False,
        empty_label=_("All checkpoints"),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["from"] = forms.DateField(label=_("from"), required=False, widget=_date_input())
        self.fields["to"] = forms.DateField(label=_("until"), required=False, widget=_date_input())
        self.order_fields(["from", "to", "checkpoint"])
        cast(
            forms.ModelChoiceField, self.fields["checkpoint"]
        ).queryset = selectors.checkpoints_for(user)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        start, end = data.get("from"), data.get("to")
        if start and end and start > end:
            self.add_error("to", _("The end date cannot be before the start date."))
        elif start and end and (end - start).days >= COUNTS_MAX_DAYS:
            self.add_error(
                "to", _("Choose at most %(days)d days at once.") % {"days": COUNTS_MAX_DAYS}
            )
        return data

    def period(self, today: dt.date | None = None) -> tuple[dt.date, dt.date, Checkpoint | None]:
        """(from, to, checkpoint): the week up to today unless the form says otherwise."""
        today = today or timezone.localdate()
        start = end = checkpoint = None
        if self.is_bound and self.is_valid():
            start, end = self.cleaned_data["from"], self.cleaned_data["to"]
            checkpoint = self.cleaned_data["checkpoint"]
        end = end or (start + dt.timedelta(days=COUNTS_DEFAULT_DAYS - 1) if start else today)
        start = start or end - dt.timedelta(days=COUNTS_DEFAULT_DAYS - 1)
        return start, end, checkpoint
