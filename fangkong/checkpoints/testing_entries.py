"""The entries part of the shared test world (:mod:`fangkong.core.testing`): a checkpoint
with one entry in each unit, so that every page and endpoint of the checkpoints and their
entry log can be walked from both sides.

- LZ-01: the checkpoint 场区东门卡口 (at 场区东门; operated by gate1; flagged outsiders are
  registered in LZ-01-02) with 张建国 on foot, entering on 2020-02-04 at 08:00, 36.5 °C.
- LZ-02: the checkpoint 二站大门 (at 二站路口) with 王立新 on foot, entering on 2020-02-04 at
  08:30, 36.4 °C.

Neither entry is flagged. (Should the clock of a test be set before those times, they are
logged at the clock's time instead: an entry is never in the future.)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from .models import Checkpoint, Entry
from .services import entries as services

ZONE = dt.timezone(dt.timedelta(hours=8))


@dataclass
class Gates:
    east: Checkpoint  # 场区东门卡口 of LZ-01, operated by gate1, new arrivals into LZ-01-02
    second: Checkpoint  # 二站大门 of LZ-02
    entry1: Entry  # 张建国 on foot through the east gate, 2020-02-04 08:00, 36.5 °C
    entry2: Entry  # 王立新 on foot through 二站大门, 2020-02-04 08:30, 36.4 °C


def add_entries_world(world: Any) -> Gates:
    """Add the checkpoints and entries above to ``world`` (a
    :class:`fangkong.core.testing.World`): also set on it as ``checkpoint1``,
    ``checkpoint2``, ``entry1`` and ``entry2``."""
    east = services.create_checkpoint(
        actor=None,
        name="场区东门卡口",
        unit=world.unit1,
        location="场区东门",
        intake_grid=world.grid12,
        operators=[world.user("gate1")],
    )
    second = services.create_checkpoint(
        actor=None, name="二站大门", unit=world.unit2, location="二站路口"
    )
    now = timezone.now()
    entry1 = services.log_entry(
        actor=None,
        checkpoint=east,
        at=min(dt.datetime(2020, 2, 4, 8, 0, tzinfo=ZONE), now),
        people=[services.EntryPersonIn(person=world.person11, temperature="36.5")],
        purpose="上班",
    ).entry
    entry2 = services.log_entry(
        actor=None,
        checkpoint=second,
        at=min(dt.datetime(2020, 2, 4, 8, 30, tzinfo=ZONE), now),
        people=[services.EntryPersonIn(person=world.person21, temperature="36.4")],
        purpose="上班",
    ).entry
    world.checkpoint1, world.checkpoint2 = east, second
    world.entry1, world.entry2 = entry1, entry2
    return Gates(east=east, second=second, entry1=entry1, entry2=entry2)


def gates_of(world: Any) -> Gates:
    """The world's checkpoints and entries, added now unless the world has them already."""
    if getattr(world, "checkpoint1", None) is None:
        return add_entries_world(world)
    return Gates(
        east=world.checkpoint1,
        second=world.checkpoint2,
        entry1=world.entry1,
        entry2=world.entry2,
    )
