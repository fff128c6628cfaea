"""One episode's pages through Django's test client: the header and the day rows, recording
readings, visits and needs in place (htmx), the needs' take-on and resolve, the responsible
people, the self-report link and the printable notice, and who may do what."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from fangkong.alerts.models import Alert, AlertKind
from fangkong.core.masking import mask_id_number, mask_phone
from fangkong.core.testing import World, build_world
from fangkong.core.testing import english_client as _client
from fangkong.observation import services
from fangkong.observation.models import (
    CareItemKind,
    EpisodeResponsible,
    FollowUpVisit,
    Need,
    SelfReportLink,
    TemperatureReading,
)

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2020, 2, 6, 9, 30, tzinfo=TZ)
HTMX = {"HTTP_HX_REQUEST": "true"}
DETAIL_BUDGET = 16


@pytest.fixture(autouse=True)
def _frozen_time() -> Iterator[None]:
    """Today is 2020-02-06, 09:30 in Beijing: day 5 of 张小明's observation, in the morning
    check window."""
    with time_machine.travel(NOW, tick=False), translation.override("en"):
        yield


@pytest.fixture
def world(db: None) -> World:
    return build_world(observation=True)


def _url(world: World, action: str = "", episode: Any = None) -> str:
    episode = episode or world.episode1
    return f"/observation/{episode.pk}/{action}"


def _text(html: str) -> str:
    """Text without tags, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def _row(html: str, day: str) -> str:
    """The HTML of the day row of ``day`` (2020-02-04)."""
    start = html.index(f'<tr id="day-{day}"')
    return html[start : html.index("</tr>", start) + 5]


def _cell(row: str, name: str) -> str:
    match = re.search(rf'<td data-label="[^"]*" class="{name}">(.*?)</td>', row, re.S)
    assert match is not None, f"no {name} cell in {row}"
    return re.sub(r"\s+", " ", match.group(1)).strip()


def _key(html: str, form_id: str) -> str:
    start = html.index(f'id="{form_id}"')
    match = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', html[start:])
    assert match is not None
    return match.group(1)


# ---------------------------------------------------------------------------------------------
# The page


def test_the_header_shows_the_person_masked_the_period_and_the_status(world: World) -> None:
    response = _client(world, "office").get(_url(world, episode=world.episode2))

    assert response.status_code == 200
    html = response.content.decode()
    person = world.person21
    assert f'<a href="/org/persons/{person.pk}/" id="person-link">王立新</a>' in html
    assert re.search(r'id="episode-status">Under observation<', html)
    header = _text(html[html.index('id="episode-header"') : html.index('id="days"')])
    assert "reason Arrival from a risk area" in header
    assert "counted from 2020-02-02 (Arrival)" in header
    assert "period day 4 of 14 · 14天（2020）" in header
    assert "planned end 2020-02-16" in header
    assert "place 二站4排1号" in header
    assert f"ID number {mask_id_number(person.id_number)}" in header
    assert "phone 151****2222" in header
    assert person.id_number not in html and person.phone not in html
    assert "Home isolation medical observation" in _text(html[: html.index('id="episode-header"')])


def test_the_day_rows_show_a_fever_in_red_and_a_past_day_without_a_visit(world: World) -> None:
    html = _client(world, "office").get(_url(world, episode=world.episode2)).content.decode()

    fever = _row(html, "2020-02-04")
    assert 'class="day table-danger"' in fever and 'data-fever="yes"' in fever
    assert _cell(fever, "morning") == (
        '<span class="reading fw-bold text-danger fever">38.1 °C</span> '
        '<span class="text-secondary">08:30</span>'
    )
    assert _cell(fever, "afternoon") == "—"
    assert _text(_cell(fever, "visits")) == "Phone · 赵网格员 08:30 无异常"
    assert re.search(r'<td data-label="day">2</td>', fever)  # counted from the arrival 02-02

    for past in ("2020-02-03", "2020-02-05"):
        row = _row(html, past)
        assert 'data-visit="no"' in row and 'data-fever="no"' in row
        assert _cell(row, "visits") == '<span class="badge text-bg-danger no-visit">No visit</span>'
    today = _row(html, "2020-02-06")
    assert _cell(today, "visits") == (
        '<span class="badge text-bg-warning no-visit-yet">Not visited yet</span>'
    )
    assert _text(_cell(today, "needs")) == "Daily supplies: 大米、食用油"
    future = _row(html, "2020-02-07")
    assert 'data-visit="future"' in future and _cell(future, "visits") == "—"
    # One row a day from the start (02-03) to the planned end (02-16).
    assert len(re.findall(r'<tr id="day-', html)) == 14


