"""Benchmarks of key-group control: the pages over a large observation load, and the rate at
which a server takes temperature readings through the API.

``observation_sqlite`` and ``observation_postgresql`` seed the demo register of ``persons``
persons (the households of :data:`fangkong.screening.bench.BENCH_HOUSEHOLD_SIZES`), then, in
bulk (:mod:`fangkong.core.bulk`, without audit trail or timeline: the pages measured read
neither), observation episodes for :data:`ACTIVE_SHARE` of the persons running today (50,000
at 1,000,000 persons) and :data:`ENDED_SHARE` ended before, twice-daily temperature readings
over their days (about 3,000,000 at 1,000,000 persons, a few fevers and missed checks), a
follow-up visit most days of the running episodes, and alerts (:data:`ALERT_SHARE`, 100,000 at
1,000,000 persons, of which :data:`OPEN_ALERT_SHARE` open). Then each page of :data:`PAGES` is
requested ``REQUESTS`` times with the test client after two warm-up requests, logged in as a
demo persona; the figures are the median and p95 in milliseconds, and the queries of one
more request with the time they took (``_db_ms``) (the issue's target: p95 under 300 ms
each). A page whose URL does not exist yet is
reported as missing and the others are measured. The work runs in a child process
(``python -m fangkong.observation.bench measure PERSONS``) with ``DEBUG`` off, on a SQLite
file in a temporary folder or on a PostgreSQL database created for the run and dropped after
it (``BENCH_POSTGRES_URL`` with ``_observation`` added to the database name; default
``fangkong_bench_observation`` on 127.0.0.1).

``reading_throughput`` prepares a SQLite file (WAL) with a small register, a few hundred
running episodes and an API token of the office, starts gunicorn on it (two sync workers, on a
free port of 127.0.0.1, with :mod:`fangkong.observation.bench_settings`: the app's URLs plus a
bare JSON view), and posts single readings (``POST /api/v1/episodes/{id}/readings``,
``{"value": "36.6"}``) from :data:`CLIENT_THREADS` threads for ``BENCH_SECONDS`` seconds in
all; and the same load on the bare view, served by the same processes with the same
middleware (no authentication, no database), and on the bare view behind the bearer token
check. The three loads take turns in :data:`ROUNDS` rounds, so that other work on the machine
weighs on each alike. It reports
the requests per second of each, the ratio of readings to the bare view (target at least 0.4)
and to the authenticated one, the latencies and the errors (target none), and checks that
every reading accepted is stored. The server is stopped whatever happens.

``BENCH_REQUESTS`` changes the number of requests per page, ``BENCH_SECONDS`` the length of
each load (the tests use a few and one).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fangkong.core import benchkit

REQUESTS = 30
LIMIT_MS = 300
# Shares of the register's persons: under observation today, observed before (released).
ACTIVE_SHARE = 0.05
ENDED_SHARE = 0.08
# Alerts per person of the register, and of them still open.
ALERT_SHARE = 0.1
OPEN_ALERT_SHARE = 0.002
# Readings: missed checks and fevers among them; days with a follow-up visit.
MISSED_CHECK = 0.05
FEVER = 0.01
VISITED = 0.9
FEVERS = ("37.4", "37.8", "38.3")
PERIOD_DAYS = 14
# Episodes written per bulk write (about 30 readings each).
CHUNK_EPISODES = 5_000

# The pages measured: name → (URL name, persona, query string).
PAGES: dict[str, tuple[str, str, str]] = {
    "inbox_office": ("alerts:inbox", "office", ""),
    "inbox_unit": ("alerts:inbox", "unit_head", ""),
    "ledger": ("observation:ledger", "office", ""),
    "ledger_active": ("observation:ledger", "office", "?status=active"),
    "home": ("home", "office", ""),
}

# reading_throughput: a register of at most THROUGHPUT_PERSONS (the writes hardly depend on
# its size), THROUGHPUT_EPISODES running episodes.
SECONDS = 15.0
ROUNDS = 5  # each load runs SECONDS in all, in ROUNDS turns
CLIENT_THREADS = 8
WORKERS = 2
THROUGHPUT_EPISODES = 300
THROUGHPUT_PERSONS = 4_000
RATIO_TARGET = 0.4
BARE_PATH = "/bench/bare"
BARE_AUTH_PATH = "/bench/bare-auth"


def bench_observation_sqlite(persons: int) -> dict[str, Any]:
    """The alerts inbox (office, unit head), the observation ledger (first page, running
    only) and the home page over 5 % of the register under observation, on SQLite."""
    return benchkit.on_sqlite("fangkong.observation.bench", "observation", persons)


def bench_observation_postgresql(persons: int) -> dict[str, Any]:
    """The same pages on PostgreSQL (skipped, with the reason, when it cannot be reached)."""
    return benchkit.on_postgresql("fangkong.observation.bench", persons, "_observation")


def bench_reading_throughput(persons: int) -> dict[str, Any]:
    """Readings posted one by one to gunicorn (two sync workers, SQLite), against a bare
    Django JSON view on the same server: requests per second, ratio, errors."""
    seconds = float(os.environ.get("BENCH_SECONDS") or SECONDS)
    with tempfile.TemporaryDirectory(prefix="fk-bench-readings-") as folder:
        env = benchkit.child_env(
            {
                "SQLITE_PATH": str(Path(folder) / "readings.sqlite3"),
                "DATABASE_URL": "",
                "DJANGO_SETTINGS_MODULE": "fangkong.observation.bench_settings",
            }
        )
        prepared = benchkit.run_child(
            "fangkong.observation.bench",
            [
                "prepare-readings",
                str(max(2 * THROUGHPUT_EPISODES, min(persons, THROUGHPUT_PERSONS))),
            ],
            env,
        )
        with benchkit.serving(env, Path(folder), workers=WORKERS) as port:
            figures = _load_test(port, prepared["token"], prepared["episodes"], seconds)
        figures["readings_stored"] = (
            _count_readings(Path(env["SQLITE_PATH"])) - prepared["readings"]
        )
        figures["all_stored"] = figures["readings_stored"] == figures["readings_ok"]
        return {"database": "sqlite", "episodes": len(prepared["episodes"]), **figures}


# ---------------------------------------------------------------------------------------------
# The parent side: databases and the child process


# ---------------------------------------------------------------------------------------------
# The child side: seed the observation load in bulk


@dataclass
class _Load:
    """What :func:`seed_load` wrote."""

    active: int = 0
    ended: int = 0
    readings: int = 0
    visits: int = 0
    alerts: int = 0
    open_alerts: int = 0
    episodes: list[tuple[int, int, int, str, bool]] = field(default_factory=list)
    # (episode, person, grid, name, active) of every episode, for the alerts


def seed_load(*, seed: int = 2020, now: dt.datetime | None = None) -> _Load:
    """Episodes, readings, visits and alerts over the register, in bulk (one transaction)."""
    from django.db import transaction
    from django.utils import timezone

    from fangkong.alerts.models import Alert
    from fangkong.core import bulk
    from fangkong.org.models import Person

    from .models import FollowUpVisit, ObservationEpisode, TemperatureReading

    now = now or timezone.now()
    rng = random.Random(seed)
    load = _Load()
    with transaction.atomic():
        bulk.lock_tables(ObservationEpisode, TemperatureReading, FollowUpVisit, Alert)
        writer = _Writer(now)
        chosen: list[tuple[int, int, str, bool]] = []
        status_changes: list[tuple[str, int]] = []
        persons = (
            Person.objects.filter(is_active=True)
            .exclude(status=Person.Status.MOVED_OUT)
            .values_list("pk", "grid_id", "name")
            .order_by("pk")
        )
        registered = 0
        for person_id, grid_id, name in persons.iterator(chunk_size=20_000):
            registered += 1
            roll = rng.random()
            if roll < ACTIVE_SHARE:
                chosen.append((person_id, grid_id, name, True))
                status_changes.append((Person.Status.UNDER_OBSERVATION.value, person_id))
            elif roll < ACTIVE_SHARE + ENDED_SHARE:
                chosen.append((person_id, grid_id, name, False))
            if len(chosen) >= CHUNK_EPISODES:
                writer.episodes(rng, chosen, load)
                chosen = []
        writer.episodes(rng, chosen, load)
        bulk.update_rows(Person, ["status"], status_changes)
        writer.alerts(rng, load, registered)
        bulk.reset_sequences(ObservationEpisode, TemperatureReading, FollowUpVisit, Alert)
    bulk.analyze((ObservationEpisode, TemperatureReading, FollowUpVisit, Alert, Person))
    return load


class _Writer:
    """The bulk tables, and the rows of one chunk of episodes."""

    def __init__(self, now: dt.datetime) -> None:
        from django.db import connection
        from django.urls import reverse
        from django.utils import timezone

        from fangkong.alerts.models import Alert
        from fangkong.core.bulk import BulkTable
        from fangkong.org.models import User

        from .models import FollowUpVisit, ObservationEpisode, TemperatureReading
        from .services import current_rules, default_preset

        self.now = now
        self.today = timezone.localdate(now)
        self.zone = timezone.get_current_timezone()
        self.rules = current_rules()
        self.preset = default_preset()
        self.office_id = User.objects.filter(username="office").values_list("pk", flat=True).first()
        self._adapt = connection.ops.adapt_datetimefield_value
        self.url = reverse("observation:episode_detail", kwargs={"episode_id": 999_999_999})
        self.episode_table = BulkTable(
            ObservationEpisode,
            [
                "id",
                "person_id",
                "kind",
                "reason",
                "counts_from",
                "counts_from_kind",
                "start_date",
                "preset_id",
                "isolation_days",
                "monitoring_days",
                "isolation_end",
                "planned_end",
                "status",
                "ended_on",
                "decided_at",
                "decided_by_id",
                "created_at",
            ],
        )
        self.reading_table = BulkTable(
            TemperatureReading,
            [
                "episode_id",
                "taken_at",
                "day",
                "slot",
                "value",
                "symptoms",
                "is_fever",
                "source",
                "created_at",
            ],
        )
        self.visit_table = BulkTable(
            FollowUpVisit,
            ["episode_id", "visited_at", "day", "mode", "visitor_name", "findings", "created_at"],
        )
        self.alert_table = BulkTable(
            Alert,
            [
                "id",
                "kind",
                "key",
                "unit_id",
                "person_id",
                "object_type",
                "object_id",
                "url",
                "summary",
                "data",
                "raised_at",
                "level",
                "escalated_at",
                "status",
                "acknowledged_at",
                "acknowledged_by_id",
                "resolved_at",
                "resolved_by_id",
                "note",
            ],
        )

    def db_dt(self, value: dt.datetime | None) -> Any:
        return None if value is None else self._adapt(value)

    def at(self, day: dt.date, minute: int) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=self.zone)

    def episodes(
        self, rng: random.Random, chosen: list[tuple[int, int, str, bool]], load: _Load
    ) -> None:
        from fangkong.core.bulk import allocate_ids

        from .models import ObservationEpisode

        if not chosen:
            return
        status = ObservationEpisode.Status
        ids = allocate_ids(ObservationEpisode, len(chosen))
        episodes, readings, visits = [], [], []
        for pk, (person_id, grid_id, name, active) in zip(ids, chosen, strict=True):
            if active:  # started in the last two weeks, a few due for release
                start = self.today - dt.timedelta(days=rng.randrange(PERIOD_DAYS))
                counts_from = start - dt.timedelta(days=rng.randrange(2))
                last = self.today
            else:  # observed some time in the last two months, released at the end
                start = self.today - dt.timedelta(days=rng.randrange(PERIOD_DAYS + 2, 60))
                counts_from = start - dt.timedelta(days=rng.randrange(2))
                last = counts_from + dt.timedelta(days=PERIOD_DAYS)
            planned_end = counts_from + dt.timedelta(days=PERIOD_DAYS)
            created = self.at(start, rng.randrange(8 * 60, 12 * 60))
            decided = None if active else self.at(last, 17 * 60)
            episodes.append(
                (
                    pk,
                    person_id,
                    "home_isolation",
                    rng.choice(("arrival", "contact", "contact", "returnee")),
                    counts_from.isoformat(),
                    "last_contact",
                    start.isoformat(),
                    self.preset.pk,
                    PERIOD_DAYS,
                    0,
                    planned_end.isoformat(),
                    planned_end.isoformat(),
                    status.ACTIVE.value if active else status.RELEASED.value,
                    None if active else last.isoformat(),
                    self.db_dt(decided),
                    None if active else self.office_id,
                    self.db_dt(created),
                )
            )
            load.episodes.append((pk, person_id, grid_id, name, active))
            if active:
                load.active += 1
            else:
                load.ended += 1
            day = start
            while day <= last:
                for slot, first in (("morning", 7 * 60), ("afternoon", 14 * 60)):
                    taken = self.at(day, first + rng.randrange(150))
                    if taken <= created or taken >= self.now or rng.random() < MISSED_CHECK:
                        continue
                    fever = rng.random() < FEVER
                    value = rng.choice(FEVERS) if fever else f"{rng.randrange(361, 370) / 10:.1f}"
                    stamp = self.db_dt(taken)
                    readings.append(
                        (
                            pk,
                            stamp,
                            day.isoformat(),
                            slot,
                            value,
                            '["fever"]' if fever else "[]",
                            fever,
                            "self" if rng.random() < 0.3 else "staff",
                            stamp,
                        )
                    )
                if active and rng.random() < VISITED:
                    visited = self.at(day, 10 * 60 + rng.randrange(120))
                    if created < visited < self.now:
                        stamp = self.db_dt(visited)
                        visits.append(
                            (pk, stamp, day.isoformat(), "phone", "网格员", "体温正常", stamp)
                        )
                day += dt.timedelta(days=1)
        self.episode_table.write(episodes)
        self.reading_table.write(readings)
        self.visit_table.write(visits)
        load.readings += len(readings)
        load.visits += len(visits)

    def alerts(self, rng: random.Random, load: _Load, persons: int) -> None:
        """Alerts about random episodes over the last month: the recent ones on running
        episodes still open (some escalated), the others resolved."""
        from fangkong.alerts.models import Alert
        from fangkong.core.bulk import allocate_ids

        if not load.episodes:
            return
        total = round(persons * ALERT_SHARE)
        open_count = max(1, round(persons * OPEN_ALERT_SHARE))
        running = [e for e in load.episodes if e[4]] or load.episodes
        kinds = ("missed_check",) * 5 + ("missed_visit",) * 3 + ("fever", "unanswered_need")
        done = 0
        while done < total:
            count = min(50_000, total - done)
            ids = allocate_ids(Alert, count)
            rows = []
            for pk in ids:
                is_open = done < open_count
                episode, person_id, grid_id, name, _active = rng.choice(
                    running if is_open else load.episodes
                )
                kind = rng.choice(kinds)
                hours = rng.uniform(0, 48) if is_open else rng.uniform(48, 30 * 24)
                raised = self.now - dt.timedelta(hours=hours)
                level = 0 if hours < 1 else 1 if hours < 4 else 2
                handled = raised + dt.timedelta(minutes=rng.randrange(10, 600))
                rows.append(
                    (
                        pk,
                        kind,
                        f"{kind}:{episode}:{pk}",
                        grid_id,
                        person_id,
                        "observation.episode",
                        episode,
                        self.url.replace("999999999", str(episode)),
                        f"{name}: {kind}",
                        "{}",
                        self.db_dt(raised),
                        level if is_open else 0,
                        self.db_dt(raised + dt.timedelta(hours=1)) if is_open and level else None,
                        Alert.Status.OPEN.value if is_open else Alert.Status.RESOLVED.value,
                        None if is_open else self.db_dt(handled),
                        None if is_open else self.office_id,
                        None if is_open else self.db_dt(handled),
                        None if is_open else self.office_id,
                        "" if is_open else "已核实处理",
                    )
                )
                done += 1
                load.open_alerts += is_open
            self.alert_table.write(rows)
        load.alerts = done


# ---------------------------------------------------------------------------------------------
# The child side: measure the pages


def _targets() -> tuple[dict[str, Callable[[], Any]], dict[str, str]]:
    """The pages measured, each as a call (one GET); and the pages that could not be."""
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from fangkong.org.models import User

    clients: dict[str, Client] = {}
    calls: dict[str, Callable[[], Any]] = {}
    missing: dict[str, str] = {}
    for page, (url_name, username, query) in PAGES.items():
        try:
            url = reverse(url_name) + query
        except NoReverseMatch:
            missing[page] = f"no URL named {url_name!r} yet"
            continue
        if username not in clients:
            clients[username] = Client()
            clients[username].force_login(User.objects.get(username=username))
        calls[page] = benchkit.get_ok(clients[username], url)
    return calls, missing


def measure(persons: int, requests: int = REQUESTS) -> dict[str, Any]:
    """Seed an empty (migrated here) database and time the pages."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from fangkong.alerts.models import Alert
    from fangkong.org import demo as org_demo
    from fangkong.org.models import Person
    from fangkong.screening.bench import BENCH_HOUSEHOLD_SIZES

    from .models import FollowUpVisit, ObservationEpisode, TemperatureReading

    call_command("migrate", verbosity=0)
    seeded_register = seeded_observation = None
    if not ObservationEpisode.objects.exists():
        started = time.perf_counter()
        org_demo.seed_demo(persons=persons, household_sizes=BENCH_HOUSEHOLD_SIZES)
        seeded_register = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        seed_load()
        seeded_observation = round(time.perf_counter() - started, 1)
    # else: a database kept from an earlier run (measured again after a change)

    episodes = ObservationEpisode.objects
    figures: dict[str, Any] = {
        "database": connection.vendor,
        "persons": Person.objects.count(),
        "active_episodes": episodes.filter(status=ObservationEpisode.Status.ACTIVE).count(),
        "episodes": episodes.count(),
        "readings": TemperatureReading.objects.count(),
        "visits": FollowUpVisit.objects.count(),
        "alerts": Alert.objects.count(),
        "open_alerts": Alert.objects.filter(status=Alert.Status.OPEN).count(),
        "seed_register_s": seeded_register,
        "seed_observation_s": seeded_observation,
        "requests": requests,
    }
    calls, missing = _targets()
    benchkit.time_pages_within(calls, requests, figures, missing, LIMIT_MS)
    return figures


