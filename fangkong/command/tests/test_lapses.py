"""Lapses (责任追究): recorded once per key, whoever records them and however often."""

from __future__ import annotations

import datetime as dt

from fangkong.command.models import Lapse
from fangkong.command.services import record_lapse, record_lapses
from fangkong.core.scoping import restrict
from fangkong.core.testing import World

DAY = dt.date(2020, 2, 5)
AT = dt.datetime(2020, 2, 5, 13, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def test_a_lapse_is_recorded_once_per_key(world: World) -> None:
    first, created = record_lapse(
        kind=Lapse.Kind.MISSING_REPORT,
        key="missing_report:x:2020-02-05",
        unit=world.unit1,
        day=DAY,
        responsible=world.user("head1"),
        note="第一作业站: no daily report",
        at=AT,
    )
    again, created_again = record_lapse(
        kind=Lapse.Kind.MISSING_REPORT,
        key="missing_report:x:2020-02-05",
        unit=world.unit2,
        day=DAY,
        note="another note",
    )

    assert (created, created_again) == (True, False)
    assert again == first
    assert (again.unit, again.responsible, again.note, again.created_at) == (
        world.unit1,
        world.user("head1"),
        "第一作业站: no daily report",
        AT,
    )


def test_many_lapses_at_once_skip_the_keys_recorded_before(world: World) -> None:
    def lapse(key: str) -> Lapse:
        return Lapse(
            kind=Lapse.Kind.MISSING_REPORT, key=key, unit=world.unit1, day=DAY, created_at=AT
        )

    record_lapses([lapse("a")])

    new = record_lapses([lapse("a"), lapse("b"), lapse("b")])

    assert [item.key for item in new] == ["b"]
    assert sorted(Lapse.objects.values_list("key", flat=True)) == ["a", "b"]


def test_lapses_are_seen_within_the_scope(world: World) -> None:
    for key, unit in (("one", world.unit1), ("two", world.unit2)):
        record_lapse(kind=Lapse.Kind.MISSING_REPORT, key=key, unit=unit, day=DAY)

    seen = restrict(Lapse.objects.all(), world.user("head1"))

    assert list(seen.values_list("key", flat=True)) == ["one"]
