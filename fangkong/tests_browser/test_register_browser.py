"""The register on a phone, in a real browser: a grid worker finds a person and corrects a file."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from playwright.sync_api import Page, expect

from fangkong.core.masking import mask_id_number, mask_phone
from fangkong.core.testing import PASSWORD, World, make_id_number
from fangkong.core.tests.browser import (
    PHONE_WIDTH,
    BrowserProblems,
    Screenshots,
    horizontal_overflow,
    log_in,
    text_contrast,
    wait_for_collapse,
)
from fangkong.core.validators import validate_resident_id
from fangkong.org.models import Person

pytestmark = pytest.mark.browser


def zh(message: str) -> str:
    """``message`` as the server renders it in Chinese (English until the catalogue is compiled)."""
    with translation.override("zh-hans"):
        return translation.gettext(message)


def zh_id_error(number: str) -> str:
    """The validator's message for ``number``, in Chinese as the server renders it."""
    with translation.override("zh-hans"):
        try:
            validate_resident_id(number)
        except ValidationError as error:
            return str(error.messages[0])
    raise AssertionError(f"{number} is a valid ID number")


def test_grid_worker_corrects_an_id_number_on_a_phone_browser(
    live_server: Any,
    world: World,
    phone_page: Page,
    screenshots: Screenshots,
    browser_problems: BrowserProblems,
) -> None:
    page = phone_page
    person = world.person11  # 张建国, phone 13912345678
    old_id = person.id_number
    first17 = make_id_number("620723", dt.date(1975, 3, 14), 133)[:17]  # same birth date, male
    right_check = make_id_number("620723", dt.date(1975, 3, 14), 133)[17]
    wrong_check = "X" if right_check != "X" else "0"
    wrong_id, right_id = first17 + wrong_check, first17 + right_check

    # The log-in page, in Chinese.
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", level=1)).to_have_text(zh("Epidemic prevention and control"))
    expect(page.locator("form button[type=submit]")).to_have_text(zh("Log in"))
    screenshots("login")
    log_in(page, live_server.url, "worker11", PASSWORD)
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    screenshots("home")

    # The menu is folded behind the toggler; open it and go to the person list.
    toggler = page.locator(".navbar-toggler")
    expect(toggler).to_be_visible()
    expect(toggler).to_have_attribute("aria-label", zh("Menu"))
    persons_link = page.locator("#nav").get_by_role("link", name=zh("Persons"), exact=True)
    expect(persons_link).to_be_hidden()
    toggler.tap()
    expect(persons_link).to_be_visible()
    wait_for_collapse(page)
    screenshots("menu-open")
    persons_link.tap()
    page.wait_for_url(re.compile(r"/org/persons/$"))
    results = page.locator("#results")
    expect(results).to_contain_text("张建国")
    expect(results).to_contain_text("张小明")

    # Part of the phone number; the results update as the worker types (htmx, no reload).
    page.evaluate("window.fkSamePage = true")
    search = page.locator("input[name=q]")
    with page.expect_response(
        lambda r: (
            "/org/persons/" in r.url
            and "q=1234" in r.url
            and r.request.headers.get("hx-request") == "true"
        )
    ):
        search.tap()
        search.press_sequentially("1234", delay=60)
    expect(results).not_to_contain_text("张小明")
    expect(results.get_by_role("link", name="张建国")).to_be_visible()
    expect(results).to_contain_text(mask_phone(person.phone))
    expect(results).not_to_contain_text(person.phone)
    expect(page).to_have_url(re.compile(r"[?&]q=1234"))
    assert page.evaluate("window.fkSamePage") is True, "the search reloaded the page"
    screenshots("search-1234")

    # Open the file.
    results.get_by_role("link", name="张建国").tap()
    page.wait_for_url(re.compile(rf"/org/persons/{person.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("张建国")
    expect(page.locator("#id-number")).to_contain_text(mask_id_number(old_id))
    expect(page.locator("#timeline")).to_contain_text(zh("Added to the register"))
    screenshots("file")

    # Edit: an ID number with a wrong check character.
    page.locator("#edit-person").tap()
    page.wait_for_url(re.compile(rf"/org/persons/{person.pk}/edit/$"))
    expect(page.locator("#id_birth_date")).to_have_value("1975-03-14")
    id_input = page.locator("#id_id_number")
    expect(id_input).to_have_value(old_id)
    id_input.fill(wrong_id)
    with page.expect_navigation():
        page.locator("#save").tap()
    error = page.locator("#id_id_number_error")
    expect(error).to_be_visible()
    expect(error).to_have_class(re.compile(r"\binvalid-feedback\b"))
    expect(error).to_have_text(zh_id_error(wrong_id))
    # The message states the expected check character (and the mistyped one).
    assert re.search(rf"(应为|should be)\s*{right_check}\b", error.inner_text()), error.inner_text()
    expect(id_input).to_have_value(wrong_id)
    expect(id_input).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(id_input).to_have_attribute("aria-invalid", "true")
    expect(id_input).to_have_attribute("aria-describedby", "id_id_number_error")
    # Next to the field: just below the input, within the screen's width.
    error.scroll_into_view_if_needed()
    field_box, error_box = id_input.bounding_box(), error.bounding_box()
    assert field_box is not None and error_box is not None
    gap = error_box["y"] - (field_box["y"] + field_box["height"])
    assert -1 <= gap <= 24, f"the error is {gap:.0f}px from the field"
    assert abs(error_box["x"] - field_box["x"]) <= 2
    assert error_box["x"] + error_box["width"] <= PHONE_WIDTH
    expect(page.locator(".invalid-feedback")).to_have_count(1)
    assert Person.objects.get(pk=person.pk).id_number == old_id
    screenshots("id-error")

    # Correct it: the change is saved and shows in the timeline, masked.
    id_input.fill(right_id)
    with page.expect_navigation():
        page.locator("#save").tap()
    page.wait_for_url(re.compile(rf"/org/persons/{person.pk}/$"))
    expect(page.get_by_role("alert").first).to_have_text(zh("Changes saved."))
    expect(page.locator("#id-number")).to_contain_text(mask_id_number(right_id))
    latest = page.locator("#timeline > li").first
    expect(latest).to_contain_text(zh("Changed ").strip())
    expect(latest).to_contain_text(zh("ID number"))
    expect(latest).to_contain_text(f"{mask_id_number(old_id)} → {mask_id_number(right_id)}")
    expect(latest).to_contain_text(str(world.user("worker11")))
    timeline_text = page.locator("#timeline").inner_text()
    assert old_id not in timeline_text and right_id not in timeline_text
    assert Person.objects.get(pk=person.pk).id_number == right_id
    screenshots("timeline")

    assert browser_problems.messages == []


def test_person_search_fits_a_phone_browser(
    live_server: Any,
    world: World,
    phone_page: Page,
    screenshots: Screenshots,
    browser_problems: BrowserProblems,
) -> None:
    page = phone_page
    log_in(page, live_server.url, "worker11", PASSWORD)
    page.goto(f"{live_server.url}/org/persons/")
    expect(page.locator("#results")).to_contain_text("张建国")

    assert horizontal_overflow(page) == 0, "the person list scrolls sideways on a phone"
    # The table becomes a stack of cards: no header row.
    expect(page.locator("#results thead")).to_be_hidden()
    # The menu collapses into the toggler.
    toggler = page.locator(".navbar-toggler")
    expect(toggler).to_be_visible()
    expect(toggler).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#nav")).to_be_hidden()
    expect(page.locator("#nav .nav-link").first).to_be_hidden()
    screenshots("persons")

    toggler.tap()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#nav")).to_be_visible()
    expect(page.locator("#nav .nav-link").first).to_be_visible()
    wait_for_collapse(page)
    assert horizontal_overflow(page) == 0, "the open menu scrolls sideways on a phone"
    # Readable on the pink bar (WCAG AA: 4.5).
    for item in [*page.locator("#nav .nav-link").all(), page.locator("#nav .navbar-text")]:
        assert text_contrast(item) >= 4.5, f"{item.inner_text()!r} is hard to read"
    screenshots("persons-menu-open")

    # The pages the search leads to fit as well.
    person = world.person11
    for path in (
        "/org/persons/?q=1234",
        f"/org/persons/{person.pk}/",
        f"/org/persons/{person.pk}/edit/",
    ):
        page.goto(f"{live_server.url}{path}")
        assert horizontal_overflow(page) == 0, f"{path} scrolls sideways on a phone"

    assert browser_problems.messages == []
