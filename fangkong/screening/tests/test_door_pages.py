"""The phone pages at the door and the new-arrival registration, through Django's test client."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from fangkong.core.testing import World
from fangkong.core.testing import english_client as _client
from fangkong.org import services as org_services
from fangkong.org.models import Household, Person
from fangkong.screening import selectors, services
from fangkong.screening.models import (
    CampaignHousehold,
    ContactLink,
    HouseholdVisit,
    Region,
    Screening,
)

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2020, 2, 10, 10, 30, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _frozen_time() -> Iterator[None]:
    """Today is 2020-02-10, 10:30 in Beijing: inside campaign1 (from 2020-02-01)."""
    with time_machine.travel(NOW, tick=False):
        yield


def _household_url(world: World, household: Household | None = None) -> str:
    household = household or world.household11
    return f"/screening/campaigns/{world.campaign1.pk}/households/{household.pk}/"


def _person_url(world: World, person: Person, action: str = "") -> str:
    return f"/screening/campaigns/{world.campaign1.pk}/persons/{person.pk}/{action}"


def _text(response: Any) -> str:
    """The page's text without tags, spaces collapsed."""
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _count(response: Any, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">([^<]*)<', response.content.decode())
    assert match is not None, f"no #{element_id} in the page"
    return match.group(1).strip()


def _row(response: Any, person: Person) -> str:
    """The HTML of ``person``'s row on the household page."""
    html = response.content.decode()
    start = html.index(f'id="person-{person.pk}"')
    ends = [html.find(m, start + 1) for m in ('<li id="person-', 'id="household-actions"')]
    return html[start : min(e for e in ends if e > 0)]


def _high_risk_wuhan() -> Region:
    wuhan = Region.objects.get(pk="420100")
    services.set_risk_level(actor=None, region=wuhan, level="high", start=dt.date(2020, 1, 20))
    return wuhan


def _form(**values: Any) -> dict[str, Any]:
    """A door screening form as the phone posts it: every field, empty unless given."""
    body: dict[str, Any] = {
        "presence": "present",
        "from_region": "",
        "departed_at": "",
        "arrived_at": "",
        "transport": "",
        "transport_no": "",
        "stopovers": "",
        "contact_kind": "",
        "contact_person": "",
        "contact_name": "",
        "contact_relation": "",
        "contact_mode": "",
        "contact_date": "",
        "temperature": "",
        "note": "",
    }
    body.update(values)
    return body


def _writes() -> tuple[int, int, int, int]:
    return (
        Screening.objects.count(),
        HouseholdVisit.objects.count(),
        CampaignHousehold.objects.count(),
        Person.objects.count(),
    )


# ---------------------------------------------------------------------------------------------
# The household at the door


def test_the_door_page_lists_the_members_and_the_grid_coverage(world: World) -> None:
    response = _client(world, "worker11").get(_household_url(world))

    assert response.status_code == 200
    text = _text(response)
    assert "一站1排3号" in text and "一站一网格" in text
    # grid LZ-01-01: one household (visited through 张建国), two persons, one screened.
    assert _count(response, "coverage-households") == "1 / 1"
    assert _count(response, "coverage-persons") == "1 / 2"
    assert "张建国" in text and "张小明" in text
    html = response.content.decode()
    # 张小明 is still to screen: one tap or the details; 张建国 is done: only a change.
    assert f'action="{_person_url(world, world.person11b, "quick/")}"' in html
    assert f'href="{_person_url(world, world.person11b)}"' in html
    assert f'action="{_person_url(world, world.person11, "quick/")}"' not in html


def test_one_tap_screens_a_person_and_the_coverage_goes_up(world: World) -> None:
    client = _client(world, "worker11")

    response = client.post(
        _person_url(world, world.person11b, "quick/"), headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    screening = Screening.objects.get(campaign=world.campaign1, person=world.person11b)
    assert (screening.presence, screening.category, screening.is_key, screening.is_urgent) == (
        "present",
        "no_risk",
        False,
        False,
    )
    assert screening.screened_by == world.user("worker11")
    html = response.content.decode()
    # The row, and the coverage and the household's buttons swapped out of band.
    assert html.lstrip().startswith(f'<li id="person-{world.person11b.pk}"')
    assert "No risk" in html
    assert re.search(r'id="coverage"[^>]*hx-swap-oob="true"', html)
    assert _count(response, "coverage-persons") == "2 / 2"
    assert re.search(r'id="household-actions"[^>]*hx-swap-oob="true"', html)
    assert 'id="checked"' in html  # nobody left to screen: the household can be closed
    assert _count(client.get(_household_url(world)), "coverage-persons") == "2 / 2"


def test_one_tap_without_script_redirects_to_the_household(world: World) -> None:
    client = _client(world, "worker11")

    response = client.post(_person_url(world, world.person11b, "quick/"))

    assert response.status_code == 302
    assert response["Location"] == f"{_household_url(world)}#person-{world.person11b.pk}"
    page = client.get(_household_url(world))
    assert "张小明 screened: No risk." in _text(page)
    # Opened as a link (GET), the action only asks: nothing is written.
    before = _writes()
    confirm = client.get(_person_url(world, world.person11, "quick/"))
    assert confirm.status_code == 200
    assert _writes() == before


def test_nobody_home_keeps_the_household_on_the_to_do_list(world: World) -> None:
    household = org_services.create_household(actor=None, grid=world.grid11, address="一站2排8号")
    org_services.create_person(actor=None, name="赵红梅", household=household)
    client = _client(world, "worker11")
    worker = world.user("worker11")
    assert household in selectors.households_left(world.campaign1, worker)

    response = client.post(f"{_household_url(world, household)}nobody-home/")

    assert response.status_code == 302
    assert response["Location"] == _household_url(world, household)
    left = {
        h.pk: h.campaign_status  # type: ignore[attr-defined]
        for h in selectors.households_left(world.campaign1, worker)
    }
    assert left[household.pk] == "nobody_home"
    visit = HouseholdVisit.objects.get(household=household)
    assert (visit.outcome, visit.visited_by) == ("nobody_home", worker)
    page = client.get(_household_url(world, household))
    text = _text(page)
    assert "the household stays on the to-do list" in text
    assert "Nobody home" in text
    assert _count(page, "coverage-households") == "1 / 2"  # not visited: still to do
    assert 'id="nobody-home"' in page.content.decode()  # can be tried again later


def test_checked_closes_a_household_once_nobody_is_left(world: World) -> None:
    empty = org_services.create_household(actor=None, grid=world.grid11, address="一站2排9号")
    client = _client(world, "worker11")

    # household11: 张小明 is not screened yet, so it cannot be checked.
    refused = client.post(f"{_household_url(world)}checked/", follow=True)
    assert "not screened yet" in _text(refused)
    assert not HouseholdVisit.objects.filter(household=world.household11, visited_by__isnull=False)

    page = client.get(_household_url(world, empty))
    assert "Nobody is registered in this household." in _text(page)
    assert 'id="checked"' in page.content.decode()
    response = client.post(f"{_household_url(world, empty)}checked/", follow=True)

    assert response.status_code == 200
    state = CampaignHousehold.objects.get(campaign=world.campaign1, household=empty)
    assert state.status == "visited"
    assert _count(response, "coverage-households") == "2 / 2"
    assert empty not in selectors.households_left(world.campaign1, world.user("worker11"))


# ---------------------------------------------------------------------------------------------
# The full form


def test_a_high_risk_arrival_is_a_key_person_with_the_reason(world: World) -> None:
    _high_risk_wuhan()
    client = _client(world, "worker11")
    url = _person_url(world, world.person11b)
    form = client.get(url)
    assert form.status_code == 200
    assert 'name="from_region"' in form.content.decode()

    response = client.post(
        url,
        _form(
            from_region="420100",
            departed_at="2020-02-03T08:00",
            arrived_at="2020-02-03T20:30",
            transport="train",
            transport_no="g 1234",
            stopovers="西安",
            temperature="36.6",
            symptoms=[],
        ),
    )

    assert response.status_code == 302, _text(response)
    assert response["Location"] == f"{_household_url(world)}#person-{world.person11b.pk}"
    screening = Screening.objects.get(campaign=world.campaign1, person=world.person11b)
    assert (screening.category, screening.is_key, screening.is_urgent) == (
        "risk_area_arrival",
        True,
        False,
    )
    assert screening.from_region_id == "420100"
    assert screening.transport_no == "G1234"
    assert screening.arrived_at == dt.datetime(2020, 2, 3, 20, 30, tzinfo=TZ)
    page = client.get(_household_url(world))
    text = _text(page)
    assert "张小明 screened: Key person: Arrival from a risk area." in text  # the message
    row = _row(page, world.person11b)
    row_text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))
    assert "Key person" in row_text
    assert "Arrival from a risk area" in row_text
    assert "Arrived on 2020-02-03 from 武汉市, High risk on 2020-02-03 (within 14 days)" in row_text
    assert "Start observation" in row_text
    start = f'href="/observation/start/?person={world.person11b.pk}&amp;screening={screening.pk}"'
    assert start in row
    assert "border-warning" in row  # key, not urgent
    # The form opens again with what was recorded.
    again = client.get(url).content.decode()
    assert 'value="420100"' in again
    assert 'value="2020-02-03T20:30"' in again
    assert "湖北省 武汉市" in again


