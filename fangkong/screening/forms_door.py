"""Forms of the phone pages used at the door, and of the new-arrival registration."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.core.health import Symptom
from fangkong.core.permissions import Perm
from fangkong.core.scoping import restrict
from fangkong.org.forms import GridChoiceField
from fangkong.org.models import Household, OrgUnit, Person

from .forms import RegionField
from .models import ContactKind, ContactMode, ContactRelation, Screening, Transport

# Above this many grids a drop-down is too long for a phone: the grid is typed by its code.
MAX_GRID_OPTIONS = 300
# A registration time this far in the future is a typing mistake (clocks differ a little).
CLOCK_SLACK = dt.timedelta(minutes=5)


def _date_input() -> forms.DateInput:
    # <input type=date> only accepts ISO dates.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _datetime_input() -> forms.DateTimeInput:
    # <input type=datetime-local> only accepts 2020-02-10T08:30.
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _blank(choices: Any) -> list[tuple[str, Any]]:
    return [("", "—"), *choices]


def _limit(form: forms.Form, name: str, queryset: QuerySet[Any]) -> None:
    cast(forms.ModelChoiceField, form.fields[name]).queryset = queryset


class FindingsForm(forms.Form):
    """What is found about one person: travel, contact, symptoms, temperature. The service
    validates the combination (a region needs an arrival time, a contact needs a name…)."""

    from_region = RegionField(
        label=_("came from"),
        required=False,
        help_text=_("The 6-digit region code; search by name below."),
    )
    departed_at = forms.DateTimeField(
        label=_("left there"), required=False, widget=_datetime_input()
    )
    arrived_at = forms.DateTimeField(label=_("arrived"), required=False, widget=_datetime_input())
    transport = forms.ChoiceField(
        label=_("transport"), choices=_blank(Transport.choices), required=False
    )
    transport_no = forms.CharField(label=_("train or flight number"), max_length=20, required=False)
    stopovers = forms.CharField(label=_("stop-overs"), max_length=200, required=False)
    contact_kind = forms.ChoiceField(
        label=_("contact with"), choices=_blank(ContactKind.choices), required=False
    )
    contact_person = forms.ModelChoiceField(
        label=_("contact (in the register)"),
        queryset=Person.objects.none(),
        required=False,
        widget=forms.HiddenInput,
    )
    contact_name = forms.CharField(
        label=_("contact's name"),
        max_length=50,
        required=False,
        help_text=_("When the person met is not in the register."),
    )
    contact_relation = forms.ChoiceField(
        label=_("relation"), choices=_blank(ContactRelation.choices), required=False
    )
    contact_mode = forms.ChoiceField(
        label=_("contact mode"), choices=_blank(ContactMode.choices), required=False
    )
    contact_date = forms.DateField(label=_("last contact"), required=False, widget=_date_input())
    symptoms = forms.MultipleChoiceField(
        label=_("symptoms"),
        choices=Symptom.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    # Typed as text: the service checks the reading and says what it expects.
    temperature = forms.CharField(label=_("temperature (°C)"), max_length=10, required=False)
    note = forms.CharField(label=_("note"), max_length=200, required=False)

    FINDINGS = (
        "from_region",
        "departed_at",
        "arrived_at",
        "transport",
        "transport_no",
        "stopovers",
        "contact_kind",
        "contact_person",
        "contact_name",
        "contact_relation",
        "contact_mode",
        "contact_date",
        "symptoms",
        "temperature",
        "note",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _limit(self, "contact_person", restrict(Person.objects.filter(is_active=True), user))
        self.fields["temperature"].widget.attrs.update(
            {"inputmode": "decimal", "placeholder": "36.5", "autocomplete": "off"}
        )
        self.fields["symptoms"].widget.attrs.update({"class": "form-check-input me-2"})
        self.fields["transport_no"].widget.attrs.update(
            {"autocapitalize": "characters", "autocomplete": "off", "placeholder": "G1234"}
        )

    def findings(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.FINDINGS}


class DoorScreeningForm(FindingsForm):
    """The full screening of one person at the door."""

    presence = forms.ChoiceField(
        label=_("presence"),
        choices=Screening.Presence.choices,
        initial=Screening.Presence.PRESENT,
        widget=forms.RadioSelect,
    )

    field_order = ("presence",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["presence"].widget.attrs.update({"class": "btn-check", "autocomplete": "off"})

    def findings(self) -> dict[str, Any]:
        return {"presence": self.cleaned_data["presence"], **super().findings()}


class AddPersonForm(forms.Form):
    """A person found at the door who is not in the register."""

    name = forms.CharField(label=_("name"), max_length=50)
    sex = forms.ChoiceField(label=_("sex"), choices=Person.Sex.choices, initial=Person.Sex.UNKNOWN)
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=30,
        required=False,
        help_text=_("18 characters; leave empty for a child or visitor without one."),
    )
    phone = forms.CharField(label=_("phone"), max_length=20, required=False)
    relation = forms.ChoiceField(
        label=_("relation to head"),
        choices=Person.Relation.choices,
        initial=Person.Relation.OTHER,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["id_number"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})
        self.fields["phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "off"})


class ArrivalForm(FindingsForm):
    """A person arriving (or returning) between campaigns: someone in the register, or a new
    person added in the same step."""

    person = forms.ModelChoiceField(
        label=_("person"),
        queryset=Person.objects.none(),
        required=False,
        widget=forms.HiddenInput,
    )
    # A new person (when none is chosen from the register).
    name = forms.CharField(label=_("name"), max_length=50, required=False)
    sex = forms.ChoiceField(label=_("sex"), choices=Person.Sex.choices, initial=Person.Sex.UNKNOWN)
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=30,
        required=False,
        help_text=_("18 characters; leave empty for a child or visitor without one."),
    )
    phone = forms.CharField(label=_("phone"), max_length=20, required=False)
    household = forms.ModelChoiceField(
        label=_("household"),
        queryset=Household.objects.none(),
        required=False,
        widget=forms.HiddenInput,
    )
    grid = GridChoiceField(
        label=_("grid"),
        queryset=OrgUnit.objects.none(),
        required=False,
        help_text=_("Only for a person without a household."),
    )
    registered_at = forms.DateTimeField(
        label=_("registered at"),
        widget=_datetime_input(),
        help_text=_("When the arrival was reported; now unless reported earlier."),
    )

    field_order = (
        "person",
        "name",
        "sex",
        "id_number",
        "phone",
        "household",
        "grid",
        "arrived_at",
        "registered_at",
        "from_region",
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.fields["arrived_at"].required = True
        self.fields["from_region"].required = True
        persons = Person.objects.filter(is_active=True)
        _limit(self, "person", restrict(persons, user, Perm.SCREENING_RECORD))
        households = restrict(
            restrict(Household.objects.filter(is_active=True), user, Perm.REGISTER_EDIT),
            user,
            Perm.SCREENING_RECORD,
        )
        _limit(self, "household", households)
        grids = restrict(
            restrict(
                OrgUnit.objects.filter(kind=OrgUnit.Kind.GRID, is_active=True),
                user,
                Perm.REGISTER_EDIT,
            ),
            user,
            Perm.SCREENING_RECORD,
        ).order_by("path")
        grid = cast(GridChoiceField, self.fields["grid"])
        grid.queryset = grids
        if grids[MAX_GRID_OPTIONS : MAX_GRID_OPTIONS + 1].exists():
            grid.to_field_name = "code"
            grid.widget = forms.TextInput(attrs={"placeholder": "LZ-01-03", "autocomplete": "off"})
            grid.help_text = _("Type the grid's code, e.g. LZ-01-03 (shown on the grid's page).")
        self.fields["id_number"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})
        self.fields["phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "off"})

    def clean_registered_at(self) -> dt.datetime:
        value: dt.datetime = self.cleaned_data["registered_at"]
        if value > timezone.now() + CLOCK_SLACK:
            raise forms.ValidationError(_("The registration cannot be in the future."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("person") is None:
            if not data.get("name"):
                self.add_error(
                    "name", _("Choose the person from the register, or enter a new person's name.")
                )
            elif data.get("household") is None and data.get("grid") is None:
                self.add_error("grid", _("Choose the new person's household or grid."))
        return data

    def new_person(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "sex": data["sex"],
            "id_number": data["id_number"],
            "phone": data["phone"],
            "household": data["household"],
            "grid": None if data["household"] is not None else data["grid"],
        }
