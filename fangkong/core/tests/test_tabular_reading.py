"""Reading ledgers from .xlsx and .csv files: headers, cells as text, positions, refusals."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from fangkong.core.tabular.columns import Column
from fangkong.core.tabular.reading import (
    TableError,
    cell_text,
    choice_lookup,
    column_letter,
    excel_number,
    parse_date,
    read_table,
)

# "Grid code", "Name", "ID number" and "Birth date" are translated in the catalogue;
# "Shoe size" is not (its Chinese header is the English one).
COLUMNS = (
    Column("grid_code", _("Grid code"), required=True),
    Column("name", _("Name"), required=True),
    Column("id_number", _("ID number")),
    Column("birth_date", _("Birth date")),
    Column("shoe_size", "Shoe size"),
)


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def zh(text: Any) -> str:
    with translation.override("zh-hans"):
        return str(text)


def workbook(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    book = xlsxwriter.Workbook(str(path))
    for name, rows in sheets.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, dt.date):
                    sheet.write_datetime(r, c, value, book.add_format({"num_format": "yyyy-mm-dd"}))
                elif isinstance(value, str):
                    sheet.write_string(r, c, value)
                else:
                    sheet.write(r, c, value)
    book.close()
    return path


def test_cells_come_back_as_text_with_their_sheet_row_and_column(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "a.xlsx",
        {
            "名册": [
                [zh("Grid code"), zh("Name"), zh("ID number"), zh("Birth date")],
                ["LZ-01-01", " 张建国 ", "620723197503141316", dt.date(1975, 3, 14)],
                ["LZ-01-02", "李秀英", "", dt.datetime(1982, 11, 2, 0, 0)],
            ]
        },
    )

    table = read_table(path, COLUMNS)

    assert table.name == "a.xlsx"
    assert table.problems == []
    assert [(r.sheet, r.number, r.values) for r in table.rows] == [
        (
            "名册",
            2,
            {
                "grid_code": "LZ-01-01",
                "name": "张建国",
                "id_number": "620723197503141316",
                "birth_date": "1975-03-14",
            },
        ),
        (
            "名册",
            3,
            {
                "grid_code": "LZ-01-02",
                "name": "李秀英",
                "id_number": "",
                "birth_date": "1982-11-02",
            },
        ),
    ]
    cell = table.rows[0].cell("id_number")
    assert (cell.sheet, cell.row, cell.letter, cell.header, cell.value) == (
        "名册",
        2,
        "C",
        zh("ID number"),
        "620723197503141316",
    )


def test_the_header_row_may_sit_below_a_title_and_columns_in_any_order(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "a.xlsx",
        {
            "Sheet1": [
                ["第一作业站人员名册"],
                [],
                [None, "Remarks", " name ", "*GRID CODE*", "Shoe size"],
                [None, "ignored", "张建国", "LZ-01-01", "42"],
            ]
        },
    )

    table = read_table(path, COLUMNS)

    (row,) = table.rows
    assert row.number == 4
    assert row.values == {"name": "张建国", "grid_code": "LZ-01-01", "shoe_size": "42"}
    assert (row.cell("grid_code").letter, row.cell("grid_code").header) == ("D", "*GRID CODE*")
    assert table.sheets[0].header_row == 3


def test_empty_rows_are_skipped_wherever_they_are(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "a.xlsx",
        {
            "S": [
                [zh("Grid code"), zh("Name")],
                ["LZ-01-01", "甲"],
                [],
                ["  ", ""],
                ["LZ-01-01", "乙"],
                [],
                [None, None, "a note outside the ledger's columns"],
                [],
            ]
        },
    )

    table = read_table(path, COLUMNS)

    assert [(r.number, r.values["name"]) for r in table.rows] == [(2, "甲"), (5, "乙")]


def test_a_missing_required_column_is_one_problem_naming_it(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "a.xlsx",
        {"S": [[zh("Name"), zh("ID number")], ["甲", ""], ["乙", ""]]},
    )

    table = read_table(path, COLUMNS)

    (problem,) = table.problems
    assert (problem.sheet, problem.row, problem.header) == ("S", 1, zh("Grid code"))
    assert "“" + zh("Grid code") + "”" in problem.message
    assert table.sheets[0].missing == ("grid_code",)


def test_a_missing_column_is_named_in_the_language_of_the_other_headers(tmp_path: Path) -> None:
    path = workbook(tmp_path / "a.xlsx", {"S": [["Name", "ID number"], ["甲", ""]]})

    table = read_table(path, COLUMNS)

    assert [p.header for p in table.problems] == ["Grid code"]


def test_sheets_without_a_header_row_are_ignored_and_every_ledger_sheet_is_read(
    tmp_path: Path,
) -> None:
    path = workbook(
        tmp_path / "a.xlsx",
        {
            "说明": [["列", "含义"], [zh("Grid code"), "网格"], [zh("Name"), "姓名"]],
            "一网格": [[zh("Grid code"), zh("Name")], ["LZ-01-01", "甲"]],
            "网格": [[zh("Grid code"), "网格名称"], ["LZ-01-01", "一站一网格"]],
            "二网格": [[zh("Grid code"), zh("Name")], ["LZ-01-02", "乙"]],
        },
    )

    table = read_table(path, COLUMNS)

    assert [(r.sheet, r.number, r.values["name"]) for r in table.rows] == [
        ("一网格", 2, "甲"),
        ("二网格", 2, "乙"),
    ]


def test_a_formula_is_read_as_its_cached_value(tmp_path: Path) -> None:
    path = tmp_path / "f.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["Grid code", "Name"])
    sheet.write_formula("A2", '="LZ-01-01"', None, "LZ-01-01")
    sheet.write_formula("B2", '=CONCATENATE("张","建国")', None, "张建国")
    book.close()

    (row,) = read_table(path, COLUMNS).rows

    assert row.values == {"grid_code": "LZ-01-01", "name": "张建国"}


def test_an_id_number_stored_as_a_number_is_reported_not_guessed(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "a.xlsx",
        {"S": [["Grid code", "Name", "ID number"], ["LZ-01-01", "甲", 620723197503141316]]},
    )

    table = read_table(path, COLUMNS)

    (problem,) = table.problems
    assert (problem.sheet, problem.row, problem.letter, problem.header) == (
        "S",
        2,
        "C",
        "ID number",
    )
    assert problem.value == "6.20723197503141E+17"  # as Excel shows it
    assert "an ID number must be typed as text" in problem.message
    assert table.rows[0].unreadable == frozenset({"id_number"})


def test_whole_numbers_that_excel_keeps_exactly_become_their_digits(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "a.xlsx",
        {"S": [["Grid code", "Name", "Shoe size"], [1, 13912345678, 42.5]]},
    )

    (row,) = read_table(path, COLUMNS).rows

    assert row.values == {"grid_code": "1", "name": "13912345678", "shoe_size": "42.5"}


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_a_csv_file_is_read_in_utf8_or_gbk(tmp_path: Path, encoding: str) -> None:
    text = (
        f"{zh('Grid code')},{zh('Name')},{zh('Birth date')}\r\nLZ-01-01,张建国,1975/3/14\r\n,,\r\n"
    )
    path = tmp_path / "名册.csv"
    path.write_bytes(text.encode(encoding))

    table = read_table(path, COLUMNS)

    (row,) = table.rows
    assert (row.sheet, row.number) == ("名册", 2)
    assert row.values == {"grid_code": "LZ-01-01", "name": "张建国", "birth_date": "1975/3/14"}


def test_a_csv_file_with_semicolons_or_tabs_is_read(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("Grid code;Name\nLZ-01-01;张建国\n", encoding="utf-8")

    assert read_table(path, COLUMNS).rows[0].values == {"grid_code": "LZ-01-01", "name": "张建国"}


def test_a_long_number_in_scientific_notation_in_a_csv_file_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("Grid code,Name,ID number\nLZ-01-01,张建国,6.20723E+17\n", encoding="utf-8")

    table = read_table(path, COLUMNS)

    assert [(p.row, p.letter, p.value) for p in table.problems] == [(2, "C", "6.20723E+17")]


def test_an_upload_is_read_from_its_file_object(tmp_path: Path) -> None:
    upload = SimpleUploadedFile("名册.csv", "Grid code,Name\nLZ-01-01,张建国\n".encode("gbk"))

    table = read_table(upload, COLUMNS)

    assert table.name == "名册.csv"
    assert table.rows[0].values["name"] == "张建国"


def test_a_file_over_the_row_limit_is_refused(tmp_path: Path) -> None:
    rows = [["Grid code", "Name"]] + [["LZ-01-01", f"甲{i}"] for i in range(4)] + [[], []]
    path = workbook(tmp_path / "a.xlsx", {"S": rows})

    assert len(read_table(path, COLUMNS, max_rows=4).rows) == 4  # trailing empty rows do not count
    with pytest.raises(TableError, match="more than 3 rows"):
        read_table(path, COLUMNS, max_rows=3)


def test_the_limits_default_to_the_settings(tmp_path: Path, settings: Any) -> None:
    path = workbook(tmp_path / "a.xlsx", {"S": [["Grid code", "Name"], ["a", "b"], ["c", "d"]]})
    settings.IMPORT_MAX_ROWS = 1

    with pytest.raises(TableError, match="more than 1 rows"):
        read_table(path, COLUMNS)
    settings.IMPORT_MAX_ROWS = 10
    settings.IMPORT_MAX_BYTES = 100
    with pytest.raises(TableError, match=r"larger than 0\.0001 MB"):
        read_table(path, COLUMNS)


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b"Grid code,Name\n" + b"x,y\n" * 1000)
    upload = io.BytesIO(path.read_bytes())
    upload.name = "a.csv"

    with pytest.raises(TableError, match="larger than"):
        read_table(path, COLUMNS, max_bytes=1000)
    with pytest.raises(TableError, match="larger than"):
        read_table(upload, COLUMNS, max_bytes=1000)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.txt", b"Grid code,Name\n", "Import an Excel workbook (.xlsx) or a CSV file"),
        ("a", b"Grid code,Name\n", "Import an Excel workbook (.xlsx) or a CSV file"),
        ("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 50, "old Excel file (.xls)"),
        ("a.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 50, "password-protected"),
        ("a.xlsx", b"Grid code,Name\n", "named .xlsx but is not an Excel workbook"),
        ("a.xlsx", b"PK\x03\x04 broken zip", "cannot be read"),
        ("a.csv", b"PK\x03\x04\x14\x00", "named .csv but is not a text file"),
        ("a.csv", b"\xff\xfe\x00G\x00r", "named .csv but is not a text file"),
        ("a.csv", b"\x81\x30\x81", "neither UTF-8 nor GBK"),
        ("a.csv", b"one,two\n1,2\n", "No sheet has a header row"),
    ],
)
def test_other_files_are_refused_with_a_message_saying_what_to_do(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)

    with pytest.raises(TableError, match=re.escape(message)):
        read_table(path, COLUMNS)


def test_the_extension_is_matched_whatever_its_case(tmp_path: Path) -> None:
    path = workbook(tmp_path / "A.XLSX", {"S": [["Grid code", "Name"], ["a", "b"]]})

    assert len(read_table(path, COLUMNS).rows) == 1


# ---------------------------------------------------------------------------------------------
# Helpers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1975-03-14", dt.date(1975, 3, 14)),
        ("1975/3/14", dt.date(1975, 3, 14)),
        ("1975.3.14", dt.date(1975, 3, 14)),
        ("1975年3月14日", dt.date(1975, 3, 14)),
        ("19750314", dt.date(1975, 3, 14)),
        ("１９７５－０３－１４", dt.date(1975, 3, 14)),  # typed with a Chinese IME
        ("１９７５/０３/１４", dt.date(1975, 3, 14)),
        ("1975-02-30", None),
        ("14/03/1975", None),
        ("", None),
    ],
)
def test_dates_are_read_in_the_ways_chinese_excel_writes_them(
    text: str, expected: dt.date | None
) -> None:
    assert parse_date(text) == expected


def test_column_letters_are_those_excel_shows() -> None:
    assert [column_letter(i) for i in (0, 1, 25, 26, 27, 51, 52, 701, 702)] == [
        "A",
        "B",
        "Z",
        "AA",
        "AB",
        "AZ",
        "BA",
        "ZZ",
        "AAA",
    ]


def test_cell_text_and_excel_numbers() -> None:
    assert cell_text(13912345678.0) == ("13912345678", False)
    assert cell_text(6.207231975031413e17) == ("6.20723197503141E+17", True)
    assert cell_text(True) == ("TRUE", False)
    assert cell_text(dt.time(8, 30)) == ("08:30:00", False)
    assert cell_text(dt.datetime(2020, 2, 1, 8, 30)) == ("2020-02-01 08:30:00", False)
    assert cell_text("1.39123E+10") == ("1.39123E+10", True)
    assert cell_text("1E+5") == ("1E+5", False)
    assert excel_number(1.5e20) == "1.5E+20"


def test_coded_values_are_found_by_chinese_or_english_label_or_stored_value() -> None:
    column = Column(
        "sex", _("Sex"), choices=(("M", _("Male")), ("F", _("Female")), ("U", _("Unknown")))
    )

    lookup = choice_lookup(column)

    assert lookup[zh("Male")] == "M"
    assert lookup["Female"] == "F"
    assert lookup["female"] == "F"  # looked up after normalise_header
    assert lookup["U"] == "U"
