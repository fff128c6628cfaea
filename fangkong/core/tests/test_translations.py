"""The Chinese catalogue is complete: every UI string in the code has a translation."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import polib
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import translation

PACKAGE = Path(__file__).resolve().parents[2]
CATALOGUE = PACKAGE / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _untranslated(po: polib.POFile) -> list[str]:
    missing = []
    for entry in po:
        if entry.obsolete:
            continue
        if "fuzzy" in entry.flags:
            missing.append(f"fuzzy: {entry.msgid!r}")
        elif entry.msgid_plural:
            if not all(entry.msgstr_plural.values()):
                missing.append(entry.msgid)
        elif not entry.msgstr:
            missing.append(entry.msgid)
    return missing


def test_the_committed_catalogue_has_no_untranslated_or_fuzzy_entry() -> None:
    assert _untranslated(polib.pofile(str(CATALOGUE))) == []


def test_every_string_in_the_code_is_in_the_catalogue(tmp_path: Path, settings: Any) -> None:
    """Extract the strings from a copy of the sources, merged into a copy of the catalogue."""
    copy = tmp_path / "fangkong"
    shutil.copytree(
        PACKAGE,
        copy,
        ignore=shutil.ignore_patterns(
            "tests", "tests_browser", "__pycache__", "*.mo", "testing.py"
        ),
    )
    settings.LOCALE_PATHS = [copy / "locale"]
    cwd = Path.cwd()
    try:
        os.chdir(copy)
        call_command("makemessages", locale=["zh_Hans"], no_obsolete=True, verbosity=0)
    finally:
        os.chdir(cwd)
    missing = _untranslated(
        polib.pofile(str(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))
    )
    assert missing == [], "run 'make messages' and translate: " + "; ".join(missing)


@pytest.mark.parametrize(
    ("english", "chinese"),
    [("Persons", "人员"), ("Grid worker", "网格员"), ("Log in", "登录"), ("Timeline", "时间线")],
)
def test_the_compiled_catalogue_translates_the_interface(english: str, chinese: str) -> None:
    with translation.override("zh-hans"):
        assert translation.gettext(english) == chinese
    with translation.override("en"):
        assert translation.gettext(english) == english


def test_the_login_page_is_chinese_by_default_and_english_on_request(
    client: Client, db: None
) -> None:
    page = client.get("/accounts/login/").content.decode()
    assert '<html lang="zh-hans">' in page
    assert "登录" in page
    english = client.get("/accounts/login/", headers={"accept-language": "en"}).content.decode()
    assert '<html lang="en">' in english
    assert "Log in" in english
