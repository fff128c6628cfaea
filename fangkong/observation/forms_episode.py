"""Forms of one episode's pages and of the grid worker's today list: a reading, a follow-up
visit, a need and what happens to it, the responsible people ("五包一"), the self-report
link. The services validate the values (range of a temperature, the period…); the forms
only read them."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fangkong.core.health import Symptom

from .models import EpisodeResponsible, FollowUpVisit, Need


def new_key() -> str:
    """A fresh idempotency key for a form as it is shown: the same form sent twice (a double
    tap, a phone retrying) carries the same key and is recorded once."""
    return secrets.token_hex(32)


def _datetime_input() -> forms.DateTimeInput:
    # <input type=datetime-local> only accepts 2020-02-10T08:30.
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _now_minute() -> Any:
    return timezone.localtime().replace(second=0, microsecond=0)


class KeyedForm(forms.Form):
    """A form with a hidden idempotency key, made when the form is shown."""

    idempotency_key = forms.CharField(max_length=80, required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", new_key())


class ReadingForm(KeyedForm):
    """A temperature taken by staff. Typed as text: the service checks the range and says
    what it expects (34.0–43.0 °C)."""

    value = forms.CharField(label=_("temperature (°C)"), max_length=10)
    taken_at = forms.DateTimeField(
        label=_("taken at"),
        required=False,
        widget=_datetime_input(),
        help_text=_("Now, unless it was taken earlier."),
    )
    symptoms = forms.MultipleChoiceField(
        label=_("symptoms"),
        choices=Symptom.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(label=_("note"), max_length=200, required=False)

    field_order = ("value", "taken_at", "symptoms", "note")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("taken_at", _now_minute())
        self.fields["value"].widget.attrs.update(
            {
                "inputmode": "decimal",
                "placeholder": "36.5",
                "autocomplete": "off",
                "class": "form-control form-control-lg",
            }
        )
        self.fields["value"].error_messages["required"] = _("Enter the temperature, e.g. 36.5.")
        self.fields["symptoms"].widget.attrs.update({"class": "form-check-input"})

    def reading(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "value": data["value"],
            "taken_at": data.get("taken_at"),
            "symptoms": data.get("symptoms") or [],
            "note": data.get("note", ""),
            "idempotency_key": data.get("idempotency_key", ""),
        }


class QuickReadingForm(KeyedForm):
    """The today list's temperature: the value only (taken now), symptoms if any."""

    value = forms.CharField(label=_("temperature (°C)"), max_length=10)
    symptoms = forms.MultipleChoiceField(
        label=_("symptoms"),
        choices=Symptom.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["value"].error_messages["required"] = _("Enter the temperature, e.g. 36.5.")
        self.fields["symptoms"].widget.attrs.update({"class": "form-check-input"})

    def reading(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "value": data["value"],
            "taken_at": None,
            "symptoms": data.get("symptoms") or [],
            "note": "",
            "idempotency_key": data.get("idempotency_key", ""),
        }


def _need_kinds() -> list[tuple[str, Any]]:
    return [("", _("— not tracked as a need —")), *Need.Kind.choices]


class VisitForm(KeyedForm):
    """The day's follow-up visit; the needs raised become a tracked need when a kind is
    chosen."""

    mode = forms.ChoiceField(
        label=_("mode"), choices=FollowUpVisit.Mode.choices, widget=forms.RadioSelect
    )
    visited_at = forms.DateTimeField(
        label=_("visited at"),
        required=False,
        widget=_datetime_input(),
        help_text=_("Now, unless the visit was earlier."),
    )
    visitor_name = forms.CharField(
        label=_("visitor"),
        max_length=50,
        required=False,
        help_text=_("Your name unless someone else went."),
    )
    findings = forms.CharField(
        label=_("findings"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    needs = forms.CharField(label=_("needs raised"), max_length=300, required=False)
    need_kind = forms.ChoiceField(label=_("track as"), choices=_need_kinds, required=False)
    abnormal = forms.BooleanField(label=_("abnormality reported"), required=False)

    field_order = ("mode", "visited_at", "visitor_name", "findings", "needs", "need_kind")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("visited_at", _now_minute())
        self.fields["mode"].error_messages["required"] = _(
            "Choose how the visit was made: in person, phone or WeChat."
        )
        self.fields["mode"].widget.attrs.update({"class": "btn-check", "autocomplete": "off"})

    def visit(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "mode": data["mode"],
            "visited_at": data.get("visited_at"),
            "visitor_name": data.get("visitor_name", ""),
            "findings": data.get("findings", ""),
            "needs": data.get("needs", ""),
            "need_kind": data.get("need_kind", ""),
            "abnormal": bool(data.get("abnormal")),
            "idempotency_key": data.get("idempotency_key", ""),
        }


class QuickVisitForm(KeyedForm):
    """The today list's "visit done": a mode button, and what was found if anything."""

    mode = forms.ChoiceField(label=_("mode"), choices=FollowUpVisit.Mode.choices)
    findings = forms.CharField(label=_("findings"), max_length=1000, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mode"].error_messages["required"] = _(
            "Choose how the visit was made: in person, phone or WeChat."
        )

    def visit(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "mode": data["mode"],
            "visited_at": None,
            "visitor_name": "",
            "findings": data.get("findings", ""),
            "needs": "",
            "need_kind": "",
            "abnormal": False,
            "idempotency_key": data.get("idempotency_key", ""),
        }


class NeedForm(forms.Form):
    """A difficulty of the household, recorded by staff."""

    kind = forms.ChoiceField(label=_("kind"), choices=Need.Kind.choices)
    description = forms.CharField(label=_("description"), max_length=300)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["description"].error_messages["required"] = _(
            "Describe the need, e.g. 'rice and cooking oil'."
        )
        self.fields["description"].widget.attrs.update(
            {"placeholder": _("e.g. rice and cooking oil"), "autocomplete": "off"}
        )


class NeedUpdateForm(forms.Form):
    """Take a need on, or resolve it with what was done."""

    TAKE_ON = "take_on"
    RESOLVE = "resolve"

    action = forms.ChoiceField(
        label=_("action"),
        choices=[(TAKE_ON, _("Take on")), (RESOLVE, _("Resolve"))],
        widget=forms.HiddenInput,
    )
    resolution = forms.CharField(label=_("what was done"), max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].error_messages["required"] = _("Choose: take on or resolve.")
        self.fields["resolution"].widget.attrs.update(
            {"placeholder": _("e.g. delivered 10 kg rice"), "autocomplete": "off"}
        )

    def status(self) -> str:
        if self.cleaned_data["action"] == self.RESOLVE:
            return str(Need.Status.RESOLVED)
        return str(Need.Status.IN_PROGRESS)


class ResponsibleForm(forms.Form):
    """The named people responsible for the household ("五包一"): a name and a phone per
    role; a role left empty has nobody."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for role, label in EpisodeResponsible.Role.choices:
            self.fields[f"{role}_name"] = forms.CharField(
                label=label, max_length=50, required=False
            )
            self.fields[f"{role}_phone"] = forms.CharField(
                label=_("phone"), max_length=20, required=False
            )
            self.fields[f"{role}_phone"].widget.attrs.update(
                {"inputmode": "tel", "autocomplete": "off"}
            )

    @staticmethod
    def initial_for(rows: Any) -> dict[str, str]:
        initial = {}
        for row in rows:
            initial[f"{row.role}_name"] = row.name
            initial[f"{row.role}_phone"] = row.phone
        return initial

    def rows(self) -> list[tuple[Any, Any, Any]]:
        """(role label, name field, phone field) for the template."""
        return [
            (label, self[f"{role}_name"], self[f"{role}_phone"])
            for role, label in EpisodeResponsible.Role.choices
        ]

    def entries(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        return [
            {"role": role, "name": data[f"{role}_name"], "phone": data[f"{role}_phone"]}
            for role in EpisodeResponsible.Role.values
        ]


class LinkActionForm(forms.Form):
    """What to do with the self-report link, confirmed on its own page."""

    REISSUE = "reissue"
    REVOKE = "revoke"

    action = forms.ChoiceField(
        label=_("action"),
        choices=[(REISSUE, _("Issue a new link")), (REVOKE, _("Stop the link"))],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["action"].error_messages["required"] = _(
            "Choose: issue a new link, or stop the link."
        )
