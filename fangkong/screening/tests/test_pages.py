"""The risk-area pages: list with filters, adding and ending a period, the region search."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from fangkong.core.testing import World
from fangkong.core.testing import english_client as _client
from fangkong.screening import services
from fangkong.screening.models import Region, RiskAreaPeriod

D = dt.date
NOW = dt.datetime(2020, 2, 10, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))

# Queries of the list: session, user, role assignments, count, page (with region, prefecture,
# province and author joined).
LIST_BUDGET = 5


@pytest.fixture(autouse=True)
def _frozen_time() -> Iterator[None]:
    """Today is 2020-02-10; the session's last-seen time is kept out of the query counts."""
    with time_machine.travel(NOW, tick=False):
        yield


def test_the_office_adds_a_period_by_region_code(world: World, regions: None) -> None:
    client = _client(world, "office")

    response = client.post(
        "/screening/risk-areas/new/",
        {"region": " 620723 ", "level": "high", "start": "2020-02-01", "end": "", "note": "通报"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/screening/risk-areas/?q=620723"
    period = RiskAreaPeriod.objects.get()
    assert (period.region_id, period.level, period.start, period.end, period.note) == (
        "620723",
        "high",
        D(2020, 2, 1),
        None,
        "通报",
    )
    assert period.set_by == world.user("office")


def test_an_overlapping_period_is_shown_back_with_the_reason(world: World, regions: None) -> None:
    services.set_risk_level(
        actor=None, region=Region.objects.get(pk="620723"), level="high", start=D(2020, 2, 1)
    )
    client = _client(world, "office")

    response = client.post(
        "/screening/risk-areas/new/",
        {"region": "620723", "level": "low", "start": "2020-02-01"},
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "start": [
            "临泽县 already has a period from 2020-02-01 to today that overlaps this one. "
            "End or change that period first."
        ]
    }
    assert RiskAreaPeriod.objects.count() == 1


def test_an_unknown_region_code_is_a_field_error(world: World, regions: None) -> None:
    response = _client(world, "office").post(
        "/screening/risk-areas/new/", {"region": "999999", "level": "high", "start": "2020-02-01"}
    )

    assert response.context["form"].errors == {
        "region": ["No region has this code. Search by name below and pick one."]
    }


@pytest.mark.parametrize("url", ["/screening/risk-areas/new/", "/screening/risk-areas/620723/end/"])
def test_a_unit_head_may_not_open_or_post_the_forms(world: World, regions: None, url: str) -> None:
    client = _client(world, "head1")

    get = client.get(url)
    post = client.post(url, {"region": "620723", "level": "high", "start": "2020-02-01"})

    assert (get.status_code, post.status_code) == (403, 403)
    assert RiskAreaPeriod.objects.count() == 0


def test_the_office_ends_the_open_period(world: World, regions: None) -> None:
    services.set_risk_level(
        actor=None, region=Region.objects.get(pk="620723"), level="high", start=D(2020, 2, 1)
    )
    client = _client(world, "office")

    page = client.get("/screening/risk-areas/620723/end/")
    response = client.post("/screening/risk-areas/620723/end/", {"end": "2020-02-09"})

    assert page.status_code == 200
    assert page.context["form"]["end"].value() == D(2020, 2, 10)
    assert response.status_code == 302
    assert RiskAreaPeriod.objects.get().end == D(2020, 2, 9)


def test_the_end_page_of_an_unknown_region_is_404(world: World, regions: None) -> None:
    assert _client(world, "office").get("/screening/risk-areas/999999/end/").status_code == 404


def test_the_list_filters_by_level_current_and_region(world: World, regions: None) -> None:
    for code, level, start, end in [
        ("620723", "high", D(2020, 2, 1), None),
        ("620702", "high", D(2020, 1, 1), D(2020, 1, 31)),
        ("420100", "medium", D(2020, 1, 23), None),
    ]:
        services.set_risk_level(
            actor=None, region=Region.objects.get(pk=code), level=level, start=start, end=end
        )
    client = _client(world, "head1")

    def codes(query: str) -> list[str]:
        response = client.get(f"/screening/risk-areas/?{query}")
        assert response.status_code == 200
        return [p.region_id for p in response.context["page"]]

    assert codes("") == ["620723", "420100", "620702"]
    assert codes("level=high") == ["620723", "620702"]
    assert codes("level=high&current=on") == ["620723"]
    assert codes("q=张掖") == []  # the name of the prefecture, not of its counties
    assert codes("q=6207") == ["620723", "620702"]
    assert codes("q=临泽") == ["620723"]


def test_the_list_shows_the_region_with_its_parents(world: World, regions: None) -> None:
    services.set_risk_level(
        actor=None, region=Region.objects.get(pk="620723"), level="high", start=D(2020, 2, 1)
    )

    response = _client(world, "head1").get("/screening/risk-areas/")

    text = response.content.decode()
    assert "甘肃省 张掖市 临泽县" in text
    assert "2020-02-01" in text
    assert "/screening/risk-areas/620723/end/" not in text  # a unit head cannot end it


def test_the_region_search_finds_by_name_and_by_code(world: World, regions: None) -> None:
    client = _client(world, "office")

    by_name = client.get("/screening/regions/search/", {"q": "临泽"})
    by_code = client.get("/screening/regions/search/", {"q": "62072"})
    nothing = client.get("/screening/regions/search/", {"q": ""})

    # 622224 is 临泽县 under the former 张掖地区 (until 2002): historic codes are found too
    assert re.findall(r'data-code="(\d+)"', by_name.content.decode()) == ["620723", "622224"]
    assert "甘肃省 张掖市 临泽县" in by_name.content.decode()
    assert "甘肃省 张掖地区 临泽县" in by_name.content.decode()
    assert re.findall(r'data-code="(\d+)"', by_code.content.decode()) == [
        "620721",
        "620722",
        "620723",
        "620724",
        "620725",
    ]
    assert nothing.content.decode().strip() == ""


def _grow(total: int) -> None:
    """Periods up to ``total``, each in its own county (ended, so that none overlaps)."""
    have = RiskAreaPeriod.objects.count()
    counties = Region.objects.filter(level="county").order_by("code")[have:total]
    RiskAreaPeriod.objects.bulk_create(
        RiskAreaPeriod(region=r, level="high", start=D(2020, 2, 1), end=D(2020, 2, 14))
        for r in counties
    )


def _measure(client: Client, url: str) -> tuple[int, int]:
    client.get(url)  # warm up: the session's first write, translations, caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), len(response.content)


@pytest.mark.parametrize("url", ["/screening/risk-areas/", "/screening/risk-areas/?level=high"])
def test_the_list_costs_the_same_queries_for_200_periods_as_for_10(
    world: World, regions: None, url: str
) -> None:
    client = _client(world, "head1")

    _grow(10)
    few_queries, few_size = _measure(client, url)
    _grow(200)
    many_queries, many_size = _measure(client, url)

    assert many_size > few_size
    assert few_queries == many_queries == LIST_BUDGET


def test_the_menu_links_to_the_risk_areas_for_every_reader(world: World) -> None:
    response = _client(world, "gate1").get("/")

    assert 'href="/screening/risk-areas/"' in response.content.decode()
