"""The alerts inbox's filters, the notes of acknowledging and resolving, and the escalation
rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from fangkong.org.forms import ListFilterForm

from .models import Alert, AlertKind, AlertLevel, AlertRules
from .services import NOTE_MAX

# The inbox's status filter: "unhandled" (open or acknowledged) unless another is chosen.
UNHANDLED = "unhandled"
ALL = "all"
STATUS_CHOICES = [
    (UNHANDLED, _("Not resolved")),
    (Alert.Status.OPEN.value, _("Open")),
    (Alert.Status.ACKNOWLEDGED.value, _("Acknowledged")),
    (Alert.Status.RESOLVED.value, _("Resolved")),
    (ALL, _("All statuses")),
]
LEVEL_CHOICES = [
    ("", _("Any level")),
    (str(AlertLevel.UNIT.value), _("Escalated")),
    (str(AlertLevel.OFFICE.value), _("Escalated to the office")),
]


class InboxFilterForm(ListFilterForm):
    """Status, kind, level and unit or grid (the register lists' unit filter; no search)."""

    status = forms.ChoiceField(label=_("status"), choices=STATUS_CHOICES, required=False)
    kind = forms.ChoiceField(
        label=_("kind"), choices=[("", _("All kinds")), *AlertKind.choices], required=False
    )
    level = forms.ChoiceField(label=_("level"), choices=LEVEL_CHOICES, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        del self.fields["q"]

    def selection(self) -> dict[str, Any]:
        """The filters in force as ``alerts_for`` takes them (invalid ones are left out)."""
        data: dict[str, Any] = self.cleaned_data if self.is_bound and self.is_valid() else {}
        status = data.get("status") or UNHANDLED
        level = data.get("level") or ""
        unit = data.get("unit")
        return {
            "status": "" if status == ALL else status,
            "kind": data.get("kind") or "",
            "level": int(level) if level else None,
            "unit_path": unit.path if unit is not None else "",
        }


class NoteForm(forms.Form):
    """The note of an acknowledgement (optional) or of a resolution (required)."""

    note = forms.CharField(
        label=_("note"),
        required=False,
        max_length=NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class AcknowledgeForm(NoteForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["note"].help_text = _("Optional: what you are doing about it.")


class ResolveForm(NoteForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["note"]
        field.label = _("what was done")
        field.help_text = _("Required, e.g. 'Called the household: 36.8 °C on re-check'.")
        # The service says what is missing (one message for the page and the API).
        field.widget.attrs["placeholder"] = _("e.g. Called the household: 36.8 °C on re-check")


# An escalation later than a week is no escalation.
MAX_MINUTES = 7 * 24 * 60


def _minutes_field(name: str) -> forms.IntegerField:
    model_field = AlertRules._meta.get_field(name)
    return forms.IntegerField(
        label=model_field.verbose_name,  # type: ignore[union-attr]
        help_text=model_field.help_text,  # type: ignore[union-attr]
        min_value=1,
        max_value=MAX_MINUTES,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class AlertRulesForm(forms.Form):
    """When an alert nobody has acknowledged goes to the unit head, then to the office."""

    escalate_to_unit_minutes = _minutes_field("escalate_to_unit_minutes")
    escalate_to_office_minutes = _minutes_field("escalate_to_office_minutes")

    FIELDS = ("escalate_to_unit_minutes", "escalate_to_office_minutes")
