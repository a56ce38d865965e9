"""What each target accepts, as data: one `PlatformRules` per target, every number in one place.

Validation (`validation.py`) reads these tables and never hard-codes a limit, so when a platform
changes a number, one line changes here. Each value names its source: `platform-rules.md` (PR),
`platform-notes.md` (PN) or `blotato-research.md` section 3 (BR), all in `shared/spec/`.
Text, counts and target fields are checked from the JSON alone; `FileRules` are checked once
the media pipeline knows each file's type, size, dimensions and duration (domain/media.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Count(StrEnum):
    """How a platform measures text; the same string has a different length on each."""

    X_WEIGHTED = "x_weighted"  # twitter-text v3: URLs 23, most CJK and emoji 2, NFC first
    GRAPHEMES = "graphemes"  # user-perceived characters (Unicode extended grapheme clusters)
    CODE_POINTS = "code_points"  # Unicode code points, the plain meaning of "characters"
    UTF8_BYTES = "utf8_bytes"  # bytes once encoded as UTF-8
    EMOJI_AS_BYTES = "emoji_as_bytes"  # graphemes, but an emoji counts its UTF-8 bytes (Threads)


@dataclass(frozen=True, slots=True)
class TextLimit:
    """One ceiling on the text of every post of a thread."""

    maximum: int
    count: Count


@dataclass(frozen=True, slots=True)
class MediaCount:
    """How many `mediaUrls` one post may hold (`maximum=None`: no documented ceiling)."""

    minimum: int = 0
    maximum: int | None = None


MB = 1024 * 1024
_JPEG, _PNG, _GIF, _WEBP = "image/jpeg", "image/png", "image/gif", "image/webp"
_MP4, _MOV, _WEBM = "video/mp4", "video/quicktime", "video/webm"
_ALL_IMAGES = frozenset({_JPEG, _PNG, _GIF, _WEBP})
_ALL_VIDEOS = frozenset({_MP4, _MOV, _WEBM})


@dataclass(frozen=True, slots=True)
class FileRules:
    """What a target accepts of the files themselves (sniffed types, bytes, seconds).

    `convertible` images are accepted because Masthead converts them once to `convert_to`
    before publishing (e.g. PNG to JPEG for Instagram); `reencode_oversize` images above
    `max_image_bytes` are re-encoded as JPEG under the limit instead of being refused.
    """

    image_types: frozenset[str] = _ALL_IMAGES
    video_types: frozenset[str] = _ALL_VIDEOS
    convertible: frozenset[str] = frozenset()
    convert_to: str = _JPEG
    reencode_oversize: bool = False
    max_image_bytes: int | None = None
    max_gif_bytes: int | None = None
    max_video_bytes: int | None = None
    min_video_seconds: float | None = None
    max_video_seconds: float | None = None
    max_videos: int | None = 1
    mixed: bool = False  # images and a video in the same post
    gif_alone: bool = False  # an animated GIF must be the post's only file
    image_aspect: tuple[float, float] | None = None  # width/height, inclusive bounds


class Kind(StrEnum):
    """The JSON shape (and checks) of one target field."""

    STRING = "string"
    BOOLEAN = "boolean"  # a real JSON true/false, never "true"
    ENUM = "enum"  # one of `choices`, exact spelling
    NUMERIC_ID = "numeric_id"  # page and board ids: a string of digits (^[0-9]+$, n8n node)
    HTTP_URL = "http_url"  # an http(s) URL; "" means "none" when the field is optional
    WEBHOOK_URL = "webhook_url"  # http(s), no credentials, no literal private address
    INTEGER = "integer"  # a JSON integer (not a boolean), at least `minimum`
    MEDIA_INDEX = "media_index"  # an integer index into the post's `mediaUrls`
    STRING_LIST = "string_list"  # a list of non-empty strings, at most `max_items`
    OBJECT = "object"  # a nested object whose own fields are `fields`


@dataclass(frozen=True, slots=True)
class FieldRule:
    """One known `target` field. Fields not listed are kept as sent (forward compatibility)."""

    name: str
    kind: Kind
    required: bool = False
    choices: tuple[str, ...] = ()
    non_blank: bool = False  # "" and whitespace-only are refused
    max_length: int | None = None  # in code points
    forbidden_chars: str = ""  # for STRING, and for each item of a STRING_LIST
    max_items: int | None = None
    minimum: int = 0
    fields: tuple[FieldRule, ...] = ()
    not_on_stories: bool = False  # refused when `target.mediaType` is "story"


@dataclass(frozen=True, slots=True)
class PlatformRules:
    """Everything request-time validation knows about one `target.targetType`."""

    name: str
    content_platforms: tuple[str, ...]  # accepted values of `content.platform`
    text_limits: tuple[TextLimit, ...] = ()
    text_forbidden_chars: str = ""
    # A post with neither text nor media (nor one of `text_alternatives`) publishes nothing.
    text_or_media_required: bool = True
    text_alternatives: tuple[str, ...] = ()  # target fields that can stand in for text
    max_hashtags: int | None = None
    max_links: int | None = None  # distinct links: with http(s):// or starting www.
    media: MediaCount = MediaCount()
    # Stricter media counts for some `target.mediaType` values (a story is one item).
    media_by_type: tuple[tuple[str, MediaCount], ...] = ()
    threads: bool = False  # whether `content.additionalPosts` is accepted
    fields: tuple[FieldRule, ...] = ()
    files: FileRules = FileRules()
    files_by_type: tuple[tuple[str, FileRules], ...] = ()  # per `target.mediaType` (stories)

    def files_for(self, media_type: object) -> FileRules:
        for name, files in self.files_by_type:
            if media_type == name:
                return files
        return self.files

    def media_for(self, media_type: object) -> MediaCount:
        """The media count that applies, given the target's `mediaType` (if any)."""
        for name, count in self.media_by_type:
            if media_type == name:
                return count
        return self.media

    def field_rule(self, name: str) -> FieldRule | None:
        return next((rule for rule in self.fields if rule.name == name), None)


