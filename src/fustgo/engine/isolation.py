"""Finding the bad records of a batch an output refused, without losing the good ones.

Outputs write a batch all or nothing and raise `DataError` when some record is bad (a
constraint, a value the target cannot hold). Halving the batch until single records
remain writes every good record and isolates each bad one in O(bad · log n) writes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pyarrow as pa

from fustgo.engine.errors import DataError

WriteRecords = Callable[[pa.RecordBatch], Awaitable[None]]
RejectRecords = Callable[[pa.RecordBatch, str], Awaitable[None]]


async def write_isolating(write: WriteRecords, data: pa.RecordBatch, reject: RejectRecords) -> int:
    """Write `data`; records that still fail alone are handed to `reject` with the error.

    Returns the number of records written. Errors other than `DataError` propagate.
    """
    try:
        await write(data)
    except DataError as exc:
        if data.num_rows <= 1:
            await reject(data, str(exc))
            return 0
        half = data.num_rows // 2
        written = await write_isolating(write, data.slice(0, half), reject)
        return written + await write_isolating(write, data.slice(half), reject)
    return data.num_rows
