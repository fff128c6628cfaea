"""Demo data of cleaning and disinfection and of publicity, over the demo organisation of
:mod:`fangkong.org.demo`: a week of each, ending today.

- Places, twice a day, in every unit: its gate (卡口), its canteen, its office, and in its
  first grid the residential rows and the public toilets.
- Disinfections at 07:00 and 19:00 (a few minutes apart from place to place: twelve hours
  between two, so that a place kept to its schedule is never overdue), with the usual
  disinfectants, by named staff; the demo checkpoint operator records the gate of LZ-01 and the
  demo grid worker the rows and toilets of LZ-01-01. Today's are those already done at the
  time the demo is made.
- One place left overdue today: the public toilets of LZ-01-01 (the demo grid worker's grid),
  last disinfected yesterday at 07:00 (due at 19:00 yesterday).
- Publicity in every unit: the open letter (a notice) the first day, posters the next, then
  broadcasts every other day and WeChat messages; and LZ-01's meeting of household heads.

Everything goes through the services, as the pages would write it; the dates follow
``today``. Does nothing (all counts zero) without the demo branch or when a place exists."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from fangkong.org import demo as org_demo
from fangkong.org.models import OrgUnit, User

from .models import DisinfectionPlace, PublicityRecord
from .rules_records import AGENTS
from .services import records as services

DAYS = 7
TIMES = (dt.time(7, 0), dt.time(19, 0))
STAFF = ("李强", "赵秀兰", "周建华", "吴丽", "郑国庆", "冯桂英")
# (kind, place name after the unit's short name, in its first grid)
PLACES: tuple[tuple[str, bool], ...] = (
    ("东门卡口", False),
    ("职工食堂", False),
    ("办公室", False),
    ("住宅区1—5排", True),
    ("公共厕所", True),
)
OVERDUE_UNIT = "LZ-01"
OVERDUE_PLACE = "公共厕所"


def _moment(day: dt.date, time: dt.time, minutes: int) -> dt.datetime:
    zone = timezone.get_current_timezone()
    return dt.datetime.combine(day, time, tzinfo=zone) + dt.timedelta(minutes=minutes)


def _short(unit: OrgUnit) -> str:
    for spec in org_demo.UNITS:
        if spec.code == unit.code:
            return spec.short
    return unit.name


def seed_records_demo(*, today: dt.date) -> dict[str, int]:
    """Add the week of disinfection and publicity ending ``today``; returns what it made."""
    made = {"places": 0, "disinfections": 0, "overdue": 0, "publicity": 0}
    branch = OrgUnit.objects.filter(code=org_demo.BRANCH_CODE).first()
    if branch is None or DisinfectionPlace.objects.exists():
        return made
    units = list(
        OrgUnit.objects.filter(
            kind=OrgUnit.Kind.UNIT, path__startswith=branch.path, is_active=True
        ).order_by("code")
    )
    users = {u.username: u for u in User.objects.filter(username__in=["checkpoint", "grid_worker"])}
    now = timezone.now()
    start = today - dt.timedelta(days=DAYS - 1)
    with transaction.atomic():
        for index, unit in enumerate(units):
            grid = (
                OrgUnit.objects.filter(parent=unit, kind=OrgUnit.Kind.GRID, is_active=True)
                .order_by("code")
                .first()
            )
            made["places"] += _disinfections(unit, grid, index, start, today, now, users, made)
            made["publicity"] += _publicity(unit, grid, index, start, today)
    made["overdue"] = sum(
        1
        for place in DisinfectionPlace.objects.filter(is_active=True)
        if place.last_done_at is not None
        and now - place.last_done_at > dt.timedelta(hours=24) / place.times_per_day
    )
    return made


def _disinfections(
    unit: OrgUnit,
    grid: OrgUnit | None,
    index: int,
    start: dt.date,
    today: dt.date,
    now: dt.datetime,
    users: dict[str, User],
    made: dict[str, int],
) -> int:
    short = _short(unit)
    created = _moment(start - dt.timedelta(days=1), dt.time(9, 0), 0)
    places = 0
    for number, (name, in_grid) in enumerate(PLACES):
        where = grid if in_grid and grid is not None else unit
        place = services.create_place(
            actor=None,
            unit=where,
            name=f"{short}{name}",
            location=f"{short}{'场部' if not in_grid else '生活区'}",
            times_per_day=2,
            at=created,
        )
        places += 1
        overdue = unit.code == OVERDUE_UNIT and name == OVERDUE_PLACE
        actor = None
        if unit.code == OVERDUE_UNIT:
            actor = users.get("grid_worker") if in_grid else None
            if name == "东门卡口":
                actor = users.get("checkpoint")
        minutes = (index * len(PLACES) + number) % 25
        day = start
        while day <= today:
            for slot, time in enumerate(TIMES):
                done_at = _moment(day, time, minutes)
                if done_at > now:
                    continue
                if overdue and (day == today or (day == today - dt.timedelta(days=1) and slot)):
                    continue  # left undone since yesterday morning
                services.record_disinfection(
                    actor=actor,
                    place=place,
                    agent=AGENTS[(number + slot) % len(AGENTS)],
                    done_at=done_at,
                    done_by="" if actor is not None else STAFF[(index + number) % len(STAFF)],
                    note="重点部位：门把手、桌面、地面" if name == "职工食堂" and slot == 0 else "",
                )
                made["disinfections"] += 1
            day += dt.timedelta(days=1)
    return places


def _publicity(
    unit: OrgUnit, grid: OrgUnit | None, index: int, start: dt.date, today: dt.date
) -> int:
    short = _short(unit)
    Kind = PublicityRecord.Kind
    plan: list[tuple[int, str, str, str, int | None, int | None, OrgUnit]] = [
        (0, Kind.NOTICE, "《致全场职工群众的一封信》：不串门、不聚集、出门戴口罩", f"{short}各排公告栏", 400, 12, unit),
        (1, Kind.POSTER, "张贴新冠肺炎防控知识海报和横幅", f"{short}场部、卡口、食堂", 350, 20, unit),
        (2, Kind.BROADCAST, "大喇叭广播疫情防控知识和居家隔离要求", f"{short}生活区", 300, 3, grid or unit),
        (4, Kind.BROADCAST, "广播返乡人员主动报告、配合排查的通知", f"{short}生活区", 300, 3, grid or unit),
        (5, Kind.MESSAGE, "微信群转发防控通告和就医指引", f"{short}职工微信群", 180, 2, unit),
        (6, Kind.BROADCAST, "广播每日体温监测提醒", f"{short}生活区", 300, 2, grid or unit),
    ]  # fmt: skip
    if unit.code == OVERDUE_UNIT:
        plan.append(
            (3, Kind.MEETING, "召开户主会，讲解居家隔离和每日零报告", "一站会议室", 45, 1, unit)
        )
    made = 0
    for offset, kind, content, where, reach, quantity, target in plan:
        day = start + dt.timedelta(days=offset)
        if day > today:
            continue
        services.create_publicity(
            actor=None,
            unit=target,
            day=day,
            kind=kind,
            content=content,
            place=where,
            reach=reach - 10 * index if reach else reach,
            quantity=quantity,
        )
        made += 1
    return made
