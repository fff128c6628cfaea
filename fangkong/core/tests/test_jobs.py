"""The scheduled jobs' runner and the scheduler process: a failing job does not stop the
others, each run covers from where the last completed one stopped, and ``run_scheduler``
logs what each job did, stops cleanly on SIGTERM or Ctrl-C and can run once."""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError

from fangkong.core import jobs
from fangkong.core.management.commands import run_scheduler
from fangkong.core.models import JobRun

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2020, 2, 4, 10, 0, tzinfo=SHANGHAI)


class Recorder:
    """A job that records the (now, since) it was called with and returns ``result``."""

    def __init__(self, result: int = 1) -> None:
        self.calls: list[tuple[dt.datetime, dt.datetime | None]] = []
        self.result = result

    def __call__(self, *, now: dt.datetime, since: dt.datetime | None) -> int:
        self.calls.append((now, since))
        return self.result


def failing(*, now: dt.datetime, since: dt.datetime | None) -> int:
    JobRun.objects.create(name="written by the failing job")  # rolled back with the job
    raise RuntimeError("the database said no")


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Only the jobs a test registers (the real registry is restored afterwards)."""
    jobs_: dict[str, Any] = {}
    monkeypatch.setattr(jobs, "_JOBS", jobs_)
    return jobs_


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


# ---------------------------------------------------------------------------------------------
# run_due


def test_a_failing_job_does_not_stop_the_others_and_its_error_is_recorded(
    db: None, registry: dict[str, Any]
) -> None:
    before, after = Recorder(2), Recorder(3)
    registry.update({"a.before": before, "b.failing": failing, "c.after": after})

    results = jobs.run_due(NOW)

    assert results == {"a.before": 2, "b.failing": -1, "c.after": 3}
    assert (len(before.calls), len(after.calls)) == (1, 1)
    broken = JobRun.objects.get(pk="b.failing")
    assert broken.last_error == "RuntimeError: the database said no"
    assert (broken.covered_until, broken.last_completed_at) == (None, None)
    assert broken.last_started_at == NOW
    assert not JobRun.objects.filter(name="written by the failing job").exists()


def test_a_failed_job_covers_the_same_span_again_at_the_next_run(
    db: None, registry: dict[str, Any], _frozen: Any
) -> None:
    job = Recorder()
    registry["a.job"] = job
    jobs.run_due(NOW)
    registry["a.job"] = failing
    jobs.run_due(NOW + dt.timedelta(minutes=1))
    registry["a.job"] = job

    jobs.run_due(NOW + dt.timedelta(minutes=2))

    assert job.calls == [(NOW, None), (NOW + dt.timedelta(minutes=2), NOW)]
    record = JobRun.objects.get(pk="a.job")
    assert (record.last_error, record.last_result) == ("", 1)
    assert record.covered_until == NOW + dt.timedelta(minutes=2)


def test_each_run_covers_from_where_the_last_completed_one_stopped(
    db: None, registry: dict[str, Any]
) -> None:
    job = Recorder()
    registry["a.job"] = job
    later = NOW + dt.timedelta(days=2)

    jobs.run_due(NOW)
    jobs.run_due(later)
    jobs.run_due(NOW)  # a clock set back: covers nothing twice

    assert job.calls == [(NOW, None), (later, NOW), (NOW, NOW)]


def test_run_due_runs_only_the_jobs_named(db: None, registry: dict[str, Any]) -> None:
    first, second = Recorder(), Recorder()
    registry.update({"a.first": first, "b.second": second})

    assert jobs.run_due(NOW, names=["b.second"]) == {"b.second": 1}
    assert (len(first.calls), len(second.calls)) == (0, 1)


def test_the_apps_register_their_jobs() -> None:
    assert {
        "alerts.escalate",
        "observation.missed_checks",
        "observation.missed_visits",
        "observation.unanswered_needs",
    } <= set(jobs.registered())


# ---------------------------------------------------------------------------------------------
# The scheduler process


def test_once_runs_the_jobs_a_single_time_and_logs_what_each_did(
    db: None, registry: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    registry.update({"a.first": Recorder(2), "b.second": Recorder(0)})

    with caplog.at_level(logging.INFO, logger="fangkong.scheduler"):
        call_command("run_scheduler", "--once")

    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        "scheduler started, every 60 s: a.first, b.second",
        "scheduler run at 2020-02-04T10:00:00+08:00: a.first 2, b.second 0",
        "scheduler stopped",
    ]


def test_once_with_a_failing_job_exits_with_an_error_after_running_the_others(
    db: None, registry: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    after = Recorder()
    registry.update({"a.failing": failing, "b.after": after})

    with caplog.at_level(logging.INFO), pytest.raises(CommandError) as excinfo:
        call_command("run_scheduler", "--once")

    assert str(excinfo.value) == "A scheduled job failed: see the log above."
    assert len(after.calls) == 1
    assert "a.failing FAILED, b.after 1" in caplog.text
    assert "RuntimeError: the database said no" in caplog.text


def test_the_interval_must_be_at_least_a_second(db: None) -> None:
    with pytest.raises(CommandError) as excinfo:
        call_command("run_scheduler", "--interval", "0")

    assert str(excinfo.value) == "--interval must be at least 1 second, e.g. --interval 60."


def _frozen_clock() -> float:
    """Seconds by the (frozen, moved) clock: the scheduler's waits follow the simulation."""
    from django.utils import timezone

    return timezone.now().timestamp()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_during_a_run_lets_the_run_finish_then_the_scheduler_exits(
    db: None,
    registry: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    _frozen: Any,
    signum: int,
) -> None:
    """Runs every 30 s (the sleep is simulated, moving the clock); the third run receives
    the signal halfway: it completes, and there is no fourth."""
    slept: list[float] = []
    finished: list[int] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        _frozen.shift(seconds)

    def job(*, now: dt.datetime, since: dt.datetime | None) -> int:
        if len(finished) == 2:
            os.kill(os.getpid(), signum)
        finished.append(len(finished) + 1)
        return 0

    monkeypatch.setattr(run_scheduler, "_sleep", sleep)
    monkeypatch.setattr(run_scheduler, "_clock", _frozen_clock)
    registry["a.job"] = job
    previous = signal.getsignal(signum)

    with caplog.at_level(logging.INFO, logger="fangkong.scheduler"):
        call_command("run_scheduler", "--interval", "30")

    assert finished == [1, 2, 3]
    assert sum(slept) == 60.0
    assert max(slept) <= run_scheduler.SLEEP_SLICE
    name = signal.Signals(signum).name
    messages = [r.getMessage().split(" (")[0] for r in caplog.records]
    assert messages == [
        "scheduler started, every 30 s: a.job",
        "scheduler run at 2020-02-04T10:00:00+08:00: a.job 0",
        "scheduler run at 2020-02-04T10:00:30+08:00: a.job 0",
        f"scheduler: {name} received, stopping after the current run",
        "scheduler run at 2020-02-04T10:01:00+08:00: a.job 0",
        "scheduler stopped",
    ]
    assert signal.getsignal(signum) == previous  # the handler is put back


