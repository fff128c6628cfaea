"""The alerts API: the inbox of a scope, one alert, acknowledging and resolving.

The world (``fangkong.core.testing``, with observation) has a fever alert for 王立新 (38.1 °C
on 2020-02-04 08:30, LZ-02-01); the tests add one for 张小明 (37.8 °C with a cough on
2020-02-05 08:15, LZ-01-01). Time is frozen at 2020-02-05 10:30 in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
import time_machine
from django.test import Client
from django.utils import translation

from fangkong.alerts import services
from fangkong.alerts.models import Alert
from fangkong.core.testing import World, build_world
from fangkong.observation import services as observation
from fangkong.org import services as org_services

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

BASE = "/api/v1"
CST = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2020, 2, 5, 10, 30, tzinfo=CST)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False), translation.override("en"):
        yield


@pytest.fixture
def world(db: None) -> World:
    return build_world(observation=True)


@pytest.fixture
def fever1(world: World) -> Alert:
    """张小明's fever alert in LZ-01-01."""
    result = observation.record_reading(
        actor=world.user("worker11"),
        episode=world.episode1,
        value="37.8",
        symptoms=["cough"],
        taken_at=dt.datetime(2020, 2, 5, 8, 15, tzinfo=CST),
    )
    assert result.alert is not None
    return result.alert


@pytest.fixture
def fever2(world: World) -> Alert:
    """王立新's fever alert of the world, in LZ-02-01."""
    return Alert.objects.get(person=world.person21, kind="fever")


