"""一人一表: the A4 page, the .xlsx file and the temperature chart of an episode."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from python_calamine import CalamineWorkbook

from fangkong.core.masking import mask_id_number, mask_phone
from fangkong.core.tabular.writing import LEDGER_LANGUAGE, XLSX_CONTENT_TYPE
from fangkong.core.testing import World, build_world
from fangkong.core.testing import english_client as _client
from fangkong.observation import services
from fangkong.observation.chart import y_of
from fangkong.observation.models import ObservationEpisode
from fangkong.observation.sheet import column_headers, sheet_title

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2020, 2, 10, 10, 30, tzinfo=TZ)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2020, 2, day, hour, minute, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _frozen_time() -> Iterator[None]:
    """Today is 2020-02-10, 10:30 in Beijing: day 7 of 张小明's episode (2020-02-03 to
    2020-02-15, counted from the contact of 2020-02-01)."""
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def obs_world(_frozen_time: None, db: None) -> World:
    """The observation world, and for 张小明 (episode1) besides its 36.6 of the morning of
    02-04: a fever of 37.5 with a cough that afternoon, 36.4 on the morning of 02-05 and 36.9
    at noon (outside the windows), a WeChat visit by 钱医生 on 02-05, and the responsible
    grid worker and doctor."""
    world = build_world(observation=True)
    episode = world.episode1
    record = services.record_reading
    record(actor=None, episode=episode, value="37.5", taken_at=at(4, 15), symptoms=["cough"])
    record(actor=None, episode=episode, value="36.4", taken_at=at(5, 7, 45))
    record(actor=None, episode=episode, value="36.9", taken_at=at(5, 12))
    services.record_visit(
        actor=None, episode=episode, mode="wechat", visited_at=at(5, 9), visitor_name="钱医生"
    )
    services.set_responsible(
        actor=None,
        episode=episode,
        entries=[
            {"role": "grid_worker", "name": "赵网格员", "phone": "13811112222"},
            {"role": "doctor", "name": "钱医生"},
        ],
    )
    return world


def _sheet_url(episode: ObservationEpisode, what: str = "sheet/") -> str:
    return f"/observation/{episode.pk}/{what}"


def _cells(html: str, day: str) -> dict[str, str]:
    """The cells of the day's row by class: {"morning": "36.6", …} (text without tags)."""
    match = re.search(rf'<tr id="day-{day}"[^>]*>(.*?)</tr>', html, re.S)
    assert match is not None, f"no row for {day}"
    cells = re.findall(r'<td class="([\w -]+)">(.*?)</td>', match.group(1), re.S)
    return {
        classes.split()[0] if classes.split()[0] != "temp" else classes.split()[1]: re.sub(
            r"<[^>]+>", "", text
        ).strip()
        for classes, text in cells
    }


# ---------------------------------------------------------------------------------------------
# The page


def test_the_sheet_has_one_row_per_day_with_each_temperature_in_its_column(
    obs_world: World,
) -> None:
    response = _client(obs_world, "worker11").get(_sheet_url(obs_world.episode1))

    html = response.content.decode()
    assert response.status_code == 200
    days = re.findall(r'<tr id="day-([\d-]+)"', html)
    assert days == [f"2020-02-{d:02d}" for d in range(3, 16)]
    assert _cells(html, "2020-02-03") == {
        "date": "2020-02-03",
        "num": "2",
        "morning": "—",
        "afternoon": "—",
        "others": "",
        "symptoms": "",
        "follow-up": "no visit",
        "needs": "",
        "abnormal": "No",
    }
    assert _cells(html, "2020-02-04") == {
        "date": "2020-02-04",
        "num": "3",
        "morning": "36.6",
        "afternoon": "37.5",
        "others": "",
        "symptoms": "Dry cough",
        "follow-up": "Phone · 赵网格员",
        "needs": "",
        "abnormal": "Yes",
    }
    assert _cells(html, "2020-02-05") == {
        "date": "2020-02-05",
        "num": "4",
        "morning": "36.4",
        "afternoon": "—",
        "others": "12:00 36.9",
        "symptoms": "",
        "follow-up": "WeChat · 钱医生",
        "needs": "",
        "abnormal": "No",
    }
    # The need of the world was raised today; days to come are left blank for the pen.
    assert _cells(html, "2020-02-10")["needs"] == "Daily supplies：大米、食用油"
    assert _cells(html, "2020-02-11") == {
        "date": "2020-02-11",
        "num": "10",
        "morning": "",
        "afternoon": "",
        "others": "",
        "symptoms": "",
        "follow-up": "",
        "needs": "",
        "abnormal": "",
    }
    assert 'class="temp afternoon fever">37.5</td>' in html