def test_the_page_links_the_other_parts_and_hides_what_the_user_may_not_do(world: World) -> None:
    worker = _client(world, "worker11").get(_url(world)).content.decode()
    auditor = _client(world, "auditor1").get(_url(world)).content.decode()

    assert 'id="reading-form"' in worker and 'id="visit-form"' in worker
    assert f'href="/observation/{world.episode1.pk}/notice/"' in worker
    assert 'id="edit-responsible"' in worker and 'id="reissue-link"' in worker
    assert 'id="decide"' not in worker  # a grid worker does not decide
    assert 'id="audit-trail"' not in worker
    for absent in ('id="reading-form"', 'id="visit-form"', 'id="need-form"', "/notice/"):
        assert absent not in auditor
    assert 'id="self-report"' not in auditor  # the link is for those who record
    assert 'id="audit-trail"' in auditor


def test_the_page_shows_the_open_alerts_and_the_care_visits(world: World) -> None:
    html = _client(world, "office").get(_url(world, episode=world.episode2)).content.decode()

    alerts = _text(html[html.index('id="episode-alerts"') : html.index('id="reading-form"')])
    assert "Fever: 王立新: 38.1 °C · 2020-02-04 08:30" in alerts
    care = _text(_client(world, "worker11").get(_url(world)).content.decode())
    assert "2020-02-05 · 张书记、赵网格员 · 大米 10 kg “感谢组织关心”" in care


# ---------------------------------------------------------------------------------------------
# Readings


def test_a_reading_posted_twice_with_the_same_key_is_recorded_once(world: World) -> None:
    client = _client(world, "worker11")
    key = _key(client.get(_url(world)).content.decode(), "reading-form")
    body = {"value": "36.8", "taken_at": "2020-02-06T08:10", "idempotency_key": key}
    before = TemperatureReading.objects.filter(episode=world.episode1).count()

    first = client.post(_url(world, "readings/"), body, **HTMX)
    second = client.post(_url(world, "readings/"), body, **HTMX)

    assert TemperatureReading.objects.filter(episode=world.episode1).count() == before + 1
    reading = TemperatureReading.objects.get(idempotency_key=key)
    assert (reading.value, reading.slot, reading.is_fever) == (Decimal("36.8"), "morning", False)
    assert reading.taken_by == world.user("worker11")
    first_html = first.content.decode()
    assert "36.8 °C recorded at 08:10." in first_html
    # The day table is swapped out of band with the reading in today's row.
    assert '<section id="days"' in first_html and 'hx-swap-oob="true"' in first_html
    assert _cell(_row(first_html, "2020-02-06"), "morning").startswith(
        '<span class="reading">36.8 °C</span>'
    )
    assert "Already recorded: 36.8 °C at 08:10." in second.content.decode()
    # Each answer brings a fresh form with a new key for the next reading.
    assert _key(first_html, "reading-form") != key


def test_a_reading_of_43_5_is_refused_with_the_message_under_the_field(world: World) -> None:
    client = _client(world, "worker11")
    before = TemperatureReading.objects.count()

    response = client.post(
        _url(world, "readings/"), {"value": "43.5", "idempotency_key": "k-43"}, **HTMX
    )

    assert response.status_code == 200
    assert TemperatureReading.objects.count() == before
    html = response.content.decode()
    assert (
        '<div class="invalid-feedback d-block" id="id_value_error">43.5 °C is not a body '
        "temperature: enter a reading between 34.0 and 43.0 °C, e.g. 36.5.</div>"
    ) in html
    assert 'value="43.5"' in html and "is-invalid" in html
    assert 'name="idempotency_key" value="k-43"' in html  # nothing recorded: the same key
    assert "hx-swap-oob" not in html


