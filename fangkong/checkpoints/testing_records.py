"""The records part of the shared test world (:mod:`fangkong.core.testing`): a place to
disinfect with one disinfection, and a publicity record, in each unit, so that every records
page and endpoint can be walked from both sides.

- LZ-01: the place 一站职工食堂 (twice a day, added 2020-02-03 08:00), disinfected on
  2020-02-04 at 09:00 with 84消毒液 1:100 by 王芳; posters (张贴防疫海报) on 2020-02-04 at
  一站1排, 20 of them, reaching about 120 people.
- LZ-02: the place 二站办公室 (once a day), disinfected on 2020-02-04 at 10:00 with 75%酒精
  by 李强; a broadcast (广播防疫知识) on 2020-02-04, 3 times.

The disinfections are of 2020 and the services only take recent ones, so they are written
directly (with the place's latest time kept as the services keep it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .models import Disinfection, DisinfectionPlace, PublicityRecord
from .services import records as services

ZONE = dt.timezone(dt.timedelta(hours=8))


def _at(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2020, 2, day, hour, 0, tzinfo=ZONE)


def _disinfection(place: DisinfectionPlace, done_at: dt.datetime, agent: str, by: str) -> Any:
    record = Disinfection.objects.create(
        place=place, done_at=done_at, agent=agent, done_by=by, created_at=done_at
    )
    DisinfectionPlace.objects.filter(pk=place.pk).update(last_done_at=done_at)
    place.last_done_at = done_at
    return record


def add_records_world(world: Any) -> None:
    """Add the records above to ``world`` (as its attributes ``place1``, ``disinfection1``,
    ``publicity1``, ``place2``, ``disinfection2`` and ``publicity2``)."""
    world.place1 = services.create_place(
        actor=None, unit=world.unit1, name="一站职工食堂", times_per_day=2, at=_at(3, 8)
    )
    world.disinfection1 = _disinfection(world.place1, _at(4, 9), "84消毒液 1:100", "王芳")
    world.publicity1 = PublicityRecord.objects.create(
        unit=world.unit1,
        day=dt.date(2020, 2, 4),
        kind=PublicityRecord.Kind.POSTER,
        content="张贴防疫海报",
        place="一站1排",
        reach=120,
        quantity=20,
        created_at=_at(4, 11),
    )
    world.place2 = services.create_place(
        actor=None, unit=world.unit2, name="二站办公室", times_per_day=1, at=_at(3, 8)
    )
    world.disinfection2 = _disinfection(world.place2, _at(4, 10), "75%酒精", "李强")
    world.publicity2 = PublicityRecord.objects.create(
        unit=world.unit2,
        day=dt.date(2020, 2, 4),
        kind=PublicityRecord.Kind.BROADCAST,
        content="广播防疫知识",
        quantity=3,
        created_at=_at(4, 12),
    )
