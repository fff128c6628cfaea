"""A checkpoint's gate on a phone, in a real browser: the operator logs a known person, then
a vehicle with two occupants, one with a fever; the unit head finds the alert in the inbox."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Any

import pytest
from django.utils import translation
from playwright.sync_api import Page, expect

from fangkong.alerts.models import Alert, AlertKind
from fangkong.checkpoints.models import Entry
from fangkong.checkpoints.testing_entries import gates_of
from fangkong.core.testing import PASSWORD, World, make_id_number
from fangkong.core.tests.browser import (
    BrowserProblems,
    Screenshots,
    horizontal_overflow,
    log_in,
)
from fangkong.org.models import Person
from fangkong.screening.models import Screening

pytestmark = pytest.mark.browser

# A known person, from the search to the entry recorded: the limit.
KNOWN_PERSON_LIMIT_S = 10
MIN_TAP = 44  # CSS pixels: a search result is a tap target
WANG_ID = make_id_number("620702", dt.date(1988, 7, 9), 215)


def zh(message: str) -> str:
    """``message`` as the server renders it in Chinese (English until the catalogue has it)."""
    with translation.override("zh-hans"):
        return translation.gettext(message)


def test_an_operator_logs_a_person_and_a_vehicle_and_the_unit_head_sees_the_fever(
    live_server: Any,
    world: World,
    phone_page: Page,
    screenshots: Screenshots,
    browser_problems: BrowserProblems,
) -> None:
    page = phone_page
    gates = gates_of(world)
    gate_url = f"{live_server.url}/checkpoints/{gates.east.pk}/gate/"

    log_in(page, live_server.url, "gate1", PASSWORD)
    page.goto(f"{live_server.url}/checkpoints/")
    with page.expect_navigation():
        page.locator(f"#gate-{gates.east.pk}").tap()
    assert page.url == gate_url
    expect(page.locator("h1")).to_have_text("场区东门卡口")
    assert horizontal_overflow(page) == 0, "the gate scrolls sideways on a phone"
    screenshots("gate")

    # A known person on foot: search, tap, temperature, log.
    started = time.perf_counter()
    page.locator("#gate-q").fill("张建")
    match = page.locator(f'#gate-matches button[value="{world.person11.pk}"]')
    expect(match).to_contain_text("张建国")
    box = match.bounding_box()
    assert box is not None and box["height"] >= MIN_TAP
    match.tap()
    expect(page.locator("#person-row-0 .person-label")).to_contain_text("张建国")
    expect(page.locator("#p0-temperature")).to_be_focused()
    page.locator("#p0-temperature").fill("36.6")
    with page.expect_navigation():
        page.locator("#record").tap()
    elapsed = time.perf_counter() - started
    expect(page.locator("#saved")).to_have_attribute("data-flagged", "no")
    expect(page.locator("#saved-people")).to_contain_text("张建国 36.6 °C")
    assert elapsed < KNOWN_PERSON_LIMIT_S, f"a known person took {elapsed:.1f} s"

    # A vehicle: the driver (an outsider) and a passenger with a fever, from 甘州区.
    page.locator("#gate-vehicle > summary").tap()
    page.locator("#gate-plate").fill("甘g12345")
    page.locator("#p0-name").fill("李四")
    page.locator("#p0-temperature").fill("36.8")
    page.locator("#gate-more > summary").tap()
    page.locator("#p1-name").fill("王五")
    page.locator("#person-row-1 .outsider-only details summary").tap()
    page.locator("#p1-id").fill(WANG_ID)
    page.locator("#p1-temperature").fill("38.4")
    page.locator("#gate-region-q").fill("甘州")
    region = page.locator('#from_region-choices button[data-code="620702"]')
    region.tap()
    expect(page.locator("#id_from_region")).to_have_value("620702")
    assert horizontal_overflow(page) == 0
    screenshots("vehicle")
    with page.expect_navigation():
        page.locator("#record").tap()
    expect(page.locator("#saved")).to_have_attribute("data-flagged", "yes")
    expect(page.locator("#saved-people")).to_contain_text("王五 38.4 °C")
    expect(page.locator("#day-counts .count-entries")).to_have_text("2")
    expect(page.locator("#day-counts .count-fevers")).to_have_text("1")
    screenshots("saved")

    entries = Entry.objects.filter(checkpoint=gates.east).exclude(pk=gates.entry1.pk)
    assert [(e.names, e.plate, e.has_fever, e.recorded_by) for e in entries.order_by("at")] == [
        ("张建国", "", False, world.user("gate1")),
        ("李四、王五", "甘G12345", True, world.user("gate1")),
    ]
    car = entries.get(plate="甘G12345")
    assert car.max_temperature == Decimal("38.4")
    wang = Person.objects.get(id_number=WANG_ID)
    assert (wang.name, wang.grid, wang.category) == ("王五", world.grid12, "visitor")
    assert Screening.objects.filter(person=wang, kind=Screening.Kind.ARRIVAL).count() == 1
    alert = Alert.objects.get(key=f"entry:{car.pk}")
    assert (alert.kind, alert.unit, alert.person) == (AlertKind.ENTRY_FEVER, world.unit1, wang)

    # The unit head finds it in the inbox.
    page.context.clear_cookies()
    log_in(page, live_server.url, "head1", PASSWORD)
    page.goto(f"{live_server.url}/alerts/")
    row = page.locator(f"#alert-{alert.pk}")
    expect(row.locator(".summary")).to_contain_text("王五 38.4 °C")
    expect(row.locator(".summary")).to_contain_text("场区东门卡口")
    screenshots("alerts")
    with page.expect_navigation():
        row.locator(".summary").tap()
    page.goto(f"{live_server.url}{car.get_absolute_url()}")
    expect(page.locator("#people")).to_contain_text("王五")
    expect(page.locator("#people")).to_contain_text("38.4")
    screenshots("entry")
    assert browser_problems.messages == []