def test_fever_and_contact_are_urgent_and_linked(world: World) -> None:
    client = _client(world, "worker11")

    response = client.post(
        _person_url(world, world.person11b),
        _form(
            contact_kind="case",
            contact_person=str(world.person11.pk),
            contact_relation="family",
            contact_mode="meal",
            contact_date="2020-02-08",
            symptoms=["cough", "fever"],
            temperature="38,2",
        ),
    )

    assert response.status_code == 302, _text(response)
    screening = Screening.objects.get(campaign=world.campaign1, person=world.person11b)
    assert (screening.category, screening.is_key, screening.is_urgent) == (
        "close_contact",
        True,
        True,
    )
    assert screening.symptoms == ["fever", "cough"]
    assert str(screening.temperature) == "38.2"
    assert ContactLink.objects.filter(screening=screening, source=world.person11).exists()
    row = _row(client.get(_household_url(world)), world.person11b)
    assert "border-danger" in row and "Urgent" in row
    assert "Temperature 38.2 °C, at or above 37.3 °C" in row


def test_a_bad_temperature_shows_on_its_field_and_writes_nothing(world: World) -> None:
    client = _client(world, "worker11")
    before = _writes()

    response = client.post(_person_url(world, world.person11b), _form(temperature="48"))

    assert response.status_code == 200
    html = response.content.decode()
    error = re.search(r'id="id_temperature_error">([^<]*)<', html)
    assert error is not None
    assert "48 °C is not a body temperature" in error.group(1)
    assert re.search(r'<input[^>]*name="temperature"[^>]*aria-invalid="true"', html)
    assert _writes() == before


