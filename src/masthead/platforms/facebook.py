"""Facebook Pages: text and link posts, photo posts, reels and stories; comments and replies.

Every call is made with the token of the Page the post names (`target.pageId`), stored
encrypted with the Page's subaccount at connect time. Meta pulls photos and videos from
Masthead's public media URLs. What may be retried (uploads of unpublished photos, the reel's
upload session) happens in `prepare`; `send` is the one call that makes the post visible, and
the upload session it finishes is stored before it, so a lost answer is settled by asking Meta
about that video instead of posting again. Facts: platform-notes 2.2 and 2.3.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from masthead.domain.budgets import DAY, Budget, PlatformBudgets
from masthead.domain.comments import (
    MISSING_PERMISSION_MESSAGE,
    CommentRefused,
    CommentRules,
    ErrorCode,
)
from masthead.platforms import kit
from masthead.platforms.meta import (
    META_SETTINGS,
    PAGE_SIZE,
    GraphPublisher,
    comment_refusal,
    insight_values,
    page_comment,
    page_subaccounts,
    poll,
    user_credentials,
)
from masthead.platforms.seams import stored
from masthead.platforms.spec import PlatformSpec, Subaccount

RECONCILE_WINDOW_SECONDS = 600
"""A lost feed post is looked for among the Page's posts since this long before sending."""


METRICS_BATCH = 25
"""Posts per metrics call: one request per post (its counts and insights inline); a Graph
batch request would still count each post against the Page's rate limit."""
POST_FIELDS = (
    "shares,comments.limit(0).summary(true),insights.metric("
    "post_media_view,post_total_media_view_unique,post_clicks,post_reactions_by_type_total)"
)
POST_INSIGHTS = (
    ("post_media_view", "viewsCount"),
    ("post_total_media_view_unique", "reachCount"),
    ("post_clicks", "clicksCount"),
)
"""Page post insights since Meta retired impressions (June and November 2025): views, and
viewers (`post_total_media_view_unique`, the replacement of `post_impressions_unique`)."""
REEL_FIELDS = (
    "video_insights.metric(blue_reels_play_count,post_impressions_unique,"
    "post_video_likes_by_reaction_type,post_video_social_actions)"
)
REEL_INSIGHTS = (
    ("blue_reels_play_count", "playsCount"),
    ("post_impressions_unique", "reachCount"),
)
STORIES = frozenset({"photo_story", "video_story"})
"""Stories have no per-story metrics in the Page API: they are not measured."""


def reactions(value: object) -> dict[str, kit.Metric]:
    """`likesCount` (all reactions) and `reactionsByType` from Meta's breakdown (`{"like": 13}`
    for a post, `{"REACTION_LIKE": 13}` for a video), in the contract's lower-case names."""
    if not isinstance(value, dict):
        return {}
    by_type = {
        str(name).lower().removeprefix("reaction_"): count
        for name, raw in value.items()
        if (count := kit.as_count(raw)) is not None
    }
    if not by_type:
        return {}
    return {
        "likesCount": str(sum(int(c) for c in by_type.values())),
        "reactionsByType": by_type,
    }


def public_url(post_id: str) -> str:
    return f"https://www.facebook.com/{post_id}"


@dataclass(frozen=True, slots=True)
class PreparedPagePost:
    """What `prepare` hands to `send` and `reconcile`."""

    since: int
    """When sending began, less the reconcile window (Unix seconds)."""
    kind: str = ""
    """feed, photos, photo_story, reel or video_story."""
    video_id: str | None = None
    """A reel's or video story's upload session, finished by `send`."""
    photo_id: str | None = None
    """A photo story's unpublished photo."""
    photo_ids: list[str] | None = None
    """A photo post's unpublished photos, in order."""


