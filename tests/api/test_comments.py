"""Section 10: POST /v2/comments, GET /v2/comments, GET /v2/comments/{id} (no worker: what
is checked here is validation, storage, shapes and who sees what)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import orjson

from masthead.domain.comments import CommentStatus
from masthead.services import maintenance
from masthead.timeutil import utcnow
from tests.api.conftest import ISO_MS, UUID
from tests.support.comments import remote, seed_inbound, seed_post, set_status
from tests.support.harness import Caller, Harness


async def post_comment(
    harness: Harness, caller: Caller, body: Any, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await harness.client.post(
        "/v2/comments",
        content=orjson.dumps(body),
        headers={**caller.headers, "Content-Type": "application/json", **(headers or {})},
    )


async def instagram_post(harness: Harness, caller: Caller) -> tuple[str, str]:
    account = await harness.account(caller, "instagram")
    return account, await seed_post(harness.db, caller, account, "instagram", remote_id="1791")


async def test_a_comment_is_queued_with_the_contract_shape(idle: Harness, ada: Caller) -> None:
    account, post = await instagram_post(idle, ada)
    response = await post_comment(idle, ada, {"postId": post, "text": "Thanks!"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert re.match(UUID, body["id"]) and re.match(ISO_MS, body["createdAt"])
    assert {k: body[k] for k in body if k not in ("id", "createdAt", "updatedAt")} == {
        "accountId": account,
        "platform": "instagram",
        "postId": post,
        "platformPostId": "1791",
        "parentCommentId": None,
        "platformCommentId": None,
        "authorId": None,
        "isAuthor": True,
        "text": "Thanks!",
        "status": "queued",
        "errorCode": None,
        "errorMessage": None,
        "authorUsername": None,
        "authorName": None,
    }
    again = await idle.client.get(f"/v2/comments/{body['id']}", headers=ada.headers)
    assert again.status_code == 200 and again.json() == body


async def test_a_reply_names_its_top_level_parent(idle: Harness, ada: Caller) -> None:
    account, post = await instagram_post(idle, ada)
    [parent] = await seed_inbound(idle.db, ada, account, post, "instagram", [remote("181")])
    response = await post_comment(
        idle, ada, {"postId": post, "text": "Glad you like it", "parentCommentId": parent}
    )
    assert response.status_code == 201, response.text
    assert response.json()["parentCommentId"] == parent


async def test_a_reply_to_a_reply_is_refused_with_the_contract_error(
    idle: Harness, ada: Caller
) -> None:
    account, post = await instagram_post(idle, ada)
    await seed_inbound(idle.db, ada, account, post, "instagram", [remote("181")])
    [reply] = await seed_inbound(
        idle.db, ada, account, post, "instagram", [remote("182", parent="181")]
    )
    response = await post_comment(
        idle, ada, {"postId": post, "text": "Hi", "parentCommentId": reply}
    )
    assert response.status_code == 422
    assert response.json()["message"] == "parentCommentId: must be a top-level comment"


async def test_a_parent_on_another_post_or_not_posted_is_refused(
    idle: Harness, ada: Caller
) -> None:
    account, post = await instagram_post(idle, ada)
    other = await seed_post(idle.db, ada, account, "instagram", remote_id="1792")
    [parent] = await seed_inbound(idle.db, ada, account, other, "instagram", [remote("181")])
    response = await post_comment(
        idle, ada, {"postId": post, "text": "Hi", "parentCommentId": parent}
    )
    assert (response.status_code, response.json()["message"]) == (
        422,
        "parentCommentId: belongs to another post",
    )
    await set_status(idle.db, parent, CommentStatus.DELETED)
    response = await post_comment(
        idle, ada, {"postId": other, "text": "Hi", "parentCommentId": parent}
    )
    assert (response.status_code, response.json()["message"]) == (
        422,
        "parentCommentId: comment is not posted",
    )
    unknown = "00000000-0000-0000-0000-000000000000"
    response = await post_comment(
        idle, ada, {"postId": post, "text": "Hi", "parentCommentId": unknown}
    )
    assert (response.status_code, response.json()) == (404, {"message": "Comment not found"})


async def test_posts_that_cannot_take_a_comment_are_refused(idle: Harness, ada: Caller) -> None:
    account, _ = await instagram_post(idle, ada)
    scheduled = await seed_post(idle.db, ada, account, "instagram", state="scheduled")
    tiktok = await idle.account(ada, "tiktok")
    tiktok_post = await seed_post(idle.db, ada, tiktok, "tiktok")
    cases = [
        ({"postId": "00000000-0000-0000-0000-000000000000", "text": "x"}, 404, "Post not found"),
        ({"postId": "not-a-post", "text": "x"}, 404, "Post not found"),
        ({"postId": scheduled, "text": "x"}, 422, "Post is not published"),
        ({"postId": tiktok_post, "text": "x"}, 422, "Comments are not supported for tiktok"),
        ({"text": "x"}, 422, "postId: is required"),
    ]
    for body, status, message in cases:
        response = await post_comment(idle, ada, body)
        assert (response.status_code, response.json()["message"]) == (status, message), body


async def test_text_is_required_and_limited_per_platform(idle: Harness, ada: Caller) -> None:
    _, post = await instagram_post(idle, ada)
    for text in (None, "", "   "):
        response = await post_comment(idle, ada, {"postId": post, "text": text})
        assert (response.status_code, response.json()["message"]) == (422, "text: is required")
    response = await post_comment(idle, ada, {"postId": post, "text": "é" * 2201})
    assert response.status_code == 422
    assert (
        response.json()["message"] == "text: must NOT have more than 2200 characters for instagram"
    )
    assert response.json()["errors"][0]["path"] == "text"
    fine = await post_comment(idle, ada, {"postId": post, "text": "é" * 2200})
    assert fine.status_code == 201


async def test_the_same_idempotency_key_replays_and_a_different_body_conflicts(
    idle: Harness, ada: Caller
) -> None:
    _, post = await instagram_post(idle, ada)
    key = {"Idempotency-Key": "comment-1"}
    first = await post_comment(idle, ada, {"postId": post, "text": "Once"}, key)
    second = await post_comment(idle, ada, {"postId": post, "text": "Once"}, key)
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    listed = await idle.client.get(f"/v2/comments?postId={post}", headers=ada.headers)
    assert len(listed.json()["items"]) == 1
    other = await post_comment(idle, ada, {"postId": post, "text": "Twice"}, key)
    assert other.status_code == 409


async def test_user_a_never_sees_user_b_comments(idle: Harness, ada: Caller, bob: Caller) -> None:
    account, post = await instagram_post(idle, ada)
    [inbound] = await seed_inbound(idle.db, ada, account, post, "instagram", [remote("181")])
    mine = (await post_comment(idle, ada, {"postId": post, "text": "Mine"})).json()["id"]
    for comment_id in (inbound, mine):
        response = await idle.client.get(f"/v2/comments/{comment_id}", headers=bob.headers)
        assert (response.status_code, response.json()) == (404, {"message": "Comment not found"})
    listed = await idle.client.get("/v2/comments", headers=bob.headers)
    assert listed.json() == {"items": []}
    by_post = await idle.client.get(f"/v2/comments?postId={post}", headers=bob.headers)
    assert by_post.json() == {"items": []}
    response = await post_comment(idle, bob, {"postId": post, "text": "Not yours"})
    assert (response.status_code, response.json()) == (404, {"message": "Post not found"})
    response = await post_comment(
        idle, bob, {"postId": post, "text": "Not yours", "parentCommentId": inbound}
    )
    assert response.status_code == 404


async def test_the_list_filters_pages_newest_first_and_drops_what_is_past_retention(
    idle: Harness, ada: Caller
) -> None:
    account, post = await instagram_post(idle, ada)
    now = utcnow()
    seeded = await seed_inbound(
        idle.db,
        ada,
        account,
        post,
        "instagram",
        [remote(f"18{i}", f"comment {i}", at=now - timedelta(minutes=i)) for i in range(5)]
        + [remote("old", "too old", at=now - timedelta(days=46))],
    )
    await seed_inbound(
        idle.db, ada, account, post, "instagram", [remote("r1", "a reply", parent="180")]
    )
    seen: list[str] = []
    url = "/v2/comments?limit=2&isAuthor=false&parentCommentId="
    cursor = None
    while True:
        query = f"/v2/comments?limit=2&postId={post}" + (f"&cursor={cursor}" if cursor else "")
        page = (await idle.client.get(query, headers=ada.headers)).json()
        seen += [item["text"] for item in page["items"]]
        cursor = page.get("cursor")
        if cursor is None:
            break
    assert seen == ["a reply", "comment 0", "comment 1", "comment 2", "comment 3", "comment 4"]
    replies = await idle.client.get(url + seeded[0], headers=ada.headers)
    assert [item["text"] for item in replies.json()["items"]] == ["a reply"]
    old = await idle.client.get(f"/v2/comments/{seeded[-1]}", headers=ada.headers)
    assert old.status_code == 404
    facebook = await idle.client.get(
        "/v2/comments?platform=facebook&platform=twitter", headers=ada.headers
    )
    assert facebook.json() == {"items": []}
    since = (now - timedelta(minutes=1, seconds=30)).isoformat()
    recent = await idle.client.get(
        "/v2/comments", params={"since": since, "isAuthor": "false"}, headers=ada.headers
    )
    assert [i["text"] for i in recent.json()["items"]] == ["a reply", "comment 0", "comment 1"]


async def test_bad_list_parameters_are_named(idle: Harness, ada: Caller) -> None:
    for query, name in (
        ("limit=0", "limit"),
        ("limit=251", "limit"),
        ("cursor=nope", "cursor"),
        ("platform=myspace", "platform"),
        ("since=yesterday", "since"),
        ("status=lost", "status"),
        ("accountId=abc", "accountId"),
    ):
        response = await idle.client.get(f"/v2/comments?{query}", headers=ada.headers)
        assert response.status_code == 422, query
        assert name in response.json()["message"], (query, response.json())


async def test_the_purge_deletes_comments_past_retention_and_keeps_the_rest(
    idle: Harness, ada: Caller
) -> None:
    account, post = await instagram_post(idle, ada)
    now = utcnow()
    _, recent = await seed_inbound(
        idle.db,
        ada,
        account,
        post,
        "instagram",
        [remote("old", at=now - timedelta(days=46)), remote("new", at=now - timedelta(days=44))],
    )
    assert await maintenance.purge_comments(idle.db, 45) == 1
    assert await maintenance.purge_comments(idle.db, 45) == 0
    listed = await idle.client.get(f"/v2/comments?postId={post}", headers=ada.headers)
    assert [item["id"] for item in listed.json()["items"]] == [recent]
