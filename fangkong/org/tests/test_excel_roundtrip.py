"""The ledger the export writes goes back in through the import unchanged: the two halves
share one column description (fangkong.org.ledger)."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from fangkong.core.testing import World
from fangkong.org import imports
from fangkong.org.exports import export_person_ledger
from fangkong.org.models import Household, Person, TimelineEvent


@pytest.mark.parametrize("unmasked", [False, True], ids=["masked", "unmasked"])
def test_an_exported_ledger_imported_again_changes_nothing(
    world: World, tmp_path: Path, unmasked: bool
) -> None:
    head1 = world.user("head1")
    path = tmp_path / "台账.xlsx"
    rows = export_person_ledger(str(path), user=head1, unmasked=unmasked)
    assert rows == 3  # the persons of LZ-01
    counts = (Person.objects.count(), Household.objects.count(), TimelineEvent.objects.count())
    history = (Person.history.count(), Household.history.count())

    report = imports.commit(actor=head1, source=str(path))

    assert report.problems == []
    assert (report.persons.created, report.persons.updated, report.persons.unchanged) == (0, 0, 3)
    assert (report.households.created, report.households.updated) == (0, 0)
    assert (
        Person.objects.count(),
        Household.objects.count(),
        TimelineEvent.objects.count(),
    ) == counts
    assert (Person.history.count(), Household.history.count()) == history


def test_an_edited_export_changes_only_the_edited_person(world: World, tmp_path: Path) -> None:
    head1 = world.user("head1")
    path = tmp_path / "台账.xlsx"
    export_person_ledger(str(path), user=head1)
    book = load_workbook(path)
    sheet = book.worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    name_col, note_col = headers.index("姓名") + 1, headers.index("备注") + 1
    for row in range(2, sheet.max_row + 1):
        if sheet.cell(row, name_col).value == "李秀英":
            sheet.cell(row, note_col).value = "返乡人员"
    book.save(path)

    report = imports.commit(actor=head1, source=str(path))

    assert report.problems == []
    assert (report.persons.updated, report.persons.unchanged) == (1, 2)
    world.person12.refresh_from_db()
    assert world.person12.note == "返乡人员"
    latest = world.person12.history.first()
    assert latest is not None and latest.history_user == head1
