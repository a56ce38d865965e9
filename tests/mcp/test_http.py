"""`/mcp` over Streamable HTTP: the key is checked like REST's before any JSON-RPC, both key
headers work, the 2025 handshake versions and the SDK's newest are served, GET is 405."""

from __future__ import annotations

import httpx
import orjson
import pytest
from mcp.shared.exceptions import MCPError

from masthead.services.agent_setup import setup
from tests.mcp.conftest import agent
from tests.support.harness import Harness
from tests.support.mcp_client import call, connected

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-03-26",
        "capabilities": {},
        "clientInfo": {"name": "curl", "version": "1"},
    },
}
ACCEPT = {"Accept": "application/json, text/event-stream"}


async def test_no_key_and_a_wrong_key_are_401_before_any_json_rpc(server: Harness) -> None:
    missing = await server.client.post("/mcp", json=INITIALIZE, headers=ACCEPT)
    assert missing.status_code == 401
    assert missing.json() == {"message": "Missing API key: send it in the blotato-api-key header"}
    wrong = await server.client.post(
        "/mcp", json=INITIALIZE, headers={**ACCEPT, "blotato-api-key": "blt_nope"}
    )
    assert wrong.status_code == 401
    assert wrong.json() == {"message": "Wrong Blotato API Key"}


async def test_a_wrong_key_is_refused_to_the_sdk_client(server: Harness) -> None:
    statuses: list[int] = []
    wrong = {"blotato-api-key": "blt_nope"}
    with pytest.raises(ExceptionGroup):
        async with connected(server.settings.public_url, wrong, statuses=statuses) as client:
            await client.list_tools()
    assert statuses and set(statuses) == {401}


async def test_bearer_key_works_like_the_blotato_header(server: Harness) -> None:
    ada = await server.user()
    bearer = {"Authorization": f"Bearer {ada.key}"}
    async with connected(server.settings.public_url, bearer) as client:
        me = await call(client, "blotato_get_user")
    assert me["email"] == ada.email


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_handshake_and_newest_protocols_both_serve_the_tools(
    server: Harness, mode: str
) -> None:
    ada = await server.user()
    async with agent(server, ada, mode) as client:
        me = await call(client, "blotato_get_user")
    assert me["id"] == ada.user_id


async def test_initialize_names_the_server_and_answers_plain_json(server: Harness) -> None:
    ada = await server.user()
    answer = await server.client.post("/mcp", json=INITIALIZE, headers={**ACCEPT, **ada.headers})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    result = answer.json()["result"]
    assert result["protocolVersion"] == "2025-03-26"
    assert result["serverInfo"]["name"] == "masthead"
    assert result["capabilities"]["tools"] == {"listChanged": False}


async def test_get_is_405_and_a_foreign_origin_403(server: Harness) -> None:
    ada = await server.user()
    get = await server.client.get("/mcp", headers={**ACCEPT, **ada.headers})
    assert get.status_code == 405
    foreign = await server.client.post(
        "/mcp",
        json=INITIALIZE,
        headers={**ACCEPT, **ada.headers, "Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    own = await server.client.post(
        "/mcp",
        json=INITIALIZE,
        headers={**ACCEPT, **ada.headers, "Origin": server.settings.public_url},
    )
    assert own.status_code == 200


async def test_unknown_tool_is_a_json_rpc_invalid_params_error(server: Harness) -> None:
    ada = await server.user()
    async with agent(server, ada) as client:
        with pytest.raises(MCPError) as error:
            await client.call_tool("blotato_make_coffee", {})
    assert error.value.code == -32602
    assert error.value.error.message == "Unknown tool: blotato_make_coffee"


async def test_rest_is_untouched_by_the_mount(server: Harness) -> None:
    ada = await server.user()
    async with httpx.AsyncClient(base_url=server.settings.public_url) as client:
        me = await client.get("/v2/users/me", headers=ada.headers)
    assert me.status_code == 200


async def test_the_configuration_the_settings_page_shows_connects(server: Harness) -> None:
    ada = await server.user()
    shown = orjson.loads(setup(server.settings.public_url, ada.key).http_config)
    entry = shown["mcpServers"]["masthead"]
    assert entry["url"] == f"{server.settings.public_url}/mcp"
    base_url = entry["url"].removesuffix("/mcp")
    async with connected(base_url, entry["headers"]) as client:
        me = await call(client, "blotato_get_user")
    assert me["id"] == ada.user_id