def test_a_reading_of_exactly_37_3_raises_a_fever_alert_at_once(world: World) -> None:
    client = _client(world, "worker11")

    response = client.post(
        _url(world, "readings/"), {"value": "37.3", "idempotency_key": "k-373"}, **HTMX
    )

    reading = TemperatureReading.objects.get(idempotency_key="k-373")
    assert reading.is_fever is True
    alert = Alert.objects.get(key=f"reading:{reading.pk}")
    assert (alert.kind, alert.unit, alert.person, alert.status) == (
        AlertKind.FEVER,
        world.grid11,
        world.person11b,
        Alert.Status.OPEN,
    )
    assert alert.summary == "张小明: 37.3 °C"
    html = response.content.decode()
    assert "Fever: 37.3 °C recorded at 09:30. An alert is raised." in html
    assert 'data-fever="yes"' in _row(html, "2020-02-06")


def test_a_reading_with_symptoms_is_recorded_with_them(world: World) -> None:
    client = _client(world, "worker11")

    response = client.post(
        _url(world, "readings/"),
        {"value": "36.9", "symptoms": ["cough", "fatigue"], "idempotency_key": "k-sym"},
        **HTMX,
    )

    reading = TemperatureReading.objects.get(idempotency_key="k-sym")
    assert reading.symptoms == ["cough", "fatigue"]
    assert Alert.objects.get(key=f"reading:{reading.pk}").kind == AlertKind.SYMPTOMS
    assert _cell(_row(response.content.decode(), "2020-02-06"), "symptoms") == "Dry cough、Fatigue"


def test_without_script_a_reading_returns_to_the_page_and_an_error_is_a_page(
    world: World,
) -> None:
    client = _client(world, "worker11")

    saved = client.post(_url(world, "readings/"), {"value": "36.5", "idempotency_key": "k-p"})
    refused = client.post(_url(world, "readings/"), {"value": "abc", "idempotency_key": "k-q"})

    assert saved.status_code == 302
    assert saved["Location"] == f"/observation/{world.episode1.pk}/#days"
    assert refused.status_code == 200
    assert "Enter the temperature as a number in °C, e.g. 36.5." in refused.content.decode()
    assert '<form id="reading-form"' in refused.content.decode()


def test_a_reading_on_an_ended_episode_is_refused(world: World) -> None:
    services.decide(actor=None, episode=world.episode1, outcome="referred", note="送医院进一步检查")
    client = _client(world, "worker11")

    response = client.post(_url(world, "readings/"), {"value": "36.5"}, **HTMX)

    assert "observation has ended (Referred to hospital)" in response.content.decode()
    assert not TemperatureReading.objects.filter(episode=world.episode1, value="36.5").exists()


# ---------------------------------------------------------------------------------------------
# Visits and needs


def test_a_visit_is_recorded_with_its_need_and_both_tables_update(world: World) -> None:
    client = _client(world, "worker11")
    body = {
        "mode": "in_person",
        "visited_at": "2020-02-06T09:00",
        "visitor_name": "李网格员",
        "findings": "精神好",
        "needs": "降压药",
        "need_kind": "medicine",
        "idempotency_key": "k-visit",
    }

    first = client.post(_url(world, "visits/"), body, **HTMX)
    client.post(_url(world, "visits/"), body, **HTMX)

    visit = FollowUpVisit.objects.get(idempotency_key="k-visit")
    assert (visit.mode, visit.visitor_name, visit.findings, visit.needs) == (
        "in_person",
        "李网格员",
        "精神好",
        "降压药",
    )
    assert FollowUpVisit.objects.filter(episode=world.episode1, day="2020-02-06").count() == 1
    need = Need.objects.get(episode=world.episode1, description="降压药")
    assert (need.kind, need.status) == ("medicine", "open")
    html = first.content.decode()
    assert "Visit (In person) recorded at 09:00." in html
    row = _row(html, "2020-02-06")
    assert 'data-visit="yes"' in row
    assert _text(_cell(row, "visits")) == "In person · 李网格员 09:00 精神好"
    assert '<section id="needs"' in html and f'id="need-{need.pk}"' in html