class FacebookPublisher(GraphPublisher):
    platform: ClassVar[str] = "facebook"
    metrics_batch: int = METRICS_BATCH

    async def connect(self, credentials: dict[str, Any]) -> kit.ConnectedAccount:
        """The Facebook user and the Pages they can post to, each with its Page token."""
        credentials = await user_credentials(self.oauth, credentials)
        token = str(credentials["access_token"])
        me = await self._graph.call("GET", "me", token, params={"fields": "id,name,picture{url}"})
        picture = ((me.get("picture") or {}).get("data") or {}).get("url")
        return kit.ConnectedAccount(
            external_id=str(me["id"]),
            username=str(me.get("name") or me["id"]),
            credentials=credentials,
            fullname=str(me.get("name") or me["id"]),
            profile_image_url=picture,
            subaccounts=page_subaccounts(await self._graph.pages(token)),
        )

    async def _page(self, ctx: kit.PublishContext) -> tuple[str, str]:
        """The Page id and the Page's own token."""
        page_id = str(ctx.target.get("pageId") or "")
        return page_id, await self._page_token(ctx, page_id)

    async def _page_token(self, ctx: kit.AccountScope, page_id: str) -> str:
        stored = await ctx.credentials.subaccount("page", page_id) if ctx.credentials else None
        token = str((stored or {}).get("access_token") or "")
        if not token:
            raise kit.Permanent(
                f"Page {page_id} has no Page token on this server: connect the Facebook "
                "account again so that its Pages are listed with their tokens"
            )
        return token

    # -- analytics ---------------------------------------------------------------------------

    async def fetch_metrics(
        self, ctx: kit.AccountContext, posts: Sequence[kit.PublishedPost]
    ) -> Mapping[str, kit.MetricsResult]:
        """One request per post, with its Page's token: a feed post's share and comment
        counts and insights inline; a reel's video insights (plays, not views)."""

        async def read(post: kit.PublishedPost) -> kit.MetricsResult:
            kind = str(post.data.get("kind") or "feed")
            if kind in STORIES:
                return kit.MetricsUnavailable("Analytics are not available for facebook stories")
            token = await self._page_token(ctx, str(post.target.get("pageId") or ""))
            reel = kind == "reel"
            body = await self._graph.read(
                post.remote_id, token, params={"fields": REEL_FIELDS if reel else POST_FIELDS}
            )
            if body is None:
                return kit.PostGone("Post no longer exists on facebook")
            return reel_metrics(body) if reel else post_metrics(body)

        return await kit.each_post(posts, read)

    # -- prepare -----------------------------------------------------------------------------

    async def prepare(self, ctx: kit.PublishContext, position: int) -> dict[str, Any]:
        page_id, token = await self._page(ctx)
        since = int(time.time()) - RECONCILE_WINDOW_SECONDS
        urls = ctx.items[position].media_urls
        if not urls:
            return stored(PreparedPagePost(since, "feed"))
        if ctx.media is None:
            raise kit.Permanent("This server cannot read media files for Facebook")
        files = [await ctx.media.file(url) for url in urls]
        story = ctx.target.get("mediaType") == "story"
        videos = [file for file in files if file.is_video]
        if videos:
            if len(files) > 1:
                raise kit.Permanent("A Facebook post holds one video, or images without a video")
            kind = "video_story" if story else "reel"
            video_id = await self._upload_video(page_id, token, kind, videos[0])
            return stored(PreparedPagePost(since, kind, video_id=video_id))
        if story:
            photo_id = await self._unpublished_photo(page_id, token, files[0])
            return stored(PreparedPagePost(since, "photo_story", photo_id=photo_id))
        ids = [await self._unpublished_photo(page_id, token, file) for file in files]
        return stored(PreparedPagePost(since, "photos", photo_ids=ids))

    async def _unpublished_photo(self, page_id: str, token: str, file: kit.MediaFile) -> str:
        """An unpublished photo, shown nowhere until a feed post or a story attaches it."""
        body = await self._graph.call(
            "POST",
            f"{page_id}/photos",
            token,
            json={"url": file.url, "published": False},
        )
        return str(body["id"])

    async def _upload_video(self, page_id: str, token: str, kind: str, file: kit.MediaFile) -> str:
        """Start an upload session, have Meta pull the file from its hosted URL, and wait
        until Meta has it. Nothing is visible until `finish` (in `send`)."""
        edge = "video_reels" if kind == "reel" else "video_stories"
        started = await self._graph.call(
            "POST", f"{page_id}/{edge}", token, json={"upload_phase": "start"}
        )
        video_id = str(started["video_id"])
        await self._graph.call(
            "POST",
            "",
            token,
            url=str(started["upload_url"]),
            headers={"Authorization": f"OAuth {token}", "file_url": file.url},
        )

        async def uploading() -> str:
            status = await self._status(token, video_id)
            return str((status.get("uploading_phase") or {}).get("status") or "")

        state = await poll(
            uploading,
            done=frozenset({"complete", "error"}),
            first_wait=self._poll_seconds,
            limit=self._processing_limit,
            what=f"the upload of video {video_id}",
        )
        if state == "error":
            raise kit.Permanent(f"Facebook could not fetch or read the video {file.url}")
        return video_id

    async def _status(self, token: str, video_id: str) -> dict[str, Any]:
        body = await self._graph.call("GET", video_id, token, params={"fields": "status"})
        status = body.get("status")
        return status if isinstance(status, dict) else {}

    # -- send --------------------------------------------------------------------------------

    async def send(
        self, ctx: kit.PublishContext, position: int, prepared: dict[str, Any]
    ) -> kit.SentItem:
        page_id, token = await self._page(ctx)
        post = kit.loaded(PreparedPagePost, prepared)
        return await kit.sent_or_found(
            self._publish(ctx, position, page_id, token, post),
            lambda: self._find(ctx, position, page_id, token, post),
        )

    async def _publish(
        self,
        ctx: kit.PublishContext,
        position: int,
        page_id: str,
        token: str,
        post: PreparedPagePost,
    ) -> kit.SentItem:
        text = ctx.items[position].text
        kind = post.kind
        if kind in ("reel", "video_story"):
            return await self._finish_video(page_id, token, post, text)
        if kind == "photo_story":
            body = await self._graph.call(
                "POST",
                f"{page_id}/photo_stories",
                token,
                creates=True,
                json={"photo_id": post.photo_id},
            )
            post_id = str(body.get("post_id") or post.photo_id)
            return kit.SentItem(post_id, public_url(post_id), {"kind": kind})
        fields: dict[str, Any] = {"message": text} if text else {}
        if kind == "photos":
            fields["attached_media"] = [{"media_fbid": pid} for pid in post.photo_ids or ()]
        elif ctx.target.get("link"):
            fields["link"] = str(ctx.target["link"])
        body = await self._graph.call("POST", f"{page_id}/feed", token, creates=True, json=fields)
        post_id = str(body["id"])
        return kit.SentItem(post_id, public_url(post_id), {"kind": kind})

    async def _finish_video(
        self, page_id: str, token: str, post: PreparedPagePost, text: str
    ) -> kit.SentItem:
        kind, video_id = post.kind, str(post.video_id)
        fields: dict[str, Any] = {"upload_phase": "finish", "video_id": video_id}
        if kind == "reel":
            fields |= {"video_state": "PUBLISHED", "description": text}
        edge = "video_reels" if kind == "reel" else "video_stories"
        body = await self._graph.call("POST", f"{page_id}/{edge}", token, creates=True, json=fields)
        return self._video_item(kind, video_id, body.get("post_id"))

    @staticmethod
    def _video_item(kind: str, video_id: str, post_id: object) -> kit.SentItem:
        if kind == "reel":
            return kit.SentItem(
                video_id, f"https://www.facebook.com/reel/{video_id}", {"kind": kind}
            )
        remote = str(post_id or video_id)
        return kit.SentItem(remote, public_url(remote), {"kind": kind})

    # -- comments (contract section 10; the first comment too, queued at publish) ----------

    async def _comment_token(
        self, ctx: kit.AccountContext, post: kit.PublishedPost
    ) -> tuple[str, str]:
        page_id = str(post.target.get("pageId") or "")
        stored = await ctx.credentials.subaccount("page", page_id) if ctx.credentials else None
        token = str((stored or {}).get("access_token") or "")
        if not token:
            raise CommentRefused(MISSING_PERMISSION_MESSAGE, ErrorCode.MISSING_PERMISSION)
        return page_id, token

    async def send_comment(
        self, ctx: kit.AccountContext, post: kit.PublishedPost, comment: kit.CommentDraft
    ) -> str:
        _, token = await self._comment_token(ctx, post)
        node = comment.parent_platform_comment_id or post.remote_id
        return await self._post_comment(f"{node}/comments", token, comment.text)

    async def find_comment(
        self, ctx: kit.AccountContext, post: kit.PublishedPost, comment: kit.CommentDraft
    ) -> str | None:
        page_id, token = await self._comment_token(ctx, post)
        node = comment.parent_platform_comment_id or post.remote_id
        body = await self._graph.call(
            "GET",
            f"{node}/comments",
            token,
            refusal=comment_refusal,
            params={"fields": "id,message,from", "order": "reverse_chronological"},
        )
        for found in body.get("data") or []:
            author = str(((found.get("from") or {}).get("id")) or "")
            if author == page_id and str(found.get("message") or "") == comment.text:
                return str(found["id"])
        return None

    async def list_comments(
        self, ctx: kit.AccountContext, post: kit.PublishedPost, since: datetime | None
    ) -> Sequence[kit.RemoteComment] | kit.PostGone:
        """Every comment and reply (`filter=stream`), newest first, up to the paging bound."""
        page_id, token = await self._comment_token(ctx, post)
        params: dict[str, Any] = {
            "fields": "id,message,created_time,from,parent{id}",
            "filter": "stream",
            "order": "reverse_chronological",
            "limit": PAGE_SIZE,
        }
        if since is not None:
            params["since"] = int(since.timestamp())
        body = await self._read_comments(f"{post.remote_id}/comments", token, params)
        if isinstance(body, kit.PostGone):
            return body
        found = []
        for item in body.get("data") or []:
            parent = (item.get("parent") or {}).get("id")
            found.append(
                page_comment(str(item["id"]), str(parent) if parent else None, item, page_id)
            )
        return found

    # -- reconcile ---------------------------------------------------------------------------

    async def reconcile(
        self, ctx: kit.PublishContext, position: int, prepared: dict[str, Any]
    ) -> kit.SentItem | None:
        page_id, token = await self._page(ctx)
        return await self._find(
            ctx, position, page_id, token, kit.loaded(PreparedPagePost, prepared)
        )

    async def _find(
        self,
        ctx: kit.PublishContext,
        position: int,
        page_id: str,
        token: str,
        post: PreparedPagePost,
    ) -> kit.SentItem | None:
        """Whether the interrupted call made the post. A video is asked about by its upload
        session: a session Meta has not started publishing is finished now (one session makes
        one video, so this cannot double it). A feed post is looked for among the Page's
        recent posts by its text; a story cannot be found and stays unknown."""
        kind = post.kind
        if kind in ("reel", "video_story"):
            status = await self._status(token, str(post.video_id))
            phase = str((status.get("publishing_phase") or {}).get("status") or "")
            if phase == "not_started":
                return await self._finish_video(page_id, token, post, ctx.items[position].text)
            if phase in ("in_progress", "complete"):
                return self._video_item(kind, str(post.video_id), None)
            return None
        if kind not in ("feed", "photos"):
            return None
        body = await self._graph.call(
            "GET",
            f"{page_id}/feed",
            token,
            params={"fields": "id,message,created_time", "since": post.since},
        )
        text = ctx.items[position].text
        for post in body.get("data") or []:
            if isinstance(post, dict) and str(post.get("message") or "") == text:
                post_id = str(post["id"])
                return kit.SentItem(post_id, public_url(post_id), {"kind": kind})
        return None


