"""The comment shapes (contract section 10), for `/openapi.json`; bodies are parsed by the
service, which names every bad field itself."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    postId: str = Field(min_length=1, description="the postSubmissionId of a published post")
    text: str = Field(min_length=1, description="the platform's comment limit applies")
    parentCommentId: str | None = Field(
        default=None, description="a top-level comment of the same post; omit for a comment"
    )


class CommentOut(BaseModel):
    id: str
    accountId: str
    platform: str
    postId: str | None
    platformPostId: str | None
    parentCommentId: str | None
    platformCommentId: str | None
    authorId: str | None
    isAuthor: bool
    text: str
    status: str = Field(description="queued | processing | posted | failed | deleted")
    errorCode: int | None
    errorMessage: str | None
    createdAt: str
    authorUsername: str | None = None
    authorName: str | None = None
    updatedAt: str | None = None


class CommentList(BaseModel):
    items: list[CommentOut]
    cursor: str | None = None
