"""The documentation pages in a real browser, with no internet: /docs (Swagger UI) lists the
operations, signs a demo person in through its Authorize dialog and runs a request; /redoc
shows the API; /graphql shows the GraphiQL explorer. Every request the browser makes must go
to the service itself: anything else is refused and fails the test.

The service is the real one, `markbook serve --demo` in its own process on a free port of
127.0.0.1, on a fresh database of the configured kind. The browser is the operating system's
headless Chromium (Debian's `chromium`, /usr/bin/chromium, or MARKBOOK_CHROMIUM), driven by
Playwright; no browser is downloaded. Without Chromium the tests skip, except in CI (CI set),
where they fail: CI installs it (.ci/run)."""

from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

from app.services.demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CHROMIUM = Path(os.environ.get("MARKBOOK_CHROMIUM", "/usr/bin/chromium"))
# A slow, loaded 2-core machine: starting the service migrates and seeds a database, and the
# first page of Swagger UI parses a 1.5 MB script. Generous limits, never sleeps.
START_SECONDS = 180
TIMEOUT_MS = 60_000
DEMO_HEAD = "head@oakhill.example.org"
ROOT = Path(__file__).resolve().parents[2]
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def chromium() -> Path:
    """The browser, or a skip saying how to get it (a failure in CI)."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    reason = (
        f"no Chromium at {CHROMIUM}: install the OS package (apt-get install chromium) "
        "or set MARKBOOK_CHROMIUM to a Chromium binary"
    )
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI must run the browser tests")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Service:
    base_url: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)


def _serve_env(database_url: str, workdir: Path) -> dict[str, str]:
    # The developer's own MARKBOOK_ settings (a database, a secret) must not reach the demo.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKBOOK_")}
    env.update(
        MARKBOOK_DATABASE_URL=database_url,
        MARKBOOK_JWT_SECRET_FILE=str(workdir / "jwt-secret"),
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture(scope="module")
def service(chromium, databases, tmp_path_factory) -> Iterator[Service]:  # type: ignore[no-untyped-def]
    """`markbook serve --demo` on its own database, until uvicorn says it is listening."""
    workdir = tmp_path_factory.mktemp("browser-service")
    database_url = databases.create_empty(f"browser_demo_{databases.run_id}")
    port = free_port()
    command = ["serve", "--demo", "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", *command],
        cwd=workdir,  # no .env of the developer's, no files left in the checkout
        env={**_serve_env(database_url, workdir), "PYTHONPATH": str(ROOT)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    served = Service(base_url=f"http://127.0.0.1:{port}", process=process)
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:  # drains the pipe for the whole run, so the service never blocks on it
        assert process.stdout is not None
        for line in process.stdout:
            served.output.append(line)
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    try:
        while True:
            try:
                line = lines.get(timeout=START_SECONDS)
            except queue.Empty:
                pytest.fail(f"the service did not start in {START_SECONDS}s:\n{served.output}")
            if line is None:
                pytest.fail(f"the service stopped:\n{''.join(served.output)}")
            if "Application startup complete" in line:
                break
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        databases.drop(database_url)


@pytest.fixture(scope="module")
def browser(chromium: Path, service: Service) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), headless=True)
        yield browser
        browser.close()


@dataclass
class Visit:
    page: Page
    elsewhere: list[str]


@pytest.fixture
def visit(browser: Browser, service: Service) -> Iterator[Visit]:
    """A fresh browser context whose every request to anywhere but the service is refused
    (and remembered, so that the test can say none was attempted)."""
    context = browser.new_context(service_workers="block")
    context.set_default_timeout(TIMEOUT_MS)
    own = urlsplit(service.base_url).netloc
    elsewhere: list[str] = []

    def guard(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).netloc == own:
            route.continue_()
        else:
            elsewhere.append(url)
            route.abort("blockedbyclient")

    context.route("**/*", guard)
    page = context.new_page()
    yield Visit(page=page, elsewhere=elsewhere)
    context.close()


def test_swagger_ui_lists_the_operations_signs_in_and_runs_a_request(visit, service):
    page = visit.page
    page.goto(f"{service.base_url}/docs")
    me = page.locator("#operations-me-readMe")
    expect(me).to_be_visible()
    expect(page.locator(".opblock")).not_to_have_count(0)

    # Sign in as the demo head teacher with the password grant of the Authorize dialog.
    page.get_by_role("button", name="Authorize").first.click()
    dialog = page.locator(".dialog-ux")
    password_flow = dialog.locator(".auth-container").filter(
        has=page.get_by_role("heading", name="oauth2 (OAuth2, password)")
    )
    password_flow.get_by_label("username:").fill(DEMO_HEAD)
    password_flow.get_by_label("password:").fill(DEMO_PASSWORD)
    password_flow.get_by_role("button", name="Apply given OAuth2 credentials").click()
    expect(password_flow.get_by_role("heading", name="Authorized")).to_be_visible()
    expect(password_flow.get_by_text(DEMO_HEAD)).to_be_visible()
    password_flow.get_by_role("button", name="Close").click()
    expect(dialog).to_have_count(0)

    # Try it out: GET /v1/me with the token the dialog got.
    me.locator(".opblock-summary").click()
    me.get_by_role("button", name="Try it out").click()
    me.get_by_role("button", name="Execute").click()
    status = me.locator(".live-responses-table tr.response .response-col_status")
    expect(status).to_have_text("200")
    expect(
        me.locator(".live-responses-table tr.response .response-col_description")
    ).to_contain_text(DEMO_HEAD)
    assert visit.elsewhere == []


def test_redoc_shows_the_api(visit, service):
    page = visit.page
    page.goto(f"{service.base_url}/redoc")
    expect(page.get_by_role("heading", name="Markbook", exact=False).first).to_be_visible()
    expect(page.get_by_text("Get a bearer token").first).to_be_attached()
    assert visit.elsewhere == []


def test_graphql_in_a_browser_is_the_graphiql_explorer(visit, service):
    page = visit.page
    page.goto(f"{service.base_url}/graphql")
    expect(page.locator(".graphiql-container")).to_be_visible()
    expect(page.locator(".graphiql-query-editor")).to_contain_text("me { name roles")
    assert visit.elsewhere == []
