"""Every page and every API endpoint, walked as an outsider, a read-only user and an owner.

Nothing here names a view: the pages come from the root URL resolver and the API operations
from the OpenAPI schema, both read when the tests are collected, so a URL added by any app is
walked without new test code. A URL argument ``<model>_id`` becomes an object of the model of
that name registered with :func:`fangkong.core.scoping.register`; any other argument needs a
sample value in ``SAMPLE_VALUES``. A URL this module cannot fill makes its tests fail; only
the short ``SKIPPED_ROUTES`` list below is left out, each with its reason.

The world (``fangkong.core.testing``): ``head1`` heads LZ-01, ``head2`` heads LZ-02 (an
outsider to LZ-01 and the other way round), ``auditor1`` audits LZ-01 and ``leader`` sees the
whole branch read-only. What each role may do is read from the permission matrix (the
declared policy); whether the app keeps to it is what these tests check.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote

import pytest
from django.apps import apps
from django.contrib.sessions.models import Session
from django.db import models, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import translation
from python_calamine import CalamineWorkbook

from fangkong.api import api
from fangkong.core import scoping
from fangkong.core.permissions import MATRIX, Perm, Role
from fangkong.core.tabular.writing import LEDGER_LANGUAGE, XLSX_CONTENT_TYPE
from fangkong.core.testing import World, build_world
from fangkong.org import ledger, services
from fangkong.org.models import OrgUnit, Person, User

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response

# ---------------------------------------------------------------------------------------------
# What is walked

# Routes (or route prefixes of included URLconfs) that hold no record of the register. Static
# files are served by WhiteNoise's middleware, not by the URLconf, so they never appear here.
SKIPPED_ROUTES: dict[str, str] = {
    "admin/": "Django admin: system administrators only, guarded by Django's own permissions",
    "i18n/": "the language switch (set_language): no data",
    "accounts/login/": "logging in",
    "accounts/logout/": "logging out",
    "accounts/password/": "the user's own password",
    "accounts/password/done/": "the user's own password",
    "healthz": "liveness probe: answers whether the database is up, nothing else",
    "r/": "the public self-report page: no login, an unguessable token instead of an object id "
    "(its access rules are tested in fangkong/observation/tests/test_selfreport.py)",
    "api/v1/": "the API: walked operation by operation through the OpenAPI schema below",
}
# Routes of the API's URLconf that are not operations of its schema.
SKIPPED_API_ROUTES: dict[str, str] = {
    "api/v1/": "django-ninja's root, used only to reverse the other URLs",
    "api/v1/openapi.json": "the API's description, the same for everyone",
    "api/v1/docs": "the API's documentation page, the same for everyone",
}

# Sample values of URL arguments that are not ``<model>_id``.
SAMPLE_VALUES: dict[str, str] = {
    "field_name": "phone",  # org:person_reveal: a field whose full value may be shown
    "region_code": "620723",  # screening:risk_area_end: a region (national data, not scoped)
    # observation:preset_edit: the first period preset (installed by migration 0002; reference
    # data of the whole organisation, not scoped: only observation.manage may open it)
    "preset": "1",
}

# Query parameters naming an object, by URL name: such a page is walked with the parameter
# pointing inside and outside the scope, and (unless it cannot be opened without) also without.
QUERY_OBJECTS: dict[str, dict[str, str]] = {
    "org:unit_create": {"parent": "orgunit_id"},  # the unit to add a unit or grid under
    "org:person_create": {"household": "household_id"},  # the household to add a person to
    "observation:start": {"person": "person_id"},  # the person to put under observation
}
QUERY_REQUIRED = {"org:unit_create"}

# Form fields a POST changes, so that a POST that gets through would show in the database.
CHANGED_FIELDS: dict[str, str] = {"note": "scope walk", "responsible": "scope walk"}

# Sample values of API request body properties (others get one by their type in the schema).
SAMPLE_BODY_VALUES: dict[str, Any] = {
    "name": "扫描测试",
    "address": "一站9排9号",
    "phone": "13800009999",
    "id_number": "",
    "note": "scope walk",
    "kind": "grid",
}
# API body properties naming an object that are not '<model>_id': how to find one in a unit.
BODY_REFERENCES: dict[str, Any] = {
    "grid_id": lambda unit: OrgUnit.objects.filter(
        kind=OrgUnit.Kind.GRID, path__startswith=unit.path
    ).first(),
    "parent_id": lambda unit: unit,
    "head_id": lambda unit: Person.objects.filter(grid__path__startswith=unit.path).first(),
}
MISSING_PK = 987_654_321  # no object has this id

OUTSIDER = "head2"  # unit head of LZ-02
OWNERS = ("head1", "office", "admin")  # the first one whose role grants a page's permission
READ_ONLY = ("auditor1", "leader")  # the first one whose role fits the case
LOGIN_URL = "/accounts/login/"

_ARG = re.compile(r"<(?:[^<>:]+:)?(\w+)>|\(\?P<(\w+)>")


@dataclass(frozen=True)
class PageRoute:
    route: str  # e.g. "org/persons/<int:person_id>/"
    name: str  # e.g. "org:person_detail" ("" when the pattern has no name)
    view: Any = field(compare=False)
    path_args: tuple[str, ...]
    query: tuple[tuple[str, str], ...] = ()  # (query parameter, argument name)

    @property
    def args(self) -> tuple[str, ...]:
        return self.path_args + tuple(arg for _param, arg in self.query)

    @property
    def id(self) -> str:
        query = "&".join(f"{param}=<{arg}>" for param, arg in self.query)
        return (self.name or self.route) + (f"?{query}" if query else "")

    @property
    def perm(self) -> Perm | None:
        """What ``requires()`` recorded on the view; None for a login-only page."""
        perm = getattr(self.view, "fk_perm", None)
        return Perm(perm) if perm is not None else None

    @property
    def edits(self) -> bool:
        return self.perm is not None and not self.perm.endswith(".view")

    def url(self, values: dict[str, Any]) -> str:
        if "(?P" in self.route or self.route.startswith("^"):
            if not self.name:
                pytest.fail(f"{self.route}: a regular-expression URL needs a name to be walked")
            kwargs = {arg: values[arg] for arg in self.path_args}
            url = reverse(self.name, kwargs=kwargs)
        else:
            url = "/" + _ARG.sub(lambda m: str(values[m.group(1) or m.group(2)]), self.route)
        query = "&".join(f"{param}={values[arg]}" for param, arg in self.query)
        return f"{url}?{query}" if query else url


def _args_of(route: str) -> tuple[str, ...]:
    return tuple(a or b for a, b in _ARG.findall(route))


def _walk(
    patterns: list[URLPattern | URLResolver], prefix: str = "", namespace: str = ""
) -> Iterator[PageRoute]:
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if route in SKIPPED_ROUTES:
            continue
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, route, inner)
        else:
            name = f"{namespace}{entry.name}" if entry.name else ""
            page = PageRoute(route=route, name=name, view=entry.callback, path_args=_args_of(route))
            if name not in QUERY_REQUIRED:
                yield page
            if name in QUERY_OBJECTS:
                yield replace(page, query=tuple(QUERY_OBJECTS[name].items()))


def _api_routes(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[str]:
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _api_routes(entry.url_patterns, route)
        else:
            yield route


PAGES: list[PageRoute] = list(_walk(get_resolver().url_patterns))
OBJECT_PAGES = [p for p in PAGES if p.args]
LIST_PAGES = [p for p in PAGES if not p.args]


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    path: str  # e.g. "/api/v1/persons/{person_id}"
    params: tuple[str, ...]
    spec: dict[str, Any] = field(compare=False, hash=False)

    @property
    def writes(self) -> bool:
        return self.method not in ("GET", "HEAD", "OPTIONS")

    def url(self, values: dict[str, Any]) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), self.path)


SCHEMA: dict[str, Any] = dict(api.get_openapi_schema())
OPERATIONS: list[Operation] = [
    Operation(
        method=method.upper(),
        path=path,
        params=tuple(re.findall(r"\{(\w+)\}", path)),
        spec=spec,
    )
    for path, item in SCHEMA["paths"].items()
    for method, spec in item.items()
    if method in ("get", "post", "put", "patch", "delete")
]
OBJECT_OPERATIONS = [o for o in OPERATIONS if o.params]
LIST_READS = [o for o in OPERATIONS if not o.params and not o.writes]
WRITES = [o for o in OPERATIONS if o.writes]


def _page_id(page: PageRoute) -> str:
    return page.id


def _op_id(op: Operation) -> str:
    return f"{op.method} {op.path}"


# ---------------------------------------------------------------------------------------------
# The world, built once for the module: each test runs in a savepoint that is rolled back.


@pytest.fixture(scope="module")
def _module_world(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    with django_db_blocker.unblock(), transaction.atomic():
        world = build_world(observation=True)
        _add_alert_in_lz01(world)
        yield world
        transaction.set_rollback(True)


def _add_alert_in_lz01(world: World) -> None:
    """The world's only alert is in LZ-02 (王立新's fever): an afternoon cough of 张小明
    raises one in LZ-01, so that the alert pages and endpoints are walked from both sides."""
    from fangkong.observation import services as observation

    observation.record_reading(
        actor=None,
        episode=world.episode1,
        value="36.9",
        symptoms=["cough"],
        taken_at=dt.datetime(2020, 2, 4, 15, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    )


@pytest.fixture
def world(_module_world: World, db: None) -> World:
    return _module_world


# ---------------------------------------------------------------------------------------------
# From URL arguments to objects


def _model_for(arg: str) -> type[models.Model] | None:
    if not arg.endswith("_id"):
        return None
    wanted = arg.removesuffix("_id")
    return next((m for m, entry in scoping.registry().items() if entry.arg == wanted), None)


def _unmapped(args: tuple[str, ...]) -> list[str]:
    return [a for a in args if _model_for(a) is None and a not in SAMPLE_VALUES]


def _unmapped_message(where: str, args: list[str]) -> str:
    return (
        f"{where}: cannot walk the URL argument(s) {', '.join(args)}. Name an object argument "
        "'<model>_id' and register the model with fangkong.core.scoping.register(...) in its "
        "app's AppConfig.ready, or add a sample value to SAMPLE_VALUES in "
        "fangkong/core/tests/test_scope_walk.py. No URL is skipped silently."
    )


def _in_unit(model: type[models.Model], unit: OrgUnit, chosen: list[models.Model]) -> Any:
    """An object of ``model`` inside ``unit``'s subtree, related to the ``chosen`` ones if
    possible (the person of the household already chosen, say)."""
    entry = scoping.registry()[model]
    lookup = f"{entry.unit_field}__path__startswith" if entry.unit_field else "path__startswith"
    qs = model._default_manager.filter(**{lookup: unit.path}).order_by("pk")
    for fk in model._meta.get_fields():
        if not isinstance(fk, models.ForeignKey):
            continue
        for other in chosen:
            if fk.related_model is type(other) and qs.filter(**{fk.name: other}).exists():
                qs = qs.filter(**{fk.name: other})
    obj = qs.first()
    assert obj is not None, (
        f"the world has no {model.__name__} inside {unit.code}: add one to "
        "fangkong.core.testing.build_world so that its URLs can be walked"
    )
    where = scoping.unit_of(obj)
    assert where is not None
    assert where.path.startswith(unit.path)
    return obj


def _fill(args: tuple[str, ...], unit: OrgUnit, where: str) -> tuple[dict[str, Any], list[Any]]:
    """URL argument values pointing inside ``unit``, and the objects they point to."""
    missing = _unmapped(args)
    if missing:
        pytest.fail(_unmapped_message(where, missing))
    values: dict[str, Any] = {}
    objects: list[models.Model] = []
    for arg in args:
        model = _model_for(arg)
        if model is None:
            values[arg] = SAMPLE_VALUES[arg]
            continue
        obj = _in_unit(model, unit, objects)
        objects.append(obj)
        values[arg] = obj.pk
    return values, objects


# ---------------------------------------------------------------------------------------------
# Who may do what (by the declared permission matrix), and what changed


def _grants(user: User, perm: Perm | None) -> bool:
    if perm is None:
        return True
    return any(perm in MATRIX[Role(a.role)] for a in user.assignments.all())


def _view_perm_of(page: PageRoute) -> Perm:
    model = next((_model_for(a) for a in page.args if _model_for(a) is not None), None)
    return scoping.registry()[model].view_perm if model is not None else Perm.REGISTER_VIEW


def _owner(world: World, perm: Perm | None) -> User:
    user = next((world.user(n) for n in OWNERS if _grants(world.user(n), perm)), None)
    assert user is not None, f"no persona among {OWNERS} may use {perm}"
    return user


def _read_only(world: World, page: PageRoute) -> tuple[User, int]:
    """A read-only persona of LZ-01 for ``page`` and the status it must get."""
    if page.edits:
        users = [
            world.user(n)
            for n in READ_ONLY
            if not _grants(world.user(n), page.perm) and _grants(world.user(n), _view_perm_of(page))
        ]
        assert users, f"every read-only persona among {READ_ONLY} holds {page.perm}"
        return users[0], 403
    users = [world.user(n) for n in READ_ONLY if _grants(world.user(n), page.perm)]
    if users:
        return users[0], 200
    return world.user(READ_ONLY[0]), 403


def _snapshot(objects: list[Any]) -> dict[str, Any]:
    """Row counts of every table, the rows of ``objects`` and the length of their history."""
    state: dict[str, Any] = {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model is not Session
    }
    for obj in objects:
        key = f"{obj._meta.label}#{obj.pk}"
        state[key] = list(type(obj)._default_manager.filter(pk=obj.pk).values())
        if hasattr(obj, "history"):
            state[f"{key} history"] = obj.history.count()
    return state


def _identifying(unit: OrgUnit) -> set[str]:
    """Names, codes, addresses and numbers of the registered objects inside ``unit``."""
    found: set[str] = set()
    for model, entry in scoping.registry().items():
        lookup = f"{entry.unit_field}__path__startswith" if entry.unit_field else "path__startswith"
        names = [
            f.name
            for f in model._meta.concrete_fields
            if f.name in ("name", "code", "address", "id_number", "phone")
        ]
        if names:
            for row in model._default_manager.filter(**{lookup: unit.path}).values(*names):
                found.update(str(v) for v in row.values() if v)
    return found


def _links(unit: OrgUnit) -> set[str]:
    """The page links of the registered objects inside ``unit``, as they appear in HTML."""
    links: set[str] = set()
    for model, entry in scoping.registry().items():
        if not hasattr(model, "get_absolute_url"):
            continue
        lookup = f"{entry.unit_field}__path__startswith" if entry.unit_field else "path__startswith"
        for obj in model._default_manager.filter(**{lookup: unit.path}):
            links.add(f'href="{obj.get_absolute_url()}"')
    return links


def _leaks(text: str, unit: OrgUnit) -> list[str]:
    return sorted(s for s in _identifying(unit) | _links(unit) if s in text)


# Fixed text of the import templates, the same for everyone, which the test world happens to
# reuse (张建国 of 一站1排3号 in LZ-01-01): their example rows and their instructions sheets.
TEMPLATE_EXAMPLES = [[c.example for c in ledger.ROSTER_COLUMNS]]
INSTRUCTION_SHEETS = [ledger.INSTRUCTIONS_SHEET]


def _text(response: Response) -> str:
    """The page; for an Excel file, the text of its cells (see ``_xlsx_text``)."""
    if response.get("Content-Type") == XLSX_CONTENT_TYPE:
        return _xlsx_text(response)
    return response.content.decode()


def _xlsx_text(response: Any) -> str:
    """Every cell of every sheet, one line per row, but the fixed text of templates."""
    data = b"".join(response.streaming_content) if response.streaming else response.content
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    with translation.override(LEDGER_LANGUAGE):
        skipped = {str(name) for name in INSTRUCTION_SHEETS}
    lines = []
    for name in book.sheet_names:
        if name in skipped:
            continue
        for row in book.get_sheet_by_name(name).to_python():
            cells = [v.isoformat() if isinstance(v, dt.date) else str(v) for v in row]
            if cells not in TEMPLATE_EXAMPLES:
                lines.append("\t".join(cells))
    return "\n".join(lines)


def _client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _form_body(response: Response) -> dict[str, Any]:
    """The owner's form as shown (its initial values) with the note changed, or a token body."""
    context = getattr(response, "context", None)
    form = context.get("form") if context is not None else None
    if form is None:
        return {"confirm": "1"}
    body: dict[str, Any] = {}
    for bound in form:
        value = bound.value()
        if value is not None and value is not False:
            body[bound.name] = value
    body.update({k: v for k, v in CHANGED_FIELDS.items() if k in form.fields})
    return body


