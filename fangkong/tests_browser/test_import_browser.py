"""The roster import in a real browser: a unit head uploads a file with two mistakes, reads
them, uploads the corrected file, imports it and finds the persons in the list."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from django.utils import translation
from playwright.sync_api import Dialog, Page, expect

from fangkong.core.testing import PASSWORD, World, make_id_number
from fangkong.core.tests.browser import BrowserProblems, Screenshots, log_in
from fangkong.org.ledger import ROSTER_COLUMNS
from fangkong.org.models import Person

pytestmark = pytest.mark.browser

ID_HEAD = make_id_number("620723", dt.date(1979, 8, 1), 51)
ID_WIFE = make_id_number("620723", dt.date(1981, 2, 3), 62)
WRONG_WIFE = ID_WIFE[:17] + ("0" if ID_WIFE[17] != "0" else "1")


def roster(path: Path, rows: list[list[str]]) -> Path:
    """A roster as a unit head fills the template: Chinese headers, every cell text."""
    with translation.override("zh-hans"):
        headers = [str(c.header) for c in ROSTER_COLUMNS]
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("人员名册")
    sheet.write_row(0, 0, headers)
    for number, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            if value:
                sheet.write_string(number, col, value)
    workbook.close()
    return path


def rows(grid: str, wife_id: str) -> list[list[str]]:
    # grid, address, household phone, name, relation, sex, ID, birth, mobile, category
    return [
        [grid, "一站6排6号", "13600006666", "马国庆", "户主", "", ID_HEAD, "", "", "职工"],
        ["LZ-01-01", "一站6排6号", "", "何玉兰", "配偶", "", wife_id, "", "", "居民"],
        ["LZ-01-01", "一站6排6号", "", "马小军", "子女", "男", "", "2012-05-06", "", "居民"],
    ]


def test_a_unit_head_fixes_a_roster_and_imports_it(
    live_server: Any,
    world: World,
    phone_page: Page,
    screenshots: Screenshots,
    browser_problems: BrowserProblems,
    tmp_path: Path,
    settings: Any,
) -> None:
    settings.IMPORT_DIR = tmp_path / "imports"
    page = phone_page
    flawed = roster(tmp_path / "名册.xlsx", rows("LZ-09-01", WRONG_WIFE))
    fixed = roster(tmp_path / "名册-改.xlsx", rows("LZ-01-01", ID_WIFE))
    log_in(page, live_server.url, "head1", PASSWORD)

    # From the person list to the import page.
    page.goto(f"{live_server.url}/org/persons/")
    page.locator("#import-link").tap()
    page.wait_for_url(re.compile(r"/org/persons/import/$"))
    expect(page.locator("#template-link")).to_have_attribute("href", "/org/persons/template/")
    expect(page.locator("#no-file")).to_be_visible()
    screenshots("import-page")

    # A file with two mistakes: both listed with their row, column and value; no import button.
    page.locator("#id_file").set_input_files(str(flawed))
    with page.expect_navigation():
        page.locator("#upload").tap()
    expect(page.locator("#report-file")).to_have_text("名册.xlsx")
    problem_rows = page.locator("#problems tbody tr")
    expect(problem_rows).to_have_count(2)
    expect(problem_rows.nth(0)).to_contain_text("LZ-09-01")
    expect(problem_rows.nth(0).locator("td").nth(1)).to_have_text("2")
    expect(problem_rows.nth(0).locator("td").nth(2)).to_contain_text("A")
    expect(problem_rows.nth(1)).to_contain_text(WRONG_WIFE)
    expect(problem_rows.nth(1).locator("td").nth(1)).to_have_text("3")
    expect(problem_rows.nth(1).locator("td").nth(2)).to_contain_text("G")
    expect(page.locator("#import")).to_have_count(0)
    screenshots("two-problems")

    # The corrected file replaces it: no problem, the counts, and the import button.
    page.locator("#id_file").set_input_files(str(fixed))
    with page.expect_navigation():
        page.locator("#upload").tap()
    expect(page.locator("#report-file")).to_have_text("名册-改.xlsx")
    expect(page.locator("#problems")).to_have_count(0)
    expect(page.locator("#count-persons td").first).to_have_text("3")
    expect(page.locator("#count-households td").first).to_have_text("1")
    screenshots("ready")

    # Import, after the confirmation that says what will happen.
    asked: list[str] = []

    def confirm(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", confirm)
    with page.expect_navigation():
        page.locator("#import").tap()
    page.wait_for_url(re.compile(r"/org/persons/$"))
    assert len(asked) == 1 and "名册-改.xlsx" in asked[0] and "3" in asked[0], asked
    results = page.locator("#results")
    for name in ("马国庆", "何玉兰", "马小军"):
        expect(results.get_by_role("link", name=name)).to_be_visible()
    screenshots("imported")

    assert Person.objects.filter(household__address="一站6排6号").count() == 3
    assert list(Path(settings.IMPORT_DIR).glob("*/*")) == []
    assert browser_problems.messages == []
