"""Scheduled jobs: work that depends on the clock (a check window closing, an alert left
unhandled), done whether or not anyone opens a page.

Each app registers its jobs in ``AppConfig.ready``. ``manage.py run_scheduler`` calls
:func:`run_due` every minute. A job is a function ``job(*, now, since) -> int``: it does what
became due after ``since`` (the time the previous completed run covered; ``None`` the first
time) up to ``now`` and returns how many things it did. Jobs must be idempotent — two
schedulers running at once, or one run repeated after a crash, do nothing twice (alerts are
keyed, updates are conditional) — so no lock is held while a job runs.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Protocol

from django.db import transaction
from django.utils import timezone

logger = logging.getLogger(__name__)


class Job(Protocol):
    def __call__(self, *, now: dt.datetime, since: dt.datetime | None) -> int: ...


_JOBS: dict[str, Callable[..., int]] = {}
_ORDER: dict[str, int] = {}


def register(name: str, job: Callable[..., int], *, order: int = 100) -> None:
    """Add a job; jobs run by ``order`` (then name): a job that acts on what others raise
    (escalation) comes after them, so it sees their work in the same run."""
    _JOBS[name] = job
    _ORDER[name] = order


def registered() -> dict[str, Callable[..., int]]:
    return dict(_JOBS)


def run_due(now: dt.datetime | None = None, *, names: list[str] | None = None) -> dict[str, int]:
    """Run every registered job (or those named) once; a failing job is logged and recorded
    and does not stop the others. Returns what each did (-1 for a failure)."""
    from fangkong.core.models import JobRun

    now = now or timezone.now()
    results: dict[str, int] = {}
    for name, job in sorted(_JOBS.items(), key=lambda item: (_ORDER.get(item[0], 100), item[0])):
        if names is not None and name not in names:
            continue
        run, _created = JobRun.objects.get_or_create(name=name)
        since = run.covered_until
        if since is not None and since > now:
            since = now  # a clock set back: cover nothing twice, miss nothing
        JobRun.objects.filter(pk=name).update(last_started_at=timezone.now())
        try:
            with transaction.atomic():
                done = job(now=now, since=since)
        except Exception as error:  # a broken job must not stop the others
            logger.exception("scheduled job %s failed", name)
            JobRun.objects.filter(pk=name).update(last_error=f"{type(error).__name__}: {error}")
            results[name] = -1
            continue
        JobRun.objects.filter(pk=name).update(
            last_completed_at=timezone.now(),
            covered_until=now,
            last_result=done,
            last_error="",
        )
        results[name] = done
    return results
