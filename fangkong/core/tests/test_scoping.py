"""A scope that takes in the whole organisation: lists without a condition on the unit, and
nothing more seen than before when another tree is added."""

from __future__ import annotations

from fangkong.core.permissions import Perm
from fangkong.core.scoping import _nullable_path, restrict, scope_for
from fangkong.core.testing import World
from fangkong.org import services
from fangkong.org.models import OrgUnit, Person, User
from fangkong.org.selectors import home_counts


def _fresh(username: str) -> User:
    return User.objects.get(username=username)  # no scope cached yet


def test_the_office_of_the_only_branch_holds_the_whole_tree(world: World) -> None:
    office = _fresh("office")
    scope = scope_for(office, Perm.REGISTER_VIEW)
    assert scope.whole_tree and not scope.everything
    persons = restrict(Person.objects.all(), office)
    assert "path" not in str(persons.query)  # no join to the units, no IN (…)
    assert set(persons.values_list("name", flat=True)) == {"张建国", "张小明", "李秀英", "王立新"}
    # A unit head's scope is a part of the tree: its condition stays.
    head = _fresh("head1")
    assert not scope_for(head, Perm.REGISTER_VIEW).whole_tree
    assert set(restrict(Person.objects.all(), head).values_list("name", flat=True)) == {
        "张建国",
        "张小明",
        "李秀英",
    }


def test_a_second_branch_ends_the_whole_tree_and_stays_out_of_the_first_office(
    world: World,
) -> None:
    other = services.create_org_unit(
        actor=None, code="GT", name="高台分公司", kind=OrgUnit.Kind.BRANCH
    )
    unit = services.create_org_unit(
        actor=None, code="GT-01", name="高台一站", kind=OrgUnit.Kind.UNIT, parent=other
    )
    grid = services.create_org_unit(
        actor=None, code="GT-01-01", name="高台一网格", kind=OrgUnit.Kind.GRID, parent=unit
    )
    household = services.create_household(actor=None, grid=grid, address="高台1排1号")
    services.create_person(
        actor=None, name="赵高台", household=household, relation=Person.Relation.HEAD
    )

    office = _fresh("office")
    assert not scope_for(office, Perm.REGISTER_VIEW).whole_tree
    names = set(restrict(Person.objects.all(), office).values_list("name", flat=True))
    assert names == {"张建国", "张小明", "李秀英", "王立新"}
    assert home_counts(office)["persons"] == 4
    assert home_counts(_fresh("admin"))["persons"] == 5


def test_an_inactive_assignment_does_not_make_the_whole_tree(world: World) -> None:
    OrgUnit.objects.filter(pk=world.branch.pk).update(is_active=False)
    office = _fresh("office")
    scope = scope_for(office, Perm.REGISTER_VIEW)
    assert not scope.whole_tree and scope.empty
    assert not restrict(Person.objects.all(), office).exists()


def test_a_path_to_the_unit_is_nullable_when_one_of_its_links_is() -> None:
    assert _nullable_path(Person, "household__grid") is True
    assert _nullable_path(Person, "grid") is False
    assert _nullable_path(OrgUnit, "") is False
