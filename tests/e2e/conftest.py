"""Browser tests: the app served by a real server process, driven by Debian's Chromium.

The server runs on loopback against the session's test database (SQLite file or
TEST_DATABASE_URL), with CSRF on and rate limits off. Playwright drives /usr/bin/chromium
(it cannot download browsers here: never run ``playwright install``). Tests get a page at
1280×800 ("desktop") or 360×740 ("mobile"), in French or English.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.helpers import ROOT, missing

CHROMIUM = os.environ.get("BLAGIS_CHROMIUM", "/usr/bin/chromium")
# Keep the browser off the network and quiet: no updates, sync, QUIC or first-run pages.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "mobile": {"width": 360, "height": 740}}
LANGS = ("fr", "en")
SERVER_START_TIMEOUT = 30  # seconds


# --- The server -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped at start-up:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer in {SERVER_START_TIMEOUT} s:\n{log.read_text()}")


@pytest.fixture(scope="session")
def live_server(app, database, tmp_path_factory):
    """Base URL of a real server process on 127.0.0.1 serving the test database.

    Depends on ``app``: the schema and the contract are built and committed before it starts.
    """
    mo = ROOT / "blagis" / "translations" / "fr" / "LC_MESSAGES" / "messages.mo"
    if not mo.exists():
        pytest.fail("compile the catalogues first: pybabel compile -d blagis/translations")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "BLAGIS_ENV": "testing",
        "SECRET_KEY": app.config["SECRET_KEY"],
        "DATABASE_URL": database,
        "RATELIMIT_ENABLED": "0",
        "PAGE_CACHE_CHECK_SECONDS": "0",
        "BLAGIS_BASE_URL": url,
        "FLASK_DEBUG": "0",
        "PYTHONUNBUFFERED": "1",
    }
    log = tmp_path_factory.mktemp("server") / "server.log"
    command = [
        *(sys.executable, "-m", "flask", "--app", "blagis", "run"),
        *("--host", "127.0.0.1", "--port", str(port), "--no-reload", "--no-debugger"),
    ]
    with open(log, "w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- The browser ----------------------------------------------------------------------------


@pytest.fixture(scope="package")
def browser():
    """Headless Chromium; Playwright gives each launch a fresh temporary profile."""
    if not os.path.exists(CHROMIUM):
        missing(f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


def new_page(browser, base_url: str, lang: str = "fr", viewport: str = "desktop"):
    """A page in a fresh context (no cookies), its browser speaking ``lang``.

    ``lang`` is the browser's language (Accept-Language); the site follows it until the
    language switch is used. The page records CSP violations and script errors in
    ``page.problems`` (see ``helpers.assert_no_problems``).
    """
    context = browser.new_context(
        base_url=base_url,
        viewport=VIEWPORTS[viewport],
        locale={"fr": "fr-FR", "en": "en-GB"}[lang],
        timezone_id="Europe/Paris",
        reduced_motion="reduce",
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(f"script error: {error}"))
    page.on(
        "console",
        lambda msg: (
            page.problems.append(f"console: {msg.text}")
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    page.viewport_name = viewport
    page.lang = lang
    return page


@pytest.fixture
def open_page(browser, live_server):
    """Factory: ``open_page(lang="fr", viewport="mobile")`` -> a page in a fresh context."""
    pages = []

    def factory(lang: str = "fr", viewport: str = "desktop"):
        pages.append(new_page(browser, live_server, lang, viewport))
        return pages[-1]

    yield factory
    for page in pages:
        page.context.close()


COMBINATIONS = [(lang, viewport) for lang in LANGS for viewport in VIEWPORTS]


@pytest.fixture(scope="module", params=COMBINATIONS, ids=["-".join(c) for c in COMBINATIONS])
def _module_page(request, browser, live_server):
    page = new_page(browser, live_server, *request.param)
    yield page
    page.context.close()


@pytest.fixture
def reused_page(_module_page):
    """Like ``page`` (each language × width) but one browser tab per module, cookies cleared
    before each test: the audit of many pages stays fast (Chromium keeps axe compiled)."""
    _module_page.context.clear_cookies()
    _module_page.problems.clear()
    return _module_page


@pytest.fixture(params=LANGS)
def lang(request) -> str:
    return request.param


@pytest.fixture(params=list(VIEWPORTS))
def viewport(request) -> str:
    return request.param


@pytest.fixture
def page(open_page, lang, viewport):
    """A page at each width (desktop, mobile) in each language (fr, en)."""
    return open_page(lang, viewport)


@pytest.fixture
def desktop_page(open_page, lang):
    return open_page(lang, "desktop")


@pytest.fixture
def mobile_page(open_page, lang):
    return open_page(lang, "mobile")
