"""Instagram (Graph API with Facebook Login): images, carousels, reels and stories; comments
and one level of replies.

Publishing is two steps (platform-notes 2.4): a media container, which Meta fills by fetching
Masthead's public media URL and which shows nowhere, then `media_publish` of that container.
`prepare` checks the publishing quota, creates the container (children first for a carousel)
and waits until Meta says FINISHED, re-creating it once when Meta says ERROR or EXPIRED. The
container id is stored with the sending mark, and a container is published at most once, so
a lost `media_publish` answer is settled by asking Meta about the container, never by
publishing another.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from masthead.domain.budgets import DAY, Budget, PlatformBudgets
from masthead.domain.comments import CommentRules
from masthead.platforms import kit
from masthead.platforms.meta import (
    META_SETTINGS,
    PAGE_SIZE,
    GraphPublisher,
    comment_time,
    insight_values,
    instagram_accounts,
    poll,
    user_credentials,
)
from masthead.platforms.spec import PlatformSpec

RECONCILE_WINDOW_SECONDS = 600
"""A published container's media is looked for among the account's media since then."""
QUOTA_FALLBACK_WAIT = 3600.0
"""When the quota is spent and Meta lists none of the posts that spent it, look again then."""
SETTLED = frozenset({"FINISHED", "ERROR", "EXPIRED", "PUBLISHED"})
METRICS_BATCH = 25
"""Posts per metrics call: Meta takes one media per insights request (a Graph batch request
would still count each media against the rate limit), so this only bounds one claim."""
INSIGHTS = {
    "views": "viewsCount",
    "reach": "reachCount",
    "likes": "likesCount",
    "comments": "commentsCount",
    "shares": "sharesCount",
    "saved": "savesCount",
    "total_interactions": "interactionsSum",
    "profile_visits": "profileVisitsCount",
    "follows": "followsCount",
    "ig_reels_avg_watch_time": "watchTimeMsAvg",
    "ig_reels_video_view_total_time": "viewTimeMsSum",
}
"""Media insights metrics (milliseconds for the two watch times) and the contract's names."""
PRODUCT_METRICS = {
    "FEED": "views,reach,likes,comments,shares,saved,total_interactions,profile_visits,follows",
    "REELS": (
        "views,reach,likes,comments,shares,saved,total_interactions,"
        "ig_reels_avg_watch_time,ig_reels_video_view_total_time"
    ),
    "STORY": "views,reach,shares,total_interactions,profile_visits,follows",
}
"""What Meta measures per `media_product_type`: asking a metric the type lacks is refused
(code 100) for the whole request, so the type is read first."""


def _timestamp(raw: object) -> float | None:
    """Meta's timestamps look like 2026-12-02T19:40:00+0000."""
    try:
        return datetime.strptime(str(raw), "%Y-%m-%dT%H:%M:%S%z").timestamp()
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class PreparedContainer:
    """What `prepare` hands to `send` and `reconcile`."""

    container: str
    """The FINISHED container, published at most once."""
    since: int
    """When sending began, less the reconcile window (Unix seconds)."""


