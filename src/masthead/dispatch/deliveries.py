"""The event delivery loop: claims due deliveries in batches and POSTs them, signed.

Its own loop and its own bound on requests in flight (`MASTHEAD_EVENT_DELIVERY_CONCURRENCY`),
beside the dispatcher's, so that a burst of events never holds back posts that are due. Any
worker process runs one; a delivery whose worker dies is sent again, with the same event id,
once its lease runs out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import aiohttp
import orjson
from cachetools import TTLCache
from sqlalchemy.engine import Connection

from masthead.config import Settings
from masthead.dispatch import retention
from masthead.dispatch.batches import WriteBatcher
from masthead.dispatch.leases import LeasedRows, drain
from masthead.domain.events import EXCERPT_BYTES, event_body, next_attempt
from masthead.metrics import EVENT_DELIVERIES
from masthead.net.guard import BlockedDestination
from masthead.net.session import GuardedSession
from masthead.platforms.webhook import SIGNATURE_HEADER, sign
from masthead.security import Secrets
from masthead.store import deliveries, events
from masthead.store.database import Database
from masthead.timeutil import utcnow

log = logging.getLogger(__name__)

EVENT_HEADER = "X-Masthead-Event"
EVENT_ID_HEADER = "X-Masthead-Event-Id"
MAX_IDLE_SLEEP = 30.0
HELD_BACK_SLEEP = 0.5
"""Deliveries are due but none claimable (held behind an earlier one of the same post that
another process is sending): look again after this unless woken sooner."""
SECRET_CACHE_SECONDS = 60.0
BURST_IN_FLIGHT = 32
"""Publishing comes first: while this process has at least this many posts in flight (a
burst of due posts), no delivery is claimed. A few long uploads stay below it, so they never
hold events back (bench part 7 measured a burst with and without events)."""
YIELD_SECONDS = 0.05


class Deliverer(LeasedRows[deliveries.ClaimedDelivery]):
    def __init__(
        self,
        db: Database,
        settings: Settings,
        secrets: Secrets,
        *,
        publishing: Callable[[], int] = lambda: 0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """`publishing` tells how many posts this process is publishing right now."""
        self._publishing = publishing
        self._secrets = secrets
        self._batch = settings.event_delivery_batch_size
        self._concurrency = settings.event_delivery_concurrency
        self._timeout = settings.webhook_timeout_seconds
        # A lease outlives the request it covers, or a slow answer would be sent twice.
        lease = max(settings.event_lease_seconds, settings.webhook_timeout_seconds + 1)
        super().__init__(
            db, deliveries.claim, kind="ev", lease=timedelta(seconds=lease), clock=clock
        )
        self._window = timedelta(hours=settings.event_retry_hours)
        self._retention = timedelta(days=settings.event_retention_days)
        self._base = settings.event_retry_base_seconds
        self._cap = settings.event_retry_max_seconds
        self._session = GuardedSession(
            allow=settings.fetch_allow,
            timeout=settings.webhook_timeout_seconds,
            only_allowed=settings.fetch_only_allowed,
            connections=self._concurrency,
        )
        self._inflight: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._purger: asyncio.Task[None] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._plain: TTLCache[str, str] = TTLCache(maxsize=10_000, ttl=SECRET_CACHE_SECONDS)
        self._settle: WriteBatcher[deliveries.Attempt, None] = WriteBatcher(
            db, self._settle_many, self.health
        )

    async def start(self) -> None:
        self._unsubscribe = events.subscribe(self.wake)
        await self._listen()
        self.health.started()
        self._task = asyncio.create_task(self._loop(), name="masthead-event-deliveries")
        self._purger = asyncio.create_task(
            retention.run_forever(self._db, self._retention, self._clock),
            name="masthead-event-retention",
        )

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming, let requests in flight finish for up to `timeout`, hand back the
        rest so another worker sends them at once."""
        self._stop_claiming()
        loops = [task for task in (self._task, self._purger) if task is not None]
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        await drain(self._inflight, timeout)
        if self._unsubscribe is not None:
            self._unsubscribe()
        await self._db.write(lambda c: deliveries.hand_back(c, owner=self.worker_id))
        await self._session.aclose()

    async def _listen(self) -> None:
        try:
            await self._db.listen(events.CHANNEL, self.wake)
        except Exception:
            log.exception("cannot LISTEN for events; polling every %ss", MAX_IDLE_SLEEP)

    async def _loop(self) -> None:
        while not self._stopping:
            if self._publishing() >= BURST_IN_FLIGHT:
                await asyncio.sleep(YIELD_SECONDS)
                continue
            self._wake.clear()
            free = self._concurrency - len(self._inflight)
            claimed: list[deliveries.ClaimedDelivery] = []
            # Claim when half the slots are free (or none is busy): a claim per finished
            # delivery would cost a statement each in a backlog.
            if free > 0 and (free * 2 >= self._concurrency or not self._inflight):
                claimed = await self._claim(self._clock(), min(free, self._batch))
                for delivery in claimed:
                    task = asyncio.create_task(self._deliver(delivery))
                    self._inflight.add(task)
                    task.add_done_callback(self._done)
                if len(claimed) == min(free, self._batch):
                    await asyncio.sleep(0)
                    continue
            await self._sleep(not self._inflight and not claimed)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._wake.set()

    async def _sleep(self, idle: bool) -> None:
        if idle:
            await self._listen()  # re-established here if the connection was lost
        next_due = deliveries.next_wakeup if idle else None
        await self._wait(next_due, longest=MAX_IDLE_SLEEP, shortest=HELD_BACK_SLEEP)

    def _secret(self, sealed: str) -> str:
        plain = self._plain.get(sealed)
        if plain is None:
            plain = self._plain[sealed] = self._secrets.decrypt(sealed)
        return plain

    async def _deliver(self, delivery: deliveries.ClaimedDelivery) -> None:
        body = orjson.dumps(
            event_body(
                delivery.event_id, delivery.event_type, delivery.event_created_at, delivery.data
            )
        )
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Masthead-Events/0.1",
            SIGNATURE_HEADER: sign(self._secret(delivery.sealed_secret), int(time.time()), body),
            EVENT_HEADER: delivery.event_type,
            EVENT_ID_HEADER: delivery.event_id,
        }
        code: int | None = None
        try:
            reply = await self._session.post(delivery.url, body, headers)
        except BlockedDestination as exc:
            excerpt = f"URL refused: {exc.reason}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            excerpt = f"No answer: {exc or type(exc).__name__}"
        else:
            code = reply.status
            excerpt = reply.body[:EXCERPT_BYTES].decode("utf-8", "ignore")
        delivered = code is not None and 200 <= code < 300
        now = self._clock()
        retry_at = None
        if not delivered:
            retry_at = next_attempt(
                attempts=delivery.attempts,
                now=now,
                window_start=delivery.retry_from,
                window=self._window,
                base=self._base,
                cap=self._cap,
            )
        result = "delivered" if delivered else "retry" if retry_at else "failed"
        EVENT_DELIVERIES.labels(result).inc()
        if not delivered:
            log.info(
                "event %s to subscription %s: %s (attempt %d)",
                delivery.event_id,
                delivery.subscription_id,
                code or excerpt,
                delivery.attempts,
            )
        await self._settle(
            deliveries.Attempt(
                delivery.id,
                delivery.subscription_id,
                delivery.retry_from,
                now,
                delivered,
                code,
                excerpt,
                retry_at,
            )
        )

    def _settle_many(self, conn: Connection, attempts: Sequence[deliveries.Attempt]) -> None:
        disabled = deliveries.settle(
            conn, owner=self.worker_id, attempts=attempts, window=self._window
        )
        for subscription_id in disabled:
            log.warning("webhook subscription %s switched off after failing", subscription_id)
