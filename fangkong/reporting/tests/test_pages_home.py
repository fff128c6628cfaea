"""The daily report on the home page and in the menu: the unit head's card (today's report
not filed, submitted, returned or approved, with the link to file it) and the office's
(received X of Y today, missing Z, with the link to the list)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from fangkong.core.testing import World
from fangkong.reporting import services

from .pagekit import at, client_of, element, has_element, plain, submit

DAY = dt.date(2020, 2, 5)


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[Any]:
    with time_machine.travel(at(2020, 2, 5, 10, 0), tick=False) as traveller:
        yield traveller


def card(response: Any, element_id: str) -> str:
    """The text of the home card around the figure ``element_id``."""
    page = response.content.decode()
    end = page.index(f'id="{element_id}"')
    start = page.rindex('<div class="col">', 0, end)
    stop = page.index('<div class="col">', end) if '<div class="col">' in page[end:] else None
    return plain(page[start:stop].split("</a></div>")[0])


def test_the_unit_heads_card_follows_todays_report(oworld: World, _frozen: Any) -> None:
    client = client_of(oworld, "head1")
    figure = f"report-today-{oworld.unit1.pk}"

    before = client.get("/")
    report = submit(oworld, "head1", oworld.unit1, DAY, nothing_to_report=True)
    submitted = client.get("/")
    services.return_report(actor=oworld.user("office"), report=report, comment="请核对")
    returned = client.get("/")
    _frozen.move_to(at(2020, 2, 5, 13, 0, 1))
    services.approve_report(
        actor=oworld.user("office"),
        report=submit(oworld, "head1", oworld.unit1, DAY, nothing_to_report=True),
    )
    approved = client_of(oworld, "head1").get("/")  # a new session: the old one idled out

    assert card(before, figure) == "Today's report: 第一作业站 Not filed Due by 13:00"
    assert f'href="/reporting/units/{oworld.unit1.pk}/file/"' in before.content.decode()
    assert element(submitted, figure) == "Submitted"
    assert element(returned, figure) == "Returned"
    assert 'text-danger" id="' + figure in returned.content.decode()
    assert element(approved, figure) == "Approved"
    assert not has_element(before, "count-reports-received")


def test_a_missing_report_is_red_on_the_unit_heads_card(oworld: World, _frozen: Any) -> None:
    _frozen.move_to(at(2020, 2, 5, 13, 0, 1))

    response = client_of(oworld, "head1").get("/")

    assert f'fw-semibold text-danger" id="report-today-{oworld.unit1.pk}"' in (
        response.content.decode()
    )


def test_the_offices_card_counts_the_reports_received_and_missing(
    oworld: World, _frozen: Any
) -> None:
    client = client_of(oworld, "office")

    before = client.get("/")
    submit(oworld, "head1", oworld.unit1, DAY, nothing_to_report=True)
    one = client.get("/")
    _frozen.move_to(at(2020, 2, 5, 13, 0, 1))
    after = client_of(oworld, "office").get("/")  # a new session: the old one idled out

    assert card(before, "count-reports-received") == "Daily reports received today 0 of 2 units"
    assert element(before, "count-reports-missing") == "0"
    assert element(one, "count-reports-received") == "1"
    assert element(after, "count-reports-missing") == "1"
    assert 'href="/reporting/?status=missing"' in after.content.decode()
    assert not has_element(before, f"report-today-{oworld.unit1.pk}")


@pytest.mark.parametrize(
    ("username", "shown"), [("head1", True), ("office", True), ("leader", True), ("gate1", False)]
)
def test_the_menu_has_daily_reports_for_those_who_see_them(
    oworld: World, username: str, shown: bool
) -> None:
    response = client_of(oworld, username).get("/")

    assert ('href="/reporting/">Daily reports</a>' in response.content.decode()) is shown


def test_a_grid_worker_has_a_card_once_grid_sub_reports_are_on(oworld: World) -> None:
    figure = f"report-today-{oworld.grid11.pk}"
    before = client_of(oworld, "worker11").get("/")
    services.update_rules(actor=oworld.user("office"), grid_reports=True)

    after = client_of(oworld, "worker11").get("/")

    assert not has_element(before, figure)
    assert card(after, figure) == "Today's report: 一站一网格 Not filed Due by 13:00"