# ---------------------------------------------------------------------------------------------
# reading_throughput


def prepare_readings(persons: int) -> dict[str, Any]:
    """In the child: a demo register of ``persons`` persons, running episodes started through
    the services, and a token of the office. Returns the token, the episodes' ids and the
    readings so far."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from fangkong.org import demo as org_demo
    from fangkong.org.models import Person, User
    from fangkong.org.services import issue_api_token

    from . import services
    from .models import ObservationEpisode, TemperatureReading

    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        (journal,) = cursor.fetchone()
    if journal != "wal":
        raise RuntimeError(f"the SQLite database is in {journal} mode, not WAL")
    org_demo.seed_demo(persons=persons)
    office = User.objects.get(username="office")
    today = timezone.localdate()
    chosen = Person.objects.filter(is_active=True).order_by("pk")[:THROUGHPUT_EPISODES]
    services.start_episodes(
        actor=office,
        entries=[
            services.EpisodeStart(
                person=person,
                reason=ObservationEpisode.Reason.CONTACT,
                counts_from=today,
                counts_from_kind=ObservationEpisode.CountsFrom.LAST_CONTACT,
            )
            for person in chosen
        ],
    )
    _token, key = issue_api_token(user=office, name="bench")
    return {
        "token": key,
        "episodes": list(ObservationEpisode.objects.order_by("pk").values_list("pk", flat=True)),
        "readings": TemperatureReading.objects.count(),
    }


@dataclass
class _Run:
    ok: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)  # the first errors, to see why
    lock: threading.Lock = field(default_factory=threading.Lock)


def _hammer(
    port: int, paths: Iterator[str], headers: dict[str, str], seconds: float, threads: int
) -> tuple[_Run, float]:
    """POST ``{"value": "36.6"}`` to the next of ``paths`` from ``threads`` threads for
    ``seconds``: what came back, and the seconds it took."""
    run = _Run()
    body = json.dumps({"value": "36.6"}).encode()
    take = threading.Lock()
    deadline = time.monotonic() + seconds

    def worker() -> None:
        while time.monotonic() < deadline:
            with take:
                path = next(paths)
            started = time.perf_counter()
            try:
                status, content = benchkit.request(port, "POST", path, body, headers)
            except OSError as error:
                status, content = 0, str(error).encode()
            elapsed = (time.perf_counter() - started) * 1000
            with run.lock:
                run.latencies.append(elapsed)
                if status in (200, 201):
                    run.ok += 1
                else:
                    run.errors += 1
                    if len(run.samples) < 3:
                        run.samples.append(f"{status} {content[:200].decode(errors='replace')}")

    started = time.monotonic()
    benchkit.in_threads(worker, threads)
    return run, time.monotonic() - started


def _cycle(items: list[str]) -> Iterator[str]:
    while True:
        yield from items


def _load_test(port: int, token: str, episodes: list[int], seconds: float) -> dict[str, Any]:
    threads = int(os.environ.get("BENCH_THREADS") or CLIENT_THREADS)
    json_headers = {"Content-Type": "application/json"}
    api_headers = {**json_headers, "Authorization": f"Bearer {token}"}
    reading_paths = [f"/api/v1/episodes/{pk}/readings" for pk in episodes]
    figures: dict[str, Any] = {"threads": threads, "workers": WORKERS, "seconds": seconds}
    for _i in range(benchkit.WARM_UP):  # each worker loads its code on the first requests
        benchkit.request(port, "POST", BARE_PATH, b"{}", json_headers)
    loads = (
        ("readings", _cycle(reading_paths), api_headers),
        ("bare", _cycle([BARE_PATH]), json_headers),
        ("bare_auth", _cycle([BARE_AUTH_PATH]), api_headers),
    )
    # The three loads take turns in short rounds, so that whatever else the machine does
    # meanwhile weighs on each alike.
    results = {name: _Run() for name, _paths, _headers in loads}
    elapsed = dict.fromkeys(results, 0.0)
    for _round in range(ROUNDS):
        for name, paths, headers in loads:
            run, took = _hammer(port, paths, headers, seconds / ROUNDS, threads)
            total = results[name]
            total.ok += run.ok
            total.errors += run.errors
            total.latencies += run.latencies
            total.samples = (total.samples + run.samples)[:3]
            elapsed[name] += took
    for name, run in results.items():
        figures[f"{name}_ok"] = run.ok
        figures[f"{name}_errors"] = run.errors
        figures[f"{name}_per_s"] = round(run.ok / elapsed[name], 1)
        if run.latencies:
            figures[f"{name}_median_ms"] = round(statistics.median(run.latencies), 1)
            figures[f"{name}_p95_ms"] = round(benchkit.percentile(run.latencies, 0.95), 1)
        if run.samples:
            figures[f"{name}_first_errors"] = run.samples
    bare = figures["bare_per_s"]
    figures["ratio"] = round(figures["readings_per_s"] / bare, 2) if bare else None
    figures["ratio_target"] = RATIO_TARGET
    bare_auth = figures["bare_auth_per_s"]
    figures["ratio_vs_bare_auth"] = (
        round(figures["readings_per_s"] / bare_auth, 2) if bare_auth else None
    )
    figures["errors"] = sum(run.errors for run in results.values())
    figures["within_target"] = (
        figures["ratio"] is not None and figures["ratio"] >= RATIO_TARGET and not figures["errors"]
    )
    return figures


def _count_readings(path: Path) -> int:
    with sqlite3.connect(path) as db:
        (count,) = db.execute("SELECT COUNT(*) FROM observation_temperaturereading").fetchone()
    return int(count)


def main(argv: list[str]) -> int:
    """``python -m fangkong.observation.bench measure PERSONS`` or ``prepare-readings PERSONS``:
    print the figures as JSON."""
    if len(argv) == 2 and argv[0] == "measure":
        requests = int(os.environ.get("BENCH_REQUESTS") or REQUESTS)
        print(json.dumps(measure(int(argv[1]), requests)))
        return 0
    if len(argv) == 2 and argv[0] == "prepare-readings":
        print(json.dumps(prepare_readings(int(argv[1]))))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