def _bool(name: str, *, required: bool = False) -> FieldRule:
    return FieldRule(name, Kind.BOOLEAN, required=required)


RULES: dict[str, PlatformRules] = {
    "twitter": PlatformRules(
        name="twitter",
        content_platforms=("twitter",),
        # PR + specs/x/twitter-text/config/v3.json: maxWeightedTweetLength 280, URLs 23.
        text_limits=(TextLimit(280, Count.X_WEIGHTED),),
        # PR, PN 1.3: up to 4 photos, or 1 GIF, or 1 video (types unknown until download).
        media=MediaCount(0, 4),
        # PN 1.3 (X docs): image <= 5 MB, GIF <= 15 MB, video <= 512 MB and 0.5-140 s.
        files=FileRules(
            video_types=frozenset({_MP4, _MOV}),
            max_image_bytes=5 * MB,
            max_gif_bytes=15 * MB,
            max_video_bytes=512 * MB,
            min_video_seconds=0.5,
            max_video_seconds=140,
            gif_alone=True,
        ),
        threads=True,  # PR: additionalPosts for twitter, bluesky, threads
    ),
    "bluesky": PlatformRules(
        name="bluesky",
        content_platforms=("bluesky",),
        # PR, PN 4.3 (lexicon app.bsky.feed.post text): maxGraphemes 300, maxLength 3000 bytes.
        text_limits=(TextLimit(300, Count.GRAPHEMES), TextLimit(3000, Count.UTF8_BYTES)),
        media=MediaCount(0, 4),  # PR, PN 4.3: embed.images holds at most 4 (or 1 video)
        # PN 4.3 (lexicon): image blobs <= 2,000,000 bytes (larger ones are re-encoded),
        # video/mp4 <= 300 MB.
        files=FileRules(
            video_types=frozenset({_MP4}),
            convertible=frozenset({_WEBP}),
            reencode_oversize=True,
            max_image_bytes=2_000_000,
            max_video_bytes=300 * MB,
        ),
        threads=True,
        # Ours (as Blotato's instagram/pinterest altText): the alt text of every image.
        fields=(FieldRule("altText", Kind.STRING),),
    ),
    "threads": PlatformRules(
        name="threads",
        content_platforms=("threads",),
        # PR, PN 2.5: 500 characters, "Emojis are counted as the number of UTF-8 bytes".
        text_limits=(TextLimit(500, Count.EMOJI_AS_BYTES),),
        max_links=5,  # PN 2.5 (3rd-party): at most 5 links (distinct URLs, www. ones too)
        media=MediaCount(0, 1),  # PR, BR 3: one image or one video per post
        # PN 6 (3rd-party specs): image JPEG/PNG <= 8 MB, video MOV/MP4 <= 1 GB and <= 5 min.
        files=FileRules(
            image_types=frozenset({_JPEG, _PNG}),
            video_types=frozenset({_MP4, _MOV}),
            convertible=frozenset({_WEBP, _GIF}),
            max_image_bytes=8 * MB,
            max_video_bytes=1024 * MB,
            max_video_seconds=300,
        ),
        threads=True,
        fields=(
            # PR, BR 3: the three values Blotato documents.
            FieldRule(
                "replyControl",
                Kind.ENUM,
                choices=("everyone", "accounts_you_follow", "mentioned_only"),
            ),
        ),
    ),
    "linkedin": PlatformRules(
        name="linkedin",
        content_platforms=("linkedin",),
        text_limits=(TextLimit(3000, Count.CODE_POINTS),),  # PR, PN 3.2: commentary ≤ 3000
        media=MediaCount(0, None),  # PR: text, 1 image, 1 video or several images; no max given
        # PN 8 (3rd-party): images JPG/GIF/PNG; video MP4 3 s-30 min, <= 500 MB.
        files=FileRules(
            image_types=frozenset({_JPEG, _PNG, _GIF}),
            video_types=frozenset({_MP4}),
            convertible=frozenset({_WEBP}),
            max_video_bytes=500 * MB,
            min_video_seconds=3,
            max_video_seconds=1800,
        ),
        fields=(FieldRule("pageId", Kind.NUMERIC_ID),),  # PR: optional organization page
    ),
    "facebook": PlatformRules(
        name="facebook",
        content_platforms=("facebook",),
        text_limits=(TextLimit(63_206, Count.CODE_POINTS),),  # PR: 63,206 characters
        text_alternatives=("link",),  # a link post needs no text
        media=MediaCount(0, None),  # PR: "1–N images"; no maximum documented
        # PN 5 (3rd-party): photos <= 10 MB; reels MP4/MOV 3-90 s; images or one video.
        files=FileRules(
            video_types=frozenset({_MP4, _MOV}),
            max_image_bytes=10 * MB,
            min_video_seconds=3,
            max_video_seconds=90,
        ),
        media_by_type=(("story", MediaCount(1, 1)),),  # BR 3: a Story needs (one) media
        fields=(
            FieldRule("pageId", Kind.NUMERIC_ID, required=True),  # PR, BR 3
            # PR: reel, story; older clients send video (= reel).
            FieldRule("mediaType", Kind.ENUM, choices=("reel", "story", "video")),
            FieldRule("link", Kind.HTTP_URL),  # PR, BR 3: link-preview URL
            # PR, BR 3; contract section 10: not on stories (its length is a comment's,
            # checked against the platform's comment limit in services/posts.py).
            FieldRule("firstComment", Kind.STRING, not_on_stories=True),
        ),
    ),
    "instagram": PlatformRules(
        name="instagram",
        content_platforms=("instagram",),
        text_limits=(TextLimit(2200, Count.CODE_POINTS),),  # PR, PN 2.4: caption 2,200
        max_hashtags=30,  # PR, PN 2.4: 30 hashtags (the 2025 5-hashtag cap is not in API docs)
        media=MediaCount(1, 10),  # PR: media required; 1 image/video or a 2–10 carousel
        # PN 5.2 (3rd-party specs quoting Meta): JPEG only (PNG/WebP converted), <= 8 MB,
        # aspect 4:5-1.91:1 in the feed; reels MOV/MP4 3 s-15 min, <= 1 GB; carousels may mix.
        files=FileRules(
            image_types=frozenset({_JPEG}),
            video_types=frozenset({_MP4, _MOV}),
            convertible=frozenset({_PNG, _WEBP}),
            max_image_bytes=8 * MB,
            max_video_bytes=1024 * MB,
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
                FileRules(
                    image_types=frozenset({_JPEG}),
                    video_types=frozenset({_MP4, _MOV}),
                    convertible=frozenset({_PNG, _WEBP}),
                    max_image_bytes=8 * MB,
                    max_video_bytes=1024 * MB,
                    min_video_seconds=3,
                    max_video_seconds=90,
                ),
            ),
        ),
        media_by_type=(("story", MediaCount(1, 1)),),  # PR: story = 1 item
        fields=(
            FieldRule("mediaType", Kind.ENUM, choices=("reel", "story")),  # PR (default reel)
            FieldRule("altText", Kind.STRING, max_length=1000),  # PR, BR 3
            # PR, BR 3: at most 3 usernames, written without "@".
            FieldRule("collaborators", Kind.STRING_LIST, max_items=3, forbidden_chars="@"),
            FieldRule("coverImageUrl", Kind.HTTP_URL),  # PR, BR 3
            _bool("shareToFeed"),  # PR, BR 3
            FieldRule("audioName", Kind.STRING),  # PR, BR 3
            # Contract section 10 (Blotato documents it; platform-rules lists only Facebook's):
            # posts, carousels and reels, not stories; its length is a comment's.
            FieldRule("firstComment", Kind.STRING, not_on_stories=True),
            FieldRule(  # BR 3 (newer docs): trial reels
                "trial",
                Kind.OBJECT,
                fields=(
                    FieldRule(
                        "graduationStrategy",
                        Kind.ENUM,
                        required=True,
                        choices=("MANUAL", "SS_PERFORMANCE"),
                    ),
                ),
            ),
        ),
    ),
    "tiktok": PlatformRules(
        name="tiktok",
        content_platforms=("tiktok",),
        text_limits=(TextLimit(2200, Count.CODE_POINTS),),  # PR, BR 3: caption 2,200
        media=MediaCount(1, 35),  # PR: media required; 1 video or 1–35 photos
        # PN 9: photos JPEG/WebP only (PNG converted), <= 20 MB; video up to 4 GB (the
        # creator's maximum duration is checked at publish time from creator_info).
        files=FileRules(
            image_types=frozenset({_JPEG, _WEBP}),
            convertible=frozenset({_PNG}),
            max_image_bytes=20 * MB,
            max_video_bytes=4096 * MB,
        ),
        fields=(
            # PR, BR 3: all seven are required.
            FieldRule(
                "privacyLevel",
                Kind.ENUM,
                required=True,
                choices=(
                    "SELF_ONLY",
                    "PUBLIC_TO_EVERYONE",
                    "MUTUAL_FOLLOW_FRIENDS",
                    "FOLLOWER_OF_CREATOR",
                ),
            ),
            _bool("disabledComments", required=True),
            _bool("disabledDuet", required=True),
            _bool("disabledStitch", required=True),
            _bool("isBrandedContent", required=True),
            _bool("isYourBrand", required=True),
            _bool("isAiGenerated", required=True),
            FieldRule("title", Kind.STRING, max_length=90),  # PR, BR 3: photo posts ≤ 90
            _bool("autoAddMusic"),
            _bool("isDraft"),
            FieldRule("imageCoverIndex", Kind.MEDIA_INDEX),  # BR 3: 0-based, carousels
            FieldRule("videoCoverTimestamp", Kind.INTEGER),  # BR 3: milliseconds
        ),
    ),
    "pinterest": PlatformRules(
        name="pinterest",
        content_platforms=("pinterest",),
        text_limits=(TextLimit(800, Count.CODE_POINTS),),  # PR, PN 7: description ≤ 800
        media=MediaCount(1, 5),  # PR, PN 7: 1 image, 1 video, or 2–5 images
        # PN 7: image_url pins take JPEG/PNG; video through /v5/media.
        files=FileRules(
            image_types=frozenset({_JPEG, _PNG}),
            video_types=frozenset({_MP4, _MOV}),
            convertible=frozenset({_WEBP, _GIF}),
            max_image_bytes=20 * MB,
        ),
        fields=(
            FieldRule("boardId", Kind.NUMERIC_ID, required=True),  # PR; PN 7 board_id ^\d+$
            FieldRule("title", Kind.STRING, max_length=100),  # PR, PN 7
            FieldRule("altText", Kind.STRING, max_length=500),  # PR, PN 7
            FieldRule("link", Kind.HTTP_URL, max_length=2048),  # PR, PN 7
        ),
    ),
    "youtube": PlatformRules(
        name="youtube",
        content_platforms=("youtube",),
        # PR, BR 3 (fn2 client): the description is ≤ 5000 bytes, without < or >.
        text_limits=(TextLimit(5000, Count.UTF8_BYTES),),
        text_forbidden_chars="<>",
        media=MediaCount(1, 1),  # PR: exactly 1 video
        # PR: exactly one video; YouTube takes MP4, MOV and WebM.
        files=FileRules(image_types=frozenset(), max_videos=1),
        fields=(
            # PR, BR 3: title 1–100 characters, no < or >.
            FieldRule(
                "title",
                Kind.STRING,
                required=True,
                non_blank=True,
                max_length=100,
                forbidden_chars="<>",
            ),
            FieldRule(
                "privacyStatus",
                Kind.ENUM,
                required=True,
                choices=("private", "public", "unlisted"),
            ),
            _bool("shouldNotifySubscribers", required=True),
            _bool("isMadeForKids"),
            _bool("containsSyntheticMedia"),
            FieldRule("thumbnailUrl", Kind.HTTP_URL),  # BR 3 (newer docs)
            FieldRule("playlistIds", Kind.STRING_LIST),  # BR 3: maximum NOT FOUND
        ),
    ),
    "webhook": PlatformRules(
        name="webhook",
        # Contract section 2: the webhook target pairs with "other"; "webhook" is accepted too.
        content_platforms=("other", "webhook"),
        text_or_media_required=False,  # PR: any content; the receiver decides
        media=MediaCount(0, None),  # PR: any
        # The receiver decides: any accepted file, any number.
        files=FileRules(max_videos=None, mixed=True),
        fields=(FieldRule("url", Kind.WEBHOOK_URL, required=True),),  # PR, contract section 4
    ),
}
"""The rules of every target type, keyed by `target.targetType`."""

THREAD_PLATFORMS: tuple[str, ...] = tuple(name for name, rules in RULES.items() if rules.threads)
"""Targets that accept `additionalPosts` (twitter, bluesky, threads)."""


@dataclass(frozen=True, slots=True)
class UploadChunks:
    """How a platform wants a video cut for a chunked upload."""

    minimum: int  # every chunk but the last is at least this
    maximum: int  # and at most this
    last_maximum: int  # the last chunk takes the remainder, up to this
    max_count: int


TIKTOK_CHUNKS = UploadChunks(minimum=5 * MB, maximum=64 * MB, last_maximum=128 * MB, max_count=1000)
"""PN 5 (TikTok media transfer guide): chunks 5-64 MB, the last up to 128 MB, files under 5 MB
in one chunk, 1-1000 chunks, total_chunk_count = floor(video_size / chunk_size)."""

YOUTUBE_CHUNK_MULTIPLE = 256 * 1024
"""PN 6: resumable upload chunks (all but the last) are multiples of 256 KiB."""

YOUTUBE_QUOTA_TIMEZONE = "America/Los_Angeles"
"""PN 6: the YouTube Data API quota day ends at midnight Pacific time."""
