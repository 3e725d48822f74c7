"""The OpenAPI schema documents the errors the API gives: walked from the schema itself, every
operation that takes input documents 422 (the validation shape), every authenticated one 401 and
403, and a request with a wrong-typed parameter or body gets a status its operation documents."""
import re

import pytest

from webapp.accounts.services import token_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client):
    return client.get("/api/openapi.json").json()


def operations(schema):
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            yield method, path, op


def test_every_operation_with_input_documents_422_and_every_authenticated_one_401_and_403(schema):
    missing = []
    for method, path, op in operations(schema):
        documented = set(op["responses"])
        if op.get("parameters") or "requestBody" in op:
            if "422" not in documented:
                missing.append(f"{method} {path} 422")
            else:
                ref = op["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ValidationOut"), (method, path)
        if op.get("security"):
            missing += [f"{method} {path} {status}" for status in ("401", "403") if status not in documented]
    assert missing == []
    assert "ValidationOut" in schema["components"]["schemas"]


def test_a_wrong_typed_request_gets_a_status_its_operation_documents(client, schema, alice):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token_create(user=alice, name='t')[1]}"}
    undocumented = []
    for method, path, op in operations(schema):
        url = re.sub(r"\{[^}]+\}", "not-a-number", path) if "{" in path else path
        query = {p["name"]: "not-a-number" for p in op.get("parameters", [])
                 if p["in"] == "query" and p.get("schema", {}).get("type") == "integer"}
        if method == "get":
            response = client.get(url, query, **auth)
        else:
            response = client.generic(method.upper(), url, "[1, 2]", content_type="application/json", **auth)
        if str(response.status_code) not in op["responses"]:
            undocumented.append(f"{method} {path}: {response.status_code}")
    assert undocumented == []
