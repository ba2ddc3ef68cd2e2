"""The bounds of list pages, the same on every list endpoint."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

MAX_PAGE = 1_000_000
"""Far past any real list, yet `(page - 1) * page_size` stays a number every store's
OFFSET takes (a larger one made SQLite raise `OverflowError`: a 500 for a bad request)."""

MAX_OFFSET = MAX_PAGE * 500
"""The same bound for lists paged by `offset`."""

Page = Annotated[int, Query(ge=1, le=MAX_PAGE)]
"""The `page` query parameter of a list endpoint (1-based)."""

PageSize = Annotated[int, Query(ge=1, le=500)]
"""The `page_size` query parameter of a list endpoint."""
