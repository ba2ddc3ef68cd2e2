"""The metadata store (design doc §2.5, §8.1): jobs, executions, checkpoints, plugins,
workers, alert rules and saved connections, in SQLite (default), PostgreSQL or MySQL.

`Store` opens it and applies the Alembic migrations; `tables` holds the rows;
`repositories` the reads and writes; `lifecycle` the job state machine; `checkpoints` the
engine's checkpoint store over it. The server, the scheduler and the workers share it.
"""

from fustgo.store.db import Store, StoreStatus

__all__ = ["Store", "StoreStatus"]
