"""The duty part of the shared test world (:mod:`fangkong.core.testing`): a post, a shift and
a pioneer post in each unit, so that every duty page and endpoint can be walked from both
sides.

- LZ-01: the round-the-clock post 一站东门卡口 (kind checkpoint, no checkpoint record) with
  the shift of 2020-02-04 08:00–20:00 (worker11 and 赵卫东 without an account; the leader
  on duty: leader), and the pioneer post 一站疫情防控党员先锋岗 (张建国 of the register, its
  leader, and worker11).
- LZ-02: the post 二站值班室 (kind other, not round the clock) with the shift of
  2020-02-04 08:00–17:00 (head2), and the pioneer post 二站党员先锋岗 (王立新, its leader).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .models import DutyPost, PioneerPost, Shift
from .services import duty as services

ZONE = dt.timezone(dt.timedelta(hours=8))


def _at(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2020, 2, day, hour, 0, tzinfo=ZONE)


@dataclass
class DutyWorld:
    post1: DutyPost  # 一站东门卡口 (LZ-01)
    shift1: Shift
    pioneer1: PioneerPost  # 一站疫情防控党员先锋岗
    post2: DutyPost  # 二站值班室 (LZ-02)
    shift2: Shift
    pioneer2: PioneerPost  # 二站党员先锋岗


def add_duty_world(world: Any) -> DutyWorld:
    """Add the duty objects above to ``world`` (a :class:`fangkong.core.testing.World`)."""
    post1 = services.create_post(
        actor=None, kind=DutyPost.Kind.CHECKPOINT, name="一站东门卡口", unit=world.unit1
    )
    shift1 = services.create_shift(
        actor=None,
        post=post1,
        start=_at(4, 8),
        end=_at(4, 20),
        members=[
            services.MemberIn(user=world.user("worker11")),
            services.MemberIn(name="赵卫东", phone="13600001111"),
        ],
        leader=world.user("leader"),
    )
    pioneer1 = services.create_pioneer_post(
        actor=None,
        name="一站疫情防控党员先锋岗",
        duty="东门卡口值守，进出人员车辆登记、测温、消毒",
        unit=world.unit1,
        members=[
            services.PioneerMemberIn(person=world.person11, is_leader=True),
            services.PioneerMemberIn(user=world.user("worker11")),
        ],
    )
    post2 = services.create_post(
        actor=None,
        kind=DutyPost.Kind.OTHER,
        name="二站值班室",
        unit=world.unit2,
        round_the_clock=False,
    )
    shift2 = services.create_shift(
        actor=None,
        post=post2,
        start=_at(4, 8),
        end=_at(4, 17),
        members=[services.MemberIn(user=world.user("head2"))],
    )
    pioneer2 = services.create_pioneer_post(
        actor=None,
        name="二站党员先锋岗",
        duty="入户排查宣传",
        unit=world.unit2,
        members=[services.PioneerMemberIn(person=world.person21, is_leader=True)],
    )
    return DutyWorld(post1, shift1, pioneer1, post2, shift2, pioneer2)
