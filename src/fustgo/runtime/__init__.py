"""Running a validated pipeline: build the plugins, find the resume point, run, report.

Used by the CLI now and by the server's workers later; the engine below knows nothing of
pipeline files, and this package is where a `PipelineSpec` meets the `Runner`.
"""
