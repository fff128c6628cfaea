"""Benchmarks of the checkpoints: the entry log over 1,000,000 entries, and a burst of gate
phones posting entries to a server, some of them twice.

``checkpoints_sqlite`` and ``checkpoints_postgresql`` seed the demo register of ``persons``
persons (the households of :data:`fangkong.screening.bench.BENCH_HOUSEHOLD_SIZES`),
:data:`CHECKPOINTS_PER_UNIT` checkpoints a unit (:func:`seed_checkpoints`; the demo's
checkpoint operator works those of their unit), and as many entries as persons over the last
:data:`DAYS` days (:func:`seed_entries`: in bulk with :mod:`fangkong.core.bulk`, without audit
trail, which the pages measured do not read): most people on foot, :data:`VEHICLE` of the
entries vehicles with one to four occupants, :data:`REGISTERED` of the people found in the
register and the others typed in, :data:`FEVER` of the entries with a fever and
:data:`RISK_ORIGIN` from a risk area (both flagged). Then each read of :data:`PAGES` (the
entry log — first page, one checkpoint, flagged only, a deep page —, the counts of the last
:data:`COUNT_DAYS` days) and of :data:`API` (the entries through ``/api/v1/``, with a bearer
token), as the office, the unit head and the checkpoint operator, ``REQUESTS`` times with the
test client after two warm-up requests (:func:`fangkong.core.benchkit.time_pages`): median and
p95 in milliseconds, the queries of one more request and their time (``_db_ms``) (the issue's
target: p95 under 300 ms each at 1,000,000 entries). A page whose URL does not exist yet is
reported as not measured and the others are measured. The work runs in a child process
(``python -m fangkong.checkpoints.bench measure PERSONS``) with ``DEBUG`` off, on a SQLite
file in a temporary folder or on a PostgreSQL database created for the run and dropped after
it (``BENCH_POSTGRES_URL`` with ``_checkpoints`` added to the database name; default
``fangkong_bench_checkpoints`` on 127.0.0.1).

``checkpoint_burst`` (SQLite, WAL) and ``checkpoint_burst_postgresql`` prepare a database
with a small register (at most :data:`BURST_PERSONS` persons), the checkpoints, a risk area
and an API token of the checkpoint operator, start gunicorn on it (:data:`WORKERS` sync
workers, :func:`fangkong.core.benchkit.serving`), and post :data:`BURST_ENTRIES` entries
(``POST /api/v1/checkpoints/{id}/entries``, each with its own idempotency key) from
:data:`BURST_CLIENTS` client threads at a steady rate over :data:`BURST_SECONDS` seconds: a
person on foot from the register, or a vehicle with occupants (some typed in), a few with a
fever or from the risk area. :data:`RETRY_SHARE` of them are sent again with the same key,
as a phone does after a lost answer: half about at once with the first (concurrent with it),
half a moment later. Every request's time and answer are kept; afterwards the database is
counted: every key sent is stored (``lost``), none twice and nothing else recorded
(``duplicated``), and every key sent twice was answered once 201 and then 200 with the same
entry (``retries_mismatched``; ``retries_in_flight_together`` counts the keys whose two
sendings were on the server at the same time). The figures: p50/p95/p99/max in ms, errors, lost, duplicated
(the issue's target: zero lost, zero duplicated, p99 under 300 ms). The server is stopped
whatever happens.

``BENCH_REQUESTS`` changes the number of requests per page; ``BENCH_BURST_ENTRIES``,
``BENCH_BURST_SECONDS`` and ``BENCH_THREADS`` the burst (the tests use a few of each).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import json
import os
import random
import secrets
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from fangkong.core import benchkit

REQUESTS = 30
LIMIT_MS = 300
DAYS = 90
CHECKPOINTS_PER_UNIT = 3
CHECKPOINT_NAMES = ("东门卡口", "西路检测点", "南站卡口", "北门卡口")
OPERATOR = "checkpoint"  # the demo's checkpoint operator (of LZ-01)
# Shares of the entries: vehicles (with 1–4 occupants, :data:`OCCUPANTS`), leaving instead of
# entering, with someone at a fever, from a risk area (kept as it was then), from a region
# named at all; of the people, found in the register.
VEHICLE = 0.2
OCCUPANTS = ((1, 40), (2, 30), (3, 20), (4, 10))
LEAVING = 0.1
FEVER = 0.005
RISK_ORIGIN = 0.002
NAMED_ORIGIN = 0.15
REGISTERED = 0.85
PURPOSES = ("返岗", "回家", "送货", "办事", "就医", "探亲")
# The register's persons the entries draw from (a sample, to keep the seeding's memory flat).
POOL = 50_000
# Entries written per bulk write.
CHUNK_ENTRIES = 50_000
# Reads: the counts over the last COUNT_DAYS days; the deep page of the log.
COUNT_DAYS = 7
DEEP_PAGE = 100

# The pages measured: name → (URL name, persona, query). The query's {checkpoint} is the
# operator's first checkpoint, {start}/{end} the last COUNT_DAYS days, {deep} DEEP_PAGE.
PAGES: dict[str, tuple[str, str, str]] = {
    "log_office": ("checkpoints:entry_list", "office", ""),
    "log_checkpoint_office": ("checkpoints:entry_list", "office", "?checkpoint={checkpoint}"),
    "log_flagged_office": ("checkpoints:entry_list", "office", "?flagged=1"),
    "log_deep_office": ("checkpoints:entry_list", "office", "?page={deep}"),
    "counts_office": ("checkpoints:entry_counts", "office", "?from={start}&to={end}"),
    "log_unit": ("checkpoints:entry_list", "unit_head", ""),
    "log_flagged_unit": ("checkpoints:entry_list", "unit_head", "?flagged=1"),
    "counts_unit": ("checkpoints:entry_counts", "unit_head", "?from={start}&to={end}"),
    "log_operator": ("checkpoints:entry_list", "checkpoint", ""),
    "log_checkpoint_operator": (
        "checkpoints:entry_list",
        "checkpoint",
        "?checkpoint={checkpoint}",
    ),
    "counts_operator": ("checkpoints:entry_counts", "checkpoint", "?from={start}&to={end}"),
}
# The same through the API (a bearer token of the persona): name → (persona, path).
API_PATH = "/api/v1/checkpoint-entries"
API: dict[str, tuple[str, str]] = {
    "api_office": ("office", "?limit=50"),
    "api_checkpoint_office": ("office", "?checkpoint_id={checkpoint}&limit=50"),
    "api_deep_office": ("office", "?limit=50&offset={offset}"),
    "api_operator": ("checkpoint", "?checkpoint_id={checkpoint}&limit=50"),
}

# The burst: entries posted, over how many seconds, by how many client threads, to how many
# gunicorn workers; the share of them sent twice; the register's size at most.
BURST_ENTRIES = 2_000
BURST_SECONDS = 60.0
BURST_CLIENTS = 20
WORKERS = 2
RETRY_SHARE = 0.05
BURST_PERSONS = 4_000
P99_TARGET_MS = 300
# A retry "at once" goes within this many seconds of the first; a "later" one after these.
CONCURRENT_WITHIN = 0.002
LATER_BETWEEN = (0.5, 3.0)


def bench_checkpoints_sqlite(persons: int) -> dict[str, Any]:
    """The entry log (first page, one checkpoint, flagged, a deep page), the counts of a
    week and the entries API over as many entries as persons, on SQLite."""
    return benchkit.on_sqlite("fangkong.checkpoints.bench", "checkpoints", persons)


def bench_checkpoints_postgresql(persons: int) -> dict[str, Any]:
    """The same on PostgreSQL (skipped, with the reason, when it cannot be reached)."""
    return benchkit.on_postgresql("fangkong.checkpoints.bench", persons, "_checkpoints")


def bench_checkpoint_burst(persons: int) -> dict[str, Any]:
    """20 gate phones posting 2,000 entries in a minute to gunicorn (two sync workers,
    SQLite), 5 % of them twice: latencies, errors, entries lost and duplicated."""
    with tempfile.TemporaryDirectory(prefix="fk-bench-burst-") as folder:
        database = {"SQLITE_PATH": str(Path(folder) / "burst.sqlite3"), "DATABASE_URL": ""}
        return _burst(database, Path(folder), persons)


def bench_checkpoint_burst_postgresql(persons: int) -> dict[str, Any]:
    """The same burst on PostgreSQL (skipped, with the reason, when it cannot be reached)."""
    url = benchkit.postgres_url("_checkpoints_burst")
    try:
        benchkit.recreate_database(url)
    except Exception as error:  # no server here: say so
        return {"skipped": f"PostgreSQL at {benchkit.without_password(url)}: {error}".strip()}
    try:
        with tempfile.TemporaryDirectory(prefix="fk-bench-burst-") as folder:
            return _burst({"DATABASE_URL": url}, Path(folder), persons)
    finally:
        benchkit.drop_database(url)


# ---------------------------------------------------------------------------------------------
# The child side: checkpoints and entries in bulk


def seed_checkpoints(*, per_unit: int = CHECKPOINTS_PER_UNIT) -> list[int]:
    """``per_unit`` checkpoints in each unit of the organisation (through the service; new
    arrivals go to the unit's first grid), the demo's checkpoint operator on those of their
    unit. Returns the checkpoints' ids."""
    from django.db import transaction

    from fangkong.org.demo import DEMO_USERS
    from fangkong.org.models import OrgUnit, User

    from .services.entries import create_checkpoint

    scope = next(u.scope for u in DEMO_USERS if u.username == OPERATOR)
    operator = User.objects.filter(username=OPERATOR).first()
    made = []
    with transaction.atomic():
        units = OrgUnit.objects.filter(kind=OrgUnit.Kind.UNIT, is_active=True).order_by("path")
        for unit in units:
            grid = unit.children.filter(kind=OrgUnit.Kind.GRID).order_by("path").first()
            for n in range(per_unit):
                checkpoint = create_checkpoint(
                    actor=None,
                    name=f"{unit.name}{CHECKPOINT_NAMES[n % len(CHECKPOINT_NAMES)]}",
                    location=f"{unit.name}{'东西南北'[n % 4]}侧路口",
                    unit=unit,
                    intake_grid=grid,
                    operators=[operator] if operator is not None and unit.code == scope else [],
                )
                made.append(checkpoint.pk)
    return made


@dataclass
class _Load:
    """What :func:`seed_entries` wrote."""

    entries: int = 0
    people: int = 0
    vehicles: int = 0
    fevers: int = 0
    flagged: int = 0


@dataclass(frozen=True)
class _Gate:
    """A checkpoint as the seeding sees it: the people it sees, who records there."""

    pk: int
    unit_id: int
    recorder_id: int | None
    pool: list[tuple[int, str]]  # (person, name) of the register near it


class _EntryWriter:
    """The bulk tables, and the rows of a chunk of entries."""

    def __init__(self, rng: random.Random, now: dt.datetime) -> None:
        from django.db import connection
        from django.utils import timezone

        from fangkong.core.bulk import BulkTable
        from fangkong.org.demo import PopulationDrawer
        from fangkong.screening.models import Region

        from .models import Entry, EntryPerson

        self.rng = rng
        self.now = now
        self.zone = timezone.get_current_timezone()
        self.drawer = PopulationDrawer(rng)
        self._adapt = connection.ops.adapt_datetimefield_value
        self.regions = list(
            Region.objects.filter(level=Region.Level.COUNTY, valid_to_year__isnull=True)
            .order_by("code")
            .values_list("code", flat=True)[:400]
        )
        self.entry_table = BulkTable(
            Entry,
            [
                "id",
                "checkpoint_id",
                "unit_id",
                "at",
                "day",
                "direction",
                "plate",
                "vehicle_disinfected",
                "from_region_id",
                "risk_level",
                "purpose",
                "note",
                "names",
                "people_count",
                "max_temperature",
                "has_fever",
                "is_flagged",
                "recorded_by_id",
                "idempotency_key",
                "created_at",
            ],
        )
        self.person_table = BulkTable(
            EntryPerson,
            [
                "entry_id",
                "position",
                "person_id",
                "name",
                "id_number",
                "phone",
                "temperature",
                "symptoms",
                "disinfected",
                "is_fever",
                "is_flagged",
            ],
        )
        self.entries: list[tuple[Any, ...]] = []
        self.people: list[tuple[Any, ...]] = []
        self.pending: list[tuple[dt.datetime, _Gate]] = []

    def add(self, at: dt.datetime, gate: _Gate) -> None:
        self.pending.append((at, gate))

    def flush(self, load: _Load) -> None:
        """Write the entries added so far."""
        from fangkong.core.bulk import allocate_ids

        from .models import Entry

        if not self.pending:
            return
        ids = allocate_ids(Entry, len(self.pending))
        for pk, (at, gate) in zip(ids, self.pending, strict=True):
            self._entry(pk, at, gate, load)
        self.entry_table.write(self.entries)
        self.person_table.write(self.people)
        load.entries += len(self.entries)
        load.people += len(self.people)
        self.entries, self.people, self.pending = [], [], []

    def _entry(self, pk: int, at: dt.datetime, gate: _Gate, load: _Load) -> None:
        rng = self.rng
        vehicle = rng.random() < VEHICLE
        count = rng.choices([n for n, _w in OCCUPANTS], [w for _n, w in OCCUPANTS])[0]
        count = count if vehicle else 1
        fever_at = rng.randrange(count) if rng.random() < FEVER else -1
        risky = rng.random() < RISK_ORIGIN
        region = None
        if risky or rng.random() < (NAMED_ORIGIN * 3 if vehicle else NAMED_ORIGIN / 3):
            region = rng.choice(self.regions) if self.regions else None
        risk_level = rng.choice(("high", "medium")) if risky and region else ""
        names, temperatures = [], []
        for position in range(count):
            fever = position == fever_at
            temperature = (
                Decimal(rng.choice(("37.4", "37.8", "38.2", "38.9")))
                if fever
                else Decimal(rng.randrange(360, 372)) / 10
            )
            # A flagged outsider is registered by the service: flagged people are all known.
            if gate.pool and (fever or risk_level or rng.random() < REGISTERED):
                person_id, name = rng.choice(gate.pool)
                id_number = phone = ""
            else:
                person_id, name = None, self.drawer.full_name()
                id_number = phone = ""
                if rng.random() < 0.6:  # an outsider shows their ID card, or gives a phone
                    age = rng.randrange(18, 70)
                    id_number = self.drawer.id_number(
                        "620702", self.drawer.birth(age), rng.random() < 0.5
                    )
                elif rng.random() < 0.7:
                    phone = self.drawer.phone()
            flagged = fever or bool(risk_level)
            self.people.append(
                (
                    pk,
                    position,
                    person_id,
                    name,
                    id_number,
                    phone,
                    str(temperature),
                    '["fever"]' if fever else "[]",
                    True if rng.random() < 0.95 else None,
                    fever,
                    flagged,
                )
            )
            names.append(name)
            temperatures.append(temperature)
        has_fever = fever_at >= 0
        flagged = has_fever or bool(risk_level)
        stamp = self._adapt(at)
        self.entries.append(
            (
                pk,
                gate.pk,
                gate.unit_id,
                stamp,
                at.astimezone(self.zone).date().isoformat(),
                "out" if rng.random() < LEAVING else "in",
                self._plate() if vehicle else "",
                (rng.random() < 0.97) if vehicle else None,
                region,
                risk_level,
                rng.choice(PURPOSES) if rng.random() < 0.6 else "",
                "",
                "、".join(names)[:200],
                count,
                str(max(temperatures)),
                has_fever,
                flagged,
                gate.recorder_id,
                f"{rng.getrandbits(128):032x}",
                self._adapt(at + dt.timedelta(seconds=rng.randrange(1, 30))),
            )
        )
        load.vehicles += vehicle
        load.fevers += has_fever
        load.flagged += flagged

    def _plate(self) -> str:
        return random_plate(self.rng)


def random_plate(rng: random.Random) -> str:
    """A Chinese plate: mostly of Gansu, a few new-energy ones (甘GD12345)."""
    province = rng.choice("甘甘甘甘甘甘青陕宁新川")
    city = rng.choice("ABCDEFGHJKLMNP")
    digits = f"{rng.randrange(100_000):05d}"
    if rng.random() < 0.1:
        return f"{province}{city}{rng.choice('DF')}{digits}"
    return f"{province}{city}{digits}"


def _gates(rng: random.Random) -> list[_Gate]:
    """The checkpoints, each with a sample of the persons of its unit."""
    from django.db.models.functions import Mod

    from fangkong.org.models import Person, User

    from .models import Checkpoint

    total = Person.objects.count()
    step = max(1, total // POOL)
    pools: dict[int, list[tuple[int, str]]] = {}
    sample = (
        Person.objects.filter(is_active=True)
        .annotate(sampled=Mod("id", step))
        .filter(sampled=0)
        .values_list("pk", "name", "grid__parent_id")
        .order_by("pk")
    )
    for pk, name, unit_id in sample.iterator(chunk_size=20_000):
        if unit_id is not None:
            pools.setdefault(unit_id, []).append((pk, name))
    everyone = [person for pool in pools.values() for person in pool]
    operator = User.objects.filter(username=OPERATOR).values_list("pk", flat=True).first()
    office = User.objects.filter(username="office").values_list("pk", flat=True).first()
    gates = []
    for checkpoint in Checkpoint.objects.order_by("pk").prefetch_related("operators"):
        staffed = any(user.pk == operator for user in checkpoint.operators.all())
        gates.append(
            _Gate(
                pk=checkpoint.pk,
                unit_id=checkpoint.unit_id,
                recorder_id=operator if staffed else office,
                pool=pools.get(checkpoint.unit_id) or everyone,
            )
        )
    rng.shuffle(gates)  # the busiest are not always the first
    return gates


def seed_entries(
    *, count: int, days: int = DAYS, seed: int = 2020, now: dt.datetime | None = None
) -> _Load:
    """``count`` entries at the checkpoints over the last ``days`` days up to ``now``, in
    bulk (one transaction): the entries of a day spread over the daytime hours, the busiest
    checkpoints taking more."""
    from django.db import transaction
    from django.utils import timezone

    from fangkong.core import bulk

    from .models import Entry, EntryPerson

    now = now or timezone.now()
    rng = random.Random(seed)
    load = _Load()
    with transaction.atomic():
        bulk.lock_tables(Entry, EntryPerson)
        gates = _gates(rng)
        if not gates:
            return load
        writer = _EntryWriter(rng, now)
        weights = list(itertools.accumulate(1.0 / (rank + 1) ** 0.5 for rank in range(len(gates))))
        start = now - dt.timedelta(days=days)
        span = (now - start).total_seconds()
        for at in _times(rng, start, span, count):  # in order: the ids grow with the time
            writer.add(at, rng.choices(gates, cum_weights=weights)[0])
            if len(writer.pending) >= CHUNK_ENTRIES:
                writer.flush(load)
        writer.flush(load)
        bulk.reset_sequences(Entry, EntryPerson)
    bulk.analyze((Entry, EntryPerson))
    return load


# Of 24 hours, how busy each is at a gate (the small hours quiet, the mornings busiest).
_HOURLY = (1, 1, 1, 1, 1, 2, 5, 9, 10, 9, 8, 7, 7, 7, 8, 8, 9, 9, 8, 6, 4, 3, 2, 1)


def _times(rng: random.Random, start: dt.datetime, span: float, count: int) -> list[dt.datetime]:
    """``count`` times between ``start`` and ``start + span`` seconds in order, more in the
    day than at night (by :data:`_HOURLY`, in Asia/Shanghai)."""
    from django.utils import timezone

    zone = timezone.get_current_timezone()
    local = start.astimezone(zone)
    # Seconds from the start to the first local midnight before it, to find an offset's hour.
    shift = local.hour * 3600 + local.minute * 60 + local.second
    top = max(_HOURLY)
    offsets: list[float] = []
    while len(offsets) < count:
        offset = rng.random() * span
        if rng.random() * top < _HOURLY[int((shift + offset) // 3600) % 24]:
            offsets.append(offset)
    offsets.sort()
    return [start + dt.timedelta(seconds=offset) for offset in offsets]


# ---------------------------------------------------------------------------------------------
# The child side: measure the reads


def _targets(
    checkpoint: int, today: dt.date
) -> tuple[dict[str, Callable[[], Any]], dict[str, str]]:
    """What is measured, each as a call; and the pages that could not be."""
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from fangkong.org.models import User
    from fangkong.org.services import issue_api_token

    fill = {
        "checkpoint": checkpoint,
        "start": (today - dt.timedelta(days=COUNT_DAYS - 1)).isoformat(),
        "end": today.isoformat(),
        "deep": DEEP_PAGE,
        "offset": (DEEP_PAGE - 1) * 50,
    }
    calls: dict[str, Callable[[], Any]] = {}
    missing: dict[str, str] = {}
    clients: dict[str, Client] = {}
    for page, (url_name, username, query) in PAGES.items():
        try:
            url = reverse(url_name) + query.format(**fill)
        except NoReverseMatch:
            missing[page] = f"no URL named {url_name!r} yet"
            continue
        if username not in clients:
            clients[username] = Client()
            clients[username].force_login(User.objects.get(username=username))
        calls[page] = benchkit.get_ok(clients[username], url)
    api = Client()
    keys: dict[str, str] = {}
    for name, (username, query) in API.items():
        if username not in keys:
            _token, keys[username] = issue_api_token(
                user=User.objects.get(username=username), name="bench"
            )
        calls[name] = benchkit.get_ok(
            api, API_PATH + query.format(**fill), Authorization=f"Bearer {keys[username]}"
        )
    return calls, missing


def measure(persons: int, requests: int = REQUESTS) -> dict[str, Any]:
    """Seed an empty (migrated here) database and time the reads."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from fangkong.org import demo as org_demo
    from fangkong.org.models import Person, User
    from fangkong.screening.bench import BENCH_HOUSEHOLD_SIZES

    from .models import Checkpoint, Entry, EntryPerson

    call_command("migrate", verbosity=0)
    figures: dict[str, Any] = {"database": connection.vendor}
    if not Entry.objects.exists():
        steps: list[tuple[str, Callable[[], Any]]] = [
            (
                "seed_register_s",
                lambda: org_demo.seed_demo(persons=persons, household_sizes=BENCH_HOUSEHOLD_SIZES),
            ),
            ("seed_checkpoints_s", seed_checkpoints),
            ("seed_entries_s", lambda: seed_entries(count=persons)),
        ]
        for name, step in steps:
            started = time.perf_counter()
            step()
            figures[name] = round(time.perf_counter() - started, 1)
    # else: a database kept from an earlier run (measured again after a change)

    operator = User.objects.get(username=OPERATOR)
    checkpoint = Checkpoint.objects.filter(operators=operator).order_by("pk").first()
    if checkpoint is None:
        checkpoint = Checkpoint.objects.order_by("pk").first()
    assert checkpoint is not None
    entries = Entry.objects
    figures.update(
        {
            "persons": Person.objects.count(),
            "checkpoints": Checkpoint.objects.count(),
            "entries": entries.count(),
            "entry_people": EntryPerson.objects.count(),
            "vehicles": entries.exclude(plate="").count(),
            "fevers": entries.filter(has_fever=True).count(),
            "flagged": entries.filter(is_flagged=True).count(),
            "checkpoint_measured_entries": entries.filter(checkpoint=checkpoint).count(),
            "requests": requests,
        }
    )
    calls, missing = _targets(checkpoint.pk, timezone.localdate())
    benchkit.time_pages_within(calls, requests, figures, missing, LIMIT_MS)
    return figures


# ---------------------------------------------------------------------------------------------
# The burst: prepare (child), post (here), count (child)


def prepare_burst(persons: int) -> dict[str, Any]:
    """In the child: a demo register of ``persons`` persons, the checkpoints, a county at
    high risk and a token of the checkpoint operator. Returns what the posts need."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from fangkong.core.permissions import Perm
    from fangkong.core.scoping import units_in_scope
    from fangkong.org import demo as org_demo
    from fangkong.org.models import Person, User
    from fangkong.org.services import issue_api_token
    from fangkong.screening.models import Region
    from fangkong.screening.services import set_risk_level

    from .models import Checkpoint, Entry

    call_command("migrate", verbosity=0)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            (journal,) = cursor.fetchone()
        if journal != "wal":
            raise RuntimeError(f"the SQLite database is in {journal} mode, not WAL")
    org_demo.seed_demo(persons=persons)
    seed_checkpoints()
    operator = User.objects.get(username=OPERATOR)
    counties = Region.objects.filter(level=Region.Level.COUNTY, valid_to_year__isnull=True)
    regions = list(counties.order_by("code").values_list("code", flat=True)[:41])
    set_risk_level(
        actor=None,
        region=Region.objects.get(code=regions[0]),
        level="high",
        start=timezone.localdate() - dt.timedelta(days=7),
    )
    grids = units_in_scope(operator, Perm.CHECKPOINTS_RECORD)
    people = Person.objects.filter(is_active=True, grid__in=grids).order_by("pk")
    _token, key = issue_api_token(user=operator, name="bench")
    return {
        "token": key,
        "checkpoints": list(
            Checkpoint.objects.filter(operators=operator)
            .order_by("pk")
            .values_list("pk", flat=True)
        ),
        "persons": list(people.values_list("pk", flat=True)[:500]),
        "risk_region": regions[0],
        "regions": regions[1:],
        "entries": Entry.objects.count(),
        "registered": Person.objects.count(),
    }


def count_burst(prefix: str) -> dict[str, Any]:
    """In the child: the entries stored with the burst's keys, their people, and what they
    raised."""
    import django

    django.setup()
    from django.db.models import Count

    from fangkong.alerts.models import Alert, AlertKind

    from .models import Entry

    stored = (
        Entry.objects.filter(idempotency_key__startswith=prefix)
        .annotate(stored_people=Count("people"))
        .values_list("idempotency_key", "pk", "stored_people")
        .order_by("pk")
    )
    return {
        "stored": [list(row) for row in stored],
        "entries": Entry.objects.count(),
        "fever_alerts": Alert.objects.filter(kind=AlertKind.ENTRY_FEVER).count(),
        "risk_alerts": Alert.objects.filter(kind=AlertKind.ENTRY_RISK_AREA).count(),
    }


@dataclass(frozen=True)
class _Post:
    """One request of the burst: when (seconds after the start), with which key and body;
    ``retry`` is "" for the first sending, else "concurrent" or "later"."""

    at: float
    key: str
    path: str
    body: bytes
    people: int
    fever: bool
    risky: bool
    retry: str = ""


@dataclass
class _Answer:
    post: _Post
    status: int
    entry: int | None
    ms: float
    lag_ms: float
    text: str = ""

    @property
    def sent(self) -> float:
        """When it was sent, in seconds after the start."""
        return self.post.at + self.lag_ms / 1000

    def overlaps(self, other: _Answer) -> bool:
        """Whether the two were in flight at the same time."""
        return self.sent < other.sent + other.ms / 1000 and other.sent < self.sent + self.ms / 1000


def plan_burst(
    prepared: dict[str, Any], *, entries: int, seconds: float, seed: int = 7
) -> list[_Post]:
    """The requests of the burst in the order of their time: ``entries`` first sendings at a
    steady rate over ``seconds``, and :data:`RETRY_SHARE` of them sent again."""
    rng = random.Random(seed)
    prefix = f"burst-{secrets.token_hex(4)}-"
    persons, regions = prepared["persons"], prepared["regions"]
    posts = []
    for i in range(entries):
        vehicle = rng.random() < VEHICLE
        count = rng.choices([n for n, _w in OCCUPANTS], [w for _n, w in OCCUPANTS])[0]
        count = count if vehicle else 1
        fever_at = rng.randrange(count) if rng.random() < FEVER * 2 else -1
        risky = rng.random() < RISK_ORIGIN * 2
        people = []
        known = rng.sample(persons, min(count, len(persons)))  # nobody twice in a car
        for position in range(count):
            temperature = "38.1" if position == fever_at else f"{rng.randrange(360, 372) / 10:.1f}"
            if position < len(known) and rng.random() < REGISTERED:
                people.append(
                    {
                        "person_id": known[position],
                        "temperature": temperature,
                        "disinfected": True,
                        "symptoms": ["fever"] if position == fever_at else [],
                    }
                )
            else:
                people.append(
                    {
                        "name": f"{rng.choice('张王李赵刘陈杨黄')}{rng.choice('明华军芳丽强伟静')}",
                        "id_number": "",
                        "phone": "",
                        "temperature": temperature,
                        "disinfected": True,
                        "symptoms": ["fever"] if position == fever_at else [],
                    }
                )
        key = f"{prefix}{i:05d}"
        origin = prepared["risk_region"] if risky else None
        if origin is None and regions and rng.random() < NAMED_ORIGIN:
            origin = rng.choice(regions)
        body = {
            "direction": "in",
            "plate": random_plate(rng) if vehicle else "",
            "vehicle_disinfected": True if vehicle else None,
            "from_region": origin,
            "purpose": rng.choice(PURPOSES),
            "note": "",
            "idempotency_key": key,
            "people": people,
        }
        checkpoint = rng.choice(prepared["checkpoints"])
        posts.append(
            _Post(
                at=i * seconds / entries,
                key=key,
                path=f"/api/v1/checkpoints/{checkpoint}/entries",
                body=json.dumps(body, ensure_ascii=False).encode(),
                people=count,
                fever=fever_at >= 0,
                risky=risky,
            )
        )
    retried = rng.sample(posts, max(2, round(entries * RETRY_SHARE)))
    for n, post in enumerate(retried):
        if n % 2 == 0:  # sent again about at once: the two race each other on the server
            at, kind = post.at + rng.uniform(0, CONCURRENT_WITHIN), "concurrent"
        else:  # sent again after the phone gave up waiting
            at, kind = post.at + rng.uniform(*LATER_BETWEEN), "later"
        posts.append(dataclasses.replace(post, at=at, retry=kind))
    posts.sort(key=lambda post: post.at)
    return posts


@dataclass
class _Dispatch:
    posts: list[_Post]
    answers: list[_Answer] = field(default_factory=list)
    next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def post_burst(
    port: int, token: str, posts: list[_Post], clients: int
) -> tuple[list[_Answer], float]:
    """Send ``posts`` from ``clients`` threads, each request at its time (or as soon as a
    thread is free): every answer, and the seconds it all took."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    dispatch = _Dispatch(posts)
    started = time.monotonic()

    def client() -> None:
        while True:
            with dispatch.lock:
                if dispatch.next >= len(posts):
                    return
                post = posts[dispatch.next]
                dispatch.next += 1
            wait = started + post.at - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            sent = time.monotonic()
            try:
                status, content = benchkit.request(port, "POST", post.path, post.body, headers)
            except OSError as error:
                status, content = 0, str(error).encode()
            ms = (time.monotonic() - sent) * 1000
            entry = None
            if status in (200, 201):
                try:
                    entry = int(json.loads(content)["id"])
                except (ValueError, KeyError, TypeError):
                    entry = None
            answer = _Answer(
                post=post,
                status=status,
                entry=entry,
                ms=ms,
                lag_ms=max(0.0, (sent - started - post.at) * 1000),
                text="" if entry is not None else content[:200].decode(errors="replace"),
            )
            with dispatch.lock:
                dispatch.answers.append(answer)

    benchkit.in_threads(client, clients)
    return dispatch.answers, time.monotonic() - started


def burst_figures(
    answers: list[_Answer], counted: dict[str, Any], entries_before: int
) -> dict[str, Any]:
    """Latencies and errors of the answers; lost, duplicated and mismatched entries from what
    the database holds afterwards."""
    firsts = [a for a in answers if not a.post.retry]
    retries = [a for a in answers if a.post.retry]
    errors = [a for a in answers if a.status not in (200, 201) or a.entry is None]
    stored: dict[str, list[int]] = {}
    stored_people: dict[str, int] = {}
    for key, pk, people in counted["stored"]:
        stored.setdefault(key, []).append(pk)
        stored_people[key] = people
    sent = {a.post.key: a.post for a in answers}
    by_key: dict[str, list[_Answer]] = {}
    for answer in answers:
        by_key.setdefault(answer.post.key, []).append(answer)
    mismatched = overlapping = 0
    for key, replies in by_key.items():
        if len(replies) < 2:
            continue
        # A retry sent while the first sending was still in flight: the two raced.
        overlapping += any(a.overlaps(b) for a in replies for b in replies if a is not b)
        # Once recorded (201), then the same entry (200) to every other sending.
        statuses = sorted(r.status for r in replies)
        ids = {r.entry for r in replies}
        if statuses != [200] * (len(replies) - 1) + [201] or ids != set(stored.get(key, [])[:1]):
            mismatched += 1
    new_entries = counted["entries"] - entries_before
    figures: dict[str, Any] = {
        "requests": len(answers),
        "first_sendings": len(firsts),
        "retries": len(retries),
        "retries_concurrent": sum(a.post.retry == "concurrent" for a in retries),
        "retries_later": sum(a.post.retry == "later" for a in retries),
        "retries_in_flight_together": overlapping,
        "answered_201": sum(a.status == 201 for a in answers),
        "answered_200": sum(a.status == 200 for a in answers),
        "errors": len(errors),
        **benchkit.latency_figures("latency", [a.ms for a in answers]),
        **benchkit.latency_figures("first_latency", [a.ms for a in firsts]),
        "max_start_lag_ms": round(max((a.lag_ms for a in answers), default=0.0), 1),
        "keys_sent": len(sent),
        "keys_stored": len(stored),
        "lost": len(set(sent) - set(stored)),
        "duplicated": new_entries - len(stored),
        "retries_mismatched": mismatched,
        "people_sent": sum(p.people for p in sent.values()),
        "people_stored": sum(stored_people.values()),
        "fever_entries": sum(p.fever for p in sent.values()),
        "fever_alerts": counted["fever_alerts"],
        "risk_area_entries": sum(p.risky for p in sent.values()),
        "risk_area_alerts": counted["risk_alerts"],
    }
    if errors:
        figures["first_errors"] = [f"{a.status} {a.text}" for a in errors[:3]]
    return figures


def _warm_up(port: int, token: str) -> None:
    """Read the entries API a few times at once, so that every worker has loaded its code
    and opened its database connection before the burst (as a server at work has)."""
    headers = {"Authorization": f"Bearer {token}"}

    def read() -> None:
        for _i in range(benchkit.WARM_UP):
            benchkit.request(port, "GET", f"{API_PATH}?limit=1", None, headers)

    benchkit.in_threads(read, 2 * WORKERS)


def _burst(database: dict[str, str], folder: Path, persons: int) -> dict[str, Any]:
    """Prepare ``database``, serve it with gunicorn, post the burst, count what is stored."""
    entries = int(os.environ.get("BENCH_BURST_ENTRIES") or BURST_ENTRIES)
    seconds = float(os.environ.get("BENCH_BURST_SECONDS") or BURST_SECONDS)
    clients = int(os.environ.get("BENCH_THREADS") or BURST_CLIENTS)
    env = benchkit.child_env(database)
    module = "fangkong.checkpoints.bench"
    prepared = benchkit.run_child(module, ["prepare-burst", str(min(persons, BURST_PERSONS))], env)
    posts = plan_burst(prepared, entries=entries, seconds=seconds)
    with benchkit.serving(env, folder, workers=WORKERS) as port:
        _warm_up(port, prepared["token"])
        answers, took = post_burst(port, prepared["token"], posts, clients)
    prefix = posts[0].key.rsplit("-", 1)[0] + "-"
    counted = benchkit.run_child(module, ["count-burst", prefix], env)
    figures: dict[str, Any] = {
        "database": "postgresql" if database.get("DATABASE_URL") else "sqlite",
        "persons": prepared["registered"],
        "checkpoints": len(prepared["checkpoints"]),
        "clients": clients,
        "workers": WORKERS,
        "seconds_planned": seconds,
        "seconds": round(took, 1),
        "per_s": round(len(answers) / took, 1) if took else None,
        **burst_figures(answers, counted, prepared["entries"]),
        "p99_target_ms": P99_TARGET_MS,
    }
    figures["within_target"] = (
        figures["errors"] == 0
        and figures["lost"] == 0
        and figures["duplicated"] == 0
        and figures["retries_mismatched"] == 0
        and figures.get("latency_p99_ms", float("inf")) < P99_TARGET_MS
    )
    return figures


def main(argv: list[str]) -> int:
    """``python -m fangkong.checkpoints.bench measure PERSONS``, ``prepare-burst PERSONS`` or
    ``count-burst PREFIX``: print the answer as JSON."""
    if len(argv) == 2 and argv[0] == "prepare-burst":
        print(json.dumps(prepare_burst(int(argv[1]))))
        return 0
    if len(argv) == 2 and argv[0] == "count-burst":
        print(json.dumps(count_burst(argv[1])))
        return 0
    return benchkit.child_main(argv, measure, __doc__, REQUESTS)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
