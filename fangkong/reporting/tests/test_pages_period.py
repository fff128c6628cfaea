"""Completeness and timeliness through Django's test client: the calendar matrix (a cell per
unit and day, with its legend), the rates per unit and overall (received ÷ expected, on time
÷ expected), the period chooser and its cap, the pages of units, the scope and the query
budget.

Now is 2020-02-05 18:00 (the deadline, 13:00, has passed for every day shown). Besides the
world's reports of 2020-02-03 (both on time; LZ-02's approved): LZ-01 reports 2020-02-04 late
(14:00) and 2020-02-05 on time; LZ-02 reports 2020-02-04 on time and the office returns it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from fangkong.core.testing import World
from fangkong.org import services as org_services
from fangkong.org.models import OrgUnit
from fangkong.reporting import services, views_period

from .pagekit import HTMX, at, client_of, count_queries, element, submit, text

URL = "/reporting/completeness/"
PERIOD = {"start": "2020-02-01", "end": "2020-02-05"}
# Session, user, scope; the filter's units; the rules, the units, their reports.
BUDGET = 7


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[Any]:
    with time_machine.travel(at(2020, 2, 5, 18, 0), tick=False) as traveller:
        yield traveller


@pytest.fixture
def week(oworld: World) -> World:
    submit(oworld, "head1", oworld.unit1, dt.date(2020, 2, 4), at=at(2020, 2, 4, 14, 0))
    submit(oworld, "head1", oworld.unit1, dt.date(2020, 2, 5), at=at(2020, 2, 5, 9, 0))
    returned = submit(oworld, "head2", oworld.unit2, dt.date(2020, 2, 4), at=at(2020, 2, 4, 9, 0))
    services.return_report(actor=oworld.user("office"), report=returned, comment="请补充")
    return oworld


def cells(response: Any, unit: OrgUnit) -> list[str]:
    page = response.content.decode()
    row = page[page.index(f'id="row-{unit.pk}"') :]
    row = row[: row.index("</tr>")]
    return re.findall(r'data-cell="([a-z_]+)"', row)


def test_the_matrix_has_a_cell_per_unit_and_day(week: World) -> None:
    response = client_of(week, "office").get(URL, PERIOD)

    assert response.status_code == 200
    assert cells(response, week.unit1) == ["missing", "missing", "on_time", "late", "on_time"]
    assert cells(response, week.unit2) == ["missing", "missing", "on_time", "returned", "missing"]
    assert element(response, "period") == (
        "2020-02-01 to 2020-02-05 (5 days; at most 366 at a time)"
    )


def test_a_received_cell_links_to_its_report(week: World) -> None:
    response = client_of(week, "office").get(URL, PERIOD)

    assert f'<a href="/reporting/reports/{week.report1.pk}/">✓</a>' in response.content.decode()


def test_the_rates_per_unit_and_overall(week: World) -> None:
    response = client_of(week, "office").get(URL, PERIOD)

    assert element(response, f"row-{week.unit1.pk}").startswith("第一作业站 60.0 % 40.0 %")
    assert element(response, f"row-{week.unit2.pk}").startswith("第二作业站 40.0 % 40.0 %")
    assert element(response, "overall-completeness") == "50.0 %"
    assert element(response, "overall-timeliness") == "40.0 %"
    assert "5 / 10" in element(response, "overall")


def test_the_legend_counts_the_cells(week: World) -> None:
    response = client_of(week, "office").get(URL, PERIOD)

    assert element(response, "legend-on_time") == "✓ on time (3)"
    assert element(response, "legend-late") == "! late (1)"
    assert element(response, "legend-returned") == "↺ returned for correction (1)"
    assert element(response, "legend-missing") == "✗ missing (5)"
    assert element(response, "legend-not_due") == "· not yet due (0)"


def test_today_before_the_deadline_is_not_yet_due(oworld: World, _frozen: Any) -> None:
    _frozen.move_to(at(2020, 2, 5, 10, 0))

    response = client_of(oworld, "office").get(URL, {"start": "2020-02-05", "end": "2020-02-05"})

    assert cells(response, oworld.unit1) == ["not_due"]
    assert element(response, "overall-completeness") == "—"


def test_the_last_7_days_by_default(oworld: World) -> None:
    response = client_of(oworld, "office").get(URL)

    assert element(response, "period") == (
        "2020-01-30 to 2020-02-05 (7 days; at most 366 at a time)"
    )


def test_a_period_longer_than_the_cap_is_refused_with_the_selectors_message(
    oworld: World,
) -> None:
    response = client_of(oworld, "office").get(URL, {"start": "2019-01-01", "end": "2020-02-05"})

    assert element(response, "period-error") == "Choose at most 366 days at a time."
    assert element(response, "period").startswith("2020-01-30 to 2020-02-05")


def test_a_period_ending_before_it_starts_is_refused(oworld: World) -> None:
    response = client_of(oworld, "office").get(URL, {"start": "2020-02-05", "end": "2020-02-01"})

    assert element(response, "period-error") == "The period must end on or after its start."


def test_the_unit_filter_and_htmx(week: World) -> None:
    response = client_of(week, "office").get(URL, {**PERIOD, "unit": week.unit2.pk}, **HTMX)

    assert "<html" not in response.content.decode()
    assert "第一作业站" not in text(response)
    assert cells(response, week.unit2)[3] == "returned"


def test_the_matrix_is_paginated_by_units(week: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views_period, "UNITS_PER_PAGE", 1)

    second = client_of(week, "office").get(URL, {**PERIOD, "page": 2})

    assert 'id="row-' + str(week.unit2.pk) in second.content.decode()
    assert 'id="row-' + str(week.unit1.pk) not in second.content.decode()
    assert element(second, "overall-completeness") == "50.0 %"  # over every unit
    assert "Page 2 of 2" in text(second)


def test_a_unit_head_sees_their_unit_only(week: World) -> None:
    response = client_of(week, "head1").get(URL, PERIOD)

    assert "第二作业站" not in text(response)
    assert element(response, "overall-completeness") == "60.0 %"


def test_the_matrix_costs_the_same_queries_for_30_units_as_for_2(oworld: World) -> None:
    client = client_of(oworld, "office")
    url = f"{URL}?start=2020-01-07&end=2020-02-05"
    few = count_queries(client, url)
    for i in range(3, 31):
        unit = org_services.create_org_unit(
            actor=None, code=f"LZ-{i:02d}", name=f"第{i}站", kind="unit", parent=oworld.branch
        )
        submit(oworld, "admin", unit, dt.date(2020, 2, 5), at=at(2020, 2, 5, 9, 0))
    many = count_queries(client, url)

    assert many[0] == few[0] <= BUDGET
    assert many[1] > few[1]


def test_quick_links_choose_the_last_7_30_or_90_days(oworld: World) -> None:
    response = client_of(oworld, "office").get(URL)

    assert element(response, "quick-periods") == "Last 7 days Last 30 days Last 90 days"
    assert 'href="?start=2020-01-07&amp;end=2020-02-05"' in response.content.decode()
