"""Care visits (关爱慰问) through Django's test client: recording a visit with its items (one
field per care item, data not columns), the totals per household and overall, who may do
what, and the query budgets of the lists."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from fangkong.core.testing import World, build_world
from fangkong.core.testing import english_client as _client
from fangkong.observation import services
from fangkong.observation.models import CareItem, CareItemKind, CareVisit

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2020, 2, 6, 9, 30, tzinfo=TZ)
NEW = "/observation/care/new/"
LIST = "/observation/care/"
BUDGETS = {"list": 10, "household": 12}


@pytest.fixture(autouse=True)
def _frozen_time() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False), translation.override("en"):
        yield


@pytest.fixture
def world(db: None) -> World:
    return build_world(observation=True)


def _kind(name: str) -> CareItemKind:
    return CareItemKind.objects.get(name=name)


def _household_url(world: World) -> str:
    return f"/observation/care/household/{world.household11.pk}/"


def _totals(html: str) -> dict[str, str]:
    """Item name → "quantity unit · households" as the totals box shows it."""
    section = html[html.index('id="care-totals"') : html.index("</section>")]
    found = {}
    for name, body in re.findall(r'data-item="([^"]+)">(.*?)</div>\s*</div>', section, re.S):
        found[name] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()
    return found


def _form(world: World, **items: str) -> dict[str, str]:
    body = {
        "household": str(world.household11.pk),
        "visited_on": "2020-02-06",
        "visitors": "王主任、赵网格员",
        "words": "谢谢大家",
    }
    for name, quantity in items.items():
        body[f"item_{_kind(name).pk}"] = quantity
    return body


def test_a_care_visit_creates_its_items_and_the_totals_are_exact(world: World) -> None:
    client = _client(world, "worker11")

    response = client.post(
        f"{NEW}?household={world.household11.pk}&episode={world.episode1.pk}",
        {**_form(world, 大米="5", 食用油="2", 现金="200", 面粉=""), "episode": world.episode1.pk},
    )

    assert response.status_code == 302
    assert response["Location"] == _household_url(world)
    visit = CareVisit.objects.get(visited_on="2020-02-06")
    assert (visit.household, visit.episode, visit.visitors, visit.words, visit.recorded_by) == (
        world.household11,
        world.episode1,
        "王主任、赵网格员",
        "谢谢大家",
        world.user("worker11"),
    )
    assert {(i.kind.name, i.quantity) for i in CareItem.objects.filter(visit=visit)} == {
        ("大米", Decimal("5.00")),
        ("食用油", Decimal("2.00")),
        ("现金", Decimal("200.00")),
    }
    services.record_care_visit(
        actor=None,
        household=world.household21,
        visited_on=dt.date(2020, 2, 6),
        visitors="李书记",
        items={_kind("大米").pk: Decimal("2.5")},
    )
    overall = _client(world, "office").get(LIST).content.decode()
    assert _totals(overall) == {
        "大米": "17.50 kg 大米 · 2 households",
        "食用油": "2 桶 食用油 · 1 household",
        "现金": "200 元 现金 · 1 household",
    }
    assert "3 visits · 2 households" in overall
    household = client.get(_household_url(world)).content.decode()
    assert _totals(household) == {
        "大米": "15 kg 大米",
        "食用油": "2 桶 食用油",
        "现金": "200 元 现金",
    }
    assert "2 visits" in household
    row = household[household.index(f'id="care-{visit.pk}"') :]
    assert "大米 5 kg、食用油 2 桶、现金 200 元" in row[: row.index("</tr>")]


def test_the_form_has_one_field_per_active_care_item(world: World) -> None:
    CareItemKind.objects.create(name="消毒液", unit="瓶", order=20)
    CareItemKind.objects.filter(name="口罩").update(is_active=False)

    html = _client(world, "worker11").get(NEW).content.decode()

    labels = re.findall(
        r'<label class="form-label small mb-0" for="id_item_\d+">([^<]+)</label>', html
    )
    assert labels == ["大米", "面粉", "食用油", "奶制品", "蔬菜", "现金", "消毒液"]


def test_the_household_list_offers_households_of_people_under_observation(world: World) -> None:
    html = _client(world, "head1").get(NEW).content.decode()

    options = re.findall(r'<option value="(\d+)"', html)
    assert options == [str(world.household11.pk)]  # 张小明's; 李秀英's household has none


def test_a_negative_quantity_and_a_missing_visitor_are_refused_by_field(world: World) -> None:
    body = _form(world, 大米="-1")
    body["visitors"] = ""

    response = _client(world, "worker11").post(NEW, body)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Ensure this value is greater than or equal to 0." in html
    assert "Name who went, e.g. &#x27;张书记、李网格员&#x27;." in html
    assert CareVisit.objects.count() == 1


def test_a_visit_in_the_future_is_refused(world: World) -> None:
    body = _form(world, 大米="1")
    body["visited_on"] = "2020-02-07"

    response = _client(world, "worker11").post(NEW, body)

    assert "Enter the day of the visit (today or earlier)." in response.content.decode()


def test_an_outsider_or_a_reader_cannot_record_or_see_a_household(world: World) -> None:
    head2 = _client(world, "head2")
    auditor = _client(world, "auditor1")

    assert head2.get(_household_url(world)).status_code == 404
    assert head2.get(f"{NEW}?household={world.household11.pk}").status_code == 404
    assert head2.post(NEW, _form(world, 大米="1")).status_code == 200  # not a choice for head2
    assert CareVisit.objects.count() == 1
    assert auditor.get(_household_url(world)).status_code == 200
    assert auditor.get(NEW).status_code == 403
    assert auditor.post(NEW, _form(world, 大米="1")).status_code == 403
    assert 'id="add-care"' not in auditor.get(LIST).content.decode()
    assert "一站1排3号" not in head2.get(LIST).content.decode()


def _grow(world: World, count: int) -> None:
    rice, oil = _kind("大米").pk, _kind("食用油").pk
    for i in range(count):
        services.record_care_visit(
            actor=None,
            household=world.household11,
            visited_on=dt.date(2020, 2, 1) + dt.timedelta(days=i % 5),
            visitors=f"慰问组{i}",
            items={rice: Decimal("1"), oil: Decimal("1")},
        )


def _measure(client: Client, url: str) -> tuple[int, int]:
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), len(response.content)


@pytest.mark.parametrize("page", ["list", "household"])
def test_a_care_list_costs_the_same_queries_for_more_rows(world: World, page: str) -> None:
    url = LIST if page == "list" else _household_url(world)
    client = _client(world, "head1")

    few, few_size = _measure(client, url)
    _grow(world, 30)
    many, many_size = _measure(client, url)

    assert many_size > few_size
    assert many == few, f"{url}: {few} queries for 1 visit, {many} for 31"
    assert many <= BUDGETS[page], f"{url}: {many} queries, budget {BUDGETS[page]}"
