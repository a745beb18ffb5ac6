"""The warehouses and the local HTTP server, for every data-source test."""

from tests.sources.warehouses import (  # noqa: F401
    http_site,
    mariadb_warehouse,
    pg_warehouse,
    sqlite_warehouse,
)
