"""Which publishers this server has. A platform without one is refused at request time."""

from __future__ import annotations

from masthead.config import Settings
from masthead.platforms.base import Publisher
from masthead.platforms.bluesky import BlueskyPublisher
from masthead.platforms.facebook import FacebookPublisher
from masthead.platforms.instagram import InstagramPublisher
from masthead.platforms.linkedin import LinkedInPublisher
from masthead.platforms.pinterest import PinterestPublisher
from masthead.platforms.threads import ThreadsPublisher
from masthead.platforms.tiktok import TikTokPublisher
from masthead.platforms.twitter import TwitterPublisher
from masthead.platforms.webhook import WebhookPublisher
from masthead.platforms.youtube import YouTubePublisher

AVAILABLE: frozenset[str] = frozenset(
    {
        WebhookPublisher.platform,
        TwitterPublisher.platform,
        BlueskyPublisher.platform,
        FacebookPublisher.platform,
        InstagramPublisher.platform,
        ThreadsPublisher.platform,
        LinkedInPublisher.platform,
        PinterestPublisher.platform,
        TikTokPublisher.platform,
        YouTubePublisher.platform,
    }
)


def build_publishers(settings: Settings) -> dict[str, Publisher]:
    return {
        FacebookPublisher.platform: FacebookPublisher(
            api_url=settings.meta_api_url,
            app=settings.oauth_app(FacebookPublisher.platform),
            timeout=settings.meta_timeout_seconds,
            poll_seconds=settings.meta_poll_seconds,
            processing_limit=settings.meta_processing_limit_seconds,
            throttle_wait=settings.meta_throttle_seconds,
        ),
        InstagramPublisher.platform: InstagramPublisher(
            api_url=settings.meta_api_url,
            app=settings.oauth_app(InstagramPublisher.platform),
            timeout=settings.meta_timeout_seconds,
            poll_seconds=settings.meta_poll_seconds,
            processing_limit=settings.meta_processing_limit_seconds,
            throttle_wait=settings.meta_throttle_seconds,
        ),
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
        ThreadsPublisher.platform: ThreadsPublisher(
            api_url=settings.threads_api_url,
            app=settings.oauth_app(ThreadsPublisher.platform),
            timeout=settings.threads_timeout_seconds,
            poll_seconds=settings.threads_poll_seconds,
            processing_limit=settings.threads_processing_limit_seconds,
        ),
        LinkedInPublisher.platform: LinkedInPublisher(
            api_url=settings.linkedin_api_url,
            version=settings.linkedin_version,
            app=settings.oauth_app(LinkedInPublisher.platform),
            token_url=settings.linkedin_token_url,
            timeout=settings.linkedin_timeout_seconds,
        ),
        PinterestPublisher.platform: PinterestPublisher(
            api_url=settings.pinterest_api_url,
            app=settings.oauth_app(PinterestPublisher.platform),
            timeout=settings.pinterest_timeout_seconds,
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
