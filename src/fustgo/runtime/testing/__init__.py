"""Pipeline unit tests (`fustgo test`): records in, the real processors, expectations out.

A `*.test.yaml` file names a pipeline and lists tests; each test feeds records to (some of)
the pipeline's processors, runs them through the real `Runner` with the input replaced by
the records and every leaf output and the dead letter replaced by in-memory captures, and
compares what was captured with the test's expectations. `load_test_file` reads and checks
a file (diagnostics with positions, like pipeline files); `run_suite` runs its tests.
"""

from fustgo.runtime.testing.loader import LoadedSuite, load_test_file
from fustgo.runtime.testing.suite import PipelineTestResult, run_suite

__all__ = ["LoadedSuite", "PipelineTestResult", "load_test_file", "run_suite"]
