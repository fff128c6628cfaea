"""The alerts pages through Django's test client: the inbox of each scope with its filters
and counts, acknowledging and resolving in place (htmx) and without script, one alert with
its history, the escalation rules, the home page figures, and the query budgets."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.alerts import services
from fangkong.alerts.models import Alert, AlertKind, AlertLevel, AlertRules
from fangkong.core.testing import World, build_world
from fangkong.core.testing import english_client as client_of
from fangkong.org.models import OrgUnit, Person

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2020, 2, 5, 10, 30, tzinfo=SHANGHAI)
INBOX = "/alerts/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _frozen_time() -> Iterator[Any]:
    """Today is 2020-02-05, 10:30 in Beijing: both episodes of the world are running."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def oworld(db: None) -> World:
    """The world with its episodes: a fever alert of 王立新 in LZ-02-01 (raised 2020-02-04
    08:30), nothing in LZ-01 yet."""
    return build_world(observation=True)


def raise_alert(
    world: World,
    key: str,
    *,
    kind: str = AlertKind.MISSED_CHECK,
    grid: OrgUnit | None = None,
    person: Person | None = None,
    raised: dt.datetime | None = None,
    summary: str = "",
) -> Alert:
    person = person or world.person11b
    alert, _created = services.raise_alert(
        kind=kind,
        key=key,
        unit=grid or person.grid,
        person=person,
        summary=summary or f"{person.name}: {key}",
        at=raised or at(2020, 2, 5, 10, 0),
        url=f"/observation/{world.episode1.pk}/" if world.episode1 else "",
        object_type="observation.episode",
        object_id=world.episode1.pk if world.episode1 else None,
    )
    return alert


def text(response: Any) -> str:
    """The page's text without tags, spaces collapsed."""
    html = response.content.decode()
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def listed(response: Any) -> list[str]:
    """The summaries of the alerts listed, in order."""
    return re.findall(
        r'class="fw-semibold d-block text-break mt-1 summary" href="[^"]*">([^<]*)<',
        response.content.decode(),
    )


def row(response: Any, alert: Alert) -> str:
    html = response.content.decode()
    start = html.index(f'<li id="alert-{alert.pk}"')
    end = html.find("</li>", start)
    return html[start:end]


def history(response: Any) -> list[str]:
    """The rows of the alert's history table, cells joined with " | "."""
    html = response.content.decode()
    table = html[html.index('id="history"') : html.index("</table>", html.index('id="history"'))]
    body = table[table.index("<tbody>") :]
    return [
        " | ".join(
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S)
        )
        for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def count(response: Any, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">([^<]*)<', response.content.decode())
    assert match is not None, f"no #{element_id} in the page"
    return match.group(1).strip()


def kind_count(response: Any, kind: str) -> str:
    match = re.search(
        rf'id="count-{kind}">[^<]*<span class="badge text-bg-light">(\d+)<',
        response.content.decode(),
    )
    assert match is not None, f"no count of {kind}"
    return match.group(1)


@pytest.fixture
def three(oworld: World, _frozen_time: Any) -> dict[str, Alert]:
    """In LZ-01-01 (张小明): an open missed check (09:00), an acknowledged fever (09:30) and
    a resolved missed visit (08:00); in LZ-01-02 (李秀英) an open unanswered need (10:00)."""
    alerts = {
        "open": raise_alert(oworld, "missed-check", raised=at(2020, 2, 5, 9, 0)),
        "acknowledged": raise_alert(
            oworld, "fever", kind=AlertKind.FEVER, raised=at(2020, 2, 5, 9, 30)
        ),
        "resolved": raise_alert(
            oworld, "missed-visit", kind=AlertKind.MISSED_VISIT, raised=at(2020, 2, 5, 8, 0)
        ),
        "other_grid": raise_alert(
            oworld,
            "need",
            kind=AlertKind.UNANSWERED_NEED,
            person=oworld.person12,
            raised=at(2020, 2, 5, 10, 0),
        ),
    }
    worker = oworld.user("worker11")
    services.acknowledge_alert(actor=worker, alert=alerts["acknowledged"], note="正在复测")
    services.resolve_alert(actor=worker, alert=alerts["resolved"], note="电话随访已补")
    for alert in alerts.values():
        alert.refresh_from_db()
    return alerts


# ---------------------------------------------------------------------------------------------
# The inbox


def test_the_inbox_lists_the_unhandled_alerts_of_the_scope_newest_first(
    oworld: World, three: dict[str, Alert]
) -> None:
    response = client_of(oworld, "head1").get(INBOX)

    assert response.status_code == 200
    assert listed(response) == ["李秀英: need", "张小明: fever", "张小明: missed-check"]
    assert count(response, "result-count") == "3 alerts"
    assert "王立新" not in text(response)  # LZ-02's fever alert is not head1's


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("open", ["李秀英: need", "张小明: missed-check"]),
        ("acknowledged", ["张小明: fever"]),
        ("resolved", ["张小明: missed-visit"]),
        ("all", ["李秀英: need", "张小明: fever", "张小明: missed-check", "张小明: missed-visit"]),
    ],
)
def test_the_status_filter(
    oworld: World, three: dict[str, Alert], status: str, expected: list[str]
) -> None:
    response = client_of(oworld, "head1").get(INBOX, {"status": status})

    assert listed(response) == expected


