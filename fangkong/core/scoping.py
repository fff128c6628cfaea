"""Access scope: which org units a user may see or change, applied in one place.

Every scoped model is registered with the path from it to its org unit. Views, the API,
search, counts and exports get their querysets through :func:`restrict` and single objects
through :func:`get_scoped_or_404`; nothing else filters by org unit for access.

An object outside the user's view scope is 404 (its existence is not revealed); an object the
user may see but not change is 403.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import connection, models
from django.db.models import Q, QuerySet
from django.http import Http404

from fangkong.core.fastpath import quote
from fangkong.core.permissions import MATRIX, Perm, Role

if TYPE_CHECKING:
    from fangkong.org.models import OrgUnit

M = TypeVar("M", bound=models.Model)


def ancestor_paths(path: str) -> list[str]:
    """The materialised paths of the units strictly above the unit at ``path``, top first."""
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts))]


@dataclass(frozen=True)
class Scope:
    """The subtrees (by materialised path) where a permission holds."""

    everything: bool
    paths: tuple[str, ...] = ()
    # The paths take in every tree of the organisation (the office or the leader of a
    # one-branch organisation): every object with an org unit is in scope, and a list needs
    # no condition on the unit, which lets the database count and read in index order.
    whole_tree: bool = False

    @property
    def empty(self) -> bool:
        return not self.everything and not self.paths

    def covers(self, unit: OrgUnit | None) -> bool:
        if self.everything:
            return True
        if unit is None:
            return False
        return any(unit.path.startswith(p) for p in self.paths)

    def overlaps(self, unit: OrgUnit | None) -> bool:
        """Whether ``unit``'s subtree and the scope share a unit: the unit is inside the scope
        or above a part of it (a branch-wide campaign concerns the grid worker of one grid)."""
        if unit is None:
            return False
        return self.covers(unit) or any(p.startswith(unit.path) for p in self.paths)

    def ancestor_paths(self) -> set[str]:
        """The paths of the units strictly above the scope's subtrees."""
        return {above for path in self.paths for above in ancestor_paths(path)}

    def unit_q(self, prefix: str = "") -> Q:
        """A Q over OrgUnit (``prefix`` leads from another model to it) limited to the scope."""
        if self.everything:
            return Q()
        q = Q(pk__in=[])
        for path in self.paths:
            q |= Q(**{f"{prefix}path__startswith": path})
        return q


@dataclass(frozen=True)
class ScopedModel:
    model: type[models.Model]
    unit_field: str  # "" when the model is OrgUnit itself
    view_perm: Perm
    # Whether the path from the model to its unit may end in NULL (then an object without a
    # unit is seen by the system administrator only).
    unit_nullable: bool = False
    # Seen when its unit's subtree overlaps the user's scope (inside it or above it), not only
    # when inside: a campaign over the whole branch is seen by the grid worker of one grid.
    overlap: bool = False
    # What URLs call an object of it (``<arg>_id``); the model's name in lower case by default.
    url_arg: str = ""

    @property
    def arg(self) -> str:
        return self.url_arg or self.model.__name__.lower()


_REGISTRY: dict[type[models.Model], ScopedModel] = {}


def register(
    model: type[models.Model],
    *,
    unit_field: str,
    view_perm: Perm,
    overlap: bool = False,
    url_arg: str = "",
) -> None:
    """Declare how ``model`` is scoped. Called from each app's ``AppConfig.ready``."""
    _REGISTRY[model] = ScopedModel(
        model=model,
        unit_field=unit_field,
        view_perm=view_perm,
        overlap=overlap,
        url_arg=url_arg,
        unit_nullable=_nullable_path(model, unit_field),
    )


def _nullable_path(model: type[models.Model], unit_field: str) -> bool:
    current: Any = model
    for name in unit_field.split("__") if unit_field else ():
        field = current._meta.get_field(name)
        if field.null:
            return True
        current = field.related_model
    return False


