"""Structure and semantic validation of pipeline documents."""

from __future__ import annotations

import pytest

from fustgo.config.loader import load_pipeline_text
from fustgo.config.models import Diagnostic
from fustgo.plugins.registry import Registry

pytestmark = pytest.mark.unit

IO = "input: {type: csv, paths: [a.csv]}\noutput: {type: jsonl, path: o.jsonl}\n"


def diagnose(text: str, registry: Registry) -> list[Diagnostic]:
    return load_pipeline_text(text, filename="p.yaml", registry=registry, env={}).diagnostics


def one(text: str, registry: Registry) -> Diagnostic:
    found = diagnose(text, registry)
    assert len(found) == 1, [d.message for d in found]
    return found[0]


def test_minimal_pipeline_with_empty_sections_is_valid(registry: Registry) -> None:
    report = load_pipeline_text(
        IO + "settings:\npipeline:\n  processors:\ndead_letter:\n", registry=registry
    )
    assert report.diagnostics == []
    assert report.pipeline is not None
    assert report.pipeline.processors == ()
    assert report.pipeline.dead_letter is None
    assert report.pipeline.settings.parallelism == 1


def test_missing_sections_point_at_the_top(registry: Registry) -> None:
    found = diagnose("name: x\n", registry)
    assert [d.message for d in found] == [
        "Missing required field `input` in the pipeline file",
        "Missing required field `output` in the pipeline file",
    ]
    assert {(d.line, d.column) for d in found} == {(1, 1)}


def test_document_that_is_not_a_mapping(registry: Registry) -> None:
    assert one("- a\n- b\n", registry).message.startswith("A pipeline file is a mapping")
    assert one("just words\n", registry).message.endswith("not a single value")


def test_component_that_is_not_a_mapping(registry: Registry) -> None:
    diagnostic = one("input: csv\noutput: {type: jsonl, path: o}\n", registry)
    assert diagnostic.message == "`input` must be a mapping, got `csv`"
    assert diagnostic.hint is not None and "`type:` names the plugin" in diagnostic.hint
    assert (diagnostic.line, diagnostic.column) == (1, 8)


def test_processor_written_as_a_string(registry: Registry) -> None:
    diagnostic = one(IO + "pipeline:\n  processors:\n    - filter\n", registry)
    assert diagnostic.path == "pipeline.processors[0]"
    assert (diagnostic.line, diagnostic.column) == (5, 7)


def test_missing_type_points_at_the_component_key(registry: Registry) -> None:
    diagnostic = one("input:\n  paths: [a]\noutput: {type: jsonl, path: o}\n", registry)
    assert diagnostic.message == "Missing required field `type` in `input`"
    assert (diagnostic.line, diagnostic.column) == (1, 1)
    assert diagnostic.hint is not None and "`csv`" in diagnostic.hint


def test_misspelt_type_is_one_diagnostic(registry: Registry) -> None:
    diagnostic = one("input: {tpye: csv, paths: [a]}\noutput: {type: jsonl, path: o}\n", registry)
    assert diagnostic.message == "Unknown field `tpye` in `input`"
    assert diagnostic.hint == "Did you mean `type`? It is required."
    assert (diagnostic.line, diagnostic.column) == (1, 9)


def test_type_must_be_a_name(registry: Registry) -> None:
    diagnostic = one("input: {type: [csv]}\noutput: {type: jsonl, path: o}\n", registry)
    assert diagnostic.message == "`input.type` must be a plugin name"


def test_unknown_plugin_without_a_close_name(registry: Registry) -> None:
    diagnostic = one("input: {type: mainframe}\noutput: {type: jsonl, path: o}\n", registry)
    assert diagnostic.message == "Unknown input plugin `mainframe`"
    assert diagnostic.hint == "`fustgo plugins list --kind input` shows the available inputs."


def test_plugin_of_another_kind(registry: Registry) -> None:
    diagnostic = one("input: {type: filter}\noutput: {type: jsonl, path: o}\n", registry)
    assert diagnostic.level == "semantic"
    assert diagnostic.message == "`filter` is a processor plugin, not an input"
    assert diagnostic.hint is not None and "under `pipeline.processors`" in diagnostic.hint
    assert (diagnostic.line, diagnostic.column) == (1, 15)


def test_disabled_plugin(registry: Registry) -> None:
    registry.apply_switches(disabled={"output": ["jsonl"]})
    diagnostic = one(IO, registry)
    assert diagnostic.level == "semantic"
    assert (
        diagnostic.message
        == "The output plugin `jsonl` is disabled by `plugins` in the main config"
    )
    assert diagnostic.path == "output.type"


def test_misspelt_section_and_processors_key(registry: Registry) -> None:
    found = diagnose(IO + "pipline: {}\npipeline:\n  processor: []\ndeadletter: {}\n", registry)
    assert [(d.message, d.hint) for d in found] == [
        ("Unknown field `pipline` in the pipeline file", "Did you mean `pipeline`?"),
        ("Unknown field `processor` in `pipeline`", "Did you mean `processors`?"),
        ("Unknown field `deadletter` in the pipeline file", "Did you mean `dead_letter`?"),
    ]


