"""``python manage.py bench``: the project's benchmarks, with the figures written to
``docs/benchmarks.json`` and a table in ``docs/benchmarks.md``.

Each scenario runs in a subprocess of its own, on a fresh SQLite database in a temporary
folder, so that its time and peak memory (the child's maximum resident set size, from
``wait4``) are its own. Scenarios are functions ``bench_<name>(persons) -> dict`` in
:mod:`fangkong.core.bench` and in each app's ``bench`` module; each returns its figures
(seconds, rows, and its floor where it has one).
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

MODULES = (
    "fangkong.core.bench",
    "fangkong.org.bench",
    "fangkong.screening.bench",
    "fangkong.observation.bench",
    "fangkong.reporting.bench",
    "fangkong.checkpoints.bench",
)


def scenarios() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for module_name in MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        for name in dir(module):
            if name.startswith("bench_") and callable(getattr(module, name)):
                found[name.removeprefix("bench_")] = getattr(module, name)
    return found


class Command(BaseCommand):
    help = "Run the benchmarks; write docs/benchmarks.json and docs/benchmarks.md."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("names", nargs="*", help="Scenarios to run (default: all).")
        parser.add_argument("--persons", type=int, default=100_000)
        parser.add_argument("--one", help="Run one scenario here and print its figures (internal).")
        parser.add_argument("--docs", default=str(settings.BASE_DIR / "docs"))

    def handle(self, *args: Any, **options: Any) -> None:
        available = scenarios()
        if options["one"]:
            figures = available[options["one"]](options["persons"])
            self.stdout.write(json.dumps(figures, default=str))
            return
        names = options["names"] or sorted(available)
        unknown = [n for n in names if n not in available]
        if unknown:
            raise CommandError(f"unknown scenarios {unknown}; choose from {sorted(available)}")
        results = []
        for name in names:
            self.stdout.write(f"{name} ({options['persons']:,} persons)…")
            figures = self._run_child(name, options["persons"])
            results.append({"scenario": name, "persons": options["persons"], **figures})
            self.stdout.write(f"  {json.dumps(figures, default=str)}")
        self._write_docs(Path(options["docs"]), results)

    def _run_child(self, name: str, persons: int) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="fk-bench-") as folder:
            env = {
                **os.environ,
                "SQLITE_PATH": str(Path(folder) / "bench.sqlite3"),
                "DATABASE_URL": "",
                "FANGKONG_DOTENV": "0",
                "FANGKONG_BENCH_DIR": folder,
            }
            migrate = subprocess.run(
                [sys.executable, "manage.py", "migrate", "-v0"],
                cwd=settings.BASE_DIR,
                env=env,
                capture_output=True,
                text=True,
            )
            if migrate.returncode:
                raise CommandError(migrate.stderr)
            out_path, err_path = Path(folder) / "out.txt", Path(folder) / "err.txt"
            with out_path.open("w") as out, err_path.open("w") as err:
                child = subprocess.Popen(
                    [
                        sys.executable,
                        "manage.py",
                        "bench",
                        "--one",
                        name,
                        "--persons",
                        str(persons),
                    ],
                    cwd=settings.BASE_DIR,
                    env=env,
                    stdout=out,
                    stderr=err,
                )
                # wait4 reaps the child and reports the peak memory of the largest process of
                # the scenario, its own children included (KiB on Linux).
                _pid, status, usage = os.wait4(child.pid, 0)
            if os.waitstatus_to_exitcode(status):
                raise CommandError(f"{name} failed:\n{err_path.read_text()}")
            figures: dict[str, Any] = json.loads(out_path.read_text().strip().splitlines()[-1])
            figures["largest_process_mb"] = round(usage.ru_maxrss / 1024, 1)
            return figures

    def _write_docs(self, folder: Path, results: list[dict[str, Any]]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        # Scenarios not run this time keep their last figures (each result has its date).
        today = dt.date.today().isoformat()
        results = [{**result, "date": today} for result in results]
        previous = folder / "benchmarks.json"
        if previous.exists():
            ran = {result["scenario"] for result in results}
            try:
                kept = json.loads(previous.read_text(encoding="utf-8")).get("results", [])
            except ValueError:
                kept = []
            results += [r for r in kept if isinstance(r, dict) and r.get("scenario") not in ran]
            results.sort(key=lambda result: str(result.get("scenario")))
        machine = {
            "date": dt.date.today().isoformat(),
            "python": platform.python_version(),
            "machine": platform.machine(),
            "cpus": os.cpu_count(),
        }
        (folder / "benchmarks.json").write_text(
            json.dumps({"machine": machine, "results": results}, indent=2, default=str) + "\n",
            encoding="utf-8",
        )
        lines = [
            "# Benchmarks",
            "",
            f"Measured by `make bench` on {machine['date']} (Python {machine['python']}, "
            f"{machine['machine']}, {machine['cpus']} CPUs); the same figures are in "
            "`docs/benchmarks.json`. Times in seconds (`_ms`: milliseconds), memory in MB; a "
            "*floor* is the same work done by the libraries alone, and `x_vs_floor` the ratio to "
            "it. A scenario not run that time keeps its last figures, with their date.",
        ]
        for result in results:
            lines += ["", f"## {result['scenario']}", "", "| figure | value |", "|---|---|"]
            lines += [f"| {key} | {value} |" for key, value in result.items() if key != "scenario"]
        (folder / "benchmarks.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.stdout.write(f"wrote {folder / 'benchmarks.md'} and {folder / 'benchmarks.json'}")
