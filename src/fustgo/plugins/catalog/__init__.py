"""Connection tests and introspection of relational databases (see `contract`).

    async with catalog_of("postgresql", {"host": …, "database": …, "user": …}) as catalog:
        info = await catalog.test()              # product, version, user, latency
        tables = await catalog.tables("public")  # kinds and row estimates
        columns = await catalog.columns("public.orders")
        preview = await catalog.preview(table="public.orders", limit=20)

`catalog_for(plugin)` gives the catalog of a pipeline's input or output instance. Drivers
are imported when a catalog connects, never when this package is imported.
"""

from fustgo.plugins.catalog.contract import (
    DEFAULT_PREVIEW_ROWS,
    MAX_PREVIEW_ROWS,
    Catalog,
    ColumnInfo,
    Preview,
    ServerInfo,
    TableInfo,
)
from fustgo.plugins.catalog.families import (
    CatalogFamily,
    catalog_families,
    catalog_for,
    catalog_of,
    find_family,
    register_catalog,
)

__all__ = [
    "DEFAULT_PREVIEW_ROWS",
    "MAX_PREVIEW_ROWS",
    "Catalog",
    "CatalogFamily",
    "ColumnInfo",
    "Preview",
    "ServerInfo",
    "TableInfo",
    "catalog_families",
    "catalog_for",
    "catalog_of",
    "find_family",
    "register_catalog",
]