def test_a_region_without_arrival_time_shows_the_services_field_error(world: World) -> None:
    client = _client(world, "worker11")
    before = _writes()

    response = client.post(_person_url(world, world.person11b), _form(from_region="420100"))

    assert response.status_code == 200
    assert re.search(
        r'id="id_arrived_at_error">Enter when the person arrived', response.content.decode()
    )
    assert _writes() == before


def test_a_closed_campaign_says_so_instead_of_failing(world: World) -> None:
    services.close_campaign(actor=None, campaign=world.campaign1)
    client = _client(world, "worker11")
    before = _writes()

    form = client.post(_person_url(world, world.person11b), _form())
    tap = client.post(_person_url(world, world.person11b, "quick/"), headers={"HX-Request": "true"})
    nobody = client.post(f"{_household_url(world)}nobody-home/", follow=True)

    assert form.status_code == 200
    assert "The campaign 一站摸排 is closed" in _text(form)
    assert tap.status_code == 200
    assert "The campaign 一站摸排 is closed" in _text(tap)
    assert nobody.status_code == 200
    assert "The campaign 一站摸排 is closed" in _text(nobody)
    assert _writes() == before


# ---------------------------------------------------------------------------------------------
# Who may do what


def test_an_outsider_gets_404_on_the_door_pages_of_another_unit(world: World) -> None:
    client = _client(world, "head2")
    before = _writes()
    urls = [
        _household_url(world),
        f"{_household_url(world)}nobody-home/",
        f"{_household_url(world)}checked/",
        f"{_household_url(world)}add-person/",
        _person_url(world, world.person11b),
        _person_url(world, world.person11b, "quick/"),
        # Their own campaign with a household or person of LZ-01: not theirs either.
        f"/screening/campaigns/{world.campaign2.pk}/households/{world.household11.pk}/",
        f"/screening/campaigns/{world.campaign2.pk}/persons/{world.person11b.pk}/quick/",
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url, _form(name="外人")).status_code == 404, url
    assert _writes() == before


