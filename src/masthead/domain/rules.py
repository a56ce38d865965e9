"""What a target accepts, as data: the machinery of `PlatformRules`, every number as a value.

Each platform's own `PlatformRules` lives in its module (`platforms/<name>.py`, `RULES`, on its
`SPEC`); the registry gathers them and the services pass that table to validation
(`validation.py`), which never hard-codes a limit and never imports the platforms. Each value
names its source: `platform-rules.md` (PR), `platform-notes.md` (PN) or `blotato-research.md`
section 3 (BR), all in `shared/spec/`. Text, counts and target fields are checked from the JSON
alone; `FileRules` are checked once the media pipeline knows each file's type, size, dimensions
and duration (domain/media.py).
"""

from __future__ import annotations

from collections.abc import Mapping
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
JPEG, PNG, GIF, WEBP = "image/jpeg", "image/png", "image/gif", "image/webp"
MP4, MOV, WEBM = "video/mp4", "video/quicktime", "video/webm"
ALL_IMAGES = frozenset({JPEG, PNG, GIF, WEBP})
ALL_VIDEOS = frozenset({MP4, MOV, WEBM})


@dataclass(frozen=True, slots=True)
class FileRules:
    """What a target accepts of the files themselves (sniffed types, bytes, seconds).

    `convertible` images are accepted because Masthead converts them once to `convert_to`
    before publishing (e.g. PNG to JPEG for Instagram); `reencode_oversize` images above
    `max_image_bytes` are re-encoded as JPEG under the limit instead of being refused.
    """

    image_types: frozenset[str] = ALL_IMAGES
    video_types: frozenset[str] = ALL_VIDEOS
    convertible: frozenset[str] = frozenset()
    convert_to: str = JPEG
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


def boolean(name: str, *, required: bool = False) -> FieldRule:
    return FieldRule(name, Kind.BOOLEAN, required=required)


RulesTable = Mapping[str, PlatformRules]
"""The rules of every target type, keyed by `target.targetType` (built by the registry)."""


def thread_platforms(table: RulesTable) -> tuple[str, ...]:
    """Targets that accept `additionalPosts`."""
    return tuple(name for name, rules in table.items() if rules.threads)


@dataclass(frozen=True, slots=True)
class UploadChunks:
    """How a platform wants a video cut for a chunked upload."""

    minimum: int  # every chunk but the last is at least this
    maximum: int  # and at most this
    last_maximum: int  # the last chunk takes the remainder, up to this
    max_count: int
