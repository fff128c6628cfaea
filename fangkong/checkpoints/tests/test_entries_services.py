"""The entry log's services: an ordinary entry, a fever and an origin in a risk area (alert,
new arrival, an outsider registered), retries with an idempotency key, what is refused and
who may log; checkpoints and their operators; corrections."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from fangkong.alerts.models import Alert, AlertKind
from fangkong.checkpoints.models import Entry, EntryPerson
from fangkong.checkpoints.services import entries as services
from fangkong.checkpoints.services.entries import EntryPersonIn
from fangkong.core.testing import World, make_id_number
from fangkong.org.models import Person, TimelineEvent
from fangkong.screening import services as screening_services
from fangkong.screening.models import Region, Screening

from .entries_kit import NOW, Gates, at, gates_of, table_counts

OUTSIDER_ID = make_id_number("620702", dt.date(1990, 5, 6), 11)


@pytest.fixture(autouse=True)
def _english_at_now() -> Iterator[None]:
    with translation.override("en"), time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def gates(world: World) -> Gates:
    return gates_of(world)


def region(code: str) -> Region:
    return Region.objects.get(pk=code)


def log(
    world: World, gates: Gates, *people: EntryPersonIn, **values: object
) -> services.EntryResult:
    actor = values.pop("actor", world.user("gate1"))
    return services.log_entry(
        actor=actor,  # type: ignore[arg-type]
        checkpoint=values.pop("checkpoint", gates.east),  # type: ignore[arg-type]
        people=list(people),
        **values,  # type: ignore[arg-type]
    )


def errors(excinfo: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return excinfo.value.message_dict


# ---------------------------------------------------------------------------------------------
# An ordinary entry


def test_a_known_person_on_foot_is_logged_with_what_the_log_lists(
    world: World, gates: Gates
) -> None:
    before = table_counts()

    result = log(
        world,
        gates,
        EntryPersonIn(person=world.person11, temperature="36.6", disinfected=True),
        purpose=" 上班 ",
        idempotency_key="k-1",
    )

    entry = result.entry
    assert result.created is True
    assert result.alert is None
    assert (
        entry.checkpoint,
        entry.unit,
        entry.at,
        entry.day,
        entry.direction,
        entry.plate,
        entry.vehicle_disinfected,
        entry.from_region,
        entry.risk_level,
        entry.purpose,
        entry.names,
        entry.people_count,
        entry.max_temperature,
        entry.has_fever,
        entry.is_flagged,
        entry.recorded_by,
        entry.idempotency_key,
    ) == (
        gates.east,
        world.unit1,
        NOW,
        dt.date(2020, 2, 5),
        "in",
        "",
        None,
        None,
        "",
        "上班",
        "张建国",
        1,
        Decimal("36.6"),
        False,
        False,
        world.user("gate1"),
        "k-1",
    )
    (row,) = entry.people.all()
    assert (row.person, row.name, row.id_number, row.phone, row.temperature, row.disinfected) == (
        world.person11,
        "张建国",
        "",
        "",
        Decimal("36.6"),
        True,
    )
    assert (row.is_fever, row.is_flagged, row.screening) == (False, False, None)
    after = table_counts()
    assert after == {
        **before,
        "checkpoints.Entry": before["checkpoints.Entry"] + 1,
        "checkpoints.EntryPerson": before["checkpoints.EntryPerson"] + 1,
    }
    assert [h.history_user for h in entry.history.all()] == [world.user("gate1")]
    assert [h.history_user for h in row.history.all()] == [world.user("gate1")]


def test_a_vehicle_with_occupants_keeps_the_plate_and_the_highest_temperature(
    world: World, gates: Gates
) -> None:
    result = log(
        world,
        gates,
        EntryPersonIn(name=" 李四 ", temperature="36.8", disinfected=True),
        EntryPersonIn(person=world.person12, temperature="37.1", disinfected=False),
        plate="甘g·d12345",
        vehicle_disinfected=True,
        at=at(5, 8, 15),
    )

    entry = result.entry
    assert (entry.plate, entry.vehicle_disinfected, entry.names, entry.people_count) == (
        "甘GD12345",
        True,
        "李四、李秀英",
        2,
    )
    assert (entry.max_temperature, entry.has_fever, entry.is_flagged) == (
        Decimal("37.1"),
        False,
        False,
    )
    assert [(p.position, p.name, p.person, p.disinfected) for p in entry.people.all()] == [
        (0, "李四", None, True),
        (1, "李秀英", world.person12, False),
    ]
    assert Person.objects.filter(name="李四").exists() is False


def test_leaving_needs_no_temperature_and_without_a_plate_no_vehicle_disinfection(
    world: World, gates: Gates
) -> None:
    entry = log(
        world,
        gates,
        EntryPersonIn(person=world.person11),
        direction="out",
        vehicle_disinfected=True,
    ).entry

    assert (entry.direction, entry.max_temperature, entry.vehicle_disinfected) == (
        "out",
        None,
        None,
    )


# ---------------------------------------------------------------------------------------------
# Flags: a fever, an origin in a risk area


def test_a_fever_raises_one_alert_and_puts_the_person_on_the_new_arrivals(
    world: World, gates: Gates
) -> None:
    result = log(
        world,
        gates,
        EntryPersonIn(person=world.person12, temperature="37.3", symptoms=["cough"]),
        from_region=region("620702"),
        at=at(5, 8, 40),
    )

    entry = result.entry
    assert (entry.has_fever, entry.is_flagged, entry.risk_level) == (True, True, "")
    (row,) = entry.people.all()
    assert (row.is_fever, row.is_flagged, row.symptoms) == (True, True, ["cough"])
    alert = Alert.objects.get(key=f"entry:{entry.pk}")
    assert result.alert == alert
    assert (
        alert.kind,
        alert.unit,
        alert.person,
        alert.object_type,
        alert.object_id,
        alert.url,
        alert.raised_at,
        alert.summary,
    ) == (
        AlertKind.ENTRY_FEVER,
        world.unit1,
        world.person12,
        "checkpoints.entry",
        entry.pk,
        f"/checkpoints/entries/{entry.pk}/",
        at(5, 8, 40),
        "李秀英 37.3 °C Dry cough；from 甘州区；at 场区东门卡口",
    )
    arrival = Screening.objects.get(person=world.person12, kind=Screening.Kind.ARRIVAL)
    assert row.screening == arrival
    assert (
        arrival.from_region_id,
        arrival.arrived_at,
        arrival.screened_at,
        arrival.temperature,
        arrival.symptoms,
        arrival.is_urgent,
        arrival.late_registration,
        arrival.note,
    ) == (
        "620702",
        at(5, 8, 40),
        NOW,
        Decimal("37.3"),
        ["cough"],
        True,
        False,
        "Logged at checkpoint 场区东门卡口",
    )
    event = TimelineEvent.objects.get(person=world.person12, kind="checkpoint")
    assert (event.summary, event.occurred_at, event.actor, event.data) == (
        "Flagged at a checkpoint: 李秀英 37.3 °C Dry cough；from 甘州区；at 场区东门卡口",
        at(5, 8, 40),
        world.user("gate1"),
        {"entry": entry.pk, "checkpoint": gates.east.pk, "fever": True, "risk_level": ""},
    )


def test_just_below_the_fever_threshold_flags_nothing(world: World, gates: Gates) -> None:
    before = table_counts()

    entry = log(world, gates, EntryPersonIn(person=world.person12, temperature="37.2")).entry

    assert (entry.has_fever, entry.is_flagged) == (False, False)
    assert table_counts()["alerts.Alert"] == before["alerts.Alert"]
    assert table_counts()["screening.Screening"] == before["screening.Screening"]


def test_an_origin_in_a_high_risk_area_flags_everyone_in_the_vehicle(
    world: World, gates: Gates
) -> None:
    screening_services.set_risk_level(
        actor=None, region=region("420100"), level="high", start=dt.date(2020, 1, 23)
    )

    result = log(
        world,
        gates,
        EntryPersonIn(person=world.person11, temperature="36.5"),
        EntryPersonIn(person=world.person12, temperature="36.7"),
        from_region=region("420106"),
        plate="鄂A12345",
    )

    entry = result.entry
    assert (entry.risk_level, entry.has_fever, entry.is_flagged) == ("high", False, True)
    assert [p.is_flagged for p in entry.people.all()] == [True, True]
    alert = Alert.objects.get(key=f"entry:{entry.pk}")
    assert (alert.kind, alert.person, alert.summary) == (
        AlertKind.ENTRY_RISK_AREA,
        world.person11,
        "张建国 36.5 °C、李秀英 36.7 °C；from 武昌区 (High risk)；at 场区东门卡口",
    )
    arrivals = Screening.objects.filter(kind=Screening.Kind.ARRIVAL).order_by("person__name")
    assert [(s.person, s.category, s.transport, s.transport_no) for s in arrivals] == [
        (world.person11, Screening.Category.RISK_AREA_ARRIVAL, "car", "鄂A12345"),
        (world.person12, Screening.Category.RISK_AREA_ARRIVAL, "car", "鄂A12345"),
    ]


def test_an_origin_in_a_low_risk_area_flags_nothing(world: World, gates: Gates) -> None:
    screening_services.set_risk_level(
        actor=None, region=region("420100"), level="low", start=dt.date(2020, 1, 23)
    )

    entry = log(
        world,
        gates,
        EntryPersonIn(person=world.person11, temperature="36.5"),
        from_region=region("420106"),
    ).entry

    assert (entry.risk_level, entry.is_flagged) == ("low", False)
    assert not Alert.objects.filter(key=f"entry:{entry.pk}").exists()


def test_a_risk_period_that_ended_before_the_day_flags_nothing(world: World, gates: Gates) -> None:
    screening_services.set_risk_level(
        actor=None,
        region=region("420100"),
        level="high",
        start=dt.date(2020, 1, 23),
        end=dt.date(2020, 2, 4),
    )

    entry = log(
        world,
        gates,
        EntryPersonIn(person=world.person11, temperature="36.5"),
        from_region=region("420106"),
    ).entry

    assert (entry.risk_level, entry.is_flagged) == ("", False)


def test_a_flagged_outsider_is_registered_as_a_visitor_of_the_intake_grid(
    world: World, gates: Gates
) -> None:
    entry = log(
        world,
        gates,
        EntryPersonIn(name="赵六", id_number=OUTSIDER_ID, phone="13600001234", temperature="38.5"),
        from_region=region("620702"),
    ).entry

    person = Person.objects.get(name="赵六")
    assert (person.grid, person.category, person.id_number, person.phone, person.household) == (
        world.grid12,
        Person.Category.VISITOR,
        OUTSIDER_ID,
        "13600001234",
        None,
    )
    (row,) = entry.people.all()
    assert row.screening is not None
    assert (row.person, row.screening.person) == (person, person)
    assert Alert.objects.get(key=f"entry:{entry.pk}").person == person
    assert list(person.timeline.values_list("kind", flat=True).order_by("id")) == [
        "created",
        "arrival",
        "checkpoint",
    ]


def test_a_flagged_outsider_with_the_id_number_of_a_registered_person_is_that_person(
    world: World, gates: Gates
) -> None:
    persons = Person.objects.count()

    entry = log(
        world,
        gates,
        EntryPersonIn(name="王立新", id_number=world.person21.id_number, temperature="38.0"),
    ).entry

    (row,) = entry.people.all()
    assert row.person == world.person21
    assert Person.objects.count() == persons


def test_a_flagged_outsider_of_unknown_origin_is_registered_without_a_new_arrival(
    world: World, gates: Gates
) -> None:
    arrivals = Screening.objects.count()

    entry = log(world, gates, EntryPersonIn(name="孙七", temperature="39.1")).entry

    (row,) = entry.people.all()
    assert row.person is not None
    assert (row.person.name, row.person.grid, row.screening) == ("孙七", world.grid12, None)
    assert Screening.objects.count() == arrivals


def test_an_outsider_who_is_not_flagged_stays_out_of_the_register(
    world: World, gates: Gates
) -> None:
    persons = Person.objects.count()

    log(world, gates, EntryPersonIn(name="钱八", id_number=OUTSIDER_ID, temperature="36.5"))

    assert Person.objects.count() == persons


# ---------------------------------------------------------------------------------------------
# Retries


def test_a_retried_entry_is_recorded_once(world: World, gates: Gates) -> None:
    first = log(
        world, gates, EntryPersonIn(person=world.person12, temperature="38.2"), idempotency_key="A1"
    )
    before = table_counts()

    again = log(
        world, gates, EntryPersonIn(person=world.person12, temperature="38.2"), idempotency_key="A1"
    )

    assert (again.created, again.entry, again.alert) == (False, first.entry, first.alert)
    assert again.alert is not None
    assert table_counts() == before
    assert Alert.objects.filter(kind=AlertKind.ENTRY_FEVER).count() == 1
    assert Screening.objects.filter(kind=Screening.Kind.ARRIVAL).count() == 0


def test_a_retry_is_answered_even_with_other_content(world: World, gates: Gates) -> None:
    first = log(world, gates, EntryPersonIn(name="李四", temperature="36.5"), idempotency_key="B")

    again = log(world, gates, EntryPersonIn(name="李四", temperature="36.9"), idempotency_key="B")

    assert (again.created, again.entry.pk, again.entry.max_temperature) == (
        False,
        first.entry.pk,
        Decimal("36.5"),
    )


def test_a_key_used_at_another_checkpoint_is_refused(world: World, gates: Gates) -> None:
    log(world, gates, EntryPersonIn(name="李四", temperature="36.5"), idempotency_key="C")
    before = table_counts()

    with pytest.raises(ValidationError) as excinfo:
        log(
            world,
            gates,
            EntryPersonIn(name="李四", temperature="36.5"),
            idempotency_key="C",
            checkpoint=gates.second,
            actor=world.user("head2"),
        )

    assert errors(excinfo) == {
        "idempotency_key": ["This key was already used at another checkpoint: send a new key."]
    }
    assert table_counts() == before


def test_a_retry_arriving_while_the_first_is_being_saved_finds_the_saved_one(
    world: World, gates: Gates, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two requests with one key at the same moment: the second checks the key before the
    first has committed, then its insert meets the unique key; it answers with the first."""
    first = log(world, gates, EntryPersonIn(name="李四", temperature="36.5"), idempotency_key="D")
    before = table_counts()
    real = services._seen_entry
    calls: list[str] = []

    def not_yet_committed(checkpoint: object, key: str) -> Entry | None:
        calls.append(key)
        return None if len(calls) == 1 else real(checkpoint, key)  # type: ignore[arg-type]

    monkeypatch.setattr(services, "_seen_entry", not_yet_committed)

    again = log(world, gates, EntryPersonIn(name="李四", temperature="36.5"), idempotency_key="D")

    assert (again.created, again.entry) == (False, first.entry)
    assert calls == ["D", "D"]
    assert table_counts() == before


