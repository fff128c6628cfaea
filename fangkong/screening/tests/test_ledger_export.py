"""The screening ledger as an Excel file: the columns of the screening / returnee form, one
row's exact values, masking by default, full numbers after a confirmation (recorded), and
refused without ``pii.reveal``."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.utils import translation
from python_calamine import CalamineWorkbook

from fangkong.core.models import SensitiveAccess
from fangkong.core.tabular.writing import LEDGER_LANGUAGE, XLSX_CONTENT_TYPE
from fangkong.core.testing import World
from fangkong.core.testing import english_client as _client
from fangkong.org.models import Person
from fangkong.screening import exports, ledger, services
from fangkong.screening.models import Region, Screening
from fangkong.screening.selectors import LedgerFilters

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2020, 2, 10, 10, 0, tzinfo=TZ)
AT = dt.datetime(2020, 2, 5, 9, 30, tzinfo=TZ)
URL = "/screening/ledger/export/"


@pytest.fixture(autouse=True)
def _frozen_time() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def ledger_world(world: World, regions: None) -> World:
    """李秀英 (person12) screened on 2020-02-05 by worker11: back from Wuhan (high risk),
    fever and cough, contact with 张建国 (a case) in the register."""
    wuhan = Region.objects.get(pk="420100")
    services.set_risk_level(actor=None, region=wuhan, level="high", start=dt.date(2020, 1, 20))
    Person.objects.filter(pk=world.person12.pk).update(occupation="农机手")
    services.screen_person(
        actor=None,
        campaign=world.campaign1,
        person=world.person12,
        at=AT,
        from_region=wuhan,
        departed_at=dt.datetime(2020, 2, 2, 4, 30, tzinfo=TZ),
        arrived_at=dt.datetime(2020, 2, 2, 9, 30, tzinfo=TZ),
        transport="train",
        transport_no="G1234",
        stopovers="郑州",
        contact_kind="case",
        contact_person=world.person11,
        contact_relation="colleague",
        contact_mode="meal",
        contact_date=dt.date(2020, 2, 3),
        temperature=Decimal("37.8"),
        symptoms=["cough"],
    )
    Screening.objects.filter(person=world.person12).update(screened_by=world.user("worker11"))
    return world


def _sheet(content: bytes) -> list[list[Any]]:
    book = CalamineWorkbook.from_filelike(io.BytesIO(content))
    with translation.override(LEDGER_LANGUAGE):
        assert book.sheet_names == [str(ledger.LEDGER_SHEET)]
    return book.get_sheet_by_name(book.sheet_names[0]).to_python()


def _content(response: Any) -> bytes:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == XLSX_CONTENT_TYPE
    return b"".join(response.streaming_content)


def _zh(value: Any) -> str:
    """A label (lazy) or an English message, as the file writes it."""
    with translation.override(LEDGER_LANGUAGE):
        return translation.gettext(value) if isinstance(value, str) else str(value)


def test_the_headers_are_the_screening_form_s_fields(ledger_world: World) -> None:
    rows = _sheet(_content(_client(ledger_world, "head1").get(URL)))

    with translation.override(LEDGER_LANGUAGE):
        expected = [str(c.header) for c in ledger.COLUMNS]
    assert rows[0] == expected
    assert [c.key for c in ledger.COLUMNS] == [
        "name", "sex", "age", "id_number", "phone", "occupation", "address", "employer",
        "campaign", "screened_at", "screened_by", "presence", "from_region", "departed_at",
        "arrived_at", "transport", "transport_no", "stopovers", "contact_kind", "contact_name",
        "contact_relation", "contact_mode", "contact_date", "symptoms", "temperature",
        "category", "is_key", "is_urgent", "late_registration", "reasons", "observation",
    ]  # fmt: skip


def test_one_row_holds_exactly_what_was_found_masked(ledger_world: World) -> None:
    world = ledger_world
    rows = _sheet(_content(_client(world, "head1").get(f"{URL}?q=李秀英")))

    assert len(rows) == 2
    reasons = Screening.objects.get(person=world.person12).reasons
    with translation.override(LEDGER_LANGUAGE):
        reason_text = exports.reason_text(reasons)
    assert (
        rows[1]
        == [
            "李秀英",
            _zh(Person.Sex.FEMALE.label),
            37.0,  # born 1982-11-02, screened 2020-02-05
            "620723********2421"[:6] + "********" + world.person12.id_number[-4:],
            "137****5555",
            "农机手",
            "一站2排5号",
            "第一作业站",
            "一站摸排",
            dt.datetime(2020, 2, 5, 9, 30),
            "worker11",
            _zh(Screening.Presence.PRESENT.label),
            "湖北省 武汉市",
            dt.datetime(2020, 2, 2, 4, 30),
            dt.datetime(2020, 2, 2, 9, 30),
            _zh("Train"),
            "G1234",
            "郑州",
            _zh("A confirmed or suspected case"),
            "张建国",
            _zh("Colleague"),
            _zh("Shared a meal"),
            dt.date(2020, 2, 3),
            _zh("Dry cough"),
            37.8,
            _zh(Screening.Category.RISK_AREA_ARRIVAL.label),
            _zh("Yes"),
            _zh("Yes"),
            _zh("No"),
            reason_text,
            "—",
        ]
    )
    assert "2020-02-02" in reason_text
    assert reason_text.count("；") == 3  # arrival, contact, fever, symptoms


def test_a_new_arrival_is_named_so_in_the_campaign_column(ledger_world: World) -> None:
    world = ledger_world
    services.register_arrival(
        actor=None,
        person=world.person11b,
        from_region=Region.objects.get(pk="420100"),
        arrived_at=AT - dt.timedelta(hours=8),
        registered_at=AT,
    )

    rows = _sheet(_content(_client(world, "head1").get(f"{URL}?kind=arrival")))

    assert len(rows) == 2
    assert rows[1][8] == _zh(Screening.Kind.ARRIVAL.label)
    assert rows[1][28] == _zh("Yes")  # registered late


def test_the_file_holds_the_rows_of_the_filtered_ledger(ledger_world: World) -> None:
    world = ledger_world
    client = _client(world, "leader")

    everything = _sheet(_content(client.get(URL)))
    urgent = _sheet(_content(client.get(f"{URL}?urgent_only=on")))
    outsider = _sheet(_content(_client(world, "head2").get(URL)))

    assert [r[0] for r in everything[1:]] == ["李秀英", "王立新", "张建国"]
    assert [r[0] for r in urgent[1:]] == ["李秀英"]
    assert [r[0] for r in outsider[1:]] == ["王立新"]


def test_masked_by_default_and_not_recorded(ledger_world: World) -> None:
    world = ledger_world
    content = _content(_client(world, "head1").get(URL))
    text = str(_sheet(content))

    for person in (world.person11, world.person12):
        assert person.id_number not in text
        assert person.phone not in text
    assert "139****5678" in text
    assert SensitiveAccess.objects.count() == 0


def test_full_numbers_after_confirmation_are_recorded(ledger_world: World) -> None:
    world = ledger_world
    client = _client(world, "head1")

    confirm = client.get(f"{URL}?full=1&urgent_only=on")
    response = client.post(URL, {"urgent_only": "on"})

    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert "1 screening result" in html
    assert 'name="urgent_only" value="on"' in html
    assert 'name="full"' not in html
    rows = _sheet(_content(response))
    assert [r[0] for r in rows[1:]] == ["李秀英"]
    assert rows[1][3] == world.person12.id_number
    assert rows[1][4] == world.person12.phone
    access = SensitiveAccess.objects.get()
    assert (access.user, access.action, access.object_type) == (
        world.user("head1"),
        SensitiveAccess.Action.EXPORT,
        exports.OBJECT_TYPE,
    )
    assert access.detail == {"via": "web", "filters": {"urgent_only": True}, "rows": 1}


def test_full_numbers_are_refused_without_the_right(ledger_world: World) -> None:
    world = ledger_world
    client = _client(world, "auditor1")

    masked = client.get(URL)
    confirm = client.get(f"{URL}?full=1")
    post = client.post(URL, {})

    assert masked.status_code == 200
    assert (confirm.status_code, post.status_code) == (403, 403)
    assert SensitiveAccess.objects.count() == 0


def test_the_export_streams_in_a_constant_number_of_queries(ledger_world: World) -> None:
    """Names are read once for the whole file, not per row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    world = ledger_world
    user = world.user("leader")
    exports.export_screening_ledger(io.BytesIO(), user=user)  # warm up: the scope's cache
    with CaptureQueriesContext(connection) as few:
        exports.export_screening_ledger(io.BytesIO(), user=user, filters=LedgerFilters())
    Screening.objects.bulk_create(
        Screening(
            kind=Screening.Kind.ARRIVAL,
            person=world.person12,
            grid=world.grid12,
            screened_at=AT - dt.timedelta(minutes=i),
            from_region_id="420100",
            screened_by=world.user("head1"),
        )
        for i in range(1, 50)
    )
    with CaptureQueriesContext(connection) as many:
        count = exports.export_screening_ledger(io.BytesIO(), user=user, filters=LedgerFilters())

    assert count == 3 + 49
    assert len(many) == len(few)