def test_the_counts_per_kind_follow_the_other_filters_and_a_kind_filters_the_list(
    oworld: World, three: dict[str, Alert]
) -> None:
    client = client_of(oworld, "head1")

    unhandled = client.get(INBOX)
    everything = client.get(INBOX, {"status": "all", "kind": "missed_visit"})

    # fever, symptoms, missed check, missed visit, need, missing report, and the three kinds
    # of the checkpoints and the roster
    unhandled_counts = [kind_count(unhandled, k) for k in AlertKind.values]
    assert unhandled_counts == ["1", "0", "1", "0", "1", "0", "0", "0", "0"]
    assert count(unhandled, "count-all").startswith("All")
    everything_counts = [kind_count(everything, k) for k in AlertKind.values]
    assert everything_counts == ["1", "0", "1", "1", "1", "0", "0", "0", "0"]
    assert listed(everything) == ["张小明: missed-visit"]
    assert count(everything, "result-count") == "1 alert"
    assert 'href="?status=all&amp;kind=fever"' in everything.content.decode()


def test_the_level_filter_shows_the_escalated_alerts_highlighted(
    oworld: World, three: dict[str, Alert]
) -> None:
    Alert.objects.filter(pk=three["open"].pk).update(
        level=AlertLevel.OFFICE, escalated_at=at(2020, 2, 5, 10, 0)
    )
    Alert.objects.filter(pk=three["other_grid"].pk).update(
        level=AlertLevel.UNIT, escalated_at=at(2020, 2, 5, 10, 30)
    )
    client = client_of(oworld, "head1")

    escalated = client.get(INBOX, {"level": "1"})
    office = client.get(INBOX, {"level": "2"})

    assert listed(escalated) == ["李秀英: need", "张小明: missed-check"]
    assert listed(office) == ["张小明: missed-check"]
    office_row = row(escalated, three["open"])
    assert "border-danger bg-danger-subtle" in office_row
    assert "Escalated to the office" in office_row
    unit_row = row(escalated, three["other_grid"])
    assert "border-warning bg-warning-subtle" in unit_row
    assert "Escalated to the unit head" in unit_row


def test_the_unit_filter_narrows_to_a_grid(oworld: World, three: dict[str, Alert]) -> None:
    response = client_of(oworld, "head1").get(INBOX, {"unit": oworld.grid12.pk})

    assert listed(response) == ["李秀英: need"]


def test_each_scope_sees_its_own_alerts(oworld: World, three: dict[str, Alert]) -> None:
    seen = {
        name: listed(client_of(oworld, name).get(INBOX))
        for name in ("worker11", "head2", "office", "auditor1")
    }

    assert seen == {
        "worker11": ["张小明: fever", "张小明: missed-check"],
        "head2": ["王立新: 38.1 °C"],
        "office": ["李秀英: need", "张小明: fever", "张小明: missed-check", "王立新: 38.1 °C"],
        "auditor1": ["李秀英: need", "张小明: fever", "张小明: missed-check"],
    }


