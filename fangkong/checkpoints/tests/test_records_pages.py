"""The records' pages through Django's test client: the places with the overdue ones first,
adding and changing a place, taking it off the schedule (after a confirmation), the phone
page recording a disinfection with one tap (htmx), the full form, a correction with its audit
trail, the log and the publicity list with their filters and Excel exports; and who may do
what: out of scope is 404, read-only is 403, nothing changes on a refusal."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation
from python_calamine import CalamineWorkbook

from fangkong.checkpoints import exports_records as exports
from fangkong.checkpoints.models import Disinfection, DisinfectionPlace, PublicityRecord
from fangkong.checkpoints.services import records as services
from fangkong.core.tabular.writing import LEDGER_LANGUAGE, XLSX_CONTENT_TYPE
from fangkong.core.testing import english_client as client_of

from .records_kit import NOW, TODAY, RecordsWorld, at, frozen_clock, place, records_world

HTMX = {"HTTP_HX_REQUEST": "true"}
PLACES = "/checkpoints/disinfection/"
RECORD = "/checkpoints/disinfection/record/"
LOG = "/checkpoints/disinfection/log/"
PUBLICITY = "/checkpoints/publicity/"


@pytest.fixture
def rworld(db: None) -> Iterator[RecordsWorld]:
    with frozen_clock():
        yield records_world()


def _place_url(found: DisinfectionPlace, action: str = "") -> str:
    return f"/checkpoints/disinfection/places/{found.pk}/{action + '/' if action else ''}"


def _plain(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip()


def _rows(html: str, table: str) -> list[str]:
    body = html[html.index(f'id="{table}"') :]
    body = body[body.index("<tbody>") : body.index("</tbody>")]
    return [_plain(row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def _state() -> tuple[Any, ...]:
    return (
        list(DisinfectionPlace.objects.order_by("pk").values()),
        list(Disinfection.objects.order_by("pk").values()),
        list(PublicityRecord.objects.order_by("pk").values()),
    )


def _sheet(response: Any, sheet: Any) -> list[list[Any]]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(response.streaming_content)))
    with translation.override(LEDGER_LANGUAGE):
        assert book.sheet_names == [str(sheet)]
    return book.get_sheet_by_name(book.sheet_names[0]).to_python()


def _zh(value: Any) -> str:
    with translation.override(LEDGER_LANGUAGE):
        return str(value)


# ---------------------------------------------------------------------------------------------
# Places


def test_the_places_list_the_overdue_ones_first_and_flagged(rworld: RecordsWorld) -> None:
    place(rworld, "一站东门卡口", times_per_day=2, at=at(5, 9))  # due at 21:00
    place(rworld, "一排公厕", unit=rworld.grid11, times_per_day=4, at=at(5, 1))  # due at 07:00

    html = client_of(rworld, "office").get(PLACES).content.decode()

    assert _rows(html, "places") == [
        "一站职工食堂 第一作业站 2 2020-02-04 09:00 overdue since 2020-02-04 21:00",
        "一排公厕 一站一网格 4 — overdue since 2020-02-05 07:00",
        "二站办公室 第二作业站 1 2020-02-04 10:00 2020-02-05 10:00",
        "一站东门卡口 第一作业站 2 — 2020-02-05 21:00",
    ]
    assert _plain(html.split('id="overdue-summary">')[1].split("</p>")[0]) == "2 places overdue"
    assert html.count('class="place table-danger overdue"') == 2


def test_a_unit_head_sees_the_places_of_their_unit_and_can_filter_the_overdue(
    rworld: RecordsWorld,
) -> None:
    place(rworld, "一站东门卡口", times_per_day=2, at=at(5, 9))
    client = client_of(rworld, "head1")

    everything = client.get(PLACES).content.decode()
    overdue = client.get(PLACES, {"overdue": "on"}, **HTMX).content.decode()

    assert [row.split(" ")[0] for row in _rows(everything, "places")] == [
        "一站职工食堂",
        "一站东门卡口",
    ]
    assert [row.split(" ")[0] for row in _rows(overdue, "places")] == ["一站职工食堂"]
    assert "<html" not in overdue  # the list only, for htmx
    assert 'id="add-place"' in everything
    assert 'id="add-place"' not in client_of(rworld, "auditor1").get(PLACES).content.decode()


def test_a_unit_head_adds_a_place_and_lands_on_it(rworld: RecordsWorld) -> None:
    response = client_of(rworld, "head1").post(
        "/checkpoints/disinfection/places/new/",
        {"unit": rworld.grid11.pk, "name": "一排公厕", "location": "1排西头", "times_per_day": 3},
    )

    found = DisinfectionPlace.objects.get(name="一排公厕")
    assert response.status_code == 302
    assert response["Location"] == _place_url(found)
    assert (found.unit, found.location, found.times_per_day, found.created_at) == (
        rworld.grid11,
        "1排西头",
        3,
        NOW,
    )


def test_the_place_form_offers_the_units_the_user_manages_and_shows_the_service_s_error(
    rworld: RecordsWorld,
) -> None:
    client = client_of(rworld, "head1")
    before = _state()

    form = client.get("/checkpoints/disinfection/places/new/").content.decode()
    refused = client.post(
        "/checkpoints/disinfection/places/new/",
        {"unit": rworld.unit1.pk, "name": "一站职工食堂", "times_per_day": 2},
    ).content.decode()

    units = re.findall(r'<option value="(\d+)"', form)
    assert units == [str(u.pk) for u in (rworld.unit1, rworld.grid11, rworld.grid12)]
    assert "第一作业站 already has a place called 一站职工食堂: choose another name." in refused
    assert _state() == before


def test_the_place_page_shows_its_disinfections_and_for_an_auditor_its_audit_trail(
    rworld: RecordsWorld,
) -> None:
    services.record_disinfection(
        actor=rworld.user("head1"), place=rworld.place1, agent="过氧乙酸", done_at=at(5, 8)
    )

    head = client_of(rworld, "head1").get(_place_url(rworld.place1)).content.decode()
    auditor = client_of(rworld, "auditor1").get(_place_url(rworld.place1)).content.decode()

    assert _rows(head, "disinfections") == [
        "2020-02-05 08:00 过氧乙酸 head1 — Correct",
        "2020-02-04 09:00 84消毒液 1:100 王芳 — Correct",
    ]
    assert _plain(head.split('id="place-facts">')[1].split("</dl>")[0]) == (
        "times a day 2 (every 12 h) last disinfected 2020-02-05 08:00 due 2020-02-05 20:00"
    )
    assert 'id="record-link"' in head and 'id="audit-trail"' in head
    assert 'id="record-link"' not in auditor and "Correct" not in auditor
    assert 'id="audit-trail"' in auditor


def test_a_place_is_taken_off_the_schedule_after_a_confirmation(rworld: RecordsWorld) -> None:
    client = client_of(rworld, "head1")
    url = _place_url(rworld.place1, "state")

    confirm = client.get(url).content.decode()
    assert DisinfectionPlace.objects.get(pk=rworld.place1.pk).is_active is True
    response = client.post(url)

    assert "Take 一站职工食堂 off the schedule?" in confirm
    assert response.status_code == 302
    assert DisinfectionPlace.objects.get(pk=rworld.place1.pk).is_active is False
    assert "Put 一站职工食堂 back on the schedule?" in client.get(url).content.decode()


def test_changing_a_place_through_its_form(rworld: RecordsWorld) -> None:
    response = client_of(rworld, "office").post(
        _place_url(rworld.place1, "edit"),
        {"unit": rworld.unit1.pk, "name": "职工食堂", "location": "场部", "times_per_day": 3},
    )

    found = DisinfectionPlace.objects.get(pk=rworld.place1.pk)
    assert response.status_code == 302
    assert (found.name, found.location, found.times_per_day) == ("职工食堂", "场部", 3)


# ---------------------------------------------------------------------------------------------
# Recording


def test_the_record_page_lists_the_places_the_user_may_record_for_overdue_first(
    rworld: RecordsWorld,
) -> None:
    place(rworld, "一排公厕", unit=rworld.grid11, times_per_day=2, at=at(5, 9))
    place(rworld, "二排公厕", unit=rworld.grid12, times_per_day=2, at=at(5, 9))

    worker = client_of(rworld, "worker11").get(RECORD).content.decode()
    head = client_of(rworld, "head1").get(RECORD).content.decode()

    assert re.findall(r'class="fw-semibold fs-5 place-name"[^>]*>([^<]+)<', worker) == ["一排公厕"]
    assert re.findall(r'class="fw-semibold fs-5 place-name"[^>]*>([^<]+)<', head) == [
        "一站职工食堂",
        "一排公厕",
        "二排公厕",
    ]
    assert 'data-overdue="yes"' in head and "since 02-04 21:00" in head
    assert '<option value="84消毒液 1:100">' in head and 'value="head1"' in head


def test_one_tap_records_a_disinfection_done_now_and_answers_with_the_place_s_row(
    rworld: RecordsWorld,
) -> None:
    client = client_of(rworld, "head1")

    response = client.post(
        _place_url(rworld.place1, "record"),
        {"row": "1", "agent": "75%酒精", "done_by": "刘志强"},
        **HTMX,
    )

    html = response.content.decode()
    record = Disinfection.objects.get(place=rworld.place1, done_at=NOW)
    assert (record.agent, record.done_by, record.recorded_by) == (
        "75%酒精",
        "刘志强",
        rworld.user("head1"),
    )
    assert response.status_code == 200 and "<html" not in html
    assert html.strip().startswith(
        f'<article class="card mb-2 place-row" id="row-{rworld.place1.pk}"'
    )
    assert "Recorded: 10:00, 75%酒精, 刘志强" in _plain(html)
    assert "next due 02-05 22:00" in _plain(html)


def test_a_tap_without_a_disinfectant_says_so_in_the_row_and_records_nothing(
    rworld: RecordsWorld,
) -> None:
    before = _state()

    response = client_of(rworld, "head1").post(
        _place_url(rworld.place1, "record"), {"row": "1", "agent": " ", "done_by": ""}, **HTMX
    )

    assert "Name the disinfectant, e.g. 84消毒液 1:100." in response.content.decode()
    assert "<html" not in response.content.decode()
    assert _state() == before


def test_the_full_form_records_an_earlier_time_and_refuses_a_future_one(
    rworld: RecordsWorld,
) -> None:
    client = client_of(rworld, "head1")
    url = _place_url(rworld.place1, "record")
    form = client.get(url).content.decode()

    future = client.post(url, {"done_at": "2020-02-05T11:00", "agent": "75%酒精"})
    done = client.post(url, {"done_at": "2020-02-05T07:30", "agent": "75%酒精", "note": "早班"})

    assert 'value="2020-02-05T10:00"' in form and 'value="84消毒液 1:100"' in form
    assert (
        "2020-02-05 11:00 is in the future: enter when the disinfection was done (now or earlier)."
        in future.content.decode()
    )
    assert done.status_code == 302 and done["Location"] == _place_url(rworld.place1)
    record = Disinfection.objects.get(place=rworld.place1, done_at=at(5, 7, 30))
    assert (record.done_by, record.note) == ("head1", "早班")


def test_a_correction_keeps_the_audit_trail(rworld: RecordsWorld) -> None:
    client = client_of(rworld, "head1")
    url = f"/checkpoints/disinfection/log/{rworld.disinfection1.pk}/edit/"

    response = client.post(
        url, {"done_at": "2020-02-04T08:30", "agent": "84消毒液 1:100", "done_by": "王芳、李强"}
    )
    page = client.get(url).content.decode()

    assert response.status_code == 302
    record = Disinfection.objects.get(pk=rworld.disinfection1.pk)
    assert (record.done_at, record.done_by) == (at(4, 8, 30), "王芳、李强")
    assert DisinfectionPlace.objects.get(pk=rworld.place1.pk).last_done_at == at(4, 8, 30)
    trail = _plain(page[page.index('id="audit-trail"') :])
    assert "done by: 王芳 → 王芳、李强" in trail


# ---------------------------------------------------------------------------------------------
# The log and publicity


def test_the_log_filters_by_unit_and_days_and_exports_the_same_rows(rworld: RecordsWorld) -> None:
    services.record_disinfection(
        actor=None, place=rworld.place1, agent="过氧乙酸", done_by="李强", done_at=at(5, 8)
    )
    client = client_of(rworld, "office")
    query = {"unit": rworld.unit1.pk, "start": "2020-02-04", "end": "2020-02-04"}

    everything = _rows(client.get(LOG).content.decode(), "log")
    filtered = _rows(client.get(LOG, query).content.decode(), "log")
    sheet = _sheet(
        client.get("/checkpoints/disinfection/log/export/", query), exports.DISINFECTION_SHEET
    )

    assert everything == [
        "2020-02-05 08:00 一站职工食堂 第一作业站 过氧乙酸 李强 —",
        "2020-02-04 10:00 二站办公室 第二作业站 75%酒精 李强 —",
        "2020-02-04 09:00 一站职工食堂 第一作业站 84消毒液 1:100 王芳 —",
    ]
    assert filtered == ["2020-02-04 09:00 一站职工食堂 第一作业站 84消毒液 1:100 王芳 —"]
    assert sheet[0] == [_zh(c.header) for c in exports.DISINFECTION_COLUMNS]
    assert sheet[1:] == [
        [
            dt.datetime(2020, 2, 4, 9, 0),
            "第一作业站",
            "一站职工食堂",
            "",
            "84消毒液 1:100",
            "王芳",
            "",
            "",
            dt.datetime(2020, 2, 4, 9, 0),
        ]
    ]


def test_a_unit_head_s_log_and_export_hold_their_unit_only(rworld: RecordsWorld) -> None:
    client = client_of(rworld, "head2")

    rows = _rows(client.get(LOG).content.decode(), "log")
    sheet = _sheet(client.get("/checkpoints/disinfection/log/export/"), exports.DISINFECTION_SHEET)

    assert rows == ["2020-02-04 10:00 二站办公室 第二作业站 75%酒精 李强 —"]
    assert [row[2] for row in sheet[1:]] == ["二站办公室"]


def test_publicity_is_recorded_listed_filtered_and_exported(rworld: RecordsWorld) -> None:
    client = client_of(rworld, "worker11")
    response = client.post(
        f"{PUBLICITY}new/",
        {
            "unit": rworld.grid11.pk,
            "day": "2020-02-05",
            "kind": "broadcast",
            "content": "广播防疫知识，提醒居民戴口罩",
            "place": "一站大喇叭",
            "quantity": "3",
        },
    )
    record = PublicityRecord.objects.get(content__startswith="广播防疫知识，提醒")
    office = client_of(rworld, "office")

    listed = _rows(office.get(PUBLICITY).content.decode(), "publicity")
    broadcasts = _rows(
        office.get(PUBLICITY, {"kind": "broadcast", "start": "2020-02-05"}).content.decode(),
        "publicity",
    )
    sheet = _sheet(office.get(f"{PUBLICITY}export/", {"kind": "poster"}), exports.PUBLICITY_SHEET)

    assert response.status_code == 302 and response["Location"] == f"{PUBLICITY}{record.pk}/"
    assert (record.day, record.reach, record.quantity, record.recorded_by) == (
        TODAY,
        None,
        3,
        rworld.user("worker11"),
    )
    assert listed == [
        "2020-02-05 Broadcast 广播防疫知识，提醒居民戴口罩 一站一网格 一站大喇叭 — 3",
        "2020-02-04 Broadcast 广播防疫知识 第二作业站 — — 3",
        "2020-02-04 Poster or banner 张贴防疫海报 第一作业站 一站1排 120 20",
    ]
    assert broadcasts == [listed[0]]
    assert sheet[0] == [_zh(c.header) for c in exports.PUBLICITY_COLUMNS]
    assert sheet[1:] == [
        [
            dt.date(2020, 2, 4),
            "第一作业站",
            _zh(PublicityRecord.Kind.POSTER.label),
            "张贴防疫海报",
            "一站1排",
            120.0,
            20.0,
            "",
        ]
    ]


def test_a_publicity_record_is_corrected_through_its_form(rworld: RecordsWorld) -> None:
    client = client_of(rworld, "head1")
    url = f"{PUBLICITY}{rworld.publicity1.pk}/edit/"

    response = client.post(
        url,
        {
            "unit": rworld.unit1.pk,
            "day": "2020-02-04",
            "kind": "poster",
            "content": "张贴防疫海报和横幅",
            "place": "一站1排",
            "reach": "150",
            "quantity": "25",
        },
    )
    detail = client.get(f"{PUBLICITY}{rworld.publicity1.pk}/").content.decode()

    assert response.status_code == 302
    assert _plain(detail.split('id="content">')[1].split("</dd>")[0]) == "张贴防疫海报和横幅"
    assert "content: 张贴防疫海报 → 张贴防疫海报和横幅" in _plain(detail)


def test_a_future_day_is_refused_on_the_publicity_form(rworld: RecordsWorld) -> None:
    before = _state()

    response = client_of(rworld, "head1").post(
        f"{PUBLICITY}new/",
        {"unit": rworld.unit1.pk, "day": "2020-02-06", "kind": "notice", "content": "通知"},
    )

    assert "2020-02-06 has not come yet: record publicity on its day or later." in (
        response.content.decode()
    )
    assert _state() == before


# ---------------------------------------------------------------------------------------------
# Who may do what


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "{place}"),
        ("post", "{place}edit/"),
        ("post", "{place}state/"),
        ("post", "{place}record/"),
        ("post", "/checkpoints/disinfection/log/{disinfection}/edit/"),
        ("get", "/checkpoints/publicity/{publicity}/"),
        ("post", "/checkpoints/publicity/{publicity}/edit/"),
    ],
)
def test_a_record_of_another_unit_is_not_found_and_stays_unchanged(
    rworld: RecordsWorld, method: str, path: str
) -> None:
    url = path.format(
        place=_place_url(rworld.place1),
        disinfection=rworld.disinfection1.pk,
        publicity=rworld.publicity1.pk,
    )
    before = _state()

    response = getattr(client_of(rworld, "head2"), method)(
        url, {"agent": "75%酒精", "name": "改名", "times_per_day": 2, "row": "1"}
    )

    assert response.status_code == 404
    assert _state() == before


@pytest.mark.parametrize(
    "path",
    [
        "/checkpoints/disinfection/places/new/",
        "{place}edit/",
        "{place}state/",
        "{place}record/",
        "/checkpoints/disinfection/record/",
        "/checkpoints/disinfection/log/{disinfection}/edit/",
        "/checkpoints/publicity/new/",
        "/checkpoints/publicity/{publicity}/edit/",
    ],
)
def test_a_read_only_user_is_refused_every_change_and_nothing_changes(
    rworld: RecordsWorld, path: str
) -> None:
    url = path.format(
        place=_place_url(rworld.place1),
        disinfection=rworld.disinfection1.pk,
        publicity=rworld.publicity1.pk,
    )
    client = client_of(rworld, "auditor1")
    before = _state()

    get = client.get(url)
    post = client.post(
        url,
        {
            "unit": rworld.unit1.pk,
            "name": "东门",
            "times_per_day": 2,
            "agent": "75%酒精",
            "day": "2020-02-05",
            "kind": "notice",
            "content": "通知",
        },
    )

    assert get.status_code == 403
    assert post.status_code == (405 if url == RECORD else 403)  # the record page only shows
    assert _state() == before


def test_a_grid_worker_may_record_but_not_set_up_places(rworld: RecordsWorld) -> None:
    client = client_of(rworld, "worker11")

    assert client.get(RECORD).status_code == 200
    assert client.get("/checkpoints/disinfection/places/new/").status_code == 403
    assert client.get(PLACES).status_code == 200