def test_a_campaign_does_not_reach_a_household_outside_its_scope(world: World) -> None:
    """The office sees both units, but campaign2 covers LZ-02 only."""
    client = _client(world, "office")
    url = f"/screening/campaigns/{world.campaign2.pk}/households/{world.household11.pk}/"

    assert client.get(url).status_code == 404
    assert (
        client.get(
            f"/screening/campaigns/{world.campaign1.pk}/households/{world.household11.pk}/"
        ).status_code
        == 200
    )


def test_the_auditor_may_not_record_and_nothing_is_written(world: World) -> None:
    client = _client(world, "auditor1")
    before = _writes()
    for url in [
        _person_url(world, world.person11b, "quick/"),
        _person_url(world, world.person11b),
        f"{_household_url(world)}nobody-home/",
        f"{_household_url(world)}checked/",
        f"{_household_url(world)}add-person/",
        "/screening/arrivals/new/",
    ]:
        assert client.post(url, _form(name="审计")).status_code == 403, url
    assert _writes() == before


def test_a_contact_from_outside_the_scope_cannot_be_chosen(world: World) -> None:
    client = _client(world, "worker11")

    response = client.post(
        _person_url(world, world.person11b),
        _form(contact_kind="case", contact_person=str(world.person21.pk)),
    )
    search = client.get("/screening/door/persons/?q=王立新&field=contact_person")

    assert response.status_code == 200
    assert 'id="id_contact_person_error"' in response.content.decode()
    assert not Screening.objects.filter(person=world.person11b).exists()
    assert "王立新" not in search.content.decode()


def test_the_searches_under_the_fields(world: World) -> None:
    client = _client(world, "worker11")

    regions = client.get("/screening/door/regions/?q=武汉").content.decode()
    persons = client.get("/screening/door/persons/?q=张&field=person").content.decode()

    assert 'data-code="420100"' in regions and "湖北省 武汉市" in regions
    assert "张建国" in persons and "张小明" in persons
    assert "13912345678" not in persons  # masked
    assert 'data-field="person"' in persons


# ---------------------------------------------------------------------------------------------
# A person found at the door


def test_a_person_found_at_the_door_is_added_and_can_be_screened(world: World) -> None:
    client = _client(world, "worker11")
    url = f"{_household_url(world)}add-person/"
    assert client.get(url).status_code == 200

    response = client.post(
        url, {"name": "张小红", "sex": "F", "id_number": "", "phone": "", "relation": "child"}
    )

    person = Person.objects.get(name="张小红")
    assert (person.household, person.grid, person.relation) == (
        world.household11,
        world.grid11,
        "child",
    )
    assert response.status_code == 302
    assert response["Location"] == f"{_household_url(world)}#person-{person.pk}"
    page = client.get(_household_url(world))
    assert "张小红 added to the household: screen them now." in _text(page)
    assert f'action="{_person_url(world, person, "quick/")}"' in page.content.decode()
    assert _count(page, "coverage-persons") == "1 / 3"


