"""Load a pipeline file: YAML → includes → `${VAR}` → `--set` overrides → validation.

The one entry point for the CLI, the server and the worker. It never raises for a bad
file: everything wrong is a `Diagnostic` in the returned `ValidationReport`, located at
the key or value to fix, and the `PipelineSpec` is there only when there is no error.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fustgo.config.document import DocumentReader
from fustgo.config.models import Diagnostic, ValidationReport
from fustgo.config.overrides import apply_overrides
from fustgo.config.positions import SourceMap
from fustgo.config.validate import validate_document
from fustgo.plugins.registry import Registry, default_registry


def load_pipeline(
    path: Path,
    *,
    overrides: Sequence[str] = (),
    registry: Registry | None = None,
    env: Mapping[str, str] | None = None,
) -> ValidationReport:
    """Read and validate the pipeline file at `path` (relative paths in it resolve beside it)."""
    label = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return _unreadable(label, f"Pipeline file `{label}` does not exist", "Check the path.")
    except UnicodeDecodeError:
        return _unreadable(label, f"Pipeline file `{label}` is not UTF-8 text", None)
    except OSError as error:
        return _unreadable(label, f"Cannot read pipeline file `{label}`: {error.strerror}", None)
    return _load(
        text,
        label=label,
        directory=path.parent.resolve(),
        real_path=path.resolve(),
        default_name=path.stem,
        overrides=overrides,
        registry=registry,
        env=env,
    )


def load_pipeline_text(
    text: str,
    *,
    filename: str = "<pipeline>",
    base_dir: Path | None = None,
    overrides: Sequence[str] = (),
    registry: Registry | None = None,
    env: Mapping[str, str] | None = None,
) -> ValidationReport:
    """Validate pipeline YAML given as text (the server's form).

    `filename` names the text in diagnostics; `base_dir` (default: the working directory)
    is where relative paths and `!include`s resolve, and `!include` may not leave it, so
    text from an API caller cannot read arbitrary files of the server.
    """
    return _load(
        text,
        label=filename,
        directory=(base_dir or Path.cwd()).resolve(),
        real_path=None,
        default_name=Path(filename).stem.strip("<>") or "pipeline",
        include_root=base_dir or Path.cwd(),
        overrides=overrides,
        registry=registry,
        env=env,
    )


def fingerprint_of(document: Any) -> str:
    """sha256 of the canonical JSON of a resolved document: same content, same fingerprint."""
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _load(
    text: str,
    *,
    label: str,
    directory: Path,
    real_path: Path | None,
    default_name: str,
    overrides: Sequence[str],
    registry: Registry | None,
    env: Mapping[str, str] | None,
    include_root: Path | None = None,
) -> ValidationReport:
    source = SourceMap()
    reader = DocumentReader(
        env=os.environ if env is None else env, source=source, include_root=include_root
    )
    document = reader.read(text, label=label, directory=directory, real_path=real_path)
    if any(diagnostic.level == "syntax" for diagnostic in reader.diagnostics):
        return ValidationReport(diagnostics=_in_order(reader.diagnostics, source), source=source)
    if overrides:
        document = {} if document is None else document
        problems = apply_overrides(document, overrides, source)
        if problems:
            return ValidationReport(diagnostics=[*reader.diagnostics, *problems], source=source)
    report = validate_document(
        document,
        source=source,
        registry=registry or default_registry(),
        default_name=default_name,
        base_dir=directory,
        fingerprint=fingerprint_of(document),
        source_file=real_path,
        found=reader.diagnostics,
        unresolved=frozenset(reader.unresolved),
    )
    report.diagnostics = _in_order(report.diagnostics, source)
    return report


def _in_order(diagnostics: list[Diagnostic], source: SourceMap) -> list[Diagnostic]:
    """Errors first, each group in file order (included files in the order they were read)."""
    files = {name: rank for rank, name in enumerate(source.texts)}

    def key(diagnostic: Diagnostic) -> tuple[int, int, int, int]:
        return (
            0 if diagnostic.severity == "error" else 1,
            files.get(diagnostic.file or "", len(files)),
            diagnostic.line or 0,
            diagnostic.column or 0,
        )

    return sorted(diagnostics, key=key)


def _unreadable(label: str, message: str, hint: str | None) -> ValidationReport:
    return ValidationReport(
        diagnostics=[Diagnostic(level="syntax", message=message, hint=hint, file=label)]
    )
