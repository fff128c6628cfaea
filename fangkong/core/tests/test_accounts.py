"""Accounts: password rules, login lockout, idle timeout; the health check; settings safety."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import OperationalError, connection
from django.test import Client
from django.utils import translation

from fangkong.core.testing import PASSWORD, World
from fangkong.settings import EXAMPLE_SECRET_KEY, env_bool

START = dt.datetime(2020, 2, 1, 9, 0, tzinfo=dt.UTC)
LOGIN_URL = "/accounts/login/"


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def en_client() -> Client:
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def password_errors(password: str) -> list[tuple[str, str]]:
    try:
        validate_password(password)
    except ValidationError as error:
        return [(e.code or "", e.messages[0]) for e in error.error_list]
    return []


# ---------------------------------------------------------------------------------------------
# Password rules


def test_a_password_of_seven_characters_is_too_short_even_with_four_classes() -> None:
    assert password_errors("Qz7#kvW") == [
        (
            "password_too_short",
            "This password is too short. It must contain at least 8 characters.",
        )
    ]


def test_a_password_of_eight_characters_with_two_classes_is_rejected() -> None:
    assert password_errors("qzkvwpx7") == [
        (
            "password_classes",
            "Use at least 3 of: lower-case letters, upper-case letters, digits, symbols.",
        )
    ]


@pytest.mark.parametrize("password", ["Qzkvwpx7", "qzkvwpx#7", "QZKVWPX#7", "Qzkvwpx#"])
def test_a_password_of_eight_characters_with_three_classes_is_accepted(password: str) -> None:
    assert password_errors(password) == []


def test_a_common_password_is_rejected_even_with_three_classes() -> None:
    assert [code for code, _message in password_errors("Password1")] == ["password_too_common"]


# ---------------------------------------------------------------------------------------------
# Login lockout (django-axes)


def post_login(client: Client, username: str, password: str) -> int:
    response = client.post(LOGIN_URL, {"username": username, "password": password})
    return response.status_code


@pytest.mark.django_db
def test_a_correct_login_redirects_to_the_home_page(world: World, en_client: Client) -> None:
    response = en_client.post(LOGIN_URL, {"username": "worker11", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.django_db
def test_five_failed_logins_lock_the_account_for_30_minutes(
    world: World, en_client: Client
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        assert [post_login(en_client, "worker11", "wrong-password") for _ in range(4)] == [200] * 4
        fifth = en_client.post(LOGIN_URL, {"username": "worker11", "password": "wrong"})
        assert fifth.status_code == 429

        sixth = en_client.post(LOGIN_URL, {"username": "worker11", "password": PASSWORD})
        assert sixth.status_code == 429
        assert "registration/locked_out.html" in [t.name for t in sixth.templates]
        assert "Too many failed log-ins. This account is locked for 30 minutes" in (
            sixth.content.decode()
        )
        assert "_auth_user_id" not in en_client.session

        traveller.shift(dt.timedelta(minutes=30, seconds=1))
        assert post_login(en_client, "worker11", PASSWORD) == 302
        assert en_client.session["_auth_user_id"] == str(world.user("worker11").pk)


@pytest.mark.django_db
def test_attempts_during_the_lockout_do_not_extend_it(world: World, en_client: Client) -> None:
    # AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT=False: the page promises 30 minutes.
    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(5):
            post_login(en_client, "worker11", "wrong-password")
        traveller.shift(dt.timedelta(minutes=29))
        assert post_login(en_client, "worker11", PASSWORD) == 429
        traveller.shift(dt.timedelta(minutes=1, seconds=1))
        assert post_login(en_client, "worker11", PASSWORD) == 302


@pytest.mark.django_db
def test_a_lockout_is_per_user_name_and_spares_other_accounts(
    world: World, en_client: Client
) -> None:
    for _ in range(5):
        post_login(en_client, "worker11", "wrong-password")
    assert post_login(en_client, "head1", PASSWORD) == 302


@pytest.mark.django_db
def test_a_successful_login_resets_the_failure_count(world: World, en_client: Client) -> None:
    for _ in range(4):
        post_login(en_client, "worker11", "wrong-password")
    assert post_login(en_client, "worker11", PASSWORD) == 302
    en_client.logout()
    assert [post_login(en_client, "worker11", "wrong-password") for _ in range(4)] == [200] * 4
    assert post_login(en_client, "worker11", PASSWORD) == 302


# ---------------------------------------------------------------------------------------------
# Idle timeout


@pytest.mark.django_db
def test_a_user_idle_for_31_minutes_is_sent_to_the_login_page(
    world: World, en_client: Client
) -> None:
    en_client.force_login(world.user("head1"))
    with time_machine.travel(START, tick=False) as traveller:
        assert en_client.get("/").status_code == 200
        traveller.shift(dt.timedelta(minutes=31))
        response = en_client.get("/")
        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/?next=/"
        assert "_auth_user_id" not in en_client.session
        login_page = en_client.get(response["Location"])
        assert "You were logged out after 30 minutes without activity." in (
            login_page.content.decode()
        )


@pytest.mark.django_db
def test_a_user_idle_for_exactly_30_minutes_stays_logged_in(
    world: World, en_client: Client
) -> None:
    en_client.force_login(world.user("head1"))
    with time_machine.travel(START, tick=False) as traveller:
        assert en_client.get("/").status_code == 200
        traveller.shift(dt.timedelta(minutes=30))
        assert en_client.get("/").status_code == 200


@pytest.mark.django_db
def test_a_user_active_every_20_minutes_stays_logged_in(world: World, en_client: Client) -> None:
    en_client.force_login(world.user("head1"))
    with time_machine.travel(START, tick=False) as traveller:
        for _ in range(6):  # two hours in all
            assert en_client.get("/").status_code == 200
            traveller.shift(dt.timedelta(minutes=20))
        assert en_client.get("/").status_code == 200


# ---------------------------------------------------------------------------------------------
# Health check


@pytest.mark.django_db
def test_the_health_check_answers_ok_when_the_database_answers(en_client: Client) -> None:
    response = en_client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_the_health_check_answers_503_when_the_database_fails(en_client: Client) -> None:
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("gone")):
        response = en_client.get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.content) == {"status": "error", "database": "unavailable"}


def test_the_health_check_refuses_post(en_client: Client) -> None:
    assert en_client.post("/healthz").status_code == 405


# ---------------------------------------------------------------------------------------------
# Settings


def import_settings(**env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "SECRET_KEY_FILE", "DEBUG", "DJANGO_SETTINGS_MODULE"}
    }
    return subprocess.run(
        [sys.executable, "-c", "import fangkong.settings"],
        cwd=settings.BASE_DIR,
        env={**base, "FANGKONG_DOTENV": "0", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_settings_refuse_debug_off_without_a_secret_key() -> None:
    result = import_settings(DEBUG="False")
    assert result.returncode != 0
    assert (
        "django.core.exceptions.ImproperlyConfigured: DEBUG=False needs a real SECRET_KEY "
        "(or SECRET_KEY_FILE): the example key is public." in result.stderr
    )


def test_settings_refuse_debug_off_with_the_example_secret_key() -> None:
    result = import_settings(DEBUG="False", SECRET_KEY=EXAMPLE_SECRET_KEY)
    assert result.returncode != 0
    assert "DEBUG=False needs a real SECRET_KEY" in result.stderr


def test_settings_load_with_debug_off_and_a_real_secret_key() -> None:
    result = import_settings(DEBUG="False", SECRET_KEY="a-real-key-" + "x" * 40)
    assert (result.returncode, result.stderr) == (0, "")


def test_settings_read_the_secret_key_from_a_file(tmp_path: Path) -> None:
    key_file = tmp_path / "secret_key"
    key_file.write_text("a-real-key-from-a-file-0123456789\n", encoding="utf-8")
    result = import_settings(DEBUG="False", SECRET_KEY_FILE=str(key_file))
    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("True", True), ("true", True), ("1", True), ("False", False), ("false", False), ("0", False)],
)
def test_env_bool_reads_true_and_false(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    monkeypatch.setenv("FK_TEST_FLAG", value)
    assert env_bool("FK_TEST_FLAG", not expected) is expected


@pytest.mark.parametrize("default", [True, False])
def test_env_bool_uses_the_default_when_unset_or_empty(
    monkeypatch: pytest.MonkeyPatch, default: bool
) -> None:
    monkeypatch.delenv("FK_TEST_FLAG", raising=False)
    assert env_bool("FK_TEST_FLAG", default) is default
    monkeypatch.setenv("FK_TEST_FLAG", "")
    assert env_bool("FK_TEST_FLAG", default) is default


@pytest.mark.parametrize("value", ["yes", "no", "on", "TRUE", " true"])
def test_env_bool_rejects_anything_else(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("FK_TEST_FLAG", value)
    with pytest.raises(ImproperlyConfigured) as caught:
        env_bool("FK_TEST_FLAG", False)
    assert str(caught.value) == f"FK_TEST_FLAG must be True or False, got {value!r}"


@pytest.mark.django_db
def test_a_page_outside_the_scope_says_not_found_in_chinese(world: World, client: Client) -> None:
    client.force_login(world.user("head2"))
    response = client.get(f"/org/persons/{world.person11.pk}/")
    assert response.status_code == 404
    assert "该页面不存在，或不在您的管辖范围内。" in response.content.decode()


@pytest.mark.django_db
def test_a_forbidden_page_says_so_in_chinese(world: World, client: Client) -> None:
    client.force_login(world.user("auditor1"))
    response = client.get(f"/org/persons/{world.person11.pk}/edit/")
    assert response.status_code == 403
    assert "您的角色无权执行此操作" in response.content.decode()
