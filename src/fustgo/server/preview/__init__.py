"""Data previews for the designer (design doc §6.5): a source's or target's first rows with
per-column statistics, source/target schema comparison, and a job run on its first records
with each stage's output, nothing written."""
