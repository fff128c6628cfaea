"""The API of the checkpoints and their entry log: logging with an idempotency key (201,
then 200 for a retry), field errors, 404 outside the scope, 403 without the permission,
the lists and the daily counts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from fangkong.alerts.models import Alert, AlertKind
from fangkong.checkpoints.models import Entry
from fangkong.core.testing import World
from fangkong.org import services as org_services
from fangkong.screening.models import Screening

from .entries_kit import NOW, Gates, gates_of, table_counts

# The POST of an entry is a gate phone's hot path: its queries, for a known person on foot
# (token, scope, checkpoint, person, key, rules, savepoint and inserts) and for a vehicle of
# two from a region (the region and its risk level on top).
POST_QUERIES = 14
POST_QUERIES_WITH_REGION = 16


@pytest.fixture(autouse=True)
def _english_at_now() -> Iterator[None]:
    with translation.override("en"), time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def gates(world: World) -> Gates:
    return gates_of(world)


class Api:
    def __init__(self, world: World, username: str) -> None:
        _token, key = org_services.issue_api_token(user=world.user(username))
        self.headers = {"Authorization": f"Bearer {key}", "Accept-Language": "en"}
        self.client = Client()

    def get(self, url: str) -> Any:
        return self.client.get(url, headers=self.headers)

    def post(self, url: str, body: dict[str, Any], **headers: str) -> Any:
        return self.client.post(
            url, body, content_type="application/json", headers={**self.headers, **headers}
        )


def entries_url(gates: Gates, which: str = "east") -> str:
    return f"/api/v1/checkpoints/{getattr(gates, which).pk}/entries"


def person_out(world_person: Any, temperature: float | None, **changes: Any) -> dict[str, Any]:
    out = {
        "person_id": world_person.pk,
        "name": world_person.name,
        "id_number": world_person.id_number[:6] + "********" + world_person.id_number[-4:],
        "phone": world_person.phone[:3] + "****" + world_person.phone[-4:],
        "temperature": temperature,
        "symptoms": [],
        "is_fever": False,
        "is_flagged": False,
        "disinfected": True,
        "screening_id": None,
    }
    out.update(changes)
    return out


# ---------------------------------------------------------------------------------------------
# Logging


def test_a_known_person_is_logged_and_answered_201_with_the_entry(
    world: World, gates: Gates
) -> None:
    api = Api(world, "gate1")

    response = api.post(
        entries_url(gates),
        {
            "at": "2020-02-05T08:15:00+08:00",
            "idempotency_key": "phone-1",
            "purpose": "上班",
            "people": [
                {"person_id": world.person11.pk, "temperature": "36.5", "disinfected": True}
            ],
        },
    )

    assert response.status_code == 201, response.content
    entry = Entry.objects.get(idempotency_key="phone-1")
    assert response.json() == {
        "id": entry.pk,
        "checkpoint_id": gates.east.pk,
        "at": "2020-02-05T08:15:00+08:00",
        "day": "2020-02-05",
        "direction": "in",
        "plate": "",
        "vehicle_disinfected": None,
        "from_region": None,
        "risk_level": "",
        "purpose": "上班",
        "note": "",
        "names": "张建国",
        "people_count": 1,
        "max_temperature": 36.5,
        "has_fever": False,
        "is_flagged": False,
        "people": [person_out(world.person11, 36.5)],
        "alert_id": None,
    }


def test_the_same_key_again_answers_200_with_the_first_entry_and_records_nothing(
    world: World, gates: Gates
) -> None:
    api = Api(world, "gate1")
    body = {"people": [{"name": "李四", "temperature": 38.1}], "from_region": "620702"}
    first = api.post(entries_url(gates), body, **{"Idempotency-Key": "hdr-1"})
    before = table_counts()

    again = api.post(entries_url(gates), body, **{"Idempotency-Key": "hdr-1"})

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert table_counts() == before
    assert Alert.objects.filter(kind=AlertKind.ENTRY_FEVER).count() == 1


def test_a_vehicle_with_two_occupants_one_with_a_fever_is_flagged_with_its_alert(
    world: World, gates: Gates
) -> None:
    api = Api(world, "gate1")

    response = api.post(
        entries_url(gates),
        {
            "plate": "甘G12345",
            "vehicle_disinfected": True,
            "from_region": "620702",
            "idempotency_key": "car-1",
            "people": [
                {"person_id": world.person12.pk, "temperature": "36.8", "disinfected": True},
                {"name": "李四", "temperature": 37.8, "symptoms": ["cough"], "disinfected": False},
            ],
        },
    )

    assert response.status_code == 201, response.content
    data = response.json()
    entry = Entry.objects.get(pk=data["id"])
    alert = Alert.objects.get(key=f"entry:{entry.pk}")
    lisi = entry.people.get(position=1)
    assert lisi.person is not None and lisi.screening is not None
    assert (data["alert_id"], data["has_fever"], data["is_flagged"], data["max_temperature"]) == (
        alert.pk,
        True,
        True,
        37.8,
    )
    assert data["people"] == [
        person_out(world.person12, 36.8),
        {
            "person_id": lisi.person.pk,
            "name": "李四",
            "id_number": "",
            "phone": "",
            "temperature": 37.8,
            "symptoms": ["cough"],
            "is_fever": True,
            "is_flagged": True,
            "disinfected": False,
            "screening_id": lisi.screening.pk,
        },
    ]
    assert (alert.kind, alert.unit, alert.person) == (
        AlertKind.ENTRY_FEVER,
        world.unit1,
        lisi.person,
    )
    assert Screening.objects.filter(kind=Screening.Kind.ARRIVAL).count() == 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"people": [{"name": "李四", "temperature": "45"}]},
            [
                {
                    "loc": ["body", "payload", "people", 0, "temperature"],
                    "msg": "45 °C is not a body temperature: enter a reading between 34.0 and "
                    "43.0 °C, e.g. 36.5.",
                    "type": "value_error",
                }
            ],
        ),
        (
            {"people": []},
            [
                {
                    "loc": ["body", "payload", "people"],
                    "msg": "Add at least one person: the driver or the person on foot.",
                    "type": "value_error",
                }
            ],
        ),
        (
            {"people": [{"name": "李四", "temperature": "36.5"}], "plate": "甘G1234"},
            [
                {
                    "loc": ["body", "payload", "plate"],
                    "msg": "This plate is too short: after the province come 6 characters (7 "
                    "for new energy), e.g. 甘G12345 or 甘GD12345.",
                    "type": "value_error",
                }
            ],
        ),
        (
            {"people": [{"name": "李四", "temperature": "36.5"}], "from_region": "999999"},
            [
                {
                    "loc": ["body", "payload", "from_region"],
                    "msg": "No region has the code 999999: send a GB/T 2260 code, e.g. 420100.",
                    "type": "value_error",
                }
            ],
        ),
        (
            {"people": [{"person_id": "person21", "temperature": "36.5"}]},
            [
                {
                    "loc": ["body", "payload", "people", 0, "person_id"],
                    "msg": "No such person in your scope.",
                    "type": "value_error",
                }
            ],
        ),
    ],
    ids=["temperature", "nobody", "plate", "region", "person-out-of-scope"],
)
def test_invalid_input_is_422_naming_the_field_and_records_nothing(
    world: World, gates: Gates, body: dict[str, Any], expected: list[dict[str, Any]]
) -> None:
    for person in body["people"]:
        if person.get("person_id") == "person21":
            person["person_id"] = world.person21.pk
    before = table_counts()

    response = Api(world, "gate1").post(entries_url(gates), body)

    assert (response.status_code, response.json()) == (422, {"detail": expected})
    assert table_counts() == before


def test_a_key_used_at_another_checkpoint_is_422_on_the_key(world: World, gates: Gates) -> None:
    body = {"people": [{"name": "李四", "temperature": "36.5"}], "idempotency_key": "same"}
    Api(world, "gate1").post(entries_url(gates), body)

    response = Api(world, "office").post(entries_url(gates, "second"), body)

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "loc": ["body", "payload", "idempotency_key"],
            "msg": "This key was already used at another checkpoint: send a new key.",
            "type": "value_error",
        }
    ]


@pytest.mark.parametrize(
    ("persona", "which", "status"),
    [
        ("head2", "east", 404),  # another unit's checkpoint
        ("gate1", "second", 404),
        ("auditor1", "east", 403),  # sees the checkpoint, may not log
        ("leader", "east", 403),
        ("worker11", "east", 403),  # may not see checkpoints at all
    ],
)
def test_who_may_not_log_there_gets_404_or_403_and_nothing_changes(
    world: World, gates: Gates, persona: str, which: str, status: int
) -> None:
    before = table_counts()

    response = Api(world, persona).post(
        entries_url(gates, which), {"people": [{"name": "赵六", "temperature": "39"}]}
    )

    assert response.status_code == status
    assert table_counts() == before


def test_an_unknown_checkpoint_is_404(world: World, gates: Gates) -> None:
    response = Api(world, "gate1").post(
        "/api/v1/checkpoints/987654/entries", {"people": [{"name": "李四", "temperature": "36.5"}]}
    )

    assert response.status_code == 404


def test_logging_stays_lean(world: World, gates: Gates) -> None:
    api = Api(world, "gate1")
    api.post(entries_url(gates), {"people": [{"name": "热身", "temperature": "36.5"}]})

    with CaptureQueriesContext(connection) as on_foot:
        response = api.post(
            entries_url(gates),
            {
                "idempotency_key": "lean-1",
                "people": [{"person_id": world.person11.pk, "temperature": "36.5"}],
            },
        )
    assert response.status_code == 201
    with CaptureQueriesContext(connection) as vehicle:
        response = api.post(
            entries_url(gates),
            {
                "idempotency_key": "lean-2",
                "plate": "甘G12345",
                "from_region": "620702",
                "people": [
                    {"person_id": world.person11.pk, "temperature": "36.5"},
                    {"name": "李四", "temperature": "36.6"},
                ],
            },
        )
    assert response.status_code == 201

    assert (len(on_foot), len(vehicle)) == (POST_QUERIES, POST_QUERIES_WITH_REGION)


# ---------------------------------------------------------------------------------------------
# Reading


def test_checkpoints_are_listed_in_scope_with_their_operators(world: World, gates: Gates) -> None:
    response = Api(world, "gate1").get("/api/v1/checkpoints")

    assert response.status_code == 200
    assert response.json() == {
        "count": 1,
        "limit": 50,
        "offset": 0,
        "items": [
            {
                "id": gates.east.pk,
                "name": "场区东门卡口",
                "location": "场区东门",
                "unit": {"id": world.unit1.pk, "code": "LZ-01", "name": "第一作业站"},
                "intake_grid": {"id": world.grid12.pk, "code": "LZ-01-02", "name": "一站二网格"},
                "operators": [{"id": world.user("gate1").pk, "username": "gate1", "name": "gate1"}],
                "is_active": True,
            }
        ],
    }
    assert [c["name"] for c in Api(world, "office").get("/api/v1/checkpoints").json()["items"]] == [
        "场区东门卡口",
        "二站大门",
    ]


def test_a_checkpoint_has_todays_counts(world: World, gates: Gates) -> None:
    api = Api(world, "gate1")
    api.post(entries_url(gates), {"people": [{"name": "李四", "temperature": "38.0"}]})
    api.post(
        entries_url(gates),
        {
            "plate": "甘G12345",
            "people": [
                {"name": "王五", "temperature": "36.5"},
                {"name": "赵六", "temperature": "36.6"},
            ],
        },
    )

    response = api.get(f"/api/v1/checkpoints/{gates.east.pk}")

    assert response.status_code == 200
    assert response.json()["today"] == {
        "entries": 2,
        "persons": 3,
        "vehicles": 1,
        "fevers": 1,
        "flagged": 1,
    }
    assert Api(world, "head2").get(f"/api/v1/checkpoints/{gates.east.pk}").status_code == 404


def test_entries_are_listed_newest_first_and_filtered(world: World, gates: Gates) -> None:
    api = Api(world, "gate1")
    fever = api.post(entries_url(gates), {"people": [{"name": "李四", "temperature": "38.0"}]})
    normal = api.post(entries_url(gates), {"people": [{"name": "王五", "temperature": "36.5"}]})

    everything = api.get("/api/v1/checkpoint-entries").json()
    flagged = api.get("/api/v1/checkpoint-entries?flagged=true").json()
    earlier = api.get("/api/v1/checkpoint-entries?day=2020-02-04").json()
    other = api.get(f"/api/v1/checkpoint-entries?checkpoint_id={gates.second.pk}")

    assert [e["id"] for e in everything["items"]] == [
        normal.json()["id"],
        fever.json()["id"],
        gates.entry1.pk,
    ]
    assert everything["count"] == 3
    assert [(e["id"], e["alert_id"] is not None) for e in flagged["items"]] == [
        (fever.json()["id"], True)
    ]
    assert [e["id"] for e in earlier["items"]] == [gates.entry1.pk]
    assert other.status_code == 422
    assert other.json()["detail"][0]["loc"] == ["query", "checkpoint_id"]


def test_one_entry_is_read_in_scope_only(world: World, gates: Gates) -> None:
    response = Api(world, "head1").get(f"/api/v1/checkpoint-entries/{gates.entry1.pk}")

    assert response.status_code == 200
    assert response.json()["people"] == [person_out(world.person11, 36.5, disinfected=None)]
    assert (
        Api(world, "head1").get(f"/api/v1/checkpoint-entries/{gates.entry2.pk}").status_code == 404
    )


def test_the_daily_counts_per_checkpoint_and_day(world: World, gates: Gates) -> None:
    api = Api(world, "office")
    api.post(entries_url(gates), {"people": [{"name": "李四", "temperature": "38.0"}]})

    response = api.get("/api/v1/checkpoint-counts?from=2020-02-04&to=2020-02-05")

    assert response.status_code == 200
    counts = {"entries": 1, "persons": 1, "vehicles": 0, "fevers": 0, "flagged": 0}
    assert response.json() == {
        "from": "2020-02-04",
        "to": "2020-02-05",
        "rows": [
            {
                "day": "2020-02-05",
                "checkpoint_id": gates.east.pk,
                "checkpoint": "场区东门卡口",
                "unit": "第一作业站",
                **counts,
                "fevers": 1,
                "flagged": 1,
            },
            {
                "day": "2020-02-04",
                "checkpoint_id": gates.east.pk,
                "checkpoint": "场区东门卡口",
                "unit": "第一作业站",
                **counts,
            },
            {
                "day": "2020-02-04",
                "checkpoint_id": gates.second.pk,
                "checkpoint": "二站大门",
                "unit": "第二作业站",
                **counts,
            },
        ],
        "total": {"entries": 3, "persons": 3, "vehicles": 0, "fevers": 1, "flagged": 1},
    }
    head1 = Api(world, "head1").get("/api/v1/checkpoint-counts?from=2020-02-04&to=2020-02-04")
    assert [r["checkpoint"] for r in head1.json()["rows"]] == ["场区东门卡口"]
    backwards = api.get("/api/v1/checkpoint-counts?from=2020-02-05&to=2020-02-04")
    assert (backwards.status_code, backwards.json()["detail"][0]["loc"]) == (422, ["query", "to"])
