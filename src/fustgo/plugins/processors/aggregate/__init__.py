"""aggregate: counts, sums, averages … per group, over the whole input or per time window.

Each batch is reduced at once to one row of *partials* per group (Polars `group_by`): a count,
a sum and a count of non-NULL values (so an average or a sum of only NULLs comes out right),
a min, a first value, the set of distinct values. Partials are folded into the held state
only once as many partial rows have arrived as the state has groups, so the work stays
proportional to the input, and the memory to the groups held (one row of partials per group,
plus every distinct value for `count_distinct`), never to the records.

- No `window`: groups are emitted when the input ends (`finish`), so use it on bounded
  inputs; on a stream it would never emit.
- `window` (tumbling): time is cut into back-to-back windows of `size`, aligned to the Unix
  epoch (a `1d` window runs midnight to midnight UTC). With `time: event` a record belongs to
  the window of its timestamp field, and a window is emitted once the newest event time seen
  minus `allowed_lateness` (the watermark) passes its end; a record whose window already
  closed is late and goes to the dead letter or is dropped (`on_late`), counted either way.
  With `time: processing` a batch belongs to the window its arrival time falls in, and
  windows are emitted on the first batch after their end. Whatever is still open is emitted
  when the input ends.

NULLs follow SQL: NULL group keys form one group; `count(field)`, `sum`, `avg`, `min`, `max`
and `count_distinct` ignore NULL values (a sum or average of only NULLs is NULL); `first`
and `last` are the values of the first and last records of the group in arrival order,
NULL included (with `parallelism` > 1, arrival order across splits is not fixed).
"""

from fustgo.plugins.processors.aggregate.functions import AggregateCall, parse_call
from fustgo.plugins.processors.aggregate.processor import (
    MIN_FOLD_ROWS,
    Aggregate,
    AggregateConfig,
)
from fustgo.plugins.processors.aggregate.windows import TumblingWindow

__all__ = [
    "MIN_FOLD_ROWS",
    "Aggregate",
    "AggregateCall",
    "AggregateConfig",
    "TumblingWindow",
    "parse_call",
]
