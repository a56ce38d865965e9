"""Comments through MCP with the SDK client: listed, read and answered as REST does, and only
the caller's."""

from __future__ import annotations

import asyncio

from tests.mcp.conftest import agent
from tests.support.comments import ScriptedComments, remote, seed_inbound, seed_post
from tests.support.harness import Harness
from tests.support.mcp_client import call, refusal


async def test_an_agent_lists_comments_and_replies_to_one(server: Harness) -> None:
    platform = ScriptedComments()
    server.ctx.publishers["instagram"] = platform
    ada = await server.user()
    account = await server.account(ada, "instagram")
    post = await seed_post(server.db, ada, account, "instagram", remote_id="1791")
    [fan] = await seed_inbound(server.db, ada, account, post, "instagram", [remote("181")])
    async with agent(server, ada) as client:
        listed = await call(client, "blotato_list_comments", postId=post, isAuthor=False)
        assert [c["id"] for c in listed["items"]] == [fan]
        by_platform = await call(client, "blotato_list_comments", platform="instagram")
        assert [c["id"] for c in by_platform["items"]] == [fan]
        queued = await call(
            client, "blotato_post_comment", postId=post, text="Thank you!", parentCommentId=fan
        )
        assert (queued["status"], queued["isAuthor"], queued["parentCommentId"]) == (
            "queued",
            True,
            fan,
        )
        for _ in range(200):
            got = await call(client, "blotato_get_comment", commentId=queued["id"])
            if got["status"] == "posted":
                break
            await asyncio.sleep(0.05)
        nested = await client.call_tool(
            "blotato_post_comment",
            {"postId": post, "text": "Deeper", "parentCommentId": queued["id"]},
        )
    assert got["platformCommentId"] == "c1"
    assert refusal(nested) == "parentCommentId: must be a top-level comment"


async def test_an_agent_never_sees_another_user_comments(server: Harness) -> None:
    ada, bob = await server.user("ada@example.com"), await server.user("bob@example.com")
    account = await server.account(ada, "instagram")
    post = await seed_post(server.db, ada, account, "instagram")
    [fan] = await seed_inbound(server.db, ada, account, post, "instagram", [remote("181")])
    async with agent(server, bob) as client:
        listed = await call(client, "blotato_list_comments")
        one = await client.call_tool("blotato_get_comment", {"commentId": fan})
        answer = await client.call_tool("blotato_post_comment", {"postId": post, "text": "Hi"})
    assert listed == {"items": []}
    assert refusal(one) == "Comment not found"
    assert refusal(answer) == "Post not found"
