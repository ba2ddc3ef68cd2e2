"""Loading pipeline files end to end: one clear, located diagnostic per problem."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fustgo.config.loader import fingerprint_of, load_pipeline, load_pipeline_text
from fustgo.config.models import Diagnostic
from fustgo.plugins.registry import Registry
from tests.config.sample_plugins import sample_registry

pytestmark = pytest.mark.unit

Write = Callable[..., Path]

VALID = """\
name: orders
settings:
  parallelism: 2
input:
  type: postgresql
  connection: {host: "${PG_HOST:127.0.0.1}", port: "${PG_PORT:5432}", password: "${PG_PASSWORD}"}
  query: {table: orders, columns: [id, amount]}
pipeline:
  processors:
    - type: filter
      condition: "amount > 0 AND status = 'paid'"
    - type: mapping
      field_mappings: {user_id: customer_id}
output:
  type: postgresql
  write: {table: fact_orders, mode: upsert, conflict_key: [id]}
dead_letter: {type: jsonl, path: ./dlq/orders.jsonl}
"""
ENV = {"PG_PASSWORD": "s3cret"}


def only(diagnostics: list[Diagnostic]) -> Diagnostic:
    assert len(diagnostics) == 1, [d.message for d in diagnostics]
    return diagnostics[0]


def test_a_valid_file_gives_a_spec(write: Write, registry: Registry) -> None:
    path = write(VALID)
    report = load_pipeline(path, registry=registry, env=ENV)
    assert report.diagnostics == []
    spec = report.pipeline
    assert spec is not None
    assert spec.name == "orders"
    assert spec.settings.parallelism == 2
    assert spec.input.type == "postgresql" and spec.input.kind == "input"
    assert spec.input.config.connection.port == 5432
    assert spec.input.config.connection.password.get_secret_value() == "s3cret"
    assert [p.type for p in spec.processors] == ["filter", "mapping"]
    assert [p.path for p in spec.processors] == ["pipeline.processors[0]", "pipeline.processors[1]"]
    assert spec.output.config.write.mode == "upsert"
    assert spec.dead_letter is not None and spec.dead_letter.path == "dead_letter"
    assert spec.base_dir == path.parent.resolve()
    assert spec.source_file == path.resolve()
    assert spec.document["input"]["connection"]["host"] == "127.0.0.1"
    assert spec.fingerprint == fingerprint_of(spec.document)
    assert len(spec.fingerprint) == 64


# The five broken files of the issue: each gives exactly one diagnostic at the spot.
BAD_INDENTATION = """\
input:
  type: csv
   paths: [a.csv]
output:
  type: jsonl
  path: out.jsonl
"""
UNKNOWN_PLUGIN = """\
input:
  type: csv
  paths: [a.csv]
output:
  type: postgress
  write: {table: t}
"""
MISSING_FIELD = """\
input:
  type: postgresql
  query:
    columns: [id]
output:
  type: jsonl
  path: out.jsonl
"""
WRONG_TYPE = """\
settings:
  parallelism: four
input:
  type: csv
  paths: [a.csv]
output:
  type: jsonl
  path: out.jsonl
"""
BAD_SQL = """\
input:
  type: csv
  paths: [a.csv]
pipeline:
  processors:
    - type: filter
      condition: "amount > 0 AND"
output:
  type: jsonl
  path: out.jsonl
