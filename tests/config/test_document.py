"""Reading YAML into plain data with positions, `!include` and `${VAR}`."""

from __future__ import annotations

from pathlib import Path

import pytest

from fustgo.config.document import DocumentReader
from fustgo.config.positions import Position, SourceMap

pytestmark = pytest.mark.unit


def read(text: str, tmp_path: Path, env: dict[str, str] | None = None, name: str = "p.yaml"):
    source = SourceMap()
    reader = DocumentReader(env=env or {}, source=source)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    data = reader.read(text, label=name, directory=tmp_path, real_path=path)
    return data, source, reader


def test_plain_data_and_positions_of_keys_and_values(tmp_path: Path) -> None:
    text = (
        "name: demo\n"
        "input:\n"
        "  type: csv\n"
        "  paths: [a.csv, 'b.csv']\n"
        "  count: 0x10\n"
        "  ratio: 1.5\n"
        "  day: 2024-01-31\n"
        "  empty:\n"
        "  yes_is_text: yes\n"
        "list:\n"
        "  - {x: 1}\n"
        "  - 表\n"
    )
    data, source, reader = read(text, tmp_path)
    assert reader.diagnostics == []
    assert data == {
        "name": "demo",
        "input": {
            "type": "csv",
            "paths": ["a.csv", "b.csv"],
            "count": 16,
            "ratio": 1.5,
            "day": "2024-01-31",
            "empty": None,
            "yes_is_text": "yes",
        },
        "list": [{"x": 1}, "表"],
    }
    assert type(data["input"]["count"]) is int
    assert source.keys[("input", "paths")] == Position("p.yaml", 4, 3)
    assert source.values[("input", "paths")] == Position("p.yaml", 4, 10)
    assert source.values[("input", "paths", 1)] == Position("p.yaml", 4, 18)
    assert source.values[("list", 1)] == Position("p.yaml", 12, 5)
    assert source.values[("list", 0, "x")] == Position("p.yaml", 11, 9)
    assert source.texts["p.yaml"] == text


def test_positions_fall_back_to_the_nearest_ancestor(tmp_path: Path) -> None:
    _, source, _ = read("input:\n  query:\n    table: t\n", tmp_path)
    assert source.value_position(("input", "query", "missing")) == Position("p.yaml", 3, 5)
    assert source.key_position(("input", "query")) == Position("p.yaml", 2, 3)


def test_keys_are_strings(tmp_path: Path) -> None:
    data, _, _ = read("m: {7: a, true: b, null: c, 2.5: d}\n", tmp_path)
    assert data == {"m": {"7": "a", "true": "b", "null": "c", "2.5": "d"}}


def test_merge_keys_are_read(tmp_path: Path) -> None:
    data, source, reader = read(
        "base: &b {host: h, port: 1}\nconn:\n  <<: *b\n  port: 2\n", tmp_path
    )
    assert reader.diagnostics == []
    assert data["conn"] == {"port": 2, "host": "h"}
    # A merged key has no position of its own: it falls back to its mapping.
    assert source.key_position(("conn", "host")) == source.values[("conn",)]


def test_variables_substitute_in_values_only(tmp_path: Path) -> None:
    data, _, reader = read(
        '${KEY}: 1\nport: ${PORT}\nhost: "${HOST:localhost}"\nblock: |\n  pw=${PW}\n',
        tmp_path,
        env={"PORT": "5432", "PW": "s3cret", "KEY": "x"},
    )
    assert reader.diagnostics == []
    assert data == {"${KEY}": 1, "port": "5432", "host": "localhost", "block": "pw=s3cret\n"}


def test_unset_variable_is_located_at_its_value(tmp_path: Path) -> None:
    _, _, reader = read("output:\n  password: ${PG_PASSWORD}\n", tmp_path)
    [diagnostic] = reader.diagnostics
    assert diagnostic.level == "semantic"
    assert (diagnostic.file, diagnostic.line, diagnostic.column) == ("p.yaml", 2, 13)
    assert diagnostic.path == "output.password"
    assert "PG_PASSWORD" in diagnostic.message
    assert reader.unresolved == {("output", "password")}


