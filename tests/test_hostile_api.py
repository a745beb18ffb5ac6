"""Bad input on every API query and path parameter (issue 15), found from the OpenAPI
document itself, so a parameter added tomorrow is walked too: NUL, lone surrogates,
invalid UTF-8, huge and negative numbers, NaN, SQL-ish and markup text, odd digits, wrong
types, repeated keys. Every answer is a 2xx or a 4xx in the API's one JSON error shape,
never a 5xx and never an HTML page.

Two walks: a complete one (every operation × every parameter × every fixed hostile value)
and a Hypothesis one (random operations, parameters and hostile text, several at once).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.test_hostile_input import HOSTILE_TEXT, SLOW, _encoded

pytestmark = pytest.mark.django_db

# Sent as raw query text (already percent-encoded where it matters): what a hostile client
# can put on the wire, including bytes no UTF-8 decoder accepts.
FIXED = ["%00", "a%00b", "%ED%A0%80", "%FF%FE", "-1", "0", "-99999999999999999999",
         "99999999999999999999999999", "1e309", "NaN", "-inf", "1.5", "true", "%5B%5D",
         "%27%20OR%201%3D1%20--", "%D9%A3", "%EF%BC%91%EF%BC%92", "1_000", "2026-13-45",
         "%E2%80%AEevil", "x" * 5000, ""]

# Path parameters → the world object that fills them when they are not under attack.
PATH_OBJECTS = {"kpi_id": "kpi", "cycle_id": "cycle", "objective_id": "objective",
                "kr_id": "kr", "team_id": "team", "initiative_id": "initiative",
                "source_id": "source"}


@pytest.fixture
def api_world(client):
    from tests.conftest import make_world

    world = make_world()
    schema = client.get("/api/v1/openapi.json").json()
    params = []  # (method, path template, parameter name, "query" | "path")
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            for p in op.get("parameters", []):
                if p["in"] in ("query", "path"):
                    params.append((method, path, p["name"], p["in"]))
    return {"world": world, "params": params, "token": world["admin_token"]}


def _send(client, api_world, method: str, template: str, name: str, where: str, raw: str,
          extra: str = ""):
    world = api_world["world"]
    path = template
    for param, key in PATH_OBJECTS.items():
        value = raw if (where == "path" and param == name) else str(world[key])
        path = path.replace("{" + param + "}", value)
    query = f"{name}={raw}" if where == "query" else ""
    query = "&".join(q for q in (query, extra) if q)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {api_world['token']}"}
    if method == "get":
        return client.get(path, QUERY_STRING=query, **headers)
    return getattr(client, method)(path + ("?" + query if query else ""), "{}",
                                   content_type="application/json", **headers)


def _answered(response, what: str) -> None:
    assert response.status_code < 500, f"{what} → {response.status_code}"
    assert response["Content-Type"].startswith("application/json"), (
        f"{what} → {response['Content-Type']}")
    if response.status_code >= 400:
        body = json.loads(response.content)
        assert isinstance(body.get("detail"), str) and body["detail"], f"{what} → {body}"


def test_the_walk_finds_the_parameters(api_world):
    names = {(m, p, n) for m, p, n, _ in api_world["params"]}
    assert ("get", "/api/v1/kpis", "status") in names
    assert ("get", "/api/v1/kpis/{kpi_id}/points", "until") in names
    assert ("get", "/api/v1/initiatives", "owner") in names
    assert ("patch", "/api/v1/initiatives/{initiative_id}", "initiative_id") in names
    assert len(api_world["params"]) >= 40, len(api_world["params"])


def test_every_parameter_with_every_fixed_hostile_value(client, api_world):
    # Reads first: a write answered 2xx (delete) would change what the next ones see.
    walk = sorted(api_world["params"], key=lambda p: p[0] != "get")
    for method, template, name, where in walk:
        if method == "delete" and where == "path":
            values = [v for v in FIXED if v not in ("0", "-1", "1.5", "")]
        else:
            values = FIXED
        for raw in values:
            what = f"{method.upper()} {template} {where} {name}={raw[:40]!r}"
            _answered(_send(client, api_world, method, template, name, where, raw), what)
        if where == "query":  # the same key twice, one of them hostile
            _answered(_send(client, api_world, method, template, name, where, "%00",
                            extra=f"{name}=1"), f"{method.upper()} {template} {name} twice")


@SLOW
@given(data=st.data())
def test_random_hostile_parameters_never_5xx(client, api_world, data):
    reads = [p for p in api_world["params"] if p[0] == "get"]
    method, template, name, where = data.draw(st.sampled_from(reads))
    value = data.draw(HOSTILE_TEXT)
    raw = _encoded({"v": value})[2:]
    same_op = [p for p in reads if p[:2] == (method, template) and p[3] == "query"]
    extra = ""
    if same_op:  # a second parameter of the operation, hostile too
        _, _, other, _ = data.draw(st.sampled_from(same_op))
        extra = _encoded({other: data.draw(HOSTILE_TEXT)})
    _answered(_send(client, api_world, method, template, name, where, raw, extra),
              f"GET {template} {where} {name}={value!r:.60} & {extra[:60]}")