def _body_for(page: PageRoute, world: World, values: dict[str, Any]) -> dict[str, Any]:
    owner = _client(_owner(world, page.perm))
    return _form_body(owner.get(page.url(values)))


def _after_login(url: str) -> str:
    return f"{LOGIN_URL}?next={quote(url, safe='/')}"


# ---------------------------------------------------------------------------------------------
# The URL list itself


def test_every_url_argument_maps_to_a_registered_model_or_a_sample_value() -> None:
    problems = [
        _unmapped_message(p.route, _unmapped(p.args)) for p in PAGES if _unmapped(p.args)
    ] + [
        _unmapped_message(_op_id(o), _unmapped(o.params)) for o in OPERATIONS if _unmapped(o.params)
    ]
    assert problems == []


def test_the_walk_finds_the_pages_of_the_register() -> None:
    names = {p.name for p in PAGES}
    assert {"home", "org:person_list", "org:person_detail", "org:household_edit"} <= names
    assert not any(p.route.startswith(("admin/", "api/")) for p in PAGES)


def test_every_api_url_is_an_operation_of_the_openapi_schema() -> None:
    (api_resolver,) = [
        r
        for r in get_resolver().url_patterns
        if isinstance(r, URLResolver) and str(r.pattern) == "api/v1/"
    ]
    documented = {path.lstrip("/") for path in SCHEMA["paths"]}
    routes = {
        _ARG.sub(lambda m: "{" + (m.group(1) or m.group(2)) + "}", route)
        for route in _api_routes(api_resolver.url_patterns, "api/v1/")
    }
    undocumented = sorted(routes - documented - set(SKIPPED_API_ROUTES))
    assert undocumented == [], (
        "API URLs missing from the OpenAPI schema are not walked: include them in the schema "
        "or add them to SKIPPED_API_ROUTES with a reason"
    )


