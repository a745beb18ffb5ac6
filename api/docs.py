"""The API reference page at /api/v1/docs: every operation with its codes and a curl line."""

from __future__ import annotations

import json

from django.shortcuts import render
from ninja.openapi.docs import DocsBase

# A body that the operation accepts, for the curl line (the schema's required fields
# otherwise, filled by type).
BODIES = {
    "config_api_push_point": {"period": "2026-11-30", "value": 42.5, "note": "nightly"},
    "config_api_push_points": {"points": [{"period": "2026-11-23", "value": 40},
                                          {"period": "2026-11-30", "value": 42.5}]},
    "create_check_in": {"value": 7, "status": "on_track", "confidence": 8,
                        "comment": "Two deploys a day now"},
    "create_objective": {"title": "Ship faster", "cycle_id": 1},
    "update_objective": {"version": 3, "title": "Ship faster, safely"},
    "create_key_result": {"title": "Deploys a week", "start_value": 2, "target_value": 10},
    "update_key_result": {"version": 2, "target_value": 12},
    "dismiss_candidate": {"note": "Seasonal: back to normal in January"},
    "create_initiative": {"title": "Call lapsed customers", "key_result_id": 1,
                          "due_date": "2026-12-18"},
    "update_initiative": {"version": 1, "status": "in_progress", "percent_complete": 30},
}


def _example(spec: dict, components: dict):
    if "$ref" in spec:
        spec = components.get(spec["$ref"].rsplit("/", 1)[-1], {})
    if "anyOf" in spec:
        return _example(next(s for s in spec["anyOf"] if s.get("type") != "null"), components)
    if "enum" in spec:
        return next((v for v in spec["enum"] if v), spec["enum"][0])
    kind = spec.get("type")
    if kind == "object":
        return {name: _example(sub, components) for name, sub in spec.get("properties", {}).items()
                if name in spec.get("required", [])}
    if kind == "array":
        return [_example(spec.get("items", {}), components)]
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return True
    return "2026-11-30" if spec.get("format") == "date" else "text"


def curl_line(method: str, path: str, op: dict, components: dict, base: str) -> str:
    url = base + "/".join("1" if p.startswith("{") else p for p in path.split("/"))
    parts = [f"curl -X {method}" if method != "GET" else "curl",
             '-H "Authorization: Bearer $HEADWAY_TOKEN"']
    body_spec = (op.get("requestBody", {}).get("content", {}).get("application/json", {})
                 .get("schema"))
    if method == "POST":
        parts.append('-H "Idempotency-Key: $(uuidgen)"')
    if body_spec is not None:
        body = BODIES.get(op.get("operationId", ""), _example(body_spec, components))
        parts += ['-H "Content-Type: application/json"', f"-d '{json.dumps(body)}'"]
    parts.append(f'"{url}"')
    return " ".join(parts)


class PlainDocs(DocsBase):
    """A server-rendered reference built from the OpenAPI schema.

    Swagger UI and Redoc load from a CDN and run inline scripts; our CSP allows neither
    (and Headway never loads code from a CDN). The schema itself is at openapi.json.
    """

    def render_page(self, request, api, **kwargs):
        schema = api.get_openapi_schema(path_params=kwargs)
        components = schema.get("components", {}).get("schemas", {})
        base = request.build_absolute_uri("/").rstrip("/")
        operations = []
        for path, methods in schema["paths"].items():
            for method, op in methods.items():
                body = (op.get("requestBody", {}).get("content", {})
                        .get("application/json", {}).get("schema", {}))
                operations.append({
                    "method": method.upper(), "path": path, "summary": op.get("summary", ""),
                    "id": op.get("operationId", ""),
                    "params": [p["name"] + (" (required)" if p.get("required") else "")
                               for p in op.get("parameters", [])],
                    "body": body.get("$ref", "").rsplit("/", 1)[-1],
                    "responses": sorted(str(c) for c in op.get("responses", {})),
                    "curl": curl_line(method.upper(), path, op, components, base),
                })
        return render(request, "api/docs.html", {
            "schema": schema, "operations": operations,
            "schema_url": self.get_openapi_url(api, kwargs),
            # (name, [(field, spec)]): a template cannot read a property called "items".
            "components": [(name, sorted(comp.get("properties", {}).items()))
                           for name, comp in sorted(components.items())],
        })