def test_the_sheet_shows_the_details_masked_the_period_and_the_responsible_people(
    obs_world: World,
) -> None:
    episode = obs_world.episode2
    person = obs_world.person21
    services.set_responsible(
        actor=None, episode=episode, entries=[{"role": "cadre", "name": "孙书记"}]
    )

    html = _client(obs_world, "head2").get(_sheet_url(episode)).content.decode()

    details = dict(re.findall(r"<th scope=\"row\">([^<]+)</th><td[^>]*>([^<]*)</td>", html))
    assert details == {
        "Name": "王立新",
        "Sex": "Male",
        "Age": "51",
        "ID number": mask_id_number(person.id_number),
        "Phone": mask_phone(person.phone),
        "Unit and grid": "第二作业站 · 二站一网格",
        "Address": "二站4排1号",
        "Kind": "Home isolation medical observation",
        "Reason": "Arrival from a risk area",
        "Counted from": "2020-02-02（Arrival）",
        "Observation started": "2020-02-03",
        "Planned end": "2020-02-16",
        "Status": "Under observation",
        "Responsible people": "Cadre 孙书记",
    }
    assert person.id_number not in html and person.phone not in html
    assert re.search(r'id="sheet-responsible">Cadre 孙书记</td>', html)
    assert '<h1 class="text-center mb-2">Home isolation medical observation record</h1>' in html
    for label in ("Cadre (signature)", "Grid worker (signature)", "Person under observation"):
        assert label in html
    assert "@page { size: A4 portrait;" in html
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html


def test_the_sheet_of_an_episode_outside_the_scope_is_404(obs_world: World) -> None:
    client = _client(obs_world, "head2")
    episode = obs_world.episode1

    statuses = [client.get(_sheet_url(episode, w)).status_code for w in SHEET_PARTS]

    assert statuses == [404, 404, 404]


SHEET_PARTS = ("sheet/", "sheet.xlsx", "chart.svg")


@pytest.mark.parametrize("persona", ["auditor1", "leader", "worker11"])
def test_anyone_who_may_see_the_episode_may_print_it(obs_world: World, persona: str) -> None:
    client = _client(obs_world, persona)

    statuses = [client.get(_sheet_url(obs_world.episode1, w)).status_code for w in SHEET_PARTS]

    assert statuses == [200, 200, 200]


def _grow(world: World, days: int) -> None:
    """Both checks, a visit and a need on each of ``days`` days of episode1 (from 02-03)."""
    episode = world.episode1
    for offset in range(days):
        day = 3 + offset
        for hour, value in ((8, "36.5"), (15, "37.4")):
            services.record_reading(
                actor=None, episode=episode, value=value, taken_at=at(day, hour)
            )
        services.record_visit(actor=None, episode=episode, mode="phone", visited_at=at(day, 11))
        services.record_visit(
            actor=None,
            episode=episode,
            mode="in_person",
            visited_at=at(day, 16),
            needs="口罩",
            need_kind="supplies",
        )


def _measure(client: Client, url: str) -> tuple[int, int]:
    client.get(url)  # warm up: the session's first write, translations
    with CaptureQueriesContext(connection) as queries:
        response: Any = client.get(url)
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return len(queries), len(body)


@pytest.mark.parametrize("part", SHEET_PARTS)
def test_the_sheet_costs_the_same_queries_however_many_readings(
    obs_world: World, part: str
) -> None:
    client = _client(obs_world, "head1")
    url = _sheet_url(obs_world.episode1, part)

    few, few_size = _measure(client, url)
    _grow(obs_world, 7)
    many, many_size = _measure(client, url)

    assert many_size > few_size
    assert many == few, f"{part}: {few} queries with 4 readings, {many} with 18"


# ---------------------------------------------------------------------------------------------
# The file


