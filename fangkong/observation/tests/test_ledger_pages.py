"""The observation ledger and its Excel export, the person page's observation section, and
the navigation: filters give exactly their rows, scope, masking, the recorded export with
full numbers, and query budgets."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from python_calamine import CalamineWorkbook

from fangkong.core.models import SensitiveAccess
from fangkong.core.tabular.writing import LEDGER_LANGUAGE, XLSX_CONTENT_TYPE
from fangkong.core.testing import World
from fangkong.core.testing import english_client as _client
from fangkong.observation import exports, services
from fangkong.observation.models import (
    EpisodeResponsible,
    ObservationEpisode,
    ObservationKind,
    PeriodPreset,
)
from fangkong.observation.selectors import EpisodeFilters
from fangkong.org import services as org_services
from fangkong.org.models import Person

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2020, 2, 10, 10, 0, tzinfo=TZ)
URL = "/observation/"
EXPORT = "/observation/export/"
Reason = ObservationEpisode.Reason
CountsFrom = ObservationEpisode.CountsFrom
Role = EpisodeResponsible.Role


@pytest.fixture(autouse=True)
def _frozen_time() -> Iterator[None]:
    """Today is 2020-02-10."""
    with time_machine.travel(NOW, tick=False):
        yield


def _start(person: Person, **values: Any) -> ObservationEpisode:
    at = values.pop("at")
    return services.start_episode(
        actor=None, entry=services.EpisodeStart(person=person, **values), at=at
    )


@pytest.fixture
def lworld(oworld: World) -> World:
    """In LZ-01, besides 张小明 (close contact, home isolation from 2020-02-03, last day
    2020-02-15, 36.6 °C on 02-04, responsible people named):

    - 李秀英 (LZ-01-02): arrival, centralised isolation from 2020-02-08 with the 7+3 preset
      (last day 2020-02-18), 38.0 °C this morning and visited today;
    - 张建国 (LZ-01-01): returnee, from 2020-01-28 counted from 01-27 (last day today: due);
    - 赵六 (LZ-01-02, a new person): other, 2020-01-25 to 2020-02-07, released on 02-07.

    In LZ-02, 王立新 (from the world)."""
    world = oworld
    services.set_responsible(
        actor=None,
        episode=world.episode1,
        entries=[
            {"role": "grid_worker", "name": "赵网格员", "phone": "13800001234"},
            {"role": "doctor", "name": "钱医生", "phone": ""},
        ],
    )
    li = _start(
        world.person12,
        reason=Reason.ARRIVAL,
        counts_from=dt.date(2020, 2, 8),
        counts_from_kind=CountsFrom.ARRIVAL,
        kind="centralised",
        preset=PeriodPreset.objects.get(name="7+3"),
        at=dt.datetime(2020, 2, 8, 9, 0, tzinfo=TZ),
    )
    services.record_reading(
        actor=None, episode=li, value="38.0", taken_at=dt.datetime(2020, 2, 10, 8, 0, tzinfo=TZ)
    )
    services.record_visit(
        actor=None,
        episode=li,
        mode="phone",
        visited_at=dt.datetime(2020, 2, 10, 9, 0, tzinfo=TZ),
        visitor_name="赵网格员",
    )
    _start(
        world.person11,
        reason=Reason.RETURNEE,
        counts_from=dt.date(2020, 1, 27),
        counts_from_kind=CountsFrom.ARRIVAL,
        at=dt.datetime(2020, 1, 28, 9, 0, tzinfo=TZ),
    )
    zhao = org_services.create_person(
        actor=None, name="赵六", household=world.household12, phone="13600007777"
    ).person
    zhao_episode = _start(
        zhao,
        reason=Reason.OTHER,
        counts_from=dt.date(2020, 1, 24),
        counts_from_kind=CountsFrom.START,
        at=dt.datetime(2020, 1, 25, 9, 0, tzinfo=TZ),
    )
    services.decide(actor=None, episode=zhao_episode, outcome="released", on=dt.date(2020, 2, 7))
    return world


def _names(client: Client, query: str = "") -> list[str]:
    response = client.get(f"{URL}{query}")
    assert response.status_code == 200
    return [row.episode.person.name for row in response.context["page"]]


# ---------------------------------------------------------------------------------------------
# Filters and scope


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["李秀英", "张小明", "张建国", "赵六"]),
        ("?status=active", ["李秀英", "张小明", "张建国"]),
        ("?status=ended", ["赵六"]),
        ("?status=released", ["赵六"]),
        ("?status=confirmed", []),
        ("?kind=centralised", ["李秀英"]),
        ("?reason=contact", ["张小明"]),
        ("?reason=returnee", ["张建国"]),
        ("?due_today=on", ["张建国"]),
        ("?fever_today=on", ["李秀英"]),
        ("?no_visit_today=on", ["张小明", "张建国"]),
        ("?started_from=2020-02-03", ["李秀英", "张小明"]),
        ("?started_to=2020-01-31", ["张建国", "赵六"]),
        ("?started_from=2020-01-28&started_to=2020-02-03", ["张小明", "张建国"]),
        ("?q=李秀", ["李秀英"]),
        ("?q=13912345678", ["张建国"]),
        ("?status=active&no_visit_today=on&reason=returnee", ["张建国"]),
    ],
)
def test_the_filters_give_exactly_their_rows(
    lworld: World, query: str, expected: list[str]
) -> None:
    assert _names(_client(lworld, "head1"), query) == expected


def test_the_unit_filter_and_the_scope(lworld: World) -> None:
    world = lworld

    assert _names(_client(world, "head1"), f"?unit={world.grid12.pk}") == ["李秀英", "赵六"]
    assert _names(_client(world, "worker11")) == ["张小明", "张建国"]
    assert _names(_client(world, "head2")) == ["王立新"]
    # The same start: the one recorded last first.
    assert _names(_client(world, "leader")) == ["李秀英", "王立新", "张小明", "张建国", "赵六"]
    # Asked for a unit outside the scope: the filter is invalid and ignored.
    assert _names(_client(world, "head2"), f"?unit={world.unit1.pk}") == ["王立新"]


def test_an_invalid_date_range_is_an_error_and_no_filter(lworld: World) -> None:
    response = _client(lworld, "head1").get(f"{URL}?started_from=2020-02-05&started_to=2020-02-01")

    assert "The end date cannot be before the start date." in response.content.decode()
    assert len(response.context["page"].object_list) == 4


def test_a_row_shows_the_period_day_and_today_masked(lworld: World) -> None:
    world = lworld
    response = _client(world, "head1").get(URL)
    html = response.content.decode()
    rows = {row.episode.person.name: row for row in response.context["page"]}

    assert (rows["张小明"].day, rows["张小明"].total, rows["张小明"].due) == (9, 14, False)
    assert (rows["张建国"].day, rows["张建国"].total, rows["张建国"].due) == (14, 14, True)
    assert (rows["李秀英"].day, rows["李秀英"].total) == (2, 10)
    assert rows["赵六"].day is None
    assert rows["李秀英"].today is not None and rows["李秀英"].today.fever
    assert str(rows["李秀英"].today.morning) == "38.0"
    assert "day 9 of 14" in html
    assert "release due" in html
    assert "2020-01-25 – 2020-02-07" in html  # ended: the day it ended
    assert f'href="/observation/{world.episode1.pk}/"' in html
    assert world.person11.id_number not in html
    assert world.person11.id_number[:6] + "********" + world.person11.id_number[-4:] in html
    assert "139****5678" in html and "13912345678" not in html


def test_an_htmx_request_gets_the_results_only(lworld: World) -> None:
    response = _client(lworld, "head1").get(f"{URL}?reason=contact", headers={"HX-Request": "true"})

    html = response.content.decode()
    assert "<html" not in html
    assert 'id="ledger"' in html and "张小明" in html and "李秀英" not in html


def test_who_may_open_the_ledger(lworld: World) -> None:
    assert _client(lworld, "auditor1").get(URL).status_code == 200
    assert _client(lworld, "gate1").get(URL).status_code == 403
    assert _client(lworld, "auditor1").get(URL).context["may_record"] is False


# ---------------------------------------------------------------------------------------------
# The export


def _sheet(content: bytes) -> list[list[Any]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    with translation.override(LEDGER_LANGUAGE):
        assert book.sheet_names == [str(exports.LEDGER_SHEET)]
    return book.get_sheet_by_name(book.sheet_names[0]).to_python()


def _content(response: Any) -> bytes:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    return b"".join(response.streaming_content)


def _zh(value: Any) -> str:
    with translation.override(LEDGER_LANGUAGE):
        return str(value)


def test_the_headers_are_the_observation_fields(lworld: World) -> None:
    response = _client(lworld, "head1").get(EXPORT)
    rows = _sheet(_content(response))

    with translation.override(LEDGER_LANGUAGE):
        assert rows[0] == [str(c.header) for c in exports.COLUMNS]
    assert [c.key for c in exports.COLUMNS] == [
        "name", "sex", "id_number", "phone", "address", "unit", "grid", "kind", "reason",
        "reason_note", "counts_from_kind", "counts_from", "start_date", "preset",
        "isolation_end", "planned_end", "place", "status", "ended_on", "decision_note",
        "responsible", "last_temperature", "last_temperature_at",
    ]  # fmt: skip
    disposition = response["Content-Disposition"]
    assert disposition.rstrip('"').endswith("-2020-02-10.xlsx"), disposition


def test_one_row_holds_exactly_the_episode_masked(lworld: World) -> None:
    rows = _sheet(_content(_client(lworld, "head1").get(f"{EXPORT}?reason=contact")))

    assert len(rows) == 2
    assert rows[1] == [
        "张小明",
        _zh(Person.Sex.MALE.label),
        "",
        "",
        "一站1排3号",
        "第一作业站",
        "一站一网格",
        _zh(ObservationKind.HOME_ISOLATION.label),
        _zh(Reason.CONTACT.label),
        "",
        _zh(CountsFrom.LAST_CONTACT.label),
        dt.date(2020, 2, 1),
        dt.date(2020, 2, 3),
        "14天（2020）",
        dt.date(2020, 2, 15),
        dt.date(2020, 2, 15),
        "一站1排3号",
        _zh(ObservationEpisode.Status.ACTIVE.label),
        "",
        "",
        f"{_zh(Role.GRID_WORKER.label)} 赵网格员 138****1234；{_zh(Role.DOCTOR.label)} 钱医生",
        36.6,
        dt.datetime(2020, 2, 4, 8, 30),
    ]


def test_the_file_holds_the_rows_of_the_filtered_ledger(lworld: World) -> None:
    world = lworld

    everything = _sheet(_content(_client(world, "leader").get(EXPORT)))
    ended = _sheet(_content(_client(world, "leader").get(f"{EXPORT}?status=ended")))
    outsider = _sheet(_content(_client(world, "head2").get(EXPORT)))

    assert [r[0] for r in everything[1:]] == ["李秀英", "王立新", "张小明", "张建国", "赵六"]
    assert [r[0] for r in ended[1:]] == ["赵六"]
    assert ended[1][17:19] == [_zh(ObservationEpisode.Status.RELEASED.label), dt.date(2020, 2, 7)]
    assert [r[0] for r in outsider[1:]] == ["王立新"]


def test_masked_by_default_and_not_recorded(lworld: World) -> None:
    world = lworld
    text = str(_sheet(_content(_client(world, "head1").get(EXPORT))))

    for number in (world.person11.id_number, world.person11.phone, "13800001234", "13600007777"):
        assert number not in text
    assert "139****5678" in text and "136****7777" in text
    assert SensitiveAccess.objects.count() == 0


def test_full_numbers_after_confirmation_are_recorded(lworld: World) -> None:
    world = lworld
    client = _client(world, "head1")

    confirm = client.get(f"{EXPORT}?full=1&reason=returnee")
    response = client.post(EXPORT, {"reason": "returnee"})

    html = confirm.content.decode()
    assert confirm.status_code == 200
    assert "The file will hold the full ID and phone numbers of 1 episode." in html
    assert 'name="reason" value="returnee"' in html
    assert 'name="full"' not in html
    rows = _sheet(_content(response))
    assert [r[0] for r in rows[1:]] == ["张建国"]
    assert rows[1][2:4] == [world.person11.id_number, world.person11.phone]
    access = SensitiveAccess.objects.get()
    assert (access.user, access.action, access.object_type) == (
        world.user("head1"),
        SensitiveAccess.Action.EXPORT,
        exports.OBJECT_TYPE,
    )
    assert access.detail == {"via": "web", "filters": {"reason": "returnee"}, "rows": 1}


def test_full_numbers_are_refused_without_the_right(lworld: World) -> None:
    client = _client(lworld, "auditor1")

    masked = client.get(EXPORT)
    confirm = client.get(f"{EXPORT}?full=1")
    post = client.post(EXPORT, {})

    assert masked.status_code == 200
    assert (confirm.status_code, post.status_code) == (403, 403)
    assert SensitiveAccess.objects.count() == 0


def test_the_export_costs_the_same_queries_whatever_the_rows(lworld: World) -> None:
    world = lworld
    user = world.user("leader")
    exports.export_observation_ledger(io.BytesIO(), user=user)  # warm up: the scope's cache
    with CaptureQueriesContext(connection) as few:
        exports.export_observation_ledger(io.BytesIO(), user=user, filters=EpisodeFilters())
    _more_episodes(world, 5)
    with CaptureQueriesContext(connection) as many:
        count = exports.export_observation_ledger(io.BytesIO(), user=user, filters=EpisodeFilters())

    assert count == 5 + 5
    assert len(many) == len(few)


# ---------------------------------------------------------------------------------------------
# The person page


def test_the_person_page_loads_the_observation_section(lworld: World) -> None:
    world = lworld
    html = _client(world, "head1").get(f"/org/persons/{world.person11b.pk}/").content.decode()

    assert f'hx-get="/observation/person/{world.person11b.pk}/"' in html
    assert f'hx-get="/observation/person/{world.person11b.pk}/"' not in (
        _client(world, "gate1").get(f"/org/persons/{world.person11b.pk}/").content.decode()
    )


def test_the_section_lists_the_episodes_and_offers_a_start_when_none_runs(lworld: World) -> None:
    world = lworld
    client = _client(world, "head1")
    zhao = Person.objects.get(name="赵六")

    running = client.get(f"/observation/person/{world.person11b.pk}/").content.decode()
    ended = client.get(f"/observation/person/{zhao.pk}/").content.decode()
    never = client.get(f"/observation/person/{world.person12.pk}/")

    assert "day 9 of 14" in running and 'id="start-observation"' not in running
    assert f'href="/observation/{world.episode1.pk}/"' in running
    assert "Released" in ended
    assert f'href="/observation/start/?person={zhao.pk}"' in ended
    assert never.status_code == 200
    auditor = _client(world, "auditor1").get(f"/observation/person/{zhao.pk}/").content.decode()
    assert "Released" in auditor and 'id="start-observation"' not in auditor
    assert _client(world, "head2").get(f"/observation/person/{zhao.pk}/").status_code == 404


def test_the_menu_links_to_the_ledger(lworld: World) -> None:
    html = _client(lworld, "worker11").get("/").content.decode()

    assert 'href="/observation/"' in html
    assert 'href="/observation/"' not in _client(lworld, "gate1").get("/").content.decode()


# ---------------------------------------------------------------------------------------------
# Query budgets


def _more_episodes(world: World, count: int, first: int = 0) -> None:
    """``count`` more running episodes in LZ-01-01 (新来<first>, …), with responsible
    people, a reading and a visit today."""
    for i in range(first, first + count):
        person = org_services.create_person(
            actor=None,
            name=f"新来{i}",
            household=world.household11,
            phone=f"1370000{i:04d}",
        ).person
        episode = _start(
            person,
            reason=Reason.CONTACT,
            counts_from=dt.date(2020, 2, 5),
            counts_from_kind=CountsFrom.LAST_CONTACT,
            at=dt.datetime(2020, 2, 6, 9, 0, tzinfo=TZ),
        )
        services.set_responsible(
            actor=None,
            episode=episode,
            entries=[{"role": "cadre", "name": f"干部{i}", "phone": "13900001111"}],
        )
        services.record_reading(
            actor=None,
            episode=episode,
            value="36.5",
            taken_at=dt.datetime(2020, 2, 10, 8, 0, tzinfo=TZ),
        )
        services.record_visit(
            actor=None,
            episode=episode,
            mode="in_person",
            visited_at=dt.datetime(2020, 2, 10, 9, 0, tzinfo=TZ),
        )


def _measure(client: Client, url: str) -> tuple[int, int]:
    client.get(url)  # warm up: the session's first write, translations, caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, f"GET {url}: {response.status_code}"
    return len(queries), len(response.content)


@pytest.mark.parametrize("url", [URL, f"{URL}?status=active&no_visit_today=on", f"{URL}?q=新来"])
def test_the_ledger_costs_the_same_queries_for_more_episodes(lworld: World, url: str) -> None:
    client = _client(lworld, "head1")
    _more_episodes(lworld, 1)

    few, few_size = _measure(client, url)
    _more_episodes(lworld, 5, first=1)
    many, many_size = _measure(client, url)

    assert many == few, f"{few} queries for the ledger, {many} with 5 more episodes"
    assert many <= 14
    if "no_visit" not in url:
        assert many_size > few_size


def test_the_person_section_costs_the_same_queries_for_more_episodes(lworld: World) -> None:
    world = lworld
    client = _client(world, "head1")
    url = f"/observation/person/{world.person11.pk}/"
    few, _few_size = _measure(client, url)
    for day in range(5):
        episode = ObservationEpisode.objects.get(person=world.person11, status="active")
        services.decide(
            actor=None, episode=episode, outcome="released", on=dt.date(2020, 2, 10), note="复查"
        )
        _start(
            world.person11,
            reason=Reason.OTHER,
            counts_from=dt.date(2020, 2, 1 + day),
            counts_from_kind=CountsFrom.START,
            at=dt.datetime(2020, 2, 2 + day, 9, 0, tzinfo=TZ),
        )

    many, _many_size = _measure(client, url)

    assert many == few
