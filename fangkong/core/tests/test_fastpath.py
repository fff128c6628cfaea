"""The statements of the hot paths give and write exactly what the ORM would."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from fangkong.core import fastpath
from fangkong.core.services import attribute_history
from fangkong.core.testing import World
from fangkong.org.models import Household, OrgUnit, Person, TimelineEvent, User


def _values(obj: object) -> dict[str, object]:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}  # type: ignore[attr-defined]


def test_get_reads_an_instance_equal_to_the_orms(world: World) -> None:
    person = world.person11
    Person.objects.filter(pk=person.pk).update(birth_date=dt.date(1975, 3, 14))
    fast = fastpath.get(Person, person.pk)
    assert fast is not None
    assert _values(fast) == _values(Person.objects.get(pk=person.pk))
    assert fast.birth_date == dt.date(1975, 3, 14)
    assert fastpath.get(Person, 10**9) is None


def test_insert_writes_the_row_the_orm_reads_back(world: World) -> None:
    when = timezone.make_aware(dt.datetime(2020, 2, 1, 8, 30))
    event = TimelineEvent(
        person=world.person21,
        kind="temperature",
        summary="体温 37.5 °C",
        data={"fever": True, "reading": 7},
        occurred_at=when,
    )
    fastpath.insert(event)
    assert event.pk is not None and not event._state.adding
    stored = TimelineEvent.objects.get(pk=event.pk)
    assert stored.data == {"fever": True, "reading": 7}
    assert stored.occurred_at == when
    assert _values(stored) == _values(event)


def test_the_history_record_is_the_created_record_attributed_to_the_actor(world: World) -> None:
    office = User.objects.get(username="office")
    household = Household(grid=world.grid11, address="一站9排9号")
    attribute_history(household, office)
    fastpath.insert(household)
    fastpath.insert(fastpath.history_record(Household.history.model, household))
    assert household.created_at is not None  # auto_now_add, set as save() sets it
    assert _values(Household.objects.get(pk=household.pk)) == _values(household)
    record = Household.history.get(id=household.pk)
    assert record.history_type == "+"
    assert record.history_user == office
    assert record.address == "一站9排9号"
    assert record.grid_id == world.grid11.pk


def test_insert_history_writes_the_record_the_orm_would(world: World) -> None:
    office = User.objects.get(username="office")
    records = []
    for fast in (False, True):
        household = Household(grid=world.grid11, address="一站9排9号", note="两人")
        attribute_history(household, office)
        written = fastpath.insert(household)
        if fast:
            fastpath.insert_history(Household.history.model, household, written)
        else:
            fastpath.history_record(Household.history.model, household).save()
        records.append(Household.history.get(id=household.pk))

    skip = {"history_id", "id", "history_date", "created_at", "updated_at"}
    orm, fast_record = ({k: v for k, v in _values(r).items() if k not in skip} for r in records)
    assert fast_record == orm
    assert (fast_record["history_type"], fast_record["history_user_id"]) == ("+", office.pk)
    assert records[1].id == household.pk and records[1].address == "一站9排9号"
    assert records[1].created_at == household.created_at


def test_a_partial_instance_loads_what_it_was_given_and_queries_the_rest(
    world: World, django_assert_num_queries: object
) -> None:
    grid = fastpath.partial(OrgUnit, {"id": world.grid11.pk, "path": world.grid11.path})
    assert grid.path == world.grid11.path
    assert "name" in grid.get_deferred_fields()
    with django_assert_num_queries(1):  # type: ignore[operator]
        assert grid.name == "一站一网格"