def test_nested_includes_keep_their_own_positions(tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    (tmp_path / "parts" / "input.yaml").write_text(
        "type: postgresql\nconnection: !include conn.yaml\n", encoding="utf-8"
    )
    (tmp_path / "parts" / "conn.yaml").write_text("host: ${H:db}\nport: 5432\n", encoding="utf-8")
    data, source, reader = read("name: x\ninput: !include parts/input.yaml\n", tmp_path)
    assert reader.diagnostics == []
    assert data["input"] == {"type": "postgresql", "connection": {"host": "db", "port": 5432}}
    assert source.values[("input", "type")] == Position("parts/input.yaml", 1, 7)
    assert source.values[("input", "connection", "port")] == Position("parts/conn.yaml", 2, 7)
    # The key that includes the file stays in the including file.
    assert source.keys[("input",)] == Position("p.yaml", 2, 1)
    assert set(source.texts) == {"p.yaml", "parts/input.yaml", "parts/conn.yaml"}


def test_include_in_a_list_and_of_a_scalar(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text("- type: filter\n  condition: a > 1\n", encoding="utf-8")
    (tmp_path / "cond.txt").write_text("amount > 0\n", encoding="utf-8")
    data, _, reader = read(
        "processors: !include f.yaml\nmore:\n  - condition: !include cond.txt\n", tmp_path
    )
    assert reader.diagnostics == []
    assert data == {
        "processors": [{"type": "filter", "condition": "a > 1"}],
        "more": [{"condition": "amount > 0"}],
    }


def test_include_cycle_is_reported_with_the_chain(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("next: !include b.yaml\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("back: !include a.yaml\n", encoding="utf-8")
    _, _, reader = read("root: !include a.yaml\n", tmp_path)
    [diagnostic] = reader.diagnostics
    assert diagnostic.level == "syntax"
    assert diagnostic.message == "Include cycle: a.yaml → b.yaml → a.yaml"
    assert (diagnostic.file, diagnostic.line, diagnostic.column) == ("b.yaml", 1, 7)


def test_self_include_is_a_cycle(tmp_path: Path) -> None:
    _, _, reader = read("me: !include p.yaml\n", tmp_path)
    assert reader.diagnostics[0].message == "Include cycle: p.yaml → p.yaml"


def test_missing_include_is_located_at_the_tag(tmp_path: Path) -> None:
    _, _, reader = read("input:\n  connection: !include nope/conn.yaml\n", tmp_path)
    [diagnostic] = reader.diagnostics
    assert diagnostic.message == "Included file `nope/conn.yaml` does not exist"
    assert (diagnostic.line, diagnostic.column) == (2, 15)


def test_syntax_error_inside_an_included_file_points_into_it(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("a: 1\n  b: 2\n", encoding="utf-8")
    _, _, reader = read("x: !include bad.yaml\n", tmp_path)
    [diagnostic] = reader.diagnostics
    assert (diagnostic.file, diagnostic.line, diagnostic.level) == ("bad.yaml", 2, "syntax")


def test_include_path_may_use_variables(tmp_path: Path) -> None:
    (tmp_path / "prod.yaml").write_text("host: prod-db\n", encoding="utf-8")
    data, _, reader = read("c: !include ${ENV:prod}.yaml\n", tmp_path)
    assert reader.diagnostics == []
    assert data == {"c": {"host": "prod-db"}}


def test_unknown_tags_and_include_of_a_mapping_are_errors(tmp_path: Path) -> None:
    _, _, reader = read("a: !env HOME\nb: !include {x: 1}\nc: !!str 5\n", tmp_path)
    messages = [d.message for d in reader.diagnostics]
    assert messages == [
        "Unknown tag `!env`; the only tag FustGo understands is `!include`",
        "`!include` takes a file path, not a mapping or a list",
    ]


def test_text_input_includes_resolve_against_the_given_folder(tmp_path: Path) -> None:
    (tmp_path / "part.yaml").write_text("k: v\n", encoding="utf-8")
    source = SourceMap()
    reader = DocumentReader(env={}, source=source)
    data = reader.read("x: !include part.yaml\n", label="<api>", directory=tmp_path, real_path=None)
    assert data == {"x": {"k": "v"}}
    assert source.values[("x", "k")].file == str(tmp_path / "part.yaml")


def test_escaped_surrogate_pairs_are_joined(tmp_path: Path) -> None:
    data, _, _ = read('a: "\\ud83d\\ude00"\nb: "\\ud800x"\n', tmp_path)
    assert data == {"a": "😀", "b": "\ufffdx"}


def test_unquoted_dates_stay_text_so_impossible_ones_are_field_errors(tmp_path: Path) -> None:
    reader = DocumentReader(env={}, source=SourceMap())
    document = reader.read(
        "a: 2026-01-31\nb: 2026-02-30\n", label="x.yaml", directory=tmp_path, real_path=None
    )
    assert document == {"a": "2026-01-31", "b": "2026-02-30"}
    assert reader.diagnostics == []
