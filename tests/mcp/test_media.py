"""Media through MCP: copied in from a URL (through the SSRF guard), presigned uploads."""

from __future__ import annotations

import httpx

from tests.mcp.conftest import agent
from tests.support.files import FileServer
from tests.support.harness import Harness
from tests.support.images import png
from tests.support.mcp_client import call, refusal


async def test_media_from_a_local_url_is_hosted(server: Harness, files: FileServer) -> None:
    ada = await server.user()
    picture = png(64, 48)
    async with agent(server, ada) as client:
        hosted = await call(client, "blotato_upload_media", url=files.add("dot.png", picture))
    assert hosted["url"].startswith(server.settings.public_url + "/media/")
    assert hosted["id"]
    async with httpx.AsyncClient() as http:
        served = await http.get(hosted["url"])
    assert served.status_code == 200
    assert served.content == picture


async def test_a_private_address_is_refused_with_the_rest_message(server: Harness) -> None:
    ada = await server.user()
    body = {"url": "http://10.0.0.1/secret.png"}
    rest = await server.client.post("/v2/media", json=body, headers=ada.headers)
    assert rest.status_code == 422
    async with agent(server, ada) as client:
        result = await client.call_tool("blotato_upload_media", body)
    assert refusal(result) == rest.json()["message"]


async def test_a_presigned_upload_takes_the_file_once(server: Harness) -> None:
    ada = await server.user()
    async with agent(server, ada) as client:
        upload = await call(client, "blotato_create_presigned_upload_url", filename="dot.png")
    async with httpx.AsyncClient() as http:
        put = await http.put(upload["presignedUrl"], content=png(32, 32))
        again = await http.put(upload["presignedUrl"], content=png(32, 32))
        served = await http.get(upload["publicUrl"])
    assert put.status_code == 200, put.text
    assert again.status_code == 409
    assert served.status_code == 200