class InstagramPublisher(GraphPublisher):
    platform: ClassVar[str] = "instagram"
    metrics_batch: int = METRICS_BATCH

    # -- accounts ----------------------------------------------------------------------------

    async def connect(self, credentials: dict[str, Any]) -> kit.ConnectedAccount:
        return (await self.connect_all(credentials))[0]

    async def connect_all(self, credentials: dict[str, Any]) -> tuple[kit.ConnectedAccount, ...]:
        """Every Instagram professional account linked to a Page the Facebook user manages;
        `masthead accounts add --access-token` and an OAuth connect store them all."""
        token = str((await user_credentials(self.oauth, credentials))["access_token"])
        found = instagram_accounts(await self._graph.pages(token))
        if not found:
            raise kit.Permanent(
                "None of the Facebook Pages this login manages has an Instagram professional "
                "account linked: link one in the Page's settings (Linked accounts), then "
                "connect again"
            )
        return found

    @staticmethod
    def _token(ctx: kit.AccountScope) -> str:
        token = str(ctx.account.credentials.get("access_token") or "")
        if not token:
            raise kit.Permanent("This Instagram account has no token: connect it again")
        return token

    # -- analytics ---------------------------------------------------------------------------

    async def fetch_metrics(
        self, ctx: kit.AccountContext, posts: Sequence[kit.PublishedPost]
    ) -> Mapping[str, kit.MetricsResult]:
        """Per media: its product type, then the insights that type has (two requests)."""
        token = self._token(ctx)

        async def read(post: kit.PublishedPost) -> kit.MetricsResult:
            media = await self._graph.read(
                post.remote_id, token, params={"fields": "media_product_type"}
            )
            product = str((media or {}).get("media_product_type") or "FEED")
            metric = PRODUCT_METRICS.get(product, PRODUCT_METRICS["FEED"])
            insights = None
            if media is not None:
                insights = await self._graph.read(
                    f"{post.remote_id}/insights", token, params={"metric": metric}
                )
            if insights is None:  # gone before, or between, the two requests
                return kit.PostGone("Post no longer exists on instagram")
            raw = insight_values(insights)
            return kit.MetricsSnapshot(
                kit.counts(raw, INSIGHTS.items()), {"media_product_type": product, **raw}
            )

        return await kit.each_post(posts, read)

    # -- prepare -----------------------------------------------------------------------------

    async def prepare(self, ctx: kit.PublishContext, position: int) -> dict[str, Any]:
        token = self._token(ctx)
        await self._check_quota(ctx, token)
        if ctx.media is None:
            raise kit.Permanent("This server cannot read media files for Instagram")
        media = ctx.media
        files = [await media.file(url) for url in ctx.items[position].media_urls]
        if not files:
            raise kit.Permanent("An Instagram post needs at least one image or video")
        cover = str(ctx.target.get("coverImageUrl") or "")
        cover_url = (await media.file(cover)).url if cover else None
        container = await self._ready(
            token,
            lambda: self._create(ctx, position, token, files, cover_url, media),
        )
        return kit.stored(PreparedContainer(container, int(time.time()) - RECONCILE_WINDOW_SECONDS))

    async def _check_quota(self, ctx: kit.PublishContext, token: str) -> None:
        """A spent quota (50 posts per moving 24 h, PN 2.4) waits for the window: the post
        stays queued until the oldest post in the window has aged out."""
        ig = ctx.account.external_id
        body = await self._graph.call(
            "GET",
            f"{ig}/content_publishing_limit",
            token,
            params={"fields": "quota_usage,config"},
        )
        rows = body.get("data") or [{}]
        usage = int(rows[0].get("quota_usage") or 0)
        config = rows[0].get("config") or {}
        total = int(config.get("quota_total") or 0)
        duration = float(config.get("quota_duration") or 86400)
        if not total or usage < total:
            return
        since = int(time.time() - duration)
        listed = await self._graph.call(
            "GET", f"{ig}/media", token, params={"fields": "timestamp", "since": since}
        )
        stamps = [_timestamp(m.get("timestamp")) for m in listed.get("data") or []]
        known = [stamp for stamp in stamps if stamp is not None]
        wait = min(known) + duration - time.time() if known else QUOTA_FALLBACK_WAIT
        raise kit.Retryable(
            f"Instagram's publishing limit is reached ({usage} of {total} posts in "
            f"{duration / 3600:g} hours); the post waits for the window",
            retry_after=max(1.0, wait),
        )

    async def _ready(self, token: str, create: Callable[[], Awaitable[str]]) -> str:
        """A FINISHED container; one that ends in ERROR or EXPIRED is made again once."""
        last = ""
        for _ in range(2):
            container = await create()
            state, detail = await self._wait(token, container)
            if state == "FINISHED":
                return container
            last = f"{state}{f': {detail}' if detail else ''}"
        raise kit.Permanent(f"Instagram could not process the media (container {last})")

    async def _wait(self, token: str, container: str) -> tuple[str, str]:
        detail: dict[str, str] = {}

        async def look() -> str:
            body = await self._graph.call(
                "GET", container, token, params={"fields": "status_code,status"}
            )
            detail["status"] = str(body.get("status") or "")
            return str(body.get("status_code") or "")

        state = await poll(
            look,
            done=SETTLED,
            first_wait=self._poll_seconds,
            limit=self._processing_limit,
            what=f"container {container}",
        )
        return state, detail.get("status", "")

    async def _create(
        self,
        ctx: kit.PublishContext,
        position: int,
        token: str,
        files: list[kit.MediaFile],
        cover_url: str | None,
        media: kit.MediaSource,
    ) -> str:
        target = ctx.target
        caption = ctx.items[position].text
        ig = ctx.account.external_id
        shared: dict[str, Any] = {}
        if target.get("collaborators"):
            shared["collaborators"] = list(target["collaborators"])
        if target.get("mediaType") == "story":
            fields = self._media_fields(files[0])
            fields["media_type"] = "STORIES"
        elif len(files) > 1:
            children = []
            for file in files:
                child = self._media_fields(file) | {"is_carousel_item": True}
                if file.is_video:
                    child["media_type"] = "VIDEO"
                children.append(await self._container(ig, token, child))
            for child_id in children:
                state, detail = await self._wait(token, child_id)
                if state != "FINISHED":
                    raise kit.Permanent(f"Instagram could not process a carousel item ({detail})")
            fields = {"media_type": "CAROUSEL", "children": children, "caption": caption}
            fields |= shared
        elif files[0].is_video:
            fields = self._media_fields(files[0]) | shared
            fields |= {"media_type": "REELS", "caption": caption}
            fields |= self._reel_fields(target, cover_url)
        else:
            fields = self._media_fields(files[0]) | shared | {"caption": caption}
        if target.get("altText") and "children" not in fields:
            fields["alt_text"] = str(target["altText"])
        return await self._container(ig, token, fields)

    @staticmethod
    def _media_fields(file: kit.MediaFile) -> dict[str, Any]:
        return {"video_url": file.url} if file.is_video else {"image_url": file.url}

    @staticmethod
    def _reel_fields(target: dict[str, Any], cover_url: str | None) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        if cover_url:
            fields["cover_url"] = cover_url
        if isinstance(target.get("shareToFeed"), bool):
            fields["share_to_feed"] = target["shareToFeed"]
        if target.get("audioName"):
            fields["audio_name"] = str(target["audioName"])
        trial = target.get("trial")
        if isinstance(trial, dict) and trial.get("graduationStrategy"):
            fields["trial_params"] = {"graduation_strategy": trial["graduationStrategy"]}
        return fields

    async def _container(self, ig: str, token: str, fields: dict[str, Any]) -> str:
        body = await self._graph.call("POST", f"{ig}/media", token, json=fields)
        return str(body["id"])

    # -- send and reconcile ------------------------------------------------------------------

    async def send(
        self, ctx: kit.PublishContext, position: int, prepared: dict[str, Any]
    ) -> kit.SentItem:
        token = self._token(ctx)
        container = kit.loaded(PreparedContainer, prepared).container
        try:
            body = await self._graph.call(
                "POST",
                f"{ctx.account.external_id}/media_publish",
                token,
                creates=True,
                json={"creation_id": container},
            )
        except kit.OutcomeUnknown as lost:
            try:
                state = await self._state(token, container)
            except kit.PublishError:
                raise lost from None
            if state == "FINISHED":  # still unpublished: Meta did not act
                raise kit.Retryable(f"{lost.message}; Instagram did not publish it") from None
            found = (
                await self._find(ctx, position, token, prepared) if state == "PUBLISHED" else None
            )
            if found is None:
                raise lost from None
            return found
        return await self._sent(ctx, token, str(body["id"]))

    async def reconcile(
        self, ctx: kit.PublishContext, position: int, prepared: dict[str, Any]
    ) -> kit.SentItem | None:
        """After a crash mid-publish: a container still FINISHED was not published, and is
        published now (a container publishes once, so this cannot double the post); one
        PUBLISHED is found among the account's media."""
        token = self._token(ctx)
        state = await self._state(token, kit.loaded(PreparedContainer, prepared).container)
        if state == "FINISHED":
            return await self.send(ctx, position, prepared)
        if state == "PUBLISHED":
            return await self._find(ctx, position, token, prepared)
        return None

    async def _state(self, token: str, container: str) -> str:
        body = await self._graph.call("GET", container, token, params={"fields": "status_code"})
        return str(body.get("status_code") or "")

    async def _find(
        self, ctx: kit.PublishContext, position: int, token: str, prepared: dict[str, Any]
    ) -> kit.SentItem | None:
        body = await self._graph.call(
            "GET",
            f"{ctx.account.external_id}/media",
            token,
            params={
                "fields": "id,caption,permalink,timestamp",
                "since": kit.loaded(PreparedContainer, prepared).since,
            },
        )
        caption = ctx.items[position].text
        for item in body.get("data") or []:
            if isinstance(item, dict) and str(item.get("caption") or "") == caption:
                return await self._sent(ctx, token, str(item["id"]), item.get("permalink"))
        return None

    async def _sent(
        self, ctx: kit.PublishContext, token: str, media_id: str, permalink: object = None
    ) -> kit.SentItem:
        """The published media with its permalink. The post is public already: when Meta
        does not say the permalink, the account's profile stands in rather than failing."""
        if not permalink:
            try:
                body = await self._graph.call(
                    "GET", media_id, token, params={"fields": "permalink"}
                )
                permalink = body.get("permalink")
            except kit.PublishError:
                permalink = None
        url = str(permalink or f"https://www.instagram.com/{ctx.account.username}/")
        return kit.SentItem(media_id, url)

    # -- comments (contract section 10) -------------------------------------------------------

    async def send_comment(
        self, ctx: kit.AccountContext, post: kit.PublishedPost, comment: kit.CommentDraft
    ) -> str:
        """A comment on the media, or a reply (`/replies` of a top-level comment)."""
        parent = comment.parent_platform_comment_id
        path = f"{parent}/replies" if parent else f"{post.remote_id}/comments"
        return await self._post_comment(path, self._token(ctx), comment.text)

    async def find_comment(
        self, ctx: kit.AccountContext, post: kit.PublishedPost, comment: kit.CommentDraft
    ) -> str | None:
        found = await self._comments(ctx, post)
        if isinstance(found, kit.PostGone):
            return None
        for item in found:
            if (
                item.is_author
                and item.text == comment.text
                and item.parent_platform_comment_id == comment.parent_platform_comment_id
            ):
                return item.platform_comment_id
        return None

    async def list_comments(
        self, ctx: kit.AccountContext, post: kit.PublishedPost, since: datetime | None
    ) -> Sequence[kit.RemoteComment] | kit.PostGone:
        """Instagram has no time filter on comments: every comment with its replies, up to
        the paging bound (the store keeps each once)."""
        return await self._comments(ctx, post)

    async def _comments(
        self, ctx: kit.AccountContext, post: kit.PublishedPost
    ) -> list[kit.RemoteComment] | kit.PostGone:
        fields = f"{COMMENT_FIELDS},replies{{{COMMENT_FIELDS}}}"
        params = {"fields": fields, "limit": PAGE_SIZE}
        body = await self._read_comments(f"{post.remote_id}/comments", self._token(ctx), params)
        if isinstance(body, kit.PostGone):
            return body
        me = ctx.account.external_id
        found: list[kit.RemoteComment] = []
        for item in body.get("data") or []:
            found.append(_remote(item, None, me))
            for reply in (item.get("replies") or {}).get("data") or []:
                found.append(_remote(reply, str(item["id"]), me))
        return found


