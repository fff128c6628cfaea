"""Browser testing with Playwright (sync API) and Debian's chromium: fixtures and helpers.

The fixtures are re-exported by ``fangkong/tests_browser/conftest.py``; any other test package
can do the same. They never download a browser: they drive ``/usr/bin/chromium``. Without it
the browser tests are skipped, unless ``FANGKONG_REQUIRE_BROWSER=1`` (CI), which makes them fail.

Sync Playwright keeps an asyncio event loop running in the test thread, and Django's ORM refuses
to run where a loop is running (``SynchronousOnlyOperation``). The test thread's ORM calls are
plain synchronous code, so ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set while Playwright runs.

Screenshots go to ``var/screenshots/`` (``var/`` is not in git).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest
from django.conf import settings

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, Response

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REQUIRE_ENV = "FANGKONG_REQUIRE_BROWSER"
ASYNC_UNSAFE_ENV = "DJANGO_ALLOW_ASYNC_UNSAFE"
PHONE_WIDTH = 390
PHONE_HEIGHT = 844
TIMEOUT_MS = 10_000
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


def browser_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") == "1"


def skip_or_fail(reason: str) -> NoReturn:
    """Skip the browser tests, or fail them when the environment requires a browser."""
    if browser_required():
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1, so the browser tests may not be skipped)")
    pytest.skip(reason)


def safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:120] or "page"


@dataclass
class Screenshots:
    """Numbered full-page screenshots of one test: ``var/screenshots/<test>-01-<step>.png``."""

    page: Page
    test_name: str
    taken: list[Path] = field(default_factory=list)

    def __call__(self, step: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = (
            SCREENSHOTS
            / f"{safe_name(self.test_name)}-{len(self.taken) + 1:02d}-{safe_name(step)}.png"
        )
        self.page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path


@dataclass
class BrowserProblems:
    """What went wrong in the page without failing a step: script errors, 4xx/5xx responses."""

    messages: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.messages.append(f"console error: {message.text}")

    def on_page_error(self, error: Any) -> None:
        self.messages.append(f"script error: {error}")

    def on_response(self, response: Response) -> None:
        if response.status >= 400:
            self.messages.append(
                f"HTTP {response.status}: {response.request.method} {response.url}"
            )

    def watch(self, page: Page) -> None:
        page.on("console", self.on_console)
        page.on("pageerror", self.on_page_error)
        page.on("response", self.on_response)


def horizontal_overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the viewport (0 when it fits)."""
    width: int = page.evaluate("document.scrollingElement.scrollWidth")
    viewport = page.viewport_size
    return max(0, width - (viewport["width"] if viewport else 0))


_CONTRAST_JS = """
(element) => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const blend = (top, bottom) => {
    const a = top.length > 3 ? top[3] : 1;
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a));
  };
  // The background actually behind the element: stack the ancestors' backgrounds on white.
  const layers = [];
  for (let node = element; node; node = node.parentElement) {
    const bg = parse(getComputedStyle(node).backgroundColor);
    if (bg.length && (bg.length < 4 || bg[3] > 0)) layers.push(bg);
  }
  let background = [255, 255, 255];
  for (const layer of layers.reverse()) background = blend(layer, background);
  const text = blend(parse(getComputedStyle(element).color), background);
  const luminance = (rgb) => {
    const [r, g, b] = rgb.map((v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [high, low] = [luminance(text), luminance(background)].sort((x, y) => y - x);
  return (high + 0.05) / (low + 0.05);
}
"""


def text_contrast(locator: Locator) -> float:
    """WCAG contrast ratio of an element's text against the background behind it."""
    ratio: float = locator.evaluate(_CONTRAST_JS)
    return ratio


def wait_for_collapse(page: Page) -> None:
    """Wait until Bootstrap's collapse animations have ended."""
    page.wait_for_function("!document.querySelector('.collapsing')")


def log_in(page: Page, base_url: str, username: str, password: str) -> None:
    """Log in through the real login form and wait for the home page."""
    page.goto(f"{base_url}/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    with page.expect_navigation():
        page.locator("form button[type=submit]").tap()
    if "/accounts/login/" in page.url:
        raise AssertionError(f"log-in as {username} failed: still on {page.url}")


# ---------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Browser]:
    """Debian's chromium, headless, started once per test session."""
    if not CHROMIUM.is_file() or not os.access(CHROMIUM, os.X_OK):
        found = shutil.which("chromium")
        skip_or_fail(
            f"no chromium at {CHROMIUM}" + (f" (there is one at {found})" if found else "")
        )
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        skip_or_fail("the playwright package is not installed (pip install -e '.[dev]')")

    expect.set_options(timeout=TIMEOUT_MS)
    previous = os.environ.get(ASYNC_UNSAFE_ENV)
    os.environ[ASYNC_UNSAFE_ENV] = "true"
    manager = sync_playwright().start()
    try:
        try:
            browser = manager.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
        except PlaywrightError as error:
            skip_or_fail(f"chromium at {CHROMIUM} did not start: {error}")
        yield browser
        browser.close()
    finally:
        manager.stop()
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE_ENV, None)
        else:
            os.environ[ASYNC_UNSAFE_ENV] = previous


@pytest.fixture
def browser_problems() -> BrowserProblems:
    return BrowserProblems()


@pytest.fixture
def phone_page(
    chromium_browser: Browser, browser_problems: BrowserProblems, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A fresh phone-sized page (390×844, touch, zh-CN); a screenshot is kept if the test fails."""
    context = chromium_browser.new_context(
        viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    browser_problems.watch(page)
    for stale in SCREENSHOTS.glob(f"{safe_name(request.node.name)}-*.png"):
        stale.unlink(missing_ok=True)  # CI's two runs may both be clearing them
    try:
        yield page
        report = getattr(request.node, "fk_call_report", None)
        if report is not None and report.failed:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(
                path=str(SCREENSHOTS / f"{safe_name(request.node.name)}-FAILED.png"),
                full_page=True,
            )
    finally:
        context.close()


@pytest.fixture
def screenshots(phone_page: Page, request: pytest.FixtureRequest) -> Screenshots:
    return Screenshots(phone_page, request.node.name)


def record_call_report(item: pytest.Item, report: pytest.TestReport) -> None:
    """Call from ``pytest_runtest_makereport`` so ``phone_page`` knows whether the test failed."""
    if report.when == "call":
        item.fk_call_report = report  # type: ignore[attr-defined]
