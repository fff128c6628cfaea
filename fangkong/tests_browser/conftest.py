"""Fixtures of the browser tests; they live in ``fangkong.core.tests.browser``."""

from __future__ import annotations

from collections.abc import Generator

import pytest

from fangkong.core.tests.browser import (
    browser_problems,
    chromium_browser,
    phone_page,
    record_call_report,
    screenshots,
)

# Sync Playwright runs an event loop in the test thread. ``chromium_browser`` sets
# DJANGO_ALLOW_ASYNC_UNSAFE=true for as long as Playwright runs (and restores it afterwards),
# so the ORM keeps working in the test thread without affecting the tests that run before.

__all__ = ["browser_problems", "chromium_browser", "phone_page", "screenshots"]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    record_call_report(item, report)
    return report
