"""The post as Masthead understands it: a parsed, validated Blotato `post` object."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ThreadItem:
    """One post of a thread (the first item is the post itself, then `additionalPosts`)."""

    text: str
    media_urls: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PostDraft:
    """A validated `post` object: what to publish, where, with which account.

    `target` keeps the target object exactly as sent (minus nothing), because publishers read
    their own optional fields from it and the schedules API echoes it back as the draft.
    """

    account_id: str
    target_type: str
    content_platform: str
    items: tuple[ThreadItem, ...]
    target: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.items[0].text

    @property
    def media_urls(self) -> tuple[str, ...]:
        return self.items[0].media_urls

    def to_json(self) -> dict[str, Any]:
        """The compat `post` object (the schedules API's `draft`)."""
        content: dict[str, Any] = {
            "text": self.items[0].text,
            "mediaUrls": list(self.items[0].media_urls),
            "platform": self.content_platform,
        }
        if len(self.items) > 1:
            content["additionalPosts"] = [
                {"text": item.text, "mediaUrls": list(item.media_urls)} for item in self.items[1:]
            ]
        return {"accountId": self.account_id, "content": content, "target": dict(self.target)}


def draft_from_json(draft: dict[str, Any]) -> PostDraft:
    """Rebuild a stored draft (validated before it was stored, so trusted here)."""
    content = draft["content"]
    items = [ThreadItem(content.get("text", ""), tuple(content.get("mediaUrls", ())))]
    items += [
        ThreadItem(extra.get("text", ""), tuple(extra.get("mediaUrls", ())))
        for extra in content.get("additionalPosts") or ()
    ]
    target = dict(draft.get("target", {}))
    return PostDraft(
        account_id=str(draft["accountId"]),
        target_type=str(target.get("targetType", content.get("platform", ""))),
        content_platform=str(content.get("platform", "")),
        items=tuple(items),
        target=target,
    )
