"""The JSON API, /api/v1/ (django-ninja; the OpenAPI schema is at /api/v1/openapi.json).

Authentication: ``Authorization: Bearer <token>``. A token belongs to one user in one
organisation (admins create and revoke them on the KPIs → API tokens page; only a hash is
stored). Every object is looked up inside the token's organisation: another
organisation's KPI is a 404, exactly like a missing one. Bad input is a 4xx with a JSON
body naming the field; nothing is stored then (a batch is all or nothing).
"""

from __future__ import annotations

from ninja import NinjaAPI

from . import (
    candidates,
    checkins,
    comments,
    initiatives,
    kpi_definitions,
    kpis,
    okrs,
    people,
    sources,
    webhooks,
)
from .auth import TokenAuth
from .docs import PlainDocs
from .errors import add_error_handlers, complete_error_responses
from .webhooks_doc import add_webhooks


class HeadwayAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        return add_webhooks(complete_error_responses(schema))


api = HeadwayAPI(
    title="Headway API",
    version="1.0",
    description=__doc__,
    auth=TokenAuth(),
    urls_namespace="api",
    docs=PlainDocs(),
)
add_error_handlers(api)
assert kpi_definitions.router is kpis.router  # its operations share the reads' paths
api.add_router("", kpis.router)
api.add_router("", okrs.router)
api.add_router("", checkins.router)
api.add_router("", initiatives.router)
api.add_router("", people.router)
api.add_router("", candidates.router)
api.add_router("", sources.router)
api.add_router("", comments.router)
api.add_router("", webhooks.router)