def post_metrics(body: dict[str, Any]) -> kit.MetricsSnapshot:
    insights = insight_values(body.get("insights") or {})
    metrics = kit.counts(insights, POST_INSIGHTS) | reactions(
        insights.get("post_reactions_by_type_total")
    )
    comments = (body.get("comments") or {}).get("summary") or {}
    shares = body.get("shares") or {}
    raw: dict[str, Any] = dict(insights)
    if "total_count" in comments:
        raw["comments"] = {"total_count": comments["total_count"]}
        metrics |= kit.counts(comments, (("total_count", "commentsCount"),))
    if "count" in shares:
        raw["shares"] = dict(shares)
        metrics |= kit.counts(shares, (("count", "sharesCount"),))
    return kit.MetricsSnapshot(metrics, raw)


def reel_metrics(body: dict[str, Any]) -> kit.MetricsSnapshot:
    insights = insight_values(body.get("video_insights") or {})
    actions = insights.get("post_video_social_actions")
    actions = actions if isinstance(actions, dict) else {}
    metrics = (
        kit.counts(insights, REEL_INSIGHTS)
        | reactions(insights.get("post_video_likes_by_reaction_type"))
        | kit.counts(actions, (("COMMENT", "commentsCount"), ("SHARE", "sharesCount")))
    )
    return kit.MetricsSnapshot(metrics, insights)


