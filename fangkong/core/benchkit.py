"""What the page benchmarks of the apps share: the measuring runs in a child process
(``python -m <module> measure PERSONS``, ``DEBUG`` off as in production) on a SQLite file in a
temporary folder, or on a PostgreSQL database created for the run and dropped after it
(``BENCH_POSTGRES_URL``, default ``fangkong_bench`` on 127.0.0.1, with the scenario's suffix
added to the database name so that the benches of several apps may run beside each other).
"""

from __future__ import annotations

import http.client
import json
import math
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    return run_child(module, ["measure", str(persons)], child_env(database))


def run_child(module: str, args: list[str], env: dict[str, str]) -> Any:
    """Run ``python -m module *args`` with ``env`` (see :func:`child_env`); its last line of
    output is the answer (JSON)."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} {' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


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


def time_pages_within(
    calls: dict[str, Callable[[], Any]],
    requests: int,
    figures: dict[str, Any],
    missing: dict[str, str],
    limit_ms: float,
) -> None:
    """:func:`time_pages`, then the worst p95 into ``figures`` with the limit, and whether
    every page was measured within it (``within_limit``)."""
    worst = time_pages(calls, requests, figures, missing)
    figures["worst_p95_ms"] = round(worst, 1)
    figures["limit_ms"] = limit_ms
    figures["within_limit"] = worst < limit_ms and not missing


def get_ok(client: Any, url: str, **headers: str) -> Callable[[], Any]:
    """A call of ``GET url`` with the test ``client`` that fails unless answered 200."""

    def call() -> Any:
        response = client.get(url, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url}: {response.status_code}")
        return response

    return call


def latency_figures(name: str, latencies: list[float]) -> dict[str, float]:
    """``<name>_p50_ms``, ``_p95_ms``, ``_p99_ms`` and ``_max_ms`` of request times in ms."""
    if not latencies:
        return {}
    return {
        f"{name}_p50_ms": round(statistics.median(latencies), 1),
        f"{name}_p95_ms": round(percentile(latencies, 0.95), 1),
        f"{name}_p99_ms": round(percentile(latencies, 0.99), 1),
        f"{name}_max_ms": round(max(latencies), 1),
    }


# ---------------------------------------------------------------------------------------------
# A server under load: gunicorn on a free port of 127.0.0.1, and requests to it


BASE_DIR = Path(__file__).resolve().parents[2]


def in_threads(target: Callable[[], None], count: int) -> None:
    """Run ``target`` in ``count`` threads at once; return when all are done."""
    pool = [threading.Thread(target=target) for _i in range(count)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def request(
    port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> tuple[int, bytes]:
    """One request on a connection of its own (sync workers close it after each)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class Gunicorn:
    """A gunicorn process serving the app with ``workers`` sync workers, in a process group of
    its own (its workers go with it when stopped); its log in ``folder``."""

    def __init__(self, env: dict[str, str], folder: Path, workers: int) -> None:
        self.port = free_port()
        self.log_path = folder / "gunicorn.log"
        self.log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "fangkong.wsgi:application",
                "--workers",
                str(workers),
                "--worker-class",
                "sync",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_path.read_text()[-4000:]}")
            try:
                status, _body = request(self.port, "GET", "/healthz", None, {})
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer in {timeout:.0f} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


@contextmanager
def serving(env: dict[str, str], folder: Path, *, workers: int) -> Iterator[int]:
    """``with serving(env, folder, workers=2) as port``: the server runs inside the block
    only, and is stopped whatever happens."""
    server = Gunicorn(env, folder, workers)
    try:
        server.wait_ready()
        yield server.port
    finally:
        server.stop()
