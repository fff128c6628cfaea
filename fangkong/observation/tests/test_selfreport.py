"""The public self-report page (/r/<token>/): a phone page without login, always in Chinese,
that works only during the episode, refuses implausible input with the field's message, is
rate-limited, and records through the service (timeline, audit trail, alert)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext

from fangkong.alerts.models import Alert
from fangkong.core.testing import World, build_world
from fangkong.observation import services
from fangkong.observation.models import Need, SelfReportLink, Source, TemperatureReading
from fangkong.observation.views_selfreport import BAD_TOKEN_LIMIT, given_name
from fangkong.org.models import TimelineEvent

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2020, 2, 10, 10, 30, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _frozen_time() -> Iterator[None]:
    """Today is 2020-02-10, 10:30 in Beijing: day 7 of 张小明's episode (2020-02-03 to
    2020-02-15)."""
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """The count of unknown links per address lives in the cache: each test starts at 0."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def obs_world(_frozen_time: None, db: None) -> World:
    return build_world(observation=True)


@pytest.fixture
def link(obs_world: World) -> SelfReportLink:
    return SelfReportLink.objects.get(episode=obs_world.episode1, revoked_at__isnull=True)


def _url(link: SelfReportLink) -> str:
    return f"/r/{link.token}/"


def zh(message: str, **params: Any) -> str:
    """``message`` as the page shows it: in Chinese (once translated), HTML-escaped."""
    with translation.override("zh-hans"):
        text = gettext(message)
    return escape(text % params if params else text)


def _html(response: Any) -> str:
    return response.content.decode()


def _post(client: Client, link: SelfReportLink, **values: Any) -> Any:
    body = {"value": "", "need_kind": "", "need_text": "", **values}
    return client.post(_url(link), body)


def _assert_private(response: Any) -> None:
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Content-Language"] == "zh-hans"
    assert '<meta name="robots" content="noindex">' in _html(response)


# ---------------------------------------------------------------------------------------------
# During the episode


def test_the_page_opens_without_login_in_chinese_and_names_the_person_by_given_name_only(
    link: SelfReportLink,
) -> None:
    response = Client(headers={"accept-language": "en"}).get(_url(link))

    html = _html(response)
    assert response.status_code == 200
    assert '<html lang="zh-Hans">' in html
    assert f'<label class="form-check-label" for="id_symptoms_0">{zh("Fever")}</label>' in html
    assert re.search(r'id="greeting">[^<]*小明', html)
    assert "张小明" not in html
    assert zh("Today") + " 2020-02-10" in html
    assert "2020-02-15" in html
    assert 'inputmode="decimal"' in html
    assert "Log out" not in html and zh("Log out") not in html
    _assert_private(response)


def test_a_report_during_the_episode_is_recorded_on_the_timeline_and_in_the_audit_trail(
    obs_world: World, link: SelfReportLink
) -> None:
    client = Client()

    response = _post(client, link, value="36.8")

    reading = TemperatureReading.objects.get(link=link)
    assert response.status_code == 302
    assert response["Location"] == f"/r/{link.token}/thanks/?reading={reading.pk}"
    assert (reading.value, reading.source, reading.is_fever, reading.taken_by) == (
        Decimal("36.8"),
        Source.SELF,
        False,
        None,
    )
    assert reading.taken_at == NOW
    assert list(reading.history.values_list("history_type", "value")) == [("+", Decimal("36.8"))]
    events = TimelineEvent.objects.filter(
        person=obs_world.person11b, kind="temperature", data__reading=reading.pk
    )
    assert events.count() == 1
    assert "36.8" in events.get().summary
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200
    assert "36.8" in _html(thanks)
    assert 'id="fever"' not in _html(thanks)
    assert Alert.objects.filter(person=obs_world.person11b).count() == 0
    _assert_private(thanks)


def test_a_fever_self_report_raises_one_fever_alert_and_says_that_staff_will_call(
    obs_world: World, link: SelfReportLink
) -> None:
    client = Client()

    response = _post(client, link, value="38.2", symptoms=["cough"])

    reading = TemperatureReading.objects.get(link=link)
    alerts = Alert.objects.filter(person=obs_world.person11b)
    assert list(alerts.values_list("kind", "key")) == [("fever", f"reading:{reading.pk}")]
    assert (reading.is_fever, reading.symptoms) == (True, ["cough"])
    thanks = _html(client.get(response["Location"]))
    assert 'id="fever"' in thanks
    assert "38.2" in thanks
    assert zh("Dry cough") in thanks


def test_a_call_for_help_alone_is_recorded_as_a_need_of_the_episode(
    obs_world: World, link: SelfReportLink
) -> None:
    client = Client()

    response = _post(client, link, need_kind="medicine", need_text="降压药快吃完了")

    need = Need.objects.get(link=link)
    assert (need.episode, need.kind, need.description, need.source) == (
        obs_world.episode1,
        "medicine",
        "降压药快吃完了",
        Source.SELF,
    )
    assert TemperatureReading.objects.filter(link=link).count() == 0
    assert response["Location"] == f"/r/{link.token}/thanks/?need={need.pk}"
    thanks = _html(client.get(response["Location"]))
    assert "降压药快吃完了" in thanks
    assert 'id="need-noted"' in thanks


