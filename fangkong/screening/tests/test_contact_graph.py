"""The close-contact graph on the person page: two steps around the person, drawn as SVG on
the server, people outside the user's scope unnamed, and the same links as a list."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from fangkong.core.testing import World
from fangkong.screening import selectors
from fangkong.screening.models import ContactLink
from fangkong.screening.views_ledger import draw_contact_graph


def _client(world: World, username: str) -> Client:
    client = Client(headers={"accept-language": "en"})
    client.force_login(world.user(username))
    return client


@pytest.fixture
def chain(world: World) -> World:
    """person11b met person11 (the world's link); person11 met 王立新 (person21, LZ-02) and
    a visitor known by name; 王立新 met someone named 赵某 (recorded in LZ-02)."""
    ContactLink.objects.create(
        person=world.person11, source=world.person21, kind="case", last_contact=dt.date(2020, 2, 1)
    )
    ContactLink.objects.create(person=world.person11, source_name="外地访客", kind="fever")
    ContactLink.objects.create(person=world.person21, source_name="赵某", kind="case")
    return world


def test_the_graph_reaches_two_steps_and_hides_who_is_outside_the_scope(chain: World) -> None:
    world = chain

    graph = selectors.contact_graph(world.person11b, world.user("head1"))

    by_key = {n.key: n for n in graph.nodes}
    assert (by_key[f"p{world.person11b.pk}"].depth, by_key[f"p{world.person11.pk}"].depth) == (0, 1)
    outsider = by_key[f"p{world.person21.pk}"]
    assert (outsider.depth, outsider.visible, outsider.label) == (2, False, "")
    visitor = next(n for n in graph.nodes if n.person_id is None)
    assert (visitor.depth, visitor.visible, visitor.label) == (2, True, "外地访客")
    edges = {(e.source, e.target, e.kind) for e in graph.edges}
    assert (f"p{world.person11.pk}", f"p{world.person11b.pk}", "risk_arrival") in edges
    assert (f"p{world.person21.pk}", f"p{world.person11.pk}", "case") in edges
    # 赵某 is three steps away: not in a graph of two.
    assert "赵某" not in [n.label for n in graph.nodes]


def test_a_name_recorded_in_another_unit_is_not_shown(chain: World) -> None:
    world = chain

    graph = selectors.contact_graph(world.person11, world.user("head1"))

    named = sorted(n.label for n in graph.nodes if n.visible)
    assert named == sorted([world.person11.name, world.person11b.name, "外地访客"])
    hidden = [n for n in graph.nodes if not n.visible]
    assert len(hidden) == 2 and all(n.label == "" for n in hidden)


def test_the_person_page_fragment_draws_the_graph(chain: World) -> None:
    world = chain

    response = _client(world, "head1").get(f"/screening/persons/{world.person11b.pk}/screenings/")
    html = response.content.decode()

    assert response.status_code == 200
    svg = html[html.index("<svg") : html.index("</svg>")]
    assert svg.count("<circle") == 4
    assert svg.count("<line") == 3
    assert "(other unit)" in svg
    assert world.person21.name not in html
    assert f'href="{world.person21.get_absolute_url()}"' not in html
    assert f'href="{world.person11.get_absolute_url()}"' in svg
    assert "<title>A confirmed or suspected case · 2020-02-01</title>" in svg
    assert 'marker-end="url(#contact-arrow)"' in svg
    # The same links in words, below.
    links = html[html.index('id="contact-links"') :]
    assert f"{world.person11b.name}</a>\n      met\n      <a" in links
    assert "(other unit)" in links and "外地访客" in links


def test_the_drawing_puts_the_person_in_the_centre_and_the_rings_around(chain: World) -> None:
    world = chain
    graph = selectors.contact_graph(world.person11b, world.user("head1"))

    drawing = draw_contact_graph(graph)

    assert drawing is not None
    centre = drawing.size / 2
    distance = {
        n.depth: round(((n.x - centre) ** 2 + (n.y - centre) ** 2) ** 0.5) for n in drawing.nodes
    }
    assert distance[0] == 0 < distance[1] < distance[2] < centre
    positions = {(n.x, n.y) for n in drawing.nodes}
    assert len(positions) == len(drawing.nodes)


def test_no_contacts_no_drawing(world: World) -> None:
    html = (
        _client(world, "head1")
        .get(f"/screening/persons/{world.person12.pk}/screenings/")
        .content.decode()
    )

    assert "<svg" not in html
    assert "No contacts recorded." in html


def test_an_outsider_sees_the_graph_from_their_side_only(chain: World) -> None:
    world = chain

    html = (
        _client(world, "head2")
        .get(f"/screening/persons/{world.person21.pk}/screenings/")
        .content.decode()
    )

    assert "赵某" in html
    for name in (world.person11.name, world.person11b.name, "外地访客"):
        assert name not in html
    assert not re.search(rf'href="/org/persons/({world.person11.pk}|{world.person11b.pk})/"', html)