def test_a_visit_without_a_mode_is_refused_in_place(world: World) -> None:
    response = _client(world, "worker11").post(
        _url(world, "visits/"), {"findings": "x", "idempotency_key": "k-v2"}, **HTMX
    )

    assert "Choose how the visit was made: in person, phone or WeChat." in response.content.decode()
    assert not FollowUpVisit.objects.filter(idempotency_key="k-v2").exists()


def test_a_need_is_added_from_the_page(world: World) -> None:
    response = _client(world, "worker11").post(
        _url(world, "needs/"), {"kind": "psychological", "description": "睡不好"}, **HTMX
    )

    need = Need.objects.get(description="睡不好")
    assert (need.kind, need.source, need.raised_by) == (
        "psychological",
        "staff",
        world.user("worker11"),
    )
    assert "Need recorded: 睡不好." in response.content.decode()


def test_resolving_a_need_requires_saying_what_was_done(world: World) -> None:
    need = Need.objects.get(episode=world.episode1)
    client = _client(world, "worker11")

    refused = client.post(f"/observation/needs/{need.pk}/", {"action": "resolve"}, **HTMX)
    need.refresh_from_db()
    assert need.status == Need.Status.OPEN
    assert (
        f'<div class="invalid-feedback d-block" id="need{need.pk}_resolution_error">'
        "Say what was done, e.g. &#x27;delivered 10 kg rice&#x27;.</div>"
    ) in refused.content.decode()

    resolved = client.post(
        f"/observation/needs/{need.pk}/",
        {"action": "resolve", "resolution": "送去大米10公斤"},
        **HTMX,
    )

    need.refresh_from_db()
    assert (need.status, need.resolution, need.resolved_by) == (
        Need.Status.RESOLVED,
        "送去大米10公斤",
        world.user("worker11"),
    )
    html = resolved.content.decode()
    assert html.lstrip().startswith(f'<li class="list-group-item need px-2" id="need-{need.pk}"')
    assert "Resolved: 送去大米10公斤." in html and 'class="flex-grow-1 resolve"' not in html


def test_taking_a_need_on_puts_it_in_progress_with_the_user(world: World) -> None:
    need = Need.objects.get(episode=world.episode1)

    response = _client(world, "worker11").post(
        f"/observation/needs/{need.pk}/", {"action": "take_on"}, **HTMX
    )

    need.refresh_from_db()
    assert (need.status, need.assigned_to) == (Need.Status.IN_PROGRESS, world.user("worker11"))
    html = response.content.decode()
    assert "Taken on: the need is in progress with you." in html
    assert "take-on" not in html and 'class="flex-grow-1 resolve"' in html


