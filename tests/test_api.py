"""The /api/v1 contract and its OpenAPI document."""
from __future__ import annotations

import re


def test_openapi_matches_routes(app, client):
    """The OpenAPI document lists exactly the /api/v1 routes, with their methods."""
    spec = client.get("/api/v1/openapi.json").get_json()
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    actual = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule[len("/api/v1"):])
            actual |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == actual


def test_me_contract(client, city, auth):
    """GET /me returns id, username, name, role and unit {id, name, path}."""
    auth.login(client, "supervisor")
    me = client.get("/api/v1/me").get_json()
    assert set(me) >= {"id", "username", "name", "role", "unit"}
    assert set(me["unit"]) == {"id", "name", "path"}
    assert me["role"] == "supervisor" and me["unit"]["id"] == city.branch_a
