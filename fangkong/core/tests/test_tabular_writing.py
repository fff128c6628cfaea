"""Writing ledgers and import templates (fangkong.core.tabular.writing), read back with
python-calamine (values) and openpyxl (formats, validations)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.utils import translation
from django.utils.translation import gettext_lazy
from python_calamine import CalamineWorkbook

from fangkong.core.tabular import writing
from fangkong.core.tabular.columns import Column
from fangkong.core.tabular.writing import LookupSheet, TemplateSheet, build_template, write_ledger
from fangkong.org.models import Person

COLUMNS = (
    Column("name", gettext_lazy("Name"), width=10),
    Column("sex", gettext_lazy("Sex"), choices=Person.Sex.choices, width=6),
    Column("id_number", gettext_lazy("ID number"), width=21),
    Column("birth_date", gettext_lazy("Birth date"), width=12),
    Column("note", gettext_lazy("Note")),
)
HEADERS = ["姓名", "性别", "身份证号", "出生日期", "备注"]


@pytest.fixture(autouse=True)
def _english_ui() -> Iterator[None]:
    """Files are in Chinese whatever the language of the page that asks for them."""
    with translation.override("en"):
        yield


def _rows(data: bytes | Path, sheet: int | str = 0) -> list[list[Any]]:
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    book = (
        CalamineWorkbook.from_filelike(source)
        if isinstance(source, io.BytesIO)
        else CalamineWorkbook.from_path(str(source))
    )
    found = (
        book.get_sheet_by_index(sheet) if isinstance(sheet, int) else book.get_sheet_by_name(sheet)
    )
    return found.to_python()


def _column_format(sheet: Any, letter: str) -> str:
    """The number format of a column (adjacent alike columns share one entry)."""
    index = openpyxl.utils.column_index_from_string(letter)
    (found,) = [d for d in sheet.column_dimensions.values() if d.min <= index <= d.max]
    return str(found.number_format)


def _ledger(rows: list[list[Any]], columns: tuple[Column, ...] = COLUMNS) -> bytes:
    out = io.BytesIO()
    write_ledger(out, "台账", columns, rows, date_keys={"birth_date"})
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# Ledgers


def test_a_ledger_has_a_chinese_header_and_one_row_per_item() -> None:
    data = _ledger(
        [
            ["张建国", "M", "620723197503141316", dt.date(1975, 3, 14), "退休"],
            ["李秀英", "F", "", None, ""],
        ]
    )

    assert _rows(data) == [
        HEADERS,
        ["张建国", "男", "620723197503141316", dt.date(1975, 3, 14), "退休"],
        ["李秀英", "女", "", "", ""],
    ]


def test_write_ledger_returns_the_row_count_and_writes_to_a_path(tmp_path: Path) -> None:
    path = tmp_path / "ledger.xlsx"

    count = write_ledger(path, "台账", COLUMNS, (["甲", "M", "", None, ""] for _ in range(3)))

    assert count == 3
    assert len(_rows(path)) == 4


def test_cells_that_look_like_formulas_come_back_as_the_same_text() -> None:
    values = ["=1+1", "+8613800001111", "-3", "@SUM(A1)", '=HYPERLINK("http://x.cn","点")']
    data = _ledger([[v, "", "", None, v] for v in values])

    assert [row[0] for row in _rows(data)[1:]] == values
    assert [row[4] for row in _rows(data)[1:]] == values
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    assert {sheet.cell(row, 1).data_type for row in range(2, 7)} == {"s"}
    xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml


def test_id_and_phone_numbers_are_text_never_numbers() -> None:
    data = _ledger([["甲", "", "11010519491231002X", None, "13800001111"]])
    data2 = _ledger([["乙", "", "620723197503141316", None, "0931-1234567"]])

    assert _rows(data)[1][2] == "11010519491231002X"
    assert _rows(data)[1][4] == "13800001111"
    assert _rows(data2)[1][2] == "620723197503141316"
    assert len(_rows(data2)[1][2]) == 18
    sheet = openpyxl.load_workbook(io.BytesIO(data2)).worksheets[0]
    assert (sheet["C2"].data_type, sheet["C2"].number_format) == ("s", "@")
    assert (sheet["E2"].data_type, sheet["E2"].value) == ("s", "0931-1234567")


def test_dates_are_date_cells_shown_as_year_month_day() -> None:
    data = _ledger([["甲", "", "", dt.date(2020, 2, 1), ""]])

    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    assert sheet["D2"].number_format == "yyyy-mm-dd"
    assert _column_format(sheet, "D") == "yyyy-mm-dd"
    assert _rows(data)[1][3] == dt.date(2020, 2, 1)


def test_an_aware_date_time_is_written_in_local_time() -> None:
    columns = (Column("at", gettext_lazy("time")),)
    at = dt.datetime(2020, 2, 1, 0, 30, tzinfo=dt.UTC)  # 08:30 in Beijing

    data = _ledger([[at]], columns)

    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    assert sheet["A2"].value == dt.datetime(2020, 2, 1, 8, 30)
    assert sheet["A2"].number_format == "yyyy-mm-dd hh:mm"


def test_numbers_and_other_values_keep_their_type_or_are_written_as_text() -> None:
    columns = (Column("n", gettext_lazy("Name")), Column("x", gettext_lazy("Note")))

    data = _ledger([[3, Path("a/b")], [2.5, gettext_lazy("Male")]], columns)

    assert _rows(data)[1:] == [[3.0, "a/b"], [2.5, "男"]]


def test_a_stored_value_without_a_label_is_written_as_it_is() -> None:
    data = _ledger([["甲", "X", "", None, ""]])

    assert _rows(data)[1][1] == "X"


def test_the_header_is_bold_and_frozen_and_the_columns_have_their_widths() -> None:
    data = _ledger([["甲", "M", "", None, ""]])

    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    assert [sheet.cell(1, c).font.b for c in range(1, 6)] == [True] * 5
    assert sheet.freeze_panes == "A2"
    widths = [round(sheet.column_dimensions[c].width) for c in "ABCDE"]
    assert widths == [11, 7, 22, 13, 15]  # Column.width, plus Excel's padding
    assert _column_format(sheet, "A") == "@"
    assert sheet.auto_filter.ref == "A1:E2"


def test_an_empty_ledger_has_its_header_only() -> None:
    assert _rows(_ledger([])) == [HEADERS]


def test_rows_are_written_as_they_come_from_an_iterator() -> None:
    seen: list[int] = []

    def rows() -> Iterator[list[Any]]:
        for i in range(5):
            seen.append(i)
            yield [f"人{i}", "", "", None, ""]

    out = io.BytesIO()
    assert write_ledger(out, "台账", COLUMNS, rows()) == 5
    assert seen == [0, 1, 2, 3, 4]
    assert [r[0] for r in _rows(out.getvalue())[1:]] == [f"人{i}" for i in range(5)]


def test_more_rows_than_a_sheet_holds_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(writing, "MAX_DATA_ROWS", 2)

    with pytest.raises(writing.TooManyRows):
        _ledger([["甲", "", "", None, ""]] * 3)


# ---------------------------------------------------------------------------------------------
# Templates

TEMPLATE_COLUMNS = (
    Column("grid_code", gettext_lazy("Grid code"), required=True, example="LZ-01-01"),
    Column(
        "relation",
        gettext_lazy("Relation to head"),
        meaning=gettext_lazy("One row per household is the head (户主)."),
        required=True,
        choices=Person.Relation.choices,
        example="户主",
    ),
    Column("sex", gettext_lazy("Sex"), choices=Person.Sex.choices, example="男"),
    Column(
        "id_number",
        gettext_lazy("ID number"),
        format=gettext_lazy("18 characters, the last a digit or X. Type it as text."),
        example="620723197503141316",
        width=21,
    ),
    Column("birth_date", gettext_lazy("Birth date"), example="1975-03-14"),
    Column("note", gettext_lazy("Note")),
)
GRID_COLUMNS = (Column("code", gettext_lazy("Grid code")), Column("name", gettext_lazy("Grid")))
GRIDS = [("LZ-01-01", "一站一网格"), ("LZ-01-02", "一站二网格")]


def _template(
    columns: tuple[Column, ...] = TEMPLATE_COLUMNS,
    grids: list[tuple[str, str]] = GRIDS,
    notes: tuple[str, ...] = ("第二行是示例。",),
) -> bytes:
    out = io.BytesIO()
    build_template(
        out,
        TemplateSheet("名册", columns, date_keys={"birth_date"}),
        instructions_name="填写说明",
        lookups=[LookupSheet("网格", GRID_COLUMNS, grids, feeds="grid_code")],
        notes=notes,
    )
    return out.getvalue()


def _validations(data: bytes) -> dict[str, tuple[str, str | None]]:
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    return {str(v.sqref): (v.type, v.formula1) for v in sheet.data_validations.dataValidation}


def test_a_template_has_the_sheet_to_fill_its_instructions_and_its_lookups() -> None:
    book = CalamineWorkbook.from_filelike(io.BytesIO(_template()))

    assert book.sheet_names == ["名册", "填写说明", "网格"]


def test_a_template_has_the_header_and_the_example_row() -> None:
    assert _rows(_template(), "名册") == [
        ["网格编码", "与户主关系", "性别", "身份证号", "出生日期", "备注"],
        ["LZ-01-01", "户主", "男", "620723197503141316", dt.date(1975, 3, 14), ""],
    ]


def test_the_headers_of_required_columns_are_red() -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(_template())).worksheets[0]

    red = [
        sheet.cell(1, c).font.color is not None and sheet.cell(1, c).font.color.rgb == "FFC00000"
        for c in range(1, 7)
    ]
    assert red == [True, True, False, False, False, False]


def test_every_column_but_dates_is_formatted_as_text_so_excel_keeps_18_digits() -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(_template())).worksheets[0]

    formats = [_column_format(sheet, c) for c in "ABCDEF"]
    assert formats == ["@", "@", "@", "@", "yyyy-mm-dd", "@"]
    assert (sheet["D2"].data_type, sheet["D2"].number_format) == ("s", "@")


def test_the_instructions_describe_each_column_then_give_the_notes() -> None:
    with translation.override("zh-hans"):
        headers = [str(h) for h in writing.INSTRUCTION_HEADERS]
        required, optional = str(gettext_lazy("Yes")), str(gettext_lazy("No"))
        from_grids = str(gettext_lazy("A code from the %(sheet)s sheet") % {"sheet": "网格"})

    rows = _rows(_template(), "填写说明")

    assert rows[0] == headers
    assert rows[1] == ["网格编码", "", "", required, from_grids]
    assert rows[2] == [
        "与户主关系",
        "每户须有一行的关系为“户主”。",
        "",
        required,
        "户主、配偶、子女、父母、兄弟姐妹、孙子女、祖父母、租户、其他",
    ]
    assert rows[3] == ["性别", "", "", optional, "男、女、未知"]
    assert rows[4][:4] == ["身份证号", "", "18位，最后一位为数字或X。请以文本格式填写。", optional]
    assert rows[7:] == [[""] * 5, ["第二行是示例。", "", "", "", ""]]  # after a blank row


def test_coded_columns_have_drop_downs_of_their_labels() -> None:
    validations = _validations(_template())

    assert validations["B2:B1048576"] == (
        "list",
        '"户主,配偶,子女,父母,兄弟姐妹,孙子女,祖父母,租户,其他"',
    )
    assert validations["C2:C1048576"] == ("list", '"男,女,未知"')


def test_the_grid_code_drop_down_lists_the_lookup_sheet() -> None:
    assert _validations(_template())["A2:A1048576"] == ("list", "'网格'!$A$2:$A$3")
    assert _rows(_template(), "网格") == [["网格编码", "网格"], *map(list, GRIDS)]


def test_without_grids_the_grid_code_has_no_drop_down() -> None:
    assert "A2:A1048576" not in _validations(_template(grids=[]))


def test_a_long_list_is_read_from_a_hidden_sheet() -> None:
    many = [(f"v{i}", f"第{i}种情况") for i in range(60)]
    columns = (Column("kind", gettext_lazy("Category"), choices=many, example="第1种情况"),)

    data = _template(columns)

    book = openpyxl.load_workbook(io.BytesIO(data))
    with translation.override("zh-hans"):
        lists = str(writing.LISTS_SHEET)
    assert book[lists].sheet_state == "hidden"
    assert [c.value for c in book[lists]["A"]] == [label for _v, label in many]
    assert _validations(data)["A2:A1048576"] == ("list", f"'{lists}'!$A$1:$A$60")
