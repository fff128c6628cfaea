from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from fangkong.core.permissions import Perm
from fangkong.core.scoping import restrict

from .models import Household, OrgUnit, Person


def _limit(form: forms.Form, name: str, queryset: QuerySet[Any]) -> None:
    """Limit a model choice field to what the user may pick."""
    cast(forms.ModelChoiceField, form.fields[name]).queryset = queryset


def _editable_grids(user: Any) -> QuerySet[OrgUnit]:
    grids = OrgUnit.objects.filter(kind=OrgUnit.Kind.GRID, is_active=True)
    return restrict(grids, user, Perm.REGISTER_EDIT).order_by("path")


# Above this many grids a drop-down is too long to use (and to send to a phone): the grid is
# typed by its code instead.
MAX_GRID_OPTIONS = 300


class GridChoiceField(forms.ModelChoiceField):
    """A grid, chosen from a list or, in a large scope, typed by its code (any case)."""

    def to_python(self, value: Any) -> Any:
        if self.to_field_name == "code" and isinstance(value, str):
            value = value.strip().upper()
        return super().to_python(value)


def _limit_grids(form: forms.Form, user: Any) -> None:
    grids = _editable_grids(user)
    field = cast(forms.ModelChoiceField, form.fields["grid"])
    field.queryset = grids
    if grids[MAX_GRID_OPTIONS : MAX_GRID_OPTIONS + 1].exists():
        field.to_field_name = "code"
        field.widget = forms.TextInput(
            attrs={"placeholder": "LZ-01-03", "autocomplete": "off", "autocapitalize": "characters"}
        )
        field.help_text = _("Type the grid's code, e.g. LZ-01-03 (shown on the grid's page).")
        field.error_messages["invalid_choice"] = _(
            "No grid with this code in your scope. Check the code on the grid's page."
        )


def _visible_units(user: Any) -> QuerySet[OrgUnit]:
    units = OrgUnit.objects.filter(is_active=True).exclude(kind=OrgUnit.Kind.BRANCH)
    return restrict(units, user).order_by("path")


class OrgUnitForm(forms.Form):
    code = forms.CharField(
        label=_("code"),
        max_length=40,
        help_text=_("Stable code, e.g. LZ-03-12. It never changes once in use."),
    )
    name = forms.CharField(label=pgettext_lazy("org unit", "name"), max_length=100)
    kind = forms.ChoiceField(label=_("kind"), choices=OrgUnit.Kind.choices)
    responsible = forms.CharField(label=_("responsible people"), max_length=200, required=False)
    responsible_phone = forms.CharField(label=_("responsible phone"), max_length=20, required=False)

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:  # code and kind are fixed once the unit exists
            del self.fields["code"]
            del self.fields["kind"]


class HouseholdForm(forms.Form):
    grid = GridChoiceField(label=_("grid"), queryset=OrgUnit.objects.none())
    address = forms.CharField(label=_("address"), max_length=200)
    phone = forms.CharField(label=_("phone"), max_length=20, required=False)
    note = forms.CharField(label=_("note"), max_length=200, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _limit_grids(self, user)
        self.fields["phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "off"})


class PersonForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=50)
    id_number = forms.CharField(
        label=_("ID number"),
        max_length=30,
        required=False,
        help_text=_("18 characters; leave empty for a child or visitor without one."),
    )
    sex = forms.ChoiceField(label=_("sex"), choices=Person.Sex.choices, initial=Person.Sex.UNKNOWN)
    birth_date = forms.DateField(
        label=_("birth date"),
        required=False,
        # <input type=date> only accepts ISO dates; the zh-hans input format is 1975/03/14.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Taken from the ID number when there is one."),
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
    relation = forms.ChoiceField(label=_("relation to head"), choices=Person.Relation.choices)
    category = forms.ChoiceField(label=_("category"), choices=Person.Category.choices)
    occupation = forms.CharField(label=_("occupation"), max_length=50, required=False)
    note = forms.CharField(label=_("note"), max_length=200, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _limit_grids(self, user)
        households = Household.objects.filter(is_active=True)
        _limit(self, "household", restrict(households, user, Perm.REGISTER_EDIT))
        self.fields["id_number"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})
        self.fields["phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "off"})


class ListFilterForm(forms.Form):
    """Search text and a unit or grid (its subtree), the filters every register list has.
    Later lists (screening, observation…) extend it with their own fields."""

    search_placeholder = _("Search")

    q = forms.CharField(label=_("Search"), required=False)
    unit = forms.ModelChoiceField(
        label=_("Unit or grid"),
        queryset=OrgUnit.objects.none(),
        required=False,
        empty_label=_("All units and grids"),
    )

    # Above this many units in scope, the drop-down lists units only, not every grid (an office
    # may see 10,000 grids); a grid is still accepted, e.g. from a link on its page.
    MAX_OPTIONS = 300

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        visible = _visible_units(user)
        _limit(self, "unit", visible)
        options = list(visible[: self.MAX_OPTIONS + 1])
        if len(options) > self.MAX_OPTIONS:
            options = list(visible.exclude(kind=OrgUnit.Kind.GRID)[: self.MAX_OPTIONS])
            wanted = str(self.data.get("unit", ""))
            selected = visible.filter(pk=int(wanted)).first() if wanted.isdigit() else None
            if selected is not None and selected not in options:
                options.append(selected)
        field = cast(forms.ModelChoiceField, self.fields["unit"])
        field.choices = [("", field.empty_label), *((u.pk, str(u)) for u in options)]
        self.fields["q"].widget.attrs.update(
            {"placeholder": self.search_placeholder, "type": "search"}
        )


class PersonFilterForm(ListFilterForm):
    search_placeholder = _("Name, ID number or phone (part is enough)")

    category = forms.ChoiceField(
        label=_("category"),
        choices=[("", _("All categories")), *Person.Category.choices],
        required=False,
    )
    status = forms.ChoiceField(
        label=_("status"), choices=[("", _("All statuses")), *Person.Status.choices], required=False
    )
    lacks_id = forms.BooleanField(label=_("Without ID number"), required=False)


class HouseholdFilterForm(ListFilterForm):
    search_placeholder = _("Address or phone (part is enough)")