# ---------------------------------------------------------------------------------------------
# Pages with objects


@pytest.mark.parametrize("page", OBJECT_PAGES, ids=_page_id)
@pytest.mark.parametrize(
    ("persona", "unit_attr"), [("head2", "unit1"), ("head1", "unit2")], ids=["head2", "head1"]
)
def test_an_object_outside_the_scope_is_404_and_stays_unchanged(
    world: World, page: PageRoute, persona: str, unit_attr: str
) -> None:
    unit = getattr(world, unit_attr)
    values, objects = _fill(page.args, unit, page.route)
    url = page.url(values)
    body = _body_for(page, world, values)
    user = world.user(persona)
    client = _client(user)
    before = _snapshot(objects)

    get = client.get(url)
    post = client.post(url, body)

    statuses = (get.status_code, post.status_code)
    if _grants(user, page.perm):
        assert 404 in statuses, f"{persona} GET/POST {url}: expected 404, got {statuses}"
        assert set(statuses) <= {404, 405}, f"{persona} GET/POST {url}: got {statuses}"
    else:
        assert set(statuses) <= {403, 404, 405}, f"{persona} GET/POST {url}: got {statuses}"
    assert _leaks(_text(get) + _text(post), unit) == []
    assert _snapshot(objects) == before


@pytest.mark.parametrize("page", OBJECT_PAGES, ids=_page_id)
def test_a_read_only_user_may_view_an_object_but_not_change_it(
    world: World, page: PageRoute
) -> None:
    values, objects = _fill(page.args, world.unit1, page.route)
    url = page.url(values)
    user, expected = _read_only(world, page)
    body = _body_for(page, world, values) if page.edits else {}
    client = _client(user)
    before = _snapshot(objects)

    get = client.get(url)

    if expected == 200:
        assert get.status_code == 200, f"{user} GET {url}: expected 200, got {get.status_code}"
    else:
        post = client.post(url, body)
        statuses = (get.status_code, post.status_code)
        assert 403 in statuses, f"{user} GET/POST {url}: expected 403, got {statuses}"
        assert set(statuses) <= {403, 405}, f"{user} GET/POST {url}: got {statuses}"
    assert _snapshot(objects) == before


