"""Request-time validation of a Blotato `POST /v2/posts` body (contract section 2).

A post that can never succeed is answered 422 before anything is queued, naming every problem at
once with its compat path (`post.target.pageId`), so a client fixes its request in one round trip.
Only what is knowable without I/O is checked here: JSON types, text lengths, media *counts*, URL
syntax and target fields. Media types and sizes need the download; DNS needs the network (the
real SSRF guard runs at send time). Limits come from the rules table the caller passes (each
platform's `RULES`, gathered by `platforms/registry.py`), never from this file.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from masthead.domain import text as measure
from masthead.domain.errors import FieldError, ValidationFailed
from masthead.domain.inputs import TIME_EXAMPLE, OutOfCalendar, parse_instant
from masthead.domain.posts import PostDraft, ThreadItem
from masthead.domain.rules import (
    Count,
    FieldRule,
    Kind,
    MediaCount,
    PlatformRules,
    RulesTable,
    TextLimit,
    thread_platforms,
)

ACCOUNT_ID = re.compile(r"[1-9][0-9]{0,17}")
"""Account ids, as the official n8n node checks them (contract section 0), and small enough
for a 64-bit database id."""
NUMERIC_ID = re.compile(r"[0-9]{1,64}")
"""Page, organization and board ids (n8n node: ^[0-9]+$), within what the store keeps."""

PAST_TOLERANCE = timedelta(seconds=60)
"""A `scheduledTime` up to this far in the past publishes now (clock skew); older is a 422."""
FUTURE_MESSAGE = "scheduledTime must be in the future"
"""The compat `message` for a time in the past (Blotato's words, clients match on them)."""

_URL_FORBIDDEN = re.compile(r"[\s\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class CreateRequest:
    """A valid `POST /v2/posts` body: the post, and when to publish it.

    `scheduled_at` is timezone-aware UTC, or None for "now" (or for the next free slot when
    `use_next_free_slot` is set; the slot is chosen later, atomically, by the store).
    """

    post: PostDraft
    scheduled_at: datetime | None
    use_next_free_slot: bool


def parse_create_request(body: object, now: datetime, *, rules: RulesTable) -> CreateRequest:
    """Validate a whole `POST /v2/posts` body; raise `ValidationFailed` with every problem."""
    if not isinstance(body, dict):
        raise ValidationFailed.one("", 'the request body must be a JSON object with a "post"')
    problems: list[FieldError] = []
    post: PostDraft | None = None
    if body.get("post") is None:
        problems.append(FieldError("post", "is required"))
    else:
        try:
            post = parse_post(body["post"], "post", rules=rules)
        except ValidationFailed as exc:
            problems.extend(exc.errors)
    message: str | None = None
    scheduled_at: datetime | None = None
    try:
        scheduled_at = parse_scheduled_time(body.get("scheduledTime"), now, "scheduledTime")
    except ValidationFailed as exc:
        if not problems:
            message = exc.message  # keep the compat wording when it is the headline
        problems.extend(exc.errors)
    use_slot = body.get("useNextFreeSlot")
    if use_slot is not None and not isinstance(use_slot, bool):
        problems.append(
            FieldError("useNextFreeSlot", _expected("a boolean (true or false)", use_slot))
        )
    if problems:
        raise ValidationFailed(problems, message)
    assert post is not None
    # "If both are given, scheduledTime wins" (contract section 2).
    slot_wins = use_slot is True and body.get("scheduledTime") is None
    return CreateRequest(post=post, scheduled_at=scheduled_at, use_next_free_slot=slot_wins)


def parse_scheduled_time(value: object, now: datetime, path: str) -> datetime | None:
    """A `scheduledTime` as aware UTC, or None for "now" (absent, null, or under 60 s old).

    The offset is mandatory: a bare local time means a different instant on every server.
    Shared with `PATCH /v2/schedules/{id}`, which answers a past time the same way.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationFailed.one(
            path, _expected(f"an ISO 8601 date-time string such as {TIME_EXAMPLE}", value)
        )
    try:
        when = parse_instant(value, path)
    except OutOfCalendar as exc:
        if exc.future:
            raise ValidationFailed.one(path, "is too far in the future") from None
        raise ValidationFailed.one(
            path, "must be in the future", compat_message=FUTURE_MESSAGE
        ) from None
    if when < now - PAST_TOLERANCE:
        raise ValidationFailed.one(path, "must be in the future", compat_message=FUTURE_MESSAGE)
    return when if when > now else None


def parse_post(raw: object, path: str = "post", *, rules: RulesTable) -> PostDraft:
    """Validate a Blotato `post` object against its target's rules; return the draft.

    Every problem found is reported, not just the first. Unknown extra fields of `target` are
    kept (newer clients may send fields this version does not know); wrong types never pass.
    """
    if not isinstance(raw, dict):
        raise ValidationFailed.one(
            path, "is required" if raw is None else _expected("an object", raw)
        )
    problems: list[FieldError] = []
    account_id = _parse_account_id(raw.get("accountId"), f"{path}.accountId", problems)
    target, target_rules = _parse_target(raw.get("target"), f"{path}.target", rules, problems)
    content = _parse_content(raw.get("content"), f"{path}.content", problems)
    media_type = target.get("mediaType") if target is not None else None

    if content is not None and target_rules is not None:
        if content.platform is not None and content.platform not in target_rules.content_platforms:
            problems.append(
                FieldError(f"{path}.content.platform", _platform_mismatch(target_rules, path))
            )
        items = content.items
        if len(items) > 1 and not target_rules.threads:
            problems.append(
                FieldError(
                    f"{path}.content.additionalPosts",
                    f"threads are only supported on {_join(thread_platforms(rules))}",
                )
            )
            items = items[:1]
        for item in items:
            _check_item(
                item, target_rules, target_rules.media_for(media_type), media_type, target, problems
            )
    if target is not None and target_rules is not None:
        first_media = content.items[0].media if content is not None else None
        media_count = len(first_media) if first_media is not None else None
        _check_target_fields(target, target_rules, f"{path}.target", media_count, problems)
    elif target is not None:
        _check_unicode_tree(target, f"{path}.target", problems, skip=("targetType",))

    if problems:
        raise ValidationFailed(problems)
    assert account_id is not None and target is not None and target_rules is not None
    assert content is not None and content.platform is not None
    return PostDraft(
        account_id=account_id,
        target_type=target_rules.name,
        content_platform=content.platform,
        items=tuple(
            ThreadItem(text=item.text or "", media_urls=tuple(item.media or ()))
            for item in content.items
        ),
        target=dict(target),
    )


# --- structure ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Item:
    """One post of the thread as sent; None where the JSON shape was already wrong."""

    text: str | None
    media: list[str] | None
    text_path: str
    media_path: str


@dataclass(slots=True)
class _Content:
    items: list[_Item]
    platform: str | None


def _parse_account_id(value: object, path: str, problems: list[FieldError]) -> str | None:
    if value is None:
        problems.append(FieldError(path, "is required"))
    elif not isinstance(value, str):
        problems.append(FieldError(path, _expected('a numeric string such as "98432"', value)))
    elif not value.isascii() or ACCOUNT_ID.fullmatch(value) is None:
        problems.append(FieldError(path, 'must be a numeric string such as "98432"'))
    else:
        return value
    return None


def _parse_target(
    value: object, path: str, table: RulesTable, problems: list[FieldError]
) -> tuple[dict[str, Any] | None, PlatformRules | None]:
    if value is None:
        problems.append(FieldError(path, "is required"))
        return None, None
    if not isinstance(value, dict):
        problems.append(FieldError(path, _expected("an object", value)))
        return None, None
    target_type = value.get("targetType")
    rules = table.get(target_type) if isinstance(target_type, str) else None
    if target_type is None:
        problems.append(FieldError(f"{path}.targetType", "is required"))
    elif rules is None:
        problems.append(FieldError(f"{path}.targetType", f"must be one of: {', '.join(table)}"))
    return value, rules


def _parse_content(value: object, path: str, problems: list[FieldError]) -> _Content | None:
    if value is None:
        problems.append(FieldError(path, "is required"))
        return None
    if not isinstance(value, dict):
        problems.append(FieldError(path, _expected("an object", value)))
        return None
    items = [_parse_item(value, f"{path}.text", f"{path}.mediaUrls", problems, media_required=True)]
    extra = value.get("additionalPosts")
    if extra is not None and not isinstance(extra, list):
        problems.append(
            FieldError(f"{path}.additionalPosts", _expected("a list of {text, mediaUrls}", extra))
        )
    elif extra is not None:
        for index, entry in enumerate(extra):
            entry_path = f"{path}.additionalPosts[{index}]"
            text_path, media_path = f"{entry_path}.text", f"{entry_path}.mediaUrls"
            if not isinstance(entry, dict):
                problems.append(FieldError(entry_path, _expected("an object", entry)))
                items.append(_Item(None, None, text_path, media_path))
                continue
            items.append(_parse_item(entry, text_path, media_path, problems, media_required=False))
    platform = value.get("platform")
    if platform is None:
        problems.append(FieldError(f"{path}.platform", "is required"))
    elif not isinstance(platform, str):
        problems.append(FieldError(f"{path}.platform", _expected("a string", platform)))
        platform = None
    return _Content(items=items, platform=platform)


def _parse_item(
    value: dict[str, Any],
    text_path: str,
    media_path: str,
    problems: list[FieldError],
    *,
    media_required: bool,
) -> _Item:
    """`{text, mediaUrls}`: text always required ("" allowed), mediaUrls required on the post."""
    text = value.get("text")
    if text is None:
        problems.append(FieldError(text_path, 'is required (use "" for a post with only media)'))
    elif not isinstance(text, str):
        problems.append(FieldError(text_path, _expected("a string", text)))
        text = None
    elif (problem := _unicode_problem(text)) is not None:
        problems.append(FieldError(text_path, problem))
        text = None

    media = value.get("mediaUrls")
    urls: list[str] | None = None
    if media is None:
        if media_required:
            problems.append(FieldError(media_path, "is required (use [] for a post without media)"))
        else:
            urls = []
    elif not isinstance(media, list):
        problems.append(FieldError(media_path, _expected("a list of URLs", media)))
    else:
        urls = []
        for index, url in enumerate(media):
            if not isinstance(url, str):
                problems.append(FieldError(f"{media_path}[{index}]", _expected("a string", url)))
            elif (problem := _http_url_problem(url)) is not None:
                problems.append(FieldError(f"{media_path}[{index}]", problem))
            urls.append(url if isinstance(url, str) else "")
    return _Item(text, urls, text_path, media_path)


# --- platform rules -------------------------------------------------------------------------


def _check_item(
    item: _Item,
    rules: PlatformRules,
    media_rule: MediaCount,
    media_type: object,
    target: dict[str, Any] | None,
    problems: list[FieldError],
) -> None:
    if item.text is not None:
        _check_text(item.text, item.text_path, rules, problems)
    if item.media is not None:
        problem = _media_count_problem(len(item.media), media_rule, rules, media_type)
        if problem is not None:
            problems.append(FieldError(item.media_path, problem))
    if (
        rules.text_or_media_required
        and media_rule.minimum == 0
        and item.text is not None
        and item.media is not None
        and not item.text.strip()
        and not item.media
        and not any(target and target.get(name) for name in rules.text_alternatives)
    ):
        problems.append(
            FieldError(item.text_path, f"is empty and there is no media; {rules.name} needs one")
        )


def _check_text(text: str, path: str, rules: PlatformRules, problems: list[FieldError]) -> None:
    for limit in rules.text_limits:
        problem = text_limit_problem(text, limit, rules.name)
        if problem is not None:
            problems.append(FieldError(path, problem))
            return  # one length complaint per text; the others say the same thing
    forbidden = sorted({char for char in rules.text_forbidden_chars if char in text})
    if forbidden:
        problems.append(
            FieldError(
                path, f"must not contain {' or '.join(forbidden)} ({rules.name} refuses them)"
            )
        )
    if rules.max_hashtags is not None:
        count = measure.hashtag_count(text)
        if count > rules.max_hashtags:
            problems.append(
                FieldError(path, f"has {count} hashtags; {rules.name} allows {rules.max_hashtags}")
            )
    if rules.max_links is not None:
        count = measure.link_count(text)
        if count > rules.max_links:
            problems.append(
                FieldError(path, f"has {count} links; {rules.name} allows {rules.max_links}")
            )


def text_limit_problem(text: str, limit: TextLimit, platform: str) -> str | None:
    allows = f"{platform} allows {limit.maximum}"
    if limit.count is Count.X_WEIGHTED:
        how = "(weighted: URLs count 23, most CJK and emoji 2)"
        if len(text) > measure.X_MAX_SCAN:
            return f"is more than {measure.X_MAX_SCAN} characters long; {allows} {how}"
        length = measure.x_weighted_length(text)
        return f"is {length} characters long; {allows} {how}" if length > limit.maximum else None
    if limit.count is Count.GRAPHEMES:
        length = measure.grapheme_count(text)
        what = f"is {length} characters long; {allows} (counted as graphemes)"
    elif limit.count is Count.UTF8_BYTES:
        length = measure.utf8_len(text)
        what = f"is {length} bytes long in UTF-8; {allows} bytes"
    elif limit.count is Count.EMOJI_AS_BYTES:
        length = measure.emoji_weighted_length(text)
        what = f"is {length} characters long; {allows} (each emoji counts its UTF-8 bytes)"
    else:
        length = len(text)
        what = f"is {length} characters long; {allows}"
    return what if length > limit.maximum else None


def _media_count_problem(
    count: int, rule: MediaCount, rules: PlatformRules, media_type: object
) -> str | None:
    special = any(media_type == name for name, _ in rules.media_by_type)
    article = "an" if rules.name[0] in "aeiou" else "a"
    who = f"{article} {rules.name} {media_type}" if special else rules.name
    maximum = rule.maximum
    if rule.minimum <= count and (maximum is None or count <= maximum):
        return None
    if maximum == rule.minimum:
        return f"{who} needs exactly {_media_urls(rule.minimum)}; got {count}"
    if count < rule.minimum:
        return (
            f"{who} needs at least {_media_urls(rule.minimum)} (an image or a video); got {count}"
        )
    return f"{who} allows at most {_media_urls(maximum or 0)} per post; got {count}"


def _check_target_fields(
    target: dict[str, Any],
    rules: PlatformRules,
    path: str,
    media_count: int | None,
    problems: list[FieldError],
) -> None:
    for rule in rules.fields:
        _check_field(target, rule, path, rules.name, media_count, problems)
        story = target.get("mediaType") == "story"
        if rule.not_on_stories and story and target.get(rule.name) not in (None, ""):
            problems.append(FieldError(f"{path}.{rule.name}", "is not supported for stories"))
    known = {"targetType", *(rule.name for rule in rules.fields)}
    _check_unicode_tree(target, path, problems, skip=tuple(known))


def _check_field(
    container: dict[str, Any],
    rule: FieldRule,
    base: str,
    platform: str,
    media_count: int | None,
    problems: list[FieldError],
) -> None:
    path = f"{base}.{rule.name}"
    value = container.get(rule.name)
    optional_empty = value == "" and not rule.required and rule.kind in _EMPTY_MEANS_NONE
    if value is None or optional_empty or (value == "" and rule.kind in _EMPTY_MEANS_MISSING):
        if rule.required:
            problems.append(FieldError(path, f"is required for {platform}"))
        return
    problem: str | None
    if rule.kind is Kind.OBJECT:
        if not isinstance(value, dict):
            problems.append(FieldError(path, _expected("an object", value)))
            return
        for sub in rule.fields:
            _check_field(value, sub, path, platform, media_count, problems)
        _check_unicode_tree(value, path, problems, skip=tuple(sub.name for sub in rule.fields))
        return
    if rule.kind is Kind.STRING_LIST:
        _check_string_list(value, rule, path, problems)
        return
    problem = _CHECKS[rule.kind](value, rule, media_count)
    if problem is not None:
        problems.append(FieldError(path, problem))


def _check_string_list(
    value: object, rule: FieldRule, path: str, problems: list[FieldError]
) -> None:
    if not isinstance(value, list):
        problems.append(FieldError(path, _expected("a list of strings", value)))
        return
    if rule.max_items is not None and len(value) > rule.max_items:
        problems.append(FieldError(path, f"has {len(value)} items; at most {rule.max_items}"))
    for index, item in enumerate(value):
        item_path = f"{path}[{index}]"
        if not isinstance(item, str):
            problems.append(FieldError(item_path, _expected("a string", item)))
        elif not item.strip():
            problems.append(FieldError(item_path, "must not be empty"))
        elif (problem := _string_problem(item, rule)) is not None:
            problems.append(FieldError(item_path, problem))


def _string_problem(value: str, rule: FieldRule) -> str | None:
    if (problem := _unicode_problem(value)) is not None:
        return problem
    if rule.non_blank and not value.strip():
        return "must not be empty"
    if rule.max_length is not None and len(value) > rule.max_length:
        return f"is {len(value)} characters long; at most {rule.max_length} allowed"
    forbidden = sorted({char for char in rule.forbidden_chars if char in value})
    if forbidden:
        return f"must not contain {' or '.join(forbidden)}"
    return None


def _check_string(value: object, rule: FieldRule, media_count: int | None) -> str | None:
    if not isinstance(value, str):
        return _expected("a string", value)
    return _string_problem(value, rule)


def _check_boolean(value: object, rule: FieldRule, media_count: int | None) -> str | None:
    return None if isinstance(value, bool) else _expected("a boolean (true or false)", value)


def _check_enum(value: object, rule: FieldRule, media_count: int | None) -> str | None:
    if isinstance(value, str) and value in rule.choices:
        return None
    return f"must be one of: {', '.join(rule.choices)}"


def _check_numeric_id(value: object, rule: FieldRule, media_count: int | None) -> str | None:
    if not isinstance(value, str):
        return _expected('a numeric string such as "123456789"', value)
    if not value.isascii() or NUMERIC_ID.fullmatch(value) is None:
        return 'must be a numeric string such as "123456789"'
    return None


def _check_http_url(value: object, rule: FieldRule, media_count: int | None) -> str | None:
    if not isinstance(value, str):
        return _expected("a string", value)
    if rule.max_length is not None and len(value) > rule.max_length:
        return f"is {len(value)} characters long; at most {rule.max_length} allowed"
    return _http_url_problem(value)


def _check_webhook_url(value: object, rule: FieldRule, media_count: int | None) -> str | None:
    if not isinstance(value, str):
        return _expected("a string", value)
    return _webhook_url_problem(value)


@functools.lru_cache(maxsize=4096)
def _webhook_url_problem(value: str) -> str | None:
    """Remembered per URL (pure): a client posts to the same webhook again and again."""
    if (problem := _http_url_problem(value)) is not None:
        return problem
    parts = urlsplit(value)
    if parts.username is not None or parts.password is not None:
        return "must not contain credentials (user:password@); the request is signed instead"
    return None  # where it points is checked by the SSRF guard (net/guard.py), not here


def _check_integer(value: object, rule: FieldRule, media_count: int | None) -> str | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return _expected("an integer", value)
    return f"must be at least {rule.minimum}" if value < rule.minimum else None


def _check_media_index(value: object, rule: FieldRule, media_count: int | None) -> str | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return _expected("an integer", value)
    if value < 0:
        return "must be at least 0"
    if media_count is not None and value >= media_count:
        return f"must be less than the number of media URLs ({media_count}); it counts from 0"
    return None


_CHECKS: dict[Kind, Callable[[object, FieldRule, int | None], str | None]] = {
    Kind.STRING: _check_string,
    Kind.BOOLEAN: _check_boolean,
    Kind.ENUM: _check_enum,
    Kind.NUMERIC_ID: _check_numeric_id,
    Kind.HTTP_URL: _check_http_url,
    Kind.WEBHOOK_URL: _check_webhook_url,
    Kind.INTEGER: _check_integer,
    Kind.MEDIA_INDEX: _check_media_index,
}
"""Checks of single values; OBJECT and STRING_LIST report per item in `_check_field`."""
_EMPTY_MEANS_NONE = frozenset({Kind.NUMERIC_ID, Kind.HTTP_URL})
"""Optional ids and links sent as "" (n8n leaves unset fields empty) mean "none"."""
_EMPTY_MEANS_MISSING = frozenset({Kind.NUMERIC_ID, Kind.WEBHOOK_URL})
"""A required id or URL sent as "" is reported as missing, which is what it is."""


# --- small helpers --------------------------------------------------------------------------


def _http_url_problem(value: str) -> str | None:
    """Syntax only: an absolute http(s) URL with a host. Reachability is checked at send time."""
    if not value:
        return "must be an http(s) URL, not an empty string"
    if value[:5].lower() == "data:":
        return "must be an http(s) URL; upload data: URIs with POST /v2/media first"
    if (problem := _unicode_problem(value)) is not None:
        return problem
    if _URL_FORBIDDEN.search(value):
        return "must be an http(s) URL without spaces or control characters"
    try:
        parts = urlsplit(value)
        host = parts.hostname
        _ = parts.port
    except ValueError:
        return "must be a valid http(s) URL"
    if parts.scheme not in ("http", "https"):
        return "must be an http(s) URL"
    if not host or not host.strip("."):
        return "must be an http(s) URL with a host name"
    return None


def _unicode_problem(value: str) -> str | None:
    """Strings the database and JSON encoders cannot carry (NUL, lone surrogates)."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text (it contains a lone surrogate)"
    return None


def _check_unicode_tree(
    value: dict[str, Any], path: str, problems: list[FieldError], *, skip: tuple[str, ...]
) -> None:
    """Walk fields kept as sent (unknown target fields): reject what cannot be stored."""
    stack: list[tuple[object, str]] = [
        (sub, f"{path}.{key}") for key, sub in reversed(value.items()) if key not in skip
    ]
    for key in value:
        if not isinstance(key, str) or _unicode_problem(key) is not None:
            problems.append(FieldError(path, "has a field name that is not valid text"))
    while stack:
        item, item_path = stack.pop()
        if isinstance(item, str):
            if (problem := _unicode_problem(item)) is not None:
                problems.append(FieldError(item_path, problem))
        elif isinstance(item, float) and not math.isfinite(item):
            problems.append(FieldError(item_path, "must be a finite number"))
        elif isinstance(item, list):
            stack.extend((sub, f"{item_path}[{i}]") for i, sub in reversed(list(enumerate(item))))
        elif isinstance(item, dict):
            for key in item:
                if not isinstance(key, str) or _unicode_problem(key) is not None:
                    problems.append(
                        FieldError(item_path, "has a field name that is not valid text")
                    )
            stack.extend(
                (sub, f"{item_path}.{key}")
                for key, sub in reversed(item.items())
                if isinstance(key, str) and _unicode_problem(key) is None
            )


def _platform_mismatch(rules: PlatformRules, path: str) -> str:
    if len(rules.content_platforms) > 1:
        accepted = " or ".join(f'"{name}"' for name in rules.content_platforms)
        return f'must be {accepted} for {path}.target.targetType "{rules.name}"'
    return f'must equal {path}.target.targetType ("{rules.name}")'


def _expected(what: str, value: object) -> str:
    return f"must be {what}, not {_json_type(value)}"


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _media_urls(count: int) -> str:
    return f"{count} media URL" if count == 1 else f"{count} media URLs"


def _join(names: tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