"""


BROKEN = {
    "indentation": (BAD_INDENTATION, "syntax", 3, 4, "Bad indentation", "Line the key up"),
    "unknown-plugin": (
        UNKNOWN_PLUGIN, "semantic", 5, 9,
        "Unknown output plugin `postgress`", "Did you mean `postgresql`?",
    ),
    "missing-field": (
        MISSING_FIELD, "structure", 3, 3,
        "Missing required field `table` in `input.query`", "Table to read",
    ),
    "wrong-type": (
        WRONG_TYPE, "structure", 2, 16,
        "`settings.parallelism` must be an integer, got `four`", None,
    ),
    "bad-sql": (
        BAD_SQL, "semantic", 7, 18,
        "`pipeline.processors[0].condition` is not a valid SQL expression", "SQL expression",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_files_give_one_located_diagnostic(
    write: Write, registry: Registry, case: str
) -> None:
    text, level, line, column, message, hint = BROKEN[case]
    report = load_pipeline(write(text), registry=registry, env={})
    assert not report.ok
    assert report.pipeline is None
    diagnostic = only(report.diagnostics)
    assert diagnostic.level == level
    assert diagnostic.severity == "error"
    assert (diagnostic.line, diagnostic.column) == (line, column)
    assert diagnostic.file is not None and diagnostic.file.endswith("pipeline.yaml")
    assert diagnostic.message.startswith(message), diagnostic.message
    if hint is None:
        assert diagnostic.hint is None
    else:
        assert diagnostic.hint is not None and hint in diagnostic.hint


def test_errors_in_several_components_are_all_reported(registry: Registry) -> None:
    text = (
        "nam: x\n"
        "input: {type: csv}\n"
        "pipeline:\n"
        "  processors:\n"
        "    - type: filtr\n"
        "    - type: filter\n"
        "      condition: 'a >'\n"
        "output: {type: jsonl, path: 5, extra: 1}\n"
    )
    report = load_pipeline_text(text, registry=registry, env={})
    assert [(d.path, d.line) for d in report.diagnostics] == [
        ("nam", 1),
        ("input.paths", 2),
        ("pipeline.processors[0].type", 5),
        ("pipeline.processors[1].condition", 7),
        ("output.path", 8),
        ("output.extra", 8),
    ]
    assert report.diagnostics[0].hint == "Did you mean `name`?"


def test_a_syntax_error_stops_everything(registry: Registry) -> None:
    report = load_pipeline_text("input: [\nfoo: : :\n", registry=registry, env={})
    assert [d.level for d in report.diagnostics] == ["syntax"]


def test_missing_file_is_a_diagnostic(tmp_path: Path, registry: Registry) -> None:
    report = load_pipeline(tmp_path / "nope.yaml", registry=registry)
    diagnostic = only(report.diagnostics)
    assert diagnostic.message == f"Pipeline file `{tmp_path / 'nope.yaml'}` does not exist"


def test_non_utf8_file_is_a_diagnostic(tmp_path: Path, registry: Registry) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: caf\xe9\n".encode("latin-1"))
    assert "is not UTF-8 text" in only(load_pipeline(path, registry=registry).diagnostics).message


def test_empty_file(registry: Registry) -> None:
    for text in ("", "# only a comment\n", "{}\n"):
        diagnostic = only(load_pipeline_text(text, registry=registry).diagnostics)
        assert diagnostic.message.startswith("The pipeline file is empty")


def test_name_defaults_to_the_file_stem(write: Write, registry: Registry) -> None:
    text = VALID.replace("name: orders\n", "")
    report = load_pipeline(write(text, "nightly-orders.yaml"), registry=registry, env=ENV)
    assert report.pipeline is not None and report.pipeline.name == "nightly-orders"
    from_text = load_pipeline_text(text, registry=registry, env=ENV)
    assert from_text.pipeline is not None and from_text.pipeline.name == "pipeline"


@pytest.mark.parametrize("name", ["a/b", "", "x" * 129])
def test_unsafe_names_are_rejected(registry: Registry, name: str) -> None:
    text = VALID.replace("name: orders", f"name: '{name}'")
    diagnostic = only(load_pipeline_text(text, registry=registry, env=ENV).diagnostics)
    assert diagnostic.path == "name"


def test_unset_variable_is_one_diagnostic_and_no_spec(registry: Registry) -> None:
    report = load_pipeline_text(VALID, filename="p.yaml", registry=registry, env={})
    diagnostic = only(report.diagnostics)
    assert diagnostic.message.startswith("Environment variable `PG_PASSWORD` is not set")
    assert (diagnostic.file, diagnostic.line, diagnostic.column) == ("p.yaml", 6, 81)
    assert report.pipeline is None


def test_unset_variable_hides_the_type_error_it_causes(registry: Registry) -> None:
    text = VALID.replace('port: "${PG_PORT:5432}"', 'port: "${PG_PORT}"')
    report = load_pipeline_text(text, registry=registry, env=ENV)
    assert [d.path for d in report.diagnostics] == ["input.connection.port"]
    assert "PG_PORT" in report.diagnostics[0].message


def test_variables_are_substituted_before_validation(registry: Registry) -> None:
    env = {**ENV, "PG_HOST": "db.internal", "PG_PORT": "6543"}
    report = load_pipeline_text(VALID, registry=registry, env=env)
    assert report.pipeline is not None
    assert report.pipeline.input.config.connection.host == "db.internal"
    assert report.pipeline.input.config.connection.port == 6543


def test_environment_defaults_to_os_environ(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PG_PASSWORD", "from-env")
    report = load_pipeline_text(VALID, registry=registry)
    assert report.pipeline is not None
    assert report.pipeline.input.config.connection.password.get_secret_value() == "from-env"


def test_overrides_apply_and_are_validated(registry: Registry) -> None:
    report = load_pipeline_text(
        VALID,
        registry=registry,
        env=ENV,
        overrides=[
            "settings.parallelism=8",
            "output.write.mode=insert",
            "input.query.columns[0]=pk",
        ],
    )
    assert report.diagnostics == []
    spec = report.pipeline
    assert spec is not None
    assert spec.settings.parallelism == 8
    assert spec.output.config.write.mode == "insert"
    assert spec.input.config.query.columns == ["pk", "amount"]


def test_bad_override_value_names_the_override(registry: Registry) -> None:
    report = load_pipeline_text(
        VALID, registry=registry, env=ENV, overrides=["settings.parallelism=four"]
    )
    diagnostic = only(report.diagnostics)
    assert diagnostic.file == "--set settings.parallelism=four"
    assert diagnostic.line is None
    assert diagnostic.message == "`settings.parallelism` must be an integer, got `four`"


def test_unusable_override_is_one_diagnostic(registry: Registry) -> None:
    report = load_pipeline_text(VALID, registry=registry, env=ENV, overrides=["settings"])
    diagnostic = only(report.diagnostics)
    assert diagnostic.level == "syntax"
    assert "`settings`" in diagnostic.message


def test_fingerprint_is_stable_and_tracks_content(registry: Registry) -> None:
    def fingerprint(text: str, **kwargs: object) -> str:
        report = load_pipeline_text(text, registry=registry, env=ENV, **kwargs)  # type: ignore[arg-type]
        assert report.pipeline is not None, report.diagnostics
        return report.pipeline.fingerprint

    first = fingerprint(VALID)
    assert fingerprint(VALID) == first
    # Formatting, comments and key order do not matter; content does.
    reformatted = "# a comment\n" + VALID.replace(
        "query: {table: orders, columns: [id, amount]}",
        "query:\n    columns:\n      - id\n      - amount\n    table: orders",
    )
    assert fingerprint(reformatted) == first
    assert fingerprint(VALID, overrides=["settings.parallelism=3"]) != first
    assert fingerprint(VALID.replace("fact_orders", "fact_orders2")) != first


def test_includes_resolve_beside_the_file_and_point_into_it(
    write: Write, registry: Registry
) -> None:
    write("type: postgresql\nwrite: {table: t, mode: upsrt}\n", "p/parts/output.yaml")
    path = write(
        "input: {type: csv, paths: [a.csv]}\noutput: !include parts/output.yaml\n", "p/main.yaml"
    )
    report = load_pipeline(path, registry=registry, env={})
    diagnostic = only(report.diagnostics)
    assert diagnostic.file == str(path.parent / "parts" / "output.yaml")
    assert (diagnostic.line, diagnostic.column) == (2, 25)
    assert diagnostic.hint == "Did you mean `upsert`?"
    assert report.source is not None
    assert report.source.texts[diagnostic.file].startswith("type: postgresql")


def test_text_form_resolves_includes_in_base_dir(write: Write, registry: Registry) -> None:
    write("type: csv\npaths: [a.csv]\n", "in.yaml")
    report = load_pipeline_text(
        "input: !include in.yaml\noutput: {type: jsonl, path: o}\n",
        base_dir=write("", "x").parent,
        registry=registry,
    )
    assert report.diagnostics == []
    assert report.pipeline is not None and report.pipeline.input.type == "csv"


def test_text_form_may_not_include_files_outside_base_dir(write: Write, registry: Registry) -> None:
    secret = write("password: hunter2\n", "secret.yaml")
    base = secret.parent / "api"
    base.mkdir()
    report = load_pipeline_text(
        "input: !include ../secret.yaml\noutput: {type: jsonl, path: o}\n",
        base_dir=base,
        registry=registry,
    )
    diagnostic = only(report.diagnostics)
    assert diagnostic.message == f"Included file `{secret}` is outside `{base.resolve()}`"
    assert report.source is not None and str(secret) not in report.source.texts


yaml_like = st.text(alphabet=st.sampled_from(list("ab: -[]{}\n\t'\"#&*!|>$%@`,?~0123456789表")))
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["type", "input", "output", "paths", "x"]), children)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(yaml_like)
def test_any_text_gives_a_report_never_an_exception(text: str) -> None:
    report = load_pipeline_text(text, filename="f.yaml", registry=sample_registry(), env={})
    assert report.ok == (report.pipeline is not None)
    for diagnostic in report.diagnostics:
        assert diagnostic.message
        assert diagnostic.file is not None


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["name", "settings", "input", "pipeline", "output"]), values)
)
def test_any_document_shape_gives_a_report(document: dict[str, object]) -> None:
    text = json.dumps(document)
    report = load_pipeline_text(text, filename="f.yaml", registry=sample_registry(), env={})
    assert not report.ok
    assert all(d.line is not None for d in report.diagnostics)
