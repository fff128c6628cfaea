"""The observation services: period arithmetic, starting and deciding episodes, the person's
status, readings at the threshold and at the window boundaries, idempotent retries, and the
self-report link's rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError

from fangkong.alerts.models import Alert, AlertKind
from fangkong.core.testing import World
from fangkong.observation import rules, services
from fangkong.observation.models import (
    Need,
    ObservationEpisode,
    ObservationRules,
    PeriodPreset,
    Slot,
    TemperatureReading,
)
from fangkong.observation.services import EpisodeStart, ReadingItem
from fangkong.org.models import Person, TimelineEvent

SHANGHAI = ZoneInfo("Asia/Shanghai")
Status = ObservationEpisode.Status
Reason = ObservationEpisode.Reason
CountsFrom = ObservationEpisode.CountsFrom


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def preset(name: str) -> PeriodPreset:
    return PeriodPreset.objects.get(name=name)


def start(world: World, person: Person, when: dt.datetime, **changes: object) -> ObservationEpisode:
    values: dict[str, object] = {
        "person": person,
        "reason": Reason.CONTACT,
        "counts_from": when.date() - dt.timedelta(days=1),
        "counts_from_kind": CountsFrom.LAST_CONTACT,
    }
    values.update(changes)
    return services.start_episode(actor=None, entry=EpisodeStart(**values), at=when)  # type: ignore[arg-type]


def errors_of(excinfo: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return excinfo.value.message_dict


# ---------------------------------------------------------------------------------------------
# Period arithmetic


@pytest.mark.parametrize(
    ("counts_from", "isolation", "monitoring", "isolation_end", "planned_end"),
    [
        # 14 days (2020): day 14 after the last contact is the last day.
        (dt.date(2020, 2, 1), 14, 0, dt.date(2020, 2, 15), dt.date(2020, 2, 15)),
        # across a month end in a leap year, and a year end
        (dt.date(2020, 2, 20), 14, 0, dt.date(2020, 3, 5), dt.date(2020, 3, 5)),
        (dt.date(2020, 12, 25), 14, 0, dt.date(2021, 1, 8), dt.date(2021, 1, 8)),
        # 7+3: seven days of isolation, then three of health monitoring
        (dt.date(2022, 1, 28), 7, 3, dt.date(2022, 2, 4), dt.date(2022, 2, 7)),
        (dt.date(2022, 6, 27), 7, 3, dt.date(2022, 7, 4), dt.date(2022, 7, 7)),
        # 5+3 over February in a leap year and in a common year
        (dt.date(2020, 2, 25), 5, 3, dt.date(2020, 3, 1), dt.date(2020, 3, 4)),
        (dt.date(2021, 2, 25), 5, 3, dt.date(2021, 3, 2), dt.date(2021, 3, 5)),
    ],
)
def test_the_period_ends_the_given_number_of_days_after_the_day_counted_from(
    counts_from: dt.date,
    isolation: int,
    monitoring: int,
    isolation_end: dt.date,
    planned_end: dt.date,
) -> None:
    period = rules.plan_period(counts_from, isolation, monitoring)
    assert (period.isolation_end, period.planned_end) == (isolation_end, planned_end)


@pytest.mark.parametrize(
    ("name", "isolation_end", "planned_end"),
    [
        ("14天（2020）", dt.date(2022, 2, 11), dt.date(2022, 2, 11)),
        ("7+3", dt.date(2022, 2, 4), dt.date(2022, 2, 7)),
        ("5+3", dt.date(2022, 2, 2), dt.date(2022, 2, 5)),
    ],
)
def test_an_episode_takes_its_period_from_the_chosen_preset(
    world: World, name: str, isolation_end: dt.date, planned_end: dt.date
) -> None:
    episode = start(
        world,
        world.person12,
        at(2022, 1, 29, 9),
        counts_from=dt.date(2022, 1, 28),
        preset=preset(name),
    )
    assert (episode.isolation_end, episode.planned_end) == (isolation_end, planned_end)
    assert episode.preset.name == name


def test_without_a_choice_the_preset_in_force_is_used_and_the_office_can_change_it(
    world: World,
) -> None:
    first = start(world, world.person12, at(2022, 1, 29, 9), counts_from=dt.date(2022, 1, 28))
    assert first.preset.name == "14天（2020）"
    assert first.planned_end == dt.date(2022, 2, 11)
    seven = preset("7+3")
    services.save_preset(
        actor=world.user("office"),
        preset=seven,
        name="7+3",
        isolation_days=7,
        monitoring_days=3,
        is_default=True,
    )
    second = start(world, world.person21, at(2022, 1, 29, 9), counts_from=dt.date(2022, 1, 28))
    assert second.preset.name == "7+3"
    assert second.planned_end == dt.date(2022, 2, 7)
    first.refresh_from_db()
    assert first.planned_end == dt.date(2022, 2, 11)  # a running episode keeps its days
    assert list(PeriodPreset.objects.filter(is_default=True).values_list("name", flat=True)) == [
        "7+3"
    ]


def test_a_grid_worker_cannot_change_the_presets(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.save_preset(
            actor=world.user("worker11"), name="3+3", isolation_days=3, monitoring_days=3
        )
    assert not PeriodPreset.objects.filter(name="3+3").exists()


def test_extending_across_a_month_end_needs_a_reason_and_is_on_the_timeline(world: World) -> None:
    episode = start(world, world.person12, at(2020, 2, 16, 9), counts_from=dt.date(2020, 2, 15))
    assert episode.planned_end == dt.date(2020, 2, 29)
    with pytest.raises(ValidationError) as excinfo:
        services.change_period(
            actor=world.user("head1"), episode=episode, planned_end=dt.date(2020, 3, 7), reason=" "
        )
    assert errors_of(excinfo) == {
        "reason": ["Say why the period changes, e.g. 'contact with a new case on 02-10'."]
    }
    changed = services.change_period(
        actor=world.user("head1"),
        episode=episode,
        planned_end=dt.date(2020, 3, 7),
        reason="家属确诊，重新计算",
    )
    assert (changed.planned_end, changed.isolation_end) == (
        dt.date(2020, 3, 7),
        dt.date(2020, 3, 7),
    )
    event = TimelineEvent.objects.filter(person=world.person12, kind="observation_period").get()
    assert event.summary == (
        "Observation extended: last day 2020-02-29 → 2020-03-07 (家属确诊，重新计算)"
    )
    assert changed.history.first().history_change_reason == "家属确诊，重新计算"


def test_shortening_keeps_the_last_day_on_or_after_the_start(world: World) -> None:
    episode = start(world, world.person12, at(2020, 2, 16, 9), counts_from=dt.date(2020, 2, 15))
    head = world.user("head1")
    with pytest.raises(ValidationError) as excinfo:
        services.change_period(
            actor=head, episode=episode, planned_end=dt.date(2020, 2, 15), reason="x"
        )
    assert errors_of(excinfo) == {
        "planned_end": ["The last day cannot be before the start (2020-02-16)."]
    }
    with pytest.raises(ValidationError) as excinfo:
        services.change_period(
            actor=head, episode=episode, planned_end=dt.date(2020, 2, 29), reason="x"
        )
    assert errors_of(excinfo) == {
        "planned_end": ["That is already the last day: enter another one."]
    }
    shortened = services.change_period(
        actor=head, episode=episode, planned_end=dt.date(2020, 2, 22), reason="核酸阴性，按新方案"
    )
    assert shortened.planned_end == dt.date(2020, 2, 22)


def test_a_seven_plus_three_extension_keeps_the_isolation_end(world: World) -> None:
    episode = start(
        world,
        world.person12,
        at(2022, 1, 29, 9),
        counts_from=dt.date(2022, 1, 28),
        preset=preset("7+3"),
    )
    services.change_period(
        actor=world.user("office"),
        episode=episode,
        planned_end=dt.date(2022, 2, 10),
        reason="延长监测",
    )
    episode.refresh_from_db()
    assert (episode.isolation_end, episode.planned_end) == (
        dt.date(2022, 2, 4),
        dt.date(2022, 2, 10),
    )


def test_a_grid_worker_may_not_change_the_period(world: World) -> None:
    episode = start(world, world.person11, at(2020, 2, 16, 9), counts_from=dt.date(2020, 2, 15))
    with pytest.raises(PermissionDenied):
        services.change_period(
            actor=world.user("worker11"),
            episode=episode,
            planned_end=dt.date(2020, 3, 7),
            reason="x",
        )
    episode.refresh_from_db()
    assert episode.planned_end == dt.date(2020, 2, 29)


# ---------------------------------------------------------------------------------------------
# Starting


def test_starting_sets_the_status_writes_the_timeline_and_issues_a_link(world: World) -> None:
    episode = start(world, world.person12, at(2020, 2, 3, 8), counts_from=dt.date(2020, 2, 1))
    world.person12.refresh_from_db()
    assert world.person12.status == Person.Status.UNDER_OBSERVATION
    assert episode.status == Status.ACTIVE
    assert episode.place == world.household12.address
    assert episode.links.filter(revoked_at__isnull=True).count() == 1
    event = TimelineEvent.objects.filter(person=world.person12, kind="observation_started").get()
    assert event.summary == (
        "Observation started: Home isolation medical observation (Close contact), "
        "2020-02-03 to 2020-02-15"
    )


def test_a_person_already_under_observation_cannot_start_again(world: World) -> None:
    start(world, world.person12, at(2020, 2, 3, 8))
    with pytest.raises(ValidationError) as excinfo:
        start(world, world.person12, at(2020, 2, 4, 8))
    assert errors_of(excinfo) == {
        "person": ["李秀英 is already under observation: open the running episode."]
    }
    assert ObservationEpisode.objects.filter(person=world.person12).count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        (
            {"counts_from": dt.date(2020, 2, 5)},
            "counts_from",
            "The day counted from (2020-02-05) is after the start of observation: enter the day "
            "of the last contact or arrival, on or before 2020-02-03.",
        ),
        (
            {"counts_from": dt.date(2020, 1, 1)},
            "counts_from",
            "Counted from 2020-01-01, the 14 days of the preset ended on 2020-01-15, before "
            "observation starts: check the day counted from.",
        ),
        ({"reason": "bored"}, "reason", "Choose the reason from the list."),
        (
            {"start_date": dt.date(2020, 2, 11), "counts_from": dt.date(2020, 2, 10)},
            "start_date",
            "Observation can be planned at most 7 days ahead: enter an earlier day.",
        ),
    ],
)
def test_a_start_with_bad_dates_or_choices_is_refused_naming_the_field(
    world: World, changes: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        start(world, world.person12, at(2020, 2, 3, 8), **changes)
    assert errors_of(excinfo)[field] == [message]
    assert not ObservationEpisode.objects.exists()


def test_a_bulk_start_is_all_or_nothing_and_names_the_person_in_the_way(world: World) -> None:
    start(world, world.person21, at(2020, 2, 3, 8))
    entries = [
        EpisodeStart(
            person=p,
            reason=Reason.ARRIVAL,
            counts_from=dt.date(2020, 2, 2),
            counts_from_kind=CountsFrom.ARRIVAL,
        )
        for p in (world.person11, world.person12, world.person21)
    ]
    with pytest.raises(ValidationError) as excinfo:
        services.start_episodes(actor=world.user("office"), entries=entries, at=at(2020, 2, 3, 9))
    assert errors_of(excinfo) == {
        "persons": ["王立新 is already under observation: open the running episode."]
    }
    assert ObservationEpisode.objects.count() == 1
    started = services.start_episodes(
        actor=world.user("office"), entries=entries[:2], at=at(2020, 2, 3, 9)
    )
    assert [e.person.name for e in started] == ["张建国", "李秀英"]
    assert set(
        Person.objects.filter(status=Person.Status.UNDER_OBSERVATION).values_list("name", flat=True)
    ) == {"张建国", "李秀英", "王立新"}


def test_a_bulk_start_outside_the_scope_is_refused_whole(world: World) -> None:
    entries = [
        EpisodeStart(
            person=p,
            reason=Reason.ARRIVAL,
            counts_from=dt.date(2020, 2, 2),
            counts_from_kind=CountsFrom.ARRIVAL,
        )
        for p in (world.person11, world.person21)
    ]
    with pytest.raises(PermissionDenied):
        services.start_episodes(actor=world.user("head1"), entries=entries, at=at(2020, 2, 3, 9))
    assert not ObservationEpisode.objects.exists()


def test_a_screening_gives_the_reason_and_the_day_counted_from(world: World) -> None:
    screening = world.person11.screenings.get()
    screening.category = "close_contact"
    screening.contact_date = dt.date(2020, 1, 30)
    assert services.start_from_screening(screening) == {
        "reason": Reason.CONTACT,
        "counts_from": dt.date(2020, 1, 30),
        "counts_from_kind": CountsFrom.LAST_CONTACT,
    }
    screening.category = "risk_area_arrival"
    screening.arrived_at = at(2020, 1, 31, 23, 30)
    assert services.start_from_screening(screening)["counts_from"] == dt.date(2020, 1, 31)


# ---------------------------------------------------------------------------------------------
# Decisions and the person's status


def test_releasing_before_the_planned_end_needs_a_reason(world: World) -> None:
    episode = start(world, world.person12, at(2020, 2, 3, 8))
    with time_machine.travel(at(2020, 2, 10, 9), tick=False):
        with pytest.raises(ValidationError) as excinfo:
            services.decide(actor=world.user("head1"), episode=episode, outcome=Status.RELEASED)
        assert errors_of(excinfo) == {
            "note": ["Releasing before the planned end (2020-02-16) needs a reason."]
        }
        episode.refresh_from_db()
        assert episode.status == Status.ACTIVE


def test_a_release_on_the_last_day_ends_the_episode_stops_the_link_and_restores_the_status(
    world: World,
) -> None:
    episode = start(world, world.person12, at(2020, 2, 3, 8))
    link = episode.links.get()
    with time_machine.travel(at(2020, 2, 16, 17), tick=False):
        released = services.decide(
            actor=world.user("head1"), episode=episode, outcome=Status.RELEASED
        )
        assert (released.status, released.ended_on) == (Status.RELEASED, dt.date(2020, 2, 16))
        with pytest.raises(services.LinkRefused) as excinfo:
            services.usable_link(link.token)
        assert str(excinfo.value) == (
            "Your observation period has ended: there is nothing more to report here."
        )
    world.person12.refresh_from_db()
    assert world.person12.status == Person.Status.NORMAL
    link.refresh_from_db()
    assert link.revoked_at is not None


def test_referral_then_confirmation_then_release_moves_the_status_along(world: World) -> None:
    episode = start(world, world.person12, at(2020, 2, 3, 8))
    head = world.user("head1")
    with time_machine.travel(at(2020, 2, 6, 10), tick=False):
        with pytest.raises(ValidationError) as excinfo:
            services.decide(actor=head, episode=episode, outcome=Status.REFERRED)
        assert errors_of(excinfo) == {
            "note": ["Say what was decided and by whom, e.g. the doctor's finding."]
        }
        services.decide(
            actor=head, episode=episode, outcome=Status.REFERRED, note="发热38.5℃，转县医院发热门诊"
        )
        world.person12.refresh_from_db()
        assert world.person12.status == Person.Status.REFERRED
        services.decide(actor=head, episode=episode, outcome=Status.CONFIRMED, note="县疾控确诊")
        world.person12.refresh_from_db()
        assert world.person12.status == Person.Status.CONFIRMED
        with pytest.raises(ValidationError) as excinfo:
            services.decide(actor=head, episode=episode, outcome=Status.SUSPECTED, note="x")
        assert errors_of(excinfo) == {
            "outcome": ["A Confirmed case episode cannot become Suspected case."]
        }
    with time_machine.travel(at(2020, 3, 1, 10), tick=False):
        services.decide(actor=head, episode=episode, outcome=Status.RELEASED, note="治愈出院")
    episode.refresh_from_db()
    assert (episode.status, episode.ended_on) == (Status.RELEASED, dt.date(2020, 2, 6))
    world.person12.refresh_from_db()
    assert world.person12.status == Person.Status.NORMAL


def test_a_released_person_can_be_observed_again(world: World) -> None:
    first = start(world, world.person12, at(2020, 2, 3, 8))
    with time_machine.travel(at(2020, 2, 16, 17), tick=False):
        services.decide(actor=world.user("head1"), episode=first, outcome=Status.RELEASED)
    second = start(world, world.person12, at(2020, 3, 3, 8))
    world.person12.refresh_from_db()
    assert world.person12.status == Person.Status.UNDER_OBSERVATION
    assert second.pk != first.pk


def test_deciding_needs_the_decide_permission_in_scope(world: World) -> None:
    episode = start(world, world.person11, at(2020, 2, 3, 8))
    for persona in ("worker11", "head2", "leader"):
        with pytest.raises(PermissionDenied):
            services.decide(
                actor=world.user(persona), episode=episode, outcome=Status.RELEASED, note="x"
            )
    episode.refresh_from_db()
    assert episode.status == Status.ACTIVE


def test_a_status_found_at_the_door_stays_when_nothing_is_implied() -> None:
    assert (
        services.status_from_episodes([Status.RELEASED, Status.SUSPECTED])
        == Person.Status.SUSPECTED
    )
    assert services.status_from_episodes([Status.RELEASED]) is None
    assert services.status_from_episodes([]) is None


# ---------------------------------------------------------------------------------------------
# Readings


@pytest.fixture
def episode(world: World) -> ObservationEpisode:
    return start(world, world.person11, at(2020, 2, 3, 5), counts_from=dt.date(2020, 2, 1))


def test_a_reading_at_exactly_the_threshold_is_a_fever_and_raises_one_alert(
    world: World, episode: ObservationEpisode
) -> None:
    with time_machine.travel(at(2020, 2, 4, 8, 30), tick=False):
        result = services.record_reading(
            actor=world.user("worker11"), episode=episode, value="37.3"
        )
    assert result.created and result.reading.is_fever
    alert = Alert.objects.get()
    assert (alert.kind, alert.summary, alert.unit, alert.person) == (
        AlertKind.FEVER,
        "张建国: 37.3 °C",
        world.grid11,
        world.person11,
    )
    assert result.alert == alert


def test_a_reading_just_below_the_threshold_raises_nothing_and_symptoms_alone_do(
    world: World, episode: ObservationEpisode
) -> None:
    with time_machine.travel(at(2020, 2, 4, 8, 30), tick=False):
        below = services.record_reading(actor=None, episode=episode, value="37.2")
        assert not below.reading.is_fever and below.alert is None
        cough = services.record_reading(
            actor=None, episode=episode, value="36.8", symptoms=["cough", "fatigue"]
        )
    assert cough.alert is not None
    assert (cough.alert.kind, cough.alert.summary) == (
        AlertKind.SYMPTOMS,
        "张建国: Dry cough、Fatigue",
    )
    assert Alert.objects.count() == 1


def test_the_threshold_comes_from_the_rules(world: World, episode: ObservationEpisode) -> None:
    services.update_rules(actor=world.user("office"), fever_threshold=Decimal("37.5"))
    with time_machine.travel(at(2020, 2, 4, 8, 30), tick=False):
        assert not services.record_reading(
            actor=None, episode=episode, value="37.4"
        ).reading.is_fever
        assert services.record_reading(actor=None, episode=episode, value="37.5").reading.is_fever


def test_the_check_windows_come_from_the_rules(world: World, episode: ObservationEpisode) -> None:
    with time_machine.travel(at(2020, 2, 4, 9, 30), tick=False):
        assert services.record_reading(actor=None, episode=episode, value="36.5").reading.slot == (
            "morning"
        )
        services.update_rules(
            actor=world.user("office"), morning_start=dt.time(7, 0), morning_end=dt.time(9, 0)
        )
        assert services.record_reading(actor=None, episode=episode, value="36.5").reading.slot == ""


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "43.1",
            "43.1 °C is not a body temperature: enter a reading between 34.0 and 43.0 °C, e.g. 36.5.",
        ),
        (
            "33.9",
            "33.9 °C is not a body temperature: enter a reading between 34.0 and 43.0 °C, e.g. 36.5.",
        ),
        ("abc", "Enter the temperature as a number in °C, e.g. 36.5."),
        ("", "Enter the temperature in °C, e.g. 36.5."),
    ],
)
def test_an_implausible_temperature_is_refused_and_nothing_is_recorded(
    world: World, episode: ObservationEpisode, value: str, message: str
) -> None:
    with (
        time_machine.travel(at(2020, 2, 4, 8, 30), tick=False),
        pytest.raises(ValidationError) as excinfo,
    ):
        services.record_reading(actor=None, episode=episode, value=value)
    assert errors_of(excinfo) == {"value": [message]}
    assert not TemperatureReading.objects.exists()


@pytest.mark.parametrize(
    ("clock", "slot"),
    [
        ((5, 59, 59), Slot.OTHER),
        ((6, 0, 0), Slot.MORNING),
        ((9, 59, 59), Slot.MORNING),
        ((10, 0, 0), Slot.OTHER),
        ((13, 59, 59), Slot.OTHER),
        ((14, 0, 0), Slot.AFTERNOON),
        ((17, 59, 59), Slot.AFTERNOON),
        ((18, 0, 0), Slot.OTHER),
    ],
)
def test_a_reading_falls_in_a_check_window_by_shanghai_time(
    episode: ObservationEpisode, clock: tuple[int, int, int], slot: str
) -> None:
    taken = at(2020, 2, 4, *clock)
    with time_machine.travel(at(2020, 2, 4, 19), tick=False):
        reading = services.record_reading(
            actor=None, episode=episode, value="36.5", taken_at=taken
        ).reading
    assert (reading.day, reading.slot) == (dt.date(2020, 2, 4), slot)


def test_a_reading_taken_just_after_midnight_utc_counts_on_the_shanghai_day(
    episode: ObservationEpisode,
) -> None:
    taken = dt.datetime(2020, 2, 4, 0, 30, tzinfo=dt.UTC)  # 08:30 in Shanghai
    with time_machine.travel(at(2020, 2, 4, 19), tick=False):
        reading = services.record_reading(
            actor=None, episode=episode, value="36.5", taken_at=taken
        ).reading
    assert (reading.day, reading.slot) == (dt.date(2020, 2, 4), Slot.MORNING)


def test_a_reading_outside_the_period_or_in_the_future_is_refused(
    episode: ObservationEpisode,
) -> None:
    with time_machine.travel(at(2020, 2, 4, 9), tick=False):
        with pytest.raises(ValidationError) as excinfo:
            services.record_reading(
                actor=None, episode=episode, value="36.5", taken_at=at(2020, 2, 2, 9)
            )
        assert errors_of(excinfo) == {
            "taken_at": ["2020-02-02 is outside the observation period (2020-02-03 to 2020-02-15)."]
        }
        with pytest.raises(ValidationError) as excinfo:
            services.record_reading(
                actor=None, episode=episode, value="36.5", taken_at=at(2020, 2, 4, 10)
            )
        assert errors_of(excinfo) == {
            "taken_at": ["The time is in the future: check the date and time."]
        }


def test_the_same_idempotency_key_records_one_reading(
    world: World, episode: ObservationEpisode
) -> None:
    worker = world.user("worker11")
    with time_machine.travel(at(2020, 2, 4, 8, 30), tick=False):
        first = services.record_reading(
            actor=worker, episode=episode, value="38.0", idempotency_key="k-1"
        )
        again = services.record_reading(
            actor=worker, episode=episode, value="38.0", idempotency_key="k-1"
        )
    assert (first.created, again.created) == (True, False)
    assert again.reading.pk == first.reading.pk
    assert TemperatureReading.objects.count() == 1
    assert Alert.objects.count() == 1
    assert TimelineEvent.objects.filter(person=world.person11, kind="temperature").count() == 1


def test_a_retried_batch_records_once(world: World, episode: ObservationEpisode) -> None:
    other = start(world, world.person12, at(2020, 2, 3, 5), counts_from=dt.date(2020, 2, 1))
    items = [
        ReadingItem(episode=episode, value="36.4", taken_at=at(2020, 2, 4, 8)),
        ReadingItem(episode=other, value="37.9", taken_at=at(2020, 2, 4, 8, 5)),
        ReadingItem(episode=episode, value="36.6", taken_at=at(2020, 2, 4, 15)),
    ]
    worker = world.user("head1")
    with time_machine.travel(at(2020, 2, 4, 16), tick=False):
        first = services.record_readings(actor=worker, items=items, idempotency_key="batch-7")
        again = services.record_readings(actor=worker, items=items, idempotency_key="batch-7")
    assert [r.created for r in first] == [True, True, True]
    assert [r.created for r in again] == [False, False, False]
    assert [r.reading.pk for r in again] == [r.reading.pk for r in first]
    assert TemperatureReading.objects.count() == 3
    assert Alert.objects.filter(kind=AlertKind.FEVER).count() == 1
    assert [(r.reading.slot, str(r.reading.value)) for r in first] == [
        (Slot.MORNING, "36.4"),
        (Slot.MORNING, "37.9"),
        (Slot.AFTERNOON, "36.6"),
    ]


def test_a_batch_with_one_bad_item_records_nothing_and_names_the_item(
    world: World, episode: ObservationEpisode
) -> None:
    items = [
        ReadingItem(episode=episode, value="36.4", taken_at=at(2020, 2, 4, 8)),
        ReadingItem(episode=episode, value="3.65", taken_at=at(2020, 2, 4, 15)),
    ]
    with (
        time_machine.travel(at(2020, 2, 4, 16), tick=False),
        pytest.raises(ValidationError) as excinfo,
    ):
        services.record_readings(actor=None, items=items, idempotency_key="batch-8")
    assert errors_of(excinfo) == {
        "items.1.value": [
            "3.65 °C is not a body temperature: enter a reading between 34.0 and 43.0 °C, e.g. 36.5."
        ]
    }
    assert not TemperatureReading.objects.exists()


def test_nothing_is_recorded_for_an_ended_episode(
    world: World, episode: ObservationEpisode
) -> None:
    with time_machine.travel(at(2020, 2, 5, 9), tick=False):
        services.decide(
            actor=world.user("office"), episode=episode, outcome=Status.REFERRED, note="转诊"
        )
        with pytest.raises(ValidationError) as excinfo:
            services.record_reading(actor=None, episode=episode, value="36.5")
    assert excinfo.value.messages == [
        "张建国's observation has ended (Referred to hospital): nothing more can be recorded."
    ]


def test_a_grid_worker_records_only_in_their_grids(world: World) -> None:
    other = start(world, world.person12, at(2020, 2, 3, 5))
    with time_machine.travel(at(2020, 2, 4, 8, 30), tick=False), pytest.raises(PermissionDenied):
        services.record_reading(actor=world.user("worker11"), episode=other, value="36.5")
    assert not TemperatureReading.objects.exists()


# ---------------------------------------------------------------------------------------------
# Visits, needs, care


def test_a_visit_with_a_need_kind_tracks_the_need(
    world: World, episode: ObservationEpisode
) -> None:
    with time_machine.travel(at(2020, 2, 4, 11), tick=False):
        visit, created = services.record_visit(
            actor=world.user("worker11"),
            episode=episode,
            mode="phone",
            findings="体温正常",
            needs="降压药",
            need_kind=Need.Kind.MEDICINE,
            idempotency_key="v-1",
        )
        again, created_again = services.record_visit(
            actor=world.user("worker11"), episode=episode, mode="phone", idempotency_key="v-1"
        )
    assert (created, created_again, again.pk) == (True, False, visit.pk)
    assert (visit.day, visit.visitor_name) == (dt.date(2020, 2, 4), "worker11")
    need = Need.objects.get()
    assert (need.kind, need.description, need.status) == (
        Need.Kind.MEDICINE,
        "降压药",
        Need.Status.OPEN,
    )


def test_resolving_a_need_says_what_was_done(world: World, episode: ObservationEpisode) -> None:
    with time_machine.travel(at(2020, 2, 4, 11), tick=False):
        need = services.raise_need(
            actor=None, episode=episode, kind=Need.Kind.SUPPLIES, description="大米"
        )
        with pytest.raises(ValidationError) as excinfo:
            services.update_need(
                actor=world.user("worker11"), need=need, status=Need.Status.RESOLVED
            )
        assert errors_of(excinfo) == {
            "resolution": ["Say what was done, e.g. 'delivered 10 kg rice'."]
        }
        resolved = services.update_need(
            actor=world.user("worker11"),
            need=need,
            status=Need.Status.RESOLVED,
            resolution="送大米10kg",
        )
    assert (resolved.status, resolved.resolution, resolved.resolved_by) == (
        Need.Status.RESOLVED,
        "送大米10kg",
        world.user("worker11"),
    )


def test_care_visit_items_are_data_and_zero_lines_are_dropped(world: World) -> None:
    from fangkong.observation.models import CareItemKind

    kinds = {k.name: k.pk for k in CareItemKind.objects.all()}
    visit = services.record_care_visit(
        actor=world.user("head1"),
        household=world.household11,
        visited_on=dt.date(2020, 2, 6),
        visitors="张书记",
        items={
            kinds["大米"]: Decimal("10"),
            kinds["现金"]: Decimal("500"),
            kinds["面粉"]: Decimal("0"),
        },
        words="谢谢",
    )
    assert sorted((i.kind.name, i.quantity) for i in visit.items.all()) == [
        ("大米", Decimal("10.00")),
        ("现金", Decimal("500.00")),
    ]
    assert TimelineEvent.objects.filter(kind="care_visit").count() == 2  # both members


# ---------------------------------------------------------------------------------------------
# The self-report link


def test_the_link_works_during_the_episode_only(world: World) -> None:
    episode = start(
        world,
        world.person12,
        at(2020, 2, 3, 8),
        start_date=dt.date(2020, 2, 5),
        counts_from=dt.date(2020, 2, 2),
    )
    token = episode.links.get().token
    with (
        time_machine.travel(at(2020, 2, 4, 23, 59), tick=False),
        pytest.raises(services.LinkRefused) as excinfo,
    ):
        services.usable_link(token)
    assert str(excinfo.value) == "Your observation starts on 2020-02-05: report from that day."
    with time_machine.travel(at(2020, 2, 5, 0, 0), tick=False):
        assert services.usable_link(token).episode == episode
    with time_machine.travel(at(2020, 2, 16, 23, 59), tick=False):
        assert services.usable_link(token).episode == episode
    with (
        time_machine.travel(at(2020, 2, 17, 0, 0), tick=False),
        pytest.raises(services.LinkRefused) as excinfo,
    ):
        services.usable_link(token)
    assert (
        str(excinfo.value)
        == "Your observation period has ended: there is nothing more to report here."
    )


def test_a_reissued_link_replaces_the_old_one(world: World) -> None:
    episode = start(world, world.person12, at(2020, 2, 3, 8))
    old = episode.links.get().token
    with time_machine.travel(at(2020, 2, 4, 9), tick=False):
        new = services.reissue_link(actor=world.user("head1"), episode=episode).token
        assert services.usable_link(new).episode == episode
        with pytest.raises(services.LinkRefused) as excinfo:
            services.usable_link(old)
    assert str(excinfo.value) == (
        "This link has been replaced or stopped. Ask your grid worker for the new one."
    )


def test_a_self_report_fever_raises_an_alert_and_the_limit_stops_a_flood(world: World) -> None:
    episode = start(world, world.person12, at(2020, 2, 3, 8))
    token = episode.links.get().token
    with time_machine.travel(at(2020, 2, 4, 8, 0), tick=False):
        result = services.self_report(token=token, value="38.2", symptoms=["cough"])
    assert result.reading is not None and result.reading.source == "self"
    assert result.alert is not None
    assert result.alert.summary == "李秀英: 38.2 °C，Dry cough (self-reported)"
    for minute in range(1, 6):
        with time_machine.travel(at(2020, 2, 4, 8, minute), tick=False):
            services.self_report(token=token, value="36.5")
    with (
        time_machine.travel(at(2020, 2, 4, 8, 30), tick=False),
        pytest.raises(services.RateLimited),
    ):
        services.self_report(token=token, value="36.5")
    with time_machine.travel(at(2020, 2, 4, 9, 1), tick=False):
        services.self_report(token=token, need_kind=Need.Kind.MEDICINE, need_text="退烧药")
    assert TemperatureReading.objects.filter(episode=episode).count() == 6
    assert Need.objects.get().link is not None


def test_an_empty_self_report_is_refused(world: World) -> None:
    episode = start(world, world.person12, at(2020, 2, 3, 8))
    token = episode.links.get().token
    with (
        time_machine.travel(at(2020, 2, 4, 8), tick=False),
        pytest.raises(ValidationError) as excinfo,
    ):
        services.self_report(token=token)
    assert errors_of(excinfo) == {
        "value": ["Enter your temperature, or describe what help you need."]
    }


def test_rules_with_overlapping_windows_are_refused(world: World) -> None:
    with pytest.raises(ValidationError) as excinfo:
        services.update_rules(actor=world.user("office"), morning_end=dt.time(15, 0))
    assert errors_of(excinfo) == {
        "afternoon_start": ["The afternoon window must start after the morning one ends."]
    }
    assert not ObservationRules.objects.exists()
