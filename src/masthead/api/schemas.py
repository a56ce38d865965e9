"""The compat shapes, for the OpenAPI document and for response checks.

Request bodies are parsed by `domain/validation.py` (so that every error names its compat field
path); these models describe the same shapes truthfully for `/openapi.json`. Responses are
written with orjson for speed and described here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from masthead.platforms.registry import TARGET_TYPES
from masthead.services.slot_requests import NUMERIC_ID as NUMERIC_ID
from masthead.services.slot_requests import Day as Day
from masthead.services.slot_requests import NextAvailableIn as NextAvailableIn
from masthead.services.slot_requests import SlotIn as SlotIn
from masthead.services.slot_requests import SlotPatch as SlotPatch
from masthead.services.slot_requests import SlotsIn as SlotsIn
from masthead.services.slot_requests import SlotTargetModel as SlotTargetModel
from masthead.services.slot_requests import TargetType as TargetType

if TYPE_CHECKING:
    ContentPlatform = str
else:  # with "other", as `content.platform` allows
    ContentPlatform = Literal[(*TARGET_TYPES, "other")]
REMOVED_NOTE = "ours: present when the post's account was removed (the post is kept)"


class Message(BaseModel):
    message: str
    code: int | None = None


class FieldProblem(BaseModel):
    path: str
    message: str


class ValidationMessage(BaseModel):
    message: str = Field(examples=["post.target.pageId: is required for facebook"])
    errors: list[FieldProblem] = []


class RateLimited(BaseModel):
    statusCode: Literal[429]
    message: str = Field(examples=["Rate limit exceeded, retry in 49 seconds"])


class ServerFault(BaseModel):
    code: Literal[9999]
    message: str


class Me(BaseModel):
    id: str
    subscriptionStatus: str
    apiKey: None = None
    email: str
    name: str
    webhookSigningSecret: str = Field(
        description="ours: the secret that signs webhook deliveries (X-Masthead-Signature)"
    )


class AccountItem(BaseModel):
    id: str = Field(pattern=NUMERIC_ID)
    platform: TargetType
    fullname: str
    username: str


class Accounts(BaseModel):
    items: list[AccountItem]


class SubaccountItem(BaseModel):
    id: str
    accountId: str
    name: str


class Subaccounts(BaseModel):
    items: list[SubaccountItem]


class Board(BaseModel):
    id: str
    name: str


class Boards(BaseModel):
    items: list[Board]


class ThreadPart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
    mediaUrls: list[str]


class Content(BaseModel):
    model_config = ConfigDict(extra="allow")
    text: str
    mediaUrls: list[str]
    platform: ContentPlatform
    additionalPosts: list[ThreadPart] | None = None


class Target(BaseModel):
    """Platform fields beside `targetType` (pageId, boardId, privacyLevel, title, url, ...);
    see shared/spec/platform-rules.md."""

    model_config = ConfigDict(extra="allow")
    targetType: TargetType


class PostObject(BaseModel):
    accountId: str = Field(pattern=NUMERIC_ID)
    content: Content
    target: Target


class CreatePostRequest(BaseModel):
    post: PostObject
    scheduledTime: str | None = Field(
        default=None,
        description="ISO 8601 with an offset (Z or +02:00)",
        examples=["2026-03-10T15:30:00Z"],
    )
    useNextFreeSlot: bool | None = False


class CreatedPost(BaseModel):
    postSubmissionId: str
    status: Literal["scheduled", "in-progress"]
    scheduledTime: str | None = None


class ThreadResult(BaseModel):
    publicUrl: str | None
    platformPostId: str | None


class PostStatus(BaseModel):
    postSubmissionId: str
    status: Literal["scheduled", "in-progress", "published", "failed"]
    publicUrl: str | None = None
    errorMessage: str | None = None
    scheduledTime: str | None = None
    outcome: Literal["unknown"] | None = None
    posts: list[ThreadResult] | None = None
    accountRemoved: Literal[True] | None = Field(default=None, description=REMOVED_NOTE)


class PostState(BaseModel):
    type: Literal["scheduled", "published", "failed"]
    postUrl: str | None = None
    errorMessage: str | None = None


class PostListItem(BaseModel):
    id: str
    postTime: str
    platform: TargetType
    text: str
    mediaUrls: list[str]
    state: PostState
    accountRemoved: Literal[True] | None = Field(default=None, description=REMOVED_NOTE)


class PostList(BaseModel):
    items: list[PostListItem]
    cursor: str | None = None


class ScheduleAccount(BaseModel):
    id: str
    name: str
    username: str
    profileImageUrl: str | None
    subaccountId: str | None
    subId: str | None
    subaccountName: str | None


class ScheduleItem(BaseModel):
    id: str
    scheduledAt: str
    draft: dict[str, Any]
    account: ScheduleAccount | None


class ScheduleList(BaseModel):
    items: list[ScheduleItem]
    count: str
    cursor: str | None = None


class ScheduleOne(BaseModel):
    schedule: ScheduleItem


class SchedulePatchBody(BaseModel):
    draft: PostObject | None = None
    scheduledTime: str | None = None


class SchedulePatch(BaseModel):
    patch: SchedulePatchBody


class SlotOut(SlotIn):
    id: str


class SlotList(BaseModel):
    items: list[SlotOut]


class NextSlot(BaseModel):
    slotId: str
    slotTime: str


class NextAvailable(BaseModel):
    slot: NextSlot


MetricValue = str | float | dict[str, str]


class MetricsSnapshotOut(BaseModel):
    fetchedAt: str
    metrics: dict[str, MetricValue]


class AnalyticsItem(BaseModel):
    id: str
    postSubmissionId: str
    platform: str
    accountId: str
    content: str
    createdAt: str
    postUrl: str | None
    mediaUrls: list[str]
    latestMetrics: MetricsSnapshotOut | None
    metricsHistory: list[MetricsSnapshotOut]
    lastError: str | None


class AnalyticsList(BaseModel):
    items: list[AnalyticsItem]
    cursor: str | None = None


class PublishedItem(BaseModel):
    id: str
    content: str
    postUrl: str | None
    platform: str
    createdAt: str
    mediaUrls: list[str]
    latestMetrics: MetricsSnapshotOut | None
    accountId: str


class PublishedList(BaseModel):
    items: list[PublishedItem]
    count: int


class PostAnalytics(BaseModel):
    metrics: dict[str, MetricValue] | None
    lastFetchedAt: str | None
    history: list[MetricsSnapshotOut]
    lastError: str | None
    id: str
    platform: str
    postUrl: str | None
    nextFetchAt: str | None
    platformMetrics: dict[str, Any] | None


class PlatformTotals(BaseModel):
    platform: str
    postsCount: int
    measuredPostsCount: int
    totals: dict[str, str]


class PlatformTotalsList(BaseModel):
    items: list[PlatformTotals]


class AnalyticsSummary(BaseModel):
    since: str
    until: str
    postsCount: int
    measuredPostsCount: int
    totals: dict[str, str]
    topPost: AnalyticsItem | None


class RefreshQueued(BaseModel):
    id: str
    status: Literal["queued"]


def body_schema(model: type[BaseModel]) -> dict[str, Any]:
    """An `openapi_extra` that documents a JSON body parsed by hand."""
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            },
        }
    }


Responses = dict[int | str, dict[str, Any]]

COMMON_ERRORS: Responses = {
    401: {"model": Message, "description": "Missing, unknown or revoked API key"},
    500: {"model": ServerFault, "description": "Server fault (a bug)"},
}
LIMITED: Responses = {429: {"model": RateLimited, "description": "Rate limited; see Retry-After"}}