def _rows(response: Any) -> list[list[Any]]:
    assert response.status_code == 200
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    book = CalamineWorkbook.from_filelike(io.BytesIO(b"".join(response.streaming_content)))
    return book.get_sheet_by_name(book.sheet_names[0]).to_python()


def test_the_xlsx_holds_the_same_rows_in_chinese(obs_world: World) -> None:
    response = _client(obs_world, "worker11").get(_sheet_url(obs_world.episode1, "sheet.xlsx"))

    rows = _rows(response)
    with translation.override(LEDGER_LANGUAGE):
        title = sheet_title("home_isolation")
        headers = column_headers()
        no_visit, yes, no = (
            translation.gettext("no visit"),
            translation.gettext("Yes"),
            translation.gettext("No"),
        )
        cough = translation.gettext("Dry cough")
        phone, wechat = translation.gettext("Phone"), translation.gettext("WeChat")
        supplies = translation.gettext("Daily supplies")
    assert "filename*=utf-8''" in response["Content-Disposition"]
    assert rows[0][0] == title
    start = next(i for i, row in enumerate(rows) if row[: len(headers)] == headers)
    days = rows[start + 1 : start + 14]
    assert [row[:9] for row in days[:3]] == [
        [dt.date(2020, 2, 3), 2, "", "", "", "", no_visit, "", no],
        [dt.date(2020, 2, 4), 3, 36.6, 37.5, "", cough, f"{phone} · 赵网格员", "", yes],
        [dt.date(2020, 2, 5), 4, 36.4, "", "12:00 36.9", "", f"{wechat} · 钱医生", "", no],
    ]
    assert days[7][:9] == [
        dt.date(2020, 2, 10),
        9,
        "",
        "",
        "",
        "",
        no_visit,
        f"{supplies}：大米、食用油",
        no,
    ]
    assert days[-1][:9] == [dt.date(2020, 2, 15), 14, "", "", "", "", "", "", ""]
    assert rows[start + 14][:9] == [""] * 9
    details = {row[i]: row[i + 1] for row in rows[2:start] for i in (0, 3, 6) if row[i]}
    with translation.override(LEDGER_LANGUAGE):
        assert details[translation.gettext("Name")] == "张小明"
        assert details[translation.gettext("Planned end")] == "2020-02-15"
        assert details[translation.gettext("Responsible people")].startswith(
            translation.gettext("Grid worker") + " 赵网格员 13811112222"
        )


# ---------------------------------------------------------------------------------------------
# The chart


def test_the_chart_is_an_svg_without_script_with_a_point_per_reading(obs_world: World) -> None:
    response = _client(obs_world, "worker11").get(_sheet_url(obs_world.episode1, "chart.svg"))

    svg = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert svg.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg ')
    assert "<script" not in svg.lower()
    assert re.findall(r"(?:href|src)\s*=", svg) == []
    assert re.findall(r"https?://", svg) == ["http://"]  # the SVG namespace, nothing fetched
    titles = re.findall(r'<circle class="reading[^"]*"[^>]*><title>([^<]+)</title>', svg)
    assert titles == [
        "2020-02-04 08:30 36.6 °C",
        "2020-02-04 15:00 37.5 °C",
        "2020-02-05 07:45 36.4 °C",
        "2020-02-05 12:00 36.9 °C",
    ]
    assert len(re.findall(r'class="reading fever"', svg)) == 1
    assert len(re.findall(r'class="reading other"', svg)) == 1


def test_the_chart_draws_the_threshold_and_breaks_the_line_at_a_missed_check(
    obs_world: World,
) -> None:
    services.record_reading(actor=None, episode=obs_world.episode1, value="36.7", taken_at=at(6, 8))
    services.record_reading(
        actor=None, episode=obs_world.episode1, value="36.8", taken_at=at(6, 15)
    )

    svg = _client(obs_world, "worker11").get(_sheet_url(obs_world.episode1, "chart.svg")).content

    text = svg.decode()
    threshold = f"{y_of(Decimal('37.3')):g}"
    assert f'<line class="threshold" x1="40" y1="{threshold}" x2="666" y2="{threshold}"' in text
    # 02-04 morning → afternoon → 02-05 morning, a gap (02-05 afternoon), 02-06 both.
    lines = re.findall(r'<polyline class="line" points="([^"]+)"', text)
    assert [len(points.split()) for points in lines] == [3, 2]