class Api:
    def __init__(self, client: Client, token: str) -> None:
        self.client = client
        self.headers = {"Accept-Language": "en", "Authorization": f"Bearer {token}"}

    def get(self, path: str, **params: Any) -> Response:
        return self.client.get(BASE + path, params, headers=self.headers)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Response:
        return self.client.post(
            BASE + path,
            json.dumps(body or {}),
            content_type="application/json",
            headers=self.headers,
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


def ids(response: Response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def test_an_alert_shows_what_it_is_about(world: World, api_as: ApiFor, fever1: Alert) -> None:
    response = api_as("worker11").get(f"/alerts/{fever1.pk}")

    assert response.status_code == 200, response.content
    reading = fever1.data["reading"]
    assert response.json() == {
        "id": fever1.pk,
        "kind": "fever",
        "summary": "张小明: 37.8 °C，Dry cough",
        "unit": {"id": world.grid11.pk, "code": "LZ-01-01", "name": "一站一网格"},
        "person": {"id": world.person11b.pk, "name": "张小明"},
        "object_type": "observation.episode",
        "object_id": world.episode1.pk,
        "data": {"reading": reading, "value": "37.8", "symptoms": ["cough"]},
        "raised_at": "2020-02-05T08:15:00+08:00",
        "level": 0,
        "escalated_at": None,
        "status": "open",
        "acknowledged_at": None,
        "acknowledged_by": "",
        "resolved_at": None,
        "resolved_by": "",
        "note": "",
    }


def test_the_inbox_shows_the_alerts_of_the_scope_newest_first(
    world: World, api_as: ApiFor, fever1: Alert, fever2: Alert
) -> None:
    assert ids(api_as("head1").get("/alerts")) == [fever1.pk]
    assert ids(api_as("head2").get("/alerts")) == [fever2.pk]
    assert ids(api_as("leader").get("/alerts")) == [fever1.pk, fever2.pk]
    response = api_as("leader").get("/alerts", limit=1)
    assert (response.json()["count"], response.json()["limit"]) == (2, 1)


def test_the_inbox_filters_by_status_kind_level_and_unit(
    world: World, api_as: ApiFor, fever1: Alert, fever2: Alert
) -> None:
    api = api_as("office")
    services.acknowledge_alert(actor=world.user("office"), alert=fever2)
    services.escalate_due(now=NOW + dt.timedelta(hours=2))

    assert ids(api.get("/alerts", status="open")) == [fever1.pk]
    assert ids(api.get("/alerts", status="acknowledged")) == [fever2.pk]
    assert ids(api.get("/alerts", status="unhandled")) == [fever1.pk, fever2.pk]
    assert ids(api.get("/alerts", status="resolved")) == []
    assert ids(api.get("/alerts", kind="fever")) == [fever1.pk, fever2.pk]
    assert ids(api.get("/alerts", kind="missed_check")) == []
    assert ids(api.get("/alerts", level=1)) == [fever1.pk]
    assert ids(api.get("/alerts", unit_id=world.unit2.pk)) == [fever2.pk]
    assert api.get("/alerts", level=1).json()["items"][0]["escalated_at"] == (
        "2020-02-05T12:30:00+08:00"
    )


def test_an_unknown_filter_value_is_a_422(world: World, api_as: ApiFor) -> None:
    api = api_as("head1")

    assert api.get("/alerts", status="lost").status_code == 422
    assert errors(api.get("/alerts", unit_id=world.unit2.pk)) == [
        (["query", "unit_id"], "No such org unit in your scope.")
    ]


def test_an_alert_is_acknowledged_then_resolved_with_a_note(
    world: World, api_as: ApiFor, fever1: Alert
) -> None:
    api = api_as("worker11")
    url = f"/alerts/{fever1.pk}"

    acknowledged = api.post(f"{url}/acknowledge", {"note": "已电话联系"})
    again = api.post(f"{url}/acknowledge")
    unsaid = api.post(f"{url}/resolve", {"note": " "})
    resolved = api.post(f"{url}/resolve", {"note": "复测36.9 °C，继续观察"})
    late = api.post(f"{url}/acknowledge")

    assert acknowledged.status_code == 200, acknowledged.content
    assert {k: acknowledged.json()[k] for k in ("status", "acknowledged_by", "note")} == {
        "status": "acknowledged",
        "acknowledged_by": "worker11",
        "note": "已电话联系",
    }
    assert acknowledged.json()["acknowledged_at"] == "2020-02-05T10:30:00+08:00"
    assert again.json() == acknowledged.json()
    assert errors(unsaid) == [
        (
            ["body", "payload", "note"],
            "Say what was done, e.g. 'Called the household: 36.8 °C on re-check'.",
        )
    ]
    assert resolved.status_code == 200, resolved.content
    assert {k: resolved.json()[k] for k in ("status", "resolved_by", "note")} == {
        "status": "resolved",
        "resolved_by": "worker11",
        "note": "复测36.9 °C，继续观察",
    }
    assert resolved.json()["resolved_at"] == "2020-02-05T10:30:00+08:00"
    assert errors(late) == [(["body", "payload"], "This alert is already resolved.")]
    fever1.refresh_from_db()
    assert (fever1.status, fever1.resolved_by) == ("resolved", world.user("worker11"))


def test_an_alert_of_another_unit_is_404_and_stays_open(
    world: World, api_as: ApiFor, fever2: Alert
) -> None:
    api = api_as("head1")
    url = f"/alerts/{fever2.pk}"

    responses = [
        api.get(url),
        api.post(f"{url}/acknowledge"),
        api.post(f"{url}/resolve", {"note": "x"}),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404]
    assert {r.json()["detail"] for r in responses} == {"Not found."}
    fever2.refresh_from_db()
    assert (fever2.status, fever2.note) == ("open", "")


def test_a_read_only_role_may_see_an_alert_but_not_handle_it(
    world: World, api_as: ApiFor, fever1: Alert
) -> None:
    api = api_as("leader")
    url = f"/alerts/{fever1.pk}"

    seen = api.get(url)
    acknowledged = api.post(f"{url}/acknowledge", {"note": "x"})
    resolved = api.post(f"{url}/resolve", {"note": "x"})

    assert seen.status_code == 200
    assert (acknowledged.status_code, resolved.status_code) == (403, 403)
    fever1.refresh_from_db()
    assert fever1.status == "open"


def test_a_checkpoint_operator_has_no_inbox(world: World, api_as: ApiFor) -> None:
    assert api_as("gate1").get("/alerts").status_code == 403
