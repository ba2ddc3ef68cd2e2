"""Running a pipeline written in YAML in-process, as the CLI would (for plugin tests)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fustgo.config.loader import load_pipeline
from fustgo.runtime.execute import RunOutcome, run_pipeline


def run_yaml(text: str, folder: Path, *, name: str = "pipeline.yaml") -> RunOutcome:
    """Write `text` to `folder/name`, load and validate it, run it, return the outcome."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    report = load_pipeline(path)
    assert report.pipeline is not None, [d.message for d in report.diagnostics]
    return asyncio.run(run_pipeline(report.pipeline, handle_signals=False, fresh=True))
