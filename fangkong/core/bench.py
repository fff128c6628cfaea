"""Benchmark scenarios of the foundation (run by ``python manage.py bench``)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management import call_command


def bench_seed_demo(persons: int) -> dict[str, Any]:
    """``seed_demo --persons N`` into an empty SQLite database."""
    start = time.perf_counter()
    call_command("seed_demo", persons=persons, verbosity=0)
    return {"seconds": round(time.perf_counter() - start, 2)}
