"""The screening ledger page, one screening result, and the person page's screening section:
filters, scope, masking and query budgets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fangkong.core.testing import World
from fangkong.core.testing import english_client as _client
from fangkong.org.models import Household, Person, person_search_text
from fangkong.screening import services, views_ledger
from fangkong.screening.models import ContactLink, Region, Screening

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2020, 2, 10, 10, 0, tzinfo=TZ)
AT = dt.datetime(2020, 2, 5, 9, 30, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _frozen_time() -> Iterator[None]:
    """Today is 2020-02-10; the session's last-seen time is kept out of the query counts."""
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def ledger_world(world: World, regions: None) -> World:
    """person12 screened in campaign1 on 2020-02-05: back from Wuhan (high risk) by train
    G1234 with a fever and a cough (key and urgent); person11b registered as a new arrival
    from Wuhan eight hours after arriving (late). person11 (no risk, 2020-02-02) and person21
    (LZ-02) come from the world."""
    wuhan = Region.objects.get(pk="420100")
    services.set_risk_level(actor=None, region=wuhan, level="high", start=dt.date(2020, 1, 20))
    services.screen_person(
        actor=None,
        campaign=world.campaign1,
        person=world.person12,
        at=AT,
        from_region=wuhan,
        departed_at=AT - dt.timedelta(days=3, hours=5),
        arrived_at=AT - dt.timedelta(days=3),
        transport="train",
        transport_no="G1234",
        temperature=Decimal("37.8"),
        symptoms=["cough"],
    )
    services.register_arrival(
        actor=None,
        person=world.person11b,
        from_region=wuhan,
        arrived_at=AT - dt.timedelta(hours=8),
        registered_at=AT + dt.timedelta(hours=1),
    )
    return world


def _rows(client: Client, query: str = "") -> list[str]:
    response = client.get(f"/screening/ledger/{query}")
    assert response.status_code == 200
    return [s.person.name for s in response.context["page"]]


# ---------------------------------------------------------------------------------------------
# Filters


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["张小明", "李秀英", "张建国"]),
        ("?q=李秀", ["李秀英"]),
        ("?q=13912345678", ["张建国"]),
        ("?kind=arrival", ["张小明"]),
        ("?kind=door", ["李秀英", "张建国"]),
        ("?category=risk_area_arrival", ["张小明", "李秀英"]),
        ("?category=no_risk", ["张建国"]),
        ("?key_only=on", ["张小明", "李秀英"]),
        ("?urgent_only=on", ["李秀英"]),
        ("?late_only=on", ["张小明"]),
        ("?date_from=2020-02-03", ["张小明", "李秀英"]),
        ("?date_to=2020-02-02", ["张建国"]),
        ("?date_from=2020-02-02&date_to=2020-02-02", ["张建国"]),
    ],
)
def test_the_filters_give_exactly_their_rows(
    ledger_world: World, query: str, expected: list[str]
) -> None:
    assert _rows(_client(ledger_world, "head1"), query) == expected


def test_the_campaign_and_unit_filters(ledger_world: World) -> None:
    world = ledger_world
    client = _client(world, "leader")

    assert _rows(client, f"?campaign={world.campaign2.pk}") == ["王立新"]
    assert _rows(client, f"?unit={world.grid12.pk}") == ["李秀英"]
    assert _rows(client, f"?unit={world.unit1.pk}") == ["张小明", "李秀英", "张建国"]
    # The same time: the one recorded last first.
    assert _rows(client) == ["张小明", "李秀英", "王立新", "张建国"]


def test_a_campaign_outside_the_scope_is_not_a_choice(ledger_world: World) -> None:
    world = ledger_world
    client = _client(world, "head2")

    response = client.get("/screening/ledger/")

    assert [c for c, _label in response.context["form"].fields["campaign"].choices if c] == [
        world.campaign2.pk
    ]
    # Asked for anyway: the filter is invalid and ignored, nothing of LZ-01 shows.
    assert _rows(client, f"?campaign={world.campaign1.pk}") == ["王立新"]


