"""The platform kit under one name: what a platform module builds on, read as `kit.Permanent`,
`kit.PlatformHttp`, `kit.TextLimit`. Each name lives in its own module (below); this one only
gathers them, so that a platform's imports say "the kit" once instead of listing it again.
"""

from __future__ import annotations

from masthead.domain.rules import (
    GIF as GIF,
)
from masthead.domain.rules import (
    JPEG as JPEG,
)
from masthead.domain.rules import (
    MB as MB,
)
from masthead.domain.rules import (
    MOV as MOV,
)
from masthead.domain.rules import (
    MP4 as MP4,
)
from masthead.domain.rules import (
    PNG as PNG,
)
from masthead.domain.rules import (
    WEBP as WEBP,
)
from masthead.domain.rules import (
    Count as Count,
)
from masthead.domain.rules import (
    FieldRule as FieldRule,
)
from masthead.domain.rules import (
    FileRules as FileRules,
)
from masthead.domain.rules import (
    Kind as Kind,
)
from masthead.domain.rules import (
    MediaCount as MediaCount,
)
from masthead.domain.rules import (
    PlatformRules as PlatformRules,
)
from masthead.domain.rules import (
    TextLimit as TextLimit,
)
from masthead.domain.rules import (
    UploadChunks as UploadChunks,
)
from masthead.domain.rules import (
    boolean as boolean,
)
from masthead.platforms.base import (
    AccountContext as AccountContext,
)
from masthead.platforms.base import (
    AccountDisconnected as AccountDisconnected,
)
from masthead.platforms.base import (
    AccountScope as AccountScope,
)
from masthead.platforms.base import (
    AnswerLost as AnswerLost,
)
from masthead.platforms.base import (
    CommentDraft as CommentDraft,
)
from masthead.platforms.base import (
    ConnectedAccount as ConnectedAccount,
)
from masthead.platforms.base import (
    ConnectedSubaccount as ConnectedSubaccount,
)
from masthead.platforms.base import (
    CredentialStore as CredentialStore,
)
from masthead.platforms.base import (
    MediaFile as MediaFile,
)
from masthead.platforms.base import (
    MediaSource as MediaSource,
)
from masthead.platforms.base import (
    Metric as Metric,
)
from masthead.platforms.base import (
    MetricsResult as MetricsResult,
)
from masthead.platforms.base import (
    MetricsSnapshot as MetricsSnapshot,
)
from masthead.platforms.base import (
    MetricsUnavailable as MetricsUnavailable,
)
from masthead.platforms.base import (
    NotSent as NotSent,
)
from masthead.platforms.base import (
    OutcomeUnknown as OutcomeUnknown,
)
from masthead.platforms.base import (
    Permanent as Permanent,
)
from masthead.platforms.base import (
    PostGone as PostGone,
)
from masthead.platforms.base import (
    PublishContext as PublishContext,
)
from masthead.platforms.base import (
    PublishedPost as PublishedPost,
)
from masthead.platforms.base import (
    Publisher as Publisher,
)
from masthead.platforms.base import (
    PublishError as PublishError,
)
from masthead.platforms.base import (
    RemoteComment as RemoteComment,
)
from masthead.platforms.base import (
    Retryable as Retryable,
)
from masthead.platforms.base import (
    SentItem as SentItem,
)
from masthead.platforms.http import (
    HttpPublisher as HttpPublisher,
)
from masthead.platforms.http import (
    PlatformHttp as PlatformHttp,
)
from masthead.platforms.http import (
    Stale as Stale,
)
from masthead.platforms.http import (
    bearer as bearer,
)
from masthead.platforms.http import (
    first_words as first_words,
)
from masthead.platforms.http import (
    given_token as given_token,
)
from masthead.platforms.http import (
    json_object as json_object,
)
from masthead.platforms.http import (
    new_client as new_client,
)
from masthead.platforms.http import (
    refusal as refusal,
)
from masthead.platforms.http import (
    retry_after as retry_after,
)
from masthead.platforms.metrics import (
    as_count as as_count,
)
from masthead.platforms.metrics import (
    as_ratio as as_ratio,
)
from masthead.platforms.metrics import (
    chunked as chunked,
)
from masthead.platforms.metrics import (
    counts as counts,
)
from masthead.platforms.metrics import (
    each_post as each_post,
)
from masthead.platforms.oauth import (
    AppOAuth as AppOAuth,
)
from masthead.platforms.oauth import (
    GrantOAuth as GrantOAuth,
)
from masthead.platforms.oauth import (
    OAuthCredentials as OAuthCredentials,
)
from masthead.platforms.oauth import (
    OAuthProvider as OAuthProvider,
)
from masthead.platforms.oauth import (
    authorize_url as authorize_url,
)
from masthead.platforms.oauth import (
    code_grant as code_grant,
)
from masthead.platforms.oauth import (
    credentials_from_token_response as credentials_from_token_response,
)
from masthead.platforms.oauth import (
    exchanged_credentials as exchanged_credentials,
)
from masthead.platforms.oauth import (
    post_token as post_token,
)
from masthead.platforms.oauth import (
    refresh_grant as refresh_grant,
)
from masthead.platforms.oauth import (
    refreshed_credentials as refreshed_credentials,
)
from masthead.platforms.oauth import (
    with_client as with_client,
)
from masthead.platforms.processing import (
    Processing as Processing,
)
from masthead.platforms.processing import (
    until_processed as until_processed,
)
from masthead.platforms.seams import (
    StoredCredentials as StoredCredentials,
)
from masthead.platforms.seams import (
    loaded as loaded,
)
from masthead.platforms.seams import (
    stored as stored,
)
from masthead.platforms.settle import (
    answer_or_none as answer_or_none,
)
from masthead.platforms.settle import (
    found_or_unknown as found_or_unknown,
)
from masthead.platforms.settle import (
    sent_or_found as sent_or_found,
)
from masthead.platforms.tokens import (
    RefreshTokenSpent as RefreshTokenSpent,
)
from masthead.platforms.tokens import (
    rotated_credentials as rotated_credentials,
)
from masthead.platforms.tokens import (
    store_of as store_of,
)
from masthead.platforms.uploads import (
    chunks_from as chunks_from,
)
