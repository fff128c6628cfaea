"""Carpet screening on a phone, in a real browser: a grid worker screens a household of four."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from fangkong.core.testing import PASSWORD, World
from fangkong.core.tests.browser import (
    BrowserProblems,
    Screenshots,
    horizontal_overflow,
    log_in,
)
from fangkong.org import services as org_services
from fangkong.org.models import Person
from fangkong.screening import services
from fangkong.screening.models import Region, Screening

pytestmark = pytest.mark.browser

# Tap targets: at least this tall (CSS pixels) on a phone.
MIN_TAP = 44


def zh(message: str) -> str:
    """``message`` as the server renders it in Chinese (English until the catalogue is compiled)."""
    with translation.override("zh-hans"):
        return translation.gettext(message)


def test_grid_worker_screens_a_household_of_four_on_a_phone(
    live_server: Any,
    world: World,
    phone_page: Page,
    screenshots: Screenshots,
    browser_problems: BrowserProblems,
) -> None:
    page = phone_page
    campaign = world.campaign1  # over LZ-01, open since 2020-02-01
    today = timezone.localdate()
    wuhan = Region.objects.get(pk="420100")
    services.set_risk_level(
        actor=None, region=wuhan, level="high", start=today - dt.timedelta(days=30)
    )
    household = org_services.create_household(
        actor=None, grid=world.grid11, address="一站6排2号", phone="13800006666"
    )
    members = [
        org_services.create_person(
            actor=None, name=name, household=household, relation=relation, sex=sex
        ).person
        for name, relation, sex in [
            ("陈志强", Person.Relation.HEAD, "M"),
            ("陈丽", Person.Relation.SPOUSE, "F"),
            ("陈小宇", Person.Relation.CHILD, "M"),
            ("陈大伟", Person.Relation.CHILD, "M"),
        ]
    ]
    *no_risk, returnee = members
    # Grid LZ-01-01 before: 2 households (一站1排3号 visited), 6 persons (张建国 screened).
    log_in(page, live_server.url, "worker11", PASSWORD)
    url = f"{live_server.url}/screening/campaigns/{campaign.pk}/households/{household.pk}/"
    page.goto(url)

    households = page.locator("#coverage-households")
    persons = page.locator("#coverage-persons")
    expect(page.get_by_role("heading", level=1)).to_have_text("一站6排2号")
    expect(households).to_have_text("1 / 2")
    expect(persons).to_have_text("1 / 6")
    for person in members:
        expect(page.locator(f"#person-{person.pk}")).to_contain_text(person.name)
    assert horizontal_overflow(page) == 0, "the door page scrolls sideways on a phone"
    quick = page.locator(f"#person-{no_risk[0].pk} button.quick")
    box = quick.bounding_box()
    assert box is not None and box["height"] >= MIN_TAP, f"the one-tap button is {box}"
    screenshots("household")

    # Three taps, one per person: each row turns "no risk" in place and the counts go up.
    page.evaluate("window.fkSamePage = true")
    expected = [("2 / 2", "2 / 6"), ("2 / 2", "3 / 6"), ("2 / 2", "4 / 6")]
    for person, (h_count, p_count) in zip(no_risk, expected, strict=True):
        row = page.locator(f"#person-{person.pk}")
        with page.expect_response(lambda r: r.url.endswith("/quick/")):
            row.locator("button.quick").tap()
        expect(row.locator(".result-badge")).to_have_text(zh("No risk"))
        expect(row.locator("button.quick")).to_have_count(0)
        expect(households).to_have_text(h_count)
        expect(persons).to_have_text(p_count)
    assert page.evaluate("window.fkSamePage") is True, "a tap reloaded the page"
    expect(page.locator("#checked")).to_have_count(0)  # 陈大伟 is still to screen
    screenshots("three-tapped")

    # The fourth came back from Wuhan (high risk) three days ago: the details form.
    page.locator(f"#person-{returnee.pk} a.details").tap()
    page.wait_for_url(re.compile(rf"/persons/{returnee.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("陈大伟")
    assert horizontal_overflow(page) == 0, "the screening form scrolls sideways on a phone"
    region_search = page.locator("#region-search")
    with page.expect_response(lambda r: "/screening/door/regions/" in r.url):
        region_search.tap()
        region_search.press_sequentially("武汉", delay=50)
    page.locator("#from_region-choices [data-code='420100']").tap()
    expect(page.locator("#id_from_region")).to_have_value("420100")
    expect(page.locator("#from_region-label")).to_have_text("湖北省 武汉市")
    left = today - dt.timedelta(days=3)
    page.locator("#id_departed_at").fill(f"{left.isoformat()}T07:40")
    page.locator("#id_arrived_at").fill(f"{left.isoformat()}T19:05")
    page.locator("#id_transport").select_option("train")
    page.locator("#id_transport_no").fill("g1234")
    page.locator("#id_temperature").fill("36.4")
    screenshots("details-form")
    with page.expect_navigation():
        page.locator("#save").tap()

    page.wait_for_url(re.compile(rf"/households/{household.pk}/#person-{returnee.pk}$"))
    flagged = page.locator(f"#person-{returnee.pk}")
    expect(flagged.locator(".key-badge")).to_have_text(zh("Key person"))
    expect(flagged).to_contain_text(zh("Arrival from a risk area"))
    expect(flagged.locator(".reasons")).to_contain_text("武汉市")
    expect(flagged.get_by_role("link", name=zh("Start observation"))).to_have_attribute(
        "href", re.compile(rf"/observation/start/\?person={returnee.pk}&screening=\d+$")
    )
    expect(page.get_by_role("alert").first).to_contain_text("陈大伟")
    expect(households).to_have_text("2 / 2")
    expect(persons).to_have_text("5 / 6")
    expect(page.locator("#coverage-flags")).to_be_visible()
    expect(page.locator("#checked")).to_be_visible()  # nobody left to screen
    assert horizontal_overflow(page) == 0, "the flagged household scrolls sideways on a phone"
    shot = screenshots("key-person-flagged")
    assert shot.is_file()

    result = Screening.objects.get(campaign=campaign, person=returnee)
    assert (result.is_key, result.category, result.transport_no) == (
        True,
        "risk_area_arrival",
        "G1234",
    )
    assert (
        Screening.objects.filter(campaign=campaign, household=household, is_key=False).count() == 3
    )
    assert browser_problems.messages == []


def test_the_arrival_form_fits_a_phone(
    live_server: Any,
    world: World,
    phone_page: Page,
    screenshots: Screenshots,
    browser_problems: BrowserProblems,
) -> None:
    page = phone_page
    log_in(page, live_server.url, "worker11", PASSWORD)
    page.goto(f"{live_server.url}/screening/arrivals/new/")
    search = page.locator("#person-search")
    with page.expect_response(lambda r: "/screening/door/persons/" in r.url):
        search.tap()
        search.press_sequentially("张小", delay=50)
    page.locator(f"#person-choices [data-pk='{world.person11b.pk}']").tap()
    expect(page.locator("#id_person")).to_have_value(str(world.person11b.pk))
    now = timezone.localtime()
    arrived = now - dt.timedelta(hours=8)
    page.locator("#id_arrived_at").fill(arrived.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#id_from_region").fill("620702")
    assert horizontal_overflow(page) == 0, "the arrival form scrolls sideways on a phone"
    with page.expect_navigation():
        page.locator("#save").tap()

    expect(page.locator("#registered")).to_contain_text("张小明")
    expect(page.locator("#late")).to_have_text(zh("Registered late"))
    assert horizontal_overflow(page) == 0
    screenshots("arrival-registered")
    assert Screening.objects.get(kind="arrival", person=world.person11b).late_registration
    assert browser_problems.messages == []
