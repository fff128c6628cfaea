"""The office's settings of the daily report through Django's test client: the indicators
(add, change the order, retire, bring back) and the rules (deadline, grid sub-reports); the
unit's form follows them; nobody else may change them."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from fangkong.core.testing import World
from fangkong.reporting import services
from fangkong.reporting.models import Indicator, ReportingRules
from fangkong.reporting.rules import current_rules

from .pagekit import at, client_of, count_queries, element, has_element, submit, text

SETTINGS = "/reporting/settings/"
INDICATOR = "/reporting/settings/indicator/"
STATE = "/reporting/settings/indicator/state/"


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[Any]:
    with time_machine.travel(at(2020, 2, 5, 10, 0), tick=False) as traveller:
        yield traveller


def form_labels(world: World) -> list[str]:
    """The numbers and texts of head1's form of today, in order."""
    page = client_of(world, "head1").get(f"/reporting/units/{world.unit1.pk}/file/")
    return re.findall(r'<label[^>]*for="id_v_\w+"[^>]*>([^<]*)</label>', page.content.decode())


def test_the_settings_list_the_indicators_in_order(oworld: World) -> None:
    response = client_of(oworld, "office").get(SETTINGS)

    assert response.status_code == 200
    codes = re.findall(r'<tr id="indicator-(\w+)"', response.content.decode())
    assert codes[:3] == ["registered", "away", "arrivals"]
    assert element(response, "indicator-fevers") == (
        "90 今日发热人数 ! fevers Count Persons with a fever reading that day in force Edit Retire"
    )
    assert element(response, "rules-now") == (
        "Each unit's report of a day is due by 13:00 that day; a report submitted later is "
        "late, none at all is missing."
    )


def test_the_office_adds_an_indicator_and_the_form_has_it(oworld: World) -> None:
    client = client_of(oworld, "office")

    shown = client.get(INDICATOR)
    done = client.post(
        INDICATOR,
        {"code": "masks", "name": "口罩库存", "kind": "count", "order": "155", "rule": ""},
        follow=True,
    )

    assert 'name="order" value="160"' in shown.content.decode()  # after the last one
    assert "Indicator 口罩库存 saved." in text(done)
    indicator = Indicator.objects.get(code="masks")
    assert (indicator.name, indicator.order, indicator.is_active) == ("口罩库存", 155, True)
    labels = form_labels(oworld)  # the numbers, then the day's work
    assert labels.index("口罩库存") == labels.index("密切接触者") + 1


def test_a_bad_code_gets_the_services_message(oworld: World) -> None:
    response = client_of(oworld, "office").post(
        INDICATOR, {"code": "Fevers!", "name": "x", "kind": "count", "order": "5", "rule": ""}
    )

    assert response.status_code == 200
    assert element(response, "id_code_error") == (
        "Use lower-case letters, digits and _ (up to 40, a letter first), e.g. fevers."
    )
    assert not Indicator.objects.filter(name="x").exists()


def test_the_order_is_changed_on_the_indicators_page(oworld: World) -> None:
    duty = Indicator.objects.get(code="duty")

    client_of(oworld, "office").post(
        f"{INDICATOR}?indicator={duty.pk}",
        {"code": "duty", "name": "值班值守", "kind": "text", "order": "5", "rule": ""},
    )

    assert form_labels(oworld)[-3:] == ["值班值守", "消毒工作", "宣传工作"]


def test_a_retired_indicator_leaves_the_form_but_stays_in_the_reports_filed_with_it(
    oworld: World,
) -> None:
    away = Indicator.objects.get(code="away")
    report = submit(oworld, "head1", oworld.unit1, dt.date(2020, 2, 5), nothing_to_report=True)
    client = client_of(oworld, "office")

    done = client.post(STATE, {"indicator": away.pk, "action": "retire"}, follow=True)

    assert "外出人数 is retired: new reports no longer have it; filed ones keep it." in text(done)
    assert "外出人数" not in form_labels(oworld)
    filed = client.get(f"/reporting/reports/{report.pk}/")
    assert element(filed, "value-away") == "外出人数 0 0 —"

    client.post(STATE, {"indicator": away.pk, "action": "reinstate"})

    assert "外出人数" in form_labels(oworld)


def test_retiring_twice_says_so(oworld: World) -> None:
    away = Indicator.objects.get(code="away")
    services.retire_indicator(actor=None, indicator=away)

    done = client_of(oworld, "office").post(
        STATE, {"indicator": away.pk, "action": "retire"}, follow=True
    )

    assert "This indicator is already retired." in text(done)


def test_the_office_changes_the_deadline_and_turns_grid_sub_reports_on(oworld: World) -> None:
    client = client_of(oworld, "office")

    done = client.post(SETTINGS, {"deadline": "10:30", "grid_reports": "on"}, follow=True)

    assert "Rules saved. They apply from now on." in text(done)
    rules = current_rules()
    assert (rules.deadline, rules.grid_reports) == (dt.time(10, 30), True)
    page = client_of(oworld, "head1").get(f"/reporting/units/{oworld.unit1.pk}/file/")
    assert element(page, "status-not-filed") == "Not filed yet. Due by 10:30."
    assert has_element(page, "grid-reports")
    assert "audit-trail" in done.content.decode()


def test_a_bad_deadline_is_refused(oworld: World) -> None:
    response = client_of(oworld, "office").post(SETTINGS, {"deadline": "25:00"})

    assert response.status_code == 200
    assert element(response, "id_deadline_error") == "Enter a valid time."
    assert not ReportingRules.objects.exists()


@pytest.mark.parametrize("username", ["head1", "leader", "auditor1"])
def test_nobody_but_the_office_changes_the_settings(oworld: World, username: str) -> None:
    client = client_of(oworld, username)
    away = Indicator.objects.get(code="away")

    responses = [
        client.get(SETTINGS),
        client.post(SETTINGS, {"deadline": "10:00"}),
        client.post(INDICATOR, {"code": "x1", "name": "x", "kind": "count", "order": "1"}),
        client.post(STATE, {"indicator": away.pk, "action": "retire"}),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403, 403]
    assert not ReportingRules.objects.exists()
    assert not Indicator.objects.filter(code="x1").exists()
    away.refresh_from_db()
    assert away.is_active


def test_an_unknown_indicator_is_404(oworld: World) -> None:
    client = client_of(oworld, "office")

    assert client.get(f"{INDICATOR}?indicator=999999").status_code == 404
    assert client.post(STATE, {"indicator": "x", "action": "retire"}).status_code == 404


def test_the_settings_page_costs_the_same_queries_for_25_indicators_as_for_15(
    oworld: World,
) -> None:
    client = client_of(oworld, "office")
    few = count_queries(client, SETTINGS)
    for i in range(10):
        services.save_indicator(actor=None, code=f"extra{i}", name=f"附加{i}", order=200 + i)
    many = count_queries(client, SETTINGS)

    # session, user, scope; the rules, the indicators, the rules' audit trail
    assert many[0] == few[0] <= 6
    assert many[1] > few[1]
