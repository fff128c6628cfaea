"""The observation demo: key persons under observation with their history, consistent with
what the services record, and something to see for every demo login."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from fangkong.alerts.models import Alert, AlertKind
from fangkong.alerts.selectors import alerts_for
from fangkong.core.models import JobRun
from fangkong.core.regions import load_regions
from fangkong.observation import selectors
from fangkong.observation.demo import NEEDS, seed_observation_demo
from fangkong.observation.models import (
    CareVisit,
    EpisodeResponsible,
    FollowUpVisit,
    Need,
    ObservationEpisode,
    Source,
    TemperatureReading,
)
from fangkong.observation.reference import ensure
from fangkong.org.models import Person, TimelineEvent, User
from fangkong.screening.models import Region

NOW = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC)  # 17:00 in Shanghai
Status = ObservationEpisode.Status


@pytest.fixture
def reference(db: None) -> None:
    """The data the migrations load (loaded again if a flushing test removed it)."""
    if not Region.objects.filter(pk="620723").exists():
        load_regions(Region)
    ensure()


@pytest.fixture
def seeded(reference: None) -> str:
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", persons=1500, stdout=out)
    return out.getvalue()


def test_seed_demo_puts_key_persons_and_the_grid_workers_people_under_observation(
    seeded: str,
) -> None:
    episodes = ObservationEpisode.objects.select_related("person__grid")
    assert episodes.count() >= 3
    assert "Observation: " in seeded
    # Key persons by their screening, and returning residents of the grid worker's grid.
    from_screening = episodes.exclude(screening=None)
    assert from_screening.exists()
    for episode in from_screening.select_related("screening"):
        screening = episode.screening
        assert screening is not None and screening.is_key
        assert screening.person_id == episode.person_id
    assert (
        episodes.filter(
            reason=ObservationEpisode.Reason.RETURNEE, person__grid__code="LZ-01-01"
        ).count()
        == 2
    )
    # One released, one referred, the others running; the register follows.
    assert episodes.filter(status=Status.RELEASED).count() == 1
    assert episodes.filter(status=Status.REFERRED).count() == 1
    for episode in episodes:
        expected = {
            Status.ACTIVE.value: Person.Status.UNDER_OBSERVATION,
            Status.REFERRED.value: Person.Status.REFERRED,
            Status.RELEASED.value: Person.Status.NORMAL,
        }[episode.status]
        assert episode.person.status == expected
        assert set(episode.responsible.values_list("role", flat=True)) == {
            EpisodeResponsible.Role.CADRE,
            EpisodeResponsible.Role.GRID_WORKER,
            EpisodeResponsible.Role.DOCTOR,
        }
    referred = episodes.get(status=Status.REFERRED)
    assert referred.readings.order_by("taken_at").last().is_fever  # type: ignore[union-attr]


def test_the_demo_episodes_have_readings_visits_needs_and_care_visits(seeded: str) -> None:
    readings = TemperatureReading.objects.all()
    assert readings.count() > 20
    assert readings.filter(is_fever=True).exists()
    assert readings.filter(source=Source.SELF).exists()
    assert readings.filter(source=Source.STAFF, taken_by__username="grid_worker").exists()
    now = NOW
    for reading in readings.select_related("episode"):
        episode = reading.episode
        assert episode.created_at < reading.taken_at < now
        assert episode.start_date <= reading.day <= episode.planned_end
        assert reading.slot in ("morning", "afternoon")
    assert FollowUpVisit.objects.count() > 10
    assert TimelineEvent.objects.filter(kind="temperature").count() == readings.count()
    # The needs: the oldest resolved, the next taken on, the newest open.
    statuses = list(Need.objects.order_by("raised_at", "pk").values_list("status", flat=True))
    assert len(statuses) == min(len(NEEDS), ObservationEpisode.objects.count())
    assert statuses[:4] == ["resolved", "resolved", "in_progress", "in_progress"]
    assert set(statuses[4:]) <= {"open"}
    visits = CareVisit.objects.prefetch_related("items")
    assert visits.count() == 2
    assert all(visit.items.count() == 3 for visit in visits)


def test_the_scheduled_jobs_ran_once_so_the_demo_has_alerts_to_handle(seeded: str) -> None:
    kinds = set(Alert.objects.values_list("kind", flat=True))
    assert {AlertKind.FEVER, AlertKind.MISSED_CHECK, AlertKind.MISSED_VISIT} <= kinds
    # Fevers before yesterday were rechecked and resolved; the rest is waiting.
    assert Alert.objects.filter(status=Alert.Status.OPEN).exists()
    old = Alert.objects.filter(kind=AlertKind.FEVER, raised_at__lt=NOW - dt.timedelta(days=1))
    assert all(alert.status == Alert.Status.RESOLVED for alert in old)
    assert JobRun.objects.filter(name="observation.missed_checks", covered_until=NOW).exists()
    # The grid worker forgot yesterday in their grid: missed checks and a missed visit.
    worker = User.objects.get(username="grid_worker")
    theirs = set(alerts_for(worker).values_list("kind", flat=True))
    assert {AlertKind.MISSED_CHECK, AlertKind.MISSED_VISIT} <= theirs


def test_the_demo_logins_see_running_episodes(seeded: str) -> None:
    active = selectors.EpisodeFilters(status=Status.ACTIVE)
    worker = User.objects.get(username="grid_worker")
    theirs = selectors.episodes_for(worker, active)
    assert theirs.count() >= 1
    assert {e.person.grid.code for e in theirs} == {"LZ-01-01"}
    head = User.objects.get(username="unit_head")
    assert selectors.episodes_for(head, active).count() >= theirs.count()
    office = User.objects.get(username="office")
    assert selectors.episodes_for(office).count() == ObservationEpisode.objects.count()
    with time_machine.travel(NOW, tick=False):
        counts = selectors.observation_counts(office)
    due = ObservationEpisode.objects.filter(status=Status.ACTIVE, planned_end__lte=NOW.date())
    assert counts.due_today == due.count()


def test_the_observation_demo_is_added_once(seeded: str) -> None:
    episodes = ObservationEpisode.objects.count()
    with time_machine.travel(NOW, tick=False):
        summary = seed_observation_demo()
    assert summary.episodes == 0
    assert ObservationEpisode.objects.count() == episodes


def test_the_observation_demo_needs_the_demo_branch(reference: None) -> None:
    summary = seed_observation_demo()
    assert (summary.episodes, ObservationEpisode.objects.count()) == (0, 0)
