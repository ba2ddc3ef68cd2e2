"""Pipeline YAML for the server tests: generated records into a SQLite file."""

from __future__ import annotations


def counted(target: str, *, count: int = 500) -> str:
    """`count` sequential ids; every fifth is filtered out, the rest upserted into `target`."""
    return f"""\
name: counted
settings: {{batch_size: 100}}
input:
  type: generate
  count: {count}
  fields:
    id: {{kind: sequence, start: 1}}
pipeline:
  processors:
    - type: filter
      condition: "id % 5 <> 0"
output:
  type: sqlite
  connection: {{database: "{target}"}}
  write: {{table: t, mode: upsert, conflict_key: [id]}}
"""


def endless(target: str, *, rate_per_sec: int = 2000) -> str:
    """Sequential ids until stopped, at a steady rate, upserted into `target`."""
    return f"""\
name: endless
settings: {{batch_size: 50, checkpoint: {{interval: 0.1s}}}}
input:
  type: generate
  count: 0
  rate_per_sec: {rate_per_sec}
  fields:
    id: {{kind: sequence, start: 1}}
output:
  type: sqlite
  connection: {{database: "{target}"}}
  write: {{table: t, mode: upsert, conflict_key: [id]}}
"""
