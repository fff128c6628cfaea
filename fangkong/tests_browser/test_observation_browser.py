"""Observation in a real browser: a grid worker's morning round on a phone, and a person's
own report through their link that a unit head then handles."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone, translation
from playwright.sync_api import Page, expect

from fangkong.alerts.models import Alert, AlertKind
from fangkong.core.testing import PASSWORD, World
from fangkong.core.tests.browser import (
    BrowserProblems,
    Screenshots,
    horizontal_overflow,
    log_in,
)
from fangkong.observation import services
from fangkong.observation.models import FollowUpVisit, ObservationEpisode, Slot, TemperatureReading

pytestmark = pytest.mark.browser

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROUND_LIMIT_S = 60


def zh(message: str) -> str:
    with translation.override("zh-hans"):
        return translation.gettext(message)


def _start(person: Any, at: dt.datetime) -> ObservationEpisode:
    return services.start_episode(
        actor=None,
        entry=services.EpisodeStart(
            person=person,
            reason=ObservationEpisode.Reason.CONTACT,
            counts_from=at.date() - dt.timedelta(days=2),
            counts_from_kind=ObservationEpisode.CountsFrom.LAST_CONTACT,
        ),
        at=at,
    )


def test_grid_worker_records_two_temperatures_and_a_visit_in_under_a_minute(
    live_server: Any,
    world: World,
    phone_page: Page,
    screenshots: Screenshots,
    browser_problems: BrowserProblems,
) -> None:
    page = phone_page
    morning = dt.datetime.combine(timezone.localdate(), dt.time(8, 30), tzinfo=SHANGHAI)
    with time_machine.travel(morning, tick=True):
        father = _start(world.person11, morning - dt.timedelta(hours=1))
        son = _start(world.person11b, morning - dt.timedelta(hours=1))
        log_in(page, live_server.url, "worker11", PASSWORD)
        page.goto(f"{live_server.url}/observation/today/")
        expect(page.locator("#current-window")).to_contain_text(zh("Morning check now"))
        father_card = page.locator(f"#card-{father.pk}")
        son_card = page.locator(f"#card-{son.pk}")
        expect(father_card.locator(".person-name")).to_have_text("张建国")
        expect(son_card.locator(".person-name")).to_have_text("张小明")
        assert horizontal_overflow(page) == 0, "the today page scrolls sideways on a phone"
        screenshots("today-before")

        started = time.perf_counter()
        page.evaluate("window.fkSamePage = true")
        father_card.locator("input[name=value]").fill("36.6")
        with page.expect_response(lambda r: r.url.endswith(f"/{father.pk}/readings/")):
            father_card.get_by_role("button", name=zh("Record")).tap()
        expect(father_card.locator(".morning")).to_have_text("36.6")
        son_card.locator("input[name=value]").fill("37.6")
        with page.expect_response(lambda r: r.url.endswith(f"/{son.pk}/readings/")):
            son_card.get_by_role("button", name=zh("Record")).tap()
        expect(son_card.locator(".morning .fever")).to_have_text("37.6")
        expect(son_card).to_have_attribute("data-fever", "yes")
        with page.expect_response(lambda r: r.url.endswith(f"/{father.pk}/visits/")):
            father_card.locator("button.visit-in_person").tap()
        expect(father_card).to_have_attribute("data-visited", "yes")
        expect(father_card.locator(".visit-state")).to_have_text(zh("Done"))
        elapsed = time.perf_counter() - started
        assert page.evaluate("window.fkSamePage") is True, "a tap reloaded the page"
        assert horizontal_overflow(page) == 0
        screenshots("today-after")

    assert elapsed < ROUND_LIMIT_S, f"the round took {elapsed:.1f} s"
    readings = TemperatureReading.objects.order_by("episode_id")
    assert [(r.episode_id, str(r.value), r.slot, r.taken_by) for r in readings] == [
        (father.pk, "36.6", Slot.MORNING, world.user("worker11")),
        (son.pk, "37.6", Slot.MORNING, world.user("worker11")),
    ]
    visit = FollowUpVisit.objects.get()
    assert (visit.episode_id, visit.mode, visit.day) == (father.pk, "in_person", morning.date())
    fever = Alert.objects.get()
    assert (fever.kind, fever.person, fever.summary) == (
        AlertKind.FEVER,
        world.person11b,
        zh("%(name)s: %(value)s °C") % {"name": "张小明", "value": "37.6"},
    )
    assert browser_problems.messages == []


def test_a_self_reported_fever_reaches_the_unit_head_who_resolves_it(
    live_server: Any,
    world: World,
    phone_page: Page,
    screenshots: Screenshots,
    browser_problems: BrowserProblems,
) -> None:
    page = phone_page
    episode = _start(world.person12, timezone.now() - dt.timedelta(hours=2))
    token = episode.links.get(revoked_at__isnull=True).token

    # The person, on their own phone, without an account.
    page.goto(f"{live_server.url}/r/{token}/")
    expect(page.locator("#greeting")).to_contain_text("秀英")
    assert horizontal_overflow(page) == 0, "the self-report page scrolls sideways on a phone"
    page.locator("#id_value").fill("38.4")
    page.locator("#symptoms").get_by_label(zh("Dry cough")).check()
    screenshots("self-report")
    with page.expect_navigation():
        page.locator("#send").tap()
    assert re.search(r"/r/[^/]+/thanks/", page.url), page.url
    expect(page.locator("body")).to_contain_text("38.4")
    screenshots("self-report-thanks")
    alert = Alert.objects.get()
    assert (alert.kind, alert.status, alert.unit) == (
        AlertKind.FEVER,
        Alert.Status.OPEN,
        world.grid12,
    )

    # The unit head sees it in the inbox and resolves it with a note, in place.
    page.context.clear_cookies()
    log_in(page, live_server.url, "head1", PASSWORD)
    page.goto(f"{live_server.url}/alerts/")
    row = page.locator(f"#alert-{alert.pk}")
    expect(row.locator(".summary")).to_contain_text(
        zh("%(name)s: %(value)s °C") % {"name": "李秀英", "value": "38.4"}
    )
    with translation.override("zh-hans"):
        open_label = translation.pgettext("alert", "Open")
    expect(row.locator(".status-badge")).to_have_text(open_label)
    assert horizontal_overflow(page) == 0, "the inbox scrolls sideways on a phone"
    with page.expect_response(lambda r: r.url.endswith(f"/alerts/{alert.pk}/resolve/")):
        row.locator("button.resolve").tap()
    expect(row.locator(".invalid-feedback")).to_be_visible()  # a note is required
    row.locator(f"#alert-{alert.pk}-resolve-note").fill("电话联系，已送县医院发热门诊")
    with page.expect_response(lambda r: r.url.endswith(f"/alerts/{alert.pk}/resolve/")):
        row.locator("button.resolve").tap()
    expect(row.locator(".status-badge")).to_have_text(zh("Resolved"))
    expect(row.locator(".note")).to_contain_text("电话联系，已送县医院发热门诊")
    screenshots("alert-resolved")

    alert.refresh_from_db()
    assert (alert.status, alert.note, alert.resolved_by) == (
        Alert.Status.RESOLVED,
        "电话联系，已送县医院发热门诊",
        world.user("head1"),
    )
    assert browser_problems.messages == []
