"""Posting through MCP: the same services as REST, so the same stored post, the same refusal
texts, the same rate-limit bucket, and only the caller's own posts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from mcp import Client

from masthead.store import posts as post_store
from tests.conftest import make_settings
from tests.fakes.x import FakeX
from tests.mcp.conftest import agent
from tests.support.analytics import measure, publish
from tests.support.harness import Harness, served_app, webhook_post
from tests.support.mcp_client import call, refusal
from tests.support.platforms import connected_account
from tests.support.receiver import Receiver


def later(days: float = 1.0) -> str:
    when = (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)
    return when.isoformat().replace("+00:00", "Z")


async def settled(client: Client, post_id: str, timeout: float = 15.0) -> dict[str, Any]:
    """Polls blotato_get_post_status, as an agent is told to, until published or failed."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status: dict[str, Any] = await call(
            client, "blotato_get_post_status", postSubmissionId=post_id
        )
        if status["status"] in ("published", "failed"):
            return status
        if asyncio.get_running_loop().time() > deadline:
            return status
        await asyncio.sleep(0.05)


async def test_a_thread_to_x_is_published_and_read_back(server: Harness, fake_x: FakeX) -> None:
    ada = await server.user()
    user = fake_x.add_user("ada")
    account = await connected_account("twitter", server, ada, fake_x, user)
    async with agent(server, ada) as client:
        accounts = await call(client, "blotato_list_accounts", platform="twitter")
        assert [a["id"] for a in accounts] == [account]
        created = await call(
            client,
            "blotato_create_post",
            accountId=account,
            platform="twitter",
            text="one",
            additionalPosts=[{"text": "two"}, {"text": "three", "mediaUrls": []}],
        )
        assert created["ignoredFields"] == []
        status = await settled(client, created["postSubmissionId"])
    assert status["status"] == "published", status
    first, second, third = fake_x.tweets_by(user)
    assert [t.text for t in (first, second, third)] == ["one", "two", "three"]
    assert (second.reply_to, third.reply_to) == (first.id, second.id)
    assert status["publicUrl"] == f"https://x.com/ada/status/{first.id}"
    assert len(status["posts"]) == 3


async def test_a_webhook_post_made_over_rest_is_published_as_mcp_reads_it(
    server: Harness, receiver: Receiver
) -> None:
    ada = await server.user()
    account = await server.account(ada)
    created = await server.create_post(ada, webhook_post(account, receiver.url))
    assert created.status_code == 201, created.text
    async with agent(server, ada) as client:
        status = await settled(client, created.json()["postSubmissionId"])
    assert status["status"] == "published", status
    [delivery] = await receiver.wait_for(1)
    assert orjson.loads(delivery.body)["postSubmissionId"] == status["postSubmissionId"]


async def test_mcp_and_rest_store_the_same_post_for_the_same_input(server: Harness) -> None:
    ada = await server.user()
    account = await server.account(ada, "twitter")
    when = later(3)
    rest = await server.create_post(
        ada,
        {
            "post": {
                "accountId": account,
                "content": {
                    "text": "same words",
                    "mediaUrls": [],
                    "platform": "twitter",
                    "additionalPosts": [{"text": "and more", "mediaUrls": []}],
                },
                "target": {"targetType": "twitter"},
            },
            "scheduledTime": when,
        },
    )
    assert rest.status_code == 201, rest.text
    async with agent(server, ada) as client:
        tool = await call(
            client,
            "blotato_create_post",
            accountId=account,
            platform="twitter",
            text="same words",
            additionalPosts=[{"text": "and more", "mediaUrls": []}],
            scheduledTime=when,
            boardId="123",
        )
    assert tool["ignoredFields"] == ["boardId"]
    assert {k: v for k, v in tool.items() if k not in ("postSubmissionId", "ignoredFields")} == {
        k: v for k, v in rest.json().items() if k != "postSubmissionId"
    }

    rest_id, tool_id = rest.json()["postSubmissionId"], tool["postSubmissionId"]
    by_rest = await server.db.read(lambda c: post_store.get_post(c, ada.user_id, rest_id))
    by_tool = await server.db.read(lambda c: post_store.get_post(c, ada.user_id, tool_id))
    assert by_rest is not None and by_tool is not None
    assert (by_tool.account_id, by_tool.platform, by_tool.draft, by_tool.scheduled_at) == (
        by_rest.account_id,
        by_rest.platform,
        by_rest.draft,
        by_rest.scheduled_at,
    )
    assert by_tool.state == by_rest.state


async def test_too_long_text_is_refused_with_the_rest_message(server: Harness) -> None:
    ada = await server.user()
    account = await server.account(ada, "twitter")
    text = "x" * 281
    rest = await server.create_post(
        ada,
        {
            "post": {
                "accountId": account,
                "content": {"text": text, "mediaUrls": [], "platform": "twitter"},
                "target": {"targetType": "twitter"},
            }
        },
    )
    assert rest.status_code == 422
    async with agent(server, ada) as client:
        result = await client.call_tool(
            "blotato_create_post", {"accountId": account, "platform": "twitter", "text": text}
        )
    assert refusal(result) == rest.json()["message"]
    assert "post.content.text" in refusal(result)