@pytest.mark.parametrize("page", OBJECT_PAGES, ids=_page_id)
def test_an_owner_may_open_the_page_of_their_object(world: World, page: PageRoute) -> None:
    values, _objects = _fill(page.args, world.unit1, page.route)
    url = page.url(values)
    user = _owner(world, page.perm)
    client = _client(user)

    response = client.get(url)
    if response.status_code == 405:  # an action answering POST only
        response = client.post(url, {})

    assert response.status_code == 200, f"{user} {url}: expected 200, got {response.status_code}"


@pytest.mark.parametrize("page", PAGES, ids=_page_id)
def test_an_anonymous_visitor_is_sent_to_log_in(world: World, page: PageRoute) -> None:
    values, objects = _fill(page.args, world.unit1, page.route)
    url = page.url(values)
    client = _client(None)
    before = _snapshot(objects)

    get = client.get(url)
    post = client.post(url, {})

    statuses = (get.status_code, post.status_code)
    assert set(statuses) <= {302, 405}, f"anonymous GET/POST {url}: got {statuses}"
    for response in (get, post):
        if response.status_code == 302:
            assert response["Location"] == _after_login(url)
    assert _snapshot(objects) == before


# ---------------------------------------------------------------------------------------------
# Pages without objects (lists, forms to add, the home page)


