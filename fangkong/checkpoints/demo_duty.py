"""Demo data of the 24-hour duty and the pioneer posts, over the demo organisation of
:mod:`fangkong.org.demo`: the roster of the week ending today and of the two weeks ahead
(the days the roster overview looks at).

- 联防联控办公室 (the joint prevention office) at the branch, staffed around the clock in
  three 8-hour shifts (00:00, 08:00, 16:00) with a leader on duty by day: the demo office user
  on the day shift, the others by name. One deliberate gap in the coming week: nobody is on
  the evening shift three days from today (16:00–24:00).
- The checkpoint posts, around the clock in two 12-hour shifts (08:00–20:00 and 20:00–08:00):
  one post per checkpoint of the demo (when the entries demo ran first), else 场区东门卡口 of
  LZ-01 without a checkpoint record. The demo checkpoint operator is on the day shift of the
  first one.
- The six party-member pioneer posts (党员先锋岗) of the article, each with three to four
  members from the register of its unit (one its leader) and, for the first, the demo unit
  head; their duty posts keep a daytime shift on weekdays.
- One swap recorded: tomorrow's day shift at the office handed over by the office user.

Everything goes through the services, as the pages would write it; the dates follow
``today``. Does nothing (all counts zero) without the demo branch or when a post exists."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from fangkong.core.validators import validate_mobile
from fangkong.org import demo as org_demo
from fangkong.org.models import OrgUnit, Person, User

from .models import Checkpoint, DutyPost, PioneerPost, Shift
from .services import duty as services

PAST_DAYS = 6  # the week ending today: today and the six days before
# and the days ahead the roster shows (DutyRules.gap_days_ahead's default)
AHEAD_DAYS = 14
# The evening shift left without anyone, this many days from today.
GAP_IN_DAYS = 3
OFFICE_POST = "联防联控办公室"
GATE_POST = "场区东门卡口"
OFFICE_STAFF = (("王建平", "13909360101"), ("刘春燕", "13909360102"), ("何振东", "13909360103"))
# The checkpoints' staff: four a gate, in turn.
GATE_STAFF = (
    ("孙立军", "13909360201"),
    ("赵永福", "13909360202"),
    ("钱文斌", "13909360203"),
    ("周玉兰", "13909360204"),
    ("吴建国", "13909360205"),
    ("郑海燕", "13909360206"),
    ("冯志强", "13909360207"),
    ("陈秀梅", "13909360208"),
    ("褚红军", "13909360209"),
    ("卫小平", "13909360210"),
    ("蒋玉华", "13909360211"),
    ("沈国栋", "13909360212"),
)
PER_GATE = 4
SWAP_TO = ("马小军", "13909360301")


@dataclass(frozen=True)
class PioneerSpec:
    name: str
    unit: str  # org unit code
    duty: str


PIONEERS: tuple[PioneerSpec, ...] = (
    PioneerSpec(
        "疫情防控党员先锋岗",
        "LZ-01",
        "场区东门检测点值守：进出人员、车辆逐一登记、测温、消毒，外来人员劝返。",
    ),
    PioneerSpec(
        "摸排核查党员先锋岗",
        "LZ-02",
        "入户开展地毯式摸排，做到场不漏户、户不漏人，建立排查台账。",
    ),
    PioneerSpec(
        "隔离服务党员先锋岗",
        "LZ-03",
        "为居家隔离户代购生活物资、送药上门，每日随访，帮助解决困难。",
    ),
    PioneerSpec(
        "清洁消毒党员先锋岗",
        "LZ-04",
        "公共区域、垃圾收集点每日两次清洁消毒，做好消毒记录。",
    ),
    PioneerSpec(
        "宣传引导党员先锋岗",
        "LZ-05",
        "张贴通告、流动广播、微信群推送，宣传疫情防控知识，引导群众不串门、不聚集。",
    ),
    PioneerSpec(
        "应急保障党员先锋岗",
        "LZ-06",
        "应急车辆和防疫物资保障，随时待命处置突发情况。",
    ),
)
PIONEER_MEMBERS = 3


def _moment(day: dt.date, hour: int) -> dt.datetime:
    zone = timezone.get_current_timezone()
    return dt.datetime.combine(day, dt.time(0, 0), tzinfo=zone) + dt.timedelta(hours=hour)


def _named(name: str, phone: str) -> services.MemberIn:
    return services.MemberIn(name=name, phone=phone)


def seed_duty_demo(*, today: dt.date) -> dict[str, int]:
    """Add the duty demo (see the module's description); the counts of what was made."""
    counts = {"posts": 0, "shifts": 0, "pioneer_posts": 0, "swaps": 0}
    branch = OrgUnit.objects.filter(code=org_demo.BRANCH_CODE).first()
    if branch is None or DutyPost.objects.exists():
        return counts
    units = {u.code: u for u in OrgUnit.objects.filter(kind=OrgUnit.Kind.UNIT, is_active=True)}
    users = {
        u.username: u
        for u in User.objects.filter(username__in=["leader", "office", "checkpoint", "unit_head"])
    }
    days = [today + dt.timedelta(days=i) for i in range(-PAST_DAYS, AHEAD_DAYS + 1)]
    with transaction.atomic():
        office = services.create_post(
            actor=None, kind=DutyPost.Kind.OFFICE, name=OFFICE_POST, unit=branch
        )
        counts["posts"] += 1
        counts["shifts"] += _office_shifts(office, days, today, users)
        gates = _gate_posts(units)
        counts["posts"] += len(gates)
        for i, gate in enumerate(gates):
            counts["shifts"] += _gate_shifts(
                gate, days, users.get("checkpoint") if i == 0 else None, i
            )
        for spec in PIONEERS:
            unit = units.get(spec.unit)
            if unit is None:
                continue
            pioneer = _pioneer(spec, unit, users.get("unit_head") if spec.unit == "LZ-01" else None)
            if pioneer is None:
                continue
            counts["pioneer_posts"] += 1
            counts["shifts"] += _pioneer_shifts(pioneer, days)
        counts["swaps"] += _swap(office, today, users.get("office"))
    return counts


def _office_shifts(
    office: DutyPost, days: list[dt.date], today: dt.date, users: dict[str, User]
) -> int:
    made = 0
    office_user, leader = users.get("office"), users.get("leader")
    for n, day in enumerate(days):
        for slot, hour in enumerate((0, 8, 16)):
            if day == today + dt.timedelta(days=GAP_IN_DAYS) and hour == 16:
                continue  # the deliberate gap
            staff = OFFICE_STAFF[(n + slot) % len(OFFICE_STAFF)]
            members = [_named(*staff)]
            if hour == 8 and office_user is not None:
                members.insert(0, services.MemberIn(user=office_user))
            services.create_shift(
                actor=None,
                post=office,
                start=_moment(day, hour),
                end=_moment(day, hour + 8),
                members=members,
                leader=(leader if hour == 8 else office_user) if hour != 0 else None,
                note="",
            )
            made += 1
    return made


def _gate_posts(units: dict[str, OrgUnit]) -> list[DutyPost]:
    """A round-the-clock post per checkpoint of the demo, or 场区东门卡口 of LZ-01."""
    checkpoints = list(
        Checkpoint.objects.filter(is_active=True, post__isnull=True)
        .select_related("unit")
        .order_by("unit__path", "pk")
    )
    if checkpoints:
        return [
            services.create_post(
                actor=None,
                kind=DutyPost.Kind.CHECKPOINT,
                name=checkpoint.name,
                unit=checkpoint.unit,
                checkpoint=checkpoint,
            )
            for checkpoint in checkpoints
        ]
    unit = units.get("LZ-01")
    if unit is None:
        return []
    return [
        services.create_post(actor=None, kind=DutyPost.Kind.CHECKPOINT, name=GATE_POST, unit=unit)
    ]


def _gate_shifts(gate: DutyPost, days: list[dt.date], operator: User | None, index: int) -> int:
    """08:00–20:00 and 20:00–08:00 every day, the night before the first day included, by
    four staff of the gate in turn (the operator too on the day shift)."""
    made = 0
    staff = [GATE_STAFF[(PER_GATE * index + i) % len(GATE_STAFF)] for i in range(PER_GATE)]
    first = days[0] - dt.timedelta(days=1)
    for n, day in enumerate([first, *days]):
        for slot, hour in enumerate((8, 20)):
            if day == first and hour == 8:
                continue
            name, phone = staff[(2 * n + slot) % len(staff)]
            members = [_named(name, phone)]
            if hour == 8 and operator is not None:
                members.insert(0, services.MemberIn(user=operator))
            services.create_shift(
                actor=None,
                post=gate,
                start=_moment(day, hour),
                end=_moment(day, hour + 12),
                members=members,
            )
            made += 1
    return made


def _pioneer(spec: PioneerSpec, unit: OrgUnit, head: User | None) -> PioneerPost | None:
    persons = list(
        Person.objects.filter(
            grid__path__startswith=unit.path,
            is_active=True,
            category=Person.Category.EMPLOYEE,
            status=Person.Status.NORMAL,
        ).order_by("pk")[:PIONEER_MEMBERS]
    )
    if not persons:
        return None
    members = [
        services.PioneerMemberIn(person=person, is_leader=i == 0)
        for i, person in enumerate(persons)
    ]
    if head is not None:
        members.append(services.PioneerMemberIn(user=head))
    return services.create_pioneer_post(
        actor=None, name=spec.name, duty=spec.duty, unit=unit, members=members
    )


def _pioneer_shifts(pioneer: PioneerPost, days: list[dt.date]) -> int:
    """A daytime shift (08:00–18:00) on weekdays by the post's leader (a person of the
    register, typed in by name)."""
    post = pioneer.post
    leader = pioneer.members.filter(is_leader=True).select_related("person").first()
    if post is None or leader is None:
        return 0
    made = 0
    phone = leader.person.phone if leader.person is not None else ""
    try:
        phone = validate_mobile(phone) if phone else ""
    except ValidationError:
        phone = ""
    for day in days:
        if day.weekday() >= 5:
            continue
        try:
            services.create_shift(
                actor=None,
                post=post,
                start=_moment(day, 8),
                end=_moment(day, 18),
                members=[_named(leader.name, phone)],
            )
        except ValidationError:  # a namesake on duty elsewhere then: that day stays open
            continue
        made += 1
    return made


def _swap(office: DutyPost, today: dt.date, office_user: User | None) -> int:
    """Tomorrow's day shift at the office: the office user hands it over."""
    if office_user is None:
        return 0
    shift = Shift.objects.filter(
        post=office, start=_moment(today + dt.timedelta(days=1), 8)
    ).first()
    member = shift.members.filter(user=office_user).first() if shift is not None else None
    if shift is None or member is None or shift.end <= timezone.now():
        return 0
    services.swap_shift(
        actor=office_user,
        shift=shift,
        from_member=member,
        to_name=SWAP_TO[0],
        to_phone=SWAP_TO[1],
        reason="家中老人住院，需陪护",
    )
    return 1