def test_a_row_shows_the_kind_person_grid_time_status_and_actions(
    oworld: World, three: dict[str, Alert]
) -> None:
    response = client_of(oworld, "head1").get(INBOX)

    open_row = row(response, three["open"])
    assert "Missed temperature check" in open_row
    assert f'href="/org/persons/{oworld.person11b.pk}/"' in open_row
    assert "一站一网格 · 第一作业站" in open_row
    assert "2020-02-05 09:00" in open_row
    assert ">Open<" in open_row
    assert f'hx-post="/alerts/{three["open"].pk}/acknowledge/"' in open_row
    assert f'hx-post="/alerts/{three["open"].pk}/resolve/"' in open_row
    acknowledged_row = row(response, three["acknowledged"])
    assert "acknowledge/" not in acknowledged_row  # already taken on: resolve only
    assert f'hx-post="/alerts/{three["acknowledged"].pk}/resolve/"' in acknowledged_row
    assert "正在复测" in acknowledged_row


def test_a_read_only_persona_sees_the_alerts_without_actions(
    oworld: World, three: dict[str, Alert]
) -> None:
    for name in ("leader", "auditor1"):
        response = client_of(oworld, name).get(INBOX)

        assert response.status_code == 200
        assert "hx-post" not in response.content.decode()


def test_the_inbox_is_paginated(oworld: World) -> None:
    for i in range(30):
        raise_alert(oworld, f"check-{i:02d}", raised=at(2020, 2, 5, 9, 0) - dt.timedelta(hours=i))
    client = client_of(oworld, "head1")

    first = client.get(INBOX)
    second = client.get(INBOX, {"page": 2})

    assert count(first, "result-count") == "30 alerts"
    assert len(listed(first)) == 25
    assert listed(second) == [f"张小明: check-{i:02d}" for i in range(25, 30)]
    assert "Page 2 of 2" in text(second)


def test_filtering_with_htmx_answers_the_results_only(
    oworld: World, three: dict[str, Alert]
) -> None:
    response = client_of(oworld, "head1").get(INBOX, {"status": "open"}, **HTMX)

    html = response.content.decode()
    assert '<nav class="navbar' not in html
    assert listed(response) == ["李秀英: need", "张小明: missed-check"]
    assert "HX-Request" in response.headers["Vary"]


# ---------------------------------------------------------------------------------------------
# Acknowledging and resolving in place


