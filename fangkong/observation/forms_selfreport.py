"""The form of the public self-report page (the person under observation, on a phone).

The form only carries the values: :func:`services.self_report` checks them and says what is
wrong (an implausible temperature, an unknown symptom, a need without a description), so the
person reads the same message whichever way the page was sent."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.core.health import Symptom

from .models import Need

# The longest description of a need the service accepts (the browser stops typing there).
NEED_TEXT_MAX = 300

# The service's field names, as the form calls them.
SERVICE_FIELDS = {"kind": "need_kind", "description": "need_text"}


class _Unchecked:
    """A choice field that lets any value through to the service, which names the bad one."""

    def valid_value(self, value: Any) -> bool:
        return True


class UncheckedMultipleChoiceField(_Unchecked, forms.MultipleChoiceField):
    pass


class UncheckedChoiceField(_Unchecked, forms.ChoiceField):
    pass


class SelfReportForm(forms.Form):
    # Typed as text: the service checks the reading and names the accepted range.
    value = forms.CharField(label=_("Your temperature (°C)"), required=False)
    symptoms = UncheckedMultipleChoiceField(
        label=_("Do you have any of these?"),
        choices=Symptom.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    need_kind = UncheckedChoiceField(
        label=_("What do you need?"),
        choices=Need.Kind.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    need_text = forms.CharField(
        label=_("Tell us what you need"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["value"].widget.attrs.update(
            {"inputmode": "decimal", "placeholder": "36.5", "autocomplete": "off"}
        )
        self.fields["need_text"].widget.attrs["maxlength"] = str(NEED_TEXT_MAX)
        for name in ("symptoms", "need_kind"):
            self.fields[name].widget.attrs["class"] = "form-check-input"
