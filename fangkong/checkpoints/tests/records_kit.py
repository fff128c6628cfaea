"""What the records tests share: the clock (Asia/Shanghai, frozen at Wednesday 2020-02-05
10:00 unless a test moves it), the world with its records
(:func:`fangkong.checkpoints.testing_records.add_records_world`), and small helpers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast
from zoneinfo import ZoneInfo

import time_machine
from django.utils import translation

from fangkong.checkpoints.models import Disinfection, DisinfectionPlace, PublicityRecord
from fangkong.checkpoints.services import records as services
from fangkong.checkpoints.testing_records import add_records_world
from fangkong.core.testing import World, build_world

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2020, 2, 5, 10, 0, tzinfo=SHANGHAI)
TODAY = dt.date(2020, 2, 5)


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    """A moment of February 2020 in Asia/Shanghai."""
    return dt.datetime(2020, 2, day, hour, minute, second, tzinfo=SHANGHAI)


@contextmanager
def frozen_clock(now: dt.datetime = NOW) -> Iterator[Any]:
    """The clock at ``now``, English messages (the tests compare them with their source)."""
    with time_machine.travel(now, tick=False) as traveller, translation.override("en"):
        yield traveller


class RecordsWorld(World):
    """The world with its records (what add_records_world sets), for type checking."""

    place1: DisinfectionPlace
    place2: DisinfectionPlace
    disinfection1: Disinfection
    disinfection2: Disinfection
    publicity1: PublicityRecord
    publicity2: PublicityRecord


def records_world() -> RecordsWorld:
    """The test world with its records (see testing_records). Each test module has its
    fixture ``rworld``: ``with frozen_clock(): yield records_world()``."""
    world = build_world()
    if not hasattr(world, "place1"):
        add_records_world(world)
    return cast(RecordsWorld, world)


def place(world: World, name: str = "一站东门卡口", **kwargs: Any) -> DisinfectionPlace:
    """A place of LZ-01 (by default) added by the system."""
    options: dict[str, Any] = {"unit": world.unit1, "times_per_day": 2}
    options.update(kwargs)
    return services.create_place(actor=None, name=name, **options)


def messages(error: Any) -> dict[str, list[str]]:
    return dict(error.value.message_dict)


def last_changes(obj: Any) -> tuple[Any, dict[str, tuple[Any, Any]]]:
    """Who made the latest change to ``obj`` and what it changed (field: (old, new))."""
    latest, previous = obj.history.order_by("-history_id")[:2]
    changes = latest.diff_against(previous).changes
    return latest.history_user, {c.field: (c.old, c.new) for c in changes}
