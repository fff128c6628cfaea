"""The scheduled jobs of observation, on the clock: check windows at their boundaries in
Asia/Shanghai, missed checks found once however often, late or concurrently the scheduler
runs, missed follow-up visits, and needs nobody answered.

One episode: 张建国 (person11, grid LZ-01-01), recorded on 2020-02-03 at 08:00 (inside that
morning's window, so that window is not expected of him), 14 days, last day 2020-02-15.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from fangkong.alerts.models import Alert, AlertKind
from fangkong.core import jobs
from fangkong.core.models import JobRun
from fangkong.core.testing import World
from fangkong.observation import rules, services
from fangkong.observation.models import Need, ObservationEpisode, ObservationRules, Slot
from fangkong.observation.services import EpisodeStart

SHANGHAI = ZoneInfo("Asia/Shanghai")
MISSED_CHECKS = "observation.missed_checks"
MISSED_VISITS = "observation.missed_visits"
UNANSWERED_NEEDS = "observation.unanswered_needs"
ALL_JOBS = ["alerts.escalate", MISSED_CHECKS, MISSED_VISITS, UNANSWERED_NEEDS]


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


RECORDED = at(2020, 2, 3, 8, 0)


@pytest.fixture(autouse=True)
def clock() -> Iterator[Any]:
    """The frozen clock, at the moment the episode is recorded; tests move it on."""
    with time_machine.travel(RECORDED, tick=False) as traveller:
        yield traveller


@pytest.fixture
def episode(world: World) -> ObservationEpisode:
    return services.start_episode(
        actor=None,
        entry=EpisodeStart(
            person=world.person11,
            reason=ObservationEpisode.Reason.CONTACT,
            counts_from=dt.date(2020, 2, 1),
            counts_from_kind=ObservationEpisode.CountsFrom.LAST_CONTACT,
        ),
        at=RECORDED,
    )


def reading(clock: Any, episode: ObservationEpisode, taken_at: dt.datetime) -> None:
    """A normal temperature taken at ``taken_at`` (recorded just then)."""
    clock.move_to(taken_at)
    services.record_reading(actor=None, episode=episode, value="36.5", taken_at=taken_at)


def run(clock: Any, now: dt.datetime, name: str) -> int:
    """What the scheduler's run of the job ``name`` at ``now`` did."""
    clock.move_to(now)
    return jobs.run_due(now, names=[name])[name]


def keys(kind: str) -> list[str]:
    return sorted(Alert.objects.filter(kind=kind).values_list("key", flat=True))


def check_key(episode: ObservationEpisode, day: str, slot: str) -> str:
    return f"missed_check:{episode.pk}:{day}:{slot}"


# ---------------------------------------------------------------------------------------------
# Check windows in Asia/Shanghai


@pytest.mark.parametrize(
    ("local_time", "expected"),
    [
        (dt.time(5, 59, 59), Slot.OTHER),
        (dt.time(6, 0, 0), Slot.MORNING),
        (dt.time(9, 59, 59), Slot.MORNING),
        (dt.time(10, 0, 0), Slot.OTHER),
        (dt.time(13, 59, 59), Slot.OTHER),
        (dt.time(14, 0, 0), Slot.AFTERNOON),
        (dt.time(17, 59, 59), Slot.AFTERNOON),
        (dt.time(18, 0, 0), Slot.OTHER),
    ],
)
def test_a_check_window_includes_its_start_and_excludes_its_end(
    local_time: dt.time, expected: str
) -> None:
    when = dt.datetime.combine(dt.date(2020, 2, 4), local_time, tzinfo=SHANGHAI)

    assert rules.slot_of(when, ObservationRules()) == (dt.date(2020, 2, 4), expected)


def test_a_window_is_read_in_shanghai_time_whatever_the_zone_of_the_moment() -> None:
    # 22:00 UTC on 3 February is 06:00 on 4 February in Shanghai; 02:00 UTC is 10:00.
    morning = dt.datetime(2020, 2, 3, 22, 0, tzinfo=dt.UTC)
    closed = dt.datetime(2020, 2, 4, 2, 0, tzinfo=dt.UTC)

    assert rules.slot_of(morning, ObservationRules()) == (dt.date(2020, 2, 4), Slot.MORNING)
    assert rules.slot_of(closed, ObservationRules()) == (dt.date(2020, 2, 4), Slot.OTHER)