def registry() -> dict[type[models.Model], ScopedModel]:
    return dict(_REGISTRY)


def minimal_paths(paths: set[str]) -> tuple[str, ...]:
    """Drop paths already covered by an ancestor path."""
    result: list[str] = []
    for path in sorted(paths, key=len):
        if not any(path.startswith(p) for p in result):
            result.append(path)
    return tuple(sorted(result))


def scope_for(user: Any, perm: Perm) -> Scope:
    """The scope in which ``user`` holds ``perm`` (cached on the user object for the request)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Scope(everything=False)
    cache: dict[Perm, Scope] | None = getattr(user, "_fk_scope_cache", None)
    if cache is None:
        cache = user._fk_scope_cache = {}
    scope = cache.get(perm)
    if scope is None:
        assignments = getattr(user, "_fk_assignments", None)
        if assignments is None:
            assignments = user._fk_assignments = _assignments(user.pk)
        scope = cache[perm] = _scope(assignments, perm)
    return scope


def _scope(assignments: list[tuple[Any, ...]], perm: Perm) -> Scope:
    everything = False
    paths: set[str] = set()
    held_roots: set[str] = set()
    for role, unit_id, path, active, parent_id, _roots in assignments:
        if perm not in MATRIX[Role(role)]:
            continue
        if unit_id is None:
            everything = True
        elif active:
            paths.add(path)
            if parent_id is None:
                held_roots.add(path)
    return Scope(
        everything=everything,
        paths=() if everything else minimal_paths(paths),
        whole_tree=bool(held_roots) and len(held_roots) == assignments[0][5],
    )


def _assignments(user_id: int) -> list[tuple[Any, ...]]:
    """The user's assignments: (role, unit id, unit path, unit active, unit parent id, number
    of top units in the organisation) each; a scope holding every top unit (the root of
    each tree) is the whole organisation. Every request asks, so one statement written once
    (see :mod:`fangkong.core.fastpath`)."""
    with connection.cursor() as cursor:
        cursor.execute(_assignments_sql(), [user_id])
        return list(cursor.fetchall())


@functools.cache
def _assignments_sql() -> str:
    RoleAssignment = apps.get_model("org", "RoleAssignment")
    OrgUnit = apps.get_model("org", "OrgUnit")
    units = quote(OrgUnit._meta.db_table)
    return (
        f"SELECT a.{quote('role')}, a.{quote('org_unit_id')}, o.{quote('path')}, "
        f"o.{quote('is_active')}, o.{quote('parent_id')}, "
        f"(SELECT COUNT(*) FROM {units} r WHERE r.{quote('parent_id')} IS NULL) "
        f"FROM {quote(RoleAssignment._meta.db_table)} a "
        f"LEFT JOIN {units} o ON o.{quote('id')} = a.{quote('org_unit_id')} "
        f"WHERE a.{quote('user_id')} = %s"
    )


class Operator:
    """The operator at the command line (``manage.py`` commands): every permission over the
    whole organisation. Pass it where a user is expected; a command narrows what it touches
    with its own ``--scope`` filter."""

    is_authenticated = True
    is_active = True
    pk = None

    def __init__(self) -> None:
        self._fk_scope_cache = {perm: Scope(everything=True) for perm in Perm}

    def __str__(self) -> str:
        return "operator"


def clear_scope_cache(user: Any) -> None:
    for name in ("_fk_scope_cache", "_fk_assignments"):
        if hasattr(user, name):
            delattr(user, name)


def has_perm(user: Any, perm: Perm) -> bool:
    """Whether the user holds ``perm`` anywhere."""
    return not scope_for(user, perm).empty


def _entry(model: type[models.Model]) -> ScopedModel:
    try:
        return _REGISTRY[model]
    except KeyError:
        raise LookupError(
            f"{model.__name__} is not registered with fangkong.core.scoping"
        ) from None


def unit_of(obj: models.Model) -> OrgUnit | None:
    entry = _entry(type(obj))
    if not entry.unit_field:
        return obj  # type: ignore[return-value]
    target: Any = obj
    for part in entry.unit_field.split("__"):
        target = getattr(target, part)
        if target is None:
            return None
    return target


def restrict(queryset: QuerySet[M], user: Any, perm: Perm | None = None) -> QuerySet[M]:
    """``queryset`` limited to the objects ``user`` may access with ``perm``."""
    entry = _entry(queryset.model)
    scope = scope_for(user, perm or entry.view_perm)
    if scope.everything:
        return queryset
    if scope.empty:
        return queryset.none()
    if scope.whole_tree:
        if entry.unit_nullable:
            return queryset.filter(**{f"{entry.unit_field}__isnull": False})
        return queryset
    if not entry.unit_field:
        return queryset.filter(scope.unit_q())
    OrgUnit = apps.get_model("org", "OrgUnit")
    condition = scope.unit_q()
    if entry.overlap:
        condition |= Q(path__in=scope.ancestor_paths())
    units = OrgUnit.objects.filter(condition).values("pk")
    return queryset.filter(**{f"{entry.unit_field}__in": units})


def units_in_scope(user: Any, perm: Perm) -> QuerySet[Any]:
    OrgUnit = apps.get_model("org", "OrgUnit")
    return restrict(OrgUnit.objects.filter(is_active=True), user, perm)


def may(user: Any, perm: Perm, obj: models.Model) -> bool:
    """Whether ``user`` holds ``perm`` over ``obj``'s org unit (for showing buttons)."""
    return scope_for(user, perm).covers(unit_of(obj))


