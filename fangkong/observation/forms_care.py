"""The care visit form (关爱慰问): one quantity field per active care item (data, not
columns: the office adds items without code)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.org.models import Household

from .models import CareItemKind, ObservationEpisode

# Above this many households a drop-down is too long: the household is chosen from its page.
MAX_HOUSEHOLD_OPTIONS = 300


class CareVisitForm(forms.Form):
    household = forms.ModelChoiceField(label=_("household"), queryset=Household.objects.none())
    episode = forms.ModelChoiceField(
        label=_("episode"),
        queryset=ObservationEpisode.objects.none(),
        required=False,
        widget=forms.HiddenInput,
    )
    visited_on = forms.DateField(
        label=_("date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    visitors = forms.CharField(
        label=_("visitors"),
        max_length=200,
        help_text=_("Who went, e.g. '张书记、李网格员'."),
    )
    words = forms.CharField(
        label=_("the household's words"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self,
        *args: Any,
        households: QuerySet[Household],
        listed: Sequence[Household] | None,
        episodes: QuerySet[ObservationEpisode],
        kinds: Sequence[CareItemKind],
        fixed_household: bool = False,
        **kwargs: Any,
    ) -> None:
        """``households``: those the user may record a visit for (validation);
        ``listed``: those offered in the drop-down; ``fixed_household``: the household was
        chosen before (from its page) and is not asked."""
        super().__init__(*args, **kwargs)
        household = cast(forms.ModelChoiceField, self.fields["household"])
        household.queryset = households
        if fixed_household:
            household.widget = forms.HiddenInput()
        elif listed is not None:
            household.widget.choices = [
                ("", "—"),
                *((h.pk, f"{h.address} · {h.grid.name}") for h in listed),
            ]
        cast(forms.ModelChoiceField, self.fields["episode"]).queryset = episodes
        self.initial.setdefault("visited_on", timezone.localdate())
        self.fields["household"].error_messages["required"] = _("Choose the household visited.")
        self.fields["visitors"].error_messages["required"] = _(
            "Name who went, e.g. '张书记、李网格员'."
        )
        self.kinds = list(kinds)
        for kind in self.kinds:
            self.fields[self.item_field(kind)] = forms.DecimalField(
                label=kind.name,
                required=False,
                min_value=Decimal("0"),
                max_digits=10,
                decimal_places=2,
                help_text=kind.unit,
                widget=forms.NumberInput(
                    attrs={"inputmode": "decimal", "step": "any", "min": "0", "placeholder": "0"}
                ),
            )

    @staticmethod
    def item_field(kind: CareItemKind) -> str:
        return f"item_{kind.pk}"

    def item_fields(self) -> list[tuple[CareItemKind, forms.BoundField]]:
        return [(kind, self[self.item_field(kind)]) for kind in self.kinds]

    def items(self) -> dict[int, Decimal]:
        data = self.cleaned_data
        return {
            kind.pk: data[self.item_field(kind)]
            for kind in self.kinds
            if data.get(self.item_field(kind)) is not None
        }
