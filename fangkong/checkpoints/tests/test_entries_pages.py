"""The pages of the checkpoints and their entry log: the gate (with and without script), the
person search at the gate, the log with its filters and export, one entry and its
correction, the daily counts, and the checkpoints themselves."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.utils import translation
from django.utils.http import content_disposition_header
from django.utils.translation import gettext
from python_calamine import CalamineWorkbook

from fangkong.alerts.models import Alert
from fangkong.checkpoints import exports_entries as exports
from fangkong.checkpoints.models import Checkpoint, Entry
from fangkong.checkpoints.selectors import entries as selectors
from fangkong.checkpoints.services import entries as services
from fangkong.checkpoints.services.entries import EntryPersonIn
from fangkong.core.models import SensitiveAccess
from fangkong.core.testing import World, english_client

from .entries_kit import NOW, Gates, at, gates_of, table_counts


@pytest.fixture(autouse=True)
def _english_at_now() -> Iterator[None]:
    with translation.override("en"), time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def gates(world: World) -> Gates:
    return gates_of(world)


def gate_url(gates: Gates, which: str = "east") -> str:
    return f"/checkpoints/{getattr(gates, which).pk}/gate/"


def shown_key(response: Any) -> str:
    found = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', response.content.decode())
    assert found is not None
    return found.group(1)


def gate_body(key: str, **values: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"idempotency_key": key, "direction": "in", "p0_disinfected": "yes"}
    body.update(values)
    return body


# ---------------------------------------------------------------------------------------------
# The person search at the gate


def test_a_person_is_matched_by_a_part_of_the_id_number(world: World) -> None:
    found = selectors.match_persons(world.user("gate1"), world.person11.id_number[-8:])

    assert found == [world.person11]


def test_a_person_is_matched_by_the_phone(world: World) -> None:
    found = selectors.match_persons(world.user("gate1"), "1370000")

    assert found == [world.person12]


def test_a_person_is_matched_by_the_name_at_most_eight_in_the_callers_scope(world: World) -> None:
    assert selectors.match_persons(world.user("gate1"), "张") == []  # too short
    assert selectors.match_persons(world.user("gate1"), "张小") == [world.person11b]
    assert selectors.match_persons(world.user("gate1"), "王立新") == []  # LZ-02
    assert selectors.match_persons(world.user("office"), "王立新") == [world.person21]


def test_nobody_is_matched_by_an_unknown_number(world: World) -> None:
    assert selectors.match_persons(world.user("gate1"), "99999999") == []


def test_the_gate_search_answers_with_big_buttons_and_masked_numbers(
    world: World, gates: Gates
) -> None:
    client = english_client(world, "gate1")

    by_phone = client.get(f"{gate_url(gates)}persons/?q=13912345")
    nobody = client.get(f"{gate_url(gates)}persons/?q=13800000000")

    html = by_phone.content.decode()
    assert f'name="pick" value="{world.person11.pk}"' in html
    assert "139****5678" in html and "13912345678" not in html
    assert world.person11.id_number not in html
    assert "Nobody in the register matches" in nobody.content.decode()
    assert (
        english_client(world, "head2").get(f"{gate_url(gates)}persons/?q=张建国").status_code == 404
    )


# ---------------------------------------------------------------------------------------------
# The gate


def test_a_known_person_is_logged_at_the_gate_and_the_gate_is_ready_for_the_next(
    world: World, gates: Gates
) -> None:
    client = english_client(world, "gate1")
    key = shown_key(client.get(gate_url(gates)))

    response = client.post(
        gate_url(gates),
        gate_body(key, p0_person=world.person11.pk, p0_temperature="36.6", purpose="上班"),
    )

    entry = Entry.objects.get(idempotency_key=key)
    assert response.status_code == 302
    assert response["Location"] == f"{gate_url(gates)}?saved={entry.pk}"
    assert (entry.names, entry.max_temperature, entry.purpose, entry.recorded_by) == (
        "张建国",
        Decimal("36.6"),
        "上班",
        world.user("gate1"),
    )
    page = client.get(response["Location"])
    html = page.content.decode()
    assert 'id="saved" data-flagged="no"' in html
    assert "36.6 °C" in html
    assert shown_key(page) != key
    assert page.context["counts"] == selectors.Counts(
        entries=1, persons=1, vehicles=0, fevers=0, flagged=0
    )
    assert [e.pk for e in page.context["entries"]] == [entry.pk]


def test_the_same_gate_form_sent_twice_records_once(world: World, gates: Gates) -> None:
    client = english_client(world, "gate1")
    key = shown_key(client.get(gate_url(gates)))
    body = gate_body(key, p0_name="李四", p0_temperature="38.4", from_region="620702")

    first = client.post(gate_url(gates), body)
    before = table_counts()
    second = client.post(gate_url(gates), body)

    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert table_counts() == before
    assert Alert.objects.filter(key__startswith="entry:").count() == 1


def test_a_vehicle_with_two_occupants_is_logged_from_the_rows(world: World, gates: Gates) -> None:
    client = english_client(world, "gate1")
    key = shown_key(client.get(gate_url(gates)))

    client.post(
        gate_url(gates),
        gate_body(
            key,
            plate="甘g 12345",
            vehicle_disinfected="yes",
            p0_name="李四",
            p0_temperature="36.8",
            p1_person=world.person12.pk,
            p1_temperature="37.9",
            p1_disinfected="no",
            p1_symptoms=["cough"],
        ),
    )

    entry = Entry.objects.get(idempotency_key=key)
    assert (entry.plate, entry.vehicle_disinfected, entry.names, entry.has_fever) == (
        "甘G12345",
        True,
        "李四、李秀英",
        True,
    )
    assert [(p.name, p.disinfected, p.symptoms) for p in entry.people.all()] == [
        ("李四", True, []),
        ("李秀英", False, ["cough"]),
    ]


def test_errors_are_shown_on_the_row_they_concern_and_nothing_is_recorded(
    world: World, gates: Gates
) -> None:
    client = english_client(world, "gate1")
    key = shown_key(client.get(gate_url(gates)))
    before = table_counts()

    response = client.post(
        gate_url(gates),
        gate_body(key, p0_name="李四", p0_temperature="36.5", p2_name="王五", plate="甘G1234"),
    )

    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {
        "p2_temperature": ["Take the temperature of everyone entering, e.g. 36.5."],
        "plate": [
            "This plate is too short: after the province come 6 characters (7 for new "
            "energy), e.g. 甘G12345 or 甘GD12345."
        ],
    }
    assert shown_key(response) == key  # sent again once corrected: still one entry
    assert table_counts() == before


def test_without_script_find_pick_and_clear_change_the_form_without_recording(
    world: World, gates: Gates
) -> None:
    client = english_client(world, "gate1")
    key = shown_key(client.get(gate_url(gates)))
    before = table_counts()

    found = client.post(gate_url(gates), gate_body(key, q="张建", find="1"))
    picked = client.post(
        gate_url(gates), gate_body(key, p0_name="李四", pick=str(world.person11.pk))
    )
    cleared = client.post(
        gate_url(gates), gate_body(key, p0_person=str(world.person11.pk), clear="0")
    )

    assert [p.pk for p in found.context["matches"]] == [world.person11.pk]
    picked_form = picked.context["form"]
    assert (picked_form.person_of(0), picked_form.person_of(1)) == (None, world.person11)
    assert cleared.context["form"].person_of(0) is None
    assert table_counts() == before


def test_a_person_out_of_scope_cannot_be_slipped_into_a_row(world: World, gates: Gates) -> None:
    client = english_client(world, "gate1")
    key = shown_key(client.get(gate_url(gates)))

    response = client.post(
        gate_url(gates), gate_body(key, p0_person=world.person21.pk, p0_temperature="36.5")
    )

    assert response.context["form"].errors == {"p0_name": ["No such person in your scope."]}
    assert not Entry.objects.filter(idempotency_key=key).exists()


def test_a_closed_checkpoints_gate_refuses_to_log(world: World, gates: Gates) -> None:
    services.update_checkpoint(actor=None, checkpoint=gates.east, is_active=False)
    client = english_client(world, "gate1")
    page = client.get(gate_url(gates))

    response = client.post(
        gate_url(gates), gate_body(shown_key(page), p0_name="李四", p0_temperature="36.5")
    )

    assert 'id="record" disabled' in page.content.decode()
    assert response.context["form"].non_field_errors() == [
        "场区东门卡口 is closed: nothing more can be logged there."
    ]


@pytest.mark.parametrize(
    ("persona", "status"), [("head2", 404), ("auditor1", 403), ("leader", 403)]
)
def test_who_may_not_log_there_gets_no_gate_and_changes_nothing(
    world: World, gates: Gates, persona: str, status: int
) -> None:
    client = english_client(world, persona)
    before = table_counts()

    get = client.get(gate_url(gates))
    post = client.post(gate_url(gates), gate_body("k", p0_name="李四", p0_temperature="39"))

    assert (get.status_code, post.status_code) == (status, status)
    assert table_counts() == before


# ---------------------------------------------------------------------------------------------
# The log, one entry, the counts


def _log(world: World, gates: Gates, *people: EntryPersonIn, **values: Any) -> Entry:
    return services.log_entry(
        actor=world.user("gate1"), checkpoint=gates.east, people=list(people), **values
    ).entry


def test_the_log_lists_newest_first_with_its_filters(world: World, gates: Gates) -> None:
    fever = _log(world, gates, EntryPersonIn(name="李四", temperature="38.3"), at=at(5, 7, 0))
    car = _log(
        world,
        gates,
        EntryPersonIn(name="王五", temperature="36.5"),
        plate="甘GD12345",
        at=at(5, 8, 0),
    )
    client = english_client(world, "head1")

    def listed(query: str = "") -> list[int]:
        response = client.get(f"/checkpoints/entries/{query}")
        assert response.status_code == 200
        return [e.pk for e in response.context["page"]]

    assert listed() == [car.pk, fever.pk, gates.entry1.pk]
    assert listed("?flagged=on") == [fever.pk]
    assert listed("?fever=on") == [fever.pk]
    assert listed("?plate=甘GD12345") == [car.pk]
    assert listed("?plate=甘GD") == [car.pk]
    assert listed("?plate=D123") == [car.pk]
    assert listed("?day_from=2020-02-04&day_to=2020-02-04") == [gates.entry1.pk]
    assert listed(f"?checkpoint={gates.east.pk}&direction=in") == [
        car.pk,
        fever.pk,
        gates.entry1.pk,
    ]
    assert listed("?direction=out") == []
    outsider = english_client(world, "head2").get("/checkpoints/entries/")
    assert [e.pk for e in outsider.context["page"]] == [gates.entry2.pk]


def _cells(response: Any) -> list[list[str]]:
    data = b"".join(response.streaming_content)
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_index(0)
    return [[str(c) for c in row] for row in sheet.to_python()]


def test_the_log_exports_one_row_per_person_with_masked_numbers(world: World, gates: Gates) -> None:
    _log(
        world,
        gates,
        EntryPersonIn(person=world.person11, temperature="36.5"),
        EntryPersonIn(name="李四", phone="13600001234", temperature="36.7"),
        plate="甘G12345",
        vehicle_disinfected=True,
        at=at(5, 8, 0),
    )

    response = english_client(world, "head1").get(
        "/checkpoints/entries/export/?day_from=2020-02-05"
    )

    rows = _cells(response)
    with translation.override("zh-hans"):
        title = gettext("Checkpoint log")
    assert exports.ledger_filename() == f"{title}-2020-02-05.xlsx"
    assert response["Content-Disposition"] == content_disposition_header(
        True, f"{title}-2020-02-05.xlsx"
    )
    assert len(rows) == 3
    masked_id = world.person11.id_number[:6] + "********" + world.person11.id_number[-4:]
    with translation.override("zh-hans"):
        assert rows[0][4:7] == [str(c.header) for c in exports.COLUMNS[4:7]]
    assert rows[1][4:7] == ["张建国", masked_id, "139****5678"]
    assert rows[2][4:7] == ["李四", "", "136****1234"]
    assert rows[1][11] == rows[2][11] == "甘G12345"
    assert not SensitiveAccess.objects.exists()


def test_the_export_with_full_numbers_is_confirmed_and_recorded(world: World, gates: Gates) -> None:
    client = english_client(world, "head1")

    confirm = client.get("/checkpoints/entries/export/?full=1")
    response = client.post("/checkpoints/entries/export/", {})

    assert confirm.status_code == 200
    assert confirm.context["count"] == 1
    rows = _cells(response)
    assert rows[1][5:7] == [world.person11.id_number, world.person11.phone]
    access = SensitiveAccess.objects.get()
    assert (access.user, access.object_type, access.detail["rows"]) == (
        world.user("head1"),
        "checkpoint_log",
        1,
    )
    assert (
        english_client(world, "gate1").get("/checkpoints/entries/export/?full=1").status_code == 403
    )


def test_an_entry_shows_its_people_flags_alert_and_new_arrival(world: World, gates: Gates) -> None:
    entry = _log(
        world,
        gates,
        EntryPersonIn(person=world.person12, temperature="38.2", symptoms=["cough"]),
        from_region=services.Region.objects.get(pk="620702"),
    )
    alert = Alert.objects.get(key=f"entry:{entry.pk}")
    (row,) = entry.people.all()

    head = english_client(world, "head1").get(f"/checkpoints/entries/{entry.pk}/")
    gate = english_client(world, "gate1").get(f"/checkpoints/entries/{entry.pk}/")

    html = head.content.decode()
    assert f'href="/alerts/{alert.pk}/"' in html
    assert f'href="/screening/screenings/{row.screening_id}/"' in html
    assert "Dry cough" in html
    assert "137****5555" in html and world.person12.phone not in html
    assert 'id="audit-trail"' in html
    gate_html = gate.content.decode()
    assert "An alert went to the unit." in gate_html  # gate1 does not see the alerts inbox
    assert f"/screening/screenings/{row.screening_id}/" not in gate_html
    assert (
        english_client(world, "head2").get(f"/checkpoints/entries/{entry.pk}/").status_code == 404
    )


def test_a_flagged_entry_of_unknown_origin_says_the_arrival_is_still_to_register(
    world: World, gates: Gates
) -> None:
    entry = _log(world, gates, EntryPersonIn(person=world.person12, temperature="38.2"))

    html = english_client(world, "head1").get(f"/checkpoints/entries/{entry.pk}/").content.decode()

    assert 'id="no-arrival"' in html


def test_an_entry_is_corrected_through_its_form(world: World, gates: Gates) -> None:
    client = english_client(world, "gate1")

    response = client.post(
        f"/checkpoints/entries/{gates.entry1.pk}/correct/",
        {"direction": "in", "plate": "", "vehicle_disinfected": "", "purpose": "送货", "note": ""},
    )

    assert response.status_code == 302
    gates.entry1.refresh_from_db()
    assert gates.entry1.purpose == "送货"
    head2 = english_client(world, "head2").post(
        f"/checkpoints/entries/{gates.entry1.pk}/correct/",
        {"direction": "out", "purpose": "x"},
    )
    assert head2.status_code == 404


def test_the_daily_counts_show_each_checkpoint_and_day_of_the_scope(
    world: World, gates: Gates
) -> None:
    _log(world, gates, EntryPersonIn(name="李四", temperature="38.0"), plate="甘G12345")

    response = english_client(world, "head1").get(
        "/checkpoints/counts/?from=2020-02-04&to=2020-02-05"
    )
    default = english_client(world, "office").get("/checkpoints/counts/")

    rows = [(r.day, r.checkpoint, r.counts) for r in response.context["page"]]
    assert rows == [
        (dt.date(2020, 2, 5), "场区东门卡口", selectors.Counts(1, 1, 1, 1, 1)),
        (dt.date(2020, 2, 4), "场区东门卡口", selectors.Counts(1, 1, 0, 0, 0)),
    ]
    assert (default.context["start"], default.context["end"]) == (
        dt.date(2020, 1, 30),
        dt.date(2020, 2, 5),
    )
    assert default.context["counts"].total == selectors.Counts(3, 3, 1, 1, 1)


# ---------------------------------------------------------------------------------------------
# Checkpoints


def test_the_operator_sees_their_gate_first(world: World, gates: Gates) -> None:
    response = english_client(world, "gate1").get("/checkpoints/")

    assert response.context["mine"] == [gates.east]
    assert f'href="/checkpoints/{gates.east.pk}/gate/"' in response.content.decode()
    assert "二站大门" not in response.content.decode()


def test_the_office_adds_changes_and_closes_a_checkpoint(world: World, gates: Gates) -> None:
    client = english_client(world, "office")

    added = client.post(
        "/checkpoints/new/",
        {
            "name": "场区西门",
            "location": "西门",
            "unit": world.unit1.pk,
            "intake_grid": world.grid11.pk,
            "operators": [world.user("gate1").pk],
        },
    )
    checkpoint = Checkpoint.objects.get(name="场区西门")
    changed = client.post(
        f"/checkpoints/{checkpoint.pk}/edit/",
        {"name": "场区西门卡口", "location": "西门", "unit": world.unit1.pk, "is_active": "on"},
    )
    confirm = client.get(f"/checkpoints/{checkpoint.pk}/deactivate/")
    closed = client.post(f"/checkpoints/{checkpoint.pk}/deactivate/")

    assert (added.status_code, changed.status_code, closed.status_code) == (302, 302, 302)
    assert confirm.status_code == 200 and 'id="confirm"' in confirm.content.decode()
    checkpoint.refresh_from_db()
    assert (checkpoint.name, checkpoint.intake_grid, checkpoint.is_active) == (
        "场区西门卡口",
        None,
        False,
    )
    assert list(checkpoint.operators.all()) == []


def test_a_checkpoint_form_shows_the_services_errors(world: World, gates: Gates) -> None:
    response = english_client(world, "office").post(
        "/checkpoints/new/", {"name": "场区东门卡口", "unit": world.unit1.pk}
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "name": ["第一作业站 already has a checkpoint with this name: choose another name."]
    }


@pytest.mark.parametrize("persona", ["head1", "gate1"])
def test_who_does_not_manage_checkpoints_may_not_add_or_close_them(
    world: World, gates: Gates, persona: str
) -> None:
    client = english_client(world, persona)
    before = table_counts()

    assert client.get("/checkpoints/new/").status_code == 403
    assert (
        client.post("/checkpoints/new/", {"name": "x", "unit": world.unit1.pk}).status_code == 403
    )
    assert client.post(f"/checkpoints/{gates.east.pk}/deactivate/").status_code == 403

    assert table_counts() == before
    gates.east.refresh_from_db()
    assert gates.east.is_active is True


def test_the_checkpoint_page_shows_todays_counts_and_last_entries(
    world: World, gates: Gates
) -> None:
    entry = _log(world, gates, EntryPersonIn(name="李四", temperature="36.5"))

    response = english_client(world, "head1").get(f"/checkpoints/{gates.east.pk}/")

    assert [e.pk for e in response.context["entries"]] == [entry.pk]
    assert response.context["counts"].entries == 1
    assert response.context["operators"] == [world.user("gate1")]


def test_a_refused_operator_leaves_the_checkpoint_unchanged(world: World, gates: Gates) -> None:
    response = english_client(world, "office").post(
        f"/checkpoints/{gates.east.pk}/edit/",
        {
            "name": "改名卡口",
            "unit": world.unit1.pk,
            "is_active": "on",
            "operators": [world.user("head2").pk],
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "operators": [
            "head2 cannot operate this checkpoint: choose people with a role in 第一作业站."
        ]
    }
    gates.east.refresh_from_db()
    assert (gates.east.name, list(gates.east.operators.all())) == (
        "场区东门卡口",
        [world.user("gate1")],
    )
