"""Code shared by the file inputs and outputs: paths, compression, part naming, durability.

Inputs expand `paths` (globs with `**`) into a sorted, de-duplicated list of files and open
them as (optionally decompressing) Arrow streams. Outputs name their files from a template
with `{part}` and `{date}`, write each file under a hidden temporary name in the same folder
and rename it into place when it is finished, so readers never see half a file.
"""

from __future__ import annotations

import glob
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from fustgo.engine.errors import ConfigError, TerminalError
from fustgo.engine.units import ByteSize
from fustgo.plugins.spec import PluginConfig, ui

if TYPE_CHECKING:
    import pyarrow as pa

    from fustgo.plugins.api import PluginContext

Compression = Literal["auto", "none", "gzip", "zstd"]
"""How a CSV/JSON file is compressed; `auto` goes by the extension (`.gz`, `.zst`, `.zstd`)."""

COMPRESSION_SUFFIXES = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd"}
_GLOB_CHARS = re.compile(r"[*?\[]")
READ_BUFFER_BYTES = 1 << 20


def codec_for(path: Path, compression: Compression) -> str | None:
    """The Arrow codec name for a file (`gzip`, `zstd`) or None when it is not compressed."""
    if compression == "none":
        return None
    if compression == "auto":
        return COMPRESSION_SUFFIXES.get(path.suffix.lower())
    return compression


def expand_paths(patterns: Sequence[str], context: PluginContext, *, option: str) -> list[Path]:
    """Every file the patterns name, in pattern order, each pattern's matches sorted.

    A file matched by two patterns is listed once, so no two splits overlap. A pattern that
    matches nothing is a `ConfigError` naming it: a silent empty run hides typos.
    """
    files: dict[Path, None] = {}
    for pattern in patterns:
        resolved = context.resolve_path(pattern)
        if _GLOB_CHARS.search(str(resolved)):
            found = glob.glob(str(resolved), recursive=True)  # noqa: PTH207 (absolute patterns; skips dotfiles)
            matches = sorted(Path(p).resolve() for p in found if Path(p).is_file())
        elif resolved.is_dir():
            raise ConfigError(
                f"`{pattern}` in `{option}` is a directory; name files or a glob such as "
                f"`{pattern.rstrip('/')}/*.csv` or `{pattern.rstrip('/')}/**/*.csv`."
            )
        else:
            matches = [resolved.resolve()] if resolved.is_file() else []
        if not matches:
            raise ConfigError(
                f"`{pattern}` in `{option}` matches no file (looked for `{resolved}`); check the "
                "path, which is relative to the pipeline file's folder."
            )
        for match in matches:
            files.setdefault(match, None)
    return list(files)