# ---------------------------------------------------------------------------------------------
# Refused


@pytest.mark.parametrize(
    ("people", "values", "expected"),
    [
        (
            [],
            {},
            {"people": ["Add at least one person: the driver or the person on foot."]},
        ),
        (
            [EntryPersonIn(name="李四", temperature="36.5")] * 10,
            {},
            {"people": ["At most 9 people in one entry: log the others as another entry."]},
        ),
        (
            [EntryPersonIn(name="李四", temperature="36.5")],
            {"at": NOW + dt.timedelta(minutes=6)},
            {"at": ["The time is in the future: check the date and time."]},
        ),
        (
            [EntryPersonIn(name="李四", temperature="36.5")],
            {"direction": "up"},
            {"direction": ["Choose in (entering) or out (leaving)."]},
        ),
        (
            [EntryPersonIn(name="李四", temperature="36.5")],
            {"plate": "X12345"},
            {
                "plate": [
                    "A plate starts with the province's character (京, 甘, 粤, …), e.g. "
                    "甘G12345; “X” is not one."
                ]
            },
        ),
        (
            [EntryPersonIn(name="", temperature="36.5"), EntryPersonIn(name="王五")],
            {},
            {
                "people.0.name": ["Enter the name, or choose the person from the register."],
                "people.1.temperature": ["Take the temperature of everyone entering, e.g. 36.5."],
            },
        ),
        (
            [EntryPersonIn(name="李四", temperature="45", id_number="123", phone="12")],
            {},
            {
                "people.0.temperature": [
                    "45 °C is not a body temperature: enter a reading between 34.0 and "
                    "43.0 °C, e.g. 36.5."
                ],
                "people.0.id_number": [
                    "An ID number has 18 characters; this one has 3. Check for missing or "
                    "extra digits."
                ],
                "people.0.phone": [
                    "A mobile number has 11 digits and starts with 13–19, e.g. 13812345678."
                ],
            },
        ),
        (
            [EntryPersonIn(name="李四", temperature="36.5", symptoms=["sneezing"])],
            {"purpose": "x" * 101},
            {
                "people.0.symptoms": ["Unknown symptom sneezing: choose from the list."],
                "purpose": ["Keep this under 100 characters."],
            },
        ),
    ],
)
def test_an_invalid_entry_is_refused_naming_each_field_and_records_nothing(
    world: World,
    gates: Gates,
    people: list[EntryPersonIn],
    values: dict[str, object],
    expected: dict[str, list[str]],
) -> None:
    before = table_counts()

    with pytest.raises(ValidationError) as excinfo:
        log(world, gates, *people, **values)

    assert errors(excinfo) == expected
    assert table_counts() == before


