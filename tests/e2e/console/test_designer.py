"""The pipeline designer in a real browser against a real `fustgo serve --sample`:

(a) the design doc's "simple data sync flow" (§4.2) built by dragging CSV → filter →
    mapping → SQLite from the palette and connecting handles, forms filled, the generated
    YAML read back from the editor, saved, run, and the run's counts checked;
(b) a YAML with a `switch` pasted in YAML mode draws the fork; a node moved and a field
    edited in the panel change the YAML; a reload keeps the positions;
(c) an invalid field turns its node red with the message, and Run is disabled with why.

Screenshots: tests/e2e/artifacts/designer-en.png and designer-zh-CN.png.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.sync_api import expect

from tests.e2e.console.conftest import ConsoleServer, screenshot

pytestmark = pytest.mark.e2e

ORDERS = """order_id,customer,amount,kind
1,Ann,5,a
2,Bob,25,b
3,Cid,40,a
4,Dee,8,b
5,Eve,99,a
"""
"""Three rows have amount > 10."""

RUN_DEADLINE = 90.0


def write_orders(folder: Path) -> Path:
    path = folder / "orders.csv"
    path.write_text(ORDERS)
    return path


def canvas(page: Any) -> Any:
    return page.get_by_test_id("canvas")


def node(page: Any, path: str) -> Any:
    return page.get_by_test_id(f"node-{path}")


def drop(page: Any, kind: str, name: str, x: int, y: int) -> None:
    """Drags a palette item onto the canvas (HTML5 drag and drop) at (x, y) of the canvas."""
    page.get_by_test_id(f"palette-item-{kind}-{name}").drag_to(
        canvas(page), target_position={"x": x, "y": y}
    )


def center(locator: Any) -> tuple[float, float]:
    box = locator.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def connect(page: Any, source_plugin: str, target_plugin: str) -> None:
    """Drags from the source node's right handle to the target node's left handle."""
    source = page.locator(f'.fg-node[data-plugin="{source_plugin}"] .react-flow__handle.source')
    target = page.locator(f'.fg-node[data-plugin="{target_plugin}"] .react-flow__handle.target')
    x, y = center(source)
    page.mouse.move(x, y)
    page.mouse.down()
    tx, ty = center(target)
    page.mouse.move((x + tx) / 2, (y + ty) / 2, steps=5)
    page.mouse.move(tx, ty, steps=10)
    page.mouse.up()


def open_node(page: Any, path: str) -> Any:
    node(page, path).click()
    panel = page.get_by_test_id("node-panel")
    expect(panel).to_be_visible()
    return panel


def form_field(page: Any, path: str) -> Any:
    """The node form's field `path`, clicking through the form's group tabs to show it."""
    field = page.get_by_test_id("node-form").get_by_test_id(f"field-{path}")
    if field.is_visible():
        return field
    for tab in page.get_by_test_id("node-form").locator('[data-testid^="group-"]').all():
        tab.click()
        if field.is_visible():
            return field
    expect(field).to_be_visible()
    return field


def yaml_text(page: Any) -> str:
    """The YAML editor's document, as CodeMirror shows it."""
    lines = page.get_by_test_id("yaml-editor").locator(".cm-line").all_inner_texts()
    return "\n".join(line.replace("\u00a0", " ") for line in lines)


def set_mode(page: Any, mode: str) -> None:
    page.get_by_test_id(f"mode-{mode}").click()


def paste_yaml(page: Any, text: str) -> None:
    set_mode(page, "yaml")
    editor = page.get_by_test_id("yaml-editor").locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)