def test_htmx_filtering_answers_the_results_only(ledger_world: World) -> None:
    client = _client(ledger_world, "head1")

    response = client.get("/screening/ledger/?urgent_only=on", headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<form" not in html
    assert 'id="result-count"' in html
    assert "李秀英" in html and "张建国" not in html


def test_a_row_shows_the_findings_and_why_the_rules_fired(ledger_world: World) -> None:
    html = _client(ledger_world, "head1").get("/screening/ledger/?urgent_only=on").content.decode()

    assert "湖北省 武汉市" in html
    assert "Train G1234" in html
    assert "37.8 °C" in html
    assert "Dry cough" in html
    assert "key person" in html and "urgent" in html
    assert "Temperature 37.8 °C, at or above 37.3 °C" in html
    assert "Arrived on 2020-02-02 from 武汉市, High risk on 2020-02-02 (within 14 days)" in html


# ---------------------------------------------------------------------------------------------
# Scope and masking


def test_an_outsider_sees_none_of_lz01s_rows(ledger_world: World) -> None:
    world = ledger_world
    client = _client(world, "head2")

    response = client.get("/screening/ledger/")
    html = response.content.decode()

    assert _rows(client) == ["王立新"]
    for name in ("张建国", "张小明", "李秀英", "一站摸排", "一站一网格"):
        assert name not in html
    assert _rows(client, "?q=张建国") == []


def test_an_outsider_gets_404_on_a_result_of_lz01(ledger_world: World) -> None:
    world = ledger_world
    screening = Screening.objects.get(person=world.person12)
    client = _client(world, "head2")

    assert client.get(f"/screening/screenings/{screening.pk}/").status_code == 404
    assert client.get(f"/screening/persons/{world.person12.pk}/screenings/").status_code == 404


def test_a_user_without_screening_rights_is_refused(ledger_world: World) -> None:
    client = _client(ledger_world, "gate1")

    assert client.get("/screening/ledger/").status_code == 403
    assert (
        client.get(f"/screening/persons/{ledger_world.person11.pk}/screenings/").status_code == 403
    )


def test_id_and_phone_numbers_are_masked_on_the_page(ledger_world: World) -> None:
    world = ledger_world
    html = _client(world, "head1").get("/screening/ledger/").content.decode()
    detail = (
        _client(world, "head1")
        .get(f"/screening/screenings/{Screening.objects.get(person=world.person11).pk}/")
        .content.decode()
    )

    for text in (html, detail):
        assert world.person11.id_number not in text
        assert world.person11.phone not in text
        assert "620723********1316"[:6] in text
        assert "139****5678" in text


# ---------------------------------------------------------------------------------------------
# One result


def test_the_detail_shows_the_result_and_its_corrections(ledger_world: World) -> None:
    world = ledger_world
    services.screen_person(
        actor=world.user("worker11"),
        campaign=world.campaign1,
        person=world.person11,
        at=AT,
        temperature=Decimal("38.2"),
    )
    screening = Screening.objects.get(person=world.person11)

    html = _client(world, "auditor1").get(f"/screening/screenings/{screening.pk}/").content.decode()

    assert f'href="{world.person11.get_absolute_url()}"' in html
    assert "一站摸排" in html
    assert "Temperature 38.2 °C, at or above 37.3 °C" in html
    assert 'id="audit-trail"' in html
    assert "— → 38.2" in html


def test_the_detail_has_no_audit_trail_without_the_right(ledger_world: World) -> None:
    world = ledger_world
    screening = Screening.objects.get(person=world.person11)

    html = _client(world, "worker11").get(f"/screening/screenings/{screening.pk}/").content.decode()

    assert 'id="audit-trail"' not in html


def test_the_person_page_loads_the_screening_section_for_those_who_may_see_it(
    ledger_world: World,
) -> None:
    world = ledger_world
    url = f"/screening/persons/{world.person11.pk}/screenings/"

    with_right = _client(world, "head1").get(world.person11.get_absolute_url()).content.decode()
    without = _client(world, "gate1").get(world.person11.get_absolute_url()).content.decode()
    fragment = _client(world, "head1").get(url).content.decode()

    assert f'hx-get="{url}"' in with_right
    assert url not in without
    assert "<html" not in fragment
    assert "一站摸排" in fragment and "No risk" in fragment


# ---------------------------------------------------------------------------------------------
# Query budgets: the same number of queries for 10 rows as for 200, within a budget. Every
# page starts with three: the session, the user, the user's role assignments (the scope).

BUDGETS = {
    # the filter's units, its campaigns, count, page (everything shown joined)
    "ledger": 7,
    # the result (joined), its audit trail, the persons and the users the trail names
    "screening_detail": 7,
    # person, results, then the contact graph: the links of each step (2), which of the
    # persons met the user may see
    "person_screenings": 8,
}
FEW, MANY = 10, 200


def _grow_ledger(world: World, total: int) -> str:
    """``total`` results in grid11, every other one with a contact in the register."""
    have = Screening.objects.filter(grid=world.grid11).count()
    household = Household.objects.create(grid=world.grid11, address="一站9排1号")
    persons = Person.objects.bulk_create(
        Person(
            name=f"居民{have + i}",
            grid=world.grid11,
            household=household,
            search_text=person_search_text(f"居民{have + i}", "", ""),
        )
        for i in range(total - have)
    )
    Screening.objects.bulk_create(
        Screening(
            campaign=world.campaign1,
            person=p,
            grid=world.grid11,
            household=household,
            screened_at=AT,
            from_region_id="420100",
            arrived_at=AT - dt.timedelta(days=1),
            contact_kind="risk_arrival" if i % 2 else "",
            contact_person=world.person21 if i % 2 else None,
            reasons=[{"rule": "fever", "temperature": "37.5", "threshold": "37.3"}],
            is_urgent=True,
        )
        for i, p in enumerate(persons)
    )
    return "/screening/ledger/"


def _grow_history(world: World, total: int) -> str:
    """A result corrected ``total`` times (the temperature and the screener changing)."""
    screening = Screening.objects.get(person=world.person11)
    historical = screening.history.model
    current = {
        f.attname: getattr(screening, f.attname)
        for f in historical._meta.fields
        if hasattr(screening, f.attname)
    }
    users = [world.user("worker11").pk, world.user("head1").pk]
    have = screening.history.count()
    historical.objects.bulk_create(
        historical(
            **{
                **current,
                "temperature": Decimal("36.0") + Decimal(i % 10) / 10,
                "screened_by_id": users[i % 2],
                "contact_person_id": world.person11b.pk if i % 2 else None,
            },
            history_date=NOW - dt.timedelta(minutes=total - i),
            history_type="~",
            history_user=world.user("worker11"),
        )
        for i in range(have, total)
    )
    return f"/screening/screenings/{screening.pk}/"


def _grow_person(world: World, total: int) -> str:
    """person11 screened ``total`` times (new arrivals) and met by ``total`` people."""
    person = world.person11
    have = Screening.objects.filter(person=person).count()
    Screening.objects.bulk_create(
        Screening(
            kind=Screening.Kind.ARRIVAL,
            person=person,
            grid=world.grid11,
            screened_at=AT - dt.timedelta(hours=i),
            reasons=[{"rule": "symptoms", "symptoms": ["cough"]}],
        )
        for i in range(have, total)
    )
    have = ContactLink.objects.filter(source=person).count()
    ContactLink.objects.bulk_create(
        ContactLink(person=person, source_name=f"访客{i}", kind="fever") for i in range(have, total)
    )
    return f"/screening/persons/{person.pk}/screenings/"


PAGES: dict[str, Callable[[World, int], str]] = {
    "ledger": _grow_ledger,
    "screening_detail": _grow_history,
    "person_screenings": _grow_person,
}


def _measure(client: Client, url: str) -> tuple[int, int]:
    client.get(url)  # warm up: the session's first write, translations, caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, f"GET {url}: {response.status_code}"
    return len(queries), len(response.content)


@pytest.mark.parametrize("key", list(PAGES))
def test_a_page_costs_the_same_queries_for_200_rows_as_for_10(
    ledger_world: World, key: str
) -> None:
    world = ledger_world
    client = _client(world, "head1")

    few, few_size = _measure(client, PAGES[key](world, FEW))
    many, many_size = _measure(client, PAGES[key](world, MANY))

    assert many_size > few_size, f"{key}: the rows added are not in the answer"
    assert many == few, f"{key}: {few} queries for {FEW} rows, {many} for {MANY}"
    assert many <= BUDGETS[key], f"{key}: {many} queries, budget {BUDGETS[key]}"


def test_a_ledger_longer_than_the_count_cap_says_more_than_and_still_pages(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At a million results the ledger stops counting at the cap (the database stops there)."""
    monkeypatch.setattr(views_ledger, "LEDGER_COUNT_CAP", 1)
    monkeypatch.setattr(views_ledger, "LEDGER_PAGE_SIZE", 1)
    client = _client(world, "office")  # sees both campaigns' results: 张建国, 王立新

    first = client.get("/screening/ledger/")
    second = client.get("/screening/ledger/?page=2")

    assert "More than 1 results: narrow them down with the filters" in first.content.decode()
    assert first.context["page"].paginator.capped is True
    names = [s.person.name for s in first.context["page"]] + [
        s.person.name for s in second.context["page"]
    ]
    assert sorted(names) == ["张建国", "王立新"]
    one = client.get("/screening/ledger/?campaign=" + str(world.campaign1.pk))
    assert one.context["page"].paginator.capped is False
    assert "1 result" in one.content.decode()
