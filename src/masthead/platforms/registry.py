"""Which publishers this server has. A platform without one is refused at request time."""

from __future__ import annotations

from masthead.config import Settings
from masthead.platforms.base import Publisher
from masthead.platforms.bluesky import BlueskyPublisher
from masthead.platforms.tiktok import TikTokPublisher
from masthead.platforms.twitter import TwitterPublisher
from masthead.platforms.webhook import WebhookPublisher
from masthead.platforms.youtube import YouTubePublisher

AVAILABLE: frozenset[str] = frozenset(
    {
        WebhookPublisher.platform,
        TwitterPublisher.platform,
        BlueskyPublisher.platform,
        TikTokPublisher.platform,
        YouTubePublisher.platform,
    }
)


def build_publishers(settings: Settings) -> dict[str, Publisher]:
    return {
        WebhookPublisher.platform: WebhookPublisher(
            allow=settings.fetch_allow,
            timeout=settings.webhook_timeout_seconds,
            only_allowed=settings.fetch_only_allowed,
        ),
        TwitterPublisher.platform: TwitterPublisher(
            api_url=settings.x_api_url, app=settings.oauth_app(TwitterPublisher.platform)
        ),
        BlueskyPublisher.platform: BlueskyPublisher(
            service_url=settings.bluesky_service_url,
            plc_url=settings.bluesky_plc_url,
            allow=settings.fetch_allow,
            timeout=settings.bluesky_timeout_seconds,
        ),
        TikTokPublisher.platform: TikTokPublisher(
            api_url=settings.tiktok_api_url,
            app=settings.oauth_app(TikTokPublisher.platform),
            pull_prefixes=settings.tiktok_pull_prefixes,
            status_timeout=settings.tiktok_status_timeout_seconds,
        ),
        YouTubePublisher.platform: YouTubePublisher(
            api_url=settings.youtube_api_url,
            token_url=settings.youtube_token_url,
            app=settings.oauth_app(YouTubePublisher.platform),
        ),
    }
