"""The daily zero report in a real browser, on a phone: a unit head files "nothing to
report" in one tap (and a confirmation); the office returns another unit's report with a
comment, the unit head corrects it and submits it again, the office approves both in place,
and the branch ``.xlsx`` downloaded from the branch report has the right totals."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone, translation
from playwright.sync_api import Dialog, Page, expect
from python_calamine import CalamineWorkbook

from fangkong.core.testing import PASSWORD, World
from fangkong.core.tests.browser import (
    BrowserProblems,
    Screenshots,
    horizontal_overflow,
    log_in,
)
from fangkong.reporting import services
from fangkong.reporting.models import ReportStatus, UnitReport

pytestmark = pytest.mark.browser

SHANGHAI = ZoneInfo("Asia/Shanghai")


def zh(message: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(message)


def _accept(page: Page, asked: list[str]) -> None:
    def answer(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)


def _switch_user(page: Page, base: str, username: str) -> None:
    page.context.clear_cookies()
    log_in(page, base, username, PASSWORD)


def test_a_days_reports_are_filed_reviewed_approved_and_exported(
    live_server: Any,
    world: World,
    phone_page: Page,
    screenshots: Screenshots,
    browser_problems: BrowserProblems,
) -> None:
    page = phone_page
    base = live_server.url
    today = timezone.localdate()
    morning = dt.datetime.combine(today, dt.time(10, 0), tzinfo=SHANGHAI)
    asked: list[str] = []
    _accept(page, asked)
    with time_machine.travel(morning, tick=True):
        # LZ-02 has filed 2 persons on the register (1 in it), with a reason.
        services.submit_report(
            actor=world.user("head2"),
            unit=world.unit2,
            day=today,
            values={"registered": 2},
            reasons={"registered": "一人新到未登记"},
        )

        # The head of LZ-01, on the phone: "nothing to report" from the home page's card.
        log_in(page, base, "head1", PASSWORD)
        card = page.locator(f"#report-today-{world.unit1.pk}")
        expect(card).to_have_text(zh("Not filed"))
        card.tap()
        expect(page.locator("#report-title")).to_contain_text("第一作业站")
        expect(page.locator("#id_v_registered")).to_have_value("3")
        assert horizontal_overflow(page) == 0, "the report form scrolls sideways on a phone"
        screenshots("form")
        page.locator("#nothing-button").tap()
        expect(page.locator("#nothing-mark")).to_be_visible()
        expect(page.locator("#confirm-registered .value")).to_have_text("3")
        assert horizontal_overflow(page) == 0
        screenshots("confirm-nothing")
        page.locator("#confirm").tap()
        expect(page.locator("#status-submitted")).to_be_visible()
        screenshots("submitted")

        # The office returns LZ-02's report with a comment, in place.
        _switch_user(page, base, "office")
        page.goto(f"{base}/reporting/")
        row = page.locator(f"#unit-{world.unit2.pk}")
        expect(row.locator(".status-badge")).to_have_text(zh("Submitted on time"))
        assert horizontal_overflow(page) == 0, "the list of the day scrolls sideways on a phone"
        screenshots("day-list")
        row.locator(".review-link").tap()
        expect(page.locator("#value-registered .reason")).to_have_text("一人新到未登记")
        page.locator("#id_return_comment").fill("在册人数请与台账核对")
        with page.expect_response(lambda r: r.url.endswith("/return/")):
            page.locator("#return").tap()
        expect(page.locator("#review-status")).to_have_text(zh("Returned"))
        expect(page.locator("#board-status")).to_have_text(zh("Returned"))
        assert horizontal_overflow(page) == 0, "the review page scrolls sideways on a phone"
        expect(page.locator("#review-comment")).to_have_text("在册人数请与台账核对")
        screenshots("returned")

        # The head of LZ-02 sees the comment, corrects the number and submits again.
        _switch_user(page, base, "head2")
        page.goto(f"{base}/reporting/units/{world.unit2.pk}/file/")
        expect(page.locator("#review-comment")).to_have_text("在册人数请与台账核对")
        line = page.locator("#line-registered")
        expect(line).to_have_class(re.compile(r"\bdiffers\b"))
        expect(page.locator("#id_r_registered")).to_be_visible()
        page.locator("#id_v_registered").fill("1")
        expect(line).not_to_have_class(re.compile(r"\bdiffers\b"))
        expect(page.locator("#id_r_registered")).to_be_hidden()
        page.locator("#id_v_duty").fill("站长带班值守")
        screenshots("correction")
        page.locator("#submit-button").tap()
        expect(page.locator("#confirm-title")).to_contain_text("第二作业站")
        page.locator("#confirm").tap()
        expect(page.locator("#status-submitted")).to_be_visible()

        # The office approves both reports in place.
        _switch_user(page, base, "office")
        for unit in (world.unit1, world.unit2):
            page.goto(f"{base}/reporting/")
            page.locator(f"#unit-{unit.pk} .review-link").tap()
            with page.expect_response(lambda r: r.url.endswith("/approve/")):
                page.locator("#approve").tap()
            expect(page.locator("#review-status")).to_have_text(zh("Approved"))

        # Completeness of the last days: today is received on time for both units.
        page.goto(f"{base}/reporting/completeness/")
        for unit in (world.unit1, world.unit2):
            expect(page.locator(f"#row-{unit.pk} td.cell").last).to_have_attribute(
                "data-cell", "on_time"
            )
        assert horizontal_overflow(page) == 0, "the matrix scrolls the page sideways on a phone"
        screenshots("completeness")

        # The branch report of the day, and its .xlsx in the upward format.
        page.goto(f"{base}/reporting/branch/")
        expect(page.locator("#total-registered .total")).to_have_text("4")
        expect(page.locator("#missing")).to_contain_text(zh("None."))
        screenshots("branch")
        with page.expect_download() as download_info:
            page.locator("#xlsx-link").tap()
        download = download_info.value
        path = Path(download.path())

    assert len(asked) == 3  # the return and the two approvals were confirmed
    book = CalamineWorkbook.from_path(str(path))
    with translation.override("zh-hans"):
        totals_name = zh("Branch totals")
    rows = book.get_sheet_by_name(totals_name).to_python()
    header: list[Any] = [zh(h) for h in ("Code", "Indicator", "Total", "Register total")]
    start = rows.index(header)
    totals = {row[0]: row[2:4] for row in rows[start + 1 :]}
    assert totals["registered"] == [4.0, 4.0]
    assert totals["fevers"] == [0.0, 0.0]
    assert download.suggested_filename == (
        f"{zh('Daily zero report summary')}-临泽分公司-{today.isoformat()}.xlsx"
    )
    reports = {r.unit_id: r for r in UnitReport.objects.filter(day=today)}
    lz01, lz02 = reports[world.unit1.pk], reports[world.unit2.pk]
    assert (lz01.status, lz01.nothing_to_report, lz01.late) == (ReportStatus.APPROVED, True, False)
    assert (lz02.status, lz02.current and lz02.current.number) == (ReportStatus.APPROVED, 2)
    assert browser_problems.messages == []
