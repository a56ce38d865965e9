"""`masthead worker`: the dispatch engine alone in its process, until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal

from masthead.config import Settings
from masthead.dispatch.engine import Dispatcher
from masthead.platforms.registry import build_publishers
from masthead.security import Secrets
from masthead.store.database import Database

log = logging.getLogger(__name__)


async def run_worker(settings: Settings) -> None:
    db = Database(settings.sqlalchemy_url)
    await db.start()
    publishers = build_publishers(settings)
    dispatcher = Dispatcher(db, publishers, settings, Secrets(settings.secret_keys))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await dispatcher.start()
    log.info("worker %s started", dispatcher.worker_id)
    try:
        await stop.wait()
    finally:
        log.info("worker %s draining", dispatcher.worker_id)
        await dispatcher.stop()
        for publisher in publishers.values():
            await publisher.aclose()
        await db.close()
