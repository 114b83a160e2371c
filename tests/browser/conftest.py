"""Real-browser tests: Playwright drives Debian's Chromium against Django's live server.

Never `playwright install`: the browser is Debian's (`apt-get install chromium`; .ci/run
does it). Without it these tests fail with that command: the suite skips nothing for
want of a tool. Screenshots of every page land
in test-artifacts/screenshots/ (git-ignored).
"""

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API runs an event loop in the test thread; the test code's ORM calls
# (building data, checking results) are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test here `browser` (`-m "not browser"` leaves them out)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch Debian's Chromium, headless, with nothing phoning home."""
    if not CHROMIUM.exists():
        pytest.fail(f"The browser tests need Debian's Chromium at {CHROMIUM}: apt-get install chromium")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    """A laptop-sized window; downloads allowed."""
    return {**browser_context_args, "viewport": {"width": 1280, "height": 860}, "accept_downloads": True}


@pytest.fixture(autouse=True)
def quick_failures(page: Any) -> None:
    """Fail in seconds, not Playwright's default 30 s: every page here answers at once."""
    page.set_default_timeout(8_000)


@pytest.fixture
def shot(page: Any) -> Callable[[str], None]:
    """Save a full-page screenshot as test-artifacts/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take
