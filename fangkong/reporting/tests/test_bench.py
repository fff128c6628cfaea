"""The daily report's benchmark keeps working (its figures are not asserted: speed is measured
by ``make bench``, not by tests): the scenarios seed a tiny register, spread it over their
units, write their reports, then measure every read and the pre-filling."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse

from fangkong.reporting.bench import API, PAGES, SELECTORS


@pytest.mark.scenarios
def test_the_reporting_scenarios_seed_the_reports_and_measure_every_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENCH_REQUESTS", "2")
    monkeypatch.setenv("BENCH_UNITS", "12")
    monkeypatch.setenv("BENCH_DAYS", "10")
    call_command(
        "bench",
        "reporting_sqlite",
        "reporting_postgresql",
        persons=400,
        docs=str(tmp_path),
        stdout=StringIO(),
    )
    results = json.loads((tmp_path / "benchmarks.json").read_text())["results"]
    by_name = {r["scenario"]: r for r in results}
    sqlite = by_name["reporting_sqlite"]
    assert (sqlite["database"], sqlite["requests"], sqlite["persons"]) == ("sqlite", 2, 400)
    assert (sqlite["units"], sqlite["days"], sqlite["branch_reports"]) == (12, 10, 9)
    # Most reports in (a few missing, today's partly filed), each with one value per indicator
    # of each version, a few corrected once.
    assert 100 <= sqlite["reports"] <= 120
    assert sqlite["submitted"] <= sqlite["reports"]
    assert sqlite["versions"] >= sqlite["reports"]
    assert sqlite["values"] == 15 * sqlite["versions"]
    assert 0 < sqlite["approved"] < sqlite["submitted"]
    for name in [*API, *SELECTORS]:
        assert f"{name}_not_measured" not in sqlite, sqlite.get(f"{name}_not_measured")
        assert sqlite[f"{name}_p95_ms"] >= sqlite[f"{name}_median_ms"] > 0
        assert sqlite[f"{name}_queries"] > 0
    for page, (url_name, _persona, _query) in PAGES.items():
        try:
            reverse(url_name, kwargs={"orgunit_id": 1} if url_name == "reporting:file" else None)
        except NoReverseMatch:  # the page is not built yet: reported, not measured
            assert sqlite[f"{page}_not_measured"] == f"no URL named {url_name!r} yet"
            continue
        assert f"{page}_not_measured" not in sqlite, sqlite.get(f"{page}_not_measured")
        assert sqlite[f"{page}_p95_ms"] >= sqlite[f"{page}_median_ms"] > 0
    # Pre-filling: every unit, the register's persons all counted once.
    assert sqlite["prefill_units"] == 12
    assert sqlite["prefill_registered"] == sqlite["registered"] > 0
    assert sqlite["prefill_all_queries"] > 0
    assert sqlite["prefill_unit_queries"] > 0
    postgresql = by_name["reporting_postgresql"]
    if "skipped" not in postgresql:  # no PostgreSQL server here
        assert postgresql["database"] == "postgresql"
        assert (postgresql["persons"], postgresql["units"]) == (400, 12)
        assert postgresql["values"] == 15 * postgresql["versions"]
        assert postgresql["prefill_units"] == 12
    assert "## reporting_sqlite" in (tmp_path / "benchmarks.md").read_text()