def test_acknowledging_in_place_with_a_note(oworld: World, three: dict[str, Alert]) -> None:
    alert = three["open"]

    response = client_of(oworld, "head1").post(
        f"/alerts/{alert.pk}/acknowledge/", {"note": "已联系网格员", "next": INBOX}, **HTMX
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith(f'<li id="alert-{alert.pk}" class="list-group-item')
    assert "Acknowledged: the alert no longer escalates." in text(response)
    assert "已联系网格员" in html
    assert "acknowledge/" not in html
    alert.refresh_from_db()
    assert (alert.status, alert.acknowledged_by, alert.acknowledged_at, alert.note) == (
        Alert.Status.ACKNOWLEDGED,
        oworld.user("head1"),
        NOW,
        "已联系网格员",
    )


def test_resolving_without_a_note_shows_the_error_in_place(
    oworld: World, three: dict[str, Alert]
) -> None:
    alert = three["open"]

    response = client_of(oworld, "head1").post(
        f"/alerts/{alert.pk}/resolve/", {"note": "  "}, **HTMX
    )

    assert response.status_code == 200
    html = row(response, alert)
    assert "Say what was done, e.g. &#x27;Called the household: 36.8 °C on re-check&#x27;." in html
    assert (
        'class="form-control is-invalid" type="text" name="note" maxlength="1000" '
        f'id="alert-{alert.pk}-resolve-note"'
    ) in html
    assert f'aria-describedby="alert-{alert.pk}-resolve-note_error"' in html
    alert.refresh_from_db()
    assert alert.status == Alert.Status.OPEN


def test_resolving_in_place_with_a_note(oworld: World, three: dict[str, Alert]) -> None:
    alert = three["acknowledged"]

    response = client_of(oworld, "worker11").post(
        f"/alerts/{alert.pk}/resolve/", {"note": "复测36.8 °C"}, **HTMX
    )

    assert "Resolved." in text(response)
    assert "hx-post" not in response.content.decode()
    alert.refresh_from_db()
    assert (alert.status, alert.resolved_by, alert.resolved_at, alert.note) == (
        Alert.Status.RESOLVED,
        oworld.user("worker11"),
        NOW,
        "复测36.8 °C",
    )
    # taken on earlier by worker11: that stays
    assert alert.acknowledged_at == NOW and alert.acknowledged_by == oworld.user("worker11")


def test_acting_on_an_alert_resolved_meanwhile_says_so_in_place(
    oworld: World, three: dict[str, Alert]
) -> None:
    alert = three["resolved"]

    response = client_of(oworld, "head1").post(
        f"/alerts/{alert.pk}/acknowledge/", {"note": ""}, **HTMX
    )

    assert "This alert is already resolved." in text(response)
    assert 'role="alert"' in row(response, alert)


def test_without_script_an_action_returns_to_the_page_it_came_from(
    oworld: World, three: dict[str, Alert]
) -> None:
    alert = three["open"]
    client = client_of(oworld, "head1")

    response = client.post(
        f"/alerts/{alert.pk}/acknowledge/", {"note": "", "next": "/alerts/?status=open"}
    )
    elsewhere = client.post(
        f"/alerts/{alert.pk}/resolve/", {"note": "已处理", "next": "https://example.com/"}
    )

    assert (response.status_code, response["Location"]) == (302, "/alerts/?status=open")
    assert (elsewhere.status_code, elsewhere["Location"]) == (302, f"/alerts/{alert.pk}/")
    alert.refresh_from_db()
    assert alert.status == Alert.Status.RESOLVED


def test_without_script_a_missing_note_shows_the_form_again_with_the_error(
    oworld: World, three: dict[str, Alert]
) -> None:
    alert = three["open"]

    response = client_of(oworld, "head1").post(f"/alerts/{alert.pk}/resolve/", {"note": ""})

    assert response.status_code == 200
    assert "Resolve the alert" in text(response)
    assert "Say what was done" in text(response)
    assert 'aria-invalid="true"' in response.content.decode()


def test_an_action_opened_as_a_link_asks_first(oworld: World, three: dict[str, Alert]) -> None:
    alert = three["open"]

    response = client_of(oworld, "head1").get(f"/alerts/{alert.pk}/acknowledge/")

    assert response.status_code == 200
    assert "Acknowledge the alert" in text(response)
    alert.refresh_from_db()
    assert alert.status == Alert.Status.OPEN


@pytest.mark.parametrize("persona", ["leader", "auditor1"])
@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_a_view_only_persona_may_not_act(
    oworld: World, three: dict[str, Alert], persona: str, action: str
) -> None:
    alert = three["open"]

    response = client_of(oworld, persona).post(
        f"/alerts/{alert.pk}/{action}/", {"note": "看过了"}, **HTMX
    )

    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.status == Alert.Status.OPEN


@pytest.mark.parametrize("action", ["", "acknowledge/", "resolve/"])
def test_an_alert_outside_the_scope_is_not_found(
    oworld: World, three: dict[str, Alert], action: str
) -> None:
    alert = three["open"]
    client = client_of(oworld, "head2")

    get = client.get(f"/alerts/{alert.pk}/{action}")
    post = client.post(f"/alerts/{alert.pk}/{action}", {"note": "越权"})

    assert (get.status_code, post.status_code) == (404, 405 if not action else 404)
    alert.refresh_from_db()
    assert alert.status == Alert.Status.OPEN


# ---------------------------------------------------------------------------------------------
# One alert


def test_the_alert_page_links_the_record_and_shows_what_happened(
    oworld: World, three: dict[str, Alert], _frozen_time: Any
) -> None:
    alert = three["open"]
    Alert.objects.filter(pk=alert.pk).update(
        level=AlertLevel.UNIT, escalated_at=at(2020, 2, 5, 10, 0)
    )
    _frozen_time.move_to(at(2020, 2, 5, 10, 35))
    services.acknowledge_alert(actor=oworld.user("head1"), alert=alert, note="已联系")
    _frozen_time.move_to(at(2020, 2, 5, 10, 40))
    services.resolve_alert(actor=oworld.user("worker11"), alert=alert, note="复测正常")

    response = client_of(oworld, "auditor1").get(f"/alerts/{alert.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="/observation/{oworld.episode1.pk}/" id="record-link"' in html
    assert f'href="/org/persons/{oworld.person11b.pk}/"' in html
    assert history(response) == [
        "2020-02-05 09:00:00 | the system | Raised | Responsible people | —",
        "2020-02-05 10:00:00 | the system | Escalated | Escalated to the unit head | —",
        "2020-02-05 10:35:00 | head1 | Acknowledged | Escalated to the unit head | 已联系",
        "2020-02-05 10:40:00 | worker11 | Resolved | Escalated to the unit head | 复测正常",
    ]
    assert 'id="actions"' not in html


def test_the_alert_page_offers_the_actions_to_those_who_may_handle_it(
    oworld: World, three: dict[str, Alert]
) -> None:
    alert = three["open"]

    handler = client_of(oworld, "worker11").get(f"/alerts/{alert.pk}/")
    viewer = client_of(oworld, "leader").get(f"/alerts/{alert.pk}/")

    assert f'action="/alerts/{alert.pk}/acknowledge/"' in handler.content.decode()
    assert f'action="/alerts/{alert.pk}/resolve/"' in handler.content.decode()
    assert 'id="actions"' not in viewer.content.decode()


def test_an_alert_raised_by_a_job_has_its_raising_in_the_history(
    oworld: World, _frozen_time: Any
) -> None:
    """The jobs insert alerts in bulk (no audit record of their own)."""
    from fangkong.observation.services import find_missed_checks

    find_missed_checks(now=at(2020, 2, 5, 10, 0), since=at(2020, 2, 5, 9, 0))
    alert = Alert.objects.get(person=oworld.person11b)

    response = client_of(oworld, "head1").get(f"/alerts/{alert.pk}/")

    assert history(response) == [
        "2020-02-05 10:00:00 | the system | Raised | — | —",
    ]
    assert "张小明: no Morning temperature on 2020-02-05" in text(response)


# ---------------------------------------------------------------------------------------------
# The escalation rules


def test_the_office_changes_the_escalation_minutes_and_the_change_is_audited(
    oworld: World,
) -> None:
    client = client_of(oworld, "office")

    shown = client.get("/alerts/settings/")
    saved = client.post(
        "/alerts/settings/",
        {"escalate_to_unit_minutes": "30", "escalate_to_office_minutes": "120"},
    )
    after = client.get("/alerts/settings/")

    assert shown.status_code == 200
    assert "goes to the unit head; after 240 minutes, to the office" in text(shown)
    assert (saved.status_code, saved["Location"]) == (302, "/alerts/settings/")
    rules = AlertRules.objects.get()
    assert (rules.escalate_to_unit_minutes, rules.escalate_to_office_minutes) == (30, 120)
    assert "Escalation rules saved." in text(after)
    assert "An alert nobody has acknowledged 30 minutes after it was raised" in text(after)
    assert "office" in text(after).split("Audit trail", 1)[1]


@pytest.mark.parametrize(
    ("unit", "office", "field", "message"),
    [
        (
            "90",
            "60",
            "escalate_to_office_minutes",
            "Escalate to the office no sooner than to the unit head.",
        ),
        ("0", "60", "escalate_to_unit_minutes", "Ensure this value is greater than or equal to 1."),
        ("", "60", "escalate_to_unit_minutes", "This field is required."),
    ],
)
def test_bad_minutes_are_refused_with_the_field_named(
    oworld: World, unit: str, office: str, field: str, message: str
) -> None:
    response = client_of(oworld, "office").post(
        "/alerts/settings/",
        {"escalate_to_unit_minutes": unit, "escalate_to_office_minutes": office},
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {field: [message]}
    assert not AlertRules.objects.exists()


@pytest.mark.parametrize("persona", ["head1", "worker11", "leader"])
def test_only_the_office_sets_the_escalation_rules(oworld: World, persona: str) -> None:
    client = client_of(oworld, persona)

    get = client.get("/alerts/settings/")
    post = client.post(
        "/alerts/settings/", {"escalate_to_unit_minutes": "5", "escalate_to_office_minutes": "10"}
    )

    assert (get.status_code, post.status_code) == (403, 403)
    assert not AlertRules.objects.exists()


# ---------------------------------------------------------------------------------------------
# The home page


def test_the_home_page_counts_the_alerts_and_observation_of_the_scope(
    oworld: World, three: dict[str, Alert]
) -> None:
    Alert.objects.filter(pk=three["other_grid"].pk).update(level=AlertLevel.UNIT)

    head1 = client_of(oworld, "head1").get("/")
    head2 = client_of(oworld, "head2").get("/")

    figures = [
        "count-alerts-open",
        "count-alerts-acknowledged",
        "count-alerts-escalated",
        "count-observation",
        "count-episodes-due",
        "count-fevers-today",
    ]
    assert [count(head1, f) for f in figures] == ["2", "1", "1", "1", "0", "0"]
    assert [count(head2, f) for f in figures] == ["1", "0", "0", "1", "0", "0"]
    html = head1.content.decode()
    assert 'href="/alerts/?status=open"' in html
    assert 'href="/alerts/?status=acknowledged"' in html
    assert 'href="/alerts/?status=open&amp;level=1"' in html
    for query in ("due_today=on", "fever_today=on"):
        assert f'href="/observation/?{query}"' in html


def test_the_home_page_shows_no_alert_figures_to_a_role_without_them(oworld: World) -> None:
    response = client_of(oworld, "gate1").get("/")

    assert response.status_code == 200
    assert 'id="to-handle"' not in response.content.decode()


# ---------------------------------------------------------------------------------------------
# Query budgets

# Queries per request: session, user, role assignments; then the filter's units, the counts
# per kind (which give the page's count), the page of alerts with their units, parents and
# persons.
INBOX_BUDGET = 6


def _queries(client: Any, url: str) -> tuple[int, int]:
    client.get(url)  # warm up: the session's first write, translations
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), len(response.content)


def _more_alerts(world: World, total: int) -> None:
    have = Alert.objects.filter(unit=world.grid11).count()
    persons = [world.person11, world.person11b]
    for i in range(have, total):
        raise_alert(
            world,
            f"budget-{i}",
            kind=AlertKind.values[i % len(AlertKind.values)],
            person=persons[i % 2],
            raised=at(2020, 2, 5, 9, 0) - dt.timedelta(minutes=i),
        )
    Alert.objects.filter(key__startswith="budget-").update(level=AlertLevel.UNIT)


@pytest.mark.parametrize("url", [INBOX, f"{INBOX}?status=all&kind=fever&level=1"])
def test_the_inbox_costs_the_same_queries_for_20_alerts_as_for_1(oworld: World, url: str) -> None:
    client = client_of(oworld, "head1")

    _more_alerts(oworld, 1)
    few = _queries(client, url)
    _more_alerts(oworld, 20)
    many = _queries(client, url)

    assert many[0] == few[0] <= INBOX_BUDGET
    assert many[1] > few[1]


def test_the_home_page_costs_the_same_queries_for_20_alerts_and_episodes_as_for_1(
    oworld: World,
) -> None:
    from fangkong.observation import services as observation
    from fangkong.org import services as org_services
    from fangkong.org.tests.test_query_budgets import BUDGETS

    client = client_of(oworld, "head1")
    _more_alerts(oworld, 1)
    few = _queries(client, "/")
    _more_alerts(oworld, 20)
    for i in range(19):
        person = org_services.create_person(actor=None, name=f"观察{i}", grid=oworld.grid11).person
        observation.start_episode(
            actor=None,
            entry=observation.EpisodeStart(
                person=person,
                reason="contact",
                counts_from=dt.date(2020, 2, 3),
                counts_from_kind="last_contact",
            ),
        )
    many = _queries(client, "/")

    assert many[0] == few[0] <= BUDGETS["/"]
