"""The records' services: places to disinfect (set up by duty.manage), disinfections and
publicity (recorded by duty.record), their validation with the field and the fix, who may
do what (nothing changes on a refusal), the place's latest time, and the audit trail."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from fangkong.checkpoints.models import Disinfection, DisinfectionPlace, PublicityRecord
from fangkong.checkpoints.services import records as services
from fangkong.org.models import OrgUnit

from .records_kit import (
    NOW,
    TODAY,
    RecordsWorld,
    at,
    frozen_clock,
    last_changes,
    messages,
    place,
    records_world,
)


@pytest.fixture
def rworld(db: None) -> Iterator[RecordsWorld]:
    with frozen_clock():
        yield records_world()


def _counts() -> tuple[int, int, int]:
    return (
        DisinfectionPlace.objects.count(),
        Disinfection.objects.count(),
        PublicityRecord.objects.count(),
    )


# ---------------------------------------------------------------------------------------------
# Places


def test_a_unit_head_adds_a_place_of_their_unit(rworld: RecordsWorld) -> None:
    found = services.create_place(
        actor=rworld.user("head1"),
        unit=rworld.grid11,
        name=" 一排公厕 ",
        location="一站1排西头",
        times_per_day=3,
    )

    found.refresh_from_db()
    assert (found.unit, found.name, found.location, found.times_per_day) == (
        rworld.grid11,
        "一排公厕",
        "一站1排西头",
        3,
    )
    assert (found.created_at, found.last_done_at, found.is_active) == (NOW, None, True)
    assert found.history.get().history_user == rworld.user("head1")


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        (
            {"name": ""},
            {"name": ["Name the place, e.g. 食堂 or 东门卡口."]},
        ),
        (
            {"times_per_day": 0},
            {
                "times_per_day": [
                    "Enter how many times a day the place is disinfected: a whole number from "
                    "1 to 24 (2: every 12 hours)."
                ]
            },
        ),
        (
            {"times_per_day": 25},
            {
                "times_per_day": [
                    "Enter how many times a day the place is disinfected: a whole number from "
                    "1 to 24 (2: every 12 hours)."
                ]
            },
        ),
        (
            {"name": "一站职工食堂"},
            {"name": ["第一作业站 already has a place called 一站职工食堂: choose another name."]},
        ),
        ({"location": "x" * 201}, {"location": ["Keep this under 200 characters."]}),
    ],
)
def test_a_place_is_refused_with_the_field_and_the_fix(
    rworld: RecordsWorld, values: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    before = _counts()
    arguments: dict[str, Any] = {"unit": rworld.unit1, "name": "一站东门", "times_per_day": 2}
    arguments.update(values)

    with pytest.raises(ValidationError) as error:
        services.create_place(actor=rworld.user("office"), **arguments)

    assert messages(error) == errors
    assert _counts() == before


@pytest.mark.parametrize("times", [1, 24])
def test_once_and_24_times_a_day_are_the_limits_taken(rworld: RecordsWorld, times: int) -> None:
    found = services.create_place(
        actor=None, unit=rworld.unit1, name=f"{times}次", times_per_day=times
    )

    assert found.times_per_day == times


def test_an_inactive_unit_takes_no_place(rworld: RecordsWorld) -> None:
    OrgUnit.objects.filter(pk=rworld.grid12.pk).update(is_active=False)

    with pytest.raises(ValidationError) as error:
        services.create_place(actor=None, unit=rworld.grid12, name="二排公厕")

    assert messages(error) == {"unit": ["一站二网格 is no longer active: choose another unit."]}


@pytest.mark.parametrize(
    ("persona", "unit_attr"),
    [("head2", "unit1"), ("worker11", "grid11"), ("gate1", "unit1"), ("auditor1", "unit1")],
)
def test_only_duty_managers_of_the_unit_add_places(
    rworld: RecordsWorld, persona: str, unit_attr: str
) -> None:
    before = _counts()

    with pytest.raises(PermissionDenied):
        services.create_place(
            actor=rworld.user(persona), unit=getattr(rworld, unit_attr), name="东门"
        )

    assert _counts() == before


def test_changing_a_place_keeps_its_disinfections_and_the_audit_trail(rworld: RecordsWorld) -> None:
    head = rworld.user("head1")

    services.update_place(
        actor=head,
        place=rworld.place1,
        unit=rworld.grid11,
        name="一站职工食堂（新）",
        location="场部东侧",
        times_per_day=3,
    )

    found = DisinfectionPlace.objects.get(pk=rworld.place1.pk)
    assert (found.unit, found.name, found.location, found.times_per_day) == (
        rworld.grid11,
        "一站职工食堂（新）",
        "场部东侧",
        3,
    )
    assert found.disinfections.count() == 1
    assert last_changes(found) == (
        head,
        {
            "unit": (rworld.unit1.pk, rworld.grid11.pk),
            "name": ("一站职工食堂", "一站职工食堂（新）"),
            "location": ("", "场部东侧"),
            "times_per_day": (2, 3),
        },
    )


def test_a_place_cannot_move_to_a_unit_out_of_the_managers_scope(rworld: RecordsWorld) -> None:
    with pytest.raises(PermissionDenied):
        services.update_place(
            actor=rworld.user("head1"), place=rworld.place1, unit=rworld.unit2, name="食堂"
        )

    assert DisinfectionPlace.objects.get(pk=rworld.place1.pk).unit == rworld.unit1


def test_a_place_is_deactivated_and_reactivated_once(rworld: RecordsWorld) -> None:
    office = rworld.user("office")

    services.deactivate_place(actor=office, place=rworld.place1)
    with pytest.raises(ValidationError) as again:
        services.deactivate_place(actor=office, place=rworld.place1)
    with pytest.raises(ValidationError) as refused:
        services.record_disinfection(actor=office, place=rworld.place1, agent="75%酒精")
    services.reactivate_place(actor=office, place=rworld.place1)

    assert again.value.messages == ["一站职工食堂 is already inactive."]
    assert messages(refused) == {
        "place": ["一站职工食堂 is inactive: ask for it to be reactivated first."]
    }
    assert DisinfectionPlace.objects.get(pk=rworld.place1.pk).is_active is True
    assert [h.is_active for h in rworld.place1.history.order_by("history_id")] == [
        True,
        False,
        True,
    ]


def test_a_read_only_user_cannot_deactivate_a_place(rworld: RecordsWorld) -> None:
    with pytest.raises(PermissionDenied):
        services.deactivate_place(actor=rworld.user("auditor1"), place=rworld.place1)

    assert DisinfectionPlace.objects.get(pk=rworld.place1.pk).is_active is True


# ---------------------------------------------------------------------------------------------
# Disinfections


def test_a_disinfection_is_recorded_now_by_the_user_by_default(rworld: RecordsWorld) -> None:
    worker = rworld.user("worker11")
    worker.first_name = "王芳"
    worker.save()
    toilets = place(rworld, "一排公厕", unit=rworld.grid11)

    record = services.record_disinfection(actor=worker, place=toilets, agent=" 75%酒精 ")

    record.refresh_from_db()
    assert (record.done_at, record.agent, record.done_by, record.note) == (
        NOW,
        "75%酒精",
        "王芳",
        "",
    )
    assert (record.recorded_by, record.created_at) == (worker, NOW)
    assert DisinfectionPlace.objects.get(pk=toilets.pk).last_done_at == NOW


def test_a_user_without_a_full_name_is_named_by_their_user_name(rworld: RecordsWorld) -> None:
    record = services.record_disinfection(
        actor=rworld.user("gate1"), place=rworld.place1, agent="过氧乙酸", done_at=at(5, 9)
    )

    assert record.done_by == "gate1"


def test_an_earlier_disinfection_does_not_move_the_latest_time_back(rworld: RecordsWorld) -> None:
    services.record_disinfection(
        actor=None, place=rworld.place1, agent="84消毒液 1:100", done_by="王芳", done_at=at(5, 8)
    )
    services.record_disinfection(
        actor=None, place=rworld.place1, agent="84消毒液 1:100", done_by="王芳", done_at=at(5, 6)
    )

    assert DisinfectionPlace.objects.get(pk=rworld.place1.pk).last_done_at == at(5, 8)


def test_a_correction_moves_the_latest_time_to_what_the_records_say(rworld: RecordsWorld) -> None:
    head = rworld.user("head1")
    record = services.record_disinfection(
        actor=None, place=rworld.place1, agent="84消毒液 1:100", done_by="王芳", done_at=at(5, 8)
    )

    services.correct_disinfection(
        actor=head,
        disinfection=record,
        done_at=at(4, 7),
        agent="含氯消毒剂 500mg/L",
        done_by="王芳、李强",
        note="补录",
    )

    # The world's disinfection of the 4th at 09:00 is now the latest.
    assert DisinfectionPlace.objects.get(pk=rworld.place1.pk).last_done_at == at(4, 9)
    assert last_changes(Disinfection.objects.get(pk=record.pk)) == (
        head,
        {
            "done_at": (at(5, 8), at(4, 7)),
            "agent": ("84消毒液 1:100", "含氯消毒剂 500mg/L"),
            "done_by": ("王芳", "王芳、李强"),
            "note": ("", "补录"),
        },
    )


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        (
            {"done_at": NOW + dt.timedelta(minutes=5, seconds=1)},
            {
                "done_at": [
                    "2020-02-05 10:05 is in the future: enter when the disinfection was done "
                    "(now or earlier)."
                ]
            },
        ),
        (
            {"done_at": NOW - dt.timedelta(days=31, seconds=1)},
            {
                "done_at": [
                    "2020-01-05 09:59 is more than 31 days ago: check the date (records are "
                    "kept for the last 31 days)."
                ]
            },
        ),
        (
            {"agent": "", "done_by": "", "note": "x" * 201},
            {
                "agent": ["Name the disinfectant, e.g. 84消毒液 1:100."],
                "done_by": ["Name who did it, e.g. 王芳."],
                "note": ["Keep this under 200 characters."],
            },
        ),
    ],
)
def test_a_disinfection_is_refused_with_the_field_and_the_fix(
    rworld: RecordsWorld, values: dict[str, Any], errors: dict[str, list[str]]
) -> None:
    before = _counts()
    arguments: dict[str, Any] = {"agent": "75%酒精", "done_by": "王芳"}
    arguments.update(values)

    with pytest.raises(ValidationError) as error:
        services.record_disinfection(actor=None, place=rworld.place1, **arguments)

    assert messages(error) == errors
    assert _counts() == before
    assert DisinfectionPlace.objects.get(pk=rworld.place1.pk).last_done_at == at(4, 9)


def test_five_minutes_ahead_is_a_fast_clock_and_taken(rworld: RecordsWorld) -> None:
    ahead = NOW + dt.timedelta(minutes=5)

    record = services.record_disinfection(
        actor=None, place=rworld.place1, agent="75%酒精", done_by="王芳", done_at=ahead
    )

    assert record.done_at == ahead


@pytest.mark.parametrize("persona", ["head2", "auditor1", "leader", "worker11"])
def test_only_those_who_record_in_the_unit_record_disinfections(
    rworld: RecordsWorld, persona: str
) -> None:
    before = _counts()

    with pytest.raises(PermissionDenied):
        services.record_disinfection(
            actor=rworld.user(persona), place=rworld.place1, agent="75%酒精"
        )
    with pytest.raises(PermissionDenied):
        services.correct_disinfection(
            actor=rworld.user(persona),
            disinfection=rworld.disinfection1,
            done_at=at(4, 8),
            agent="75%酒精",
            done_by="王芳",
        )

    assert _counts() == before
    assert Disinfection.objects.get(pk=rworld.disinfection1.pk).done_at == at(4, 9)


@pytest.mark.parametrize("persona", ["worker11", "gate1", "head1", "office"])
def test_grid_workers_and_checkpoint_operators_record_disinfections(
    rworld: RecordsWorld, persona: str
) -> None:
    """The grid worker in their grid (a place of the unit itself is not theirs)."""
    toilets = place(rworld, "一排公厕", unit=rworld.grid11)

    record = services.record_disinfection(
        actor=rworld.user(persona), place=toilets, agent="75%酒精"
    )

    assert record.recorded_by == rworld.user(persona)


# ---------------------------------------------------------------------------------------------
# Publicity


def test_publicity_is_recorded_with_its_numbers(rworld: RecordsWorld) -> None:
    worker = rworld.user("worker11")

    record = services.create_publicity(
        actor=worker,
        unit=rworld.grid11,
        day=TODAY,
        kind=PublicityRecord.Kind.MEETING,
        content=" 召开户主会，讲解居家隔离要求 ",
        place="一站会议室",
        reach=35,
        quantity=1,
    )

    record.refresh_from_db()
    assert (record.unit, record.day, record.kind, record.content, record.place) == (
        rworld.grid11,
        TODAY,
        "meeting",
        "召开户主会，讲解居家隔离要求",
        "一站会议室",
    )
    assert (record.reach, record.quantity, record.recorded_by, record.created_at) == (
        35,
        1,
        worker,
        NOW,
    )


def test_a_publicity_record_is_refused_with_every_field_and_its_fix(rworld: RecordsWorld) -> None:
    before = _counts()

    with pytest.raises(ValidationError) as error:
        services.create_publicity(
            actor=None,
            unit=rworld.unit1,
            day=TODAY + dt.timedelta(days=1),
            kind="tv",
            content="  ",
            place="x" * 201,
            reach=-1,
            quantity="many",  # type: ignore[arg-type]  # as an untyped caller might
        )

    assert messages(error) == {
        "day": ["2020-02-06 has not come yet: record publicity on its day or later."],
        "kind": ["Choose the kind: notice, poster, broadcast, meeting, …"],
        "content": ["Say what was published, e.g. 致全场职工群众的一封信."],
        "place": ["Keep this under 200 characters."],
        "reach": ["Enter about how many people it reached: a whole number, or leave it empty."],
        "quantity": ["Enter how many (posters, broadcasts…): a whole number, or leave it empty."],
    }
    assert _counts() == before


def test_a_publicity_correction_is_in_the_audit_trail(rworld: RecordsWorld) -> None:
    head = rworld.user("head1")

    services.update_publicity(
        actor=head,
        record=rworld.publicity1,
        day=dt.date(2020, 2, 4),
        kind=PublicityRecord.Kind.POSTER,
        content="张贴防疫海报和横幅",
        place="一站1排",
        reach=150,
        quantity=25,
    )

    assert last_changes(PublicityRecord.objects.get(pk=rworld.publicity1.pk)) == (
        head,
        {
            "content": ("张贴防疫海报", "张贴防疫海报和横幅"),
            "reach": (120, 150),
            "quantity": (20, 25),
        },
    )


@pytest.mark.parametrize("persona", ["head2", "auditor1", "leader"])
def test_publicity_is_recorded_only_by_those_who_record_in_the_unit(
    rworld: RecordsWorld, persona: str
) -> None:
    before = _counts()

    with pytest.raises(PermissionDenied):
        services.create_publicity(
            actor=rworld.user(persona),
            unit=rworld.unit1,
            day=TODAY,
            kind="notice",
            content="通知",
        )
    with pytest.raises(PermissionDenied):
        services.update_publicity(
            actor=rworld.user(persona),
            record=rworld.publicity1,
            day=TODAY,
            kind="notice",
            content="通知",
        )

    assert _counts() == before
    assert PublicityRecord.objects.get(pk=rworld.publicity1.pk).content == "张贴防疫海报"
