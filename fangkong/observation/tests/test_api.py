"""The observation API: episodes and their decisions, readings (single and batch, with
idempotency keys), follow-up visits and needs.

The world (``fangkong.core.testing``, with observation): 张小明 (person11b, LZ-01-01) under
home isolation from 2020-02-03, counted from the contact of 2020-02-01 (last day 2020-02-15),
with a 36.6 °C reading, a visit and an open need on 2020-02-04; 王立新 (person21, LZ-02-01)
the same, counted from his arrival on 2020-02-02 (last day 2020-02-16), with a 38.1 °C fever
alert. Time is frozen at 2020-02-05 10:30 in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt
import json
import typing
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from fangkong.alerts.models import Alert
from fangkong.core.testing import World, build_world
from fangkong.observation import api as observation_api
from fangkong.observation import services
from fangkong.observation.models import (
    EpisodeResponsible,
    FollowUpVisit,
    Need,
    ObservationEpisode,
    SelfReportLink,
    TemperatureReading,
)
from fangkong.org import services as org_services
from fangkong.org.models import Person, TimelineEvent
from fangkong.screening.models import Screening

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

BASE = "/api/v1"
CST = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2020, 2, 5, 10, 30, tzinfo=CST)
MORNING = "2020-02-05T08:15:00+08:00"
RANGE_43_5 = (
    "43.5 °C is not a body temperature: enter a reading between 34.0 and 43.0 °C, e.g. 36.5."
)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False), translation.override("en"):
        yield


@pytest.fixture
def world(db: None) -> World:
    return build_world(observation=True)


class Api:
    def __init__(self, client: Client, token: str) -> None:
        self.client = client
        self.headers = {"Accept-Language": "en", "Authorization": f"Bearer {token}"}

    def get(self, path: str, **params: Any) -> Response:
        return self.client.get(BASE + path, params, headers=self.headers)

    def post(self, path: str, body: dict[str, Any] | None = None, **headers: str) -> Response:
        return self.client.post(
            BASE + path,
            json.dumps(body or {}),
            content_type="application/json",
            headers={**self.headers, **headers},
        )


ApiFor = Callable[[str], Api]


@pytest.fixture
def api_as(world: World) -> ApiFor:
    def make(username: str) -> Api:
        _token, key = org_services.issue_api_token(user=world.user(username), name="test")
        return Api(Client(), key)

    return make


def errors(response: Response) -> list[tuple[list[Any], str]]:
    assert response.status_code == 422, response.content
    return [(e["loc"], e["msg"]) for e in response.json()["detail"]]


def recorded() -> dict[str, int]:
    """What a write leaves behind: rows, timeline events, alerts and audit records."""
    return {
        "readings": TemperatureReading.objects.count(),
        "reading history": TemperatureReading.history.count(),
        "visits": FollowUpVisit.objects.count(),
        "needs": Need.objects.count(),
        "episodes": ObservationEpisode.objects.count(),
        "timeline": TimelineEvent.objects.count(),
        "alerts": Alert.objects.count(),
    }


# ---------------------------------------------------------------------------------------------
# Episodes


def test_the_episode_list_shows_the_episodes_in_scope_with_masked_numbers(
    world: World, api_as: ApiFor
) -> None:
    response = api_as("head1").get("/episodes")

    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["count"], data["limit"], data["offset"]) == (1, 50, 0)
    (item,) = data["items"]
    preset = world.episode1.preset
    assert item == {
        "id": world.episode1.pk,
        "person": {"id": world.person11b.pk, "name": "张小明", "id_number": "", "phone": ""},
        "grid": {"id": world.grid11.pk, "code": "LZ-01-01", "name": "一站一网格"},
        "unit": {"id": world.unit1.pk, "code": "LZ-01", "name": "第一作业站"},
        "kind": "home_isolation",
        "reason": "contact",
        "reason_note": "",
        "screening_id": None,
        "counts_from": "2020-02-01",
        "counts_from_kind": "last_contact",
        "start_date": "2020-02-03",
        "preset": {"id": preset.pk, "name": "14天（2020）"},
        "isolation_days": 14,
        "monitoring_days": 0,
        "isolation_end": "2020-02-15",
        "planned_end": "2020-02-15",
        "place": "一站1排3号",
        "status": "active",
        "ended_on": None,
        "decided_at": None,
        "decided_by": "",
        "decision_note": "",
        "created_at": "2020-02-03T08:00:00+08:00",
    }


def test_the_episode_list_masks_id_and_phone_numbers(world: World, api_as: ApiFor) -> None:
    response = api_as("head2").get("/episodes")

    (item,) = response.json()["items"]
    assert item["person"] == {
        "id": world.person21.pk,
        "name": "王立新",
        "id_number": "620702********0170",
        "phone": "151****2222",
    }


def test_the_episode_list_filters(world: World, api_as: ApiFor) -> None:
    api = api_as("leader")

    def ids(**params: Any) -> list[int]:
        response = api.get("/episodes", **params)
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()["items"]]

    both = [world.episode2.pk, world.episode1.pk]  # same start: newest id first
    assert ids() == both
    assert ids(q="张小明") == [world.episode1.pk]
    assert ids(unit_id=world.unit2.pk) == [world.episode2.pk]
    assert ids(status="active", reason="arrival") == [world.episode2.pk]
    assert ids(status="ended") == []
    assert ids(kind="centralised") == []
    assert ids(due_by="2020-02-15") == [world.episode1.pk]
    assert ids(limit=1, offset=1) == [world.episode1.pk]


def test_a_unit_outside_the_scope_is_a_422_on_unit_id(world: World, api_as: ApiFor) -> None:
    response = api_as("head1").get("/episodes", unit_id=world.unit2.pk)

    assert errors(response) == [(["query", "unit_id"], "No such org unit in your scope.")]


def test_an_episode_shows_its_responsible_people_and_its_link_to_those_who_may_record(
    world: World, api_as: ApiFor
) -> None:
    services.set_responsible(
        actor=None,
        episode=world.episode1,
        entries=[
            {"role": "grid_worker", "name": "赵网格员", "phone": "13800001234"},
            {"role": "doctor", "name": "孙医生"},
        ],
    )
    link = SelfReportLink.objects.get(episode=world.episode1, revoked_at__isnull=True)

    worker = api_as("worker11").get(f"/episodes/{world.episode1.pk}")
    auditor = api_as("auditor1").get(f"/episodes/{world.episode1.pk}")

    assert worker.status_code == 200, worker.content
    assert worker.json()["responsible"] == [
        {"role": "grid_worker", "name": "赵网格员", "phone": "138****1234"},
        {"role": "doctor", "name": "孙医生", "phone": ""},
    ]
    assert worker.json()["self_report_url"] == f"http://testserver/r/{link.token}/"
    assert auditor.status_code == 200
    assert auditor.json()["responsible"] == worker.json()["responsible"]
    assert auditor.json()["self_report_url"] is None
    assert link.token not in auditor.content.decode()


def test_starting_an_episode_counts_the_period_from_the_last_contact(
    world: World, api_as: ApiFor
) -> None:
    response = api_as("head1").post(
        "/episodes",
        {
            "person_id": world.person12.pk,
            "reason": "contact",
            "reason_note": "同车",
            "counts_from": "2020-02-04",
            "counts_from_kind": "last_contact",
            "responsible": [{"role": "cadre", "name": "张书记", "phone": "13900001111"}],
        },
    )

    assert response.status_code == 201, response.content
    data = response.json()
    episode = ObservationEpisode.objects.get(person=world.person12)
    assert data["id"] == episode.pk
    assert {
        k: data[k]
        for k in ("kind", "reason", "reason_note", "counts_from", "start_date", "planned_end")
    } == {
        "kind": "home_isolation",
        "reason": "contact",
        "reason_note": "同车",
        "counts_from": "2020-02-04",
        "start_date": "2020-02-05",
        "planned_end": "2020-02-18",
    }
    assert (data["place"], data["status"]) == ("一站2排5号", "active")
    assert data["responsible"] == [{"role": "cadre", "name": "张书记", "phone": "139****1111"}]
    assert data["self_report_url"].startswith("http://testserver/r/")
    assert Person.objects.get(pk=world.person12.pk).status == Person.Status.UNDER_OBSERVATION


def test_starting_from_a_screening_takes_what_it_found(world: World, api_as: ApiFor) -> None:
    screening = Screening.objects.get(person=world.person11)

    response = api_as("head1").post(
        "/episodes", {"person_id": world.person11.pk, "screening_id": screening.pk}
    )

    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["screening_id"], data["reason"], data["counts_from"]) == (
        screening.pk,
        "other",
        "2020-02-02",
    )
    assert (data["counts_from_kind"], data["planned_end"]) == ("start", "2020-02-16")


def test_a_screening_of_another_person_is_a_422_on_screening_id(
    world: World, api_as: ApiFor
) -> None:
    screening = Screening.objects.get(person=world.person11)

    response = api_as("head1").post(
        "/episodes", {"person_id": world.person12.pk, "screening_id": screening.pk}
    )

    assert errors(response) == [
        (["body", "payload", "screening_id"], "That screening is of another person.")
    ]


def test_a_person_outside_the_scope_is_a_422_on_person_id(world: World, api_as: ApiFor) -> None:
    before = recorded()

    response = api_as("head2").post(
        "/episodes",
        {
            "person_id": world.person12.pk,
            "reason": "contact",
            "counts_from": "2020-02-04",
            "counts_from_kind": "last_contact",
        },
    )

    assert errors(response) == [(["body", "payload", "person_id"], "No such person in your scope.")]
    assert recorded() == before


def test_service_errors_name_the_fields_of_the_request(world: World, api_as: ApiFor) -> None:
    response = api_as("head1").post(
        "/episodes",
        {"person_id": world.person11b.pk, "kind": "hotel", "counts_from": "2020-02-04"},
    )

    assert errors(response) == [
        (["body", "payload", "reason"], "Choose the reason from the list."),
        (["body", "payload", "kind"], "Choose the kind of observation from the list."),
        (
            ["body", "payload", "counts_from_kind"],
            "Choose what the period counts from: the last contact, the arrival or the start.",
        ),
    ]


def test_a_person_already_under_observation_is_a_422_on_person_id(
    world: World, api_as: ApiFor
) -> None:
    response = api_as("head1").post(
        "/episodes",
        {
            "person_id": world.person11b.pk,
            "reason": "contact",
            "counts_from": "2020-02-04",
            "counts_from_kind": "last_contact",
        },
    )

    assert errors(response) == [
        (
            ["body", "payload", "person_id"],
            "张小明 is already under observation: open the running episode.",
        )
    ]


def _entry(person: Person, counts_from: str = "2020-02-04") -> dict[str, Any]:
    return {
        "person_id": person.pk,
        "reason": "arrival",
        "counts_from": counts_from,
        "counts_from_kind": "arrival",
    }


def test_a_bulk_start_puts_everyone_under_observation(world: World, api_as: ApiFor) -> None:
    response = api_as("office").post(
        "/episodes/bulk", {"entries": [_entry(world.person11), _entry(world.person12)]}
    )

    assert response.status_code == 201, response.content
    started = {e.person_id: e.pk for e in ObservationEpisode.objects.filter(start_date=NOW.date())}
    assert [(item["id"], item["person"]["name"]) for item in response.json()] == [
        (started[world.person11.pk], "张建国"),
        (started[world.person12.pk], "李秀英"),
    ]
    assert [item["planned_end"] for item in response.json()] == ["2020-02-18", "2020-02-18"]
    assert set(
        Person.objects.filter(pk__in=[world.person11.pk, world.person12.pk]).values_list(
            "status", flat=True
        )
    ) == {Person.Status.UNDER_OBSERVATION}


def test_a_bulk_start_with_one_bad_entry_starts_nobody(world: World, api_as: ApiFor) -> None:
    before = recorded()

    response = api_as("office").post(
        "/episodes/bulk",
        {"entries": [_entry(world.person11), _entry(world.person12, "2020-02-06")]},
    )

    assert errors(response) == [
        (
            ["body", "payload", "entries", 1, "counts_from"],
            "The day counted from (2020-02-06) is after the start of observation: enter the day "
            "of the last contact or arrival, on or before 2020-02-05.",
        )
    ]
    assert recorded() == before
    assert Person.objects.get(pk=world.person11.pk).status == Person.Status.NORMAL


def test_a_bulk_start_names_every_bad_entry(world: World, api_as: ApiFor) -> None:
    response = api_as("office").post(
        "/episodes/bulk",
        {
            "entries": [
                _entry(world.person11b),
                _entry(world.person12),
                _entry(world.person12),
                {**_entry(world.person11), "person_id": 987654321},
            ]
        },
    )

    assert errors(response) == [
        (["body", "payload", "entries", 2, "person_id"], "李秀英 is in the list twice."),
        (["body", "payload", "entries", 3, "person_id"], "No such person in your scope."),
    ]


def test_a_bulk_start_with_a_person_already_under_observation_names_the_entry(
    world: World, api_as: ApiFor
) -> None:
    response = api_as("office").post(
        "/episodes/bulk", {"entries": [_entry(world.person12), _entry(world.person11b)]}
    )

    assert errors(response) == [
        (
            ["body", "payload", "entries", 1, "person_id"],
            "张小明 is already under observation: open the running episode.",
        )
    ]
    assert not ObservationEpisode.objects.filter(person=world.person12).exists()


def test_an_empty_bulk_start_is_a_422(world: World, api_as: ApiFor) -> None:
    response = api_as("office").post("/episodes/bulk", {"entries": []})

    assert errors(response) == [
        (["body", "payload", "entries"], "Add at least one person to start.")
    ]


def test_releasing_early_needs_a_note(world: World, api_as: ApiFor) -> None:
    api = api_as("head1")
    url = f"/episodes/{world.episode1.pk}/release"

    refused = api.post(url, {})
    released = api.post(url, {"note": "核酸阴性，专家组同意"})

    assert errors(refused) == [
        (
            ["body", "payload", "note"],
            "Releasing before the planned end (2020-02-15) needs a reason.",
        )
    ]
    assert released.status_code == 200, released.content
    data = released.json()
    assert (data["status"], data["ended_on"], data["decided_by"]) == (
        "released",
        "2020-02-05",
        "head1",
    )
    assert (data["decision_note"], data["self_report_url"]) == ("核酸阴性，专家组同意", None)
    assert data["decided_at"] == "2020-02-05T10:30:00+08:00"
    assert Person.objects.get(pk=world.person11b.pk).status == Person.Status.NORMAL
    assert not SelfReportLink.objects.filter(
        episode=world.episode1, revoked_at__isnull=True
    ).exists()


def test_releasing_twice_is_a_422_on_the_body(world: World, api_as: ApiFor) -> None:
    api = api_as("head1")
    url = f"/episodes/{world.episode1.pk}/release"
    api.post(url, {"note": "提前解除"})

    response = api.post(url, {"note": "提前解除"})

    assert errors(response) == [(["body", "payload"], "A Released episode cannot become Released.")]


def test_a_decision_refers_to_hospital(world: World, api_as: ApiFor) -> None:
    response = api_as("head1").post(
        f"/episodes/{world.episode1.pk}/decision",
        {"outcome": "referred", "note": "发热，转县医院", "on": "2020-02-05"},
    )

    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["ended_on"]) == ("referred", "2020-02-05")
    assert Person.objects.get(pk=world.person11b.pk).status == Person.Status.REFERRED


def test_a_decision_that_cannot_follow_is_a_422_on_outcome(world: World, api_as: ApiFor) -> None:
    api = api_as("head1")
    url = f"/episodes/{world.episode1.pk}/decision"
    api.post(url, {"outcome": "released", "note": "提前解除"})

    response = api.post(url, {"outcome": "confirmed", "note": "确诊"})

    assert errors(response) == [
        (["body", "payload", "outcome"], "A Released episode cannot become Confirmed case.")
    ]


def test_a_grid_worker_may_not_decide(world: World, api_as: ApiFor) -> None:
    response = api_as("worker11").post(
        f"/episodes/{world.episode1.pk}/release", {"note": "提前解除"}
    )

    assert response.status_code == 403
    assert ObservationEpisode.objects.get(pk=world.episode1.pk).status == "active"


def test_extending_the_period_moves_the_last_day(world: World, api_as: ApiFor) -> None:
    api = api_as("head1")
    url = f"/episodes/{world.episode1.pk}/period"

    without_reason = api.post(url, {"planned_end": "2020-02-20", "reason": " "})
    extended = api.post(url, {"planned_end": "2020-02-20", "reason": "再次接触病例"})

    assert errors(without_reason) == [
        (
            ["body", "payload", "reason"],
            "Say why the period changes, e.g. 'contact with a new case on 02-10'.",
        )
    ]
    assert extended.status_code == 200, extended.content
    assert (extended.json()["planned_end"], extended.json()["isolation_end"]) == (
        "2020-02-20",
        "2020-02-20",
    )


# ---------------------------------------------------------------------------------------------
# Readings


def test_a_reading_is_recorded_with_its_check(world: World, api_as: ApiFor) -> None:
    response = api_as("worker11").post(
        f"/episodes/{world.episode1.pk}/readings",
        {"value": 36.8, "taken_at": MORNING, "note": "上门测温"},
    )

    assert response.status_code == 201, response.content
    reading = TemperatureReading.objects.get(episode=world.episode1, day=NOW.date())
    assert response.json() == {
        "id": reading.pk,
        "episode_id": world.episode1.pk,
        "taken_at": MORNING,
        "day": "2020-02-05",
        "slot": "morning",
        "value": 36.8,
        "symptoms": [],
        "is_fever": False,
        "source": "staff",
        "taken_by": "worker11",
        "note": "上门测温",
        "created_at": "2020-02-05T10:30:00+08:00",
        "alert_id": None,
    }


def test_a_fever_raises_an_alert_at_once(world: World, api_as: ApiFor) -> None:
    response = api_as("worker11").post(
        f"/episodes/{world.episode1.pk}/readings",
        {"value": "37.3", "symptoms": ["cough"]},
    )

    assert response.status_code == 201, response.content
    data = response.json()
    alert = Alert.objects.get(key=f"reading:{data['id']}")
    assert (data["value"], data["is_fever"], data["slot"], data["alert_id"]) == (
        37.3,
        True,
        "",
        alert.pk,
    )
    assert (alert.kind, alert.unit_id, alert.summary) == (
        "fever",
        world.grid11.pk,
        "张小明: 37.3 °C，Dry cough",
    )


def test_the_readings_answer_is_what_its_schema_would_render(world: World, api_as: ApiFor) -> None:
    # The hot path answers without the schema's second pass: its answer must be the same
    # bytes, including sub-millisecond times and a fever's alert.
    from fangkong.api import api

    with time_machine.travel(NOW + dt.timedelta(microseconds=123_456), tick=False):
        response = api_as("worker11").post(
            f"/episodes/{world.episode1.pk}/readings", {"value": "38.25", "symptoms": ["cough"]}
        )

    assert response.status_code == 201, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    reading = TemperatureReading.objects.get(pk=response.json()["id"])
    alert = Alert.objects.get(key=f"reading:{reading.pk}")
    out = observation_api._reading_out(reading, alert.pk)
    through_schema = observation_api.ReadingOut.model_validate(out).model_dump()
    rendered = api.renderer.render(None, through_schema, response_status=201)  # type: ignore[arg-type]
    assert response.content == rendered.encode()
    assert response.json()["taken_at"] == "2020-02-05T10:30:00.123+08:00"
    assert (response.json()["value"], response.json()["alert_id"]) == (38.2, alert.pk)


def test_an_implausible_temperature_is_a_422_on_value(world: World, api_as: ApiFor) -> None:
    before = recorded()

    response = api_as("worker11").post(f"/episodes/{world.episode1.pk}/readings", {"value": 43.5})

    assert errors(response) == [(["body", "payload", "value"], RANGE_43_5)]
    assert recorded() == before


def test_a_reading_outside_the_period_is_a_422_on_taken_at(world: World, api_as: ApiFor) -> None:
    response = api_as("worker11").post(
        f"/episodes/{world.episode1.pk}/readings",
        {"value": 36.5, "taken_at": "2020-02-02T08:00:00+08:00"},
    )

    assert errors(response) == [
        (
            ["body", "payload", "taken_at"],
            "2020-02-02 is outside the observation period (2020-02-03 to 2020-02-15).",
        )
    ]


def test_an_unknown_symptom_is_a_422_on_symptoms(world: World, api_as: ApiFor) -> None:
    response = api_as("worker11").post(
        f"/episodes/{world.episode1.pk}/readings", {"value": 36.5, "symptoms": ["hiccups"]}
    )

    assert errors(response) == [
        (["body", "payload", "symptoms"], "Unknown symptom hiccups: choose from the list.")
    ]


def test_a_retried_reading_is_recorded_once(world: World, api_as: ApiFor) -> None:
    api = api_as("worker11")
    url = f"/episodes/{world.episode1.pk}/readings"
    body = {"value": 38.2, "taken_at": MORNING, "idempotency_key": "phone-1:0001"}
    first = api.post(url, body)
    after_first = recorded()

    again = api.post(url, body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert first.json()["alert_id"] is not None
    assert recorded() == after_first


def test_the_idempotency_key_may_come_in_a_header(world: World, api_as: ApiFor) -> None:
    api = api_as("worker11")
    url = f"/episodes/{world.episode1.pk}/readings"
    first = api.post(url, {"value": 36.7}, **{"Idempotency-Key": "phone-1:0002"})
    after_first = recorded()

    again = api.post(url, {"value": 36.7}, **{"Idempotency-Key": "phone-1:0002"})

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert recorded() == after_first
    assert TemperatureReading.objects.filter(idempotency_key="phone-1:0002").count() == 1


def test_a_reading_from_a_phone_costs_few_queries(world: World, api_as: ApiFor) -> None:
    """The hot path of the API (benchmarked): a budget, as for the lists."""
    api = api_as("worker11")
    url = f"/episodes/{world.episode1.pk}/readings"
    api.post(url, {"value": 36.5})  # warm up: the token's last use is written

    with CaptureQueriesContext(connection) as new:
        assert api.post(url, {"value": 36.6, "idempotency_key": "q-1"}).status_code == 201
    with CaptureQueriesContext(connection) as retried:
        assert api.post(url, {"value": 36.6, "idempotency_key": "q-1"}).status_code == 200

    # token (with its user), role assignments, the episode with its person, grid and the
    # rules in force, the key (not seen); then the transaction (a savepoint here) with the
    # inserts only: the reading, its audit record and the timeline event
    assert len(new) == 9
    # ... the key finds the reading before any transaction: token, roles, the episode, the
    # key; then the alert it raised, if any
    assert len(retried) == 5


def test_a_key_used_for_another_episode_is_a_422(world: World, api_as: ApiFor) -> None:
    api = api_as("office")
    api.post(f"/episodes/{world.episode1.pk}/readings", {"value": 36.7, "idempotency_key": "k1"})

    response = api.post(
        f"/episodes/{world.episode2.pk}/readings", {"value": 36.7, "idempotency_key": "k1"}
    )

    assert errors(response) == [
        (
            ["body", "payload", "idempotency_key"],
            "This key was already used for another person: send a new key.",
        )
    ]


def _batch(world: World, key: str = "batch-1") -> dict[str, Any]:
    return {
        "idempotency_key": key,
        "items": [
            {"episode_id": world.episode1.pk, "value": 36.4, "taken_at": MORNING},
            {
                "episode_id": world.episode1.pk,
                "value": 37.5,
                "taken_at": "2020-02-05T09:00:00+08:00",
                "symptoms": ["fatigue"],
                "note": "复测",
            },
        ],
    }


def test_a_batch_of_readings_is_recorded(world: World, api_as: ApiFor) -> None:
    before = recorded()

    response = api_as("worker11").post("/readings/batch", _batch(world))

    assert response.status_code == 201, response.content
    items = response.json()["items"]
    readings = list(
        TemperatureReading.objects.filter(idempotency_key__startswith="batch-1:").order_by("pk")
    )
    assert [r.idempotency_key for r in readings] == ["batch-1:0", "batch-1:1"]
    assert [(i["id"], i["value"], i["is_fever"], i["symptoms"], i["note"]) for i in items] == [
        (readings[0].pk, 36.4, False, [], ""),
        (readings[1].pk, 37.5, True, ["fatigue"], "复测"),
    ]
    fever = Alert.objects.get(key=f"reading:{readings[1].pk}")
    assert [i["alert_id"] for i in items] == [None, fever.pk]
    assert recorded() == {
        **before,
        "readings": before["readings"] + 2,
        "reading history": before["reading history"] + 2,
        "timeline": before["timeline"] + 2,
        "alerts": before["alerts"] + 1,
    }


def test_a_retried_batch_records_nothing_and_answers_the_same_readings(
    world: World, api_as: ApiFor
) -> None:
    api = api_as("worker11")
    first = api.post("/readings/batch", _batch(world))
    after_first = recorded()

    again = api.post("/readings/batch", _batch(world))

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert recorded() == after_first
    assert TemperatureReading.objects.filter(idempotency_key__startswith="batch-1:").count() == 2


def test_a_batch_with_one_bad_item_records_nothing(world: World, api_as: ApiFor) -> None:
    body = _batch(world)
    body["items"][1]["value"] = 43.5
    before = recorded()

    response = api_as("worker11").post("/readings/batch", body)

    assert errors(response) == [(["body", "payload", "items", 1, "value"], RANGE_43_5)]
    assert recorded() == before


def test_a_batch_naming_an_episode_outside_the_scope_is_a_422_on_its_item(
    world: World, api_as: ApiFor
) -> None:
    body = _batch(world)
    body["items"][0]["episode_id"] = world.episode2.pk
    before = recorded()

    response = api_as("worker11").post("/readings/batch", body)

    assert errors(response) == [
        (
            ["body", "payload", "items", 0, "episode_id"],
            "No such observation episode in your scope.",
        )
    ]
    assert recorded() == before


def test_a_batch_needs_a_key(world: World, api_as: ApiFor) -> None:
    response = api_as("worker11").post("/readings/batch", _batch(world, key=" "))

    assert errors(response) == [
        (["body", "payload", "idempotency_key"], "Send a key with the batch, e.g. a UUID.")
    ]


def test_the_readings_of_an_episode_are_listed_newest_first_with_their_alerts(
    world: World, api_as: ApiFor
) -> None:
    api = api_as("head1")
    fever = api.post(f"/episodes/{world.episode1.pk}/readings", {"value": 38.0}).json()

    response = api.get(f"/episodes/{world.episode1.pk}/readings")

    assert response.status_code == 200, response.content
    data = response.json()
    assert data["count"] == 2
    assert [(i["value"], i["day"], i["slot"], i["alert_id"]) for i in data["items"]] == [
        (38.0, "2020-02-05", "", fever["alert_id"]),
        (36.6, "2020-02-04", "morning", None),
    ]


def test_the_readings_list_costs_the_same_queries_for_200_readings_as_for_10(
    world: World, api_as: ApiFor
) -> None:
    api = api_as("head1")
    url = f"/episodes/{world.episode1.pk}/readings"

    def grow(total: int) -> int:
        have = TemperatureReading.objects.filter(episode=world.episode1).count()
        TemperatureReading.objects.bulk_create(
            TemperatureReading(
                episode=world.episode1,
                taken_at=NOW - dt.timedelta(minutes=i),
                day=NOW.date(),
                value="36.5",
                source="staff",
                taken_by=world.user("worker11"),
            )
            for i in range(have, total)
        )
        api.get(url, limit=200)
        with CaptureQueriesContext(connection) as queries:
            assert len(api.get(url, limit=200).json()["items"]) == total
        return len(queries)

    # token, scope, episode, page, count, the alerts of the page
    assert grow(10) == grow(200) == 6


# ---------------------------------------------------------------------------------------------
# Follow-up visits and needs


def test_a_visit_with_a_need_raises_the_need(world: World, api_as: ApiFor) -> None:
    api = api_as("worker11")
    url = f"/episodes/{world.episode1.pk}/visits"
    body = {
        "mode": "in_person",
        "visited_at": "2020-02-05T09:40:00+08:00",
        "findings": "体温正常，情绪稳定",
        "needs": "降压药",
        "need_kind": "medicine",
        "idempotency_key": "visit-1",
    }

    first = api.post(url, body)
    after_first = recorded()
    again = api.post(url, body)

    assert (first.status_code, again.status_code) == (201, 200), first.content
    visit = FollowUpVisit.objects.get(idempotency_key="visit-1")
    assert first.json() == {
        "id": visit.pk,
        "episode_id": world.episode1.pk,
        "visited_at": "2020-02-05T09:40:00+08:00",
        "day": "2020-02-05",
        "mode": "in_person",
        "visitor_name": "worker11",
        "findings": "体温正常，情绪稳定",
        "needs": "降压药",
        "abnormal": False,
        "created_at": "2020-02-05T10:30:00+08:00",
    }
    assert again.json() == first.json()
    assert recorded() == after_first
    need = Need.objects.get(episode=world.episode1, kind="medicine")
    assert (need.description, need.status) == ("降压药", "open")
    days = [v["day"] for v in api.get(url).json()["items"]]
    assert days == ["2020-02-05", "2020-02-04"]


def test_a_need_kind_without_needs_is_a_422_on_needs(world: World, api_as: ApiFor) -> None:
    response = api_as("worker11").post(
        f"/episodes/{world.episode1.pk}/visits", {"mode": "phone", "need_kind": "supplies"}
    )

    assert errors(response) == [
        (["body", "payload", "needs"], "Describe the need, e.g. 'rice and cooking oil'.")
    ]


def test_needs_are_listed_in_scope_and_by_status(world: World, api_as: ApiFor) -> None:
    api = api_as("head1")
    need = Need.objects.get(episode=world.episode1)

    response = api.get("/needs")

    assert response.status_code == 200, response.content
    assert response.json()["items"] == [
        {
            "id": need.pk,
            "episode_id": world.episode1.pk,
            "person": {"id": world.person11b.pk, "name": "张小明"},
            "grid": {"id": world.grid11.pk, "code": "LZ-01-01", "name": "一站一网格"},
            "kind": "supplies",
            "description": "大米、食用油",
            "raised_at": "2020-02-05T10:30:00+08:00",
            "source": "staff",
            "raised_by": "",
            "assigned_to": "",
            "status": "open",
            "resolved_at": None,
            "resolved_by": "",
            "resolution": "",
        }
    ]
    assert api.get("/needs", status="resolved").json()["count"] == 0
    assert api.get("/needs", status="unresolved").json()["count"] == 1
    assert api.get("/needs", episode_id=world.episode1.pk).json()["count"] == 1
    assert errors(api.get("/needs", episode_id=world.episode2.pk)) == [
        (["query", "episode_id"], "No such observation episode in your scope.")
    ]


def test_a_need_is_raised_taken_on_and_resolved(world: World, api_as: ApiFor) -> None:
    api = api_as("worker11")

    raised = api.post(
        f"/episodes/{world.episode1.pk}/needs", {"kind": "psychological", "description": "焦虑失眠"}
    )
    need_id = raised.json()["id"]
    taken = api.post(f"/needs/{need_id}", {"status": "in_progress"})
    unsaid = api.post(f"/needs/{need_id}", {"status": "resolved"})
    resolved = api.post(f"/needs/{need_id}", {"status": "resolved", "resolution": "心理热线已联系"})

    assert raised.status_code == 201, raised.content
    assert (raised.json()["kind"], raised.json()["status"], raised.json()["raised_by"]) == (
        "psychological",
        "open",
        "worker11",
    )
    assert (taken.json()["status"], taken.json()["assigned_to"]) == ("in_progress", "worker11")
    assert errors(unsaid) == [
        (["body", "payload", "resolution"], "Say what was done, e.g. 'delivered 10 kg rice'.")
    ]
    assert resolved.status_code == 200, resolved.content
    assert {k: resolved.json()[k] for k in ("status", "resolved_by", "resolution")} == {
        "status": "resolved",
        "resolved_by": "worker11",
        "resolution": "心理热线已联系",
    }
    assert resolved.json()["resolved_at"] == "2020-02-05T10:30:00+08:00"


def test_resolving_a_need_resolves_its_unanswered_alert(world: World, api_as: ApiFor) -> None:
    need = Need.objects.get(episode=world.episode1)
    services.find_unanswered_needs(now=NOW + dt.timedelta(days=2))
    alert = Alert.objects.get(key=f"need:{need.pk}")

    response = api_as("worker11").post(
        f"/needs/{need.pk}", {"status": "resolved", "resolution": "已送米油"}
    )

    assert response.status_code == 200, response.content
    alert.refresh_from_db()
    assert (alert.status, alert.note) == ("resolved", "Need resolved: 已送米油")


def test_an_unknown_kind_of_need_is_a_422_on_kind(world: World, api_as: ApiFor) -> None:
    response = api_as("worker11").post(
        f"/episodes/{world.episode1.pk}/needs", {"kind": "grid", "description": "大米"}
    )

    assert errors(response) == [
        (["body", "payload", "kind"], "Choose the kind of need from the list.")
    ]


# ---------------------------------------------------------------------------------------------
# Scope and permissions


def test_an_episode_of_another_unit_is_404_and_nothing_is_recorded(
    world: World, api_as: ApiFor
) -> None:
    api = api_as("head2")
    pk = world.episode1.pk
    need = Need.objects.get(episode=world.episode1)
    before = recorded()

    responses = [
        api.get(f"/episodes/{pk}"),
        api.get(f"/episodes/{pk}/readings"),
        api.get(f"/episodes/{pk}/visits"),
        api.post(f"/episodes/{pk}/readings", {"value": 36.5}),
        api.post(f"/episodes/{pk}/visits", {"mode": "phone"}),
        api.post(f"/episodes/{pk}/needs", {"kind": "other", "description": "x"}),
        api.post(f"/episodes/{pk}/release", {"note": "x"}),
        api.post(f"/episodes/{pk}/decision", {"outcome": "referred", "note": "x"}),
        api.post(f"/episodes/{pk}/period", {"planned_end": "2020-02-20", "reason": "x"}),
        api.post(f"/needs/{need.pk}", {"status": "resolved", "resolution": "x"}),
    ]

    assert [r.status_code for r in responses] == [404] * len(responses)
    assert {r.json()["detail"] for r in responses} == {"Not found."}
    assert recorded() == before
    assert api.get("/episodes").json()["count"] == 1
    assert [n["id"] for n in api.get("/needs").json()["items"]] == [
        Need.objects.get(episode=world.episode2).pk
    ]


def test_a_read_only_role_may_read_but_not_record(world: World, api_as: ApiFor) -> None:
    api = api_as("leader")
    pk = world.episode1.pk
    before = recorded()

    reads = [api.get(f"/episodes/{pk}"), api.get(f"/episodes/{pk}/readings"), api.get("/needs")]
    writes = [
        api.post(f"/episodes/{pk}/readings", {"value": 36.5}),
        api.post("/readings/batch", _batch(world)),
        api.post("/episodes", _entry(world.person12)),
        api.post("/episodes/bulk", {"entries": [_entry(world.person12)]}),
        api.post(f"/episodes/{pk}/release", {"note": "x"}),
    ]

    assert [r.status_code for r in reads] == [200, 200, 200]
    assert [r.status_code for r in writes] == [403] * len(writes)
    assert {r.json()["detail"] for r in writes} == {"Your role does not allow this action."}
    assert recorded() == before


def test_a_checkpoint_operator_may_not_list_episodes(world: World, api_as: ApiFor) -> None:
    assert api_as("gate1").get("/episodes").status_code == 403


# ---------------------------------------------------------------------------------------------
# The schema


def test_the_openapi_schema_documents_the_observation_endpoints(
    world: World, api_as: ApiFor
) -> None:
    response = api_as("head1").get("/openapi.json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {
        "/api/v1/episodes",
        "/api/v1/episodes/bulk",
        "/api/v1/episodes/{episode_id}",
        "/api/v1/episodes/{episode_id}/readings",
        "/api/v1/readings/batch",
        "/api/v1/episodes/{episode_id}/visits",
        "/api/v1/needs",
        "/api/v1/needs/{need_id}",
    } <= set(paths)
    parameters = paths["/api/v1/episodes/{episode_id}/readings"]["post"]["parameters"]
    assert [p["name"] for p in parameters] == ["episode_id", "Idempotency-Key"]


@pytest.mark.parametrize(
    ("choice", "values"),
    [
        (observation_api.ReasonChoice, ObservationEpisode.Reason.values),
        (observation_api.CountsFromChoice, ObservationEpisode.CountsFrom.values),
        (observation_api.RoleChoice, EpisodeResponsible.Role.values),
        (observation_api.ModeChoice, FollowUpVisit.Mode.values),
        (observation_api.NeedKindChoice, Need.Kind.values),
        (observation_api.NeedStatusChoice, Need.Status.values),
    ],
)
def test_the_choices_of_the_api_are_those_of_the_models(choice: Any, values: list[str]) -> None:
    assert list(typing.get_args(choice)) == values
