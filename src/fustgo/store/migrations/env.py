"""Alembic environment: migrations run on the connection `store.db.migrate` hands over.

To write a new migration after changing `store/tables.py`, autogenerate it against a
store at the previous head (see docs/server.md), then read and trim what it produced.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from fustgo.store.tables import Base

config = context.config
connection = config.attributes.get("connection")

if connection is None:  # the alembic command line: `-x url=sqlite:///path`
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("Pass the store's URL: alembic -x url=sqlite:///.fustgo/fustgo.db …")
    with create_engine(url).begin() as connection:
        context.configure(
            connection=connection, target_metadata=Base.metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
else:
    # render_as_batch: SQLite alters tables by copying them; Alembic does it in batches.
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
