"""transform: cast fields, change values with operations, compute fields with SQL.

Order, for every batch: all `casts` (on the incoming values); the rows whose casts failed
are settled by `on_error`; then `operations` one after the other in the order written; then
`fields`, one after the other in the order written. So an operation sees the cast types
(cast text to `timestamp`, then `convert_timezone` it), and a computed field may use the
cast fields, the operations' results and the fields before it.

A cast fails when a non-NULL value has no counterpart in the target type (`abc` to int64,
`2024-02-30` to date, 1e10 to int32, `12345.6` to decimal(5,2)); NULL stays NULL. The only
operation that can fail per record is `convert_timezone`, for a wall-clock time that does
not exist in `from_zone` (a daylight-saving gap). `on_error` then decides:

- `fail` (default): the records go to the dead-letter output with one message per record
  naming the fields and values, count as failed against `settings.error_limit` (which stops
  the run once exceeded), and the other records go on;
- `null`: the values that fail become NULL and every record goes on;
- `skip`: the records are dropped and counted as filtered.
"""

from fustgo.plugins.processors.transform.processor import Transform, TransformConfig

__all__ = ["Transform", "TransformConfig"]
