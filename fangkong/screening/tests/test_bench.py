"""The screening benchmarks keep working (their figures are not asserted: speed is measured
by ``make bench``, not by tests): each scenario seeds a tiny register with a campaign under
way and requests every page it measures."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from fangkong.screening.bench import PAGES


@pytest.mark.scenarios
def test_the_screening_scenarios_seed_and_measure_every_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BENCH_REQUESTS", "3")
    call_command(
        "bench",
        "screening_sqlite",
        "screening_postgresql",
        persons=60,
        docs=str(tmp_path),
        stdout=StringIO(),
    )
    results = {
        r["scenario"]: r for r in json.loads((tmp_path / "benchmarks.json").read_text())["results"]
    }
    sqlite = results["screening_sqlite"]
    assert (sqlite["database"], sqlite["requests"]) == ("sqlite", 3)
    assert sqlite["persons"] == 60
    assert 0 < sqlite["households_visited"] < sqlite["households"]
    assert sqlite["screenings"] > 0
    for page in PAGES:
        assert sqlite[f"{page}_p95_ms"] >= sqlite[f"{page}_median_ms"] > 0
        assert sqlite[f"{page}_queries"] > 0
    postgresql = results["screening_postgresql"]
    if "skipped" not in postgresql:  # no PostgreSQL server here
        assert postgresql["database"] == "postgresql"
        assert postgresql["screenings"] == sqlite["screenings"]  # the same seed, the same data
    assert "## screening_sqlite" in (tmp_path / "benchmarks.md").read_text()