def wait_for_run(console: ConsoleServer, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + RUN_DEADLINE
    while time.monotonic() < deadline:
        executions = console.api("GET", f"jobs/{job_id}/executions").json()["items"]
        done = [item for item in executions if item["status"] in ("succeeded", "failed")]
        if done:
            return done[0]
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish in {RUN_DEADLINE}s")


def node_transform(page: Any, path: str) -> str:
    """Where React Flow placed the node (flow coordinates, whatever the zoom)."""
    wrapper = page.locator(f'.react-flow__node:has([data-testid="node-{path}"])')
    return str(wrapper.evaluate("element => element.style.transform"))


def test_simple_sync_flow_built_by_dragging(
    page: Any, console: ConsoleServer, tmp_path: Path
) -> None:
    orders = write_orders(tmp_path)
    database = tmp_path / "out" / "orders.db"
    page.goto(console.url + "/designer")
    expect(page.get_by_test_id("canvas-empty")).to_be_visible()
    expect(page.get_by_test_id("designer-run")).to_be_disabled()

    for index, (kind, name) in enumerate(
        [("input", "csv"), ("processor", "filter"), ("processor", "mapping"), ("output", "sqlite")]
    ):
        drop(page, kind, name, 150 + (index % 2) * 60, 80 + index * 140)
    expect(page.locator(".fg-node")).to_have_count(4)
    expect(page.get_by_test_id("canvas-empty")).to_have_count(0)

    connect(page, "csv", "filter")
    connect(page, "filter", "mapping")
    connect(page, "mapping", "sqlite")
    for path in ["input", "pipeline.processors[0]", "pipeline.processors[1]", "output"]:
        expect(node(page, path)).to_be_visible()
    expect(page.locator(".react-flow__edge")).to_have_count(3)

    # A refused connection says why: the CSV input already leads to the filter.
    connect(page, "csv", "sqlite")
    expect(page.locator(".ant-message", has_text="Cannot connect")).to_be_visible()
    expect(page.locator(".react-flow__edge")).to_have_count(3)
    page.get_by_test_id("designer-name").fill("designer-e2e-sync")

    open_node(page, "input")
    paths = form_field(page, "paths")
    paths.locator("input").fill(str(orders))
    paths.locator("input").press("Enter")
    open_node(page, "pipeline.processors[0]")
    form_field(page, "condition").locator("textarea").fill("amount > 10")
    open_node(page, "pipeline.processors[1]")
    mappings = form_field(page, "field_mappings")
    mappings.get_by_test_id("field-field_mappings-entries-add").click()
    mappings.get_by_test_id("field-field_mappings-entries-key-0").fill("customer")
    mappings.get_by_test_id("field-field_mappings-entries-value-0").fill("customer_name")
    open_node(page, "output")
    form_field(page, "connection.database").locator("input").fill(str(database))
    form_field(page, "write.table").locator("input").fill("orders")

    expected = {
        "name": "designer-e2e-sync",
        "input": {"type": "csv", "paths": [str(orders)]},
        "pipeline": {
            "processors": [
                {"type": "filter", "condition": "amount > 10"},
                {"type": "mapping", "field_mappings": {"customer": "customer_name"}},
            ]
        },
        "output": {
            "type": "sqlite",
            "connection": {"database": str(database)},
            "write": {"table": "orders"},
        },
    }
    # Every node valid (green) once the server checked the YAML.
    expect(page.get_by_test_id("validation-status")).to_have_attribute("data-errors", "0")
    # More room: the palette folded away, the graph laid out and fitted.
    page.get_by_test_id("designer-palette-toggle").click()
    expect(page.get_by_test_id("palette")).to_have_count(0)
    page.get_by_test_id("designer-layout").click()
    for path in ["input", "output"]:
        expect(node(page, path)).to_be_in_viewport(ratio=0.99)  # sub-pixel zoom
    expect(page.locator(".ant-message-notice")).to_have_count(0)
    screenshot(page, "designer-en")
    set_mode(page, "split")
    expect(page.get_by_test_id("yaml-editor")).to_be_visible()
    assert yaml.safe_load(yaml_text(page)) == expected
    set_mode(page, "visual")

    # The records after the filter, previewed before the pipeline is ever saved.
    panel = open_node(page, "pipeline.processors[0]")
    panel.locator('.ant-tabs-tab[data-node-key="preview"]').click()
    page.get_by_test_id("preview-run").click()
    expect(page.get_by_test_id("preview-count")).to_contain_text("3 records here")
    expect(page.get_by_test_id("preview-table")).to_contain_text("order_id")
    assert console.api("GET", "jobs", params={"q": "designer-e2e-sync"}).json()["total"] == 0

    page.get_by_test_id("designer-save").click()
    page.wait_for_url(re.compile(r"/designer/[0-9a-f]+$"))
    job_id = page.url.rsplit("/", 1)[1]
    saved = console.api("GET", f"jobs/{job_id}").json()
    assert yaml.safe_load(saved["config_yaml"]) == expected
    assert set(saved["flow_diagram"]["positions"]) == {
        "input",
        "pipeline.processors[0]",
        "pipeline.processors[1]",
        "output",
    }

    expect(page.get_by_test_id("designer-run")).to_be_enabled()
    page.get_by_test_id("designer-run").click()
    expect(page.get_by_test_id("run-bar")).to_be_visible()
    execution = wait_for_run(console, job_id)
    assert execution["status"] == "succeeded", execution
    assert execution["records_read"] == 5
    assert execution["records_written"] == 3
    expect(page.get_by_test_id("run-bar")).to_have_attribute(
        "data-status", "succeeded", timeout=30_000
    )
    expect(page.get_by_test_id("run-bar")).to_contain_text("3")
    screenshot(page, "designer-run-en")

    page.get_by_test_id("run-job-link").click()
    page.wait_for_url(re.compile(rf"/jobs/{job_id}$"))
    expect(page.get_by_text("Succeeded").first).to_be_visible(timeout=30_000)


BRANCH = """# Orders routed by kind.
name: designer-e2e-branch
input:
  type: csv
  paths: ["{orders}"]
pipeline:
  processors:
    - type: filter
      condition: "amount > 0"
output:
  type: switch
  cases:
    - condition: "kind = 'a'"
      output:
        type: json
        path: "{out}/a.jsonl"
    - condition: "kind = 'b'"
      processors:
        - type: mapping
          drop: [kind]
      output:
        type: json
        path: "{out}/b.jsonl"
  default:
    output:
      type: drop
"""


def test_switch_yaml_draws_the_fork_and_edits_flow_back(
    page: Any, console: ConsoleServer, tmp_path: Path
) -> None:
    orders = write_orders(tmp_path)
    page.goto(console.url + "/designer")
    expect(page.get_by_test_id("palette-item-input-csv")).to_be_visible()
    paste_yaml(page, BRANCH.format(orders=orders, out=tmp_path / "out"))

    set_mode(page, "visual")
    for path in [
        "input",
        "pipeline.processors[0]",
        "output",
        "output.cases[0].output",
        "output.cases[1].processors[0]",
        "output.cases[1].output",
        "output.default.output",
    ]:
        expect(node(page, path)).to_be_visible()
    labels = page.locator(".fg-edge-condition")
    expect(labels).to_have_count(3)
    expect(page.locator(".fg-edge-condition", has_text="kind = 'a'")).to_be_visible()
    expect(page.locator(".fg-edge-condition", has_text="default")).to_be_visible()

    # Clicking a case's label opens its condition in the panel.
    page.locator(".fg-edge-condition", has_text="kind = 'b'").click()
    expect(page.get_by_test_id("edge-condition")).to_have_value("kind = 'b'")

    # Move the filter: drag its body.
    moved = node(page, "pipeline.processors[0]")
    before = node_transform(page, "pipeline.processors[0]")
    x, y = center(moved.locator(".fg-node-title"))
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 20, y + 60, steps=5)
    page.mouse.move(x + 40, y + 120, steps=5)
    page.mouse.up()
    after = node_transform(page, "pipeline.processors[0]")
    assert after != before

    # Edit a field in the panel: the YAML follows, the comment stays.
    open_node(page, "pipeline.processors[0]")
    form_field(page, "condition").locator("textarea").fill("amount > 5")
    set_mode(page, "split")
    expect(page.get_by_test_id("yaml-editor")).to_contain_text("amount > 5")
    text = yaml_text(page)
    assert text.startswith("# Orders routed by kind.")
    assert yaml.safe_load(text)["pipeline"]["processors"][0]["condition"] == "amount > 5"

    page.get_by_test_id("designer-save").click()
    page.wait_for_url(re.compile(r"/designer/[0-9a-f]+$"))
    page.reload()
    expect(node(page, "output.cases[1].output")).to_be_visible()
    assert node_transform(page, "pipeline.processors[0]") == after

    page.goto(page.url + "?lang=zh-CN")
    expect(page.get_by_test_id("mode-visual")).to_have_text("图形")
    expect(node(page, "output")).to_be_visible()
    node(page, "output.cases[0].output").click()
    expect(page.get_by_test_id("node-panel")).to_be_visible()
    screenshot(page, "designer-zh-CN")