RULES = kit.PlatformRules(
    name="facebook",
    content_platforms=("facebook",),
    text_limits=(kit.TextLimit(63_206, kit.Count.CODE_POINTS),),  # PR: 63,206 characters
    text_alternatives=("link",),  # a link post needs no text
    media=kit.MediaCount(0, None),  # PR: "1–N images"; no maximum documented
    # PN 5 (3rd-party): photos <= 10 MB; reels MP4/MOV 3-90 s; images or one video.
    files=kit.FileRules(
        video_types=frozenset({kit.MP4, kit.MOV}),
        max_image_bytes=10 * kit.MB,
        min_video_seconds=3,
        max_video_seconds=90,
    ),
    media_by_type=(("story", kit.MediaCount(1, 1)),),  # BR 3: a Story needs (one) media
    fields=(
        kit.FieldRule("pageId", kit.Kind.NUMERIC_ID, required=True),  # PR, BR 3
        # PR: reel, story; older clients send video (= reel).
        kit.FieldRule("mediaType", kit.Kind.ENUM, choices=("reel", "story", "video")),
        kit.FieldRule("link", kit.Kind.HTTP_URL),  # PR, BR 3: link-preview URL
        # PR, BR 3; contract section 10: not on stories (its length is a comment's,
        # checked against the platform's comment limit in services/posts.py).
        kit.FieldRule("firstComment", kit.Kind.STRING, not_on_stories=True),
    ),
)
"""What a post to facebook may carry; validation reads it through the registry."""


SPEC = PlatformSpec(
    name="facebook",
    label="Facebook Pages",
    build=FacebookPublisher.from_settings,
    rules=RULES,
    settings_prefix=META_SETTINGS,
    subaccount=Subaccount("page", target_field="pageId"),
    # platform-notes 5.1: 30 API-published reels per 24 h per Page (feed posts: no number).
    budgets=PlatformBudgets(account=Budget(30, DAY)),
    comments=CommentRules(kit.TextLimit(8000, kit.Count.CODE_POINTS)),  # contract section 10
)