def display_path(path: Path, context: PluginContext) -> str:
    """A stable, readable name for a file: relative to the pipeline folder when inside it."""
    try:
        return path.relative_to(context.base_dir.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def open_input(path: Path, compression: Compression) -> pa.NativeFile:
    """A buffered, streaming (decompressing) reader of a file; never loads it whole."""
    import pyarrow as pa

    try:
        return pa.input_stream(
            str(path), compression=codec_for(path, compression), buffer_size=READ_BUFFER_BYTES
        )
    except FileNotFoundError as exc:
        raise TerminalError(
            f"File `{path}` disappeared before it was read; rerun once it is back."
        ) from exc
    except PermissionError as exc:
        raise TerminalError(f"File `{path}` is not readable; check its permissions.") from exc


def check_readable(path: Path) -> None:
    """Raise a `TerminalError` unless `path` can be opened for reading."""
    if not os.access(path, os.R_OK):
        raise TerminalError(f"File `{path}` is not readable; check its permissions.")


def check_writable_folder(folder: Path) -> None:
    """Raise a `TerminalError` unless files can be created in `folder` (or its creatable parent)."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise TerminalError(
            f"Cannot create files in `{folder}` (`{existing}` is not a writable folder); "
            "check `output.path` and permissions."
        )


class Rotation(PluginConfig):
    """When to finish the current file and start the next part; unset means one file."""

    max_records: int | None = Field(default=None, ge=1, json_schema_extra=ui(unit="records"))
    """Records per file; a batch is split across files so each holds exactly this many."""
    max_bytes: ByteSize | None = Field(default=None, ge=1, json_schema_extra=ui(unit="bytes"))
    """Bytes on disk per file; the file is finished after the batch that reaches this size."""

    @property
    def enabled(self) -> bool:
        return self.max_records is not None or self.max_bytes is not None


PART_PLACEHOLDER = "{part}"
DATE_PLACEHOLDER = "{date}"


@dataclass(frozen=True)
class PartNaming:
    """File names of an output's parts, from a template with `{part}` and `{date}`.

    `{part}` is the part number zero padded to five digits, `{date}` the UTC date the part
    was started (`2024-05-31`). Without `{part}`, part 0 is the template itself and later
    parts (rotation, a resumed run) get `-00001` before the extension.
    """

    template: str

    @classmethod
    def for_output(cls, path: Path, rotation: Rotation) -> PartNaming:
        text = str(path)
        if rotation.enabled and PART_PLACEHOLDER not in text:
            text = str(_with_part_suffix(path, PART_PLACEHOLDER))
        return cls(text)

    @property
    def _numbered(self) -> str:
        if PART_PLACEHOLDER in self.template:
            return self.template
        return str(_with_part_suffix(Path(self.template), PART_PLACEHOLDER))

    def path(self, part: int, when: datetime | None = None) -> Path:
        """The final path of part `part`, started at `when` (default: now)."""
        date = (when or datetime.now(UTC)).strftime("%Y-%m-%d")
        template = self.template if part == 0 else self._numbered
        return Path(
            template.replace(PART_PLACEHOLDER, f"{part:05d}").replace(DATE_PLACEHOLDER, date)
        )

    def existing(self, *, temporary: bool = False) -> dict[Path, int]:
        """Finished (or, with `temporary`, in-progress) part files on disk, with their number."""
        found: dict[Path, int] = {}
        templates = {self.template: 0, self._numbered: None}
        for template, fixed_part in templates.items():
            where = Path(template)
            name = f".{where.name}.tmp" if temporary else where.name
            pattern = re.escape(str(where.parent / name))
            pattern = pattern.replace(re.escape(PART_PLACEHOLDER), r"(?P<part>\d+)", 1)
            pattern = pattern.replace(re.escape(PART_PLACEHOLDER), r"\d+")
            pattern = pattern.replace(re.escape(DATE_PLACEHOLDER), r"\d{4}-\d{2}-\d{2}")
            matcher = re.compile(pattern)
            wildcard = glob.escape(str(where.parent / name))
            wildcard = wildcard.replace(PART_PLACEHOLDER, "*").replace(DATE_PLACEHOLDER, "*")
            for candidate in glob.glob(wildcard):  # noqa: PTH207 (the template is a path string)
                match = matcher.fullmatch(candidate)
                if match:
                    part = fixed_part if fixed_part is not None else int(match.group("part"))
                    found[Path(candidate)] = part
        return found


def _with_part_suffix(path: Path, part: str) -> Path:
    """`out/data.csv.gz` → `out/data-{part}.csv.gz` (before the format and codec extensions)."""
    name = path.name
    suffixes = (
        path.suffixes[-2:] if path.suffix.lower() in COMPRESSION_SUFFIXES else path.suffixes[-1:]
    )
    extension = "".join(suffixes)
    stem = name[: len(name) - len(extension)] if extension else name
    return path.with_name(f"{stem}-{part}{extension}")


def temporary_path(final: Path) -> Path:
    """Where a part is written until it is finished: a hidden file beside the final one."""
    return final.with_name(f".{final.name}.tmp")


def flushed_size_path(temporary: Path) -> Path:
    """The sidecar recording how many bytes of an in-progress file are durable."""
    return temporary.with_name(temporary.name + ".flushed")


def fsync_folder(folder: Path) -> None:
    """Make a rename or a new file in `folder` durable (no-op where folders cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def finish_file(temporary: Path, final: Path) -> None:
    """Rename a finished part into place, durably, and drop its flushed-size sidecar."""
    temporary.replace(final)
    flushed_size_path(temporary).unlink(missing_ok=True)
    fsync_folder(final.parent)


def record_flushed_size(temporary: Path, size: int, records: int) -> None:
    """Durably note that the first `size` bytes (`records` records) of `temporary` are flushed."""
    sidecar = flushed_size_path(temporary)
    staging = sidecar.with_name(sidecar.name + ".new")
    with staging.open("w", encoding="ascii") as handle:
        handle.write(json.dumps({"bytes": size, "records": records}))
        handle.flush()
        os.fsync(handle.fileno())
    staging.replace(sidecar)
    fsync_folder(sidecar.parent)


def read_flushed_size(temporary: Path) -> tuple[int, int]:
    """Durable bytes and records of an in-progress file left by an interrupted run.

    (0, 0) when it was never flushed: none of its rows are covered by a checkpoint.
    """
    try:
        noted = json.loads(flushed_size_path(temporary).read_text(encoding="ascii"))
        return int(noted["bytes"]), int(noted["records"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return 0, 0