def _probes(url: str, world: World) -> list[tuple[str, str]]:
    """The page, and the page searched for an LZ-01 name (which the search box echoes)."""
    return [
        (url, ""),
        (f"{url}?q={world.person11.name}", world.person11.name),
        (f"{url}?q={world.household11.address}", world.household11.address),
    ]


@pytest.mark.parametrize("page", LIST_PAGES, ids=_page_id)
@pytest.mark.parametrize(
    ("persona", "unit_attr"), [("head2", "unit1"), ("head1", "unit2")], ids=["head2", "head1"]
)
def test_a_list_page_shows_nothing_from_outside_the_scope(
    world: World, page: PageRoute, persona: str, unit_attr: str
) -> None:
    unit = getattr(world, unit_attr)
    user = world.user(persona)
    client = _client(user)
    expected = 200 if _grants(user, page.perm) else 403

    for url, echoed in _probes(page.url({}), world):
        response = client.get(url)
        if response.status_code == 405:
            continue
        assert response.status_code == expected, f"{persona} GET {url}: got {response.status_code}"
        leaks = [s for s in _leaks(_text(response), unit) if s != echoed]
        assert leaks == [], f"{persona} GET {url}"


_CSRF = re.compile(r"[A-Za-z0-9]{64}")


@pytest.mark.parametrize("page", LIST_PAGES, ids=_page_id)
def test_a_list_page_does_not_change_when_another_unit_changes(
    world: World, page: PageRoute
) -> None:
    client = _client(world.user(OUTSIDER))
    url = page.url({})
    first = _CSRF.sub("<csrf>", _text(client.get(url)))
    household = services.create_household(actor=None, grid=world.grid11, address="一站9排9号")
    services.create_person(actor=None, name="赵新来", household=household)
    services.create_person(actor=None, name="钱在管", grid=world.grid12)
    Person.objects.filter(name="钱在管").update(status=Person.Status.UNDER_OBSERVATION)

    second = _CSRF.sub("<csrf>", _text(client.get(url)))

    assert second == first


