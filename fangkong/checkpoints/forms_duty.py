"""The forms of the duty pages: a post, a shift (staff with accounts ticked, others typed
in), a swap, a cancellation, the duty rules, a pioneer post with its members."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from fangkong.org.models import OrgUnit, Person, User

from .models import Checkpoint, DutyPost, PioneerPost, Shift, ShiftMember
from .selectors import duty as selectors
from .services.duty import (
    ALERT_BEFORE_MAX,
    GAP_DAYS_MAX,
    MemberIn,
    PioneerMemberIn,
)

# People without an account typed into a shift form, at most.
NAMED_ROWS = 3


def _datetime_input() -> forms.DateTimeInput:
    # <input type=datetime-local> only accepts 2020-02-10T08:30.
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class UserChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return selectors.user_label(obj)


class LeaderChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return selectors.user_label(obj)


class UnitChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.code} {obj.name}"


class PostForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"))
    name = forms.CharField(label=_("name of the post"), max_length=60)
    unit = UnitChoice(label=_("org unit"), queryset=OrgUnit.objects.none())
    checkpoint = forms.ModelChoiceField(
        label=_("checkpoint"),
        queryset=Checkpoint.objects.none(),
        required=False,
        help_text=_("For a checkpoint post: the checkpoint it staffs, if it is registered."),
    )
    round_the_clock = forms.BooleanField(
        label=_("staffed 24 hours"),
        required=False,
        help_text=_("Every hour of every day must be covered by a shift; gaps are shown."),
    )

    FIELDS = ("kind", "name", "unit", "checkpoint", "round_the_clock")

    def __init__(
        self,
        *args: Any,
        units: QuerySet[OrgUnit],
        checkpoints: QuerySet[Checkpoint],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        kind = cast(forms.ChoiceField, self.fields["kind"])
        kind.choices = [
            (value, label)
            for value, label in DutyPost.Kind.choices
            if value != DutyPost.Kind.PIONEER
        ]
        cast(forms.ModelChoiceField, self.fields["unit"]).queryset = units
        cast(forms.ModelChoiceField, self.fields["checkpoint"]).queryset = checkpoints
        self.fields["name"].error_messages["required"] = _(
            "Name the post, e.g. '联防联控办公室' or '东门卡口'."
        )
        self.fields["unit"].error_messages["required"] = _("Choose the unit the post belongs to.")


class ShiftForm(forms.Form):
    start = forms.DateTimeField(label=_("start"), widget=_datetime_input())
    end = forms.DateTimeField(
        label=_("end"),
        widget=_datetime_input(),
        help_text=_("A night shift ends the next day, e.g. 22:00 to 08:00."),
    )
    users = UserChoice(
        label=_("staff on duty"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    leader = LeaderChoice(
        label=_("leader on duty"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("A leader or a member of the office (optional)."),
    )
    note = forms.CharField(label=_("note"), max_length=200, required=False)

    def __init__(
        self,
        *args: Any,
        users: QuerySet[User],
        leaders: QuerySet[User],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["users"]).queryset = users
        cast(forms.ModelChoiceField, self.fields["leader"]).queryset = leaders
        self.fields["start"].error_messages["required"] = _(
            "Enter when the shift starts, e.g. 2020-02-05 08:00."
        )
        self.fields["end"].error_messages["required"] = _(
            "Enter when the shift ends, e.g. 2020-02-05 16:00."
        )
        for i in range(1, NAMED_ROWS + 1):
            self.fields[f"name_{i}"] = forms.CharField(
                label=_("name"), max_length=50, required=False
            )
            self.fields[f"phone_{i}"] = forms.CharField(
                label=_("mobile"), max_length=20, required=False
            )
            self.fields[f"phone_{i}"].widget.attrs.update(
                {"inputmode": "tel", "autocomplete": "off"}
            )

    @staticmethod
    def initial_for(shift: Shift) -> dict[str, Any]:
        members = list(shift.members.all())
        initial: dict[str, Any] = {
            "start": shift.start,
            "end": shift.end,
            "users": [m.user_id for m in members if m.user_id is not None],
            "leader": shift.leader_id,
            "note": shift.note,
        }
        named = [m for m in members if m.user_id is None]
        for i, member in enumerate(named[:NAMED_ROWS], start=1):
            initial[f"name_{i}"] = member.name
            initial[f"phone_{i}"] = member.phone
        return initial

    def named_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"name_{i}"], self[f"phone_{i}"]) for i in range(1, NAMED_ROWS + 1)]

    def members(self) -> list[MemberIn]:
        data = self.cleaned_data
        found = [MemberIn(user=user) for user in data.get("users") or []]
        for i in range(1, NAMED_ROWS + 1):
            name = (data.get(f"name_{i}") or "").strip()
            phone = (data.get(f"phone_{i}") or "").strip()
            if name or phone:
                found.append(MemberIn(name=name, phone=phone))
        return found

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "start": data["start"],
            "end": data["end"],
            "members": self.members(),
            "leader": data.get("leader"),
            "note": data.get("note") or "",
        }


class MemberChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return selectors.member_label(obj)


class SwapForm(forms.Form):
    from_member = MemberChoice(
        label=_("handed over by"),
        queryset=ShiftMember.objects.none(),
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        empty_label=None,
    )
    to_user = LeaderChoice(
        label=_("taken over by (a user)"), queryset=User.objects.none(), required=False
    )
    to_name = forms.CharField(
        label=_("or: name of someone without an account"), max_length=50, required=False
    )
    to_phone = forms.CharField(label=_("their mobile"), max_length=20, required=False)
    reason = forms.CharField(label=_("reason"), max_length=200)

    def __init__(
        self, *args: Any, members: QuerySet[ShiftMember], users: QuerySet[User], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["from_member"]).queryset = members
        cast(forms.ModelChoiceField, self.fields["to_user"]).queryset = users
        self.fields["to_phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "off"})
        self.fields["from_member"].error_messages["required"] = _(
            "Choose who hands the shift over."
        )
        self.fields["reason"].error_messages["required"] = _(
            "Say why, e.g. 'sick leave' or 'family matter'."
        )


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=200, required=False)


class DutyRulesForm(forms.Form):
    alert_before_minutes = forms.IntegerField(
        label=_("alert before an uncovered shift (minutes)"),
        min_value=0,
        max_value=ALERT_BEFORE_MAX,
        help_text=_(
            "A gap in a 24-hour post, or a shift with nobody on it, this soon raises an alert."
        ),
    )
    gap_days_ahead = forms.IntegerField(
        label=_("show gaps this many days ahead"), min_value=1, max_value=GAP_DAYS_MAX
    )

    FIELDS = ("alert_before_minutes", "gap_days_ahead")


class PioneerForm(forms.Form):
    """A pioneer post and its members: users ticked, persons of the register found by a
    search and ticked, and one of them (``leader``: ``u<id>`` or ``p<id>``) the leader."""

    name = forms.CharField(label=_("name of the post"), max_length=60)
    duty = forms.CharField(
        label=_("duty"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the post is responsible for."),
    )
    unit = UnitChoice(label=_("org unit"), queryset=OrgUnit.objects.none())
    round_the_clock = forms.BooleanField(
        label=_("staffed 24 hours"),
        required=False,
        help_text=_("Its shifts must cover every hour of every day; gaps are shown."),
    )
    users = UserChoice(
        label=_("members with an account"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    persons = forms.ModelMultipleChoiceField(
        label=_("party members from the register"),
        queryset=Person.objects.none(),
        required=False,
        widget=forms.MultipleHiddenInput,
    )
    leader = forms.CharField(label=_("leader of the post"), required=False)

    def __init__(
        self,
        *args: Any,
        units: QuerySet[OrgUnit],
        users: QuerySet[User],
        persons: QuerySet[Person],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["unit"]).queryset = units
        cast(forms.ModelChoiceField, self.fields["users"]).queryset = users
        cast(forms.ModelChoiceField, self.fields["persons"]).queryset = persons
        self.fields["name"].error_messages["required"] = _(
            "Name the post, e.g. '疫情防控党员先锋岗'."
        )
        self.fields["duty"].error_messages["required"] = _(
            "Say what the post is responsible for, e.g. '卡口值守、人员车辆登记消毒'."
        )
        self.fields["unit"].error_messages["required"] = _("Choose the unit the post belongs to.")

    @staticmethod
    def initial_for(pioneer: PioneerPost) -> dict[str, Any]:
        members = list(pioneer.members.all())
        leader = next((m for m in members if m.is_leader), None)
        return {
            "name": pioneer.name,
            "duty": pioneer.duty,
            "unit": pioneer.unit_id,
            "round_the_clock": bool(pioneer.post and pioneer.post.round_the_clock),
            "users": [m.user_id for m in members if m.person_id is None and m.user_id],
            "persons": [m.person_id for m in members if m.person_id is not None],
            "leader": _leader_value(leader.person_id, leader.user_id) if leader else "",
        }

    def _leader(self) -> str:
        return str(self["leader"].value() or "")

    def person_rows(self) -> list[tuple[Person, str, bool]]:
        """The persons ticked (as posted, or the current members) for the template: each
        with its value as the leader and whether it is the leader."""
        raw = self["persons"].value() or []
        ids = []
        for value in raw:
            try:
                ids.append(int(value))
            except (TypeError, ValueError):
                continue
        queryset = cast(forms.ModelChoiceField, self.fields["persons"]).queryset
        assert queryset is not None
        leader = self._leader()
        rows = []
        for person in queryset.filter(pk__in=ids).order_by("name", "pk"):
            value = _leader_value(person.pk, None)
            rows.append((person, value, value == leader))
        return rows

    def user_rows(self) -> list[tuple[Any, str, bool]]:
        """The users' check boxes, each with its value as the leader and whether it is the
        leader."""
        leader = self._leader()
        rows = []
        for choice in self["users"]:
            value = _leader_value(None, int(str(choice.data["value"])))
            rows.append((choice, value, value == leader))
        return rows

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = {_leader_value(None, u.pk) for u in data.get("users") or []} | {
            _leader_value(p.pk, None) for p in data.get("persons") or []
        }
        if chosen and data.get("leader") not in chosen:
            self.add_error("leader", _("Choose one member as the post's leader."))
        return data

    def members(self) -> list[PioneerMemberIn]:
        data = self.cleaned_data
        leader = data.get("leader")
        found = [
            PioneerMemberIn(person=p, is_leader=_leader_value(p.pk, None) == leader)
            for p in data.get("persons") or []
        ]
        found += [
            PioneerMemberIn(user=u, is_leader=_leader_value(None, u.pk) == leader)
            for u in data.get("users") or []
        ]
        return found


def _leader_value(person_id: int | None, user_id: int | None) -> str:
    return f"p{person_id}" if person_id is not None else f"u{user_id}"


def leader_value_of_person(person: Person) -> str:
    return _leader_value(person.pk, None)


def parse_week(value: str | None, today: dt.date) -> dt.date:
    """The Monday of the week ``?week=`` names (any day of it), this week when absent or
    wrong."""
    try:
        day = dt.date.fromisoformat(value) if value else today
    except ValueError:
        day = today
    return selectors.week_start(day)
