"""The role/permission matrix and the access scope built from role assignments."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from fangkong.core.permissions import MATRIX, Perm, Role, role_has
from fangkong.core.scoping import (
    Scope,
    check_perm_on,
    clear_scope_cache,
    get_scoped_or_404,
    has_perm,
    restrict,
    scope_for,
)
from fangkong.core.testing import World
from fangkong.org import services
from fangkong.org.models import Household, OrgUnit, Person, TimelineEvent, User

# ---------------------------------------------------------------------------------------------
# The matrix, written out. From DOMAIN.md: the leader reads everything (masked) and the audit
# trail; the office manages the register, org units, users and risk areas; a unit head works on
# their unit and sees its audit trail; a grid worker works on their grids; a checkpoint operator
# only reads (masked); the auditor reads, including the audit trail, without personal numbers.
# Screening: the leader and the auditor read campaigns and the ledger; unit heads and grid
# workers screen; the office also runs the campaigns and sets the rules. The checkpoint
# operator has no part in screening (health data beyond the gate's task). Observation: the
# leader and the auditor read; grid workers start episodes and record checks, visits, needs and
# care; unit heads also decide (extend, release, refer, suspected/confirmed); the office also
# sets the rules and presets. Whoever records also handles alerts. The daily report: unit heads
# file their unit's report and grid workers their grid's sub-report (when the office turns
# those on); the office reviews (approves or returns) and manages indicators and the deadline;
# the leader approves the branch report; everyone but the checkpoint operator reads reports.
# Checkpoints and duty: the checkpoint operator logs entries and records disinfections; unit
# heads also log entries and run their unit's roster, pioneer posts and places; the office
# also sets up checkpoints; grid workers see the roster and record disinfection and publicity;
# the leader and the auditor read.

PERMS = (
    Perm.REGISTER_VIEW,
    Perm.REGISTER_EDIT,
    Perm.PII_REVEAL,
    Perm.AUDIT_VIEW,
    Perm.ORG_MANAGE,
    Perm.USERS_MANAGE,
    Perm.RISK_AREAS_MANAGE,
    Perm.SCREENING_VIEW,
    Perm.SCREENING_RECORD,
    Perm.SCREENING_MANAGE,
    Perm.OBSERVATION_VIEW,
    Perm.OBSERVATION_RECORD,
    Perm.OBSERVATION_DECIDE,
    Perm.OBSERVATION_MANAGE,
    Perm.ALERTS_VIEW,
    Perm.ALERTS_HANDLE,
    Perm.REPORTING_VIEW,
    Perm.REPORTING_FILE,
    Perm.REPORTING_REVIEW,
    Perm.REPORTING_MANAGE,
    Perm.REPORTING_APPROVE,
    Perm.CHECKPOINTS_VIEW,
    Perm.CHECKPOINTS_RECORD,
    Perm.CHECKPOINTS_MANAGE,
    Perm.DUTY_VIEW,
    Perm.DUTY_RECORD,
    Perm.DUTY_MANAGE,
)
Y, N = True, False
EXPECTED: dict[Role, tuple[bool, ...]] = {
    #             view edit reveal audit org users risk | screening: view record manage
    #             | observation: view record decide manage | alerts: view handle
    #             | reporting: view file review manage approve
    #             | checkpoints: view record manage | duty: view record manage
    Role.ADMIN: (Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y),
    Role.LEADER: (Y, N, N, Y, N, N, N, Y, N, N, Y, N, N, N, Y, N, Y, N, N, N, Y, Y, N, N, Y, N, N),
    Role.OFFICE: (Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, Y, N, Y, Y, N, Y, Y, Y, Y, Y, Y),
    Role.UNIT_HEAD: (
        Y,
        Y,
        Y,
        Y,
        N,
        N,
        N,
        Y,
        Y,
        N,
        Y,
        Y,
        Y,
        N,
        Y,
        Y,
        Y,
        Y,
        N,
        N,
        N,
        Y,
        Y,
        N,
        Y,
        Y,
        Y,
    ),
    Role.GRID_WORKER: (
        Y,
        Y,
        Y,
        N,
        N,
        N,
        N,
        Y,
        Y,
        N,
        Y,
        Y,
        N,
        N,
        Y,
        Y,
        Y,
        Y,
        N,
        N,
        N,
        N,
        N,
        N,
        Y,
        Y,
        N,
    ),
    Role.CHECKPOINT: (
        Y,
        N,
        N,
        N,
        N,
        N,
        N,
        N,
        N,
        N,
        N,
        N,
        N,
        N,
        N,
        N,
        N,
        N,
        N,
        N,
        N,
        Y,
        Y,
        N,
        Y,
        Y,
        N,
    ),
    Role.AUDITOR: (Y, N, N, Y, N, N, N, Y, N, N, Y, N, N, N, Y, N, Y, N, N, N, N, Y, N, N, Y, N, N),
}
TABLE = [
    pytest.param(role, perm, allowed, id=f"{role.value}-{perm.value}")
    for role, row in EXPECTED.items()
    for perm, allowed in zip(PERMS, row, strict=True)
]


def test_the_table_covers_every_role_and_every_permission() -> None:
    assert set(EXPECTED) == set(Role)
    assert set(PERMS) == set(Perm)
    assert set(MATRIX) == set(Role)


@pytest.mark.parametrize(("role", "perm", "allowed"), TABLE)
def test_the_matrix_grants_exactly_the_expected_permissions(
    role: Role, perm: Perm, allowed: bool
) -> None:
    assert role_has(role, perm) is allowed
    assert role_has(role.value, perm) is allowed


def test_an_unknown_role_name_is_an_error_not_a_silent_no() -> None:
    with pytest.raises(ValueError, match="'superhero' is not a valid Role"):
        role_has("superhero", Perm.REGISTER_VIEW)


PERSONAS = {
    "admin": Role.ADMIN,
    "leader": Role.LEADER,
    "office": Role.OFFICE,
    "head1": Role.UNIT_HEAD,
    "worker11": Role.GRID_WORKER,
    "gate1": Role.CHECKPOINT,
    "auditor1": Role.AUDITOR,
}


@pytest.mark.parametrize("username", PERSONAS)
def test_each_persona_holds_exactly_the_permissions_of_their_role(
    world: World, username: str
) -> None:
    user = world.user(username)
    held = {perm for perm in Perm if has_perm(user, perm)}
    expected = {perm for perm, yes in zip(PERMS, EXPECTED[PERSONAS[username]], strict=True) if yes}
    assert held == expected


# ---------------------------------------------------------------------------------------------
# Scope


def names(user: object) -> set[str]:
    """The names of the persons ``user`` may see."""
    return {p.name for p in restrict(Person.objects.all(), user)}


def test_a_scope_covers_a_subtree_by_path_prefix_and_not_a_sibling_with_a_longer_number() -> None:
    scope = Scope(everything=False, paths=("/1/2/",))
    assert scope.covers(OrgUnit(path="/1/2/"))
    assert scope.covers(OrgUnit(path="/1/2/7/"))
    assert not scope.covers(OrgUnit(path="/1/23/"))
    assert not scope.covers(OrgUnit(path="/1/"))
    assert not scope.covers(None)


def test_the_everything_scope_covers_a_record_without_a_unit() -> None:
    assert Scope(everything=True).covers(None)


def test_a_unit_head_sees_their_unit_and_its_grids_only(world: World) -> None:
    head1 = world.user("head1")
    assert scope_for(head1, Perm.REGISTER_VIEW) == Scope(
        everything=False, paths=(world.unit1.path,)
    )
    units = set(restrict(OrgUnit.objects.all(), head1).values_list("code", flat=True))
    assert units == {"LZ-01", "LZ-01-01", "LZ-01-02"}
    assert names(head1) == {"张建国", "张小明", "李秀英"}
    households = set(restrict(Household.objects.all(), head1).values_list("address", flat=True))
    assert households == {"一站1排3号", "一站2排5号"}


def test_a_grid_worker_sees_their_grid_only(world: World) -> None:
    assert names(world.user("worker11")) == {"张建国", "张小明"}


def test_timeline_events_are_scoped_through_their_person(world: World) -> None:
    events = restrict(TimelineEvent.objects.all(), world.user("head2"))
    assert {e.person.name for e in events} == {"王立新"}


def test_an_outsider_gets_404_for_a_person_outside_their_scope(world: World) -> None:
    with pytest.raises(Http404):
        get_scoped_or_404(Person.objects.all(), world.user("head2"), world.person11.pk)


def test_an_outsider_gets_404_even_when_asking_for_a_permission(world: World) -> None:
    with pytest.raises(Http404):
        get_scoped_or_404(
            Person.objects.all(), world.user("head2"), world.person11.pk, Perm.REGISTER_EDIT
        )


@pytest.mark.parametrize("pk", ["abc", None, 10**9])
def test_a_malformed_or_missing_key_is_404(world: World, pk: object) -> None:
    with pytest.raises(Http404):
        get_scoped_or_404(Person.objects.all(), world.user("admin"), pk)


@pytest.mark.parametrize("username", ["leader", "auditor1", "gate1"])
def test_a_read_only_user_sees_a_person_but_gets_403_for_editing(
    world: World, username: str
) -> None:
    user = world.user(username)
    person = get_scoped_or_404(Person.objects.all(), user, world.person11.pk)
    assert person == world.person11
    with pytest.raises(PermissionDenied):
        get_scoped_or_404(Person.objects.all(), user, world.person11.pk, Perm.REGISTER_EDIT)


def test_a_grid_worker_may_edit_in_their_grid_and_gets_403_in_a_neighbouring_one(
    world: World,
) -> None:
    worker = world.user("worker11")
    check_perm_on(worker, Perm.REGISTER_EDIT, world.person11)
    with pytest.raises(PermissionDenied):
        check_perm_on(worker, Perm.REGISTER_EDIT, world.grid12)


def test_nested_assignments_collapse_to_the_outermost_unit(world: World) -> None:
    head1 = world.user("head1")
    services.assign_role(user=head1, role=Role.GRID_WORKER, org_unit=world.grid11)
    services.assign_role(user=head1, role=Role.AUDITOR, org_unit=world.grid12)
    assert scope_for(head1, Perm.REGISTER_VIEW) == Scope(
        everything=False, paths=(world.unit1.path,)
    )
    assert names(head1) == {"张建国", "张小明", "李秀英"}


def test_the_permissions_of_several_roles_add_up_each_over_its_own_unit(world: World) -> None:
    gate1 = world.user("gate1")
    services.assign_role(user=gate1, role=Role.GRID_WORKER, org_unit=world.grid12)
    assert scope_for(gate1, Perm.REGISTER_VIEW).paths == (world.unit1.path,)
    assert scope_for(gate1, Perm.REGISTER_EDIT).paths == (world.grid12.path,)
    assert scope_for(gate1, Perm.AUDIT_VIEW).empty


def test_a_user_with_two_assignments_sees_both_subtrees(world: World) -> None:
    worker = world.user("worker11")
    services.assign_role(user=worker, role=Role.GRID_WORKER, org_unit=world.grid21)
    assert scope_for(worker, Perm.REGISTER_VIEW) == Scope(
        everything=False, paths=tuple(sorted([world.grid11.path, world.grid21.path]))
    )
    assert names(worker) == {"张建国", "张小明", "王立新"}
    assert get_scoped_or_404(Person.objects.all(), worker, world.person21.pk) == world.person21


def test_the_administrator_sees_everything(world: World) -> None:
    admin = world.user("admin")
    assert scope_for(admin, Perm.REGISTER_VIEW) == Scope(everything=True)
    assert names(admin) == {"张建国", "张小明", "李秀英", "王立新"}
    assert restrict(OrgUnit.objects.all(), admin).count() == 6


def test_an_inactive_user_sees_nothing(world: World) -> None:
    office = world.user("office")
    office.is_active = False
    office.save()
    user = User.objects.get(pk=office.pk)
    for perm in Perm:
        assert scope_for(user, perm).empty
    assert names(user) == set()
    with pytest.raises(Http404):
        get_scoped_or_404(Person.objects.all(), user, world.person11.pk)


def test_an_anonymous_user_sees_nothing(world: World) -> None:
    assert scope_for(AnonymousUser(), Perm.REGISTER_VIEW).empty
    assert names(AnonymousUser()) == set()


def test_a_user_without_assignments_sees_nothing(world: World) -> None:
    user = User.objects.create_user(username="nobody", password="Xx#12345678")
    assert names(user) == set()
    assert not has_perm(user, Perm.REGISTER_VIEW)


def test_an_assignment_to_a_deactivated_unit_gives_nothing(world: World) -> None:
    OrgUnit.objects.filter(pk=world.unit1.pk).update(is_active=False)
    head1 = User.objects.get(username="head1")
    assert scope_for(head1, Perm.REGISTER_VIEW).empty
    assert names(head1) == set()


def test_the_scope_is_cached_on_the_user_until_cleared(world: World) -> None:
    worker = User.objects.get(username="worker11")
    assert names(worker) == {"张建国", "张小明"}
    other = User.objects.get(pk=worker.pk)
    services.assign_role(user=other, role=Role.GRID_WORKER, org_unit=world.grid12)
    assert names(worker) == {"张建国", "张小明"}
    clear_scope_cache(worker)
    assert names(worker) == {"张建国", "张小明", "李秀英"}
