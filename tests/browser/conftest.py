"""Browser tests: Playwright for Python driving Debian's Chromium, headless, against pytest-django's
live server. Screenshots go to test-artifacts/screenshots/ (named in the README)."""
import os
import re
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the tests' own ORM calls are plain
# synchronous code that Django would otherwise refuse to run beside a running loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"]


@pytest.fixture(scope="session")
def chromium():
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium); CI installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def web(chromium, live_server, settings, tmp_path):
    """A fresh browser context (its own cookies) on the live server."""
    settings.UPLOAD_DIR = tmp_path / "uploads"
    settings.RATE_LIMITS = {scope: (10_000, 60) for scope in settings.RATE_LIMITS}
    # Playwright's wait_for_function evaluates its predicate with eval, which the site's
    # Content-Security-Policy refuses; test_content_security_policy.py drives pages under it.
    context = chromium.new_context(base_url=live_server.url, viewport={"width": 1200, "height": 900},
                                   bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
