"""The screening ledger (排查台账) and its Excel export, one screening result, and the
person page's screening section with the close-contact graph."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from fangkong.core import viewkit
from fangkong.core.health import symptom_labels
from fangkong.core.permissions import Perm
from fangkong.core.scoping import get_scoped_or_404, has_perm, may, restrict, scope_for
from fangkong.core.viewkit import (
    AuthedRequest,
    paginate,
    query_without_page,
    render_page,
    requires,
)
from fangkong.org.models import Person
from fangkong.org.selectors import audit_trail

from . import exports, selectors
from .forms_ledger import LedgerFilterForm
from .models import ContactKind, Screening
from .rules import describe

LEDGER_PAGE_SIZE = 50
# The ledger counts its rows up to this many; beyond, it says "more than 10,000".
LEDGER_COUNT_CAP = 10_000
PERSON_SCREENINGS = 20  # results shown on the person page


def reverse_or_none(name: str, *args: Any) -> str | None:
    """The URL of ``name``, or None while no page has that name (yet)."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _annotate(screenings: list[Screening], user: Any) -> None:
    """What the templates show of each result beyond its fields: the reasons in words and
    the contact's name (a contact in the register outside the user's scope is not named)."""
    scope = scope_for(user, Perm.REGISTER_VIEW)
    for s in screenings:
        s.reason_lines = [describe(r) for r in s.reasons or ()]  # type: ignore[attr-defined]
        s.contact_label = _contact_label(s, scope)  # type: ignore[attr-defined]
        s.symptom_text = symptom_labels(s.symptoms or [])  # type: ignore[attr-defined]


def _contact_label(s: Screening, scope: Any) -> str:
    if s.contact_name:
        return s.contact_name
    if s.contact_person_id is None:
        return ""
    person = s.contact_person
    if person is not None and scope.covers(person.grid):
        return person.name
    return str(exports.OTHER_UNIT)


def ledger_filters(data: QueryDict, user: Any) -> tuple[LedgerFilterForm, selectors.LedgerFilters]:
    """The ledger's filters read from ``data`` as the page reads them (invalid filters are
    ignored), so that an export holds the rows the page shows."""
    form = LedgerFilterForm(data or None, user=user)
    return form, form.filters()


@require_GET
@requires(Perm.SCREENING_VIEW)
def ledger(request: AuthedRequest) -> HttpResponse:
    form, filters = ledger_filters(request.GET, request.user)
    screenings = selectors.screenings_for(request.user, filters).select_related(
        "contact_person__grid"
    )
    page = paginate(request, screenings, LEDGER_PAGE_SIZE, count_cap=LEDGER_COUNT_CAP)
    page.object_list = list(page.object_list)
    _annotate(page.object_list, request.user)
    return render_page(
        request,
        "screening/ledger.html",
        {
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "may_reveal": has_perm(request.user, Perm.PII_REVEAL),
        },
        partial="results",
    )


@require_http_methods(["GET", "POST"])
@requires(Perm.SCREENING_VIEW)
def ledger_export(request: AuthedRequest) -> HttpResponseBase:
    """The ledger as an Excel file: masked, or with full numbers after a confirmation
    (see :func:`fangkong.core.viewkit.ledger_export`)."""
    return viewkit.ledger_export(
        request,
        read_filters=ledger_filters,
        rows=selectors.screenings_for,
        write=exports.export_screening_ledger,
        filename=exports.ledger_filename(),
        confirm_template="screening/ledger_export_confirm.html",
    )


@require_GET
@requires(Perm.SCREENING_VIEW)
def screening_detail(request: AuthedRequest, screening_id: int) -> HttpResponse:
    screening = get_scoped_or_404(
        Screening.objects.select_related(
            "person",
            "person__household",
            "grid",
            "grid__parent",
            "household",
            "campaign",
            "from_region__parent__parent",
            "screened_by",
            "contact_person__grid",
        ),
        request.user,
        screening_id,
    )
    _annotate([screening], request.user)
    may_audit = may(request.user, Perm.AUDIT_VIEW, screening)
    context: dict[str, Any] = {
        "s": screening,
        "campaign_url": (
            reverse_or_none("screening:campaign_detail", screening.campaign_id)
            if screening.campaign_id
            else None
        ),
        "may_audit": may_audit,
        "contact_visible": screening.contact_person is not None
        and scope_for(request.user, Perm.REGISTER_VIEW).covers(screening.contact_person.grid),
    }
    if may_audit:
        context["audit"] = audit_trail(screening, masked={})
    return render(request, "screening/screening_detail.html", context)


@require_GET
@requires(Perm.SCREENING_VIEW)
def person_screenings(request: AuthedRequest, person_id: int) -> HttpResponse:
    """The screening section of the person page (loaded by htmx): the person's results,
    latest first, and the close-contact graph around them."""
    person = (
        restrict(Person.objects.all(), request.user, Perm.SCREENING_VIEW)
        .filter(pk=person_id)
        .first()
    )
    if person is None:
        raise Http404
    screenings = list(
        restrict(selectors.screenings_of_person(person), request.user)[:PERSON_SCREENINGS]
    )
    _annotate(screenings, request.user)
    graph = selectors.contact_graph(person, request.user)
    return render(
        request,
        "screening/person_screenings.html",
        {
            "person": person,
            "screenings": screenings,
            "graph": graph,
            "drawing": draw_contact_graph(graph),
            "links": contact_list(graph),
        },
    )


# ---------------------------------------------------------------------------------------------
# The close-contact graph, drawn on the server as SVG


