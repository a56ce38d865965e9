"""`masthead mcp` as a subprocess, driven by the SDK's stdio client: the same tools, forwarded
to the running server with the key from MASTHEAD_API_KEY."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.mcp.test_tools import CONTRACT
from tests.support.harness import Harness, webhook_post
from tests.support.mcp_client import call, refusal
from tests.support.receiver import Receiver


def command(harness: Harness, key: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "masthead", "mcp", "--server", harness.settings.public_url],
        env={"PATH": os.environ.get("PATH", ""), "MASTHEAD_API_KEY": key},
    )


async def test_stdio_serves_the_same_tools_for_the_keys_owner(
    server: Harness, receiver: Receiver
) -> None:
    ada, bob = await server.user("ada@example.com"), await server.user("bob@example.com")
    account = await server.account(ada)
    bobs = await server.create_post(bob, webhook_post(await server.account(bob), receiver.url))
    async with Client(command(server, ada.key)) as client:
        listed = await client.list_tools()
        me = await call(client, "blotato_get_user")
        created = await server.create_post(ada, webhook_post(account, receiver.url))
        post_id = created.json()["postSubmissionId"]
        for _ in range(300):
            status = await call(client, "blotato_get_post_status", postSubmissionId=post_id)
            if status["status"] == "published":
                break
            await asyncio.sleep(0.05)
        foreign = await client.call_tool(
            "blotato_get_post_status", {"postSubmissionId": bobs.json()["postSubmissionId"]}
        )
        unknown_status = await client.call_tool("blotato_list_posts", {"status": ["someday"]})
    assert {t.name for t in listed.tools} == set(CONTRACT)
    assert me["email"] == "ada@example.com"
    assert status["status"] == "published", status
    assert refusal(foreign) == "Post not found"
    assert refusal(unknown_status).startswith("status[0]: 'someday' is not one of")


async def test_a_wrong_key_stops_the_command_with_the_servers_words(server: Harness) -> None:
    params = command(server, "blt_wrong")
    process = await asyncio.create_subprocess_exec(
        params.command,
        *params.args,
        env=params.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 1
    assert "Wrong Blotato API Key" in stderr.decode()


def test_no_key_at_all_is_refused_before_anything_starts() -> None:
    finished = subprocess.run(
        [sys.executable, "-m", "masthead", "mcp", "--server", "http://127.0.0.1:9"],
        env={"PATH": os.environ.get("PATH", "")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert finished.returncode == 1
    assert "MASTHEAD_API_KEY" in finished.stderr
