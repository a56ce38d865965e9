"""`masthead worker`: the dispatch engine alone in its process, until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

from masthead.config import Settings
from masthead.dispatch.analytics import Collector
from masthead.dispatch.comment_polls import CommentPoller
from masthead.dispatch.comments import CommentSender
from masthead.dispatch.deliveries import Deliverer
from masthead.dispatch.engine import Dispatcher
from masthead.heap import settle
from masthead.media.library import MediaLibrary
from masthead.platforms.base import Publisher
from masthead.platforms.registry import build_publishers
from masthead.security import Secrets
from masthead.store.database import Database
from masthead.store.writer import WriterStats

log = logging.getLogger(__name__)


async def run_worker(
    settings: Settings,
    on_started: Callable[[], Awaitable[None]] | None = None,
    publishers: dict[str, Publisher] | None = None,
) -> WriterStats:
    """Dispatch until a stop signal, then drain; returns the writer's commit counts.
    `on_started` runs once the worker is claiming (the benchmark times from it);
    `publishers` replaces the configured ones (the benchmark's zero-latency platform)."""
    db = Database(settings.sqlalchemy_url)
    await db.start()
    if publishers is None:
        publishers = build_publishers(settings)
    media = MediaLibrary(db, settings)
    secrets = Secrets(settings.secret_keys)
    dispatcher = Dispatcher(db, publishers, settings, secrets, media=media)
    deliverer = Deliverer(db, settings, secrets, publishing=dispatcher.in_flight)
    collector = Collector(db, publishers, settings, secrets, publishing=dispatcher.in_flight)
    commenter = CommentSender(db, publishers, settings, secrets)
    poller = CommentPoller(db, publishers, settings, secrets, publishing=dispatcher.in_flight)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await dispatcher.start()
        await deliverer.start()
        if settings.analytics_enabled:
            await collector.start()
        await commenter.start()
        await poller.start()
        settle()
        log.info("worker %s started", dispatcher.worker_id)
        if on_started is not None:
            await on_started()
        await stop.wait()
    finally:
        log.info("worker %s draining", dispatcher.worker_id)
        await dispatcher.stop()
        await deliverer.stop()
        await collector.stop()
        await commenter.stop()
        await poller.stop()
        for publisher in publishers.values():
            await publisher.aclose()
        await media.aclose()
        await db.close()
    return db.writer.stats
