from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Region, RiskLevel


def _date_input() -> forms.DateInput:
    # <input type=date> only accepts ISO dates; the zh-hans input format is 2020/02/01.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RegionField(forms.ModelChoiceField):
    """A region typed by its 6-digit code (the search below the field fills it in)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            queryset=Region.objects.all(),
            widget=forms.TextInput(
                attrs={"placeholder": "620723", "inputmode": "numeric", "autocomplete": "off"}
            ),
            **kwargs,
        )
        self.error_messages["invalid_choice"] = _(
            "No region has this code. Search by name below and pick one."
        )

    def to_python(self, value: Any) -> Any:
        return super().to_python(value.strip() if isinstance(value, str) else value)


class RiskAreaPeriodForm(forms.Form):
    region = RegionField(
        label=_("region"), help_text=_("The 6-digit region code (GB/T 2260), e.g. 620723.")
    )
    level = forms.ChoiceField(label=_("risk level"), choices=RiskLevel.choices)
    start = forms.DateField(label=_("from"), widget=_date_input())
    end = forms.DateField(
        label=_("until"),
        required=False,
        widget=_date_input(),
        help_text=_("The last day at this level; leave empty while it holds."),
    )
    note = forms.CharField(label=_("note"), max_length=200, required=False)


class RiskAreaEndForm(forms.Form):
    end = forms.DateField(
        label=_("until"), widget=_date_input(), help_text=_("The last day at this level.")
    )


class RiskAreaFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    level = forms.ChoiceField(
        label=_("risk level"),
        choices=[("", _("All levels")), *RiskLevel.choices],
        required=False,
    )
    current = forms.BooleanField(label=_("In force today only"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs.update(
            {"placeholder": _("Region name or code (part is enough)"), "type": "search"}
        )
