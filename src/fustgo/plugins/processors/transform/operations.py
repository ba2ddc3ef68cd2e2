"""The `operations` of `transform`: lookups, string edits and time-zone changes without SQL.

Each operation is a small model selected by its `op` key, the way DataX transformers and
Benthos processors are configured. An operation reads one or more fields and writes its
`target` (a new field, appended) or, without `target`, replaces its field in place. Every
one is a Polars expression over the whole batch; NULL in gives NULL out (`concat` joins the
parts that are not NULL). An operation may use the fields written by the operations before it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from fustgo.plugins.processors.transform.lookup import MapValues
from fustgo.plugins.processors.transform.text import (
    Concat,
    Lower,
    RegexReplace,
    Substring,
    Trim,
    Upper,
)
from fustgo.plugins.processors.transform.zones import ConvertTimezone

Operation = Annotated[
    MapValues | Concat | Substring | Trim | Upper | Lower | RegexReplace | ConvertTimezone,
    Field(discriminator="op"),
]
"""One entry of `transform.operations`, selected by its `op` key."""