COMMENT_FIELDS = "id,text,timestamp,username,from"


def _remote(item: dict[str, Any], parent: str | None, me: str) -> kit.RemoteComment:
    author = item.get("from") or {}
    author_id = str(author.get("id") or "") or None
    return kit.RemoteComment(
        platform_comment_id=str(item["id"]),
        parent_platform_comment_id=parent,
        text=str(item.get("text") or ""),
        created_at=comment_time(item.get("timestamp")),
        is_author=author_id == me,
        author_id=author_id,
        author_username=str(item.get("username") or author.get("username") or "") or None,
    )


RULES = kit.PlatformRules(
    name="instagram",
    content_platforms=("instagram",),
    text_limits=(kit.TextLimit(2200, kit.Count.CODE_POINTS),),  # PR, PN 2.4: caption 2,200
    max_hashtags=30,  # PR, PN 2.4: 30 hashtags (the 2025 5-hashtag cap is not in API docs)
    media=kit.MediaCount(1, 10),  # PR: media required; 1 image/video or a 2–10 carousel
    # PN 5.2 (3rd-party specs quoting Meta): JPEG only (PNG/WebP converted), <= 8 MB,
    # aspect 4:5-1.91:1 in the feed; reels MOV/MP4 3 s-15 min, <= 1 GB; carousels may mix.
    files=kit.FileRules(
        image_types=frozenset({kit.JPEG}),
        video_types=frozenset({kit.MP4, kit.MOV}),
        convertible=frozenset({kit.PNG, kit.WEBP}),
        max_image_bytes=8 * kit.MB,
        max_video_bytes=1024 * kit.MB,
        min_video_seconds=3,
        max_video_seconds=900,
        max_videos=None,
        mixed=True,
        image_aspect=(0.8, 1.91),
    ),
    # PN 5.1: stories take 9:16 video 3-90 s and any aspect of photo.
    files_by_type=(
        (
            "story",
            kit.FileRules(
                image_types=frozenset({kit.JPEG}),
                video_types=frozenset({kit.MP4, kit.MOV}),
                convertible=frozenset({kit.PNG, kit.WEBP}),
                max_image_bytes=8 * kit.MB,
                max_video_bytes=1024 * kit.MB,
                min_video_seconds=3,
                max_video_seconds=90,
            ),
        ),
    ),
    media_by_type=(("story", kit.MediaCount(1, 1)),),  # PR: story = 1 item
    fields=(
        kit.FieldRule("mediaType", kit.Kind.ENUM, choices=("reel", "story")),  # PR (default reel)
        kit.FieldRule("altText", kit.Kind.STRING, max_length=1000),  # PR, BR 3
        # PR, BR 3: at most 3 usernames, written without "@".
        kit.FieldRule("collaborators", kit.Kind.STRING_LIST, max_items=3, forbidden_chars="@"),
        kit.FieldRule("coverImageUrl", kit.Kind.HTTP_URL),  # PR, BR 3
        kit.boolean("shareToFeed"),  # PR, BR 3
        kit.FieldRule("audioName", kit.Kind.STRING),  # PR, BR 3
        # Contract section 10 (Blotato documents it; platform-rules lists only Facebook's):
        # posts, carousels and reels, not stories; its length is a comment's.
        kit.FieldRule("firstComment", kit.Kind.STRING, not_on_stories=True),
        kit.FieldRule(  # BR 3 (newer docs): trial reels
            "trial",
            kit.Kind.OBJECT,
            fields=(
                kit.FieldRule(
                    "graduationStrategy",
                    kit.Kind.ENUM,
                    required=True,
                    choices=("MANUAL", "SS_PERFORMANCE"),
                ),
            ),
        ),
    ),
)
"""What a post to instagram may carry; validation reads it through the registry."""


SPEC = PlatformSpec(
    name="instagram",
    label="Instagram",
    build=InstagramPublisher.from_settings,
    rules=RULES,
    settings_prefix=META_SETTINGS,
    # platform-notes 5.2: 50 API-published posts per 24 h per Instagram account.
    budgets=PlatformBudgets(account=Budget(50, DAY)),
    comments=CommentRules(kit.TextLimit(2200, kit.Count.CODE_POINTS)),  # contract section 10
)
