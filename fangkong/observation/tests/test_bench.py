"""The observation benchmarks keep working (their figures are not asserted: speed is measured
by ``make bench``, not by tests): the page scenarios seed a tiny register with its
observation load and request every page they measure; the throughput scenario starts a
server, posts readings and stops it."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from fangkong.observation.bench import PAGES


def _results(tmp_path: Path) -> dict[str, dict[str, Any]]:
    results = json.loads((tmp_path / "benchmarks.json").read_text())["results"]
    return {r["scenario"]: r for r in results}


@pytest.mark.scenarios
def test_the_observation_page_scenarios_seed_the_load_and_measure_every_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENCH_REQUESTS", "2")
    call_command(
        "bench",
        "observation_sqlite",
        "observation_postgresql",
        persons=400,
        docs=str(tmp_path),
        stdout=StringIO(),
    )
    results = _results(tmp_path)
    sqlite = results["observation_sqlite"]
    assert (sqlite["database"], sqlite["requests"], sqlite["persons"]) == ("sqlite", 2, 400)
    assert 0 < sqlite["active_episodes"] < sqlite["episodes"]
    assert sqlite["readings"] > 10 * sqlite["active_episodes"]
    assert sqlite["alerts"] == 40  # a tenth of the persons
    assert 0 < sqlite["open_alerts"] < sqlite["alerts"]
    for page in PAGES:
        assert f"{page}_not_measured" not in sqlite
        assert sqlite[f"{page}_p95_ms"] >= sqlite[f"{page}_median_ms"] > 0
        assert sqlite[f"{page}_queries"] > 0
    postgresql = results["observation_postgresql"]
    if "skipped" not in postgresql:  # no PostgreSQL server here
        assert postgresql["database"] == "postgresql"
        assert postgresql["readings"] == sqlite["readings"]  # the same seed, the same data
    assert "## observation_sqlite" in (tmp_path / "benchmarks.md").read_text()


@pytest.mark.scenarios
def test_the_reading_throughput_scenario_posts_readings_to_gunicorn_and_stops_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENCH_SECONDS", "1")
    monkeypatch.setenv("BENCH_THREADS", "2")
    call_command("bench", "reading_throughput", persons=400, docs=str(tmp_path), stdout=StringIO())
    figures = _results(tmp_path)["reading_throughput"]
    assert (figures["threads"], figures["workers"], figures["episodes"]) == (2, 2, 300)
    assert figures["readings_ok"] > 0
    assert figures["bare_ok"] > 0
    assert figures["bare_auth_ok"] > 0
    assert figures["errors"] == 0
    assert figures["all_stored"] is True
    assert figures["ratio"] == round(figures["readings_per_s"] / figures["bare_per_s"], 2)