def test_the_form_needs_the_csrf_token_that_the_page_gives_an_anonymous_visitor(
    link: SelfReportLink,
) -> None:
    client = Client(enforce_csrf_checks=True)

    refused = client.post(_url(link), {"value": "36.5"})
    page = client.get(_url(link))
    token = client.cookies["csrftoken"].value
    # As a browser posts it: with the page's origin (sent under the same-origin policy).
    accepted = client.post(
        _url(link),
        {"value": "36.5", "csrfmiddlewaretoken": token},
        headers={"origin": "http://testserver"},
    )

    assert refused.status_code == 403
    assert page.status_code == 200
    assert accepted.status_code == 302
    assert TemperatureReading.objects.filter(link=link).count() == 1


def test_the_thank_you_page_shows_only_what_came_from_this_link(
    obs_world: World, link: SelfReportLink
) -> None:
    other = SelfReportLink.objects.get(episode=obs_world.episode2, revoked_at__isnull=True)
    theirs = TemperatureReading.objects.get(episode=obs_world.episode2)

    response = Client().get(f"/r/{link.token}/thanks/?reading={theirs.pk}")

    assert response.status_code == 200
    assert str(theirs.value) not in _html(response)
    assert other.token not in _html(response)


# ---------------------------------------------------------------------------------------------
# Refused outside the episode, when revoked, and beyond the hourly limit


def test_the_link_is_refused_before_the_start_with_403(link: SelfReportLink) -> None:
    with time_machine.travel(dt.datetime(2020, 2, 2, 20, 0, tzinfo=TZ), tick=False):
        get = Client().get(_url(link))
        post = _post(Client(), link, value="36.5")

    message = zh("Your observation starts on %(start)s: report from that day.", start="2020-02-03")
    for response in (get, post):
        assert response.status_code == 403
        assert f'id="refusal">{message}</div>' in _html(response)
        _assert_private(response)
    assert TemperatureReading.objects.filter(link=link).count() == 0


def test_the_link_is_refused_after_the_planned_end_with_410(link: SelfReportLink) -> None:
    with time_machine.travel(dt.datetime(2020, 2, 16, 0, 0, tzinfo=TZ), tick=False):
        get = Client().get(_url(link))
        post = _post(Client(), link, value="36.5")

    message = zh("Your observation period has ended: there is nothing more to report here.")
    for response in (get, post):
        assert response.status_code == 410
        assert f'id="refusal">{message}</div>' in _html(response)
    assert TemperatureReading.objects.filter(link=link).count() == 0


def test_the_link_still_works_on_the_last_day(link: SelfReportLink) -> None:
    with time_machine.travel(dt.datetime(2020, 2, 15, 23, 50, tzinfo=TZ), tick=False):
        response = _post(Client(), link, value="36.5")

    assert response.status_code == 302


def test_a_revoked_link_is_refused_with_410_and_records_nothing(
    obs_world: World, link: SelfReportLink
) -> None:
    services.revoke_link(actor=None, episode=obs_world.episode1)

    get = Client().get(_url(link))
    post = _post(Client(), link, value="36.5")

    message = zh("This link has been replaced or stopped. Ask your grid worker for the new one.")
    for response in (get, post):
        assert response.status_code == 410
        assert f'id="refusal">{message}</div>' in _html(response)
    assert TemperatureReading.objects.filter(episode=obs_world.episode1).count() == 1  # the world's


def test_the_new_link_works_after_a_reissue_and_the_old_one_does_not(
    obs_world: World, link: SelfReportLink
) -> None:
    new = services.reissue_link(actor=None, episode=obs_world.episode1)

    assert Client().get(_url(link)).status_code == 410
    assert Client().get(_url(new)).status_code == 200


def test_the_seventh_submission_in_an_hour_is_refused_with_429(link: SelfReportLink) -> None:
    client = Client()
    statuses = [_post(client, link, value="36.5").status_code for _ in range(6)]

    seventh = _post(client, link, value="36.6")

    assert statuses == [302] * 6
    assert seventh.status_code == 429
    message = zh(
        "You have reported %(count)d times in the last hour. Please try again later, or call "
        "your grid worker if it is urgent.",
        count=6,
    )
    assert f'id="refusal">{message}</div>' in _html(seventh)
    assert TemperatureReading.objects.filter(link=link).count() == 6
    with time_machine.travel(NOW + dt.timedelta(minutes=61), tick=False):
        assert _post(client, link, value="36.6").status_code == 302


# ---------------------------------------------------------------------------------------------
# Garbage input: the form again (422) with the field's message, nothing recorded


