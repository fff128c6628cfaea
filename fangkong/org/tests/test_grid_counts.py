"""The per-grid counts (GridCount) follow every write to the register: after each change they
equal a fresh count of the households and persons, and a page summing a branch reads them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Count
from django.utils import translation

from fangkong.core.testing import World
from fangkong.org import imports, services
from fangkong.org.models import GridCount, Household, OrgUnit, Person
from fangkong.org.tests.test_import import person as roster_row
from fangkong.org.tests.test_import import write_xlsx
from fangkong.screening import services as screening


@pytest.fixture(autouse=True)
def _english_and_private_folder(settings: Any, tmp_path: Path) -> Iterator[None]:
    settings.IMPORT_DIR = tmp_path / "imports"
    with translation.override("en"):
        yield


def stored() -> dict[str, tuple[int, int]]:
    return {
        code: (households, persons)
        for code, households, persons in GridCount.objects.values_list(
            "grid__code", "households", "persons"
        )
        if households or persons
    }


def counted() -> dict[str, tuple[int, int]]:
    """The same figures counted from the register."""
    households = dict(
        Household.objects.filter(is_active=True)
        .values_list("grid__code")
        .annotate(n=Count("pk"))
        .order_by()
    )
    persons = dict(
        Person.objects.filter(is_active=True)
        .exclude(status=Person.Status.MOVED_OUT)
        .values_list("grid__code")
        .annotate(n=Count("pk"))
        .order_by()
    )
    codes = set(households) | set(persons)
    return {code: (households.get(code, 0), persons.get(code, 0)) for code in codes}


def test_the_world_built_by_the_services_is_counted(world: World) -> None:
    assert (
        stored()
        == counted()
        == {
            "LZ-01-01": (1, 2),
            "LZ-01-02": (1, 1),
            "LZ-02-01": (1, 1),
        }
    )


def test_adding_moving_and_moving_out_keep_the_counts(world: World) -> None:
    head1 = world.user("head1")
    household = services.create_household(actor=head1, grid=world.grid12, address="一站2排9号")
    services.create_person(actor=head1, name="新人", household=household)
    assert stored()["LZ-01-02"] == (2, 2)

    # A person moves to another grid's household; a household moves with its members.
    services.update_person(actor=head1, person=world.person11b, household=household)
    services.update_household(actor=head1, household=world.household11, grid=world.grid12)
    # Found moved out at the door: no longer expected in the grid.
    screening.screen_person(
        actor=head1, campaign=world.campaign1, person=world.person12, presence="moved_out"
    )

    assert (
        stored()
        == counted()
        == {
            "LZ-01-02": (
                3,
                3,
            ),  # 一站2排5号 (李秀英 moved out), 一站2排9号 (新人, 张小明), 一站1排3号
            "LZ-02-01": (1, 1),
        }
    )


def test_an_import_keeps_the_counts(world: World, tmp_path: Path) -> None:
    rows = [
        roster_row(address="一站8排1号", name="赵新民"),
        roster_row(address="一站8排1号", name="赵小红", relation="子女"),
        roster_row(grid_code="LZ-01-02", address="一站9排2号", name="钱卫东"),
    ]
    report = imports.commit(actor=world.user("head1"), source=write_xlsx(tmp_path / "r.xlsx", rows))

    assert report.committed
    assert (
        stored()
        == counted()
        == {
            "LZ-01-01": (2, 4),
            "LZ-01-02": (2, 2),
            "LZ-02-01": (1, 1),
        }
    )


def test_a_full_refresh_repairs_counts_written_around_the_services(world: World) -> None:
    Person.objects.filter(pk=world.person21.pk).update(status=Person.Status.MOVED_OUT)
    GridCount.objects.filter(grid=world.grid11).delete()
    assert stored() != counted()

    services.refresh_grid_counts()

    assert stored() == counted()
    assert GridCount.objects.filter(grid__kind=OrgUnit.Kind.GRID).count() == 3
