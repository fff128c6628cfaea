"""``python manage.py run_scheduler [--once] [--interval SECONDS]``.

The scheduler: runs the due scheduled jobs (:func:`fangkong.core.jobs.run_due`: check windows
that closed without a reading, days without a visit, needs nobody answered, alerts to
escalate) every ``--interval`` seconds (60), logging one line per run with what each job did.
``--once`` runs them once and exits (status 1 if a job failed), for cron or a systemd timer.

SIGTERM or SIGINT (Ctrl-C) stops it cleanly: a run in progress is finished first. Two
schedulers at once are safe, and so is one started after downtime: every job is idempotent
(alerts are keyed, updates conditional) and catches up from where the last completed run
stopped, so nothing is missed and nothing is done twice. No lock is held between runs.
"""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from django.utils import timezone

from fangkong.core import jobs

logger = logging.getLogger("fangkong.scheduler")

# Replaced by the tests (a scheduler that sleeps for real makes slow tests).
_sleep = time.sleep
_clock = time.monotonic
# The longest single sleep: a stop request is noticed within this many seconds.
SLEEP_SLICE = 1.0


def describe(results: dict[str, int]) -> str:
    """What each job did, in one line: ``alerts.escalate 0, observation.missed_checks 3``."""
    if not results:
        return "no jobs registered"
    return ", ".join(
        f"{name} {'FAILED' if done < 0 else done}" for name, done in sorted(results.items())
    )


def _release_connections(*, close: bool = False) -> None:
    """Close the database connections that are broken or past CONN_MAX_AGE (all of them
    with ``close``), as Django does around each request; never one inside a transaction (a
    test calling the command runs in one)."""
    for connection in connections.all(initialized_only=True):
        if connection.in_atomic_block:
            continue
        if close:
            connection.close()
        else:
            connection.close_if_unusable_or_obsolete()


class Command(BaseCommand):
    help = (
        "Run the scheduled jobs (missed checks and visits, unanswered needs, escalation) "
        "every --interval seconds until stopped by SIGTERM or Ctrl-C; --once runs them once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--once", action="store_true", help="Run the due jobs once and exit (for cron)."
        )
        parser.add_argument(
            "--interval",
            type=int,
            default=60,
            metavar="SECONDS",
            help="Seconds from the start of one run to the start of the next (default 60).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        interval = options["interval"]
        if interval < 1:
            raise CommandError("--interval must be at least 1 second, e.g. --interval 60.")
        self.stopping = False
        previous = {
            sig: signal.signal(sig, self._request_stop) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        failed = False
        try:
            logger.info(
                "scheduler started, every %d s: %s",
                interval,
                ", ".join(sorted(jobs.registered())) or "no jobs registered",
            )
            while True:
                started = _clock()
                failed = not self._run()
                if options["once"] or self.stopping:
                    break
                self._wait(interval - (_clock() - started))
                if self.stopping:
                    break
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            _release_connections(close=True)
        logger.info("scheduler stopped")
        if options["once"] and failed:
            raise CommandError("A scheduled job failed: see the log above.")

    def _request_stop(self, signum: int, frame: FrameType | None) -> None:
        """Stop after the run in progress (if any); the jobs are never cut short."""
        if not self.stopping:
            logger.info(
                "scheduler: %s received, stopping after the current run",
                signal.Signals(signum).name,
            )
        self.stopping = True

    def _wait(self, seconds: float) -> None:
        deadline = _clock() + seconds
        while not self.stopping:
            left = deadline - _clock()
            if left <= 0:
                return
            _sleep(min(SLEEP_SLICE, left))

    def _run(self) -> bool:
        """One run of the due jobs, logged. False when a job (or the run) failed."""
        _release_connections()  # a connection the database dropped is not reused
        now = timezone.now()
        started = _clock()
        try:
            results = jobs.run_due(now)
        except Exception:  # the database is away: log it, try again at the next run
            logger.exception("scheduler run at %s failed", timezone.localtime(now).isoformat())
            return False
        finally:
            _release_connections()
        logger.info(
            "scheduler run at %s: %s (%.2f s)",
            timezone.localtime(now).isoformat(timespec="seconds"),
            describe(results),
            _clock() - started,
        )
        return all(done >= 0 for done in results.values())
