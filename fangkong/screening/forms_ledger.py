"""The filters of the screening ledger (排查台账)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.org.forms import ListFilterForm

from . import selectors
from .forms import _date_input
from .models import Campaign, Screening


class LedgerFilterForm(ListFilterForm):
    """Search, unit or grid (the register lists' filters), then the ledger's own."""

    search_placeholder = _("Name, ID number or phone (part is enough)")

    campaign = forms.ModelChoiceField(
        label=_("campaign"),
        queryset=Campaign.objects.none(),
        required=False,
        empty_label=_("All campaigns and arrivals"),
    )
    kind = forms.ChoiceField(
        label=_("kind"), choices=[("", _("All kinds")), *Screening.Kind.choices], required=False
    )
    category = forms.ChoiceField(
        label=_("classification"),
        choices=[("", _("All classifications")), *Screening.Category.choices],
        required=False,
    )
    key_only = forms.BooleanField(label=_("Key persons only"), required=False)
    urgent_only = forms.BooleanField(label=_("Urgent only"), required=False)
    late_only = forms.BooleanField(label=_("Registered late only"), required=False)
    date_from = forms.DateField(label=_("from"), required=False, widget=_date_input())
    date_to = forms.DateField(label=_("until"), required=False, widget=_date_input())

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        campaigns = selectors.campaigns_for(user)
        field = self.fields["campaign"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = campaigns
        # One query for the options (and none more to check the chosen one).
        options = list(campaigns.select_related(None).only("pk", "name", "start"))
        field.choices = [("", field.empty_label), *((c.pk, c.name) for c in options)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date cannot be before the start date."))
        return data

    def filters(self) -> selectors.LedgerFilters:
        """The filters in force: none when the form is unbound or invalid (as the list
        shows them, an export holds the same rows)."""
        if not self.is_bound or not self.is_valid():
            return selectors.LedgerFilters()
        data = self.cleaned_data
        return selectors.LedgerFilters(
            q=data["q"],
            campaign=data["campaign"],
            unit=data["unit"],
            kind=data["kind"],
            category=data["category"],
            key_only=data["key_only"],
            urgent_only=data["urgent_only"],
            late_only=data["late_only"],
            date_from=data["date_from"],
            date_to=data["date_to"],
        )
