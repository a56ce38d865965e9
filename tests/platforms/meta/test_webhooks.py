"""platforms/meta.py's webhook reading: the signature, and which changes are comments."""

from __future__ import annotations

import hashlib
import hmac

from masthead.platforms.meta import signature_ok, webhook_comments

BODY = b'{"object":"page"}'
GOOD = "sha256=" + hmac.new(b"app-secret", BODY, hashlib.sha256).hexdigest()


def test_only_the_app_secret_signature_of_these_bytes_passes() -> None:
    assert signature_ok("app-secret", BODY, GOOD)
    assert not signature_ok("app-secret", BODY + b" ", GOOD)
    assert not signature_ok("other", BODY, GOOD)
    assert not signature_ok("app-secret", BODY, GOOD.replace("sha256=", "sha1="))
    assert not signature_ok("app-secret", BODY, None)
    assert not signature_ok("", BODY, GOOD)


def page(value: dict[str, object], field: str = "feed") -> dict[str, object]:
    return {"object": "page", "entry": [{"id": "P", "changes": [{"field": field, "value": value}]}]}


def test_page_feed_comments_and_replies_are_read_and_other_items_left_out() -> None:
    top = {"item": "comment", "verb": "add", "post_id": "P_1", "comment_id": "1_10",
           "parent_id": "P_1", "message": "Hi", "created_time": 1764800000,
           "from": {"id": "U", "name": "Sam"}}  # fmt: skip
    [pushed] = webhook_comments(page(top))
    assert (pushed.platform, pushed.remote_post_id, pushed.removed) == ("facebook", "P_1", False)
    assert pushed.comment.parent_platform_comment_id is None
    assert (pushed.comment.author_name, pushed.comment.is_author) == ("Sam", False)
    reply = {**top, "comment_id": "1_11", "parent_id": "1_10", "from": {"id": "P"}}
    [answer] = webhook_comments(page(reply))
    assert answer.comment.parent_platform_comment_id == "1_10" and answer.comment.is_author
    assert webhook_comments(page({**top, "verb": "remove"}))[0].removed
    assert webhook_comments(page({**top, "item": "reaction"})) == []
    assert webhook_comments(page(top, field="mention")) == []


def test_instagram_comments_name_their_media_and_parent() -> None:
    payload = {
        "object": "instagram",
        "entry": [
            {
                "id": "IG",
                "time": 1764800000,
                "changes": [
                    {
                        "field": "comments",
                        "value": {"id": "C2", "text": "Same", "parent_id": "C1",
                                  "media": {"id": "M"}, "from": {"id": "F", "username": "fan"}},
                    }
                ],
            }
        ],
    }  # fmt: skip
    [pushed] = webhook_comments(payload)
    assert (pushed.platform, pushed.remote_post_id) == ("instagram", "M")
    assert pushed.comment.parent_platform_comment_id == "C1"
    assert pushed.comment.author_username == "fan" and not pushed.comment.is_author


def test_anything_else_is_no_comment() -> None:
    for payload in (None, [], {"object": "user"}, {"object": "page", "entry": "x"},
                    {"object": "page", "entry": [{"changes": [{"value": 3}]}]}):  # fmt: skip
        assert webhook_comments(payload) == []
