"""Demo data of the checkpoints and their entry log, for the demo branch of
:mod:`fangkong.org.demo`.

Two checkpoints: 场区东门卡口 of the demo unit head's unit (LZ-01), operated by the demo
``checkpoint`` user, whose flagged outsiders are registered in the demo grid worker's grid;
and 分公司大门, the branch's main gate, kept by the office. A week of entries ending today
(a few hundred, at the hours people come and go): residents and staff on foot, found in the
register; vehicles with their occupants (deliveries, returning residents, visitors); a few
leaving. A couple are flagged: a fever at the east gate two days ago and one today, and a
car from Wuhan (a high-risk area in the screening demo) yesterday — each raising its alert
and putting the person on the new arrivals.

Everything goes through the services, as the gate page writes it. Drawn from one
``random.Random(seed)``; the dates follow ``today``.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from fangkong.core.validators import id_check_character
from fangkong.org import demo as org_demo
from fangkong.org.models import OrgUnit, Person, User
from fangkong.screening.models import Region

from .models import Checkpoint, Entry
from .services import entries as services
from .services.entries import EntryPersonIn

DAYS = 7
# Entries a day: (on foot, vehicles), at the east gate and at the main gate.
EAST_PER_DAY = (26, 10)
MAIN_PER_DAY = (12, 6)
LEAVING = 0.3  # of the entries: people leaving
OUTSIDER = 0.35  # of a vehicle's occupants: not in the register
PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
NORMAL = ("36.1", "36.2", "36.3", "36.4", "36.5", "36.5", "36.6", "36.6", "36.7", "36.8", "36.9")
ON_FOOT_PURPOSES = ("上班", "上班", "返回住所", "办事", "买菜回来")
VEHICLE_PURPOSES = ("送货", "送货", "返乡", "办事", "探亲", "运送饲料")
ORIGINS = ("620702", "620702", "620723", "620723", "620100", "620700", "640100")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN = "建国秀英志强丽娟海涛文军红梅明华玉兰伟东春燕"


def make_id_number(region: str, birth: dt.date, serial: int) -> str:
    """A well-formed resident ID number (the check character computed)."""
    first17 = f"{region}{birth:%Y%m%d}{serial:03d}"
    return first17 + id_check_character(first17)


@dataclass
class _Plan:
    checkpoint: Checkpoint
    actor: User | None
    persons: list[Person]
    per_day: tuple[int, int]


def _outsider(rng: random.Random, with_id: bool) -> EntryPersonIn:
    name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2))
    id_number = ""
    if with_id:
        birth = dt.date(rng.randint(1960, 2000), rng.randint(1, 12), rng.randint(1, 28))
        id_number = make_id_number(
            rng.choice(("620702", "620723", "620102")), birth, rng.randint(0, 999)
        )
    phone = f"1{rng.choice('3578')}{rng.randint(0, 999999999):09d}" if rng.random() < 0.6 else ""
    return EntryPersonIn(name=name, id_number=id_number, phone=phone)


def _plate(rng: random.Random) -> str:
    office = rng.choice("GGGGA")
    if rng.random() < 0.15:  # new energy, small car
        return f"甘{office}{rng.choice('DF')}{rng.choice(PLATE_LETTERS + '0123456789')}{rng.randint(0, 9999):04d}"
    return f"甘{office}{rng.randint(0, 99999):05d}"


def _moment(rng: random.Random, day: dt.date) -> dt.datetime:
    """A time people pass a gate: mostly mornings and late afternoons, 06:00 to 22:00."""
    hour = rng.choice((6, 7, 7, 8, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 17, 18, 18, 19, 20, 21))
    return timezone.make_aware(
        dt.datetime.combine(day, dt.time(hour, rng.randint(0, 59), rng.randint(0, 59)))
    )


def _entry(
    rng: random.Random, plan: _Plan, at: dt.datetime, vehicle: bool, regions: dict[str, Region]
) -> dict[str, object]:
    leaving = rng.random() < LEAVING
    people: list[EntryPersonIn] = []
    count = rng.choice((1, 1, 2, 2, 3)) if vehicle else 1
    chosen = rng.sample(plan.persons, min(count, len(plan.persons)))
    for index in range(count):
        if vehicle and (rng.random() < OUTSIDER or index >= len(chosen)):
            given = _outsider(rng, with_id=rng.random() < 0.5)
        else:
            given = EntryPersonIn(person=chosen[index])
        people.append(
            EntryPersonIn(
                person=given.person,
                name=given.name,
                id_number=given.id_number,
                phone=given.phone,
                temperature=None if leaving else rng.choice(NORMAL),
                disinfected=True if not leaving else None,
            )
        )
    values: dict[str, object] = {
        "people": people,
        "at": at,
        "direction": "out" if leaving else "in",
        "purpose": rng.choice(VEHICLE_PURPOSES if vehicle else ON_FOOT_PURPOSES),
    }
    if vehicle:
        values["plate"] = _plate(rng)
        values["vehicle_disinfected"] = None if leaving else rng.random() > 0.03
        if not leaving:
            values["from_region"] = regions.get(rng.choice(ORIGINS))
    return values


def _flagged(
    rng: random.Random,
    east: _Plan,
    today: dt.date,
    now: dt.datetime,
    regions: dict[str, Region],
) -> list[dict[str, object]]:
    """The entries that are flagged: two fevers and a car from Wuhan."""

    def at(day: dt.date, hour: int, minute: int) -> dt.datetime:
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))
        return min(moment, now - dt.timedelta(minutes=5))

    resident = rng.choice(east.persons)
    visitor = _outsider(rng, with_id=True)
    return [
        {
            "people": [EntryPersonIn(person=resident, temperature="37.8", disinfected=True)],
            "at": at(today - dt.timedelta(days=2), 8, 12),
            "purpose": "上班",
            "from_region": regions.get("620702"),
            "note": "复测37.7 °C，已通知网格员",
        },
        {
            "people": [
                EntryPersonIn(
                    name="马国庆", temperature="36.6", disinfected=True, phone="13909361234"
                ),
                EntryPersonIn(
                    name="马小军",
                    id_number=make_id_number("420106", dt.date(1996, 4, 3), 173),
                    temperature="36.4",
                    disinfected=True,
                ),
            ],
            "at": at(today - dt.timedelta(days=1), 16, 40),
            "plate": "鄂A6K839",
            "vehicle_disinfected": True,
            "purpose": "返乡",
            "from_region": regions.get("420106"),
        },
        {
            "people": [
                EntryPersonIn(
                    name=visitor.name,
                    id_number=visitor.id_number,
                    phone=visitor.phone,
                    temperature="38.1",
                    symptoms=["cough"],
                    disinfected=True,
                )
            ],
            "at": at(today, 7, 35),
            "plate": _plate(rng),
            "vehicle_disinfected": True,
            "purpose": "送货",
            "from_region": regions.get("620100"),
        },
    ]


def seed_entries_demo(
    *, today: dt.date, seed: int = org_demo.DEFAULT_SEED, now: dt.datetime | None = None
) -> dict[str, int]:
    """Add the checkpoints and a week of their entries ending ``today`` (nothing after
    ``now``). Does nothing (empty counts) without the demo branch or when a checkpoint
    exists. One transaction. Returns what it added: checkpoints, entries, people, flagged."""
    now = now or timezone.now()
    branch = OrgUnit.objects.filter(code=org_demo.BRANCH_CODE).first()
    if branch is None or Checkpoint.objects.exists():
        return {}
    codes = {u.username: u.scope for u in org_demo.DEMO_USERS}
    unit = OrgUnit.objects.filter(code=codes["unit_head"]).first()
    grid = OrgUnit.objects.filter(code=codes["grid_worker"]).first()
    users = {u.username: u for u in User.objects.filter(username__in=["checkpoint", "office"])}
    if unit is None:
        return {}
    rng = random.Random(seed)
    regions = Region.objects.in_bulk(list({*ORIGINS, "420106", "620702", "620100"}))
    residents = list(
        Person.objects.filter(grid__path__startswith=unit.path, is_active=True)
        .exclude(status__in=[Person.Status.UNDER_OBSERVATION, Person.Status.MOVED_OUT])
        .order_by("pk")[:400]
    )
    everyone = list(
        Person.objects.filter(grid__path__startswith=branch.path, is_active=True)
        .exclude(status__in=[Person.Status.UNDER_OBSERVATION, Person.Status.MOVED_OUT])
        .order_by("pk")[:600]
    )
    if not residents or not everyone:
        return {}
    with transaction.atomic():
        east = services.create_checkpoint(
            actor=None,
            name="场区东门卡口",
            unit=unit,
            location="场区东门（连接国道）",
            intake_grid=grid,
            operators=[users["checkpoint"]] if "checkpoint" in users else [],
        )
        main = services.create_checkpoint(
            actor=None,
            name="分公司大门",
            unit=branch,
            location="分公司办公区正门",
            operators=[users["office"]] if "office" in users else [],
        )
        plans = [
            _Plan(east, users.get("checkpoint"), residents, EAST_PER_DAY),
            _Plan(main, users.get("office"), everyone, MAIN_PER_DAY),
        ]
        planned: list[tuple[_Plan, dict[str, object]]] = []
        for offset in range(DAYS - 1, -1, -1):
            day = today - dt.timedelta(days=offset)
            for plan in plans:
                on_foot, vehicles = plan.per_day
                for vehicle in [False] * on_foot + [True] * vehicles:
                    at = _moment(rng, day)
                    if at < now:
                        planned.append((plan, _entry(rng, plan, at, vehicle, regions)))
        planned += [(plans[0], values) for values in _flagged(rng, plans[0], today, now, regions)]
        planned.sort(key=lambda pair: pair[1]["at"])  # type: ignore[arg-type, return-value]
        for plan, values in planned:
            services.log_entry(
                actor=plan.actor,
                checkpoint=plan.checkpoint,
                **values,  # type: ignore[arg-type]
            )
    entries = Entry.objects.all()
    return {
        "checkpoints": 2,
        "entries": entries.count(),
        "people": sum(entries.values_list("people_count", flat=True)),
        "flagged": entries.filter(is_flagged=True).count(),
    }