SIZE = 460  # the drawing's width and height (viewBox units)
NODE_RADIUS = 16
INNER_RING = 105
OUTER_RING = 190
MAX_LABEL = 8  # characters


@dataclass
class DrawnNode:
    key: str
    label: str
    url: str | None
    depth: int
    visible: bool
    x: float
    y: float

    @property
    def label_y(self) -> float:
        return self.y + NODE_RADIUS + 13


@dataclass
class DrawnEdge:
    x1: float
    y1: float
    x2: float
    y2: float
    title: str


@dataclass
class Drawing:
    size: int
    nodes: list[DrawnNode]
    edges: list[DrawnEdge]
    radius: int = NODE_RADIUS


def _shown_nodes(graph: selectors.ContactGraph) -> dict[str, selectors.ContactNode]:
    return {n.key: n for n in graph.nodes}


def _label(node: selectors.ContactNode) -> str:
    if not node.visible:
        return str(exports.OTHER_UNIT)
    name = node.label
    return name if len(name) <= MAX_LABEL else name[: MAX_LABEL - 1] + "…"


def _url(node: selectors.ContactNode) -> str | None:
    if node.visible and node.person_id is not None:
        return reverse("org:person_detail", kwargs={"person_id": node.person_id})
    return None


def _edge_title(kind: str, last_contact: Any) -> str:
    label = str(ContactKind(kind).label) if kind in ContactKind.values else kind
    when = last_contact.isoformat() if last_contact else _("date unknown")
    return f"{label} · {when}"


def draw_contact_graph(graph: selectors.ContactGraph) -> Drawing | None:
    """Positions for the graph: the person in the centre, their direct contacts on an inner
    ring, the contacts of those on an outer ring next to whom they are linked to; arrows
    from who was met to who met them. None when the person has no contact."""
    nodes = _shown_nodes(graph)
    if len(nodes) <= 1:
        return None
    centre = SIZE / 2
    by_depth: dict[int, list[selectors.ContactNode]] = {}
    for node in nodes.values():
        by_depth.setdefault(min(node.depth, 2), []).append(node)
    angles: dict[str, float] = {}
    for node in by_depth.get(0, []):
        angles[node.key] = 0.0
    inner = by_depth.get(1, [])
    for index, node in enumerate(inner):
        angles[node.key] = 2 * math.pi * index / len(inner) - math.pi / 2
    outer = by_depth.get(2, [])
    if outer:
        # Each outer contact on an arc around the inner contact it hangs on (the step between
        # neighbours shrinks as there are more of them, so that they all fit on the ring).
        hangs_on: dict[str, float] = {}
        for edge in graph.edges:
            for here, there in ((edge.source, edge.target), (edge.target, edge.source)):
                if here in nodes and nodes[here].depth >= 2 and nodes.get(there) in inner:
                    hangs_on.setdefault(here, angles[there])
        step = min(2 * math.pi / len(outer), math.pi / 6)
        groups: dict[float, list[selectors.ContactNode]] = {}
        for node in sorted(outer, key=lambda n: n.key):
            groups.setdefault(hangs_on.get(node.key, math.pi / 2), []).append(node)
        for angle, group in groups.items():
            for index, node in enumerate(group):
                angles[node.key] = angle + (index - (len(group) - 1) / 2) * step
    radius = {0: 0, 1: INNER_RING, 2: OUTER_RING}
    drawn: dict[str, DrawnNode] = {}
    for node in nodes.values():
        ring = radius[min(node.depth, 2)]
        angle = angles[node.key]
        drawn[node.key] = DrawnNode(
            key=node.key,
            label=_label(node),
            url=_url(node),
            depth=node.depth,
            visible=node.visible,
            x=round(centre + ring * math.cos(angle), 1),
            y=round(centre + ring * math.sin(angle), 1),
        )
    edges = []
    for edge in graph.edges:
        start, end = drawn.get(edge.source), drawn.get(edge.target)
        if start is None or end is None:
            continue
        dx, dy = end.x - start.x, end.y - start.y
        length = math.hypot(dx, dy) or 1.0
        ux, uy = dx / length, dy / length
        gap = NODE_RADIUS + 2
        edges.append(
            DrawnEdge(
                x1=round(start.x + ux * gap, 1),
                y1=round(start.y + uy * gap, 1),
                x2=round(end.x - ux * (gap + 4), 1),
                y2=round(end.y - uy * (gap + 4), 1),
                title=_edge_title(edge.kind, edge.last_contact),
            )
        )
    return Drawing(size=SIZE, nodes=list(drawn.values()), edges=edges)


@dataclass
class ContactLine:
    """One link of the graph in words: ``target`` met ``source``."""

    source: str
    source_url: str | None
    target: str
    target_url: str | None
    kind: str
    last_contact: Any


def contact_list(graph: selectors.ContactGraph) -> list[ContactLine]:
    nodes = _shown_nodes(graph)
    lines = []
    for edge in graph.edges:
        source, target = nodes.get(edge.source), nodes.get(edge.target)
        if source is None or target is None:
            continue
        lines.append(
            ContactLine(
                source=str(exports.OTHER_UNIT) if not source.visible else source.label,
                source_url=_url(source),
                target=str(exports.OTHER_UNIT) if not target.visible else target.label,
                target_url=_url(target),
                kind=str(ContactKind(edge.kind).label) if edge.kind in ContactKind.values else "",
                last_contact=edge.last_contact,
            )
        )
    return lines
