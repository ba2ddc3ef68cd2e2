"""Fixtures of the console's browser tests: the built console, a real `fustgo serve --sample`
on a free port with a temporary store, and Playwright pages in Debian's Chromium.

- `console_build` (session): the folder of a current build. `$FUSTGO_CONSOLE_DIR` when set
  (used as is); else the package's `server/console/`, rebuilt with `npm --prefix web run
  build` when its `index.html` is missing or older than a source of the console.
- `console` (module): a `ConsoleServer` with `.url` and `.api(method, path, json=None)`.
- `browser`, `page` (function; one Chromium shared by consecutive tests): a 1440×900 page
  in a fresh context (empty localStorage, English). An uncaught exception in the page
  (`pageerror`) fails the test; a failed test leaves `tests/e2e/artifacts/<test>-failure.png`.
- `screenshot(page, name)`: saves `tests/e2e/artifacts/<name>.png`.

Playwright's sync API runs its own event loop in a greenlet; it refuses to start inside a
running asyncio loop (these fixtures never are: the suite has no asyncio plugin, async tests
call `asyncio.run` themselves), and while started it blocks `asyncio.run`: see
`SharedBrowser` for why the browser is not a session fixture.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.cli_runner import REPO, fustgo_command

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1440, "height": 900}
WEB = REPO / "web"
PACKAGED_BUILD = REPO / "src" / "fustgo" / "server" / "console"
ARTIFACTS = REPO / "tests" / "e2e" / "artifacts"
CONSOLE_SOURCES = ["src", "public", "index.html", "package.json", "vite.config.ts", "tsconfig.json"]
"""What a build is made from (relative to web/): newer than the build means rebuild."""
BUILD_TIMEOUT = 300.0
START_TIMEOUT = 60.0
expect.set_options(timeout=10_000)
"""Polls of `expect(...)` give up after 10 s (a page's first API calls on a busy CI host)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here drives a browser: mark them `e2e`, skip them (outside CI) without
    Chromium. In CI a missing Chromium fails the tests instead (`make test` installs it)."""
    here = Path(__file__).parent
    missing = not CHROMIUM.exists() and not os.environ.get("CI")
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)
            if missing:
                item.add_marker(
                    pytest.mark.skip(
                        reason=f"{CHROMIUM} is missing (install it: apt-get install chromium,"
                        " or run `make test`, which does)"
                    )
                )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the item, so `page` knows at teardown if the test failed."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"report_{report.when}", report)


# The build -----------------------------------------------------------------------------


def newest_source_mtime() -> float:
    newest = 0.0
    for name in CONSOLE_SOURCES:
        path = WEB / name
        paths = path.rglob("*") if path.is_dir() else [path]
        for each in paths:
            if each.is_file():
                newest = max(newest, each.stat().st_mtime)
    return newest


def build_is_current(folder: Path) -> bool:
    index = folder / "index.html"
    return index.is_file() and index.stat().st_mtime >= newest_source_mtime()


@pytest.fixture(scope="session")
def console_build() -> Path:
    """A folder with a current build of the console."""
    configured = os.environ.get("FUSTGO_CONSOLE_DIR")
    if configured:
        folder = Path(configured)
        if not (folder / "index.html").is_file():
            pytest.fail(f"FUSTGO_CONSOLE_DIR={configured} has no index.html: build it first")
        return folder
    # One build at a time, even across test processes sharing this checkout.
    with (Path(tempfile.gettempdir()) / "fustgo-console-build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not build_is_current(PACKAGED_BUILD):
            npm = shutil.which("npm")
            if npm is None:
                pytest.fail("npm is missing: the console cannot be built (run `make console`)")
            if not (WEB / "node_modules").is_dir():
                subprocess.run([npm, "--prefix", str(WEB), "ci"], check=True, timeout=BUILD_TIMEOUT)
            built = subprocess.run(
                [npm, "--prefix", str(WEB), "run", "build"],
                capture_output=True,
                text=True,
                timeout=BUILD_TIMEOUT,
                check=False,
            )
            if built.returncode != 0:
                pytest.fail(
                    f"`npm run build` failed:\n{built.stdout[-4000:]}\n{built.stderr[-4000:]}"
                )
    return PACKAGED_BUILD


# The server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ConsoleServer:
    """A running `fustgo serve --sample` and an HTTP client of its API."""

    url: str
    workdir: Path
    log: Path
    process: subprocess.Popen[bytes]
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(base_url=self.url, timeout=30.0)

    def api(self, method: str, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        """`api("GET", "jobs")` or `api("POST", "/api/v1/jobs/x/start")`: a relative path is
        under `/api/v1/`. Returns the response whatever its status."""
        if not path.startswith("/"):
            path = f"/api/v1/{path}"
        return self.client.request(method, path, json=json, **kwargs)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def start_server(workdir: Path, build: Path) -> ConsoleServer:
    port = free_port()
    log = workdir / "serve.log"
    env = {**os.environ, "FUSTGO_CONSOLE_DIR": str(build), "PYTHONUNBUFFERED": "1"}
    env.pop("FUSTGO_CONFIG", None)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*fustgo_command("serve", "--sample", "--port", str(port), "--log-level", "warning")],
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = ConsoleServer(
        url=f"http://127.0.0.1:{port}", workdir=workdir, log=log, process=process
    )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(
                f"fustgo serve exited ({process.returncode}):\n{server.log_text()}"
            )
        try:
            if server.client.get("/health", timeout=1.0).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    stop_server(server)
    raise AssertionError(
        f"fustgo serve did not answer /health in {START_TIMEOUT}s:\n{server.log_text()}"
    )


def stop_server(server: ConsoleServer) -> None:
    server.client.close()
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)


@pytest.fixture(scope="module")
def console(
    console_build: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleServer]:
    """A real server for the module's tests: its store is `.fustgo/fustgo.db` in a fresh
    folder, seeded with the sample job and connection."""
    server = start_server(tmp_path_factory.mktemp("serve"), console_build)
    try:
        yield server
    finally:
        stop_server(server)


# The browser ---------------------------------------------------------------------------


class SharedBrowser:
    """One Chromium for every browser test in a row, closed after the last of them.

    Playwright's sync API keeps its event loop marked running in the main thread while it
    is started, so `asyncio.run` (what the suite's async tests call) would refuse to run
    after it: a session-scoped browser would break the tests that follow. It is started by
    the first test that needs it and stopped when the next test is not a browser test."""

    def __init__(self) -> None:
        self._playwright: Any = None
        self._browser: Any = None

    def get(self) -> Any:
        if self._browser is None:
            if not CHROMIUM.exists():
                pytest.fail(
                    f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)"
                )
            from playwright.sync_api import sync_playwright

            self._playwright = sync_playwright().start()
            self._browser = self._playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
            )
        return self._browser

    def stop(self) -> None:
        browser, playwright = self._browser, self._playwright
        self._browser = self._playwright = None
        try:
            if browser is not None:
                browser.close()
        finally:
            if playwright is not None:
                playwright.stop()


SHARED_BROWSER = SharedBrowser()


def uses_browser(item: pytest.Item | None) -> bool:
    return item is not None and "browser" in getattr(item, "fixturenames", ())


@pytest.hookimpl(trylast=True)  # after the fixtures' teardown (the page's context)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if not uses_browser(nextitem):
        SHARED_BROWSER.stop()


def pytest_sessionfinish() -> None:
    SHARED_BROWSER.stop()


@pytest.fixture
def browser() -> Any:
    """Chromium (Playwright's sync API), shared by consecutive browser tests."""
    return SHARED_BROWSER.get()


@dataclass
class PageLog:
    """What the page reported: uncaught exceptions fail the test, console errors are kept
    for tests that want to assert on them."""

    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)


@pytest.fixture
def page_log() -> PageLog:
    return PageLog()


@pytest.fixture
def page(
    browser: Any, console: ConsoleServer, page_log: PageLog, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """A page in a fresh context (1440×900, English, empty storage) of `console`; navigate
    with `page.goto(console.url + "/jobs")`. Default timeouts: 15 s."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-US", timezone_id="UTC")
    context.set_default_timeout(15_000)
    opened = context.new_page()
    opened.on(
        "pageerror",
        lambda error: page_log.page_errors.append(f"{error.name}: {error.message}\n{error.stack}"),
    )
    opened.on(
        "console",
        lambda message: (
            page_log.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    try:
        yield opened
        failed = getattr(request.node, "report_call", None)
        if failed is not None and failed.failed:
            screenshot(opened, f"{artifact_name(request.node.name)}-failure")
    finally:
        context.close()
    if page_log.page_errors:
        pytest.fail("Uncaught exceptions in the page:\n" + "\n".join(page_log.page_errors))


def artifact_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_")


def screenshot(page: Any, name: str, *, full_page: bool = False) -> Path:
    """Save a screenshot as `tests/e2e/artifacts/<name>.png` and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{artifact_name(name)}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


OPEN_DROPDOWN = ".ant-select-dropdown:not(.ant-select-dropdown-hidden)"


def choose(page: Any, test_id: str, option: str) -> None:
    """Pick, in the antd Select marked `test_id`, the option whose title (or text) starts
    with `option`. The text is typed first: a searchable Select's option list is virtual, so
    an option far down is not in the page until the list is filtered. Waits for the list to
    close, so that the next Select's list is not taken for this one while it fades out."""
    page.get_by_test_id(test_id).click()
    page.keyboard.type(option)
    options = page.locator(f"{OPEN_DROPDOWN} .ant-select-item-option")
    by_title = options.and_(page.locator(f"[title^='{option}']"))
    by_text = options.filter(has_text=re.compile("^" + re.escape(option)))
    by_title.or_(by_text).first.click()
    expect(page.locator(OPEN_DROPDOWN)).to_have_count(0)