def test_a_bad_id_number_at_the_door_shows_on_its_field(world: World) -> None:
    client = _client(world, "worker11")
    before = _writes()

    response = client.post(
        f"{_household_url(world)}add-person/",
        {"name": "张小红", "sex": "F", "id_number": "123", "phone": "", "relation": "child"},
    )

    assert response.status_code == 200
    assert 'id="id_id_number_error"' in response.content.decode()
    assert _writes() == before


# ---------------------------------------------------------------------------------------------
# New arrivals


def _arrival(**values: Any) -> dict[str, Any]:
    body = _form(
        person="",
        name="",
        sex="U",
        id_number="",
        phone="",
        household="",
        grid="",
        registered_at="2020-02-10T10:00",
    )
    body.pop("presence")
    body.update(values)
    return body


@pytest.mark.parametrize(
    ("registered_at", "late"), [("2020-02-10T10:00", False), ("2020-02-10T10:01", True)]
)
def test_an_arrival_is_late_one_minute_past_the_limit(
    world: World, registered_at: str, late: bool
) -> None:
    client = _client(world, "worker11")

    response = client.post(
        "/screening/arrivals/new/",
        _arrival(
            person=str(world.person11b.pk),
            from_region="620702",
            arrived_at="2020-02-10T04:00",  # the limit is 6 hours
            registered_at=registered_at,
            transport="coach",
        ),
    )

    assert response.status_code == 302, _text(response)
    screening = Screening.objects.get(kind="arrival", person=world.person11b)
    assert screening.late_registration is late
    assert screening.campaign is None
    assert response["Location"] == f"/screening/arrivals/new/?registered={screening.pk}"
    page = client.get(response["Location"])
    text = _text(page)
    assert "Arrival of 张小明 registered: No risk." in text
    if late:
        assert 'id="late"' in page.content.decode()
        assert "Registered late: more than 6 hours after arriving." in text
    else:
        assert 'id="on-time"' in page.content.decode()
        assert "Registered late" not in text


def test_a_new_person_arriving_from_a_risk_area_is_added_and_classified(world: World) -> None:
    _high_risk_wuhan()
    client = _client(world, "worker11")
    assert client.get("/screening/arrivals/new/").status_code == 200

    response = client.post(
        "/screening/arrivals/new/",
        _arrival(
            name="刘返乡",
            sex="M",
            household=str(world.household11.pk),
            from_region="420100",
            arrived_at="2020-02-09T18:00",
            transport="train",
            transport_no="K123",
        ),
    )

    assert response.status_code == 302, _text(response)
    person = Person.objects.get(name="刘返乡")
    assert person.household == world.household11
    screening = Screening.objects.get(kind="arrival", person=person)
    assert (screening.is_key, screening.category, screening.late_registration) == (
        True,
        "risk_area_arrival",
        True,
    )
    page = _text(client.get(response["Location"]))
    assert "Key person" in page and "Arrived on 2020-02-09 from 武汉市" in page


def test_a_failed_arrival_adds_no_new_person(world: World) -> None:
    client = _client(world, "worker11")
    before = _writes()

    response = client.post(
        "/screening/arrivals/new/",
        _arrival(
            name="刘返乡",
            grid=str(world.grid11.pk),
            from_region="420100",
            arrived_at="2020-02-10T09:00",
            temperature="25",
        ),
    )

    assert response.status_code == 200
    assert 'id="id_temperature_error"' in response.content.decode()
    assert _writes() == before


def test_an_arrival_needs_a_person_and_an_arrival_time(world: World) -> None:
    client = _client(world, "worker11")
    before = _writes()

    response = client.post("/screening/arrivals/new/", _arrival(from_region="420100"))

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_name_error"' in html and 'id="id_arrived_at_error"' in html
    assert _writes() == before
