"""File inputs: `csv`, `json` and `parquet` (importing this package registers them).

Each file is one split; see `base` for what they share and each module for its format.
"""

# ruff: noqa: F401
from fustgo.plugins.inputs.files import csv as _csv
from fustgo.plugins.inputs.files import json as _json
from fustgo.plugins.inputs.files import parquet as _parquet
