"""The screening API: risk areas, campaigns, coverage, screenings from a phone, visits, new
arrivals and the ledger. The world (``fangkong.core.testing``): campaign1 over LZ-01 with
张建国 (person11) screened on 2020-02-02; LZ-01 has households 一站1排3号 (person11,
person11b) in LZ-01-01 and 一站2排5号 (person12) in LZ-01-02."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client

from fangkong.core.testing import World
from fangkong.org import services as org_services
from fangkong.org.models import Person, TimelineEvent
from fangkong.screening import services
from fangkong.screening.models import (
    Campaign,
    CampaignHousehold,
    CampaignTally,
    ContactLink,
    HouseholdVisit,
    Region,
    RiskAreaPeriod,
    Screening,
)

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

BASE = "/api/v1"
CST = dt.timezone(dt.timedelta(hours=8))
SCREENED_AT = "2020-02-10T10:00:00+08:00"
WUCHANG = "420106"  # 湖北省 武汉市 武昌区


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
def api_as(world: World, client: Client) -> ApiFor:
    def make(username: str) -> Api:
        _token, key = org_services.issue_api_token(user=world.user(username), name="test")
        return Api(client, key)

    return make


@pytest.fixture
def wuhan_high(world: World) -> RiskAreaPeriod:
    """Wuhan (the prefecture) high-risk from 2020-01-23."""
    return services.set_risk_level(
        actor=None, region=Region.objects.get(pk="420100"), level="high", start=dt.date(2020, 1, 23)
    )


def errors(response: Response) -> list[tuple[str, str]]:
    assert response.status_code == 422, response.content
    return [(str(e["loc"][-1]), e["msg"]) for e in response.json()["detail"]]


def fields(response: Response) -> list[str]:
    return [field for field, _msg in errors(response)]


def counts(world: World) -> dict[str, Any]:
    campaign = world.campaign1
    return {
        "screenings": Screening.objects.filter(campaign=campaign).count(),
        "visits": HouseholdVisit.objects.filter(campaign=campaign).count(),
        "households": list(
            CampaignHousehold.objects.filter(campaign=campaign)
            .order_by("pk")
            .values("household", "status", "visits")
        ),
        "tallies": list(
            CampaignTally.objects.filter(campaign=campaign)
            .order_by("grid")
            .values(
                "grid",
                "households_visited",
                "households_nobody_home",
                "persons_screened",
                "persons_moved_out",
                "key_persons",
                "urgent_persons",
            )
        ),
        "persons": Person.objects.count(),
        "links": ContactLink.objects.count(),
    }


def total(api: Api, world: World, **params: Any) -> dict[str, Any]:
    response = api.get(f"/campaigns/{world.campaign1.pk}/coverage", **params)
    assert response.status_code == 200, response.content
    return response.json()["total"]


# ---------------------------------------------------------------------------------------------
# Screening from a phone, and coverage


def test_screening_a_household_moves_the_coverage_by_exact_numbers(
    world: World, api_as: ApiFor, wuhan_high: RiskAreaPeriod
) -> None:
    api = api_as("head1")
    before = total(api, world)
    assert {k: before[k] for k in ("households_total", "households_visited", "persons_total")} == {
        "households_total": 2,
        "households_visited": 1,
        "persons_total": 3,
    }
    assert (before["persons_screened"], before["persons_never_seen"]) == (1, 2)

    present = api.post(
        "/screenings",
        {
            "campaign_id": world.campaign1.pk,
            "person_id": world.person11b.pk,
            "screened_at": SCREENED_AT,
        },
    )
    from_wuhan = api.post(
        "/screenings",
        {
            "campaign_id": world.campaign1.pk,
            "person_id": world.person12.pk,
            "screened_at": SCREENED_AT,
            "from_region_code": WUCHANG,
            "departed_at": "2020-02-04T18:00:00+08:00",
            "arrived_at": "2020-02-05T09:30:00+08:00",
            "transport": "train",
            "transport_no": "g 1234",
            "temperature": 37.6,
        },
    )

    assert present.status_code == 201, present.content
    assert (present.json()["category"], present.json()["is_key"]) == ("no_risk", False)
    assert from_wuhan.status_code == 201, from_wuhan.content
    result = from_wuhan.json()
    assert (result["category"], result["is_key"], result["is_urgent"]) == (
        "risk_area_arrival",
        True,
        True,
    )
    assert result["transport_no"] == "G1234"
    assert result["from_region"] == {
        "code": WUCHANG,
        "name": "武昌区",
        "full_name": "湖北省 武汉市 武昌区",
    }
    assert [(r["rule"], r["text"]) for r in result["reasons"]] == [
        (
            "risk_area_arrival",
            "Arrived on 2020-02-05 from 武昌区, High risk on 2020-02-04 (within 14 days)",
        ),
        ("fever", "Temperature 37.6 °C, at or above 37.3 °C"),
    ]
    after = total(api, world)
    assert after == {
        **before,
        "households_visited": 2,
        "households_left": 0,
        "households_percent": 100,
        "persons_screened": 3,
        "persons_never_seen": 0,
        "persons_percent": 100,
        "key_persons": 1,
        "urgent_persons": 1,
        "complete": True,
    }
    rows = api.get(f"/campaigns/{world.campaign1.pk}/coverage").json()["rows"]
    assert [
        (r["unit"]["code"], r["households_visited"], r["persons_screened"], r["key_persons"])
        for r in rows
    ] == [("LZ-01-01", 1, 2, 0), ("LZ-01-02", 1, 1, 1)]


def test_the_same_screening_posted_twice_leaves_one_result_and_the_counts_unchanged(
    world: World, api_as: ApiFor
) -> None:
    api = api_as("worker11")
    body = {
        "campaign_id": world.campaign1.pk,
        "person_id": world.person11b.pk,
        "screened_at": SCREENED_AT,
        "symptoms": ["cough"],
        "temperature": 36.8,
    }
    first = api.post("/screenings", body)
    after_first = counts(world)

    again = api.post("/screenings", body)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert counts(world) == after_first
    assert Screening.objects.filter(campaign=world.campaign1, person=world.person11b).count() == 1


def test_a_retry_without_a_time_is_still_one_result_and_one_visit(
    world: World, api_as: ApiFor
) -> None:
    api = api_as("worker11")
    body = {"campaign_id": world.campaign1.pk, "person_id": world.person11b.pk}
    api.post("/screenings", body)
    after_first = counts(world)

    assert api.post("/screenings", body).status_code == 200

    assert counts(world) == after_first


def test_a_correction_moves_the_key_count_once(
    world: World, api_as: ApiFor, wuhan_high: RiskAreaPeriod
) -> None:
    api = api_as("head1")
    body: dict[str, Any] = {
        "campaign_id": world.campaign1.pk,
        "person_id": world.person12.pk,
        "screened_at": SCREENED_AT,
    }
    api.post("/screenings", body)
    assert total(api, world)["key_persons"] == 0

    corrected = api.post(
        "/screenings",
        {**body, "from_region_code": WUCHANG, "arrived_at": "2020-02-05T09:30:00+08:00"},
    )

    assert (corrected.status_code, corrected.json()["is_key"]) == (200, True)
    assert (total(api, world)["key_persons"], total(api, world)["persons_screened"]) == (1, 2)


def test_a_person_found_at_the_door_is_added_and_screened_in_one_call(
    world: World, api_as: ApiFor
) -> None:
    api = api_as("worker11")

    response = api.post(
        "/screenings",
        {
            "campaign_id": world.campaign1.pk,
            "new_person": {
                "name": "张来福",
                "household_id": world.household11.pk,
                "sex": "M",
                "relation": "parent",
                "phone": "13698765432",
            },
            "screened_at": SCREENED_AT,
        },
    )

    assert response.status_code == 201, response.content
    person = Person.objects.get(name="张来福")
    assert (person.household_id, person.grid_id) == (world.household11.pk, world.grid11.pk)
    assert response.json()["person"] == {
        "id": person.pk,
        "name": "张来福",
        "id_number": "",
        "phone": "136****5432",
    }
    assert total(api, world)["persons_screened"] == 2


def test_a_bad_screening_of_a_new_person_adds_nobody(world: World, api_as: ApiFor) -> None:
    api = api_as("worker11")
    before = counts(world)

    response = api.post(
        "/screenings",
        {
            "campaign_id": world.campaign1.pk,
            "new_person": {"name": "张来福", "household_id": world.household11.pk},
            "screened_at": SCREENED_AT,
            "temperature": 45,
        },
    )

    assert fields(response) == ["temperature"]
    assert counts(world) == before
    assert not Person.objects.filter(name="张来福").exists()


def test_bad_new_person_fields_are_named_inside_new_person(world: World, api_as: ApiFor) -> None:
    response = api_as("worker11").post(
        "/screenings",
        {
            "campaign_id": world.campaign1.pk,
            "new_person": {
                "name": "张来福",
                "household_id": world.household11.pk,
                "phone": "12345",
            },
        },
    )

    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [
        ["body", "payload", "new_person", "phone"]
    ]


def test_person_id_or_new_person_is_required(world: World, api_as: ApiFor) -> None:
    response = api_as("worker11").post("/screenings", {"campaign_id": world.campaign1.pk})

    assert fields(response) == ["person_id"]


# ---------------------------------------------------------------------------------------------
# Errors by field


def test_a_bad_temperature_is_a_422_on_temperature(world: World, api_as: ApiFor) -> None:
    before = counts(world)
    response = api_as("head1").post(
        "/screenings",
        {"campaign_id": world.campaign1.pk, "person_id": world.person12.pk, "temperature": 45},
    )

    assert errors(response) == [
        (
            "temperature",
            "45 °C is not a body temperature: enter a reading between 34.0 and 43.0 °C, e.g. 36.5.",
        )
    ]
    assert counts(world) == before


def test_an_unknown_region_is_a_422_on_from_region_code(world: World, api_as: ApiFor) -> None:
    response = api_as("head1").post(
        "/screenings",
        {
            "campaign_id": world.campaign1.pk,
            "person_id": world.person12.pk,
            "from_region_code": "999999",
            "arrived_at": "2020-02-05T09:30:00+08:00",
        },
    )

    assert errors(response) == [
        (
            "from_region_code",
            "No region has the code 999999: enter a 6-digit GB/T 2260 code.",
        )
    ]


def test_service_errors_name_the_api_fields(world: World, api_as: ApiFor) -> None:
    response = api_as("head1").post(
        "/screenings",
        {
            "campaign_id": world.campaign1.pk,
            "person_id": world.person12.pk,
            "arrived_at": "2020-02-05T09:30:00+08:00",
            "contact_person_id": world.person11.pk,
        },
    )

    assert sorted(fields(response)) == ["contact_kind", "from_region_code"]


def test_an_arrival_after_the_screening_is_a_422_on_arrived_at(
    world: World, api_as: ApiFor
) -> None:
    response = api_as("head1").post(
        "/screenings",
        {
            "campaign_id": world.campaign1.pk,
            "person_id": world.person12.pk,
            "screened_at": SCREENED_AT,
            "from_region_code": WUCHANG,
            "arrived_at": "2020-02-11T09:30:00+08:00",
        },
    )

    assert errors(response) == [
        ("arrived_at", "The arrival cannot be later than the screening (2020-02-10 10:00).")
    ]
    assert not Screening.objects.filter(person=world.person12).exists()


def test_a_closed_campaign_records_nothing(world: World, api_as: ApiFor) -> None:
    services.close_campaign(actor=None, campaign=world.campaign1)
    before = counts(world)

    response = api_as("head1").post(
        "/screenings", {"campaign_id": world.campaign1.pk, "person_id": world.person12.pk}
    )

    assert response.status_code == 422
    assert "is closed" in response.json()["detail"][0]["msg"]
    assert counts(world) == before


# ---------------------------------------------------------------------------------------------
# Scope and permissions


def test_an_outsider_gets_404_for_a_campaign_its_coverage_and_its_screenings(
    world: World, api_as: ApiFor
) -> None:
    api = api_as("head2")
    screening = Screening.objects.get(campaign=world.campaign1, person=world.person11)

    assert api.get(f"/campaigns/{world.campaign1.pk}").status_code == 404
    assert api.get(f"/campaigns/{world.campaign1.pk}/coverage").status_code == 404
    assert api.get(f"/screenings/{screening.pk}").status_code == 404
    assert (
        api.post(
            f"/campaigns/{world.campaign1.pk}/households/{world.household12.pk}/nobody-home"
        ).status_code
        == 404
    )
    assert [c["name"] for c in api.get("/campaigns").json()["items"]] == ["二站摸排"]


def test_an_outsider_screening_in_another_unit_gets_no_such_campaign_or_person(
    world: World, api_as: ApiFor
) -> None:
    before = counts(world)

    response = api_as("head2").post(
        "/screenings", {"campaign_id": world.campaign1.pk, "person_id": world.person12.pk}
    )

    assert errors(response) == [
        ("campaign_id", "No such campaign in your scope."),
        ("person_id", "No such person in your scope."),
    ]
    assert counts(world) == before


def test_a_branch_wide_campaign_is_seen_by_the_grid_worker_of_one_grid(
    world: World, api_as: ApiFor
) -> None:
    branch = services.create_campaign(
        actor=None, name="全局摸排", unit=world.branch, start=dt.date(2020, 2, 1)
    )
    api = api_as("worker11")

    assert api.get(f"/campaigns/{branch.pk}").status_code == 200
    coverage = api.get(f"/campaigns/{branch.pk}/coverage").json()
    assert [r["unit"]["code"] for r in coverage["rows"]] == ["LZ-01"]
    assert coverage["total"]["households_total"] == 1  # only their grid


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/screenings", {"person_id": "person12"}),
        ("/arrivals", {"person_id": "person12", "from_region_code": WUCHANG}),
        ("/campaigns", {"name": "新一轮", "unit_id": "unit1", "start": "2020-02-10"}),
        ("/risk-areas", {"region_code": WUCHANG, "level": "high", "start": "2020-02-10"}),
        ("/risk-areas/end", {"region_code": "420100", "end": "2020-02-10"}),
    ],
)
def test_an_auditor_may_not_write_and_nothing_is_written(
    world: World, api_as: ApiFor, wuhan_high: RiskAreaPeriod, path: str, body: dict[str, Any]
) -> None:
    body = {k: getattr(world, v).pk if hasattr(world, str(v)) else v for k, v in body.items()}
    body["campaign_id"] = world.campaign1.pk
    before = (counts(world), Campaign.objects.count(), list(RiskAreaPeriod.objects.values()))

    response = api_as("auditor1").post(path, body)

    assert response.status_code == 403, response.content
    after = (counts(world), Campaign.objects.count(), list(RiskAreaPeriod.objects.values()))
    assert after == before


def test_an_auditor_may_not_record_a_visit(world: World, api_as: ApiFor) -> None:
    before = counts(world)

    response = api_as("auditor1").post(
        f"/campaigns/{world.campaign1.pk}/households/{world.household12.pk}/nobody-home"
    )

    assert response.status_code == 403
    assert counts(world) == before


def test_a_unit_head_may_not_open_or_close_a_campaign(world: World, api_as: ApiFor) -> None:
    api = api_as("head1")

    created = api.post(
        "/campaigns", {"name": "新一轮", "unit_id": world.unit1.pk, "start": "2020-02-10"}
    )
    closed = api.post(f"/campaigns/{world.campaign1.pk}/close")

    assert (created.status_code, closed.status_code) == (403, 403)
    world.campaign1.refresh_from_db()
    assert world.campaign1.is_open


# ---------------------------------------------------------------------------------------------
# Visits


def test_nobody_home_keeps_the_household_on_the_list_then_checked_counts_it(
    world: World, api_as: ApiFor
) -> None:
    api = api_as("head1")
    url = f"/campaigns/{world.campaign1.pk}/households/{world.household12.pk}"

    nobody = api.post(f"{url}/nobody-home", {"at": SCREENED_AT, "note": "敲门无人"})
    after_nobody = total(api, world)
    checked = api.post(f"{url}/checked", {"at": "2020-02-11T10:00:00+08:00"})

    assert nobody.status_code == 200, nobody.content
    assert {k: nobody.json()[k] for k in ("outcome", "status", "visits")} == {
        "outcome": "nobody_home",
        "status": "nobody_home",
        "visits": 1,
    }
    assert (after_nobody["households_visited"], after_nobody["households_nobody_home"]) == (1, 1)
    assert {k: checked.json()[k] for k in ("outcome", "status", "visits")} == {
        "outcome": "answered",
        "status": "visited",
        "visits": 2,
    }
    after = total(api, world)
    assert (after["households_visited"], after["households_nobody_home"]) == (2, 0)


def test_a_household_outside_the_campaign_is_a_422(world: World, api_as: ApiFor) -> None:
    branch = services.create_campaign(
        actor=None, name="二站专项", unit=world.unit2, start=dt.date(2020, 2, 1)
    )
    response = api_as("office").post(
        f"/campaigns/{branch.pk}/households/{world.household12.pk}/nobody-home"
    )

    assert response.status_code == 422
    assert "outside the campaign's scope" in response.json()["detail"][0]["msg"]


# ---------------------------------------------------------------------------------------------
# New arrivals


def test_an_arrival_registered_late_is_flagged_and_classified(
    world: World, api_as: ApiFor, wuhan_high: RiskAreaPeriod
) -> None:
    response = api_as("worker11").post(
        "/arrivals",
        {
            "person_id": world.person11b.pk,
            "from_region_code": WUCHANG,
            "departed_at": "2020-02-09T20:00:00+08:00",
            "arrived_at": "2020-02-10T02:00:00+08:00",
            "registered_at": "2020-02-10T08:01:00+08:00",
            "transport": "car",
        },
    )

    assert response.status_code == 201, response.content
    result = response.json()
    assert (result["kind"], result["campaign"], result["late_registration"]) == (
        "arrival",
        None,
        True,
    )
    assert (result["category"], result["is_key"]) == ("risk_area_arrival", True)
    assert TimelineEvent.objects.filter(person=world.person11b, kind="arrival").count() == 1


def test_an_arrival_within_the_limit_is_not_late(world: World, api_as: ApiFor) -> None:
    response = api_as("worker11").post(
        "/arrivals",
        {
            "person_id": world.person11b.pk,
            "from_region_code": "620702",
            "arrived_at": "2020-02-10T02:00:00+08:00",
            "registered_at": "2020-02-10T08:00:00+08:00",
        },
    )

    assert (response.json()["late_registration"], response.json()["is_key"]) == (False, False)


def test_an_arrival_needs_where_and_when_and_cannot_follow_its_registration(
    world: World, api_as: ApiFor
) -> None:
    api = api_as("worker11")

    missing = api.post("/arrivals", {"person_id": world.person11b.pk})
    later = api.post(
        "/arrivals",
        {
            "person_id": world.person11b.pk,
            "from_region_code": WUCHANG,
            "arrived_at": "2020-02-10T09:00:00+08:00",
            "registered_at": "2020-02-10T08:00:00+08:00",
        },
    )

    assert sorted(fields(missing)) == ["arrived_at", "from_region_code"]
    assert fields(later) == ["arrived_at"]
    assert not Screening.objects.filter(kind="arrival").exists()


# ---------------------------------------------------------------------------------------------
# The ledger


def test_the_ledger_masks_numbers_and_filters(
    world: World, api_as: ApiFor, wuhan_high: RiskAreaPeriod
) -> None:
    api = api_as("head1")
    api.post(
        "/screenings",
        {
            "campaign_id": world.campaign1.pk,
            "person_id": world.person12.pk,
            "screened_at": SCREENED_AT,
            "from_region_code": WUCHANG,
            "arrived_at": "2020-02-05T09:30:00+08:00",
        },
    )

    everything = api.get("/screenings").json()
    key_only = api.get("/screenings", key_only="true").json()
    by_name = api.get("/screenings", q="张建国").json()
    in_grid = api.get("/screenings", unit_id=world.grid12.pk).json()

    assert everything["count"] == 2
    person = next(i["person"] for i in everything["items"] if i["person"]["name"] == "李秀英")
    full = world.person12.id_number
    assert person["id_number"] == full[:6] + "********" + full[-4:]
    assert person["phone"] == "137****5555"
    assert world.person12.id_number not in json.dumps(everything)
    assert [i["person"]["name"] for i in key_only["items"]] == ["李秀英"]
    assert [i["person"]["name"] for i in by_name["items"]] == ["张建国"]
    assert [i["person"]["name"] for i in in_grid["items"]] == ["李秀英"]


def test_the_ledger_is_paginated_and_an_unknown_campaign_filter_is_a_422(
    world: World, api_as: ApiFor
) -> None:
    api = api_as("office")

    page = api.get("/screenings", limit=1, offset=1).json()
    outsider = api_as("head1").get("/screenings", campaign_id=world.campaign2.pk)

    assert (page["count"], page["limit"], page["offset"], len(page["items"])) == (2, 1, 1, 1)
    assert errors(outsider) == [("campaign_id", "No such campaign in your scope.")]


def test_a_contact_outside_the_scope_is_not_named(world: World, api_as: ApiFor) -> None:
    services.screen_person(
        actor=None,
        campaign=world.campaign2,
        person=world.person21,
        at=dt.datetime(2020, 2, 10, 10, tzinfo=CST),
        contact_kind="risk_arrival",
        contact_person=world.person11,
    )

    item = api_as("head2").get("/screenings").json()["items"][0]
    office = api_as("office").get("/screenings", campaign_id=world.campaign2.pk).json()

    assert (item["contact_kind"], item["contact_person"]) == ("risk_arrival", None)
    assert office["items"][0]["contact_person"] == {"id": world.person11.pk, "name": "张建国"}


# ---------------------------------------------------------------------------------------------
# Risk areas and campaigns


def test_the_office_sets_and_ends_a_risk_level(world: World, api_as: ApiFor) -> None:
    api = api_as("office")

    created = api.post(
        "/risk-areas",
        {"region_code": WUCHANG, "level": "high", "start": "2020-01-23", "note": "通告1号"},
    )
    ended = api.post("/risk-areas/end", {"region_code": WUCHANG, "end": "2020-03-31"})
    listed = api.get("/risk-areas", q="武昌").json()

    assert created.status_code == 201, created.content
    assert created.json()["region"]["full_name"] == "湖北省 武汉市 武昌区"
    assert (ended.status_code, ended.json()["end"]) == (200, "2020-03-31")
    assert listed["count"] == 1
    assert listed["items"][0]["level"] == "high"
    assert api.get("/risk-areas", current="true", q="武昌").json()["count"] == 0


def test_risk_level_errors_name_their_fields(
    world: World, api_as: ApiFor, wuhan_high: RiskAreaPeriod
) -> None:
    api = api_as("office")

    unknown = api.post(
        "/risk-areas", {"region_code": "999999", "level": "high", "start": "2020-02-01"}
    )
    overlap = api.post(
        "/risk-areas",
        {"region_code": "420100", "level": "medium", "start": "2020-01-01", "end": "2020-01-30"},
    )
    backwards = api.post(
        "/risk-areas",
        {"region_code": WUCHANG, "level": "low", "start": "2020-02-01", "end": "2020-01-30"},
    )
    not_open = api.post("/risk-areas/end", {"region_code": WUCHANG, "end": "2020-02-01"})

    assert fields(unknown) == ["region_code"]
    assert fields(overlap) == ["start"]
    assert fields(backwards) == ["end"]
    assert fields(not_open) == ["end"]


def test_the_office_opens_a_campaign_and_closes_it(world: World, api_as: ApiFor) -> None:
    api = api_as("office")

    created = api.post(
        "/campaigns",
        {
            "name": "第二轮摸排",
            "unit_id": world.unit1.pk,
            "start": "2020-02-15",
            "instructions": "逐户",
        },
    )
    campaign_id = created.json()["id"]
    closed = api.post(f"/campaigns/{campaign_id}/close")
    again = api.post(f"/campaigns/{campaign_id}/close")
    listed = api.get("/campaigns", status="closed").json()

    assert created.status_code == 201, created.content
    assert created.json()["unit"]["code"] == "LZ-01"
    assert (closed.status_code, closed.json()["status"]) == (200, "closed")
    assert again.status_code == 422
    assert [c["id"] for c in listed["items"]] == [campaign_id]


def test_a_campaign_needs_a_unit_in_scope_and_a_sane_period(world: World, api_as: ApiFor) -> None:
    api = api_as("office")

    unknown = api.post("/campaigns", {"name": "x", "unit_id": 987654, "start": "2020-02-15"})
    backwards = api.post(
        "/campaigns",
        {"name": "x", "unit_id": world.unit1.pk, "start": "2020-02-15", "end": "2020-02-01"},
    )

    assert errors(unknown) == [("unit_id", "No such org unit in your scope.")]
    assert fields(backwards) == ["end"]


def test_coverage_drills_down_to_a_unit_of_the_campaign(world: World, api_as: ApiFor) -> None:
    branch = services.create_campaign(
        actor=None, name="全局摸排", unit=world.branch, start=dt.date(2020, 2, 1)
    )
    api = api_as("office")

    top = api.get(f"/campaigns/{branch.pk}/coverage").json()
    down = api.get(f"/campaigns/{branch.pk}/coverage", unit_id=world.unit1.pk).json()
    outside = api.get(f"/campaigns/{world.campaign1.pk}/coverage", unit_id=world.unit2.pk)

    assert [r["unit"]["code"] for r in top["rows"]] == ["LZ-01", "LZ-02"]
    assert top["total"]["households_total"] == 3
    assert [r["unit"]["code"] for r in down["rows"]] == ["LZ-01-01", "LZ-01-02"]
    assert down["total"]["unit"]["code"] == "LZ-01"
    assert fields(outside) == ["unit_id"]
