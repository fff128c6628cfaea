"""Importing a list of risk areas: the file, each kind of problem at its exact row and column,
all or nothing, the page, the template and the command line."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from django.core.exceptions import PermissionDenied
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from fangkong.core.scoping import Operator
from fangkong.core.testing import World
from fangkong.screening import imports, services
from fangkong.screening.imports import import_risk_areas
from fangkong.screening.models import Region, RiskAreaPeriod

HEADER_ZH = "行政区划代码,风险等级,起始日期,截止日期,备注"
HEADER_EN = "region code,risk level,from,until,note"


def csv_file(*lines: str, name: str = "名单.csv", header: str = HEADER_ZH) -> io.BytesIO:
    data = io.BytesIO("\n".join([header, *lines]).encode("utf-8"))
    data.name = name
    return data


def xlsx_file(rows: list[list[Any]], name: str = "名单.xlsx") -> io.BytesIO:
    data = io.BytesIO()
    book = xlsxwriter.Workbook(data, {"strings_to_numbers": False})
    sheet = book.add_worksheet("风险地区")
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date)
            elif value is not None:
                sheet.write(r, c, value)
    book.close()
    data.seek(0)
    data.name = name
    return data


def state() -> list[dict[str, Any]]:
    periods: list[dict[str, Any]] = [
        dict(p) for p in RiskAreaPeriod.objects.order_by("pk").values()
    ]
    return [*periods, {"history": RiskAreaPeriod.history.count()}]


def where(report: imports.RiskAreaImportReport) -> list[tuple[int | None, str, str]]:
    return [(p.row, p.letter, p.message) for p in report.problems]


@pytest.fixture
def wuhan_high(regions: None) -> RiskAreaPeriod:
    return services.set_risk_level(
        actor=None, region=Region.objects.get(pk="420100"), level="high", start=dt.date(2020, 1, 23)
    )


# ---------------------------------------------------------------------------------------------
# A good file


def test_a_good_csv_file_is_imported_with_every_way_of_writing_a_level(regions: None) -> None:
    report = import_risk_areas(
        actor=None,
        source=csv_file(
            "420106,高,2020-01-23,,武汉市通告",
            "110105,中风险,2020/6/11,2020-07-04,",
            "620723,low,2020-02-01,2020-02-10,临泽",
            "330100,Medium risk,2020年2月3日,,",
        ),
    )

    assert (report.ok, report.committed, report.rows, report.created) == (True, True, 4, 4)
    assert sorted(RiskAreaPeriod.objects.values_list("region", "level", "start", "end")) == [
        ("110105", "medium", dt.date(2020, 6, 11), dt.date(2020, 7, 4)),
        ("330100", "medium", dt.date(2020, 2, 3), None),
        ("420106", "high", dt.date(2020, 1, 23), None),
        ("620723", "low", dt.date(2020, 2, 1), dt.date(2020, 2, 10)),
    ]
    assert RiskAreaPeriod.objects.get(region="420106").note == "武汉市通告"


def test_a_good_xlsx_file_with_english_headers_and_date_cells_is_imported(regions: None) -> None:
    report = import_risk_areas(
        actor=None,
        source=xlsx_file(
            [
                ["region code", "risk level", "from", "until", "note"],
                ["420106", "high", dt.date(2020, 1, 23), dt.date(2020, 3, 31), ""],
                [420111, "中", dt.date(2020, 1, 23), None, None],
            ]
        ),
    )

    assert (report.ok, report.created) == (True, 2), report.problems
    assert RiskAreaPeriod.objects.get(region="420111").level == "medium"


def test_importing_the_same_file_again_changes_nothing(regions: None) -> None:
    lines = ("420106,高,2020-01-23,,", "110105,中,2020-06-11,2020-07-04,")
    import_risk_areas(actor=None, source=csv_file(*lines))
    before = state()

    again = import_risk_areas(actor=None, source=csv_file(*lines))

    assert (again.ok, again.created, again.unchanged) == (True, 0, 2)
    assert state() == before


def test_a_later_list_ends_an_open_period_or_gives_it_its_last_day(
    wuhan_high: RiskAreaPeriod,
) -> None:
    report = import_risk_areas(
        actor=None,
        source=csv_file("420100,高,2020-01-23,2020-03-24,", "420106,中,2020-03-25,,"),
    )

    assert (report.ok, report.ended, report.created) == (True, 1, 1)
    wuhan_high.refresh_from_db()
    assert wuhan_high.end == dt.date(2020, 3, 24)


def test_a_new_open_period_closes_the_earlier_one_of_its_region(
    wuhan_high: RiskAreaPeriod,
) -> None:
    report = import_risk_areas(actor=None, source=csv_file("420100,中,2020-03-25,,降级"))

    assert (report.ok, report.created) == (True, 1)
    wuhan_high.refresh_from_db()
    assert wuhan_high.end == dt.date(2020, 3, 24)


# ---------------------------------------------------------------------------------------------
# Problems, each at its row and column, and nothing written


def test_every_bad_row_is_reported_at_its_row_and_column_and_nothing_is_written(
    wuhan_high: RiskAreaPeriod,
) -> None:
    before = state()

    report = import_risk_areas(
        actor=None,
        source=csv_file(
            "420106,高,2020-01-23,,fine on its own",  # 2
            "999999,高,2020-01-23,,",  # 3: unknown code
            "420111,极高,2020-01-23,,",  # 4: bad level
            "420112,中,2020-02-10,2020-02-01,",  # 5: end before start
            "420100,中,2020-01-01,2020-01-30,",  # 6: overlaps the stored period
            "110105,中,2020-06-11,2020-07-04,",  # 7
            "110105,高,2020-07-01,,",  # 8: overlaps row 7
            "420113,中,2020-02-30,,",  # 9: no such day
            ",中,2020-02-01,,",  # 10: no code
            "420114,,,,",  # 11: no level, no start
        ),
    )

    assert (report.ok, report.committed) == (False, False)
    assert where(report) == [
        (
            3,
            "A",
            "No region has this code. Enter the 6-digit GB/T 2260 code of the province, "
            "prefecture or county, e.g. 420106 (look it up on the risk-area page by the "
            "region's name).",
        ),
        (4, "B", "Write 高, 中 or 低 (or high, medium, low)."),
        (5, "D", "The end date cannot be before the start date."),
        (
            6,
            "C",
            "武汉市 already has a period from 2020-01-23 to today that overlaps this one. "
            "End or change that period first.",
        ),
        (
            8,
            "C",
            "Row 7 already sets 朝阳区 from 2020-06-11 to 2020-07-04, which shares days with "
            "this row. Give the earlier period its last day (until), or remove one of the rows.",
        ),
        (9, "C", "Write the date as YYYY-MM-DD, e.g. 2020-01-23."),
        (10, "A", "Enter the 6-digit region code."),
        (11, "B", "Enter the risk level: 高, 中 or 低."),
        (11, "C", "Enter the first day, e.g. 2020-01-23."),
    ]
    assert [p.column for p in report.problems[:3]] == ["行政区划代码", "风险等级", "截止日期"]
    assert state() == before


def test_a_code_typed_as_a_number_that_lost_digits_is_one_problem(regions: None) -> None:
    report = import_risk_areas(
        actor=None,
        source=xlsx_file(
            [["行政区划代码", "风险等级", "起始日期"], [6.20723197503141e17, "高", "2020-02-01"]]
        ),
    )

    assert [(p.row, p.letter) for p in report.problems] == [(2, "A")]
    assert not RiskAreaPeriod.objects.exists()


def test_a_missing_required_column_is_named(regions: None) -> None:
    report = import_risk_areas(
        actor=None, source=csv_file("420106,高", header="行政区划代码,风险等级")
    )

    assert [(p.row, p.column) for p in report.problems] == [(1, "起始日期")]
    assert not RiskAreaPeriod.objects.exists()


def test_a_file_that_is_not_a_list_is_one_problem(regions: None) -> None:
    data = io.BytesIO(b"hello")
    data.name = "list.pdf"

    report = import_risk_areas(actor=None, source=data)

    assert (report.ok, [p.row for p in report.problems]) == (False, [None])
    assert "neither" in report.problems[0].message


def test_a_dry_run_writes_nothing(regions: None) -> None:
    report = import_risk_areas(actor=None, source=csv_file("420106,高,2020-01-23,,"), dry_run=True)

    assert (report.ok, report.committed, report.created) == (True, False, 1)
    assert not RiskAreaPeriod.objects.exists()


def test_only_a_risk_area_manager_may_import(world: World) -> None:
    with pytest.raises(PermissionDenied):
        import_risk_areas(actor=world.user("head1"), source=csv_file("420106,高,2020-01-23,,"))
    report = import_risk_areas(
        actor=world.user("office"), source=csv_file("420106,高,2020-01-23,,")
    )
    assert report.committed
    assert RiskAreaPeriod.objects.get().set_by == world.user("office")
    assert Operator().is_authenticated  # the command line acts as the operator (actor None)


# ---------------------------------------------------------------------------------------------
# The page and the template


def test_the_office_imports_a_list_on_the_page(world: World, client: Client) -> None:
    client.force_login(world.user("office"))
    url = reverse("screening:risk_area_import")

    assert client.get(url).status_code == 200
    response = client.post(
        url, {"file": csv_file("420106,高,2020-01-23,,", "110105,中,2020-06-11,,")}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("screening:risk_area_list")
    assert RiskAreaPeriod.objects.count() == 2
    messages = [str(m) for m in response.context["messages"]]
    assert len(messages) == 1 and "2" in messages[0]
    assert reverse("screening:risk_area_import") in response.content.decode()


def test_the_page_shows_the_problems_and_writes_nothing(world: World, client: Client) -> None:
    client.force_login(world.user("office"))

    response = client.post(
        reverse("screening:risk_area_import"), {"file": csv_file("420106,极高,2020-01-23,,")}
    )

    assert response.status_code == 200
    assert [(p.row, p.letter) for p in response.context["problems"]] == [(2, "B")]
    assert 'id="problems"' in response.content.decode()
    assert not RiskAreaPeriod.objects.exists()


def test_a_unit_head_may_not_open_the_import_page(world: World, client: Client) -> None:
    client.force_login(world.user("head1"))

    assert client.get(reverse("screening:risk_area_import")).status_code == 403
    assert (
        client.post(
            reverse("screening:risk_area_import"), {"file": csv_file("420106,高,2020-01-23,,")}
        ).status_code
        == 403
    )
    assert client.get(reverse("screening:risk_area_template")).status_code == 403
    assert not RiskAreaPeriod.objects.exists()


def test_the_template_imports_as_it_is(world: World, client: Client) -> None:
    client.force_login(world.user("office"))

    response = client.get(reverse("screening:risk_area_template"))
    data = io.BytesIO(b"".join(response.streaming_content))  # type: ignore[attr-defined]
    data.name = "template.xlsx"
    report = import_risk_areas(actor=None, source=data)

    assert response.status_code == 200
    assert (report.ok, report.created) == (True, 1), report.problems
    assert RiskAreaPeriod.objects.get().region_id == "420106"


# ---------------------------------------------------------------------------------------------
# The command line


def test_the_command_imports_a_file(regions: None, tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(f"{HEADER_EN}\n420106,high,2020-01-23,,\n", encoding="utf-8")
    out = StringIO()

    call_command("import_risk_areas", str(path), stdout=out)

    assert RiskAreaPeriod.objects.count() == 1
    assert "1 periods added" in out.getvalue()


def test_the_command_fails_with_row_and_column_and_writes_nothing(
    regions: None, tmp_path: Path
) -> None:
    path = tmp_path / "list.csv"
    path.write_text(
        f"{HEADER_EN}\n420106,high,2020-01-23,,\n420111,extreme,2020-01-23,,\n", encoding="utf-8"
    )
    out = StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("import_risk_areas", str(path), stdout=out)

    assert raised.value.returncode == 1
    assert "row 3, column B (risk level): extreme — Write 高, 中 or 低" in out.getvalue()
    assert not RiskAreaPeriod.objects.exists()


def test_the_command_exits_non_zero(regions: None, tmp_path: Path) -> None:
    """Run as a process would: the exit status itself."""
    path = tmp_path / "list.csv"
    path.write_text(f"{HEADER_EN}\n999999,high,2020-01-23,,\n", encoding="utf-8")
    err = StringIO()

    utility = ManagementUtility(["manage.py", "import_risk_areas", str(path)])
    with pytest.raises(SystemExit) as exited, contextlib.redirect_stderr(err):
        utility.execute()

    assert exited.value.code == 1
    assert "1 problems" in err.getvalue()