@pytest.mark.parametrize("page", LIST_PAGES, ids=_page_id)
def test_a_read_only_user_may_open_a_list_but_not_add_to_it(world: World, page: PageRoute) -> None:
    user, expected = _read_only(world, page)
    url = page.url({})
    body = _body_for(page, world, {}) if page.edits else None
    client = _client(user)
    before = _snapshot([])

    get = client.get(url)
    post = client.post(url, body) if body is not None else None

    if get.status_code != 405:
        assert get.status_code == expected, f"{user} GET {url}: got {get.status_code}"
    if post is not None:
        assert post.status_code in (403, 405), f"{user} POST {url}: got {post.status_code}"
    assert _snapshot([]) == before


@pytest.mark.parametrize("page", LIST_PAGES, ids=_page_id)
def test_an_owner_may_open_a_list(world: World, page: PageRoute) -> None:
    user = _owner(world, page.perm)

    response = _client(user).get(page.url({}))

    assert response.status_code in (200, 405), f"{user} GET {page.route}: {response.status_code}"


# ---------------------------------------------------------------------------------------------
# The API


def _token(user: User) -> dict[str, Any]:
    _token_row, key = services.issue_api_token(user=user, name="scope walk")
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = SCHEMA["components"]["schemas"][name]
    return schema


def _is_reference(name: str) -> bool:
    return name in BODY_REFERENCES or _model_for(name) is not None


def _reference(name: str, unit: OrgUnit) -> int:
    if name in BODY_REFERENCES:
        obj = BODY_REFERENCES[name](unit)
    else:
        model = _model_for(name)
        assert model is not None
        obj = _in_unit(model, unit, [])
    assert obj is not None, f"the world has nothing for {name} inside {unit.code}"
    return int(obj.pk)


# Request bodies: "full" has the required properties, those with a sample value and every
# object reference, pointing inside the unit; "missing" is the same with references to objects
# that do not exist; "required" has only the required properties.
BodyKind = Literal["full", "missing", "required"]


def _sample(name: str, schema: dict[str, Any], unit: OrgUnit, kind: BodyKind) -> Any:
    """A plausible value for the body property ``name`` (see ``BodyKind``)."""
    schema = _resolve(schema)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if _resolve(s).get("type") != "null"]
            return _sample(name, options[0], unit, kind)
    type_ = schema.get("type")
    if type_ == "integer" and _is_reference(name):
        return MISSING_PK if kind == "missing" else _reference(name, unit)
    if name in SAMPLE_BODY_VALUES:
        return SAMPLE_BODY_VALUES[name]
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    if type_ == "object":
        props = schema.get("properties", {})
        required = schema.get("required", [])
        wanted = [
            p
            for p in props
            if p in required
            or (kind != "required" and (p in SAMPLE_BODY_VALUES or _is_reference(p)))
        ]
        return {p: _sample(p, props[p], unit, kind) for p in wanted}
    if type_ == "array":
        return []
    if type_ == "boolean":
        return False
    if type_ == "number":
        return 36.5
    if type_ == "integer":
        return 1
    if schema.get("format") == "date":
        return "2020-02-01"
    if schema.get("format") == "date-time":
        return "2020-02-01T08:00:00+08:00"
    return "scope walk"