def test_the_windows_closed_in_a_span_include_its_end_and_exclude_its_start() -> None:
    closed = rules.closed_windows(at(2020, 2, 4, 10, 0), at(2020, 2, 5, 10, 0), ObservationRules())

    assert closed == [
        (dt.date(2020, 2, 4), Slot.AFTERNOON, at(2020, 2, 4, 18, 0)),
        (dt.date(2020, 2, 5), Slot.MORNING, at(2020, 2, 5, 10, 0)),
    ]


# ---------------------------------------------------------------------------------------------
# Missed checks


def test_a_window_raises_its_missed_check_when_it_closes_not_a_second_before(
    clock: Any, episode: ObservationEpisode
) -> None:
    run(clock, RECORDED, MISSED_CHECKS)
    reading(clock, episode, at(2020, 2, 3, 15, 0))  # the first afternoon's check

    before = run(clock, at(2020, 2, 4, 9, 59, 59), MISSED_CHECKS)
    closing = run(clock, at(2020, 2, 4, 10, 0, 0), MISSED_CHECKS)

    assert (before, closing) == (0, 1)
    alert = Alert.objects.get()
    assert alert.key == check_key(episode, "2020-02-04", Slot.MORNING)
    assert alert.kind == AlertKind.MISSED_CHECK
    assert alert.raised_at == at(2020, 2, 4, 10, 0)
    assert alert.unit == episode.person.grid
    assert alert.person == episode.person
    assert alert.url == f"/observation/{episode.pk}/"
    assert alert.summary == "张建国: no Morning temperature on 2020-02-04"


def test_the_window_open_when_the_episode_was_recorded_is_not_expected(
    clock: Any, episode: ObservationEpisode
) -> None:
    """Recorded at 08:00 on 3 February: that morning's check (06:00–10:00) is not missed; the
    afternoon's is."""
    assert run(clock, at(2020, 2, 3, 10, 0), MISSED_CHECKS) == 0
    assert run(clock, at(2020, 2, 3, 18, 0), MISSED_CHECKS) == 1

    assert keys(AlertKind.MISSED_CHECK) == [check_key(episode, "2020-02-03", Slot.AFTERNOON)]


def test_a_reading_in_the_window_means_no_missed_check_and_one_after_it_does_not_count(
    clock: Any, episode: ObservationEpisode
) -> None:
    run(clock, RECORDED, MISSED_CHECKS)
    reading(clock, episode, at(2020, 2, 3, 17, 59, 59))  # in the afternoon window
    reading(clock, episode, at(2020, 2, 4, 10, 0, 0))  # the morning window has closed

    assert run(clock, at(2020, 2, 4, 10, 0), MISSED_CHECKS) == 1

    assert keys(AlertKind.MISSED_CHECK) == [check_key(episode, "2020-02-04", Slot.MORNING)]


def test_running_twice_at_the_same_time_raises_each_missed_check_once(
    clock: Any, episode: ObservationEpisode
) -> None:
    run(clock, RECORDED, MISSED_CHECKS)

    first = run(clock, at(2020, 2, 4, 18, 0), MISSED_CHECKS)
    second = run(clock, at(2020, 2, 4, 18, 0), MISSED_CHECKS)

    assert (first, second) == (3, 0)
    assert keys(AlertKind.MISSED_CHECK) == [
        check_key(episode, "2020-02-03", Slot.AFTERNOON),
        check_key(episode, "2020-02-04", Slot.AFTERNOON),
        check_key(episode, "2020-02-04", Slot.MORNING),
    ]


def test_a_late_run_after_two_days_down_raises_each_missing_window_once(
    clock: Any, episode: ObservationEpisode
) -> None:
    run(clock, RECORDED, MISSED_CHECKS)
    reading(clock, episode, at(2020, 2, 3, 15, 0))
    assert run(clock, at(2020, 2, 4, 10, 0), MISSED_CHECKS) == 1  # 4 February, morning
    reading(clock, episode, at(2020, 2, 5, 8, 0))  # taken while the scheduler was down

    late = run(clock, at(2020, 2, 6, 10, 0), MISSED_CHECKS)
    again = run(clock, at(2020, 2, 6, 10, 1), MISSED_CHECKS)

    assert (late, again) == (3, 0)
    assert keys(AlertKind.MISSED_CHECK) == [
        check_key(episode, "2020-02-04", Slot.AFTERNOON),
        check_key(episode, "2020-02-04", Slot.MORNING),
        check_key(episode, "2020-02-05", Slot.AFTERNOON),
        check_key(episode, "2020-02-06", Slot.MORNING),
    ]
    raised = dict(Alert.objects.values_list("key", "raised_at"))
    assert raised[check_key(episode, "2020-02-05", Slot.AFTERNOON)] == at(2020, 2, 5, 18, 0)
    assert JobRun.objects.get(pk=MISSED_CHECKS).covered_until == at(2020, 2, 6, 10, 1)


