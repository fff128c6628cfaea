"""Benchmarks of the screening pages: the campaign's coverage and the ledger, on SQLite and
on PostgreSQL, at ``persons`` persons in about ``0.3 × persons`` households (the issue's
figure: 1,000,000 persons in 300,000 households; p95 under 300 ms each).

Each scenario seeds the demo register (with larger households than the demo's, see
:data:`BENCH_HOUSEHOLD_SIZES`) and the screening demo (an open campaign over the branch, 70 %
of the households visited) into an empty database, then measures each page ``REQUESTS``
times with the test client after two warm-up requests, and returns the median and p95 in
milliseconds and the queries of one request. The work runs in a child process
(``python -m fangkong.screening.bench measure PERSONS``) with ``DEBUG`` off, on a SQLite
file in a temporary folder or on a PostgreSQL database created for the run
(``BENCH_POSTGRES_URL``, default ``postgres://postgres@127.0.0.1:5432/fangkong_bench``) and
dropped after it.

``BENCH_REQUESTS`` changes the number of requests per page (the tests use a few).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from fangkong.core import benchkit

# (size, weight): 3.33 persons a household on average, so 1,000,000 persons live in about
# 300,000 households (the demo's own sizes give 2.6 persons, 386,000 households).
BENCH_HOUSEHOLD_SIZES: tuple[tuple[int, int], ...] = (
    (1, 7),
    (2, 16),
    (3, 30),
    (4, 27),
    (5, 13),
    (6, 7),
)
REQUESTS = 30
LIMIT_MS = 300
# The pages measured: name → (who asks, what).
PAGES = ("coverage_branch", "coverage_unit", "todo", "ledger", "ledger_key")


def bench_screening_sqlite(persons: int) -> dict[str, Any]:
    """The coverage page (whole branch, one unit), a grid worker's to-do list and the
    ledger (first page, key persons only), on SQLite."""
    return benchkit.on_sqlite("fangkong.screening.bench", "screening", persons)


def bench_screening_postgresql(persons: int) -> dict[str, Any]:
    """The same pages on PostgreSQL (skipped, with the reason, when it cannot be reached)."""
    return benchkit.on_postgresql("fangkong.screening.bench", persons)


# ---------------------------------------------------------------------------------------------
# The child side: seed, then measure


def _targets() -> dict[str, tuple[Callable[[], Any], Callable[[], int]]]:
    """The pages measured, each as a call (one GET) and a function counting its queries."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from fangkong.org.models import OrgUnit, User

    from .models import Campaign

    campaign = Campaign.objects.select_related("unit").get()
    office = User.objects.get(username="office")
    worker = User.objects.get(username="grid_worker")
    unit = OrgUnit.objects.get(code="LZ-01")  # the largest unit

    def counted(call: Callable[[], Any]) -> Callable[[], int]:
        def count() -> int:
            with CaptureQueriesContext(connection) as queries:
                call()
            return len(queries)

        return count

    detail = reverse("screening:campaign_detail", kwargs={"campaign_id": campaign.pk})
    todo = reverse("screening:campaign_todo", kwargs={"campaign_id": campaign.pk})
    ledger = reverse("screening:ledger")
    as_office, as_worker = Client(), Client()
    as_office.force_login(office)
    as_worker.force_login(worker)

    def get(client: Client, url: str) -> Callable[[], Any]:
        def call() -> Any:
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"GET {url}: {response.status_code}")
            return response

        return call

    calls = {
        "coverage_branch": get(as_office, detail),
        "coverage_unit": get(as_office, f"{detail}?unit={unit.pk}"),
        "todo": get(as_worker, todo),
        "ledger": get(as_office, ledger),
        "ledger_key": get(as_office, f"{ledger}?key_only=1"),
    }
    return {name: (call, counted(call)) for name, call in calls.items()}


def measure(persons: int, requests: int = REQUESTS) -> dict[str, Any]:
    """Seed an empty (migrated here) database and time the pages."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Sum

    from fangkong.org import demo as org_demo
    from fangkong.org.models import Household, Person

    from .demo import seed_screening_demo
    from .models import Campaign, CampaignTally, Screening

    call_command("migrate", verbosity=0)
    seeded_register = seeded_screening = None
    if not Campaign.objects.exists():
        started = time.perf_counter()
        org_demo.seed_demo(persons=persons, household_sizes=BENCH_HOUSEHOLD_SIZES)
        seeded_register = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        seed_screening_demo()
        seeded_screening = round(time.perf_counter() - started, 1)
    # else: a database kept from an earlier run (measured again after a change)

    targets = _targets()
    tallies = CampaignTally.objects.aggregate(
        visited=Sum("households_visited"), key=Sum("key_persons")
    )
    figures: dict[str, Any] = {
        "database": connection.vendor,
        "persons": Person.objects.count(),
        "households": Household.objects.count(),
        "households_visited": tallies["visited"],
        "screenings": Screening.objects.count(),
        "key_persons": tallies["key"],
        "seed_register_s": seeded_register,
        "seed_screening_s": seeded_screening,
        "requests": requests,
    }
    worst = 0.0
    for name in PAGES:
        call, count_queries = targets[name]
        for _i in range(benchkit.WARM_UP):
            call()
        times = []
        for _i in range(requests):
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000)
        p95 = benchkit.percentile(times, 0.95)
        worst = max(worst, p95)
        figures[f"{name}_median_ms"] = round(statistics.median(times), 1)
        figures[f"{name}_p95_ms"] = round(p95, 1)
        figures[f"{name}_queries"] = count_queries()
    figures["worst_p95_ms"] = round(worst, 1)
    figures["limit_ms"] = LIMIT_MS
    figures["within_limit"] = worst < LIMIT_MS
    return figures


def main(argv: list[str]) -> int:
    """``python -m fangkong.screening.bench measure PERSONS``: print the figures as JSON."""
    return benchkit.child_main(argv, measure, __doc__, REQUESTS)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
