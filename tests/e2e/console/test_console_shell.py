"""The console's frame in a real browser against a real `fustgo serve --sample`: it loads at
`/`, the side menu reaches every page, the language switch works and is remembered, and deep
links survive a reload (the server falls back to index.html)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.console.conftest import ConsoleServer, screenshot

pytestmark = pytest.mark.e2e

PAGES = [
    ("Dashboard", "仪表盘", "/", "dashboard-page"),
    ("Jobs", "任务", "/jobs", "jobs-page"),
    ("Designer", "设计器", "/designer", "designer"),
    ("Data preview", "数据预览", "/preview", "preview-page"),
    ("Monitoring", "监控", "/monitoring", "monitoring-page"),
    ("Alerts", "告警", "/alerts", "alerts-page"),
    ("Connections", "数据源连接", "/connections", "connections-page"),
    ("Plugins", "插件", "/plugins", "plugins-page"),
]


def menu(page: Any) -> Any:
    return page.locator(".ant-layout-sider .ant-menu")


def expect_page(page: Any, label: str) -> None:
    """The frame shows `label`'s page: its menu item selected, the page's code loaded (the
    lazy route's spinner gone), not the app's 404."""
    expect(menu(page).locator(".ant-menu-item-selected")).to_have_text(label)
    expect(page.locator(".fg-content > .ant-spin")).to_have_count(0)
    expect(page.get_by_text("This page does not exist.")).to_have_count(0)


def choose_language(page: Any, label: str) -> None:
    page.get_by_test_id("language-switch").click()
    page.locator(".ant-select-dropdown .ant-select-item-option", has_text=label).click()


def test_the_console_loads_at_the_root(page: Any, console: ConsoleServer) -> None:
    response = page.goto(console.url + "/")
    assert response is not None and response.status == 200
    expect(page).to_have_title("FustGo")
    expect(page.locator(".fg-brand")).to_contain_text("FustGo")
    expect_page(page, "Dashboard")
    screenshot(page, "shell-dashboard")


def test_the_menu_reaches_every_page(page: Any, console: ConsoleServer) -> None:
    page.goto(console.url + "/")
    for label, _chinese, path, root in PAGES:
        menu(page).get_by_role("link", name=label, exact=True).click()
        expect(page).to_have_url(console.url + path)
        expect_page(page, label)
        expect(page.get_by_test_id(root)).to_be_visible()
        screenshot(page, f"shell-page-{path.strip('/') or 'dashboard'}")


def test_the_language_switch_is_remembered(page: Any, console: ConsoleServer) -> None:
    page.goto(console.url + "/jobs")
    expect_page(page, "Jobs")
    choose_language(page, "简体中文")
    expect(menu(page)).to_contain_text("数据预览")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    screenshot(page, "shell-zh-CN")
    page.reload()
    expect_page(page, "任务")
    for _label, chinese, _path, _root in PAGES:
        expect(menu(page)).to_contain_text(chinese)
    choose_language(page, "English")
    expect_page(page, "Jobs")
    page.reload()
    expect_page(page, "Jobs")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_the_language_can_come_from_the_url(page: Any, console: ConsoleServer) -> None:
    page.goto(console.url + "/monitoring?lang=zh-CN")
    expect_page(page, "监控")
    expect(page.get_by_test_id("language-switch")).to_contain_text("简体中文")


def test_deep_links_survive_a_reload(page: Any, console: ConsoleServer) -> None:
    response = page.goto(console.url + "/jobs")
    assert response is not None and response.status == 200
    expect_page(page, "Jobs")
    page.reload()
    expect_page(page, "Jobs")
    page.goto(console.url + "/no/such/page")
    expect(page.get_by_text("This page does not exist.")).to_be_visible()


def test_the_api_is_not_the_console(console: ConsoleServer) -> None:
    missing = console.api("GET", "no-such-endpoint")
    assert missing.status_code == 404 and missing.json()["error"]["message"]
    jobs = console.api("GET", "jobs").json()["items"]
    assert [job["job_name"] for job in jobs] == ["sample-quickstart"]
