"""Request-time validation of `POST /v2/posts`: every rule accepts one case and rejects one.

Rejections are asserted by their rendered `path: message`, the text a client will read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from functools import partial
from typing import Any

import pytest

from masthead.domain import validation
from masthead.domain.errors import ValidationFailed
from masthead.domain.posts import PostDraft, ThreadItem
from masthead.domain.validation import FUTURE_MESSAGE, CreateRequest, parse_scheduled_time
from masthead.platforms.registry import RULES, TARGET_TYPES

# Validation takes the table the services pass it: here, the registry's, as in the app.
parse_post = partial(validation.parse_post, rules=RULES)
parse_create_request = partial(validation.parse_create_request, rules=RULES)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
IMAGE = "https://cdn.example.com/a.jpg"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 25 UTF-8 bytes
X_HOW = "(weighted: URLs count 23, most CJK and emoji 2)"

TIKTOK_TARGET: dict[str, Any] = {
    "privacyLevel": "PUBLIC_TO_EVERYONE",
    "disabledComments": False,
    "disabledDuet": False,
    "disabledStitch": False,
    "isBrandedContent": False,
    "isYourBrand": False,
    "isAiGenerated": False,
}
VALID_TARGETS: dict[str, dict[str, Any]] = {
    "twitter": {},
    "bluesky": {},
    "threads": {},
    "linkedin": {},
    "facebook": {"pageId": "123456789"},
    "instagram": {},
    "tiktok": TIKTOK_TARGET,
    "pinterest": {"boardId": "987654321"},
    "youtube": {"title": "My video", "privacyStatus": "public", "shouldNotifySubscribers": False},
    "webhook": {"url": "https://hooks.example.com/masthead"},
}
NEEDS_MEDIA = {"instagram", "tiktok", "pinterest", "youtube"}


def make_post(
    target_type: str = "twitter",
    *,
    text: str = "hello",
    media: list[Any] | None = None,
    target: dict[str, Any] | None = None,
    additional: list[Any] | None = None,
    platform: str | None = None,
) -> dict[str, Any]:
    """A valid `post` object for `target_type`, with the given parts replaced."""
    if media is None:
        media = [IMAGE] if target_type in NEEDS_MEDIA else []
    content: dict[str, Any] = {
        "text": text,
        "mediaUrls": media,
        "platform": platform or ("other" if target_type == "webhook" else target_type),
    }
    if additional is not None:
        content["additionalPosts"] = additional
    return {
        "accountId": "98432",
        "content": content,
        "target": {"targetType": target_type, **VALID_TARGETS[target_type], **(target or {})},
    }


def without(raw: dict[str, Any], *path: str) -> dict[str, Any]:
    """`raw` with one nested key removed (`without(post, "content", "text")`)."""
    node = raw
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return raw


def problems(raw: object) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        parse_post(raw)
    return [error.render() for error in caught.value.errors]


def request_problems(body: object, now: datetime = NOW) -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        parse_create_request(body, now)
    return [error.render() for error in caught.value.errors]


# --- every target accepts a minimal valid post ----------------------------------------------


@pytest.mark.parametrize("target_type", TARGET_TYPES)
def test_a_minimal_valid_post_is_accepted_for_every_target(target_type: str) -> None:
    draft = parse_post(make_post(target_type))
    assert draft.account_id == "98432"
    assert draft.target_type == target_type
    assert draft.text == "hello"
    assert draft.target["targetType"] == target_type


def test_the_draft_keeps_the_thread_and_round_trips_to_json() -> None:
    raw = make_post(
        "bluesky",
        media=[IMAGE],
        additional=[{"text": "two", "mediaUrls": []}, {"text": "three", "mediaUrls": [IMAGE]}],
    )
    draft = parse_post(raw)
    assert draft.items == (
        ThreadItem("hello", (IMAGE,)),
        ThreadItem("two", ()),
        ThreadItem("three", (IMAGE,)),
    )
    assert draft.to_json() == raw


def test_additional_post_without_media_urls_means_no_media() -> None:
    draft = parse_post(make_post("twitter", additional=[{"text": "two"}]))
    assert draft.items[1] == ThreadItem("two", ())


def test_unknown_target_fields_are_kept_for_forward_compatibility() -> None:
    extra = {"futureField": {"nested": [1, "two"]}, "anotherOne": True}
    draft = parse_post(make_post("facebook", target=extra))
    assert draft.target["futureField"] == {"nested": [1, "two"]}
    assert draft.target["anotherOne"] is True


def test_webhook_content_platform_webhook_is_accepted_too() -> None:
    assert parse_post(make_post("webhook", platform="webhook")).content_platform == "webhook"


def test_all_problems_are_reported_at_once_and_the_first_is_the_message() -> None:
    raw = make_post("facebook", text="x" * 63_207, target={"pageId": None})
    with pytest.raises(ValidationFailed) as caught:
        parse_post(raw)
    rendered = [error.render() for error in caught.value.errors]
    assert rendered == [
        "post.content.text: is 63207 characters long; facebook allows 63206",
        "post.target.pageId: is required for facebook",
    ]
    assert caught.value.message == rendered[0]


def test_a_custom_path_prefixes_every_error() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_post(make_post("facebook", target={"pageId": None}), path="patch.draft")
    assert caught.value.message == "patch.draft.target.pageId: is required for facebook"


# --- structure and JSON types ---------------------------------------------------------------


def changed(dotted: str, value: object) -> dict[str, Any]:
    """A valid twitter post with one nested field set (`changed("content.text", 42)`)."""
    raw = make_post("twitter")
    *parents, last = dotted.split(".")
    node = raw
    for key in parents:
        node = node[key]
    node[last] = value
    return raw


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(None, "post: is required", id="post-null"),
        pytest.param([], "post: must be an object, not an array", id="post-array"),
        pytest.param(
            without(make_post(), "accountId"), "post.accountId: is required", id="account-missing"
        ),
        pytest.param(
            changed("accountId", 98432),
            'post.accountId: must be a numeric string such as "98432", not a number',
            id="account-id-number-is-not-a-string",
        ),
        pytest.param(
            changed("accountId", "0"),
            'post.accountId: must be a numeric string such as "98432"',
            id="account-id-zero",
        ),
        pytest.param(
            changed("accountId", "0123"),
            'post.accountId: must be a numeric string such as "98432"',
            id="account-id-leading-zero",
        ),
        pytest.param(
            changed("accountId", "12a"),
            'post.accountId: must be a numeric string such as "98432"',
            id="account-id-letters",
        ),
        pytest.param(
            changed("accountId", "\u0661\u0662"),
            'post.accountId: must be a numeric string such as "98432"',
            id="account-id-non-ascii-digits",
        ),
        pytest.param(
            without(make_post(), "content"), "post.content: is required", id="content-missing"
        ),
        pytest.param(
            changed("content", "hello"),
            "post.content: must be an object, not a string",
            id="content-string",
        ),
        pytest.param(
            without(make_post(), "content", "text"),
            'post.content.text: is required (use "" for a post with only media)',
            id="text-missing",
        ),
        pytest.param(
            changed("content.text", 42),
            "post.content.text: must be a string, not a number",
            id="text-number",
        ),
        pytest.param(
            changed("content.text", "a\x00b"),
            "post.content.text: must not contain NUL characters",
            id="text-with-nul",
        ),
        pytest.param(
            changed("content.text", "a\ud800b"),
            "post.content.text: must be valid Unicode text (it contains a lone surrogate)",
            id="text-with-lone-surrogate",
        ),
        pytest.param(
            without(make_post(), "content", "mediaUrls"),
            "post.content.mediaUrls: is required (use [] for a post without media)",
            id="media-urls-missing",
        ),
        pytest.param(
            changed("content.mediaUrls", "https://cdn.example.com/a.jpg"),
            "post.content.mediaUrls: must be a list of URLs, not a string",
            id="media-urls-string",
        ),
        pytest.param(
            changed("content.mediaUrls", [1]),
            "post.content.mediaUrls[0]: must be a string, not a number",
            id="media-url-number",
        ),
        pytest.param(
            changed("content.mediaUrls", ["data:image/png;base64,AAAA"]),
            "post.content.mediaUrls[0]: must be an http(s) URL; "
            "upload data: URIs with POST /v2/media first",
            id="media-url-data-uri",
        ),
        pytest.param(
            changed("content.mediaUrls", ["ftp://cdn.example.com/a.jpg"]),
            "post.content.mediaUrls[0]: must be an http(s) URL",
            id="media-url-ftp",
        ),
        pytest.param(
            changed("content.mediaUrls", ["/relative/a.jpg"]),
            "post.content.mediaUrls[0]: must be an http(s) URL",
            id="media-url-relative",
        ),
        pytest.param(
            changed("content.mediaUrls", ["https:///a.jpg"]),
            "post.content.mediaUrls[0]: must be an http(s) URL with a host name",
            id="media-url-without-host",
        ),
        pytest.param(
            changed("content.mediaUrls", ["https://cdn.example.com/a b.jpg"]),
            "post.content.mediaUrls[0]: "
            "must be an http(s) URL without spaces or control characters",
            id="media-url-with-space",
        ),
        pytest.param(
            changed("content.mediaUrls", ["https://[::1/a.jpg"]),
            "post.content.mediaUrls[0]: must be a valid http(s) URL",
            id="media-url-broken-ipv6",
        ),
        pytest.param(
            changed("content.mediaUrls", ["https://cdn.example.com:99999/a.jpg"]),
            "post.content.mediaUrls[0]: must be a valid http(s) URL",
            id="media-url-port-out-of-range",
        ),
        pytest.param(
            changed("content.mediaUrls", ["https://cdn.example.com/\ud800.jpg"]),
            "post.content.mediaUrls[0]: must be valid Unicode text (it contains a lone surrogate)",
            id="media-url-with-lone-surrogate",
        ),
        pytest.param(
            changed("content.mediaUrls", [""]),
            "post.content.mediaUrls[0]: must be an http(s) URL, not an empty string",
            id="media-url-empty",
        ),
        pytest.param(
            without(make_post(), "content", "platform"),
            "post.content.platform: is required",
            id="platform-missing",
        ),
        pytest.param(
            changed("content.platform", 1),
            "post.content.platform: must be a string, not a number",
            id="platform-number",
        ),
        pytest.param(
            make_post("bluesky", platform="twitter"),
            'post.content.platform: must equal post.target.targetType ("bluesky")',
            id="platform-differs-from-target-type",
        ),
        pytest.param(
            make_post("webhook", platform="twitter"),
            'post.content.platform: must be "other" or "webhook" '
            'for post.target.targetType "webhook"',
            id="webhook-platform-must-be-other",
        ),
        pytest.param(
            make_post("twitter", platform="other"),
            'post.content.platform: must equal post.target.targetType ("twitter")',
            id="other-only-pairs-with-webhook",
        ),
        pytest.param(
            without(make_post(), "target"), "post.target: is required", id="target-missing"
        ),
        pytest.param(
            changed("target", []), "post.target: must be an object, not an array", id="target-list"
        ),
        pytest.param(
            without(make_post(), "target", "targetType"),
            "post.target.targetType: is required",
            id="target-type-missing",
        ),
        pytest.param(
            changed("target.targetType", "myspace"),
            "post.target.targetType: must be one of: twitter, linkedin, facebook, instagram, "
            "tiktok, pinterest, threads, bluesky, youtube, webhook",
            id="target-type-unknown",
        ),
        pytest.param(
            changed("target.targetType", True),
            "post.target.targetType: must be one of: twitter, linkedin, facebook, instagram, "
            "tiktok, pinterest, threads, bluesky, youtube, webhook",
            id="target-type-boolean",
        ),
        pytest.param(
            changed("content.additionalPosts", {"text": "two"}),
            "post.content.additionalPosts: must be a list of {text, mediaUrls}, not an object",
            id="additional-posts-object",
        ),
        pytest.param(
            changed("content.additionalPosts", ["two"]),
            "post.content.additionalPosts[0]: must be an object, not a string",
            id="additional-post-string",
        ),
        pytest.param(
            changed("content.additionalPosts", [{"mediaUrls": []}]),
            'post.content.additionalPosts[0].text: is required (use "" for a post with only media)',
            id="additional-post-text-missing",
        ),
        pytest.param(
            changed("content.additionalPosts", [{"text": "x", "mediaUrls": "a"}]),
            "post.content.additionalPosts[0].mediaUrls: must be a list of URLs, not a string",
            id="additional-post-media-string",
        ),
    ],
)
def test_structure_and_json_types_are_checked(raw: object, expected: str) -> None:
    assert expected in problems(raw)


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(changed("content.mediaUrls", ["http://cdn.example.com/a.jpg"]), id="http"),
        pytest.param(changed("content.mediaUrls", ["HTTPS://CDN.EXAMPLE.COM/A.JPG"]), id="upper"),
        pytest.param(changed("content.mediaUrls", ["https://127.0.0.1:8000/m/a.jpg"]), id="ip"),
        pytest.param(changed("content.additionalPosts", None), id="additional-posts-null"),
        pytest.param(changed("content.unknownKey", "ignored"), id="unknown-content-key"),
        pytest.param(changed("unknownKey", "ignored"), id="unknown-post-key"),
    ],
)
def test_well_formed_variants_are_accepted(raw: dict[str, Any]) -> None:
    parse_post(raw)


# --- threads (additionalPosts) --------------------------------------------------------------


@pytest.mark.parametrize("target_type", ["twitter", "bluesky", "threads"])
def test_threads_are_accepted_on_twitter_bluesky_and_threads(target_type: str) -> None:
    draft = parse_post(make_post(target_type, additional=[{"text": "two", "mediaUrls": []}]))
    assert len(draft.items) == 2


@pytest.mark.parametrize(
    "target_type", [t for t in TARGET_TYPES if t not in ("twitter", "bluesky", "threads")]
)
def test_threads_are_rejected_elsewhere(target_type: str) -> None:
    raw = make_post(target_type, additional=[{"text": "two", "mediaUrls": []}])
    assert problems(raw) == [
        "post.content.additionalPosts: threads are only supported on twitter, threads and bluesky"
    ]


def test_an_empty_additional_posts_list_is_not_a_thread() -> None:
    assert len(parse_post(make_post("facebook", additional=[])).items) == 1


def test_every_thread_item_is_validated_with_the_same_rules() -> None:
    raw = make_post(
        "twitter",
        additional=[
            {"text": "fine", "mediaUrls": []},
            {"text": "a" * 281, "mediaUrls": [IMAGE] * 5},
        ],
    )
    assert problems(raw) == [
        f"post.content.additionalPosts[1].text: is 281 characters long; twitter allows 280 {X_HOW}",
        "post.content.additionalPosts[1].mediaUrls: twitter allows at most 4 media URLs per post; "
        "got 5",
    ]


# --- text limits ----------------------------------------------------------------------------

TEXT_ACCEPTED = [
    pytest.param("twitter", "a" * 280, id="twitter-280-ascii"),
    pytest.param("twitter", "a" * 256 + " https://example.com/" + "p" * 300, id="twitter-url-23"),
    pytest.param("twitter", "日" * 140, id="twitter-140-cjk"),
    pytest.param("twitter", FAMILY * 140, id="twitter-140-zwj-families"),
    pytest.param("twitter", "e\u0301" * 280, id="twitter-nfc-first"),
    pytest.param("bluesky", "a" * 300, id="bluesky-300-graphemes"),
    pytest.param("bluesky", FAMILY * 120, id="bluesky-3000-bytes"),
    pytest.param("threads", "a" * 500, id="threads-500"),
    pytest.param("threads", " ".join(f"https://site{i}.com" for i in range(5)), id="threads-5"),
    pytest.param("threads", "a" * 496 + "😀", id="threads-emoji-is-4-of-500"),
    pytest.param("threads", "日" * 500, id="threads-cjk-is-1-each"),
    pytest.param("threads", "e\u0301" * 500, id="threads-counts-graphemes"),
    pytest.param(
        "threads", " ".join(["https://a.com"] * 6 + ["www.b.com"] * 3), id="threads-same-link"
    ),
    pytest.param("linkedin", "a" * 3000, id="linkedin-3000"),
    pytest.param("facebook", "a" * 63_206, id="facebook-63206"),
    pytest.param("instagram", "a" * 2200, id="instagram-2200"),
    pytest.param("instagram", " ".join(f"#tag{i}" for i in range(30)), id="instagram-30-tags"),
    pytest.param("tiktok", "a" * 2200, id="tiktok-2200"),
    pytest.param("pinterest", "a" * 800, id="pinterest-800"),
    pytest.param("youtube", "a" * 5000, id="youtube-5000-bytes"),
    pytest.param("webhook", "a" * 100_000, id="webhook-no-limit"),
]


@pytest.mark.parametrize(("target_type", "text"), TEXT_ACCEPTED)
def test_text_within_the_platform_limit_is_accepted(target_type: str, text: str) -> None:
    assert parse_post(make_post(target_type, text=text)).text == text


THREADS_HOW = "(each emoji counts its UTF-8 bytes)"
TEXT_REJECTED = [
    pytest.param(
        "twitter",
        "a" * 291,
        f"is 291 characters long; twitter allows 280 {X_HOW}",
        id="twitter-291-ascii",
    ),
    pytest.param(
        "twitter", "a" * 281, f"is 281 characters long; twitter allows 280 {X_HOW}", id="x-281"
    ),
    pytest.param(
        "twitter",
        "a" * 258 + " https://example.com",
        f"is 282 characters long; twitter allows 280 {X_HOW}",
        id="twitter-short-url-still-weighs-23",
    ),
    pytest.param(
        "twitter",
        "日" * 141,
        f"is 282 characters long; twitter allows 280 {X_HOW}",
        id="twitter-141-cjk",
    ),
    pytest.param(
        "twitter",
        FAMILY * 141,
        f"is 282 characters long; twitter allows 280 {X_HOW}",
        id="twitter-141-zwj-families",
    ),
    pytest.param(
        "twitter",
        "a" * 70_000,
        f"is more than 65536 characters long; twitter allows 280 {X_HOW}",
        id="twitter-huge-text-is-refused-without-a-full-scan",
    ),
    pytest.param(
        "bluesky",
        "a" * 301,
        "is 301 characters long; bluesky allows 300 (counted as graphemes)",
        id="bluesky-301-graphemes",
    ),
    pytest.param(
        "bluesky",
        FAMILY * 121,
        "is 3025 bytes long in UTF-8; bluesky allows 3000 bytes",
        id="bluesky-121-graphemes-but-3025-bytes",
    ),
    pytest.param(
        "threads",
        "a" * 501,
        f"is 501 characters long; threads allows 500 {THREADS_HOW}",
        id="th-501",
    ),
    pytest.param(
        "threads",
        "a" * 497 + "😀",
        f"is 501 characters long; threads allows 500 {THREADS_HOW}",
        id="threads-emoji-counts-its-4-bytes",
    ),
    pytest.param(
        "threads",
        "👍🏽" * 63,
        f"is 504 characters long; threads allows 500 {THREADS_HOW}",
        id="threads-skin-tone-emoji-is-8",
    ),
    pytest.param(
        "threads",
        " ".join([*(f"https://site{i}.com" for i in range(5)), "www.sixth.org"]),
        "has 6 links; threads allows 5",
        id="threads-www-links-count",
    ),
    pytest.param(
        "threads",
        " ".join(f"https://site{i}.com" for i in range(6)),
        "has 6 links; threads allows 5",
        id="threads-6-links",
    ),
    pytest.param("linkedin", "a" * 3001, "is 3001 characters long; linkedin allows 3000", id="li"),
    pytest.param(
        "facebook", "a" * 63_207, "is 63207 characters long; facebook allows 63206", id="fb"
    ),
    pytest.param(
        "instagram", "a" * 2201, "is 2201 characters long; instagram allows 2200", id="ig-2201"
    ),
    pytest.param(
        "instagram",
        " ".join(f"#tag{i}" for i in range(31)),
        "has 31 hashtags; instagram allows 30",
        id="instagram-31-hashtags",
    ),
    pytest.param("tiktok", "a" * 2201, "is 2201 characters long; tiktok allows 2200", id="tt"),
    pytest.param("pinterest", "a" * 801, "is 801 characters long; pinterest allows 800", id="pin"),
    pytest.param(
        "youtube",
        "日" * 1667,
        "is 5001 bytes long in UTF-8; youtube allows 5000 bytes",
        id="youtube-1667-cjk-characters-are-5001-bytes",
    ),
    pytest.param(
        "youtube",
        "watch <this>",
        "must not contain < or > (youtube refuses them)",
        id="youtube-description-angle-brackets",
    ),
]


@pytest.mark.parametrize(("target_type", "text", "message"), TEXT_REJECTED)
def test_text_over_the_platform_limit_is_rejected(
    target_type: str, text: str, message: str
) -> None:
    assert problems(make_post(target_type, text=text)) == [f"post.content.text: {message}"]


# --- text or media --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(
            make_post("twitter", text=""),
            "post.content.text: is empty and there is no media; twitter needs one",
            id="twitter-empty-post",
        ),
        pytest.param(
            make_post("bluesky", text="  \n "),
            "post.content.text: is empty and there is no media; bluesky needs one",
            id="bluesky-whitespace-only-post",
        ),
        pytest.param(
            make_post("facebook", text=""),
            "post.content.text: is empty and there is no media; facebook needs one",
            id="facebook-empty-post",
        ),
        pytest.param(
            make_post("threads", additional=[{"text": "", "mediaUrls": []}]),
            "post.content.additionalPosts[0].text: "
            "is empty and there is no media; threads needs one",
            id="threads-empty-reply",
        ),
    ],
)
def test_a_post_with_neither_text_nor_media_is_rejected(raw: object, expected: str) -> None:
    assert problems(raw) == [expected]


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(make_post("twitter", text="", media=[IMAGE]), id="twitter-media-only"),
        pytest.param(make_post("bluesky", text="", media=[IMAGE]), id="bluesky-media-only"),
        pytest.param(make_post("instagram", text=""), id="instagram-media-only"),
        pytest.param(
            make_post("facebook", text="", target={"link": "https://example.com/article"}),
            id="facebook-link-only",
        ),
        pytest.param(make_post("webhook", text=""), id="webhook-may-be-empty"),
    ],
)
def test_empty_text_is_accepted_where_the_platform_allows_media_only(raw: object) -> None:
    assert parse_post(raw).text == ""


# --- media counts ---------------------------------------------------------------------------


def _media(count: int) -> list[str]:
    return [f"https://cdn.example.com/{i}.jpg" for i in range(count)]


MEDIA_ACCEPTED = [
    pytest.param("twitter", 4, {}, id="twitter-4"),
    pytest.param("bluesky", 4, {}, id="bluesky-4"),
    pytest.param("threads", 1, {}, id="threads-1"),
    pytest.param("linkedin", 9, {}, id="linkedin-9-images"),
    pytest.param("facebook", 10, {}, id="facebook-10-images"),
    pytest.param("facebook", 1, {"mediaType": "story"}, id="facebook-story-1"),
    pytest.param("facebook", 1, {"mediaType": "reel"}, id="facebook-reel-1"),
    pytest.param("facebook", 1, {"mediaType": "video"}, id="facebook-video-means-reel"),
    pytest.param("instagram", 1, {}, id="instagram-1"),
    pytest.param("instagram", 10, {}, id="instagram-carousel-10"),
    pytest.param("instagram", 1, {"mediaType": "story"}, id="instagram-story-1"),
    pytest.param("tiktok", 1, {}, id="tiktok-1"),
    pytest.param("tiktok", 35, {}, id="tiktok-35-photos"),
    pytest.param("pinterest", 1, {}, id="pinterest-1"),
    pytest.param("pinterest", 5, {}, id="pinterest-5"),
    pytest.param("youtube", 1, {}, id="youtube-1"),
    pytest.param("webhook", 0, {}, id="webhook-0"),
    pytest.param("webhook", 50, {}, id="webhook-50"),
]


@pytest.mark.parametrize(("target_type", "count", "target"), MEDIA_ACCEPTED)
def test_media_count_within_the_rules_is_accepted(
    target_type: str, count: int, target: dict[str, Any]
) -> None:
    draft = parse_post(make_post(target_type, media=_media(count), target=target))
    assert len(draft.media_urls) == count


MEDIA_REJECTED = [
    pytest.param("twitter", 5, {}, "twitter allows at most 4 media URLs per post; got 5", id="x-5"),
    pytest.param("bluesky", 5, {}, "bluesky allows at most 4 media URLs per post; got 5", id="bs"),
    pytest.param("threads", 2, {}, "threads allows at most 1 media URL per post; got 2", id="th"),
    pytest.param(
        "facebook",
        0,
        {"mediaType": "story"},
        "a facebook story needs exactly 1 media URL; got 0",
        id="facebook-story-without-media",
    ),
    pytest.param(
        "instagram",
        0,
        {},
        "instagram needs at least 1 media URL (an image or a video); got 0",
        id="instagram-without-media",
    ),
    pytest.param(
        "instagram",
        11,
        {},
        "instagram allows at most 10 media URLs per post; got 11",
        id="instagram-11",
    ),
    pytest.param(
        "instagram",
        2,
        {"mediaType": "story"},
        "an instagram story needs exactly 1 media URL; got 2",
        id="instagram-story-2",
    ),
    pytest.param(
        "tiktok",
        0,
        {},
        "tiktok needs at least 1 media URL (an image or a video); got 0",
        id="tiktok-without-media",
    ),
    pytest.param(
        "tiktok", 36, {}, "tiktok allows at most 35 media URLs per post; got 36", id="tiktok-36"
    ),
    pytest.param(
        "pinterest",
        0,
        {},
        "pinterest needs at least 1 media URL (an image or a video); got 0",
        id="pinterest-without-media",
    ),
    pytest.param(
        "pinterest", 6, {}, "pinterest allows at most 5 media URLs per post; got 6", id="pin-6"
    ),
    pytest.param(
        "youtube", 0, {}, "youtube needs exactly 1 media URL; got 0", id="youtube-without-video"
    ),
    pytest.param("youtube", 2, {}, "youtube needs exactly 1 media URL; got 2", id="youtube-2"),
]


@pytest.mark.parametrize(("target_type", "count", "target", "message"), MEDIA_REJECTED)
def test_media_count_outside_the_rules_is_rejected(
    target_type: str, count: int, target: dict[str, Any], message: str
) -> None:
    raw = make_post(target_type, media=_media(count), target=target)
    assert f"post.content.mediaUrls: {message}" in problems(raw)


# --- target fields --------------------------------------------------------------------------

FIELDS_ACCEPTED = [
    pytest.param("facebook", {"mediaType": None}, id="facebook-null-optional-is-absent"),
    pytest.param("facebook", {"link": ""}, id="facebook-empty-link-is-none"),
    pytest.param("facebook", {"link": "https://example.com/a"}, id="facebook-link"),
    pytest.param("facebook", {"firstComment": "first!"}, id="facebook-first-comment"),
    pytest.param("facebook", {"pageId": "0123"}, id="facebook-page-id-digits"),
    pytest.param("linkedin", {"pageId": "12345"}, id="linkedin-organization-page"),
    pytest.param("linkedin", {"pageId": ""}, id="linkedin-empty-page-id-is-personal"),
    pytest.param("threads", {"replyControl": "everyone"}, id="threads-reply-everyone"),
    pytest.param("threads", {"replyControl": "mentioned_only"}, id="threads-reply-mentioned"),
    pytest.param("instagram", {"mediaType": "reel"}, id="instagram-reel"),
    pytest.param("instagram", {"altText": "a" * 1000}, id="instagram-alt-text-1000"),
    pytest.param("instagram", {"collaborators": ["ann", "bob", "cy"]}, id="instagram-3-collabs"),
    pytest.param("instagram", {"coverImageUrl": IMAGE}, id="instagram-cover"),
    pytest.param("instagram", {"shareToFeed": True}, id="instagram-share-to-feed"),
    pytest.param("instagram", {"audioName": "My song"}, id="instagram-audio-name"),
    pytest.param("instagram", {"trial": {"graduationStrategy": "MANUAL"}}, id="instagram-trial"),
    pytest.param("tiktok", {"title": "a" * 90}, id="tiktok-title-90"),
    pytest.param("tiktok", {"title": None}, id="tiktok-title-null"),
    pytest.param("tiktok", {"autoAddMusic": True, "isDraft": False}, id="tiktok-optional-bools"),
    pytest.param("tiktok", {"imageCoverIndex": 0}, id="tiktok-cover-index-0"),
    pytest.param("tiktok", {"videoCoverTimestamp": 1500}, id="tiktok-cover-timestamp"),
    pytest.param("tiktok", {"privacyLevel": "SELF_ONLY"}, id="tiktok-self-only"),
    pytest.param("pinterest", {"title": "a" * 100}, id="pinterest-title-100"),
    pytest.param("pinterest", {"altText": "a" * 500}, id="pinterest-alt-text-500"),
    pytest.param("pinterest", {"link": "https://e.com/" + "a" * 2034}, id="pinterest-link-2048"),
    pytest.param("youtube", {"title": "a" * 100}, id="youtube-title-100"),
    pytest.param("youtube", {"privacyStatus": "unlisted"}, id="youtube-unlisted"),
    pytest.param(
        "youtube",
        {"isMadeForKids": False, "containsSyntheticMedia": True},
        id="youtube-optional-bools",
    ),
    pytest.param("youtube", {"thumbnailUrl": IMAGE}, id="youtube-thumbnail"),
    pytest.param("youtube", {"playlistIds": ["PL123", "PL456"]}, id="youtube-playlists"),
]


@pytest.mark.parametrize(("target_type", "target"), FIELDS_ACCEPTED)
def test_valid_target_fields_are_accepted(target_type: str, target: dict[str, Any]) -> None:
    draft = parse_post(make_post(target_type, target=target))
    for key, value in target.items():
        assert draft.target[key] == value


FIELDS_REJECTED = [
    # facebook
    pytest.param(
        "facebook",
        {"pageId": None},
        "post.target.pageId: is required for facebook",
        id="facebook-without-page-id-is-rejected-naming-the-field",
    ),
    pytest.param(
        "facebook",
        {"pageId": ""},
        "post.target.pageId: is required for facebook",
        id="facebook-empty-page-id",
    ),
    pytest.param(
        "facebook",
        {"pageId": 123},
        'post.target.pageId: must be a numeric string such as "123456789", not a number',
        id="facebook-page-id-number",
    ),
    pytest.param(
        "facebook",
        {"pageId": "my-page"},
        'post.target.pageId: must be a numeric string such as "123456789"',
        id="facebook-page-id-not-digits",
    ),
    pytest.param(
        "facebook",
        {"mediaType": "image"},
        "post.target.mediaType: must be one of: reel, story, video",
        id="facebook-media-type-unknown",
    ),
    pytest.param(
        "facebook",
        {"link": "example.com"},
        "post.target.link: must be an http(s) URL",
        id="facebook-link-without-scheme",
    ),
    pytest.param(
        "facebook",
        {"link": 5},
        "post.target.link: must be a string, not a number",
        id="facebook-link-number",
    ),
    pytest.param(
        "facebook",
        {"firstComment": 5},
        "post.target.firstComment: must be a string, not a number",
        id="facebook-first-comment-number",
    ),
    # linkedin
    pytest.param(
        "linkedin",
        {"pageId": "urn:li:organization:1"},
        'post.target.pageId: must be a numeric string such as "123456789"',
        id="linkedin-page-id-urn",
    ),
    # threads
    pytest.param(
        "threads",
        {"replyControl": "nobody"},
        "post.target.replyControl: must be one of: everyone, accounts_you_follow, mentioned_only",
        id="threads-reply-control-unknown",
    ),
    # instagram
    pytest.param(
        "instagram",
        {"mediaType": "carousel"},
        "post.target.mediaType: must be one of: reel, story",
        id="instagram-media-type-unknown",
    ),
    pytest.param(
        "instagram",
        {"altText": "a" * 1001},
        "post.target.altText: is 1001 characters long; at most 1000 allowed",
        id="instagram-alt-text-1001",
    ),
    pytest.param(
        "instagram",
        {"collaborators": ["a", "b", "c", "d"]},
        "post.target.collaborators: has 4 items; at most 3",
        id="instagram-4-collaborators",
    ),
    pytest.param(
        "instagram",
        {"collaborators": ["@ann"]},
        "post.target.collaborators[0]: must not contain @",
        id="instagram-collaborator-with-at",
    ),
    pytest.param(
        "instagram",
        {"collaborators": [""]},
        "post.target.collaborators[0]: must not be empty",
        id="instagram-collaborator-empty",
    ),
    pytest.param(
        "instagram",
        {"collaborators": "ann"},
        "post.target.collaborators: must be a list of strings, not a string",
        id="instagram-collaborators-string",
    ),
    pytest.param(
        "instagram",
        {"collaborators": [7]},
        "post.target.collaborators[0]: must be a string, not a number",
        id="instagram-collaborator-number",
    ),
    pytest.param(
        "instagram",
        {"coverImageUrl": "data:image/png;base64,AA"},
        "post.target.coverImageUrl: must be an http(s) URL; "
        "upload data: URIs with POST /v2/media first",
        id="instagram-cover-data-uri",
    ),
    pytest.param(
        "instagram",
        {"shareToFeed": "true"},
        "post.target.shareToFeed: must be a boolean (true or false), not a string",
        id="instagram-share-to-feed-string-true",
    ),
    pytest.param(
        "instagram",
        {"audioName": 1},
        "post.target.audioName: must be a string, not a number",
        id="instagram-audio-name-number",
    ),
    pytest.param(
        "instagram",
        {"trial": {}},
        "post.target.trial.graduationStrategy: is required for instagram",
        id="instagram-trial-without-strategy",
    ),
    pytest.param(
        "instagram",
        {"trial": {"graduationStrategy": "AUTO"}},
        "post.target.trial.graduationStrategy: must be one of: MANUAL, SS_PERFORMANCE",
        id="instagram-trial-strategy-unknown",
    ),
    pytest.param(
        "instagram",
        {"trial": "MANUAL"},
        "post.target.trial: must be an object, not a string",
        id="instagram-trial-string",
    ),
    # tiktok
    pytest.param(
        "tiktok",
        {"privacyLevel": "PUBLIC"},
        "post.target.privacyLevel: must be one of: SELF_ONLY, PUBLIC_TO_EVERYONE, "
        "MUTUAL_FOLLOW_FRIENDS, FOLLOWER_OF_CREATOR",
        id="tiktok-privacy-level-unknown",
    ),
    pytest.param(
        "tiktok",
        {"privacyLevel": "public_to_everyone"},
        "post.target.privacyLevel: must be one of: SELF_ONLY, PUBLIC_TO_EVERYONE, "
        "MUTUAL_FOLLOW_FRIENDS, FOLLOWER_OF_CREATOR",
        id="tiktok-privacy-level-wrong-case",
    ),
    pytest.param(
        "tiktok",
        {"disabledDuet": "false"},
        "post.target.disabledDuet: must be a boolean (true or false), not a string",
        id="tiktok-boolean-as-string",
    ),
    pytest.param(
        "tiktok",
        {"isAiGenerated": 0},
        "post.target.isAiGenerated: must be a boolean (true or false), not a number",
        id="tiktok-boolean-as-number",
    ),
    pytest.param(
        "tiktok",
        {"title": "a" * 91},
        "post.target.title: is 91 characters long; at most 90 allowed",
        id="tiktok-title-91",
    ),
    pytest.param(
        "tiktok",
        {"autoAddMusic": "yes"},
        "post.target.autoAddMusic: must be a boolean (true or false), not a string",
        id="tiktok-auto-add-music-string",
    ),
    pytest.param(
        "tiktok",
        {"imageCoverIndex": 1},
        "post.target.imageCoverIndex: must be less than the number of media URLs (1); "
        "it counts from 0",
        id="tiktok-cover-index-past-the-last-image",
    ),
    pytest.param(
        "tiktok",
        {"imageCoverIndex": -1},
        "post.target.imageCoverIndex: must be at least 0",
        id="tiktok-cover-index-negative",
    ),
    pytest.param(
        "tiktok",
        {"imageCoverIndex": True},
        "post.target.imageCoverIndex: must be an integer, not a boolean",
        id="tiktok-cover-index-boolean",
    ),
    pytest.param(
        "tiktok",
        {"imageCoverIndex": 0.5},
        "post.target.imageCoverIndex: must be an integer, not a number",
        id="tiktok-cover-index-fraction",
    ),
    pytest.param(
        "tiktok",
        {"videoCoverTimestamp": -1},
        "post.target.videoCoverTimestamp: must be at least 0",
        id="tiktok-cover-timestamp-negative",
    ),
    pytest.param(
        "tiktok",
        {"videoCoverTimestamp": "1500"},
        "post.target.videoCoverTimestamp: must be an integer, not a string",
        id="tiktok-cover-timestamp-string",
    ),
    # pinterest
    pytest.param(
        "pinterest",
        {"boardId": None},
        "post.target.boardId: is required for pinterest",
        id="pinterest-without-board-id",
    ),
    pytest.param(
        "pinterest",
        {"boardId": 42},
        'post.target.boardId: must be a numeric string such as "123456789", not a number',
        id="pinterest-board-id-number",
    ),
    pytest.param(
        "pinterest",
        {"title": "a" * 101},
        "post.target.title: is 101 characters long; at most 100 allowed",
        id="pinterest-title-101",
    ),
    pytest.param(
        "pinterest",
        {"altText": "a" * 501},
        "post.target.altText: is 501 characters long; at most 500 allowed",
        id="pinterest-alt-text-501",
    ),
    pytest.param(
        "pinterest",
        {"link": "https://e.com/" + "a" * 2035},
        "post.target.link: is 2049 characters long; at most 2048 allowed",
        id="pinterest-link-2049",
    ),
    # youtube
    pytest.param(
        "youtube",
        {"title": None},
        "post.target.title: is required for youtube",
        id="youtube-without-title",
    ),
    pytest.param(
        "youtube",
        {"title": ""},
        "post.target.title: must not be empty",
        id="youtube-empty-title",
    ),
    pytest.param(
        "youtube",
        {"title": "   "},
        "post.target.title: must not be empty",
        id="youtube-blank-title",
    ),
    pytest.param(
        "youtube",
        {"title": "a" * 101},
        "post.target.title: is 101 characters long; at most 100 allowed",
        id="youtube-title-101",
    ),
    pytest.param(
        "youtube",
        {"title": "<b>Bold</b>"},
        "post.target.title: must not contain < or >",
        id="youtube-title-angle-brackets",
    ),
    pytest.param(
        "youtube",
        {"privacyStatus": "hidden"},
        "post.target.privacyStatus: must be one of: private, public, unlisted",
        id="youtube-privacy-status-unknown",
    ),
    pytest.param(
        "youtube",
        {"privacyStatus": None},
        "post.target.privacyStatus: is required for youtube",
        id="youtube-without-privacy-status",
    ),
    pytest.param(
        "youtube",
        {"shouldNotifySubscribers": None},
        "post.target.shouldNotifySubscribers: is required for youtube",
        id="youtube-without-notify-subscribers",
    ),
    pytest.param(
        "youtube",
        {"shouldNotifySubscribers": "false"},
        "post.target.shouldNotifySubscribers: must be a boolean (true or false), not a string",
        id="youtube-notify-subscribers-string",
    ),
    pytest.param(
        "youtube",
        {"isMadeForKids": 1},
        "post.target.isMadeForKids: must be a boolean (true or false), not a number",
        id="youtube-made-for-kids-number",
    ),
    pytest.param(
        "youtube",
        {"thumbnailUrl": "thumb.jpg"},
        "post.target.thumbnailUrl: must be an http(s) URL",
        id="youtube-thumbnail-relative",
    ),
    pytest.param(
        "youtube",
        {"playlistIds": "PL123"},
        "post.target.playlistIds: must be a list of strings, not a string",
        id="youtube-playlists-string",
    ),
    # unknown fields are kept, but must still be storable
    pytest.param(
        "twitter",
        {"future": "bad\ud800"},
        "post.target.future: must be valid Unicode text (it contains a lone surrogate)",
        id="unknown-field-with-lone-surrogate",
    ),
    pytest.param(
        "twitter",
        {"future": {"deep": ["ok", "nul\x00"]}},
        "post.target.future.deep[1]: must not contain NUL characters",
        id="unknown-nested-field-with-nul",
    ),
    pytest.param(
        "twitter",
        {"future": float("nan")},
        "post.target.future: must be a finite number",
        id="unknown-field-nan",
    ),
    pytest.param(
        "twitter",
        {"future": [{"bad\ud800key": 1}]},
        "post.target.future[0]: has a field name that is not valid text",
        id="unknown-nested-field-name-with-lone-surrogate",
    ),
    pytest.param(
        "twitter",
        {"bad\ud800key": 1},
        "post.target: has a field name that is not valid text",
        id="unknown-field-name-with-lone-surrogate",
    ),
]


@pytest.mark.parametrize(("target_type", "target", "expected"), FIELDS_REJECTED)
def test_invalid_target_fields_are_rejected_naming_the_field(
    target_type: str, target: dict[str, Any], expected: str
) -> None:
    assert problems(make_post(target_type, target=target)) == [expected]


@pytest.mark.parametrize("field", sorted(TIKTOK_TARGET))
def test_tiktok_requires_all_seven_fields(field: str) -> None:
    assert problems(make_post("tiktok", target={field: None})) == [
        f"post.target.{field}: is required for tiktok"
    ]


# --- webhook url ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/masthead",
        "http://hooks.example.com:8080/x?y=1",
        "http://93.184.216.34/hook",
        "https://[2606:4700:4700::1111]/hook",
        "https://n8n.example.com/webhook/0a1b2c",
        "https://cafe1.be/hook",
    ],
)
def test_webhook_url_that_is_public_http_is_accepted(url: str) -> None:
    assert parse_post(make_post("webhook", target={"url": url})).target["url"] == url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        pytest.param(None, "post.target.url: is required for webhook", id="missing"),
        pytest.param("", "post.target.url: is required for webhook", id="empty"),
        pytest.param(42, "post.target.url: must be a string, not a number", id="number"),
        pytest.param(
            "ftp://hooks.example.com/", "post.target.url: must be an http(s) URL", id="ftp"
        ),
        pytest.param(
            "hooks.example.com/x", "post.target.url: must be an http(s) URL", id="no-scheme"
        ),
        pytest.param(
            "https://user:secret@hooks.example.com/",
            "post.target.url: must not contain credentials (user:password@); "
            "the request is signed instead",
            id="credentials",
        ),
    ],
)
def test_webhook_url_is_rejected_when_unsafe_or_malformed(url: object, expected: str) -> None:
    assert problems(make_post("webhook", target={"url": url})) == [expected]


# --- the create request: scheduling ---------------------------------------------------------


def body(**root: Any) -> dict[str, Any]:
    return {"post": make_post("twitter"), **root}


def test_a_body_with_neither_field_publishes_now() -> None:
    request = parse_create_request(body(), NOW)
    assert request == CreateRequest(
        post=parse_post(make_post("twitter")), scheduled_at=None, use_next_free_slot=False
    )
    assert isinstance(request.post, PostDraft)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("2026-03-10T15:30:00Z", datetime(2026, 3, 10, 15, 30, tzinfo=UTC), id="z"),
        pytest.param(
            "2026-03-10T17:30:00+02:00", datetime(2026, 3, 10, 15, 30, tzinfo=UTC), id="plus-2"
        ),
        pytest.param(
            "2026-03-10T10:30:00-05:00", datetime(2026, 3, 10, 15, 30, tzinfo=UTC), id="minus-5"
        ),
        pytest.param(
            "2026-03-10T17:30:00+0200", datetime(2026, 3, 10, 15, 30, tzinfo=UTC), id="basic"
        ),
        pytest.param(
            "2026-03-10T17:30:00+02", datetime(2026, 3, 10, 15, 30, tzinfo=UTC), id="hours-only"
        ),
        pytest.param(
            "2026-03-10T15:30:00.000Z",
            datetime(2026, 3, 10, 15, 30, tzinfo=UTC),
            id="javascript-to-iso-string",
        ),
        pytest.param(
            "2026-03-10T15:30:00.123456789Z",
            datetime(2026, 3, 10, 15, 30, 0, 123456, tzinfo=UTC),
            id="nanoseconds-truncated",
        ),
        pytest.param(
            "2026-03-10t15:30:00z", datetime(2026, 3, 10, 15, 30, tzinfo=UTC), id="lowercase"
        ),
        pytest.param(
            "2026-03-10 15:30Z", datetime(2026, 3, 10, 15, 30, tzinfo=UTC), id="space-no-seconds"
        ),
    ],
)
def test_scheduled_time_with_an_offset_is_accepted_as_utc(value: str, expected: datetime) -> None:
    request = parse_create_request(body(scheduledTime=value), NOW)
    assert request.scheduled_at == expected
    assert request.scheduled_at is not None and request.scheduled_at.tzinfo is UTC
    assert request.use_next_free_slot is False


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(
            "2026-03-10T15:30:00",
            'must include a timezone offset, e.g. "2026-03-10T15:30:00Z" or '
            '"2026-03-10T17:30:00+02:00"',
            id="no-offset",
        ),
        pytest.param(
            "2026-03-10",
            'must be an ISO 8601 date-time such as "2026-03-10T15:30:00Z" or '
            '"2026-03-10T17:30:00+02:00"',
            id="date-only",
        ),
        pytest.param(
            "next tuesday",
            'must be an ISO 8601 date-time such as "2026-03-10T15:30:00Z" or '
            '"2026-03-10T17:30:00+02:00"',
            id="words",
        ),
        pytest.param(
            "",
            'must be an ISO 8601 date-time such as "2026-03-10T15:30:00Z" or '
            '"2026-03-10T17:30:00+02:00"',
            id="empty-string",
        ),
        pytest.param(
            "2026-03-10X15:30:00Z",
            'must be an ISO 8601 date-time such as "2026-03-10T15:30:00Z" or '
            '"2026-03-10T17:30:00+02:00"',
            id="odd-separator",
        ),
        pytest.param(
            "2026-03-10T15:30:00+02:00[Europe/Paris]",
            'must be an ISO 8601 date-time such as "2026-03-10T15:30:00Z" or '
            '"2026-03-10T17:30:00+02:00"',
            id="zone-suffix",
        ),
        pytest.param(
            1773156600,
            'must be an ISO 8601 date-time string such as "2026-03-10T15:30:00Z" or '
            '"2026-03-10T17:30:00+02:00", not a number',
            id="unix-timestamp-number",
        ),
        pytest.param("2026-13-10T15:30:00Z", "is not a valid date and time", id="month-13"),
        pytest.param("2026-03-10T24:00:00Z", "is not a valid date and time", id="hour-24"),
        pytest.param("2026-03-10T15:30:00+25:00", "is not a valid date and time", id="offset-25h"),
        pytest.param("9999-12-31T23:59:59-01:00", "is too far in the future", id="past-year-9999"),
        pytest.param("0001-01-01T00:00:00+01:00", "must be in the future", id="before-year-1"),
    ],
)
def test_scheduled_time_without_offset_or_malformed_is_rejected(
    value: object, message: str
) -> None:
    assert request_problems(body(scheduledTime=value)) == [f"scheduledTime: {message}"]


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        pytest.param(timedelta(seconds=-61), "reject", id="61s-in-the-past-is-rejected"),
        pytest.param(timedelta(days=-1), "reject", id="yesterday-is-rejected"),
        pytest.param(timedelta(seconds=-60), None, id="60s-in-the-past-publishes-now"),
        pytest.param(timedelta(seconds=-30), None, id="30s-in-the-past-publishes-now"),
        pytest.param(timedelta(0), None, id="exactly-now-publishes-now"),
        pytest.param(timedelta(seconds=1), "schedule", id="1s-ahead-is-scheduled"),
        pytest.param(timedelta(days=400), "schedule", id="next-year-is-scheduled"),
    ],
)
def test_scheduled_time_has_a_60_second_grace_window(
    offset: timedelta, expected: str | None
) -> None:
    when = NOW + offset
    value = when.isoformat().replace("+00:00", "Z")
    if expected == "reject":
        with pytest.raises(ValidationFailed) as caught:
            parse_create_request(body(scheduledTime=value), NOW)
        assert caught.value.message == "scheduledTime must be in the future"
        assert [e.render() for e in caught.value.errors] == ["scheduledTime: must be in the future"]
        return
    request = parse_create_request(body(scheduledTime=value), NOW)
    assert request.scheduled_at == (when if expected == "schedule" else None)


def test_scheduled_time_is_compared_with_now_in_any_zone() -> None:
    paris_now = NOW.astimezone(timezone(timedelta(hours=1)))
    request = parse_create_request(body(scheduledTime="2026-03-10T12:00:30Z"), paris_now)
    assert request.scheduled_at == datetime(2026, 3, 10, 12, 0, 30, tzinfo=UTC)


def test_null_scheduled_time_is_absent() -> None:
    assert parse_create_request(body(scheduledTime=None), NOW).scheduled_at is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(True, True, id="true"),
        pytest.param(False, False, id="false"),
        pytest.param(None, False, id="null-is-false"),
    ],
)
def test_use_next_free_slot_takes_a_real_boolean(value: object, expected: bool) -> None:
    assert parse_create_request(body(useNextFreeSlot=value), NOW).use_next_free_slot is expected


@pytest.mark.parametrize(
    ("value", "got"),
    [
        pytest.param("true", "a string", id="string-true"),
        pytest.param(1, "a number", id="number-1"),
        pytest.param([], "an array", id="array"),
    ],
)
def test_use_next_free_slot_rejects_anything_but_a_boolean(value: object, got: str) -> None:
    assert request_problems(body(useNextFreeSlot=value)) == [
        f"useNextFreeSlot: must be a boolean (true or false), not {got}"
    ]


@pytest.mark.parametrize(
    ("scheduled", "expected_at"),
    [
        pytest.param("2026-03-11T09:00:00Z", datetime(2026, 3, 11, 9, tzinfo=UTC), id="future"),
        pytest.param("2026-03-10T11:59:30Z", None, id="within-grace-publishes-now"),
    ],
)
def test_when_both_are_given_scheduled_time_wins(
    scheduled: str, expected_at: datetime | None
) -> None:
    request = parse_create_request(body(scheduledTime=scheduled, useNextFreeSlot=True), NOW)
    assert request.scheduled_at == expected_at
    assert request.use_next_free_slot is False


@pytest.mark.parametrize(
    ("raw_body", "expected"),
    [
        pytest.param(None, 'the request body must be a JSON object with a "post"', id="null"),
        pytest.param([], 'the request body must be a JSON object with a "post"', id="array"),
        pytest.param("{}", 'the request body must be a JSON object with a "post"', id="string"),
        pytest.param({}, "post: is required", id="empty-object"),
        pytest.param({"post": None}, "post: is required", id="post-null"),
        pytest.param({"post": "x"}, "post: must be an object, not a string", id="post-string"),
    ],
)
def test_the_body_must_be_an_object_with_a_post(raw_body: object, expected: str) -> None:
    assert request_problems(raw_body) == [expected]


def test_unknown_root_fields_are_ignored() -> None:
    request = parse_create_request(body(postDraftId="abc", slot={"id": 1}), NOW)
    assert request.scheduled_at is None


def test_post_and_time_problems_are_reported_together_post_first() -> None:
    raw = {"post": make_post("facebook", target={"pageId": None}), "scheduledTime": "2020-01-01Z"}
    with pytest.raises(ValidationFailed) as caught:
        parse_create_request(raw, NOW)
    assert [e.path for e in caught.value.errors] == ["post.target.pageId", "scheduledTime"]
    assert caught.value.message == "post.target.pageId: is required for facebook"


def test_a_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_create_request(body(), datetime(2026, 3, 10, 12, 0))


# --- parse_scheduled_time, shared with PATCH /v2/schedules/{id} ------------------------------


def test_parse_scheduled_time_uses_the_given_path_and_the_compat_message() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_scheduled_time("2026-03-09T12:00:00Z", NOW, "patch.scheduledTime")
    assert caught.value.message == FUTURE_MESSAGE == "scheduledTime must be in the future"
    assert caught.value.errors[0].path == "patch.scheduledTime"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, None, id="null"),
        pytest.param("2026-03-10T11:59:30Z", None, id="within-grace"),
        pytest.param("2026-03-10T13:00:00+01:00", None, id="now-in-another-zone"),
        pytest.param(
            "2026-03-10T14:00:00+01:00", datetime(2026, 3, 10, 13, tzinfo=UTC), id="future"
        ),
    ],
)
def test_parse_scheduled_time_returns_utc_or_none_for_now(
    value: object, expected: datetime | None
) -> None:
    assert parse_scheduled_time(value, NOW, "scheduledTime") == expected