def test_two_schedulers_covering_the_same_span_raise_no_duplicate(
    clock: Any, episode: ObservationEpisode
) -> None:
    """Both read the same ``since`` from JobRun (they started together)."""
    now, since = at(2020, 2, 5, 10, 0), RECORDED
    clock.move_to(now)

    first = services.find_missed_checks(now=now, since=since)
    second = services.find_missed_checks(now=now, since=since)

    assert (first, second) == (4, 0)
    assert keys(AlertKind.MISSED_CHECK) == [
        check_key(episode, "2020-02-03", Slot.AFTERNOON),
        check_key(episode, "2020-02-04", Slot.AFTERNOON),
        check_key(episode, "2020-02-04", Slot.MORNING),
        check_key(episode, "2020-02-05", Slot.MORNING),
    ]


def test_a_scheduler_inserting_between_the_others_check_and_insert_adds_no_duplicate(
    clock: Any, episode: ObservationEpisode, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worst interleaving: the second scheduler finds no alert yet, the first inserts
    them all, then the second inserts: the unique key keeps one of each."""
    now = at(2020, 2, 5, 10, 0)
    clock.move_to(now)
    insert = Alert.objects.bulk_create
    interleaved: list[int] = []

    def other_scheduler_first(objs: Any, *args: Any, **kwargs: Any) -> Any:
        if not interleaved:
            interleaved.append(-1)  # the other scheduler's own insert goes straight through
            interleaved[0] = services.find_missed_checks(now=now, since=RECORDED)
        return insert(objs, *args, **kwargs)

    monkeypatch.setattr(Alert.objects, "bulk_create", other_scheduler_first)

    services.find_missed_checks(now=now, since=RECORDED)

    assert interleaved == [4]
    assert keys(AlertKind.MISSED_CHECK) == [
        check_key(episode, "2020-02-03", Slot.AFTERNOON),
        check_key(episode, "2020-02-04", Slot.AFTERNOON),
        check_key(episode, "2020-02-04", Slot.MORNING),
        check_key(episode, "2020-02-05", Slot.MORNING),
    ]


def test_no_missed_check_after_the_episode_ended(
    clock: Any, episode: ObservationEpisode, world: World
) -> None:
    run(clock, RECORDED, MISSED_CHECKS)
    reading(clock, episode, at(2020, 2, 3, 15, 0))
    clock.move_to(at(2020, 2, 4, 9, 0))
    services.decide(
        actor=world.user("head1"),
        episode=episode,
        outcome=ObservationEpisode.Status.REFERRED,
        note="发热门诊",
    )

    assert run(clock, at(2020, 2, 5, 10, 0), MISSED_CHECKS) == 0


# ---------------------------------------------------------------------------------------------
# Missed visits


def visit(clock: Any, episode: ObservationEpisode, when: dt.datetime) -> None:
    clock.move_to(when)
    services.record_visit(actor=None, episode=episode, mode="phone", visited_at=when)


def test_a_day_without_a_visit_raises_a_missed_visit_when_it_ends(
    clock: Any, episode: ObservationEpisode
) -> None:
    """Not for the day the episode was recorded, none for a day with a visit."""
    run(clock, RECORDED, MISSED_VISITS)
    visit(clock, episode, at(2020, 2, 4, 9, 0))

    assert run(clock, at(2020, 2, 5, 23, 59, 59), MISSED_VISITS) == 0
    assert run(clock, at(2020, 2, 6, 0, 0, 0), MISSED_VISITS) == 1
    assert run(clock, at(2020, 2, 6, 0, 0, 0), MISSED_VISITS) == 0

    alert = Alert.objects.get()
    assert (alert.key, alert.kind) == (f"missed_visit:{episode.pk}:2020-02-05", "missed_visit")
    assert alert.raised_at == at(2020, 2, 6, 0, 0)
    assert alert.summary == "张建国: no follow-up visit on 2020-02-05"


def test_a_late_run_raises_each_day_without_a_visit_once(
    clock: Any, episode: ObservationEpisode
) -> None:
    run(clock, RECORDED, MISSED_VISITS)
    visit(clock, episode, at(2020, 2, 5, 20, 0))

    late = run(clock, at(2020, 2, 7, 12, 0), MISSED_VISITS)
    again = run(clock, at(2020, 2, 7, 12, 0), MISSED_VISITS)

    assert (late, again) == (2, 0)
    assert keys(AlertKind.MISSED_VISIT) == [
        f"missed_visit:{episode.pk}:2020-02-04",
        f"missed_visit:{episode.pk}:2020-02-06",
    ]


# ---------------------------------------------------------------------------------------------
# Unanswered needs


def need(clock: Any, episode: ObservationEpisode, when: dt.datetime) -> Need:
    clock.move_to(when)
    return services.raise_need(
        actor=None, episode=episode, kind=Need.Kind.MEDICINE, description="降压药"
    )


def test_a_need_open_for_24_hours_raises_one_alert_at_exactly_24_hours(
    clock: Any, episode: ObservationEpisode
) -> None:
    raised = need(clock, episode, at(2020, 2, 3, 9, 30))

    early = run(clock, at(2020, 2, 4, 9, 29, 59), UNANSWERED_NEEDS)
    due = run(clock, at(2020, 2, 4, 9, 30, 0), UNANSWERED_NEEDS)
    again = run(clock, at(2020, 2, 4, 12, 0, 0), UNANSWERED_NEEDS)

    assert (early, due, again) == (0, 1, 0)
    alert = Alert.objects.get()
    assert (alert.key, alert.kind) == (f"need:{raised.pk}", AlertKind.UNANSWERED_NEED)
    assert alert.raised_at == at(2020, 2, 4, 9, 30)
    assert alert.summary == "张建国: Medicine not answered — 降压药"


def test_a_need_someone_has_taken_on_raises_nothing(
    clock: Any, episode: ObservationEpisode, world: World
) -> None:
    raised = need(clock, episode, at(2020, 2, 3, 9, 30))
    services.update_need(actor=world.user("worker11"), need=raised, status=Need.Status.IN_PROGRESS)

    assert run(clock, at(2020, 2, 5, 9, 30), UNANSWERED_NEEDS) == 0
    assert Alert.objects.count() == 0


def test_resolving_a_need_resolves_its_unanswered_alert(
    clock: Any, episode: ObservationEpisode, world: World
) -> None:
    raised = need(clock, episode, at(2020, 2, 3, 9, 30))
    run(clock, at(2020, 2, 4, 10, 0), UNANSWERED_NEEDS)
    clock.move_to(at(2020, 2, 4, 11, 0))

    services.update_need(
        actor=world.user("worker11"),
        need=raised,
        status=Need.Status.RESOLVED,
        resolution="已送药上门",
    )

    alert = Alert.objects.get(key=f"need:{raised.pk}")
    assert alert.status == Alert.Status.RESOLVED
    assert alert.resolved_at == at(2020, 2, 4, 11, 0)
    assert alert.note == "Need resolved: 已送药上门"
    assert run(clock, at(2020, 2, 5, 10, 0), UNANSWERED_NEEDS) == 0


# ---------------------------------------------------------------------------------------------
# All the jobs together


def test_a_full_run_after_downtime_catches_up_every_job_once(
    clock: Any, episode: ObservationEpisode
) -> None:
    jobs.run_due(RECORDED, names=ALL_JOBS)
    need(clock, episode, at(2020, 2, 3, 9, 0))
    reading(clock, episode, at(2020, 2, 3, 15, 0))
    visit(clock, episode, at(2020, 2, 3, 15, 5))
    clock.move_to(at(2020, 2, 5, 7, 0))

    now = at(2020, 2, 5, 7, 0)
    runs = [jobs.run_due(now, names=ALL_JOBS) for _ in range(3)]

    # The first run finds 4 February's two checks and its visit, and the need unanswered
    # since 4 February 09:00; escalation runs after the other jobs, so the same run sends
    # the alerts it raised on (older than 240 minutes: to the office at once), and the next
    # runs have nothing left to do.
    assert runs == [
        {"alerts.escalate": 4, MISSED_CHECKS: 2, MISSED_VISITS: 1, UNANSWERED_NEEDS: 1},
        {"alerts.escalate": 0, MISSED_CHECKS: 0, MISSED_VISITS: 0, UNANSWERED_NEEDS: 0},
        {"alerts.escalate": 0, MISSED_CHECKS: 0, MISSED_VISITS: 0, UNANSWERED_NEEDS: 0},
    ]
    assert sorted(Alert.objects.values_list("kind", "level")) == [
        (AlertKind.MISSED_CHECK, 2),
        (AlertKind.MISSED_CHECK, 2),
        (AlertKind.MISSED_VISIT, 2),
        (AlertKind.UNANSWERED_NEED, 2),
    ]