INVALID = """name: designer-e2e-invalid
input:
  type: csv
  paths: ["{orders}"]
output:
  type: sqlite
  connection: {{database: "{database}"}}
  write: {{table: orders, mode: sometimes}}
"""


def test_invalid_field_marks_the_node_and_blocks_run(
    page: Any, console: ConsoleServer, tmp_path: Path
) -> None:
    orders = write_orders(tmp_path)
    page.goto(console.url + "/designer")
    expect(page.get_by_test_id("palette-item-input-csv")).to_be_visible()
    paste_yaml(page, INVALID.format(orders=orders, database=tmp_path / "x.db"))
    set_mode(page, "visual")

    output = node(page, "output")
    expect(output).to_have_attribute("data-status", "error")
    expect(node(page, "input")).to_have_attribute("data-status", "ok")
    page.get_by_test_id("node-state-output").hover()
    expect(page.locator(".ant-tooltip", has_text="write.mode")).to_be_visible()
    expect(page.locator(".ant-tooltip", has_text="sometimes")).to_be_visible()

    # YAML mode underlines the same error where the server found it.
    set_mode(page, "yaml")
    underline = page.locator("[data-testid=yaml-editor] .cm-lintRange-error").first
    expect(underline).to_be_visible()
    expect(underline).to_contain_text("sometimes")
    set_mode(page, "visual")

    run = page.get_by_test_id("designer-run")
    expect(run).to_be_disabled()
    page.mouse.move(0, 0)
    page.get_by_test_id("designer-run-wrap").hover()
    reason = page.locator(".ant-tooltip", has_text="Fix the error before running")
    expect(reason).to_be_visible()
    expect(reason).to_contain_text("must be one of")

    # The panel shows the message on the field; fixing it there clears the error.
    open_node(page, "output")
    expect(page.get_by_test_id("node-problems")).to_contain_text("sometimes")
    write_mode = form_field(page, "write.mode")
    write_mode.locator(".ant-select").click()
    page.locator(".ant-select-item-option", has_text="insert").first.click()
    expect(output).to_have_attribute("data-status", re.compile("ok|warning"))
    expect(page.get_by_test_id("yaml-pane")).to_have_count(0)

    # Delete removes the selected node; Ctrl+Z brings it back.
    node(page, "input").click()
    page.keyboard.press("Delete")
    expect(node(page, "input")).to_have_count(0)
    page.get_by_test_id("canvas").click(position={"x": 20, "y": 20})
    page.keyboard.press("Control+z")
    expect(node(page, "input")).to_be_visible()
