"""Helpers of the page tests: the world's clock, reading pages (text, an element's text, a
form field's value) and counting queries."""

from __future__ import annotations

import datetime as dt
import html
import re
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.test.utils import CaptureQueriesContext

from fangkong.core.testing import World
from fangkong.core.testing import english_client as client_of
from fangkong.core.tests.pagekit import element, has_element, plain
from fangkong.reporting import services
from fangkong.reporting.models import UnitReport

__all__ = [
    "SH",
    "at",
    "client_of",
    "count_queries",
    "element",
    "field_value",
    "has_element",
    "plain",
    "submit",
    "text",
]

SH = ZoneInfo("Asia/Shanghai")
HTMX = {"HTTP_HX_REQUEST": "true"}


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=SH)


def text(response: Any) -> str:
    """The page's text without tags, spaces collapsed."""
    return plain(response.content.decode())


def field_value(response: Any, name: str) -> str:
    """The value of the input (or the text of the textarea) named ``name``."""
    page = response.content.decode()
    match = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', page)
    if match is not None:
        value = re.search(r'\bvalue="([^"]*)"', match.group(0))
        return html.unescape(value.group(1)) if value else ""
    match = re.search(
        rf'<textarea[^>]*\bname="{re.escape(name)}"[^>]*>(.*?)</textarea>', page, re.S
    )
    assert match is not None, f"no field {name} in the page"
    return html.unescape(match.group(1)).strip()


def count_queries(client: Any, url: str) -> tuple[int, int]:
    """(queries, bytes) of a GET (after one to start the session: the first request of a
    client saves it)."""
    client.get("/accounts/password/")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.status_code
    return len(queries), len(response.content)


def submit(world: World, username: str, unit: Any, day: dt.date, **kwargs: Any) -> UnitReport:
    return services.submit_report(actor=world.user(username), unit=unit, day=day, **kwargs)
