"""/v1/openapi.json from the models: typed responses, every status, problem+json errors; MCP schemas current."""

from __future__ import annotations

from conftest import http_request

PROBLEM = {"$ref": "#/components/schemas/Problem"}


def _spec(server) -> dict:
    return http_request(server.url, "GET", "/v1/openapi.json").body


def test_every_api_response_is_typed_and_every_error_is_problem_json(server):
    spec = _spec(server)
    schemas = spec["components"]["schemas"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            assert "default" not in op["responses"], (method, path)
            for code, answer in op["responses"].items():
                (media, body), = answer["content"].items()
                if int(code) >= 400:
                    assert media == "application/problem+json" and body["schema"] == PROBLEM, (method, path, code)
                elif path != "/mcp":  # JSON-RPC, described by the MCP specification
                    ref = body["schema"]["$ref"].rsplit("/", 1)[1]
                    assert media == "application/json" and schemas[ref]["properties"], (method, path, code)


def test_statuses_follow_what_each_operation_can_answer(server):
    paths = _spec(server)["paths"]

    def codes(path, method):
        return set(paths[path][method]["responses"])

    assert codes("/healthz", "get") == {"200"}
    assert codes("/readyz", "get") == {"200", "503"}
    assert {"201", "400", "401", "413", "422", "429", "503"} <= codes("/v1/knowledge", "post")
    assert "200" not in codes("/v1/knowledge", "post")
    assert {"200", "201", "409"} <= codes("/v1/documents/{name}", "put")
    assert {"404"} <= codes("/v1/tasks/{id}", "get") and "413" not in codes("/v1/tasks/{id}", "get")
    assert "403" in codes("/v1/audit", "get") and "403" not in codes("/v1/whoami", "get")


def test_response_schemas_carry_what_views_return(server):
    schemas = _spec(server)["components"]["schemas"]
    assert {"preview", "body_chars", "body"} <= set(schemas["Entry"]["properties"])
    assert {"quota", "usage"} <= set(schemas["Fleet"]["properties"])
    assert {"waiting", "counts", "cursor"} <= set(schemas["Wake"]["properties"])
    assert schemas["Record"]["properties"]["count"]["type"] == "integer"
    assert schemas["Acked"]["properties"]["cursor"]["type"] == "string"


def test_request_bodies_are_exact_and_required_only_when_they_must_be(server):
    paths = _spec(server)["paths"]

    def body(path, method):
        return paths[path][method]["requestBody"]

    assert body("/v1/knowledge", "post")["required"] is True
    for path, method in (("/v1/wake", "post"), ("/v1/agents/{name}", "patch"), ("/v1/research/{id}/revisions", "post")):
        assert body(path, method)["required"] is False, (path, method)
    publish = body("/v1/knowledge", "post")["content"]["application/json"]["schema"]
    assert publish["additionalProperties"] is False and publish["required"] == ["kind", "title"]
    domains = publish["properties"]["domains"]
    assert domains["items"]["pattern"] and domains["maxItems"] == 32
    assert publish["properties"]["supersedes"]["anyOf"][0]["type"] == "integer"
    assert publish["properties"]["title"]["maxLength"] == 300


def test_mcp_tool_schemas_are_generated_from_the_models():
    """tool_schemas.json is what `python -m fleetctl.mcp.gen` writes today (regenerate it when this fails)."""
    from fleetctl.mcp import gen

    assert gen.PATH.read_text() == gen.render()
    search = gen.schemas()["fleet_search_knowledge"]["properties"]
    assert search["domain"]["items"]["type"] == "string" and "array" in search["domain"]["type"]