def test_a_signal_while_waiting_stops_the_scheduler_at_once(
    db: None, registry: dict[str, Any], monkeypatch: pytest.MonkeyPatch, _frozen: Any
) -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 5:
            os.kill(os.getpid(), signal.SIGTERM)
        _frozen.shift(seconds)

    monkeypatch.setattr(run_scheduler, "_sleep", sleep)
    monkeypatch.setattr(run_scheduler, "_clock", _frozen_clock)
    job = Recorder()
    registry["a.job"] = job

    call_command("run_scheduler")

    assert len(job.calls) == 1
    assert slept == [1.0] * 5


def test_two_schedulers_at_once_share_the_covered_span(db: None, registry: dict[str, Any]) -> None:
    """Both read the same ``since`` and the jobs are idempotent; JobRun ends up covering the
    later of the two runs."""
    job = Recorder()
    registry["a.job"] = job
    jobs.run_due(NOW)
    record = JobRun.objects.get(pk="a.job")
    later = NOW + dt.timedelta(minutes=1)

    jobs.run_due(later)
    JobRun.objects.filter(pk="a.job").update(covered_until=record.covered_until)  # the race
    jobs.run_due(later)

    assert job.calls == [(NOW, None), (later, NOW), (later, NOW)]
    assert JobRun.objects.get(pk="a.job").covered_until == later