def test_the_same_person_twice_and_a_person_out_of_scope_are_refused(
    world: World, gates: Gates
) -> None:
    with pytest.raises(ValidationError) as excinfo:
        log(
            world,
            gates,
            EntryPersonIn(person=world.person11, temperature="36.5"),
            EntryPersonIn(person=world.person11, temperature="36.5"),
            EntryPersonIn(person=world.person21, temperature="36.5"),
        )

    assert errors(excinfo) == {
        "people.1.person": ["张建国 is already in this entry."],
        "people.2.person": ["No such person in your scope."],
    }


def test_nothing_can_be_logged_at_a_closed_checkpoint(world: World, gates: Gates) -> None:
    services.update_checkpoint(actor=world.user("office"), checkpoint=gates.east, is_active=False)
    gates.east.refresh_from_db()
    before = table_counts()

    with pytest.raises(ValidationError) as excinfo:
        log(world, gates, EntryPersonIn(person=world.person11, temperature="36.5"))

    assert errors(excinfo) == {
        "checkpoint": ["场区东门卡口 is closed: nothing more can be logged there."]
    }
    assert table_counts() == before


@pytest.mark.parametrize("persona", ["head2", "auditor1", "worker11", "leader"])
def test_who_may_not_log_at_the_checkpoint_changes_nothing(
    world: World, gates: Gates, persona: str
) -> None:
    before = table_counts()

    with pytest.raises(PermissionDenied):
        log(
            world,
            gates,
            EntryPersonIn(name="赵六", temperature="39.0"),
            actor=world.user(persona),
            idempotency_key="E",
        )

    assert table_counts() == before


