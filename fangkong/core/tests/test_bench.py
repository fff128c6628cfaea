"""The benchmark command keeps working (its figures are not asserted: speed is measured by
``make bench``, not by tests)."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command


@pytest.mark.scenarios
def test_bench_runs_a_scenario_in_a_subprocess_and_writes_json_and_markdown(
    tmp_path: Path,
) -> None:
    call_command("bench", "seed_demo", persons=30, docs=str(tmp_path), stdout=StringIO())
    figures = json.loads((tmp_path / "benchmarks.json").read_text())
    (result,) = figures["results"]
    assert (result["scenario"], result["persons"]) == ("seed_demo", 30)
    assert result["seconds"] > 0
    assert result["largest_process_mb"] > 10  # the child's own resident set, not zero
    table = (tmp_path / "benchmarks.md").read_text()
    assert "## seed_demo" in table
    assert "| persons | 30 |" in table
    assert f"| seconds | {result['seconds']} |" in table
