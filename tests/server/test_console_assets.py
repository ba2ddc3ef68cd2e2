"""The web console served at `/`: files of the build, the fallback to `index.html` for
client-side routes, the API's JSON 404 kept, cache headers, and the page shown unbuilt."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from fustgo.server.console_assets import CONSOLE_DIR_ENV, IMMUTABLE, console_dir
from fustgo.server.settings import ServerSettings
from tests.server.conftest import make_client

pytestmark = pytest.mark.unit

INDEX = '<!doctype html><div id="root"></div><script src="/assets/x.js"></script>'


@pytest.fixture
def build(tmp_path: Path) -> Path:
    """A fake build: what `vite build` writes."""
    folder = tmp_path / "console"
    (folder / "assets").mkdir(parents=True)
    (folder / "index.html").write_text(INDEX)
    (folder / "assets" / "x.js").write_text("console.log('x')")
    (folder / "favicon.svg").write_text("<svg/>")
    return folder


@pytest.fixture
def console(server_settings: ServerSettings, build: Path) -> Iterator[Any]:
    with make_client(replace(server_settings, console_dir=build)) as test_client:
        yield test_client


def test_the_root_serves_index_html_revalidated(console: Any) -> None:
    response = console.get("/")
    assert response.status_code == 200
    assert response.text == INDEX
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"


def test_assets_are_served_with_a_long_cache(console: Any) -> None:
    response = console.get("/assets/x.js")
    assert response.status_code == 200 and response.text == "console.log('x')"
    assert "javascript" in response.headers["content-type"]
    assert response.headers["cache-control"] == IMMUTABLE
    favicon = console.get("/favicon.svg")
    assert favicon.status_code == 200 and favicon.headers["cache-control"] == "no-cache"


def test_a_missing_asset_is_a_404_not_the_app(console: Any) -> None:
    response = console.get("/assets/gone-1234.js")
    assert response.status_code == 404
    assert "root" not in response.text


@pytest.mark.parametrize("path", ["/jobs", "/jobs/abc", "/designer/x", "/settings/a/b?lang=zh-CN"])
def test_client_side_routes_fall_back_to_index_html(console: Any, path: str) -> None:
    response = console.get(path)
    assert response.status_code == 200 and response.text == INDEX
    assert response.headers["cache-control"] == "no-cache"


def test_head_works_too(console: Any) -> None:
    assert console.head("/jobs/abc").status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/nope", "/api", "/health/x", "/metrics"])
def test_unknown_server_paths_keep_their_json_404(console: Any, path: str) -> None:
    response = console.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["message"] == f"No such endpoint: GET {path}"


def test_the_api_and_health_still_answer(console: Any) -> None:
    assert console.get("/health").status_code == 200
    assert console.get("/api/v1/jobs").status_code == 200
    missing = console.get("/api/v1/jobs/does-not-exist")
    assert missing.status_code == 404 and "error" in missing.json()
    assert console.get("/api/v1/docs").status_code == 200


def test_other_methods_on_unknown_paths_are_json(console: Any) -> None:
    response = console.post("/jobs/abc", json={})
    assert response.status_code in (404, 405)
    assert "error" in response.json()
    assert console.post("/api/v1/nope", json={}).status_code == 404


def test_paths_cannot_leave_the_build(console: Any, build: Path) -> None:
    (build.parent / "secret.txt").write_text("secret")
    for path in ("/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2F..%2Fsecret.txt"):
        assert "secret" not in console.get(path).text


def test_a_build_made_while_running_is_served(
    server_settings: ServerSettings, tmp_path: Path
) -> None:
    folder = tmp_path / "later"
    with make_client(replace(server_settings, console_dir=folder)) as client:
        assert "not built" in client.get("/").text
        folder.mkdir()
        (folder / "index.html").write_text(INDEX)
        assert client.get("/").text == INDEX


def test_unbuilt_the_root_says_how_to_build(
    server_settings: ServerSettings, tmp_path: Path
) -> None:
    with make_client(replace(server_settings, console_dir=tmp_path / "none")) as client:
        response = client.get("/")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert "make console" in response.text
        assert 'href="/api/v1/docs"' in response.text
        deep = client.get("/jobs/abc")
        assert deep.status_code == 404 and "make console" in deep.text
        assert client.get("/api/v1/nope").json()["error"]


def test_the_folder_comes_from_settings_then_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(CONSOLE_DIR_ENV, raising=False)
    assert console_dir().name == "console"
    monkeypatch.setenv(CONSOLE_DIR_ENV, str(tmp_path))
    assert console_dir() == tmp_path
    assert console_dir(tmp_path / "set") == tmp_path / "set"


def test_the_environment_variable_is_used_by_the_app(
    monkeypatch: pytest.MonkeyPatch, server_settings: ServerSettings, build: Path
) -> None:
    monkeypatch.setenv(CONSOLE_DIR_ENV, str(build))
    with make_client(server_settings) as client:
        assert client.get("/designer/x").text == INDEX