@pytest.mark.parametrize("persona", ["gate1", "head1", "office", "admin"])
def test_the_operator_the_unit_head_and_the_office_may_log(
    world: World, gates: Gates, persona: str
) -> None:
    entry = log(
        world, gates, EntryPersonIn(name="李四", temperature="36.5"), actor=world.user(persona)
    ).entry

    assert entry.recorded_by == world.user(persona)


# ---------------------------------------------------------------------------------------------
# Checkpoints


def test_the_office_adds_a_checkpoint_with_its_operators(world: World) -> None:
    checkpoint = services.create_checkpoint(
        actor=world.user("office"),
        name=" 场区 西门 ",
        unit=world.unit1,
        location="西门外",
        operators=[world.user("gate1"), world.user("head1")],
    )

    assert (checkpoint.name, checkpoint.unit, checkpoint.location, checkpoint.is_active) == (
        "场区 西门",
        world.unit1,
        "西门外",
        True,
    )
    assert set(checkpoint.operators.all()) == {world.user("gate1"), world.user("head1")}
    assert [h.history_user for h in checkpoint.history.all()] == [world.user("office")]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"name": ""}, {"name": ["Name the checkpoint, e.g. 场区东门卡口."]}),
        (
            {"unit": "grid11"},
            {"unit": ["A checkpoint belongs to a unit or to the branch, not to a grid."]},
        ),
        (
            {"intake_grid": "grid21"},
            {"intake_grid": ["Choose an active grid of 第一作业站 for the new arrivals."]},
        ),
        (
            {"name": "场区东门卡口"},
            {"name": ["第一作业站 already has a checkpoint with this name: choose another name."]},
        ),
        (
            {"operators": ["head2"]},
            {
                "operators": [
                    "head2 cannot operate this checkpoint: choose people with a role in 第一作业站."
                ]
            },
        ),
    ],
)
def test_a_checkpoint_is_refused_naming_what_to_fix(
    world: World, gates: Gates, values: dict[str, object], expected: dict[str, list[str]]
) -> None:
    fields: dict[str, object] = {"name": "场区西门", "unit": world.unit1}
    for name, value in values.items():
        if name in ("unit", "intake_grid"):
            value = getattr(world, str(value))
        elif name == "operators":
            value = [world.user(str(u)) for u in value]  # type: ignore[attr-defined]
        fields[name] = value
    before = table_counts()

    with pytest.raises(ValidationError) as excinfo:
        services.create_checkpoint(actor=world.user("office"), **fields)  # type: ignore[arg-type]

    assert errors(excinfo) == expected
    assert table_counts() == before


