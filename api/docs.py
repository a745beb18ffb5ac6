"""The API reference page at /api/v1/docs."""

from __future__ import annotations

from django.shortcuts import render
from ninja.openapi.docs import DocsBase


class PlainDocs(DocsBase):
    """A server-rendered reference built from the OpenAPI schema.

    Swagger UI and Redoc load from a CDN and run inline scripts; our CSP allows neither
    (and Headway never loads code from a CDN). The schema itself is at openapi.json.
    """

    def render_page(self, request, api, **kwargs):
        schema = api.get_openapi_schema(path_params=kwargs)
        operations = []
        for path, methods in schema["paths"].items():
            for method, op in methods.items():
                body = (op.get("requestBody", {}).get("content", {})
                        .get("application/json", {}).get("schema", {}))
                operations.append({
                    "method": method.upper(), "path": path, "summary": op.get("summary", ""),
                    "params": [p["name"] + (" (required)" if p.get("required") else "")
                               for p in op.get("parameters", [])],
                    "body": body.get("$ref", "").rsplit("/", 1)[-1],
                    "responses": sorted(op.get("responses", {})),
                })
        return render(request, "api/docs.html", {
            "schema": schema, "operations": operations,
            "schema_url": self.get_openapi_url(api, kwargs),
            # (name, [(field, spec)]): a template cannot read a property called "items".
            "components": [(name, sorted(comp.get("properties", {}).items()))
                           for name, comp in sorted(schema.get("components", {})
                                                    .get("schemas", {}).items())],
        })
