"""The bounds of list pages, the same on every list endpoint."""

from __future__ import annotations

MAX_PAGE = 1_000_000
"""Far past any real list, yet `(page - 1) * page_size` stays a number every store's
OFFSET takes (a larger one made SQLite raise `OverflowError`: a 500 for a bad request)."""

MAX_OFFSET = MAX_PAGE * 500
"""The same bound for lists paged by `offset`."""
