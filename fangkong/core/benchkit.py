"""What the page benchmarks of the apps share: the measuring runs in a child process
(``python -m <module> measure PERSONS``, ``DEBUG`` off as in production) on a SQLite file in a
temporary folder, or on a PostgreSQL database created for the run and dropped after it
(``BENCH_POSTGRES_URL``, default ``fangkong_bench`` on 127.0.0.1, with the scenario's suffix
added to the database name so that the benches of several apps may run beside each other).
"""

from __future__ import annotations

import json
import math
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/fangkong_bench"


def child_env(database: dict[str, str], **extra: str) -> dict[str, str]:
    """The environment of a child measuring on ``database`` (``SQLITE_PATH`` or
    ``DATABASE_URL``): production-like settings, a throw-away secret key."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "fangkong.settings",
        "FANGKONG_DOTENV": "0",
        # As in production: no query log, no template debugging.
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        **database,
        **extra,
    }


def measure_in_child(module: str, persons: int, database: dict[str, str]) -> dict[str, Any]:
    """Run ``python -m module measure persons`` on ``database``; its last line of output is
    the figures (JSON)."""
    done = subprocess.run(
        [sys.executable, "-m", module, "measure", str(persons)],
        env=child_env(database),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def on_sqlite(module: str, name: str, persons: int) -> dict[str, Any]:
    """Measure in a child on a new SQLite file (removed after)."""
    with tempfile.TemporaryDirectory(prefix=f"fk-bench-{name}-") as folder:
        return measure_in_child(
            module,
            persons,
            {"SQLITE_PATH": str(Path(folder) / f"{name}.sqlite3"), "DATABASE_URL": ""},
        )


def on_postgresql(module: str, persons: int, suffix: str = "") -> dict[str, Any]:
    """Measure in a child on a PostgreSQL database made for the run and dropped after it
    (skipped, with the reason, when the server cannot be reached)."""
    url = postgres_url(suffix)
    try:
        recreate_database(url)
    except Exception as error:  # no server here: say so, measure the rest
        return {"skipped": f"PostgreSQL at {without_password(url)}: {error}".strip()}
    try:
        return measure_in_child(module, persons, {"DATABASE_URL": url})
    finally:
        drop_database(url)


def postgres_url(suffix: str = "") -> str:
    """``BENCH_POSTGRES_URL`` (or the default) with ``suffix`` added to the database name."""
    parts = urlsplit(os.environ.get("BENCH_POSTGRES_URL") or DEFAULT_POSTGRES_URL)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + suffix))


def without_password(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _admin(url: str) -> tuple[str, str]:
    """The maintenance database's URL (``postgres``) and the bench database's name."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unexpected database name {name!r}")
    return urlunsplit(parts._replace(path="/postgres")), name


def recreate_database(url: str) -> None:
    import psycopg

    admin, name = _admin(url)
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg

    admin, name = _admin(url)
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def child_main(
    argv: list[str], measure: Callable[[int, int], dict[str, Any]], doc: str | None, requests: int
) -> int:
    """The ``main`` of a bench module run as a child: ``measure PERSONS`` prints the figures
    as JSON (``BENCH_REQUESTS`` requests per page, ``requests`` by default)."""
    if len(argv) == 2 and argv[0] == "measure":
        count = int(os.environ.get("BENCH_REQUESTS") or requests)
        print(json.dumps(measure(int(argv[1]), count)))
        return 0
    print(doc, file=sys.stderr)
    return 2


# ---------------------------------------------------------------------------------------------
# The child side: timing


WARM_UP = 2


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (p95 of 30 values: the 29th smallest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def timed(call: Callable[[], Any], requests: int) -> tuple[list[float], Any]:
    """``requests`` calls after the warm-up ones: their times in ms, and the queries of one
    more call."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _i in range(WARM_UP):
        call()
    times = []
    for _i in range(requests):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        call()
    return times, queries


def time_pages(
    calls: dict[str, Callable[[], Any]],
    requests: int,
    figures: dict[str, Any],
    missing: dict[str, str],
) -> float:
    """Time each of ``calls`` into ``figures`` (median, p95, the queries of one call and the
    database's share of it); one that fails goes to ``missing`` with why, and the rest are
    measured. Returns the worst p95."""
    worst = 0.0
    for name, call in calls.items():
        try:
            times, queries = timed(call, requests)
        except Exception as error:  # a page being built may fail: say so, measure the rest
            missing[name] = f"{type(error).__name__}: {error}"[:200]
            continue
        p95 = percentile(times, 0.95)
        worst = max(worst, p95)
        figures[f"{name}_median_ms"] = round(statistics.median(times), 1)
        figures[f"{name}_p95_ms"] = round(p95, 1)
        figures[f"{name}_queries"] = len(queries)
        # The database's share of that call (the rest: Python and the template).
        figures[f"{name}_db_ms"] = round(
            sum(float(q["time"]) for q in queries.captured_queries) * 1000, 1
        )
    for name, reason in missing.items():
        figures[f"{name}_not_measured"] = reason
    return worst
