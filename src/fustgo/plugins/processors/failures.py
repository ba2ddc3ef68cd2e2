"""`on_error`: what a processor does with the records it cannot handle, in one place.

Every processor that can fail per record (a bad cast, invalid JSON, a regex that does not
match in strict mode, a failed lookup) takes the same `on_error` field and calls
`settle_failures` with a mask of the failed rows:

- `fail` (default): those records go to the dead-letter output with one message each,
  count as failed against `settings.error_limit`, and the other records go on;
- `null`: the record goes on with the failed value(s) set to NULL (the processor has
  already computed them that way);
- `skip`: the record is dropped and counted as filtered.
"""

from __future__ import annotations

from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from fustgo.plugins.api import Processor

OnError = Literal["fail", "null", "skip"]
"""The `on_error` field's type; document it with `ON_ERROR_DOC`."""

ON_ERROR_DOC = (
    "What happens to a record this processor cannot handle: `fail` sends it to the "
    "dead-letter output (counted against `settings.error_limit`), `null` keeps it with the "
    "failed value set to NULL, `skip` drops it and counts it as filtered."
)


def settle_failures(
    processor: Processor[Any],
    data: pa.RecordBatch,
    failed: pa.BooleanArray | pa.ChunkedArray,
    messages: str | pa.Array,
    on_error: OnError,
) -> pa.BooleanArray | None:
    """Apply `on_error` to the rows flagged in `failed` (NULL counts as not failed).

    Returns the mask of rows to keep, or None when every row goes on. `messages` is one
    message for all failed rows, or one per row of `data` (only the failed rows' are used).
    """
    if isinstance(failed, pa.ChunkedArray):
        failed = failed.combine_chunks()
    failed = pc.fill_null(failed, False)
    count = pc.sum(failed).as_py() or 0
    if count == 0 or on_error == "null":
        return None
    if on_error == "fail":
        per_row = messages if isinstance(messages, str) else messages.filter(failed)
        processor.reject(data.filter(failed), per_row)
    else:
        processor.count_filtered(count)
    return pc.invert(failed)