def _json_body(op: Operation, unit: OrgUnit, kind: BodyKind = "full") -> str:
    """A valid-looking body for ``op`` whose object ids point inside ``unit``."""
    content = op.spec.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    return json.dumps(_sample("", schema, unit, kind) if schema else {}, ensure_ascii=False)


def _call(
    op: Operation, url: str, unit: OrgUnit, headers: dict[str, Any], kind: BodyKind = "full"
) -> Response:
    method = getattr(Client(), op.method.lower())
    if op.writes:
        body = _json_body(op, unit, kind)
        return method(url, body, content_type="application/json", **headers)
    return method(url, **headers)


def _payload_text(response: Response) -> str:
    """The JSON answer with its strings unescaped, to look for names in it."""
    try:
        return json.dumps(json.loads(response.content), ensure_ascii=False)
    except ValueError:
        return _text(response)


def _list_model(op: Operation) -> type[models.Model] | None:
    segment = op.path.rstrip("/").rsplit("/", 1)[-1]
    return _model_for(segment.replace("-", "").replace("_", "").removesuffix("s") + "_id")


def _item_ids(data: Any) -> list[Any]:
    items = data.get("items", data) if isinstance(data, dict) else data
    return (
        [item.get("id") for item in items if isinstance(item, dict)]
        if isinstance(items, list)
        else []
    )


def _unit_ids(model: type[models.Model], unit: OrgUnit) -> set[int]:
    entry = scoping.registry()[model]
    lookup = f"{entry.unit_field}__path__startswith" if entry.unit_field else "path__startswith"
    return set(model._default_manager.filter(**{lookup: unit.path}).values_list("pk", flat=True))


def _largest_page(op: Operation) -> str:
    """``limit=<maximum>`` when the operation pages its answer, else ""."""
    for param in op.spec.get("parameters", []):
        if param.get("name") == "limit" and "maximum" in param.get("schema", {}):
            return f"limit={param['schema']['maximum']}"
    return ""


def _shown(response: Response) -> str:
    return f"{response.status_code} {response.content[:300].decode(errors='replace')}"


@pytest.mark.parametrize("op", OPERATIONS, ids=_op_id)
def test_an_api_call_without_a_token_is_401(world: World, op: Operation) -> None:
    values, objects = _fill(op.params, world.unit1, _op_id(op))
    url = op.url(values)
    before = _snapshot(objects)

    response = _call(op, url, world.unit1, {})

    assert response.status_code == 401, f"{op.method} {url}: got {_shown(response)}"
    assert _snapshot(objects) == before


@pytest.mark.parametrize("op", OBJECT_OPERATIONS, ids=_op_id)
@pytest.mark.parametrize(
    ("persona", "unit_attr"), [("head2", "unit1"), ("head1", "unit2")], ids=["head2", "head1"]
)
def test_an_api_object_outside_the_scope_is_404_and_stays_unchanged(
    world: World, op: Operation, persona: str, unit_attr: str
) -> None:
    unit = getattr(world, unit_attr)
    values, objects = _fill(op.params, unit, _op_id(op))
    url = op.url(values)
    headers = _token(world.user(persona))
    before = _snapshot(objects)

    response = _call(op, url, unit, headers)

    assert response.status_code == 404, f"{persona} {op.method} {url}: got {_shown(response)}"
    assert _leaks(_payload_text(response), unit) == []
    assert _snapshot(objects) == before


