"""Demo data of key-group control, for the register and screening demo of
:mod:`fangkong.org.demo` and :mod:`fangkong.screening.demo`.

About one key person in three found by the campaign is put under home isolation (at most
:data:`MAX_EPISODES`), plus a few persons of the demo grid worker's grid (LZ-01-01), so that
every demo login has something to see. Each episode started a few hours after its screening
and has its history since: temperatures twice a day (some self-reported through the
personal link, a few fevers, a few checks missed), a follow-up visit most days, the named
responsible people; a few needs raised at the visits (open, taken on, resolved), a couple of
care visits with what they brought; one episode released and one referred to hospital. Old
fever alerts were handled; then the scheduled jobs run once (:func:`fangkong.core.jobs.run_due`),
which raises the missed checks, missed visits and unanswered needs of the last days and
escalates what nobody acknowledged.

Everything goes through the services, as the pages would write it (a few hundred calls at the
demo's size). Drawn from one ``random.Random(seed)``; the dates follow today's date.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from fangkong.alerts import services as alert_services
from fangkong.alerts.models import Alert, AlertKind
from fangkong.core import jobs
from fangkong.org import demo as org_demo
from fangkong.org.models import OrgUnit, Person, User
from fangkong.screening.models import Screening

from . import services
from .models import (
    CareItemKind,
    CareVisit,
    EpisodeResponsible,
    FollowUpVisit,
    Need,
    ObservationEpisode,
    TemperatureReading,
)

# One key person in KEY_SHARE goes under observation, at most MAX_EPISODES of them (the demo
# goes through the services: a million-person register must not take minutes here).
KEY_SHARE = 1 / 3
MAX_EPISODES = 40
# Persons of the demo grid worker's grid put under observation as returning residents.
WORKER_GRID_EPISODES = 2

# Shares: of the checks, missed; of the readings, a fever; of the afternoon readings, sent by
# the person through the link; of the days, with a follow-up visit.
MISSED_CHECK = 0.06
FEVER = 0.03
SELF_REPORTED = 0.4
VISITED = 0.88

NORMAL_TEMPERATURES = ("36.1", "36.2", "36.3", "36.4", "36.5", "36.5", "36.6", "36.7", "36.8")
FEVERS = ("37.3", "37.4", "37.6", "37.8", "38.2")
FINDINGS = (
    "体温正常，无不适，居家隔离落实",
    "精神状态良好，家属配合",
    "无发热、干咳等症状",
    "已提醒勿外出、勿串门",
    "门磁完好，生活垃圾已按要求处理",
)
# (kind, description, resolution): raised at visits, in this order.
NEEDS: tuple[tuple[str, str, str], ...] = (
    (Need.Kind.SUPPLIES, "大米和蔬菜快吃完了", "网格员代购大米10公斤、蔬菜5公斤，送到门口"),
    (Need.Kind.MEDICINE, "降压药（硝苯地平）只剩三天的量", "联系场部卫生所，代取一个月的药"),
    (Need.Kind.PSYCHOLOGICAL, "独居老人，情绪焦虑，睡不好", ""),
    (Need.Kind.SUPPLIES, "婴儿奶粉和纸尿裤", ""),
    (Need.Kind.MEDICAL, "孕妇，需要按时产检", ""),
    (Need.Kind.OTHER, "孩子上网课需要打印作业", ""),
)
# The oldest needs resolved, the next ones taken on, the rest open.
RESOLVED_NEEDS = 2
TAKEN_NEEDS = 2
CARE_VISITS: tuple[tuple[str, dict[str, str], str], ...] = (
    ("场党委书记、网格员", {"大米": "10", "食用油": "1", "现金": "500"}, "感谢组织关心，我们一定配合隔离。"),
    ("工会主席、网格员", {"面粉": "10", "奶制品": "2", "蔬菜": "5"}, "东西都收到了，谢谢。"),
)  # fmt: skip


@dataclass
class ObservationSummary:
    """What :func:`seed_observation_demo` created."""

    episodes: int = 0
    active: int = 0
    readings: int = 0
    fevers: int = 0
    visits: int = 0
    needs: int = 0
    care_visits: int = 0
    alerts: int = 0
    open_alerts: int = 0
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)


@dataclass
class _Plan:
    """One person to put under observation."""

    person: Person
    start: dt.datetime
    entry: services.EpisodeStart
    actor: User | None
    visitor: str


def seed_observation_demo(
    *,
    seed: int = org_demo.DEFAULT_SEED,
    progress: Callable[[str], None] | None = None,
    now: dt.datetime | None = None,
    run_jobs: bool = True,
) -> ObservationSummary:
    """Add the key-group control demo to the demo register and campaign. Does nothing (an
    empty summary) without the branch, or when an episode already exists. One transaction.
    Without ``run_jobs`` the scheduled jobs are left to the caller (who adds more demo data
    first, then runs them and :func:`count_alerts`)."""
    started = time.monotonic()
    say = progress or (lambda message: None)
    now = now or timezone.now()
    summary = ObservationSummary()
    if (
        not OrgUnit.objects.filter(code=org_demo.BRANCH_CODE).exists()
        or ObservationEpisode.objects.exists()
    ):
        return summary
    rng = random.Random(seed)
    users = {u.username: u for u in User.objects.filter(username__in=["office", "grid_worker"])}
    office, worker = users.get("office"), users.get("grid_worker")
    with transaction.atomic():
        episodes = _start(rng, now, office, worker, summary)
        say(f"{len(episodes)} persons under observation")  # not translated yet
        referred = _pick_referred(episodes, worker)
        forgotten = next((e for e, p in episodes if worker is not None and p.actor is worker), None)
        for index, (episode, plan) in enumerate(episodes):
            need = NEEDS[index] if index < len(NEEDS) else None
            _history(
                rng,
                episode,
                plan,
                now,
                need=need,
                fever_last=episode is referred,
                forgotten=episode is forgotten,
            )
        _handle_needs(office, worker)
        _care_visits(episodes, office)
        _decide(episodes, referred, office, worker, now)
        _handle_old_fevers(office, now)
        if run_jobs:
            jobs.run_due(now)
    summary.episodes = ObservationEpisode.objects.count()
    summary.active = ObservationEpisode.objects.filter(
        status=ObservationEpisode.Status.ACTIVE
    ).count()
    summary.readings = TemperatureReading.objects.count()
    summary.fevers = TemperatureReading.objects.filter(is_fever=True).count()
    summary.visits = FollowUpVisit.objects.count()
    summary.needs = Need.objects.count()
    summary.care_visits = CareVisit.objects.count()
    count_alerts(summary)
    summary.seconds = time.monotonic() - started
    return summary


def count_alerts(summary: ObservationSummary) -> None:
    summary.alerts = Alert.objects.count()
    summary.open_alerts = Alert.objects.filter(status=Alert.Status.OPEN).count()


# ---------------------------------------------------------------------------------------------
# Who goes under observation


def _start(
    rng: random.Random,
    now: dt.datetime,
    office: User | None,
    worker: User | None,
    summary: ObservationSummary,
) -> list[tuple[ObservationEpisode, _Plan]]:
    plans = _key_persons(rng, now, office) + _worker_grid(rng, now, worker)
    plans.sort(key=lambda plan: (plan.start, plan.person.pk))
    drawer = org_demo.PopulationDrawer(rng)
    started = []
    for plan in plans:
        grid = plan.person.grid
        unit = grid.parent
        plan.entry.responsible = [
            {
                "role": EpisodeResponsible.Role.CADRE,
                "name": (unit.responsible if unit else "") or drawer.full_name(),
                "phone": (unit.responsible_phone if unit else "") or drawer.phone(),
            },
            {
                "role": EpisodeResponsible.Role.GRID_WORKER,
                "name": plan.visitor,
                "phone": grid.responsible_phone or drawer.phone(),
                "user": worker if plan.actor is worker and worker is not None else None,
            },
            {
                "role": EpisodeResponsible.Role.DOCTOR,
                "name": drawer.full_name() + "（卫生所）",
                "phone": drawer.phone(),
            },
        ]
        try:
            with transaction.atomic():
                episode = services.start_episode(actor=plan.actor, entry=plan.entry, at=plan.start)
        except ValidationError as error:  # e.g. the period ended before the start
            summary.skipped.append(f"{plan.person.name}: {'; '.join(error.messages)}")
            continue
        started.append((episode, plan))
    return started


def _start_time(rng: random.Random, screened: dt.datetime, now: dt.datetime) -> dt.datetime:
    """A few hours after the screening (the office's decision), never in the future."""
    at = screened + dt.timedelta(minutes=rng.randrange(60, 300))
    return min(at, now - dt.timedelta(minutes=rng.randrange(5, 30)))


def _key_persons(rng: random.Random, now: dt.datetime, office: User | None) -> list[_Plan]:
    """One key person in three, by their screening (the first one that found them key)."""
    screenings = (
        Screening.objects.filter(
            is_key=True,
            presence=Screening.Presence.PRESENT,
            person__is_active=True,
            screened_at__lte=now,
        )
        .exclude(person__status=Person.Status.MOVED_OUT)
        .select_related("person__grid__parent", "person__household")
        .order_by("screened_at", "pk")
    )
    plans: list[_Plan] = []
    seen: set[int] = set()
    for screening in screenings:
        if screening.person_id in seen:
            continue
        seen.add(screening.person_id)
        if rng.random() >= KEY_SHARE or len(plans) >= MAX_EPISODES:
            continue
        person = screening.person
        start = _start_time(rng, screening.screened_at, now)
        values = services.start_from_screening(screening)
        entry = services.EpisodeStart(person=person, screening=screening, **values)
        plans.append(_Plan(person, start, entry, office, person.grid.responsible))
    return plans


def _worker_grid(rng: random.Random, now: dt.datetime, worker: User | None) -> list[_Plan]:
    """Persons of the demo grid worker's grid, back from elsewhere, under observation as
    returning residents (the grid's own key persons, if any, come on top)."""
    grid = _worker_grid_unit()
    if worker is None or grid is None:
        return []
    persons = list(
        Person.objects.filter(grid=grid, is_active=True, status=Person.Status.NORMAL)
        .select_related("grid__parent", "household")
        .order_by("pk")
    )
    if not persons:
        return []
    today = timezone.localdate(now)
    plans = []
    for person in rng.sample(persons, min(WORKER_GRID_EPISODES, len(persons))):
        days_ago = rng.randrange(2, 6)
        arrived = today - dt.timedelta(days=days_ago)
        start = timezone.make_aware(
            dt.datetime.combine(arrived, dt.time(rng.randrange(9, 12), rng.randrange(60)))
        )
        entry = services.EpisodeStart(
            person=person,
            reason=ObservationEpisode.Reason.RETURNEE,
            reason_note="春节后从外地返回",
            counts_from=arrived,
            counts_from_kind=ObservationEpisode.CountsFrom.ARRIVAL,
        )
        plans.append(_Plan(person, min(start, now), entry, worker, worker.full_name or str(worker)))
    return plans


def _worker_grid_unit() -> OrgUnit | None:
    """The demo grid worker's grid (LZ-01-01)."""
    code = next(u.scope for u in org_demo.DEMO_USERS if u.username == "grid_worker")
    return OrgUnit.objects.filter(code=code).first()


def _pick_referred(
    episodes: list[tuple[ObservationEpisode, _Plan]], worker: User | None
) -> ObservationEpisode | None:
    """The episode that ends in a referral: the oldest one outside the worker's grid."""
    for episode, plan in episodes:
        if plan.actor is not worker or worker is None:
            return episode
    return None


# ---------------------------------------------------------------------------------------------
# The days since the start


def _times(
    rng: random.Random, episode: ObservationEpisode, now: dt.datetime, hours: tuple[int, int]
) -> list[dt.datetime]:
    """A moment between ``hours`` on each day of the episode so far, after its start and
    before now."""
    day = episode.start_date
    today = timezone.localdate(now)
    moments = []
    while day <= min(today, episode.planned_end):
        minute = rng.randrange(hours[0] * 60, hours[1] * 60)
        at = timezone.make_aware(dt.datetime.combine(day, dt.time(minute // 60, minute % 60)))
        if episode.created_at < at < now:
            moments.append(at)
        day += dt.timedelta(days=1)
    return moments


def _history(
    rng: random.Random,
    episode: ObservationEpisode,
    plan: _Plan,
    now: dt.datetime,
    *,
    need: tuple[str, str, str] | None,
    fever_last: bool,
    forgotten: bool,
) -> None:
    """The episode's temperatures (morning 07:00–09:00, afternoon 14:00–17:00) and visits
    (10:00–12:00), the ``need`` raised at the first visit; the last reading a fever with
    ``fever_last``; nothing at all yesterday when ``forgotten`` (so that the demo grid
    worker has missed checks and a missed visit to handle)."""
    link = episode.links.filter(revoked_at__isnull=True).first()
    yesterday = timezone.localdate(now) - dt.timedelta(days=1)
    checks = sorted(_times(rng, episode, now, (7, 9)) + _times(rng, episode, now, (14, 17)))
    for index, at in enumerate(checks):
        last = index == len(checks) - 1
        if forgotten and timezone.localdate(at) == yesterday:
            continue
        if rng.random() < MISSED_CHECK and not (fever_last and last):
            continue
        fever = rng.random() < FEVER or (fever_last and last)
        value = rng.choice(FEVERS) if fever else rng.choice(NORMAL_TEMPERATURES)
        symptoms = ["fever", rng.choice(["cough", "fatigue", "sore_throat"])] if fever else []
        if link is not None and at.hour >= 12 and rng.random() < SELF_REPORTED:
            services.self_report(token=link.token, value=value, symptoms=symptoms, at=at)
        else:
            services.record_reading(
                actor=plan.actor, episode=episode, value=value, taken_at=at, symptoms=symptoms
            )
    modes = [FollowUpVisit.Mode.PHONE] * 5 + [FollowUpVisit.Mode.WECHAT] * 3
    modes += [FollowUpVisit.Mode.IN_PERSON] * 2
    for at in _times(rng, episode, now, (10, 12)):
        if forgotten and timezone.localdate(at) == yesterday:
            continue
        if rng.random() >= VISITED and need is None:
            continue
        services.record_visit(
            actor=plan.actor,
            episode=episode,
            mode=rng.choice(modes),
            visited_at=at,
            visitor_name=plan.visitor,
            findings=rng.choice(FINDINGS),
            needs=need[1] if need else "",
            need_kind=need[0] if need else "",
        )
        need = None


def _handle_needs(office: User | None, worker: User | None) -> None:
    """The oldest needs were resolved, the next ones taken on; the newest are still open."""
    grid = _worker_grid_unit()
    resolutions = {text: resolution for _kind, text, resolution in NEEDS}
    needs = Need.objects.select_related("episode__person__grid").order_by("raised_at", "pk")
    for index, need in enumerate(needs[: RESOLVED_NEEDS + TAKEN_NEEDS]):
        handler = worker if worker is not None and need.episode.person.grid == grid else office
        if index < RESOLVED_NEEDS:
            services.update_need(
                actor=handler,
                need=need,
                status=Need.Status.RESOLVED,
                resolution=resolutions.get(need.description) or "已协调解决",
            )
        else:
            services.update_need(
                actor=handler, need=need, status=Need.Status.IN_PROGRESS, assigned_to=handler
            )


def _care_visits(
    episodes: list[tuple[ObservationEpisode, _Plan]],
    office: User | None,
) -> None:
    """Care visits to the households of the first episodes, the day after the start."""
    kinds = {k.name: k.pk for k in CareItemKind.objects.all()}
    households = [(e, p.person.household, p) for e, p in episodes if p.person.household]
    for (visitors, items, words), (episode, household, plan) in zip(
        CARE_VISITS, households, strict=False
    ):
        on = min(episode.start_date + dt.timedelta(days=1), timezone.localdate())
        services.record_care_visit(
            actor=office,
            household=household,
            visited_on=on,
            visitors=f"{visitors}{plan.visitor}",
            items={kinds[name]: Decimal(q) for name, q in items.items() if name in kinds},
            words=words,
            episode=episode,
        )


def _decide(
    episodes: list[tuple[ObservationEpisode, _Plan]],
    referred: ObservationEpisode | None,
    office: User | None,
    worker: User | None,
    now: dt.datetime,
) -> None:
    """The referral of ``referred`` (its last reading was a fever), and the release of the
    episode planned to end first (early, with the reason, when none has reached its end)."""
    today = timezone.localdate(now)
    if referred is not None:
        services.decide(
            actor=office,
            episode=referred,
            outcome=ObservationEpisode.Status.REFERRED,
            note="体温升高伴干咳，经卫生所医生评估，由120转送临泽县人民医院发热门诊",
            on=today,
        )
    candidates = sorted(
        (e for e, p in episodes if e is not referred and (worker is None or p.actor is not worker)),
        key=lambda e: (e.planned_end, e.pk),
    )
    if not candidates:
        return
    released = candidates[0]
    on = min(released.planned_end, today)
    services.decide(
        actor=office,
        episode=released,
        outcome=ObservationEpisode.Status.RELEASED,
        note="" if on >= released.planned_end else "经县疾控中心评估，提前解除隔离",
        on=on,
    )


def _handle_old_fevers(office: User | None, now: dt.datetime) -> None:
    """Fevers of before yesterday were rechecked: their alerts are resolved."""
    cutoff = now - dt.timedelta(days=1)
    for alert in Alert.objects.filter(
        kind__in=[AlertKind.FEVER, AlertKind.SYMPTOMS],
        status=Alert.Status.OPEN,
        raised_at__lt=cutoff,
    ).order_by("pk"):
        alert_services.resolve_alert(
            actor=office, alert=alert, note="已电话回访，复测体温36.6 °C，无不适"
        )
