"""A tool call during a real database outage (tests/support/outages.py) is a tool error with
the words REST's 503 gives, never the generic refusal; once the database is back, calls work."""

from __future__ import annotations

from pathlib import Path

from masthead.store.outages import UNAVAILABLE_MESSAGE
from tests.conftest import make_settings
from tests.mcp.conftest import agent
from tests.mcp.test_posts import later
from tests.support.harness import served_app
from tests.support.mcp_client import call, refusal
from tests.support.outages import Setup
from tests.support.outages import setup as setup  # the fixture, shared


def rest_body(account: str) -> dict[str, object]:
    return {
        "post": {
            "accountId": account,
            "content": {"text": "hi", "mediaUrls": [], "platform": "twitter"},
            "target": {"targetType": "twitter"},
        },
        "scheduledTime": later(),
    }


async def test_a_tool_call_in_an_outage_says_what_rest_says(tmp_path: Path, setup: Setup) -> None:
    settings = make_settings(tmp_path, database_url=setup.url, api_rate_limits="off")
    async with served_app(settings, run_worker=False) as server:
        ada = await server.user()
        account = await server.account(ada, "twitter")
        post = {"accountId": account, "platform": "twitter", "text": "hi", "scheduledTime": later()}
        async with agent(server, ada) as client:
            await call(client, "blotato_list_accounts")  # the key is known before the outage
            end_outage = await setup.outage()
            try:
                rest = await server.create_post(ada, rest_body(account))
                refused = await client.call_tool("blotato_create_post", post)
            finally:
                await end_outage()
            created = await call(client, "blotato_create_post", **post)
    assert rest.status_code == 503, rest.text
    assert rest.json()["message"] == UNAVAILABLE_MESSAGE
    assert refusal(refused) == UNAVAILABLE_MESSAGE
    assert created["postSubmissionId"]
