"""The console's catalog pages in a real browser against a real `fustgo serve --sample`:
plugins (list, switch off and on through the API), connections (create a PostgreSQL one in
the drawer, test it), data preview (rows and statistics of a table in a unique schema) and
schema compare (a column the target lacks shows as missing). The local PostgreSQL is the one
of tests/databases.py; each test's schema is dropped afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.databases import PG_CONNECTION, pg, pg_schema
from tests.e2e.console.conftest import ConsoleServer, screenshot

pytestmark = pytest.mark.e2e

LANGUAGES = ["en", "zh-CN"]


@pytest.fixture
def schema() -> Iterator[str]:
    """A schema with `people` (3 rows, a NULL email) and `people_copy` (no `email`)."""
    with pg_schema("console") as name:
        pg(
            f'CREATE TABLE "{name}".people (id integer PRIMARY KEY, name varchar(50), '
            f"email text, score numeric(10,2));"
            f"INSERT INTO \"{name}\".people VALUES (1, 'ann', 'ann@example.com', 1.5), "
            f"(2, 'bob', NULL, 2.5), (3, 'ann', 'cy@example.com', NULL);"
            f'CREATE TABLE "{name}".people_copy (id bigint, name varchar(50), score numeric(10,2))'
        )
        yield name


@pytest.fixture
def pg_connection(console: ConsoleServer) -> Iterator[dict[str, Any]]:
    """A saved connection to the local PostgreSQL, deleted afterwards."""
    response = console.api(
        "POST",
        "connections",
        {"name": "e2e-pg-preview", "type": "postgresql", "config": PG_CONNECTION},
    )
    assert response.status_code == 201, response.text
    saved = response.json()
    yield saved
    console.api("DELETE", f"connections/{saved['connection_id']}")


def plugin_state(console: ConsoleServer, name: str, kind: str) -> dict[str, Any]:
    response = console.api("GET", f"plugins/{name}", params={"kind": kind})
    assert response.status_code == 200, response.text
    return response.json()


def test_plugins_page_lists_plugins_and_switches_one_off_and_on(
    page: Any, console: ConsoleServer
) -> None:
    page.goto(console.url + "/plugins")
    expect(page.get_by_test_id("plugin-row-input-csv")).to_be_visible()
    expect(page.get_by_test_id("plugin-row-input-postgresql")).to_be_visible()
    expect(page.get_by_test_id("plugin-row-output-postgresql")).to_be_visible()

    page.get_by_test_id("plugin-search").fill("csv")
    expect(page.get_by_test_id("plugin-row-input-csv")).to_be_visible()
    expect(page.get_by_test_id("plugin-row-input-postgresql")).to_have_count(0)
    page.get_by_test_id("plugin-search").fill("")

    switch = page.get_by_test_id("plugin-switch-input-csv")
    expect(switch).to_have_attribute("aria-checked", "true")
    switch.click()
    expect(switch).to_have_attribute("aria-checked", "false")
    expect(page.get_by_test_id("plugin-switched-by-input-csv")).to_have_text("switched here")
    assert plugin_state(console, "csv", "input")["enabled"] is False
    assert plugin_state(console, "csv", "input")["switched_by"] == "api"

    switch.click()
    expect(switch).to_have_attribute("aria-checked", "true")
    assert plugin_state(console, "csv", "input")["enabled"] is True

    # The drawer: description, the schema's fields (nested connection expanded), examples.
    page.get_by_test_id("plugin-row-input-postgresql").click()
    drawer = page.get_by_test_id("plugin-drawer")
    expect(drawer.get_by_test_id("plugin-description")).to_contain_text("PostgreSQL")
    table = drawer.get_by_test_id("plugin-schema-table")
    expect(table.get_by_text("connection", exact=True)).to_be_visible()
    expect(table.get_by_text("sslmode", exact=True)).to_be_visible()
    drawer.get_by_role("tab", name="Examples (2)").click()
    expect(drawer.get_by_test_id("plugin-examples")).to_contain_text("type: postgresql")


def test_a_postgresql_connection_is_created_and_tested_in_the_drawer(
    page: Any, console: ConsoleServer
) -> None:
    page.goto(console.url + "/connections")
    expect(page.get_by_test_id("connection-row-sample-sqlite")).to_be_visible()
    page.get_by_test_id("connection-create").click()
    drawer = page.get_by_test_id("connection-drawer")
    drawer.get_by_test_id("connection-name").fill("e2e-pg")
    drawer.get_by_test_id("field-host").locator("input").fill(PG_CONNECTION["host"])
    drawer.get_by_test_id("field-database").locator("input").fill(PG_CONNECTION["database"])
    drawer.get_by_test_id("field-user").locator("input").fill(PG_CONNECTION["user"])

    drawer.get_by_test_id("connection-test").click()
    result = drawer.get_by_test_id("connection-test-result")
    expect(result).to_have_attribute("data-ok", "true")
    version = pg("SHOW server_version")[0][0].split()[0]
    expect(drawer.get_by_test_id("connection-test-product")).to_contain_text(
        f"PostgreSQL {version}"
    )

    drawer.get_by_test_id("connection-save").click()
    row = page.get_by_test_id("connection-row-e2e-pg")
    expect(row).to_contain_text("127.0.0.1 / test")
    expect(row).to_contain_text("PostgreSQL")  # the test's result is remembered
    saved = [c for c in console.api("GET", "connections").json()["items"] if c["name"] == "e2e-pg"]
    assert len(saved) == 1 and saved[0]["config"]["user"] == "postgres"

    # A saved connection tests by its id; then it is deleted after a confirm.
    page.get_by_test_id("connection-test-e2e-pg").click()
    expect(page.get_by_text(f"Connected to PostgreSQL {version}").first).to_be_visible()
    page.get_by_test_id("connection-delete-e2e-pg").click()
    page.locator(".ant-popconfirm").get_by_role("button", name="Delete").click()
    expect(page.get_by_test_id("connection-row-e2e-pg")).to_have_count(0)
    names = [c["name"] for c in console.api("GET", "connections").json()["items"]]
    assert "e2e-pg" not in names


def test_data_preview_shows_rows_and_statistics(
    page: Any, console: ConsoleServer, pg_connection: dict[str, Any], schema: str
) -> None:
    connection_id = pg_connection["connection_id"]
    page.goto(f"{console.url}/preview?connection={connection_id}&table={schema}.people")
    page.get_by_test_id("preview-run").click()
    table = page.get_by_test_id("preview-table")
    expect(table.locator(".ant-table-tbody tr.ant-table-row")).to_have_count(3)
    expect(table).to_contain_text("ann@example.com")
    expect(table).to_contain_text("character varying(50)")
    header = table.locator(".ant-table-thead")  # tbody has a hidden copy that measures widths
    expect(header.get_by_test_id("summary-email")).to_contain_text("33%")
    expect(header.get_by_test_id("summary-name")).to_contain_text("2 distinct")
    header.get_by_test_id("stats-icon-name").hover()
    expect(page.get_by_test_id("stats-name")).to_contain_text("ann")

    # A missing table: the server's message, with its suggestion.
    page.get_by_test_id("preview-endpoint-table").fill(f"{schema}.nobody")
    page.get_by_test_id("preview-run").click()
    expect(page.locator(".ant-alert-error")).to_contain_text("does not exist")


def test_schema_compare_shows_a_missing_column(
    page: Any, console: ConsoleServer, pg_connection: dict[str, Any], schema: str
) -> None:
    connection_id = pg_connection["connection_id"]
    page.goto(f"{console.url}/preview?tab=compare&connection={connection_id}&table={schema}.people")
    page.get_by_test_id("compare-target-table").fill(f"{schema}.people_copy")
    page.get_by_test_id("compare-run").click()
    row = page.get_by_test_id("compare-row-email")
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "missing_in_target")
    expect(row).to_contain_text("Missing in target")
    expect(page.get_by_test_id("compare-row-id").locator("[data-status]")).to_have_attribute(
        "data-status", "compatible"
    )
    expect(page.get_by_test_id("compare-count-missing_in_target")).to_contain_text("1")


@pytest.mark.parametrize("language", LANGUAGES)
def test_screenshots_of_the_catalog_pages(
    page: Any,
    console: ConsoleServer,
    pg_connection: dict[str, Any],
    schema: str,
    language: str,
) -> None:
    query = f"lang={language}"
    page.goto(f"{console.url}/plugins?{query}")
    expect(page.get_by_test_id("plugin-row-input-postgresql")).to_be_visible()
    screenshot(page, f"plugins-{language}")

    page.goto(f"{console.url}/connections?{query}")
    expect(page.get_by_test_id("connection-row-e2e-pg-preview")).to_be_visible()
    page.get_by_test_id("connection-test-e2e-pg-preview").click()
    expect(
        page.get_by_test_id("connection-row-e2e-pg-preview").locator(".ant-tag-success")
    ).to_be_visible()
    screenshot(page, f"connections-{language}")

    connection_id = pg_connection["connection_id"]
    page.goto(f"{console.url}/preview?{query}&connection={connection_id}&table={schema}.people")
    page.get_by_test_id("preview-run").click()
    expect(
        page.get_by_test_id("preview-table").locator(".ant-table-tbody tr.ant-table-row")
    ).to_have_count(3)
    screenshot(page, f"preview-{language}")
