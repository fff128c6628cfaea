"""What the duty tests share: the clock (Asia/Shanghai), the shift helpers, and the duty
part of the world (:func:`fangkong.checkpoints.testing_duty.add_duty_world`).

The tests run on Wednesday 2020-02-05 at 10:00 unless they move the clock; the week is
Monday 2020-02-03 to Sunday 2020-02-09."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from django.apps import apps

from fangkong.checkpoints.models import DutyPost, Shift
from fangkong.checkpoints.services import duty as services
from fangkong.core.testing import World
from fangkong.core.tests.pagekit import element, has_element, plain

__all__ = [
    "MONDAY",
    "NOW",
    "at",
    "element",
    "has_element",
    "plain",
    "post",
    "shift",
    "table_counts",
]

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2020, 2, 5, 10, 0, tzinfo=SHANGHAI)
MONDAY = dt.date(2020, 2, 3)


def at(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    """A moment of February 2020 in Asia/Shanghai (day 32 is 2020-03-03, and so on)."""
    return dt.datetime(2020, 2, 1, hour, minute, second, tzinfo=SHANGHAI) + dt.timedelta(
        days=day - 1
    )


def post(world: World, name: str = "联防联控办公室", **kwargs: Any) -> DutyPost:
    """A round-the-clock office post of LZ-01 (by default)."""
    options: dict[str, Any] = {"kind": DutyPost.Kind.OFFICE, "unit": world.unit1}
    options.update(kwargs)
    return services.create_post(actor=None, name=name, **options)


def shift(
    post: DutyPost,
    start: dt.datetime,
    end: dt.datetime,
    *people: Any,
    leader: Any = None,
    note: str = "",
) -> Shift:
    """A shift by the system with ``people`` on it: users, or names (strings)."""
    members: Sequence[services.MemberIn] = [
        services.MemberIn(name=p) if isinstance(p, str) else services.MemberIn(user=p)
        for p in people
    ]
    return services.create_shift(
        actor=None, post=post, start=start, end=end, members=members, leader=leader, note=note
    )


def table_counts() -> dict[str, int]:
    """Rows of every table of the app (and of the alerts and timelines): to show that a
    refused request changed nothing."""
    labels = ["alerts.Alert", "org.TimelineEvent"]
    counts = {label: apps.get_model(label).objects.count() for label in labels}
    for model in apps.get_app_config("checkpoints").get_models():
        counts[model._meta.label] = model._default_manager.count()
    return counts
