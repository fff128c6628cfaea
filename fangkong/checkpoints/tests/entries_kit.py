"""What the tests of the checkpoints and their entry log share: the entries part of the test
world (:func:`fangkong.checkpoints.testing_entries.add_entries_world`: a checkpoint with one
entry in each unit), the moment the tests log at, and helpers."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.apps import apps

from fangkong.checkpoints.testing_entries import Gates, add_entries_world, gates_of

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The day the entry tests log on (the world's reports are of 2020-02-03).
NOW = dt.datetime(2020, 2, 5, 9, 0, tzinfo=SHANGHAI)


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    """A moment of February 2020 in Asia/Shanghai."""
    return dt.datetime(2020, 2, day, hour, minute, second, tzinfo=SHANGHAI)


def table_counts() -> dict[str, int]:
    """Rows of every table the entry log writes to or causes writes in."""
    names = (
        "checkpoints.Entry",
        "checkpoints.EntryPerson",
        "checkpoints.Checkpoint",
        "alerts.Alert",
        "screening.Screening",
        "org.Person",
        "org.TimelineEvent",
    )
    return {name: apps.get_model(name).objects.count() for name in names}


__all__ = ["NOW", "SHANGHAI", "Gates", "add_entries_world", "at", "gates_of", "table_counts"]
