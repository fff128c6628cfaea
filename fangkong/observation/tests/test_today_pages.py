"""The grid worker's today list (a card per person under observation, with quick forms) and
the list of needs, through Django's test client, with their query budgets."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from fangkong.core.testing import World, build_world
from fangkong.core.testing import english_client as _client
from fangkong.observation import services
from fangkong.observation.models import FollowUpVisit, Need, ObservationEpisode, TemperatureReading
from fangkong.org import services as org_services

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2020, 2, 6, 9, 30, tzinfo=TZ)
HTMX = {"HTTP_HX_REQUEST": "true"}
TODAY = "/observation/today/"
NEEDS = "/observation/needs/"
BUDGETS = {TODAY: 8, NEEDS: 5}


@pytest.fixture(autouse=True)
def _frozen_time() -> Iterator[None]:
    """Today is 2020-02-06, 09:30 in Beijing: the morning check window is open."""
    with time_machine.travel(NOW, tick=False), translation.override("en"):
        yield


@pytest.fixture
def world(db: None) -> World:
    return build_world(observation=True)


def _card(html: str, episode: ObservationEpisode) -> str:
    start = html.index(f'id="card-{episode.pk}"')
    end = html.find("</article>", start)
    return html[start:end]


def _value(card: str, slot: str) -> str:
    match = re.search(rf'<div class="fs-4 lh-sm {slot}">(.*?)</div>', card, re.S)
    assert match is not None
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def _key(card: str, form_class: str) -> str:
    start = card.index(f'class="{form_class}')
    match = re.search(r'name="idempotency_key" value="([0-9a-f]{64})"', card[start:])
    assert match is not None
    return match.group(1)


# ---------------------------------------------------------------------------------------------
# The cards


def test_each_card_shows_today_s_checks_the_visit_and_a_fever(world: World) -> None:
    at = dt.datetime(2020, 2, 6, 8, 0, tzinfo=TZ)
    services.record_reading(actor=None, episode=world.episode1, value="36.7", taken_at=at)
    services.record_reading(actor=None, episode=world.episode2, value="37.6", taken_at=at)
    services.record_visit(actor=None, episode=world.episode2, mode="phone", visited_at=at)

    html = _client(world, "office").get(TODAY).content.decode()

    assert re.search(r'id="result-count">2 persons under observation<', html)
    first = _card(html, world.episode1)
    assert 'data-fever="no" data-visited="no"' in first
    assert (_value(first, "morning"), _value(first, "afternoon")) == ("36.7", "—")
    assert '<span class="badge text-bg-warning">Not yet</span>' in first
    assert '<div class="day-of">day 5 of 14</div>' in first
    assert "quick-visit" in first
    second = _card(html, world.episode2)
    assert (
        f'<article class="card mb-3 today-card border-danger border-2 fever-card" '
        f'id="card-{world.episode2.pk}"'
    ) in html
    assert f'<article class="card mb-3 today-card" id="card-{world.episode1.pk}"' in html
    assert 'data-fever="yes" data-visited="yes"' in second
    assert '<span class="fw-bold text-danger fever">37.6</span>' in second
    assert '<span class="badge text-bg-success">Done</span>' in second
    assert "quick-visit" not in second  # visited today: nothing left to press
    assert '<div class="day-of">day 4 of 14</div>' in second


def test_the_current_check_window_is_marked(world: World) -> None:
    morning = _client(world, "worker11").get(TODAY).content.decode()
    with time_machine.travel(dt.datetime(2020, 2, 6, 15, 0, tzinfo=TZ), tick=False):
        afternoon = _client(world, "worker11").get(TODAY).content.decode()
    with time_machine.travel(dt.datetime(2020, 2, 6, 12, 0, tzinfo=TZ), tick=False):
        noon = _client(world, "worker11").get(TODAY).content.decode()

    assert "Morning check now</span> 06:00–10:00" in morning
    assert "slot-morning border-primary border-2 current-window" in morning
    assert "Afternoon check now</span> 14:00–18:00" in afternoon
    assert "slot-afternoon border-primary border-2 current-window" in afternoon
    assert "Between check windows" in noon and "border-2 current-window" not in noon


def test_a_grid_worker_sees_their_grid_and_an_auditor_sees_no_forms(world: World) -> None:
    worker = _client(world, "worker11").get(TODAY).content.decode()
    auditor = _client(world, "auditor1").get(TODAY).content.decode()

    assert "张小明" in worker and "王立新" not in worker
    assert "quick-reading" in worker
    assert "张小明" in auditor and "quick-reading" not in auditor and "quick-visit" not in auditor


def test_the_list_is_searched_by_name(world: World) -> None:
    html = _client(world, "office").get(TODAY + "?q=王立").content.decode()

    assert f'id="card-{world.episode2.pk}"' in html
    assert f'id="card-{world.episode1.pk}"' not in html


def test_a_quick_temperature_updates_the_card_in_place(world: World) -> None:
    client = _client(world, "worker11")
    key = _key(_card(client.get(TODAY).content.decode(), world.episode1), "mb-2 quick-reading")

    response = client.post(
        f"/observation/{world.episode1.pk}/readings/",
        {"card": "1", "value": "38.2", "idempotency_key": key},
        **HTMX,
    )
    again = client.post(
        f"/observation/{world.episode1.pk}/readings/",
        {"card": "1", "value": "38.2", "idempotency_key": key},
        **HTMX,
    )

    reading = TemperatureReading.objects.get(idempotency_key=key)
    assert (reading.value, reading.slot, reading.taken_at) == (Decimal("38.2"), "morning", NOW)
    html = response.content.decode()
    assert html.lstrip().startswith("<article")
    card = _card(html, world.episode1)
    assert 'data-fever="yes"' in card
    assert _value(card, "morning") == "38.2"
    assert "Fever: 38.2 °C recorded at 09:30. An alert is raised." in card
    assert "Already recorded: 38.2 °C at 09:30." in again.content.decode()
    assert TemperatureReading.objects.filter(episode=world.episode1, day="2020-02-06").count() == 1


def test_a_wrong_quick_temperature_is_refused_on_the_card(world: World) -> None:
    response = _client(world, "worker11").post(
        f"/observation/{world.episode1.pk}/readings/",
        {"card": "1", "value": "33", "idempotency_key": "q-33"},
        **HTMX,
    )

    card = _card(response.content.decode(), world.episode1)
    assert (
        f'<div class="invalid-feedback d-block" id="card{world.episode1.pk}r_value_error">33 °C '
        "is not a body temperature: enter a reading between 34.0 and 43.0 °C, e.g. 36.5.</div>"
    ) in card
    assert 'value="33"' in card
    assert not TemperatureReading.objects.filter(idempotency_key="q-33").exists()


def test_visit_done_from_a_card_records_the_visit_by_the_user(world: World) -> None:
    client = _client(world, "worker11")
    key = _key(_card(client.get(TODAY).content.decode(), world.episode1), "quick-visit")

    response = client.post(
        f"/observation/{world.episode1.pk}/visits/",
        {"card": "1", "mode": "wechat", "findings": "", "idempotency_key": key},
        **HTMX,
    )

    visit = FollowUpVisit.objects.get(idempotency_key=key)
    assert (visit.mode, visit.visitor, visit.day) == (
        "wechat",
        world.user("worker11"),
        dt.date(2020, 2, 6),
    )
    assert visit.visitor_name == "worker11"
    card = _card(response.content.decode(), world.episode1)
    assert 'data-visited="yes"' in card
    assert "Visit (WeChat) recorded at 09:30." in card


def test_without_script_a_quick_form_returns_to_the_card(world: World) -> None:
    response = _client(world, "worker11").post(
        f"/observation/{world.episode1.pk}/readings/", {"card": "1", "value": "36.4"}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/observation/today/#card-{world.episode1.pk}"


def test_two_temperatures_and_a_visit_are_three_posts(world: World) -> None:
    """What a grid worker does on the phone, morning and afternoon: three taps on a card."""
    client = _client(world, "worker11")
    url = f"/observation/{world.episode1.pk}/"

    client.post(url + "readings/", {"card": "1", "value": "36.6"}, **HTMX)
    client.post(url + "visits/", {"card": "1", "mode": "phone"}, **HTMX)
    with time_machine.travel(dt.datetime(2020, 2, 6, 15, 0, tzinfo=TZ), tick=False):
        client = _client(world, "worker11")  # a new session: the morning one has gone idle
        client.post(url + "readings/", {"card": "1", "value": "36.9"}, **HTMX)
        card = _card(client.get(TODAY).content.decode(), world.episode1)

    assert (_value(card, "morning"), _value(card, "afternoon")) == ("36.6", "36.9")
    assert 'data-visited="yes"' in card


# ---------------------------------------------------------------------------------------------
# Needs


def test_the_needs_list_shows_the_unresolved_needs_in_scope(world: World) -> None:
    need1 = Need.objects.get(episode=world.episode1)
    need2 = Need.objects.get(episode=world.episode2)
    services.update_need(actor=None, need=need2, status="resolved", resolution="已送")

    office = _client(world, "office").get(NEEDS).content.decode()
    head2 = _client(world, "head2").get(NEEDS).content.decode()
    resolved = _client(world, "office").get(NEEDS + "?status=resolved").content.decode()

    assert f'id="need-{need1.pk}"' in office and f'id="need-{need2.pk}"' not in office
    assert "1 need" in office and "张小明" in office
    assert f'id="need-{need1.pk}"' not in head2 and "0 needs" in head2
    assert f'id="need-{need2.pk}"' in resolved and "已送" in resolved


def test_an_auditor_sees_the_needs_without_actions(world: World) -> None:
    html = _client(world, "auditor1").get(NEEDS).content.decode()

    assert "大米、食用油" in html
    assert "take-on" not in html and 'class="flex-grow-1 resolve"' not in html


# ---------------------------------------------------------------------------------------------
# Query budgets


def _more_episodes(world: World, count: int) -> None:
    """``count`` more people under observation in LZ-01-01, each with a reading today and
    an open need."""
    entries = []
    for i in range(count):
        person = org_services.create_person(actor=None, name=f"观察{i}", grid=world.grid11).person
        entries.append(
            services.EpisodeStart(
                person=person,
                reason="contact",
                counts_from=dt.date(2020, 2, 4),
                counts_from_kind="last_contact",
            )
        )
    for episode in services.start_episodes(actor=None, entries=entries):
        services.record_reading(actor=None, episode=episode, value="36.5")
        services.raise_need(actor=None, episode=episode, kind="supplies", description="蔬菜")


def _measure(client: Client, url: str) -> tuple[int, int]:
    client.get(url)  # warm up: the session's first write, translations, caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), len(response.content)


@pytest.mark.parametrize("url", [TODAY, NEEDS])
def test_a_list_costs_the_same_queries_for_more_rows(world: World, url: str) -> None:
    client = _client(world, "head1")

    few, few_size = _measure(client, url)
    _more_episodes(world, 25)
    many, many_size = _measure(client, url)

    assert many_size > few_size
    assert many == few, f"{url}: {few} queries for 1 row, {many} for 26"
    assert many <= BUDGETS[url], f"{url}: {many} queries, budget {BUDGETS[url]}"