def test_unknown_field_without_a_close_name_lists_the_known_ones(registry: Registry) -> None:
    diagnostic = one(
        "input: {type: csv, paths: [a], zzz: 1}\noutput: {type: jsonl, path: o}\n", registry
    )
    assert diagnostic.message == "Unknown field `zzz` in `input`"
    assert diagnostic.hint == "Known fields: `paths`, `delimiter`."
    assert (diagnostic.line, diagnostic.column) == (1, 32)


def test_literal_lists_allowed_values_and_suggests(registry: Registry) -> None:
    text = (
        "input: {type: csv, paths: [a]}\n"
        "pipeline:\n  processors:\n    - {type: filter, condition: a > 1, mode: kep}\n"
        "output: {type: jsonl, path: o}\n"
    )
    diagnostic = one(text, registry)
    assert (
        diagnostic.message
        == "`pipeline.processors[0].mode` must be one of `keep`, `drop`, got `kep`"
    )
    assert diagnostic.hint == "Did you mean `keep`?"


def test_secret_values_are_never_echoed(registry: Registry) -> None:
    text = (
        "input: {type: csv, paths: [a]}\n"
        "output:\n  type: postgresql\n  connection: {password: 12345}\n  write: {table: t}\n"
    )
    diagnostic = one(text, registry)
    assert diagnostic.path == "output.connection.password"
    assert "12345" not in diagnostic.message + str(diagnostic.hint)


def test_number_where_a_string_is_expected_hints_at_quotes(registry: Registry) -> None:
    diagnostic = one(
        "input: {type: csv, paths: [a]}\noutput: {type: jsonl, path: 2024}\n", registry
    )
    assert diagnostic.message == "`output.path` must be a string, got `2024`"
    assert diagnostic.hint == 'Quote it to make it a string: `"2024"`.'


def test_settings_are_validated_with_their_model(registry: Registry) -> None:
    text = IO + (
        "settings:\n"
        "  parallelism: 0\n"
        "  batch_size: 1.5\n"
        "  retry: {initial_delay: soon, max_retries: -1}\n"
        "  speed: {bytes_per_sec: 10MiB}\n"
        "  error_limit: {percentage: 2}\n"
        "  queue: 5\n"
        "  paralelism: 2\n"
    )
    assert [(d.path, d.message) for d in diagnose(text, registry)] == [
        ("settings.parallelism", "`settings.parallelism` must be at least 1, got `0`"),
        ("settings.batch_size", "`settings.batch_size` must be a whole number, got `1.5`"),
        (
            "settings.retry.initial_delay",
            "`settings.retry.initial_delay`: `soon` is not a duration; write e.g. `500ms`, "
            "`30s`, `5m` or `1h`",
        ),
        ("settings.retry.max_retries", "`settings.retry.max_retries` must be at least 0, got `-1`"),
        (
            "settings.error_limit.percentage",
            "`settings.error_limit.percentage` must be at most 1, got `2`",
        ),
        ("settings.queue", "`settings.queue` must be a mapping, got `5`"),
        ("settings.paralelism", "Unknown field `paralelism` in `settings`"),
    ]


def test_settings_units_are_parsed(registry: Registry) -> None:
    text = (
        IO
        + "settings: {retry: {initial_delay: 500ms, max_delay: 1m},"
        + " speed: {bytes_per_sec: 10MiB}}\n"
    )
    report = load_pipeline_text(text, registry=registry)
    assert report.pipeline is not None
    settings = report.pipeline.settings
    assert (settings.retry.initial_delay, settings.retry.max_delay) == (0.5, 60.0)
    assert settings.speed.bytes_per_sec == 10 * 1024 * 1024


def test_sql_errors_anywhere_in_a_config(registry: Registry) -> None:
    text = (
        "input: {type: sqlite, query: {table: t, where: 'id = = 1'}}\n"
        "output: {type: jsonl, path: o}\n"
    )
    diagnostic = one(text, registry)
    assert diagnostic.level == "semantic"
    assert diagnostic.path == "input.query.where"
    assert (diagnostic.line, diagnostic.column) == (1, 48)


def test_top_level_errors_do_not_hide_component_errors(registry: Registry) -> None:
    text = (
        "settings: {parallelism: x}\n"
        "input: {type: csv, paths: [a]}\n"
        "pipeline: {processors: [{type: filter, condition: 'a >'}]}\n"
        "output: {type: postgresql, write: {}}\n"
    )
    assert [d.path for d in diagnose(text, registry)] == [
        "settings.parallelism",
        "pipeline.processors[0].condition",
        "output.write.table",
    ]


def test_unicode_values_and_positions(registry: Registry) -> None:
    text = "name: 订单同步\ninput: {type: csv, paths: [数据.csv]}\noutput: {type: jsonl, path: 5}\n"
    diagnostic = one(text, registry)
    assert (diagnostic.line, diagnostic.column) == (3, 29)
    report = load_pipeline_text(text.replace("path: 5", "path: 出.jsonl"), registry=registry)
    assert report.pipeline is not None and report.pipeline.name == "订单同步"
