"""Bluesky replies as comments: written to the real PDS, read through getPostThread from a
lexicon-checked fake AppView in front of it (the PDS has none offline), faults injected in the
same place, a lost answer found in the account's own repository."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from masthead.domain.rules import Count
from masthead.platforms.base import (
    AccountContext,
    AccountDisconnected,
    AccountInfo,
    CommentDraft,
    Permanent,
    PostGone,
    PublishedPost,
    Retryable,
)
from masthead.platforms.bluesky import SPEC, BlueskyPublisher
from masthead.timeutil import utcnow
from tests.fakes.bluesky_appview import POST, THREAD, FakeAppView, post_as, session
from tests.platforms.bluesky.conftest import bluesky_settings, publisher_for
from tests.platforms.bluesky.test_sessions import access_jwt
from tests.support.bluesky_pds import Pds, PdsAccount
from tests.support.comments import by_id, comment_limit
from tests.support.credentials import Credentials
from tests.support.xrpc_proxy import ProxyFault

CREATE = "com.atproto.repo.createRecord"


@pytest.fixture
async def publisher(tmp_path: Path, appview: FakeAppView) -> AsyncIterator[BlueskyPublisher]:
    publisher = publisher_for(bluesky_settings(tmp_path, appview.url, bluesky_timeout_seconds=2.0))
    yield publisher
    await publisher.aclose()


async def account(publisher: BlueskyPublisher, who: PdsAccount) -> AccountContext:
    connected = await publisher.connect({"handle": who.handle, "app_password": who.app_password})
    info = AccountInfo(
        1, "bluesky", connected.external_id, connected.username, connected.credentials
    )
    return AccountContext(info, Credentials(dict(connected.credentials)))


def published(ref: dict[str, str]) -> PublishedPost:
    return PublishedPost("p1", ref["uri"], None, utcnow(), data=ref)


def test_bluesky_counts_comments_as_posts(publisher: BlueskyPublisher) -> None:
    assert comment_limit(publisher, SPEC) == (300, Count.GRAPHEMES)


async def test_replies_at_any_depth_are_read_under_their_top_level_reply(
    publisher: BlueskyPublisher, pds: Pds, alice: PdsAccount, appview: FakeAppView
) -> None:
    bob = pds.create_account("bob")
    ctx = await account(publisher, alice)
    as_alice, as_bob = session(pds, alice), session(pds, bob)
    root = post_as(pds, as_alice, "Our launch")
    first = post_as(pds, as_bob, "Congrats!", parent=root)
    answer = post_as(pds, as_alice, "Thank you", root=root, parent=first)
    deeper = post_as(pds, as_bob, "Any time", root=root, parent=answer)
    second = post_as(pds, as_bob, "When is the next one?", parent=root)
    post_as(pds, as_bob, "Unrelated")
    found = by_id(await publisher.list_comments(ctx, published(root), None))
    assert set(found) == {first["uri"], answer["uri"], deeper["uri"], second["uri"]}
    assert found[first["uri"]].parent_platform_comment_id is None
    assert found[second["uri"]].parent_platform_comment_id is None
    assert found[answer["uri"]].parent_platform_comment_id == first["uri"]
    assert found[deeper["uri"]].parent_platform_comment_id == first["uri"]
    assert [found[r["uri"]].is_author for r in (first, answer, deeper)] == [False, True, False]
    assert (found[first["uri"]].author_id, found[first["uri"]].author_username) == (
        bob.did,
        bob.handle,
    )
    assert found[first["uri"]].text == "Congrats!"


async def test_a_deleted_post_is_gone(
    publisher: BlueskyPublisher, pds: Pds, alice: PdsAccount
) -> None:
    ctx = await account(publisher, alice)
    as_alice = session(pds, alice)
    root = post_as(pds, as_alice, "Soon deleted")
    assert await publisher.list_comments(ctx, published(root), None) == []
    pds.xrpc(
        "com.atproto.repo.deleteRecord",
        {"repo": alice.did, "collection": POST, "rkey": root["uri"].rsplit("/", 1)[1]},
        as_alice["accessJwt"],
    )
    assert isinstance(await publisher.list_comments(ctx, published(root), None), PostGone)
    with pytest.raises(Permanent, match="no longer exists"):
        await publisher.send_comment(ctx, published(root), CommentDraft("Hello?"))


async def test_a_top_level_comment_and_a_reply_are_reply_records(
    publisher: BlueskyPublisher, pds: Pds, alice: PdsAccount
) -> None:
    bob = pds.create_account("bob")
    ctx = await account(publisher, alice)
    root = post_as(pds, session(pds, alice), "Our launch")
    question = post_as(pds, session(pds, bob), "Where?", parent=root)
    top = await publisher.send_comment(ctx, published(root), CommentDraft("Thanks @" + bob.handle))
    answer = await publisher.send_comment(
        ctx, published(root), CommentDraft("Here", question["uri"])
    )
    records = {r["uri"]: r["value"] for r in await pds.posts(alice.did)}
    assert records[top]["reply"] == {"root": root, "parent": root}
    assert records[top]["facets"][0]["features"][0]["did"] == bob.did
    assert records[answer]["reply"] == {"root": root, "parent": question}
    found = by_id(await publisher.list_comments(ctx, published(root), None))
    assert found[answer].parent_platform_comment_id == question["uri"]
    assert found[top].is_author and found[top].parent_platform_comment_id is None


async def test_rate_limits_are_retryable_with_the_wait(
    publisher: BlueskyPublisher, pds: Pds, alice: PdsAccount, appview: FakeAppView
) -> None:
    ctx = await account(publisher, alice)
    root = post_as(pds, session(pds, alice), "Busy")
    limited = b'{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}'
    for nsid in (THREAD, CREATE):
        appview.faults.append(
            ProxyFault(nsid, status=429, headers={"retry-after": "7"}, body=limited)
        )
    with pytest.raises(Retryable) as read:
        await publisher.list_comments(ctx, published(root), None)
    with pytest.raises(Retryable) as write:
        await publisher.send_comment(ctx, published(root), CommentDraft("Hi"))
    assert (read.value.retry_after, write.value.retry_after) == (7.0, 7.0)
    assert len(await pds.posts(alice.did)) == 1


async def test_a_revoked_app_password_disconnects_the_account(
    publisher: BlueskyPublisher, pds: Pds, alice: PdsAccount
) -> None:
    ctx = await account(publisher, alice)
    root = post_as(pds, session(pds, alice), "Revoked soon")
    owner = session(pds, alice)
    pds.xrpc("com.atproto.server.revokeAppPassword", {"name": "masthead"}, owner["accessJwt"])
    stale = {
        **ctx.account.credentials,
        "access_jwt": access_jwt(alice.did, expires_in=-60),
        "refresh_jwt": "revoked",
    }
    revoked = AccountContext(
        AccountInfo(1, "bluesky", alice.did, alice.handle, stale), Credentials(dict(stale))
    )
    with pytest.raises(AccountDisconnected):
        await publisher.list_comments(revoked, published(root), None)
    with pytest.raises(AccountDisconnected):
        await publisher.send_comment(revoked, published(root), CommentDraft("Hi"))


async def test_an_answer_lost_after_the_pds_acted_is_found_and_not_posted_again(
    publisher: BlueskyPublisher, pds: Pds, alice: PdsAccount, appview: FakeAppView
) -> None:
    bob = pds.create_account("bob")
    ctx = await account(publisher, alice)
    root = post_as(pds, session(pds, alice), "Our launch")
    question = post_as(pds, session(pds, bob), "Where?", parent=root)
    draft = CommentDraft("Right here", question["uri"])
    appview.faults.append(ProxyFault(CREATE, delay_after=4.0))  # longer than Masthead waits
    sent = await publisher.send_comment(ctx, published(root), draft)
    replies = [r for r in await pds.posts(alice.did) if "reply" in r["value"]]
    assert [r["uri"] for r in replies] == [sent]
    assert len(appview.calls_of(CREATE)) == 1
    assert await publisher.find_comment(ctx, published(root), draft) == sent


async def test_find_comment_answers_none_when_absent(
    publisher: BlueskyPublisher, pds: Pds, alice: PdsAccount
) -> None:
    bob = pds.create_account("bob")
    ctx = await account(publisher, alice)
    root = post_as(pds, session(pds, alice), "Our launch")
    question = post_as(pds, session(pds, bob), "Soon?", parent=root)
    await publisher.send_comment(ctx, published(root), CommentDraft("Soon"))  # not the reply
    assert (
        await publisher.find_comment(ctx, published(root), CommentDraft("Soon", question["uri"]))
        is None
    )
    assert await publisher.find_comment(ctx, published(root), CommentDraft("Never said")) is None