def may_see(user: Any, obj: models.Model) -> bool:
    """Whether ``user`` may see ``obj`` (its registered view permission and overlap rule)."""
    entry = _entry(type(obj))
    scope = scope_for(user, entry.view_perm)
    unit = unit_of(obj)
    return scope.overlaps(unit) if entry.overlap else scope.covers(unit)


def check_perm_on(user: Any, perm: Perm, obj: models.Model) -> None:
    """Raise 403 unless ``user`` holds ``perm`` over ``obj``'s org unit."""
    if not scope_for(user, perm).covers(unit_of(obj)):
        raise PermissionDenied


def get_scoped_or_404(queryset: QuerySet[M], user: Any, pk: Any, perm: Perm | None = None) -> M:
    """The object with ``pk`` if the user may see it (else 404) and, when ``perm`` is given,
    may act on it with ``perm`` (else 403)."""
    try:
        obj = restrict(queryset, user).get(pk=pk)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if perm is not None:
        check_perm_on(user, perm, obj)
    return obj


# Scopes at this depth or above (1: the branch, 2: a unit) are "wide".
WIDE_DEPTH = 2


def _depth(path: str) -> int:
    return path.strip("/").count("/") + 1


def restrict_newest_first(
    queryset: QuerySet[M], user: Any, perm: Perm | None = None
) -> QuerySet[M]:
    """:func:`restrict` for a list read newest first from an index. For a wide scope (a
    branch or a unit) the condition goes through the join to the unit (the page joins it
    anyway) rather than ``unit_id IN (…)``: SQLite then reads the newest rows in index order
    and stops at the page's end, instead of collecting every row of the scope's grids and
    sorting them (seconds at a million rows). A narrower scope keeps ``IN``: few rows, found
    by the unit's index."""
    entry = _entry(queryset.model)
    scope = scope_for(user, perm or entry.view_perm)
    if scope.everything or scope.whole_tree or scope.empty or entry.overlap:
        return restrict(queryset, user, perm)
    if not entry.unit_field:  # OrgUnit itself
        return restrict(queryset, user, perm)
    if min(map(_depth, scope.paths)) > WIDE_DEPTH:
        return restrict(queryset, user, perm)
    return queryset.filter(scope.unit_q(f"{entry.unit_field}__"))
