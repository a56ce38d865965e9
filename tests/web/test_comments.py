"""/comments, the inbox: comments grouped by post, unanswered ones marked, a reply box that
needs the session's CSRF token, and only the signed-in user's comments."""

from __future__ import annotations

from datetime import timedelta

from masthead.timeutil import utcnow
from tests.support.comments import remote, seed_inbound, seed_post
from tests.support.harness import Harness
from tests.support.web import page_token, sign_in, user_with_password
from tests.web.conftest import Browsers


async def test_the_inbox_marks_unanswered_comments_and_queues_a_reply(
    web: tuple[Harness, Browsers],
) -> None:
    app, browser = web
    ada = await user_with_password(app, "ada@example.com")
    account = await app.account(ada, "instagram")
    post = await seed_post(app.db, ada, account, "instagram")
    now = utcnow()
    waiting, answered = await seed_inbound(
        app.db,
        ada,
        account,
        post,
        "instagram",
        [
            remote("181", "When do you open?", at=now - timedelta(minutes=1)),
            remote("182", "Love it", at=now - timedelta(minutes=2)),
        ],
    )
    await seed_inbound(
        app.db,
        ada,
        account,
        post,
        "instagram",
        [remote("183", "Thanks!", parent="182", is_author=True, at=now)],
    )
    client = browser()
    await sign_in(client, ada.email)
    inbox = await client.get("/comments")
    assert inbox.status_code == 200
    html = inbox.text
    assert html.index("Thanks!") < html.index("When do you open?") < html.index("Love it")
    assert f'id="comment-{waiting}" class="comment unanswered"' in html
    assert f'id="comment-{answered}" class="comment"' in html
    assert 'href="/comments" aria-current="page"' in html

    refused = await client.post(f"/comments/{waiting}/reply", data={"text": "9am"})
    assert refused.status_code == 403
    token = await page_token(client, "/comments")
    sent = await client.post(
        f"/comments/{waiting}/reply", data={"text": "9am", "csrf_token": token}
    )
    assert sent.status_code == 303
    listed = await app.client.get(f"/v2/comments?parentCommentId={waiting}", headers=ada.headers)
    [reply] = listed.json()["items"]
    assert (reply["text"], reply["status"], reply["isAuthor"]) == ("9am", "queued", True)
    blank = await client.post(f"/comments/{waiting}/reply", data={"text": " ", "csrf_token": token})
    assert blank.status_code == 422 and "text: is required" in blank.text


async def test_another_user_sees_none_of_them_and_cannot_reply(
    web: tuple[Harness, Browsers],
) -> None:
    app, browser = web
    ada = await user_with_password(app, "ada@example.com")
    bob = await user_with_password(app, "bob@example.com")
    account = await app.account(ada, "instagram")
    post = await seed_post(app.db, ada, account, "instagram")
    [fan] = await seed_inbound(app.db, ada, account, post, "instagram", [remote("181", "Secret")])
    client = browser()
    await sign_in(client, bob.email)
    inbox = await client.get("/comments")
    assert "Secret" not in inbox.text and "No comments yet" in inbox.text
    token = await page_token(client, "/comments")
    reply = await client.post(f"/comments/{fan}/reply", data={"text": "Hi", "csrf_token": token})
    assert reply.status_code == 404
