"""The rules table (each platform module's `RULES`, gathered by the registry): one entry
per target, the numbers of platform-rules.md, nothing missing."""

from __future__ import annotations

import pytest

from masthead.domain.rules import Count, Kind, MediaCount, TextLimit
from masthead.platforms.registry import RULES, TARGET_TYPES, THREAD_PLATFORMS


def test_there_is_one_rules_entry_per_target_type_and_it_names_itself() -> None:
    assert set(RULES) == set(TARGET_TYPES)
    for name, rules in RULES.items():
        assert rules.name == name


def test_only_twitter_bluesky_and_threads_accept_threads() -> None:
    assert THREAD_PLATFORMS == ("twitter", "threads", "bluesky")  # the registry's order


@pytest.mark.parametrize(
    ("target", "limits"),
    [
        ("twitter", (TextLimit(280, Count.X_WEIGHTED),)),
        ("bluesky", (TextLimit(300, Count.GRAPHEMES), TextLimit(3000, Count.UTF8_BYTES))),
        ("threads", (TextLimit(500, Count.EMOJI_AS_BYTES),)),
        ("linkedin", (TextLimit(3000, Count.CODE_POINTS),)),
        ("facebook", (TextLimit(63_206, Count.CODE_POINTS),)),
        ("instagram", (TextLimit(2200, Count.CODE_POINTS),)),
        ("tiktok", (TextLimit(2200, Count.CODE_POINTS),)),
        ("pinterest", (TextLimit(800, Count.CODE_POINTS),)),
        ("youtube", (TextLimit(5000, Count.UTF8_BYTES),)),
        ("webhook", ()),
    ],
)
def test_text_limits_match_platform_rules(target: str, limits: tuple[TextLimit, ...]) -> None:
    assert RULES[target].text_limits == limits


@pytest.mark.parametrize(
    ("target", "media"),
    [
        ("twitter", MediaCount(0, 4)),
        ("bluesky", MediaCount(0, 4)),
        ("threads", MediaCount(0, 1)),
        ("linkedin", MediaCount(0, None)),
        ("facebook", MediaCount(0, None)),
        ("instagram", MediaCount(1, 10)),
        ("tiktok", MediaCount(1, 35)),
        ("pinterest", MediaCount(1, 5)),
        ("youtube", MediaCount(1, 1)),
        ("webhook", MediaCount(0, None)),
    ],
)
def test_media_counts_match_platform_rules(target: str, media: MediaCount) -> None:
    assert RULES[target].media == media


@pytest.mark.parametrize(
    ("target", "media_type", "expected"),
    [
        pytest.param("instagram", "story", MediaCount(1, 1), id="instagram-story-is-one-item"),
        pytest.param("instagram", "reel", MediaCount(1, 10), id="instagram-reel-uses-default"),
        pytest.param("instagram", None, MediaCount(1, 10), id="instagram-no-type-uses-default"),
        pytest.param("facebook", "story", MediaCount(1, 1), id="facebook-story-needs-one-item"),
        pytest.param("facebook", "reel", MediaCount(0, None), id="facebook-reel-uses-default"),
        pytest.param("twitter", "story", MediaCount(0, 4), id="other-targets-ignore-media-type"),
    ],
)
def test_media_for_applies_the_media_type_specific_count(
    target: str, media_type: object, expected: MediaCount
) -> None:
    assert RULES[target].media_for(media_type) == expected


@pytest.mark.parametrize(
    ("target", "required"),
    [
        ("twitter", set()),
        ("bluesky", set()),
        ("threads", set()),
        ("linkedin", set()),
        ("facebook", {"pageId"}),
        ("instagram", set()),
        (
            "tiktok",
            {
                "privacyLevel",
                "disabledComments",
                "disabledDuet",
                "disabledStitch",
                "isBrandedContent",
                "isYourBrand",
                "isAiGenerated",
            },
        ),
        ("pinterest", {"boardId"}),
        ("youtube", {"title", "privacyStatus", "shouldNotifySubscribers"}),
        ("webhook", {"url"}),
    ],
)
def test_required_target_fields_match_platform_rules(target: str, required: set[str]) -> None:
    assert {rule.name for rule in RULES[target].fields if rule.required} == required


@pytest.mark.parametrize(
    ("target", "field", "choices"),
    [
        ("threads", "replyControl", ("everyone", "accounts_you_follow", "mentioned_only")),
        ("facebook", "mediaType", ("reel", "story", "video")),
        ("instagram", "mediaType", ("reel", "story")),
        (
            "tiktok",
            "privacyLevel",
            ("SELF_ONLY", "PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR"),
        ),
        ("youtube", "privacyStatus", ("private", "public", "unlisted")),
    ],
)
def test_enums_match_platform_rules(target: str, field: str, choices: tuple[str, ...]) -> None:
    rule = RULES[target].field_rule(field)
    assert rule is not None and rule.kind is Kind.ENUM
    assert rule.choices == choices


@pytest.mark.parametrize(
    ("target", "field", "max_length"),
    [
        ("instagram", "altText", 1000),
        ("tiktok", "title", 90),
        ("pinterest", "title", 100),
        ("pinterest", "altText", 500),
        ("pinterest", "link", 2048),
        ("youtube", "title", 100),
    ],
)
def test_field_lengths_match_platform_rules(target: str, field: str, max_length: int) -> None:
    rule = RULES[target].field_rule(field)
    assert rule is not None and rule.max_length == max_length


def test_instagram_collaborators_and_hashtags_limits() -> None:
    collaborators = RULES["instagram"].field_rule("collaborators")
    assert collaborators is not None and collaborators.max_items == 3
    assert RULES["instagram"].max_hashtags == 30


def test_every_enum_has_choices_and_no_other_kind_has_any() -> None:
    for rules in RULES.values():
        for rule in rules.fields:
            assert bool(rule.choices) == (rule.kind is Kind.ENUM), (rules.name, rule.name)


def test_content_platform_pairs_with_target_type_and_webhook_with_other() -> None:
    for name, rules in RULES.items():
        expected = ("other", "webhook") if name == "webhook" else (name,)
        assert rules.content_platforms == expected


def test_unknown_field_lookup_returns_none() -> None:
    assert RULES["twitter"].field_rule("pageId") is None