def test_without_script_a_need_update_returns_to_where_it_came_from(world: World) -> None:
    need = Need.objects.get(episode=world.episode1)

    response = _client(world, "worker11").post(
        f"/observation/needs/{need.pk}/",
        {"action": "take_on", "next": "/observation/needs/?status=open"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/observation/needs/?status=open"


# ---------------------------------------------------------------------------------------------
# Responsible people


def test_the_responsible_people_are_saved_one_per_role(world: World) -> None:
    client = _client(world, "worker11")
    body = {f"{role}_name": "" for role in EpisodeResponsible.Role.values}
    body |= {f"{role}_phone": "" for role in EpisodeResponsible.Role.values}
    body |= {"cadre_name": "张书记", "grid_worker_name": "赵网格员", "doctor_name": "刘医生"}
    body |= {"doctor_phone": "13900001111"}

    response = client.post(_url(world, "responsible/"), body)

    assert response.status_code == 302
    rows = {r.role: (r.name, r.phone) for r in world.episode1.responsible.all()}
    assert rows == {
        "cadre": ("张书记", ""),
        "grid_worker": ("赵网格员", ""),
        "doctor": ("刘医生", "13900001111"),
    }
    page = _text(client.get(_url(world)).content.decode())
    assert "Doctor 刘医生 · 139****1111" in page


def test_a_wrong_phone_of_a_responsible_person_is_refused_by_name(world: World) -> None:
    body = {"police_name": "王警官", "police_phone": "12345"}

    response = _client(world, "worker11").post(_url(world, "responsible/"), body)

    assert response.status_code == 200
    assert "王警官: enter an 11-digit mobile number, e.g. 13812345678." in _text(
        response.content.decode()
    )
    assert not world.episode1.responsible.exists()


# ---------------------------------------------------------------------------------------------
# The self-report link and the notice


def test_reissuing_the_link_after_confirming_makes_the_old_token_unusable(world: World) -> None:
    old = SelfReportLink.objects.get(episode=world.episode1, revoked_at__isnull=True)
    client = _client(world, "worker11")

    confirm = client.get(_url(world, "link/") + "?action=reissue")
    assert 'id="confirm-reissue"' in confirm.content.decode()
    assert 'id="confirm-revoke"' not in confirm.content.decode()
    assert services.usable_link(old.token) == old  # nothing happens before the POST

    response = client.post(_url(world, "link/"), {"action": "reissue"})

    assert response.status_code == 302
    assert response["Location"] == _url(world, "notice/")
    with pytest.raises(services.LinkRefused):
        services.usable_link(old.token)
    new = SelfReportLink.objects.get(episode=world.episode1, revoked_at__isnull=True)
    assert new.token != old.token
    assert services.usable_link(new.token) == new


def test_stopping_the_link_leaves_no_working_link(world: World) -> None:
    old = SelfReportLink.objects.get(episode=world.episode1, revoked_at__isnull=True)
    client = _client(world, "worker11")

    client.post(_url(world, "link/"), {"action": "revoke"})

    with pytest.raises(services.LinkRefused):
        services.usable_link(old.token)
    assert not SelfReportLink.objects.filter(
        episode=world.episode1, revoked_at__isnull=True
    ).exists()
    notice = client.get(_url(world, "notice/")).content.decode()
    assert 'id="no-link"' in notice and "<svg" not in notice
    assert f'href="{_url(world, "link/")}?action=reissue"' in notice


def test_a_link_post_without_an_action_asks_again(world: World) -> None:
    response = _client(world, "worker11").post(_url(world, "link/"), {})

    assert response.status_code == 200
    assert "Choose: issue a new link, or stop the link." in response.content.decode()


def test_the_notice_has_the_qr_code_and_the_live_link(world: World) -> None:
    link = SelfReportLink.objects.get(episode=world.episode2, revoked_at__isnull=True)

    response = _client(world, "head2").get(_url(world, "notice/", world.episode2))

    html = response.content.decode()
    url = f"http://testserver/r/{link.token}/"
    assert re.search(r'<svg viewBox="0 0 \d+ \d+" class="qr"><title>' + re.escape(url), html)
    assert (
        f'<div class="small text-break font-monospace mt-1" id="self-report-url">{url}</div>'
        in (html)
    )
    assert "@media print" in html
    text = _text(html)
    assert "Home isolation medical observation notice" in text
    assert "name 王立新 sex Unknown" in text or "name 王立新 sex" in text
    assert mask_phone(world.person21.phone) in text and world.person21.phone not in text
    assert "from 2020-02-03 to 2020-02-16 (inclusive)" in text
    assert (
        "in the morning between 06:00 and 10:00 and in the afternoon between 14:00 and 18:00"
        in (text)
    )
    assert "If your temperature is 37.3 °C or higher" in text


# ---------------------------------------------------------------------------------------------
# Who may do what


@pytest.mark.parametrize(
    "action", ["", "readings/", "visits/", "needs/", "responsible/", "link/", "notice/"]
)
def test_an_outsider_gets_404_for_every_page_of_the_episode(world: World, action: str) -> None:
    client = _client(world, "head2")

    assert client.get(_url(world, action)).status_code == 404
    if action not in ("", "notice/"):
        assert client.post(_url(world, action), {"value": "36.5"}).status_code == 404


def test_an_auditor_may_read_the_page_but_every_post_is_403(world: World) -> None:
    client = _client(world, "auditor1")
    need = Need.objects.get(episode=world.episode1)
    before = (TemperatureReading.objects.count(), FollowUpVisit.objects.count())

    assert client.get(_url(world)).status_code == 200
    for url, body in [
        (_url(world, "readings/"), {"value": "36.5"}),
        (_url(world, "visits/"), {"mode": "phone"}),
        (_url(world, "needs/"), {"kind": "other", "description": "x"}),
        (_url(world, "link/"), {"action": "reissue"}),
        (_url(world, "responsible/"), {"cadre_name": "x"}),
        (f"/observation/needs/{need.pk}/", {"action": "take_on"}),
    ]:
        assert client.post(url, body, **HTMX).status_code == 403, url
    assert client.get(_url(world, "notice/")).status_code == 403
    assert (TemperatureReading.objects.count(), FollowUpVisit.objects.count()) == before


def test_a_grid_worker_may_record_only_in_their_grid(world: World) -> None:
    client = _client(world, "worker11")

    assert client.get(_url(world)).status_code == 200
    assert client.get(_url(world, episode=world.episode2)).status_code == 404
    response = client.post(_url(world, "readings/", world.episode2), {"value": "36.5"}, **HTMX)
    assert response.status_code == 404


def test_the_audit_trail_shows_the_decisions_of_the_episode(world: World) -> None:
    services.change_period(
        actor=world.user("head1"),
        episode=world.episode1,
        planned_end=dt.date(2020, 2, 17),
        reason="再次接触",
    )

    html = _client(world, "head1").get(_url(world)).content.decode()

    trail = _text(html[html.index('id="audit-trail"') :])
    assert (
        "2020-02-06 09:30:00 head1 Changed isolation until: 2020-02-15 → 2020-02-17 "
        "planned end: 2020-02-15 → 2020-02-17"
    ) in trail


def test_the_page_links_the_decisions_and_the_observation_form(world: World) -> None:
    html = _client(world, "head1").get(_url(world)).content.decode()

    pk = world.episode1.pk
    assert f'href="/observation/{pk}/decide/" id="decide"' in html
    assert f'href="/observation/{pk}/period/" id="change-period"' in html
    assert f'href="/observation/{pk}/sheet/" id="sheet"' in html
    assert f'href="/observation/{pk}/sheet.xlsx" id="sheet-xlsx"' in html


def test_an_ended_episode_shows_its_end_and_no_forms(world: World) -> None:
    services.decide(actor=None, episode=world.episode1, outcome="released", note="提前解除")

    html = _client(world, "head1").get(_url(world)).content.decode()

    assert re.search(r'id="episode-status">Released<', html)
    assert "ended on 2020-02-06 · 提前解除" in _text(html)
    assert 'id="reading-form"' not in html and 'id="reissue-link"' not in html
    assert len(re.findall(r'<tr id="day-', html)) == 4  # 02-03 to the day it ended


# ---------------------------------------------------------------------------------------------
# Query budget


def _grow(world: World) -> None:
    """Readings, visits, needs and care visits on the past days of 张小明's episode."""
    episode = world.episode1
    for day in (3, 4, 5):
        for hour in (8, 15):
            services.record_reading(
                actor=None,
                episode=episode,
                value="37.5" if hour == 15 else "36.5",
                symptoms=["cough"],
                taken_at=dt.datetime(2020, 2, day, hour, 0, tzinfo=TZ),
            )
        services.record_visit(
            actor=world.user("worker11"),
            episode=episode,
            mode="phone",
            visited_at=dt.datetime(2020, 2, day, 11, 0, tzinfo=TZ),
            needs="药",
            need_kind="medicine",
        )
        services.record_care_visit(
            actor=None,
            household=world.household11,
            visited_on=dt.date(2020, 2, day),
            visitors="慰问组",
            items={k.pk: Decimal("1") for k in CareItemKind.objects.all()},
        )
    services.set_responsible(
        actor=None,
        episode=episode,
        entries=[{"role": "cadre", "name": "张书记"}, {"role": "doctor", "name": "刘医生"}],
    )


def test_the_page_costs_the_same_queries_with_more_records(world: World) -> None:
    client = _client(world, "head1")
    url = _url(world)

    def measure() -> tuple[int, int]:
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        return len(queries), len(response.content)

    few, few_size = measure()
    _grow(world)
    many, many_size = measure()

    assert many_size > few_size
    assert many == few, f"{few} queries before, {many} after"
    assert many <= DETAIL_BUDGET, f"{many} queries, budget {DETAIL_BUDGET}"