async def test_a_missing_required_target_field_names_it_as_rest_does(server: Harness) -> None:
    ada = await server.user()
    account = await server.account(ada, "facebook", subaccounts=[("page", "42", "Page")])
    async with agent(server, ada) as client:
        result = await client.call_tool(
            "blotato_create_post", {"accountId": account, "platform": "facebook", "text": "hi"}
        )
    assert refusal(result) == "post.target.pageId: is required for facebook"


async def test_one_users_tools_never_see_anothers_posts(server: Harness) -> None:
    ada, bob = await server.user("ada@example.com"), await server.user("bob@example.com")
    account = await server.account(ada)
    created = await server.create_post(
        ada, webhook_post(account, "https://hooks.example.com/x", scheduledTime=later())
    )
    post_id = created.json()["postSubmissionId"]
    async with agent(server, bob) as client:
        assert (
            refusal(
                await client.call_tool("blotato_get_post_status", {"postSubmissionId": post_id})
            )
            == "Post not found"
        )
        assert refusal(await client.call_tool("blotato_get_schedule", {"id": post_id})) == (
            "Schedule not found"
        )
        assert refusal(await client.call_tool("blotato_delete_schedule", {"id": post_id})) == (
            "Schedule not found"
        )
        assert (
            refusal(await client.call_tool("blotato_list_subaccounts", {"accountId": account}))
            == "Account not found"
        )
        assert (await call(client, "blotato_list_posts"))["items"] == []
        assert (await call(client, "blotato_list_schedules"))["items"] == []
        assert await call(client, "blotato_list_accounts") == []
        refused = await client.call_tool(
            "blotato_create_post", {"accountId": account, "platform": "twitter", "text": "hi"}
        )
    assert refusal(refused) == "Wrong Account ID"
    async with agent(server, ada) as client:
        assert (await call(client, "blotato_get_schedule", id=post_id))["schedule"]["id"] == (
            post_id
        )


async def test_tools_share_the_rest_routes_rate_limit(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, api_rate_limits="POST /v2/posts=2/min")
    async with served_app(settings, run_worker=False) as server:
        ada = await server.user()
        account = await server.account(ada)
        body = webhook_post(account, "https://hooks.example.com/x", scheduledTime=later())
        assert (await server.create_post(ada, body)).status_code == 201
        async with agent(server, ada) as client:
            await call(client, "blotato_list_posts")  # another route: its own bucket
            arguments = {"accountId": account, "platform": "twitter", "text": "hi"}
            second = await client.call_tool("blotato_create_post", arguments)
            third = await client.call_tool("blotato_create_post", arguments)
    # Counted, then refused by validation (the account is a webhook one), as REST counts it.
    assert refusal(second).startswith("post.target.targetType: account")
    assert refusal(third).startswith("Rate limit exceeded, retry in ")


async def test_top_posts_and_a_posts_analytics_are_the_rest_bodies_for_the_caller_only(
    server: Harness,
) -> None:
    ada, bob = await server.user(), await server.user("bob@example.com")
    account = await server.account(ada)
    published = datetime.now(UTC) - timedelta(hours=2)
    [post_id] = await publish(
        server.db, ada, account, "webhook", ["r1"], published, {"webhook": (timedelta(hours=1),)}
    )
    await measure(server.db, post_id, {"likesCount": "4"}, datetime.now(UTC))
    async with agent(server, ada) as client:
        top = await call(client, "blotato_list_top_posts", sortBy="likes_count")
        assert [(i["id"], i["latestMetrics"]["metrics"]) for i in top["items"]] == [
            (post_id, {"likesCount": "4"})
        ]
        one = await call(client, "blotato_get_post_analytics", id=post_id)
        assert (one["metrics"], one["lastError"]) == ({"likesCount": "4"}, None)
        bad = await client.call_tool("blotato_list_top_posts", {"sortBy": "best"})
        assert "sortBy" in refusal(bad)
        listed = await call(client, "blotato_list_published_posts", query="HELLO")
        assert (listed["count"], listed["items"][0]["id"]) == (1, post_id)
        [totals] = (await call(client, "blotato_get_platform_analytics"))["items"]
        assert totals["totals"] == {"likesCount": "4"}
        summary = await call(client, "blotato_get_analytics_summary")
        assert (summary["measuredPostsCount"], summary["topPost"]["id"]) == (1, post_id)
    async with agent(server, bob) as client:
        assert (await call(client, "blotato_list_top_posts"))["items"] == []
        missing = await client.call_tool("blotato_get_post_analytics", {"id": post_id})
        assert refusal(missing) == "Post not found"