@pytest.mark.parametrize("persona", ["head1", "gate1", "head2"])
def test_only_who_manages_checkpoints_adds_or_changes_them(
    world: World, gates: Gates, persona: str
) -> None:
    user = world.user(persona)
    before = table_counts()

    with pytest.raises(PermissionDenied):
        services.create_checkpoint(actor=user, name="场区西门", unit=world.unit1)
    with pytest.raises(PermissionDenied):
        services.update_checkpoint(actor=user, checkpoint=gates.east, name="改名")
    with pytest.raises(PermissionDenied):
        services.set_operators(actor=user, checkpoint=gates.east, operators=[])

    assert table_counts() == before
    gates.east.refresh_from_db()
    assert (gates.east.name, list(gates.east.operators.all())) == (
        "场区东门卡口",
        [world.user("gate1")],
    )


def test_a_checkpoint_moved_to_another_unit_keeps_its_entries_where_they_were_logged(
    world: World, gates: Gates
) -> None:
    services.update_checkpoint(
        actor=world.user("office"), checkpoint=gates.east, unit=world.unit2, intake_grid=None
    )

    gates.east.refresh_from_db()
    gates.entry1.refresh_from_db()
    assert (gates.east.unit, gates.entry1.unit) == (world.unit2, world.unit1)