@pytest.mark.parametrize("op", LIST_READS, ids=_op_id)
@pytest.mark.parametrize(
    ("persona", "unit_attr"), [("head2", "unit1"), ("head1", "unit2")], ids=["head2", "head1"]
)
def test_an_api_list_shows_nothing_from_outside_the_scope(
    world: World, op: Operation, persona: str, unit_attr: str
) -> None:
    unit = getattr(world, unit_attr)
    headers = _token(world.user(persona))
    client = Client()
    model = _list_model(op)
    probes = [("", ""), (f"q={world.person11.name}", world.person11.name)]
    if _largest_page(op):
        probes.append((_largest_page(op), ""))

    for query, echoed in probes:
        url = f"{op.path}?{query}" if query else op.path
        response = client.get(url, **headers)
        assert response.status_code == 200, f"{persona} GET {url}: got {_shown(response)}"
        leaks = [s for s in _leaks(_payload_text(response), unit) if s != echoed]
        assert leaks == [], f"{persona} GET {url}"
        if model is not None:
            ids = set(_item_ids(response.json()))
            assert ids & _unit_ids(model, unit) == set(), f"{persona} GET {url}"


@pytest.mark.parametrize("op", LIST_READS, ids=_op_id)
def test_an_api_list_does_not_change_when_another_unit_changes(world: World, op: Operation) -> None:
    headers = _token(world.user(OUTSIDER))
    first = Client().get(op.path, **headers)
    household = services.create_household(actor=None, grid=world.grid11, address="一站9排9号")
    services.create_person(actor=None, name="赵新来", household=household)
    services.create_org_unit(
        actor=None, code="LZ-01-09", name="一站九网格", kind=OrgUnit.Kind.GRID, parent=world.unit1
    )

    second = Client().get(op.path, **headers)

    assert (second.status_code, second.json()) == (first.status_code, first.json())


@pytest.mark.parametrize("op", WRITES, ids=_op_id)
@pytest.mark.parametrize(
    ("persona", "unit_attr"), [("head2", "unit1"), ("head1", "unit2")], ids=["head2", "head1"]
)
def test_an_api_write_by_an_outsider_is_refused_and_changes_nothing(
    world: World, op: Operation, persona: str, unit_attr: str
) -> None:
    """Refused with 403 or 404; or with 422 on a body field naming an object outside the
    scope, exactly as if that object did not exist (the API's documented contract)."""
    unit = getattr(world, unit_attr)
    values, objects = _fill(op.params, unit, _op_id(op))
    url = op.url(values)
    headers = _token(world.user(persona))
    before = _snapshot(objects)

    response = _call(op, url, unit, headers)

    if response.status_code == 422:
        missing = _call(op, url, unit, headers, "missing")
        assert (response.status_code, response.json()) == (missing.status_code, missing.json()), (
            f"{persona} {op.method} {url}: the 422 for objects of {unit.code} differs from the "
            f"one for objects that do not exist ({_shown(missing)})"
        )
    else:
        assert response.status_code in (403, 404), (
            f"{persona} {op.method} {url} {_json_body(op, unit)}: got {_shown(response)}"
        )
    assert _snapshot(objects) == before


@pytest.mark.parametrize("op", [o for o in OPERATIONS if not o.writes], ids=_op_id)
def test_a_read_only_api_user_may_read(world: World, op: Operation) -> None:
    values, _objects = _fill(op.params, world.unit1, _op_id(op))
    url = op.url(values)
    user = world.user(READ_ONLY[0])

    response = _call(op, url, world.unit1, _token(user))

    assert response.status_code == 200, f"{user} {op.method} {url}: got {_shown(response)}"


@pytest.mark.parametrize("op", WRITES, ids=_op_id)
@pytest.mark.parametrize("kind", ["full", "required"])
def test_a_read_only_api_user_may_not_write_whatever_the_body(
    world: World, op: Operation, kind: BodyKind
) -> None:
    """403 before any check of the body's content: a read-only role learns nothing from
    validation messages. (Only the schema's own 422, for a missing or mistyped property,
    comes first; the bodies sent here are schema-valid.)"""
    values, objects = _fill(op.params, world.unit1, _op_id(op))
    url = op.url(values)
    user = world.user(READ_ONLY[0])
    headers = _token(user)
    before = _snapshot(objects)

    response = _call(op, url, world.unit1, headers, kind)

    assert response.status_code == 403, (
        f"{user} {op.method} {url} {_json_body(op, world.unit1, kind)}: expected 403, "
        f"got {_shown(response)}"
    )
    assert _snapshot(objects) == before


@pytest.mark.parametrize("op", [o for o in OPERATIONS if not o.writes], ids=_op_id)
def test_an_api_owner_may_read(world: World, op: Operation) -> None:
    values, _objects = _fill(op.params, world.unit1, _op_id(op))
    url = op.url(values)
    headers = _token(world.user("head1"))

    response = Client().get(url, **headers)

    assert response.status_code == 200, f"head1 GET {url}: got {_shown(response)}"
