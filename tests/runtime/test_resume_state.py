"""Which interrupted run a new run resumes."""

from __future__ import annotations

from pathlib import Path

import pytest

from fustgo.config.loader import load_pipeline_text
from fustgo.engine.batch import Checkpoint, Split
from fustgo.engine.checkpoint import MemoryCheckpointStore
from fustgo.runtime.execute import find_resume_state, run_fingerprint

pytestmark = pytest.mark.unit

PIPELINE = """
name: p
input: {type: generate, count: 10, fields: {id: {kind: sequence}}}
output: {type: drop}
"""


def spec(tmp_path: Path):
    report = load_pipeline_text(PIPELINE, base_dir=tmp_path)
    assert report.pipeline is not None, report.diagnostics
    return report.pipeline


def test_a_run_interrupted_before_its_first_checkpoint_starts_over(tmp_path: Path) -> None:
    pipeline = spec(tmp_path)
    store = MemoryCheckpointStore()
    store.begin("p", run_fingerprint(pipeline), [Split("all")])
    assert find_resume_state(pipeline, store, fresh=False) is None
    store.save("p", [Checkpoint("all", {"next": 5}, 5)])
    state = find_resume_state(pipeline, store, fresh=False)
    assert state is not None and state.records_done == 5
    assert find_resume_state(pipeline, store, fresh=True) is None
