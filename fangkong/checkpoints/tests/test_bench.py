"""The checkpoint benchmarks keep working (their speed is measured by ``make bench``, not by
tests): the bulk entries are what the entry service would have stored; the page scenarios
seed a tiny register with its entries and request every read they measure; the burst starts
a server, posts a few dozen entries (some twice), stops it, and finds nothing lost or
recorded twice; and the burst's count finds what is lost, duplicated or answered wrongly."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from fangkong.checkpoints import bench
from fangkong.checkpoints.models import Checkpoint, Entry, EntryPerson
from fangkong.core import benchkit
from fangkong.core.testing import World, build_world
from fangkong.core.validators import clean_plate
from fangkong.org.models import Person

from .entries_kit import SHANGHAI

NOW = dt.datetime(2020, 2, 10, 15, 30, tzinfo=SHANGHAI)


def _results(tmp_path: Path) -> dict[str, dict[str, Any]]:
    results = json.loads((tmp_path / "benchmarks.json").read_text())["results"]
    return {r["scenario"]: r for r in results}


@pytest.fixture
def world(db: None) -> World:
    return build_world()


# ---------------------------------------------------------------------------------------------
# The bulk entries


def test_the_bulk_entries_are_what_the_entry_service_would_have_stored(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench, "FEVER", 0.1)
    monkeypatch.setattr(bench, "RISK_ORIGIN", 0.05)
    monkeypatch.setattr(bench, "CHUNK_ENTRIES", 70)  # several writes
    before = list(Entry.objects.values_list("pk", flat=True))  # the world's own two
    made = bench.seed_checkpoints(per_unit=2)
    ours = Checkpoint.objects.filter(pk__in=made).order_by("pk")
    assert list(ours.values_list("name", "unit__code", "intake_grid__code")) == [
        ("第一作业站东门卡口", "LZ-01", "LZ-01-01"),
        ("第一作业站西路检测点", "LZ-01", "LZ-01-01"),
        ("第二作业站东门卡口", "LZ-02", "LZ-02-01"),
        ("第二作业站西路检测点", "LZ-02", "LZ-02-01"),
    ]

    load = bench.seed_entries(count=300, days=5, now=NOW)

    entries = list(Entry.objects.exclude(pk__in=before).select_related("checkpoint").order_by("pk"))
    people = list(EntryPerson.objects.exclude(entry_id__in=before).order_by("entry_id", "position"))
    assert (load.entries, len(entries)) == (300, 300)
    assert load.people == len(people) == sum(e.people_count for e in entries)
    assert load.vehicles == sum(e.plate != "" for e in entries)
    assert load.fevers == sum(e.has_fever for e in entries) > 0
    assert load.flagged == sum(e.is_flagged for e in entries) > load.fevers
    by_entry: dict[int, list[EntryPerson]] = {}
    for person in people:
        by_entry.setdefault(person.entry_id, []).append(person)
    start = NOW - dt.timedelta(days=5)
    registered = dict(Person.objects.values_list("pk", "name"))
    for previous, entry in zip([None, *entries], entries, strict=False):
        mine = by_entry[entry.pk]
        assert [p.position for p in mine] == list(range(entry.people_count))
        assert entry.names == "、".join(p.name for p in mine)
        temperatures = [p.temperature for p in mine if p.temperature is not None]
        assert len(temperatures) == entry.people_count  # everyone's taken
        assert entry.max_temperature == max(temperatures)
        assert entry.has_fever == any(p.is_fever for p in mine)
        assert [p.is_fever for p in mine] == [t >= Decimal("37.3") for t in temperatures]
        assert entry.is_flagged == (entry.has_fever or entry.risk_level in ("high", "medium"))
        assert all(p.is_flagged == (p.is_fever or bool(entry.risk_level)) for p in mine)
        assert all(p.person_id is not None for p in mine if p.is_flagged)
        assert entry.risk_level == "" or entry.from_region_id is not None
        assert entry.unit_id == entry.checkpoint.unit_id
        assert start <= entry.at < NOW
        assert entry.day == timezone.localtime(entry.at).date()
        assert entry.created_at > entry.at
        assert len(entry.idempotency_key) == 32
        if entry.plate:
            assert clean_plate(entry.plate) == entry.plate
            assert entry.vehicle_disinfected is not None
        else:
            assert (entry.people_count, entry.vehicle_disinfected) == (1, None)
        if previous is not None:  # logged as they happened: the ids grow with the time
            assert entry.at >= previous.at
    assert all(registered[p.person_id] == p.name for p in people if p.person_id is not None)
    assert any(p.person_id is None for p in people)  # outsiders typed in
    assert len({e.idempotency_key for e in entries}) == 300
    assert {e.direction for e in entries} == {"in", "out"}
    # The busiest hours of the day are busier than the small hours.
    hours = Counter(timezone.localtime(e.at).hour for e in entries)
    assert hours[8] > hours[3]


# ---------------------------------------------------------------------------------------------
# The burst's count


def _post(key: str, retry: str = "", people: int = 1, at: float = 0.0) -> Any:
    return bench._Post(
        at=at, key=key, path="/p", body=b"{}", people=people, fever=False, risky=False, retry=retry
    )


def _answer(post: Any, status: int, entry: int | None, ms: float = 10.0) -> Any:
    return bench._Answer(post=post, status=status, entry=entry, ms=ms, lag_ms=0.0)


def test_the_burst_count_finds_lost_duplicated_and_wrongly_answered_entries() -> None:
    a, b, c, d = _post("k-a"), _post("k-b", people=3), _post("k-c"), _post("k-d")
    answers = [
        _answer(a, 201, 1, 5.0),
        _answer(_post("k-a", "concurrent"), 200, 1, 7.0),  # a retry done right
        _answer(b, 201, 2, 9.0),
        _answer(_post("k-b", "later", people=3, at=1.0), 201, 5, 11.0),  # recorded twice
        _answer(c, 500, None, 300.0),  # lost
        _answer(d, 201, 4, 20.0),
    ]
    counted = {
        "stored": [["k-a", 1, 1], ["k-b", 2, 3], ["k-d", 4, 1]],
        "entries": 10 + 4,  # the retry of k-b stored without its key
        "fever_alerts": 0,
        "risk_alerts": 0,
    }
    figures = bench.burst_figures(answers, counted, entries_before=10)
    assert figures == {
        "requests": 6,
        "first_sendings": 4,
        "retries": 2,
        "retries_concurrent": 1,
        "retries_later": 1,
        "retries_in_flight_together": 1,  # k-a's two; k-b's second went a second later
        "answered_201": 4,
        "answered_200": 1,
        "errors": 1,
        "latency_p50_ms": 10.0,
        "latency_p95_ms": 300.0,
        "latency_p99_ms": 300.0,
        "latency_max_ms": 300.0,
        "first_latency_p50_ms": 14.5,
        "first_latency_p95_ms": 300.0,
        "first_latency_p99_ms": 300.0,
        "first_latency_max_ms": 300.0,
        "max_start_lag_ms": 0.0,
        "keys_sent": 4,
        "keys_stored": 3,
        "lost": 1,
        "duplicated": 1,
        "retries_mismatched": 1,
        "people_sent": 6,
        "people_stored": 5,
        "fever_entries": 0,
        "fever_alerts": 0,
        "risk_area_entries": 0,
        "risk_area_alerts": 0,
        "first_errors": ["500 "],
    }


def test_the_burst_plan_paces_the_entries_and_sends_a_twentieth_again() -> None:
    prepared = {
        "checkpoints": [3, 4],
        "persons": list(range(100, 110)),
        "risk_region": "420106",
        "regions": ["620702", "620723"],
    }
    posts = bench.plan_burst(prepared, entries=200, seconds=10.0)
    firsts = [p for p in posts if not p.retry]
    retries = [p for p in posts if p.retry]
    assert len(firsts) == 200
    assert len({p.key for p in firsts}) == 200
    assert [p.at for p in firsts] == [i * 10.0 / 200 for i in range(200)]  # 20 a second
    assert Counter(p.retry for p in retries) == {"concurrent": 5, "later": 5}
    first_at = {p.key: p for p in firsts}
    for retry in retries:
        first = first_at[retry.key]
        assert (retry.path, retry.body) == (first.path, first.body)
        lag = retry.at - first.at
        if retry.retry == "concurrent":
            assert 0 <= lag <= bench.CONCURRENT_WITHIN
        else:
            assert bench.LATER_BETWEEN[0] <= lag <= bench.LATER_BETWEEN[1]
    assert [p.at for p in posts] == sorted(p.at for p in posts)
    for post in firsts:
        body = json.loads(post.body)
        assert body["idempotency_key"] == post.key
        assert post.path in ("/api/v1/checkpoints/3/entries", "/api/v1/checkpoints/4/entries")
        assert len(body["people"]) == post.people
        assert (body["plate"] == "") == (body["vehicle_disinfected"] is None)
        known = [p["person_id"] for p in body["people"] if "person_id" in p]
        assert len(known) == len(set(known))  # nobody twice in one car
        if body["plate"]:
            assert clean_plate(body["plate"]) == body["plate"]


# ---------------------------------------------------------------------------------------------
# The scenarios, end to end


@pytest.mark.scenarios
def test_the_entry_log_scenarios_seed_the_entries_and_measure_every_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENCH_REQUESTS", "2")
    # Not the database of a bench running beside the tests.
    monkeypatch.setenv("BENCH_POSTGRES_URL", benchkit.postgres_url("_test"))
    call_command(
        "bench",
        "checkpoints_sqlite",
        "checkpoints_postgresql",
        persons=400,
        docs=str(tmp_path),
        stdout=StringIO(),
    )
    results = _results(tmp_path)
    sqlite = results["checkpoints_sqlite"]
    assert (sqlite["database"], sqlite["requests"], sqlite["persons"]) == ("sqlite", 2, 400)
    assert (sqlite["entries"], sqlite["checkpoints"]) == (400, 18)  # 6 units × 3
    assert sqlite["entries"] < sqlite["entry_people"] < 2 * sqlite["entries"]
    assert 0 < sqlite["vehicles"] < sqlite["entries"] / 2
    assert 0 < sqlite["checkpoint_measured_entries"] < sqlite["entries"]
    for name in bench.API:
        assert f"{name}_not_measured" not in sqlite, sqlite.get(f"{name}_not_measured")
        assert sqlite[f"{name}_p95_ms"] >= sqlite[f"{name}_median_ms"] > 0
        assert sqlite[f"{name}_queries"] > 0
    for page, (url_name, _persona, _query) in bench.PAGES.items():
        try:
            reverse(url_name)
        except NoReverseMatch:  # the page is not built yet: reported, not measured
            assert sqlite[f"{page}_not_measured"] == f"no URL named {url_name!r} yet"
            continue
        assert f"{page}_not_measured" not in sqlite, sqlite.get(f"{page}_not_measured")
        assert sqlite[f"{page}_p95_ms"] >= sqlite[f"{page}_median_ms"] > 0
        assert sqlite[f"{page}_queries"] > 0
    postgresql = results["checkpoints_postgresql"]
    if "skipped" not in postgresql:  # no PostgreSQL server here
        assert postgresql["database"] == "postgresql"
        assert (postgresql["entries"], postgresql["checkpoints"]) == (400, 18)
        assert "log_office_not_measured" not in postgresql
    assert "## checkpoints_sqlite" in (tmp_path / "benchmarks.md").read_text()


@pytest.mark.scenarios
def test_the_burst_posts_entries_to_gunicorn_twice_some_and_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENCH_BURST_ENTRIES", "40")
    monkeypatch.setenv("BENCH_BURST_SECONDS", "2")
    monkeypatch.setenv("BENCH_THREADS", "6")
    monkeypatch.setenv("BENCH_POSTGRES_URL", benchkit.postgres_url("_test"))
    call_command(
        "bench",
        "checkpoint_burst",
        "checkpoint_burst_postgresql",
        persons=400,
        docs=str(tmp_path),
        stdout=StringIO(),
    )
    results = _results(tmp_path)
    for name in ("checkpoint_burst", "checkpoint_burst_postgresql"):
        figures = results[name]
        if "skipped" in figures:  # no PostgreSQL server here
            continue
        assert figures.get("first_errors") is None, figures.get("first_errors")
        assert (figures["clients"], figures["workers"], figures["checkpoints"]) == (6, 2, 3)
        assert (figures["requests"], figures["first_sendings"], figures["retries"]) == (42, 40, 2)
        assert (figures["retries_concurrent"], figures["retries_later"]) == (1, 1)
        assert figures["retries_in_flight_together"] <= 1
        assert (figures["answered_201"], figures["answered_200"], figures["errors"]) == (40, 2, 0)
        assert (figures["keys_sent"], figures["keys_stored"]) == (40, 40)
        assert (figures["lost"], figures["duplicated"], figures["retries_mismatched"]) == (0, 0, 0)
        assert figures["people_stored"] == figures["people_sent"] >= 40
        assert figures["fever_alerts"] == figures["fever_entries"]
        assert (
            figures["latency_max_ms"]
            >= figures["latency_p99_ms"]
            >= figures["latency_p95_ms"]
            >= figures["latency_p50_ms"]
            > 0
        )
        assert figures["database"] == ("sqlite" if name == "checkpoint_burst" else "postgresql")