def test_operators_are_replaced_by_the_users_chosen(world: World, gates: Gates) -> None:
    services.set_operators(
        actor=world.user("office"),
        checkpoint=gates.east,
        operators=[world.user("head1"), world.user("worker11")],
    )

    assert set(gates.east.operators.all()) == {world.user("head1"), world.user("worker11")}
    assert set(services.operator_candidates(world.unit1)) == {
        world.user(n) for n in ("head1", "worker11", "auditor1", "gate1")
    }


# ---------------------------------------------------------------------------------------------
# Corrections


def test_a_typo_in_the_plate_is_corrected_and_the_audit_trail_keeps_the_old_one(
    world: World, gates: Gates
) -> None:
    entry = log(
        world, gates, EntryPersonIn(name="李四", temperature="36.5"), plate="甘G12354"
    ).entry

    services.correct_entry(actor=world.user("head1"), entry=entry, plate="甘g12345", purpose="送货")

    entry.refresh_from_db()
    assert (entry.plate, entry.purpose) == ("甘G12345", "送货")
    latest, first = entry.history.order_by("-history_id")[:2]
    assert (latest.plate, latest.history_user, first.plate) == (
        "甘G12345",
        world.user("head1"),
        "甘G12354",
    )


def test_a_correction_is_refused_outside_the_scope_and_for_what_the_flags_follow(
    world: World, gates: Gates
) -> None:
    with pytest.raises(PermissionDenied):
        services.correct_entry(actor=world.user("head2"), entry=gates.entry1, plate="甘G12345")
    with pytest.raises(TypeError):
        services.correct_entry(actor=world.user("head1"), entry=gates.entry1, at=NOW)
    with pytest.raises(ValidationError) as excinfo:
        services.correct_entry(actor=world.user("head1"), entry=gates.entry1, plate="甘GO1234")

    assert errors(excinfo) == {
        "plate": ["Plates never use the letters I and O: type the digits 1 and 0, e.g. 甘G12345."]
    }
    gates.entry1.refresh_from_db()
    assert gates.entry1.plate == ""
    assert EntryPerson.objects.filter(entry=gates.entry1).count() == 1
