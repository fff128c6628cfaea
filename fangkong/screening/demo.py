"""Demo data of the screening workflow, for a register seeded by :mod:`fangkong.org.demo`.

A few real risk-area periods (武汉市 high from 2020-01-23, …), one open campaign over the
whole branch that started some days ago, its grids given to the demo grid workers, and its
progress: most households visited (a few only at the second knock), their members screened,
with a sprinkle of arrivals from risk areas, their family and colleagues as close contacts
(with the contact links between them), fevers and symptoms; some households where nobody was
home; a few new arrivals registered between campaigns, some of them late. Then the campaign's
counts, rebuilt from the records by :func:`services.recount_campaign`.

The campaign, its assignments and the risk areas go through the services. The households'
visits and states, the screenings (with their "+" history records), the contact links and the
timeline events are written in bulk (:class:`fangkong.core.bulk.BulkTable`), complete as the
services would leave them and classified by the same rules (:func:`rules.classify`).
Everything is drawn from one ``random.Random(seed)``; the dates follow today's date.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from fangkong.core import bulk
from fangkong.core.bulk import (
    BulkTable,
    allocate_ids,
    copy_to_history,
    lock_tables,
    reset_sequences,
    update_rows,
)
from fangkong.org import demo as org_demo
from fangkong.org import services as org_services
from fangkong.org.models import Household, OrgUnit, Person, TimelineEvent, User

from . import services
from .models import (
    Campaign,
    CampaignAssignment,
    CampaignHousehold,
    CampaignTally,
    ContactKind,
    ContactLink,
    ContactMode,
    ContactRelation,
    HouseholdVisit,
    Region,
    RiskAreaPeriod,
    RiskLevel,
    Screening,
    Transport,
)
from .rules import Facts, classify
from .selectors import current_rules, risk_level_on

CAMPAIGN_NAME = "2月地毯式摸排（第一轮）"
CAMPAIGN_INSTRUCTIONS = (
    "场不漏户、户不漏人：逐户上门，每户每人登记在家情况、近14天外出和接触情况、体温和症状。"
    "来自风险地区或与确诊、疑似病例及风险地区来人有接触的，列为重点人员，当日报办公室。"
)
# The campaign started this many days ago and is still open.
CAMPAIGN_DAYS = 6

# Risk-area periods (GB/T 2260 code, level, first day, note), set when the region has none.
RISK_PERIODS: tuple[tuple[str, str, dt.date, str], ...] = (
    ("420100", RiskLevel.HIGH, dt.date(2020, 1, 23), "武汉市离汉通道关闭"),
    ("420000", RiskLevel.MEDIUM, dt.date(2020, 1, 24), "湖北省启动重大突发公共卫生事件一级响应"),
    ("330300", RiskLevel.MEDIUM, dt.date(2020, 2, 2), "温州市实行封闭式管理"),
)
# Where travellers came from: (region code, weight).
ORIGINS: tuple[tuple[str, int], ...] = (
    ("420100", 3), ("420500", 1), ("330300", 1), ("620100", 12), ("620200", 3),
    ("640100", 3), ("630100", 2), ("610100", 4), ("510100", 2), ("440300", 2),
    ("110000", 2), ("650100", 2),
)  # fmt: skip

# Shares (of households or of persons screened).
VISITED = 0.70  # households someone answered at
SECOND_KNOCK = 0.03  # of those: nobody home at the first knock
NOBODY_HOME = 0.05  # of the others: tried, nobody home so far
AWAY = 0.012  # persons screened: away (not met)
MOVED_OUT = 0.003  # persons screened: moved out
TRAVELLED = 0.02  # persons met: back from somewhere in the last three weeks
COLLEAGUES = 0.1  # per later person met in the grid of a risk-area arrival: met them at work
CASE_CONTACT = 0.0002  # persons met: contact with a case elsewhere (named, not in the register)
FEVER = 0.002  # persons met: a temperature at or above 37.3 °C
SYMPTOMS = 0.002  # persons met: a symptom without fever
# New arrivals between campaigns: per household nobody answered at yet; at least ARRIVALS_MIN.
ARRIVAL = 0.005
ARRIVALS_MIN = 8
LATE = 0.2  # of the new arrivals: registered more than the limit after arriving

# Households per bulk write (about 3 persons each).
CHUNK_HOUSEHOLDS = 10_000

_SYMPTOM_CODES = ("cough", "fatigue", "sore_throat", "muscle_ache", "runny_nose", "diarrhoea")
_AIRLINES = ("CZ", "MU", "HU", "3U", "CA", "GS")


@dataclass
class ScreeningSummary:
    """What :func:`seed_screening_demo` created."""

    campaign: Campaign | None = None
    households: int = 0
    households_visited: int = 0
    households_nobody_home: int = 0
    persons_screened: int = 0
    key_persons: int = 0
    urgent_persons: int = 0
    contact_links: int = 0
    arrivals: int = 0
    seconds: float = 0.0


@dataclass
class _Writers:
    """The bulk tables and the rows waiting for them."""

    now: dt.datetime
    reason: str
    visits: BulkTable = field(init=False)
    states: BulkTable = field(init=False)
    screenings: BulkTable = field(init=False)
    links: BulkTable = field(init=False)
    events: BulkTable = field(init=False)
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.visits = BulkTable(
            HouseholdVisit,
            ["campaign_id", "household_id", "grid_id", "visited_at", "visited_by_id", "outcome"],
        )
        self.states = BulkTable(
            CampaignHousehold,
            ["campaign_id", "household_id", "grid_id", "status", "visits", "last_visit_at"],
        )
        self.screenings = BulkTable(
            Screening,
            list(SCREENING_COLUMNS),
            constants={"recorded_at": self.now},
            history_date=self.now,
            history_reason=self.reason,
        )
        self.links = BulkTable(
            ContactLink,
            [
                "id",
                "person_id",
                "source_id",
                "source_name",
                "kind",
                "relation",
                "mode",
                "last_contact",
                "screening_id",
                "recorded_by_id",
            ],
            constants={"recorded_at": self.now},
            history_date=self.now,
            history_reason=self.reason,
        )
        self.events = BulkTable(
            TimelineEvent, ["person_id", "occurred_at", "kind", "summary", "data", "actor_id"]
        )
        for name in ("visits", "states", "screenings", "links", "events"):
            self.rows[name] = []

    def flush(self) -> None:
        # Screenings before the links that point to them.
        for name in ("visits", "states", "screenings", "links", "events"):
            getattr(self, name).write(self.rows[name])
            self.rows[name].clear()


SCREENING_COLUMNS = (
    "id",
    "kind",
    "campaign_id",
    "person_id",
    "grid_id",
    "household_id",
    "screened_at",
    "screened_by_id",
    "presence",
    "from_region_id",
    "departed_at",
    "arrived_at",
    "transport",
    "transport_no",
    "contact_kind",
    "contact_person_id",
    "contact_name",
    "contact_date",
    "contact_relation",
    "contact_mode",
    "symptoms",
    "temperature",
    "category",
    "is_key",
    "is_urgent",
    "reasons",
    "late_registration",
)
_COLUMN = {name: i for i, name in enumerate(SCREENING_COLUMNS)}


@dataclass
class _Trip:
    region: str
    departed: dt.datetime
    arrived: dt.datetime
    transport: str
    number: str


@dataclass
class _Contact:
    kind: str
    person_id: int | None
    name: str
    day: dt.date
    relation: str
    mode: str


class _Drawer:
    """Draws the findings at the door and classifies them by the rules in force."""

    def __init__(self, rng: random.Random, campaign: Campaign, now: dt.datetime) -> None:
        self.rng = rng
        self.now = now
        self.rules = current_rules()
        self.level_on = cache(risk_level_on)
        self.names = org_demo.PopulationDrawer(rng)
        self.origins = tuple(code for code, weight in ORIGINS for _ in range(weight))
        self.region_names = dict(
            Region.objects.filter(code__in={code for code, _w in ORIGINS}).values_list(
                "code", "name"
            )
        )
        self.first_day = campaign.start
        self.today = timezone.localdate(now)
        self._adapt_dt = connection.ops.adapt_datetimefield_value

    def db_dt(self, value: dt.datetime | None) -> Any:
        return None if value is None else self._adapt_dt(value)

    def visit_time(self) -> dt.datetime:
        """A time in the campaign so far, in working hours (never in the future)."""
        rng = self.rng
        day = self.first_day + dt.timedelta(
            days=rng.randrange((self.today - self.first_day).days + 1)
        )
        local = dt.datetime.combine(day, dt.time(rng.randrange(8, 20), rng.randrange(60)))
        at = timezone.make_aware(local)
        if at >= self.now:
            at = self.now - dt.timedelta(minutes=rng.randrange(5, 600))
        return max(at, timezone.make_aware(dt.datetime.combine(self.first_day, dt.time(8))))

    def trip(self, before: dt.datetime, *, arrived: dt.datetime | None = None) -> _Trip:
        """A trip that ended some time in the three weeks before ``before`` (or at
        ``arrived``)."""
        rng = self.rng
        if arrived is None:
            arrived = before - dt.timedelta(minutes=rng.randrange(60, 20 * 24 * 60))
        transport = rng.choice(
            (Transport.TRAIN,) * 5 + (Transport.PLANE,) * 2 + (Transport.COACH, Transport.CAR)
        )
        if transport == Transport.TRAIN:
            number = f"{rng.choice('GGDKTZ')}{rng.randrange(100, 3000)}"
            hours = rng.randrange(4, 30)
        elif transport == Transport.PLANE:
            number = f"{rng.choice(_AIRLINES)}{rng.randrange(1000, 9999)}"
            hours = rng.randrange(2, 8)
        else:
            number = ""
            hours = rng.randrange(3, 20)
        return _Trip(
            rng.choice(self.origins),
            arrived - dt.timedelta(hours=hours),
            arrived,
            transport.value,
            number,
        )

    def classify(
        self,
        at: dt.datetime,
        trip: _Trip | None,
        contact: _Contact | None,
        temp: str | None,
        symptoms: Sequence[str] = (),
    ) -> tuple[str, bool, bool, str]:
        """Category, key, urgent and the reasons (JSON) by the rules in force."""
        if trip is None and contact is None and temp is None and not symptoms:
            return Screening.Category.NO_RISK.value, False, False, "[]"
        facts = Facts(
            on=timezone.localdate(at),
            from_region=trip.region if trip else "",
            from_region_name=self.region_names.get(trip.region, "") if trip else "",
            departed_on=timezone.localdate(trip.departed) if trip else None,
            arrived_on=timezone.localdate(trip.arrived) if trip else None,
            contact_kind=contact.kind if contact else "",
            contact_date=contact.day if contact else None,
            symptoms=tuple(symptoms),
            temperature=Decimal(temp) if temp else None,
        )
        result = classify(facts, rules=self.rules, level_on=self.level_on)
        return str(result.category), result.is_key, result.is_urgent, json.dumps(result.reason_data)


def _set_risk_periods() -> None:
    """The risk-area periods of the demo, for the regions that have none yet."""
    taken = set(
        RiskAreaPeriod.objects.filter(region_id__in=[p[0] for p in RISK_PERIODS]).values_list(
            "region_id", flat=True
        )
    )
    regions = Region.objects.in_bulk([p[0] for p in RISK_PERIODS])
    for code, level, start, note in RISK_PERIODS:
        if code not in taken and code in regions:
            services.set_risk_level(
                actor=None, region=regions[code], level=level, start=start, note=note
            )


def _summaries(campaign: Campaign) -> Callable[[str, bool, str, bool], str]:
    """The timeline summary the service writes for a result (a handful of distinct ones)."""

    @cache
    def summary(presence: str, is_key: bool, category: str, is_urgent: bool) -> str:
        shown = Screening(presence=presence, is_key=is_key, category=category, is_urgent=is_urgent)
        return services._summary(campaign.name, shown)

    return summary


def seed_screening_demo(
    *,
    seed: int = org_demo.DEFAULT_SEED,
    progress: Callable[[str], None] | None = None,
    now: dt.datetime | None = None,
) -> ScreeningSummary:
    """Add the screening demo to the demo register (the branch ``LZ``): risk areas, an open
    campaign and its progress. Does nothing (an empty summary) without the branch, or when a
    campaign already exists. One transaction."""
    started = time.monotonic()
    say = progress or (lambda message: None)
    now = now or timezone.now()
    summary = ScreeningSummary()
    branch = OrgUnit.objects.filter(code=org_demo.BRANCH_CODE).first()
    if branch is None or Campaign.objects.exists():
        return summary
    rng = random.Random(seed)
    with transaction.atomic():
        lock_tables(Screening, ContactLink)
        _set_risk_periods()
        office = User.objects.filter(username="office").first()
        campaign = services.create_campaign(
            actor=office,
            name=CAMPAIGN_NAME,
            unit=branch,
            start=timezone.localdate(now) - dt.timedelta(days=CAMPAIGN_DAYS),
            instructions=CAMPAIGN_INSTRUCTIONS,
        )
        summary.campaign = campaign
        workers = dict(
            CampaignAssignment.objects.filter(campaign=campaign).values_list("grid_id", "worker_id")
        )
        _progress(rng, campaign, workers, now, summary, say)
        reset_sequences(Screening, ContactLink)
        services.recount_campaign(campaign=campaign)
        org_services.refresh_grid_counts()  # persons found moved out leave the totals
        totals = CampaignTally.objects.filter(campaign=campaign)
        summary.key_persons = sum(t.key_persons for t in totals)
        summary.urgent_persons = sum(t.urgent_persons for t in totals)
    analyze()
    summary.seconds = time.monotonic() - started
    return summary


def _progress(
    rng: random.Random,
    campaign: Campaign,
    workers: dict[int, int],
    now: dt.datetime,
    summary: ScreeningSummary,
    say: Callable[[str], None],
) -> None:
    """The households' visits, the screenings, contact links, timeline events and new
    arrivals, chunk by chunk of households."""
    drawer = _Drawer(rng, campaign, now)
    writers = _Writers(now=now, reason=_("demo data"))
    summaries = _summaries(campaign)
    households = Household.objects.filter(is_active=True, grid__path__startswith=campaign.unit.path)
    bounds = households.aggregate(low=Min("pk"), high=Max("pk"))
    if bounds["low"] is None:
        return
    total_households = households.count()
    arrival_share = max(ARRIVAL, ARRIVALS_MIN / max(1, total_households * (1 - VISITED)))
    # Risk-area arrivals met so far, by grid: their colleagues may have met them.
    risky: dict[int, list[tuple[int, dt.date]]] = {}
    status_changes: list[tuple[str, int]] = []
    moved, away = Screening.Presence.MOVED_OUT.value, Screening.Presence.AWAY.value
    present = Screening.Presence.PRESENT.value
    started = time.monotonic()
    reported = 0
    low = bounds["low"]
    while low <= bounds["high"]:
        high = low + CHUNK_HOUSEHOLDS
        chunk = list(
            households.filter(pk__gte=low, pk__lt=high).values_list("pk", "grid_id").order_by("pk")
        )
        members: dict[int, list[int]] = {}
        for person_id, household_id in (
            Person.objects.filter(household_id__gte=low, household_id__lt=high, is_active=True)
            .exclude(status=Person.Status.MOVED_OUT)
            .values_list("pk", "household_id")
            .order_by("pk")
        ):
            members.setdefault(household_id, []).append(person_id)
        screening_ids = iter(
            allocate_ids(Screening, sum(len(members.get(h, ())) for h, _g in chunk))
        )
        link_rows: list[tuple[Any, ...]] = []
        for household_id, grid_id in chunk:
            people = members.get(household_id, [])
            worker = workers.get(grid_id)
            summary.households += 1
            roll = rng.random()
            if roll >= VISITED:
                if rng.random() < NOBODY_HOME:
                    at = drawer.visit_time()
                    _knock(writers, drawer, campaign, household_id, grid_id, at, worker, False)
                    writers.rows["states"].append(
                        (campaign.pk, household_id, grid_id, "nobody_home", 1, drawer.db_dt(at))
                    )
                    summary.households_nobody_home += 1
                if people and rng.random() < arrival_share:
                    _arrival(
                        writers,
                        drawer,
                        next(screening_ids),
                        rng.choice(people),
                        grid_id,
                        household_id,
                    )
                    summary.arrivals += 1
                continue
            at = drawer.visit_time()
            visits = 1
            if rng.random() < SECOND_KNOCK:
                first = at - dt.timedelta(hours=rng.randrange(2, 30))
                if timezone.localdate(first) >= campaign.start:
                    _knock(writers, drawer, campaign, household_id, grid_id, first, worker, False)
                    visits = 2
            _knock(writers, drawer, campaign, household_id, grid_id, at, worker, True)
            writers.rows["states"].append(
                (campaign.pk, household_id, grid_id, "visited", visits, drawer.db_dt(at))
            )
            summary.households_visited += 1
            db_at = drawer.db_dt(at)
            home_risk: tuple[int, dt.date] | None = None
            for person_id in people:
                screening_id = next(screening_ids)
                roll = rng.random()
                presence = (
                    moved if roll < MOVED_OUT else away if roll < MOVED_OUT + AWAY else present
                )
                trip: _Trip | None = None
                contact: _Contact | None = None
                temperature: str | None = None
                symptoms: list[str] = []
                if presence == present:
                    if rng.random() < TRAVELLED:
                        trip = drawer.trip(at)
                    if home_risk is not None:
                        contact = _Contact(
                            ContactKind.RISK_ARRIVAL,
                            home_risk[0],
                            "",
                            home_risk[1],
                            ContactRelation.FAMILY,
                            ContactMode.ROOM,
                        )
                    elif risky.get(grid_id) and rng.random() < COLLEAGUES / len(people):
                        source, day = rng.choice(risky[grid_id])
                        day = min(day, timezone.localdate(at))
                        contact = _Contact(
                            ContactKind.RISK_ARRIVAL,
                            source,
                            "",
                            day,
                            ContactRelation.COLLEAGUE,
                            rng.choice((ContactMode.MEAL, ContactMode.VEHICLE)),
                        )
                    elif rng.random() < CASE_CONTACT:
                        day = timezone.localdate(at) - dt.timedelta(days=rng.randrange(2, 12))
                        contact = _Contact(
                            ContactKind.CASE,
                            None,
                            drawer.names.full_name() + "（外地确诊病例）",
                            day,
                            ContactRelation.OTHER,
                            ContactMode.MEAL,
                        )
                    roll = rng.random()
                    if roll < FEVER:
                        temperature = f"{rng.choice((37.3, 37.4, 37.6, 37.8, 38.1, 38.5)):.1f}"
                        symptoms = ["fever", *rng.sample(_SYMPTOM_CODES, rng.randrange(2))]
                    elif roll < FEVER + SYMPTOMS:
                        temperature = f"{rng.choice((36.4, 36.6, 36.8, 37.0)):.1f}"
                        symptoms = [rng.choice(_SYMPTOM_CODES)]
                    elif rng.random() < 0.3:
                        temperature = f"{rng.choice((36.1, 36.3, 36.5, 36.6, 36.8)):.1f}"
                elif presence == moved:
                    status_changes.append((Person.Status.MOVED_OUT.value, person_id))
                else:
                    status_changes.append((Person.Status.AWAY.value, person_id))
                category, is_key, is_urgent, reasons = drawer.classify(
                    at, trip, contact, temperature, symptoms
                )
                if trip is not None and category == Screening.Category.RISK_AREA_ARRIVAL:
                    day = timezone.localdate(trip.arrived)
                    risky.setdefault(grid_id, []).append((person_id, day))
                    if home_risk is None:
                        home_risk = (person_id, day)
                writers.rows["screenings"].append(
                    (
                        screening_id,
                        Screening.Kind.DOOR.value,
                        campaign.pk,
                        person_id,
                        grid_id,
                        household_id,
                        db_at,
                        worker,
                        presence,
                        trip.region if trip else None,
                        drawer.db_dt(trip.departed if trip else None),
                        drawer.db_dt(trip.arrived if trip else None),
                        trip.transport if trip else "",
                        trip.number if trip else "",
                        contact.kind if contact else "",
                        contact.person_id if contact else None,
                        contact.name if contact else "",
                        contact.day.isoformat() if contact else None,
                        contact.relation if contact else "",
                        contact.mode if contact else "",
                        json.dumps(symptoms),
                        temperature,
                        category,
                        is_key,
                        is_urgent,
                        reasons,
                        False,
                    )
                )
                if contact is not None:
                    link_rows.append(
                        (
                            person_id,
                            contact.person_id,
                            "" if contact.person_id else contact.name,
                            contact.kind,
                            contact.relation,
                            contact.mode,
                            contact.day.isoformat(),
                            screening_id,
                            worker,
                        )
                    )
                writers.rows["events"].append(
                    (
                        person_id,
                        db_at,
                        "screening",
                        summaries(presence, is_key, category, is_urgent)[:300],
                        json.dumps(
                            {
                                "screening": screening_id,
                                "campaign": campaign.pk,
                                "category": category,
                                "key": is_key,
                                "urgent": is_urgent,
                                "presence": presence,
                            }
                        ),
                        worker,
                    )
                )
                summary.persons_screened += 1
        if link_rows:
            ids = allocate_ids(ContactLink, len(link_rows))
            writers.rows["links"] = [(pk, *row) for pk, row in zip(ids, link_rows, strict=True)]
            summary.contact_links += len(link_rows)
        writers.flush()
        low = high
        if summary.persons_screened - reported >= 100_000:
            reported = summary.persons_screened
            say(
                "{count} persons screened ({seconds:.0f} s)".format(  # not translated yet
                    count=f"{summary.persons_screened:,}", seconds=time.monotonic() - started
                )
            )
    _follow_presence(status_changes, now)


def _knock(
    writers: _Writers,
    drawer: _Drawer,
    campaign: Campaign,
    household_id: int,
    grid_id: int,
    at: dt.datetime,
    worker: int | None,
    answered: bool,
) -> None:
    outcome = HouseholdVisit.Outcome.ANSWERED if answered else HouseholdVisit.Outcome.NOBODY_HOME
    writers.rows["visits"].append(
        (campaign.pk, household_id, grid_id, drawer.db_dt(at), worker, outcome.value)
    )


def _arrival(
    writers: _Writers,
    drawer: _Drawer,
    screening_id: int,
    person_id: int,
    grid_id: int,
    household_id: int,
) -> None:
    """A new arrival registered between campaigns (late when after the rules' limit)."""
    rng = drawer.rng
    limit = drawer.rules.arrival_report_hours
    late = rng.random() < LATE
    delay = dt.timedelta(
        minutes=rng.randrange(limit * 60 + 10, 72 * 60) if late else rng.randrange(20, limit * 60)
    )
    registered = drawer.now - dt.timedelta(minutes=rng.randrange(30, 10 * 24 * 60))
    trip = drawer.trip(registered, arrived=registered - delay)
    category, is_key, is_urgent, reasons = drawer.classify(registered, trip, None, None)
    temperature = f"{rng.choice((36.2, 36.4, 36.5, 36.7)):.1f}"
    at = drawer.db_dt(registered)
    row: list[Any] = [None] * len(SCREENING_COLUMNS)
    for name, value in {
        "id": screening_id,
        "kind": Screening.Kind.ARRIVAL.value,
        "campaign_id": None,
        "person_id": person_id,
        "grid_id": grid_id,
        "household_id": household_id,
        "screened_at": at,
        "screened_by_id": None,
        "presence": Screening.Presence.PRESENT.value,
        "from_region_id": trip.region,
        "departed_at": drawer.db_dt(trip.departed),
        "arrived_at": drawer.db_dt(trip.arrived),
        "transport": trip.transport,
        "transport_no": trip.number,
        "contact_kind": "",
        "contact_person_id": None,
        "contact_name": "",
        "contact_date": None,
        "contact_relation": "",
        "contact_mode": "",
        "symptoms": "[]",
        "temperature": temperature,
        "category": category,
        "is_key": is_key,
        "is_urgent": is_urgent,
        "reasons": reasons,
        "late_registration": late,
    }.items():
        row[_COLUMN[name]] = value
    writers.rows["screenings"].append(tuple(row))
    shown = Screening(
        presence=Screening.Presence.PRESENT, is_key=is_key, category=category, is_urgent=False
    )
    text = services._summary(_("New arrival"), shown)
    if late:
        text += _(" (registered more than %(hours)s hours after arriving)") % {"hours": limit}
    writers.rows["events"].append(
        (
            person_id,
            at,
            "arrival",
            text[:300],
            json.dumps(
                {
                    "screening": screening_id,
                    "category": category,
                    "key": is_key,
                    "urgent": is_urgent,
                    "late": late,
                }
            ),
            None,
        )
    )


def _follow_presence(changes: list[tuple[str, int]], now: dt.datetime) -> None:
    """The register follows what was found at the door: away or moved out (with the audit
    trail's "~" records)."""
    if not changes:
        return
    update_rows(Person, ["status"], changes)
    for start in range(0, len(changes), 20_000):
        copy_to_history(
            Person,
            [pk for _status, pk in changes[start : start + 20_000]],
            history_date=now,
            history_type="~",
            history_reason=_("demo data"),
        )


def analyze() -> None:
    """Refresh the planner statistics of the tables just filled."""
    bulk.analyze(
        (
            Screening,
            Screening.history.model,
            ContactLink,
            HouseholdVisit,
            CampaignHousehold,
            CampaignTally,
            TimelineEvent,
        )
    )
