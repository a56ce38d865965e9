"""What an agent discovers: the contract's tool names and required arguments, annotations,
and enums that come from the platform rules."""

from __future__ import annotations

from masthead.platforms.registry import RULES, SOCIAL
from tests.mcp.conftest import agent
from tests.support.harness import Harness
from tests.support.mcp_client import refusal

CONTRACT: dict[str, set[str]] = {
    "blotato_get_user": set(),
    "blotato_list_accounts": set(),
    "blotato_list_subaccounts": {"accountId"},
    "blotato_list_pinterest_boards": {"accountId"},
    "blotato_create_post": {"accountId", "platform", "text"},
    "blotato_get_post_status": {"postSubmissionId"},
    "blotato_list_posts": set(),
    "blotato_upload_media": {"url"},
    "blotato_create_presigned_upload_url": {"filename"},
    "blotato_list_schedules": set(),
    "blotato_get_schedule": {"id"},
    "blotato_update_schedule": {"id"},
    "blotato_delete_schedule": {"id"},
    "blotato_list_schedule_slots": set(),
    "blotato_create_schedule_slots": {"slots"},
    "blotato_update_schedule_slot": {"id", "selectedTargets"},
    "blotato_delete_schedule_slot": {"id"},
    "blotato_find_next_available_slot": {"platform", "accountId"},
    "blotato_list_top_posts": set(),
    "blotato_get_post_analytics": {"id"},
    "blotato_list_published_posts": set(),
    "blotato_get_platform_analytics": set(),
    "blotato_get_analytics_summary": set(),
    "blotato_list_comments": set(),
    "blotato_get_comment": {"commentId"},
    "blotato_post_comment": {"postId", "text"},
}
"""Section 11's table: every tool that maps to something Masthead serves today."""

CREATE_POST_ARGUMENTS = {
    "accountId", "platform", "text", "mediaUrls", "scheduledTime", "useNextFreeSlot",
    "additionalPosts", "pageId", "mediaType", "link", "firstComment", "altText",
    "collaborators", "coverImageUrl", "shareToFeed", "audioName", "trial", "privacyLevel",
    "disabledComments", "disabledDuet", "disabledStitch", "isBrandedContent", "isYourBrand",
    "isAiGenerated", "autoAddMusic", "isDraft", "title", "imageCoverIndex",
    "videoCoverTimestamp", "boardId", "replyControl", "privacyStatus",
    "shouldNotifySubscribers", "isMadeForKids", "containsSyntheticMedia", "thumbnailUrl",
    "playlistIds",
}  # fmt: skip
"""Section 11, "blotato_create_post arguments"."""


async def test_the_contract_tools_with_their_required_arguments(server: Harness) -> None:
    ada = await server.user()
    async with agent(server, ada) as client:
        listed = await client.list_tools()
    tools = {t.name: t for t in listed.tools}
    assert set(tools) == set(CONTRACT)
    for name, required in CONTRACT.items():
        assert set(tools[name].input_schema.get("required", [])) == required, name
        assert tools[name].description, name


async def test_create_post_takes_the_flattened_arguments_with_rule_enums(
    server: Harness,
) -> None:
    ada = await server.user()
    async with agent(server, ada) as client:
        listed = await client.list_tools()
    create = next(t for t in listed.tools if t.name == "blotato_create_post")
    properties = create.input_schema["properties"]
    assert set(properties) == CREATE_POST_ARGUMENTS
    assert properties["platform"]["enum"] == list(SOCIAL)
    privacy = RULES["tiktok"].field_rule("privacyLevel")
    assert privacy is not None
    assert properties["privacyLevel"]["enum"] == list(privacy.choices)
    assert "publish" in (create.description or "").lower()
    assert "blotato_list_accounts" in (create.description or "")


async def test_reads_are_read_only_and_deletes_destructive(server: Harness) -> None:
    ada = await server.user()
    async with agent(server, ada) as client:
        listed = await client.list_tools()
    for tool in listed.tools:
        hints = tool.annotations
        assert hints is not None
        reading = tool.name.startswith(("blotato_get_", "blotato_list_", "blotato_find_"))
        assert hints.read_only_hint is reading, tool.name
        assert hints.destructive_hint is ("_delete_" in tool.name), tool.name


async def test_arguments_outside_the_schema_are_a_tool_error_naming_them(
    server: Harness,
) -> None:
    ada = await server.user()
    async with agent(server, ada) as client:
        missing = await client.call_tool("blotato_get_post_status", {})
        wrong = await client.call_tool(
            "blotato_create_post",
            {"accountId": "1", "platform": "myspace", "text": "hi"},
        )
    assert "postSubmissionId" in refusal(missing)
    assert refusal(wrong).startswith("platform: 'myspace' is not one of")


async def test_arguments_nested_deeper_than_rest_takes_are_a_tool_error(server: Harness) -> None:
    ada = await server.user()
    draft: dict[str, object] = {}
    for _ in range(100):  # past the 64 levels REST takes
        draft = {"x": draft}
    async with agent(server, ada) as client:
        deep = await client.call_tool("blotato_update_schedule", {"id": "x", "draft": draft})
    assert refusal(deep) == "Arguments are nested more than 64 levels deep"