GARBAGE = [
    pytest.param(
        {"value": "abc"},
        "value",
        ("Enter the temperature as a number in °C, e.g. 36.5.", {}),
        id="not-a-number",
    ),
    pytest.param(
        {"value": "45"},
        "value",
        (
            "%(value)s °C is not a body temperature: enter a reading between %(min)s and "
            "%(max)s °C, e.g. 36.5.",
            {"value": "45", "min": "34.0", "max": "43.0"},
        ),
        id="45",
    ),
    pytest.param(
        {"value": "20"},
        "value",
        (
            "%(value)s °C is not a body temperature: enter a reading between %(min)s and "
            "%(max)s °C, e.g. 36.5.",
            {"value": "20", "min": "34.0", "max": "43.0"},
        ),
        id="20",
    ),
    pytest.param(
        {"value": "36.5", "symptoms": ["cough", "plague"]},
        "symptoms",
        ("Unknown symptom %(code)s: choose from the list.", {"code": "plague"}),
        id="unknown-symptom",
    ),
    pytest.param(
        {},
        "value",
        ("Enter your temperature, or describe what help you need.", {}),
        id="empty",
    ),
    pytest.param(
        {"need_kind": "supplies", "need_text": "米" * 301},
        "need_text",
        ("Keep this under %(max)d characters.", {"max": 300}),
        id="over-long-text",
    ),
    pytest.param(
        {"need_kind": "weapons", "need_text": "x"},
        "need_kind",
        ("Choose the kind of need from the list.", {}),
        id="unknown-need-kind",
    ),
    pytest.param(
        {"need_kind": "supplies"},
        "need_text",
        ("Describe the need, e.g. 'rice and cooking oil'.", {}),
        id="need-without-words",
    ),
]


@pytest.mark.parametrize(("values", "field", "expected"), GARBAGE)
def test_garbage_input_is_refused_with_the_field_message(
    obs_world: World,
    link: SelfReportLink,
    values: dict[str, Any],
    field: str,
    expected: tuple[str, dict[str, Any]],
) -> None:
    message, params = expected
    response = Client().post(_url(link), values)

    assert response.status_code == 422
    assert f'id="id_{field}_error">{zh(message, **params)}</div>' in _html(response)
    assert TemperatureReading.objects.filter(link=link).count() == 0
    assert Need.objects.filter(link=link).count() == 0
    _assert_private(response)


def test_the_refused_form_keeps_what_was_typed(link: SelfReportLink) -> None:
    response = _post(Client(), link, value="45", need_kind="supplies", need_text="米" * 301)

    html = _html(response)
    assert 'value="45"' in html
    assert 'value="supplies" class="form-check-input" id="id_need_kind_0" checked' in html
    assert '<details class="mb-3 border rounded bg-body p-2" id="help" open>' in html


# ---------------------------------------------------------------------------------------------
# Unknown links and guessing


def test_an_unknown_link_is_404_and_reveals_nothing(obs_world: World, link: SelfReportLink) -> None:
    first = Client().get("/r/not-a-real-token-0000000000000000/")
    # One character off the real token (never the same character, whatever the token ends in).
    wrong_last = "y" if link.token.endswith("x") else "x"
    second = Client().get(f"/r/{link.token[:-1]}{wrong_last}/")
    long = Client().post("/r/" + "a" * 200 + "/", {"value": "36.5"})

    message = zh("This link is not valid. Ask your grid worker for the link on your notice.")
    for response in (first, second, long):
        assert response.status_code == 404
        assert f'id="refusal">{message}</div>' in _html(response)
        _assert_private(response)
    assert first.content == second.content == long.content
    for name in ("张小明", "小明", "张建国", "王立新", "一站1排3号", "2020-02-15"):
        assert name not in _html(first)
    assert "csrfmiddlewaretoken" not in _html(first)


def test_an_address_that_tries_too_many_unknown_links_is_refused_for_ten_minutes(
    link: SelfReportLink,
) -> None:
    client = Client()
    statuses = {client.get(f"/r/guess-{n:04d}/").status_code for n in range(BAD_TOKEN_LIMIT)}

    blocked = client.get(_url(link))
    elsewhere = client.get(_url(link), REMOTE_ADDR="192.0.2.7")

    assert statuses == {404}
    assert blocked.status_code == 429
    assert "小明" not in _html(blocked)
    assert elsewhere.status_code == 200
    with time_machine.travel(NOW + dt.timedelta(minutes=11), tick=False):
        assert client.get(_url(link)).status_code == 200


def test_revoked_and_ended_links_do_not_count_as_guesses(
    obs_world: World, link: SelfReportLink
) -> None:
    services.revoke_link(actor=None, episode=obs_world.episode1)
    client = Client()

    statuses = {client.get(_url(link)).status_code for _ in range(BAD_TOKEN_LIMIT + 1)}

    assert statuses == {410}


@pytest.mark.parametrize(
    ("name", "given"),
    [("张小明", "小明"), ("欧阳娜娜", "娜娜"), ("王五", "五"), ("Anna Li", "Anna"), ("李", "李")],
)
def test_the_page_calls_the_person_by_their_given_name(name: str, given: str) -> None:
    assert given_name(name) == given
