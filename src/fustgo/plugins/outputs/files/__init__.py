"""File outputs: `csv`, `json` and `parquet` (importing this package registers them).

`base` holds what they share (parts, rotation, temporary names, resume); `rows` the
appendable text formats' part writer.
"""

# ruff: noqa: F401
from fustgo.plugins.outputs.files import csv as _csv
from fustgo.plugins.outputs.files import json as _json
from fustgo.plugins.outputs.files import parquet as _parquet
