"""Paths, compression and part naming shared by the file inputs and outputs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from fustgo.engine.errors import ConfigError, TerminalError
from fustgo.plugins.api import PluginContext
from fustgo.plugins.clients.files import (
    PartNaming,
    Rotation,
    check_writable_folder,
    codec_for,
    display_path,
    expand_paths,
    finish_file,
    open_input,
    read_flushed_size,
    record_flushed_size,
    temporary_path,
)

pytestmark = pytest.mark.unit


def touch(path: Path, text: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_globs_expand_sorted_recursive_and_once(tmp_path: Path) -> None:
    for name in ["b.csv", "a.csv", "sub/c.csv", "sub/deeper/d.csv", "other.txt", ".hidden.csv"]:
        touch(tmp_path / name)
    context = PluginContext(base_dir=tmp_path)
    found = expand_paths(["*.csv", "**/*.csv", "a.csv"], context, option="input.paths")
    names = [display_path(p, context) for p in found]
    assert names == ["a.csv", "b.csv", "sub/c.csv", "sub/deeper/d.csv"]


def test_a_pattern_matching_nothing_is_named(tmp_path: Path) -> None:
    touch(tmp_path / "a.csv")
    with pytest.raises(ConfigError, match=r"`nope/\*\.csv` in `input.paths` matches no file"):
        expand_paths(
            ["a.csv", "nope/*.csv"], PluginContext(base_dir=tmp_path), option="input.paths"
        )


def test_a_missing_plain_path_and_a_directory_are_errors(tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()
    context = PluginContext(base_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"missing\.csv"):
        expand_paths(["missing.csv"], context, option="input.paths")
    with pytest.raises(ConfigError, match="is a directory"):
        expand_paths(["folder"], context, option="input.paths")


def test_absolute_paths_outside_the_pipeline_folder_keep_their_full_name(tmp_path: Path) -> None:
    outside = touch(tmp_path / "outside" / "ü.csv")
    context = PluginContext(base_dir=tmp_path / "pipelines")
    [found] = expand_paths([str(outside)], context, option="input.paths")
    assert display_path(found, context) == outside.resolve().as_posix()


@pytest.mark.parametrize(
    ("name", "setting", "expected"),
    [
        ("a.csv.gz", "auto", "gzip"),
        ("a.JSONL.ZST", "auto", "zstd"),
        ("a.zstd", "auto", "zstd"),
        ("a.csv", "auto", None),
        ("a.csv.gz", "none", None),
        ("a.csv", "zstd", "zstd"),
    ],
)
def test_compression_follows_the_extension_unless_set(
    name: str, setting: str, expected: str | None
) -> None:
    assert codec_for(Path(name), setting) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("codec", ["gzip", "zstd"])
def test_open_input_decompresses_while_streaming(tmp_path: Path, codec: str) -> None:
    path = tmp_path / f"data.txt.{'gz' if codec == 'gzip' else 'zst'}"
    payload = "ligne é\n".encode() * 10_000
    with pa.output_stream(str(path), compression=codec) as sink:
        sink.write(payload)
    with open_input(path, "auto") as stream:
        assert stream.read() == payload


def test_open_input_of_a_vanished_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(TerminalError, match="disappeared"):
        open_input(tmp_path / "gone.csv", "auto")


def test_part_names_without_rotation_keep_the_path_for_part_zero(tmp_path: Path) -> None:
    naming = PartNaming.for_output(tmp_path / "out.csv.gz", Rotation())
    assert naming.path(0) == tmp_path / "out.csv.gz"
    assert naming.path(3) == tmp_path / "out-00003.csv.gz"


def test_part_names_with_rotation_number_every_part(tmp_path: Path) -> None:
    naming = PartNaming.for_output(tmp_path / "out.json", Rotation(max_records=10))
    assert naming.path(0) == tmp_path / "out-00000.json"
    day = datetime(2024, 5, 31, tzinfo=UTC)
    dated = PartNaming.for_output(tmp_path / "{date}/p{part}.parquet", Rotation(max_bytes=1))
    assert dated.path(12, day) == tmp_path / "2024-05-31" / "p00012.parquet"


def test_existing_parts_are_found_with_their_numbers(tmp_path: Path) -> None:
    naming = PartNaming.for_output(tmp_path / "{date}" / "out.csv", Rotation())
    day = datetime(2024, 1, 2, tzinfo=UTC)
    first, third = naming.path(0, day), naming.path(3, day)
    touch(first)
    touch(third)
    touch(temporary_path(naming.path(4, day)))
    touch(tmp_path / "2024-01-02" / "unrelated.csv")
    assert naming.existing() == {first: 0, third: 3}
    assert naming.existing(temporary=True) == {temporary_path(naming.path(4, day)): 4}


def test_finish_file_renames_into_place_and_drops_the_sidecar(tmp_path: Path) -> None:
    final = tmp_path / "out.csv"
    temporary = touch(temporary_path(final), "data")
    record_flushed_size(temporary, 4, 1)
    assert read_flushed_size(temporary) == (4, 1)
    finish_file(temporary, final)
    assert final.read_text() == "data"
    assert not temporary.exists()
    assert read_flushed_size(temporary) == (0, 0)


def test_writable_folder_check(tmp_path: Path) -> None:
    check_writable_folder(tmp_path / "not" / "yet" / "there")
    blocker = touch(tmp_path / "file")
    with pytest.raises(TerminalError, match="not a writable folder"):
        check_writable_folder(blocker / "sub")
