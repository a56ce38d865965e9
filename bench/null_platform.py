"""A zero-latency platform inside the worker process: the engine's own cost, nothing else.

It stands in for the webhook publisher (same platform name, so the seeded posts are unchanged)
and answers each send at once, recording when and for which post, in the receiver's file
format so that part 2 reads both the same way. With no network and no peer process, what the
run measures is claiming, marking, recording and finishing: the 3-second goal of issue #7.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, ClassVar

from masthead.platforms.base import PublishContext, Publisher, SentItem


class NullPublisher(Publisher):
    platform: ClassVar[str] = "webhook"

    def __init__(self, out: Path) -> None:
        self._out = out
        self._deliveries: list[tuple[float, str]] = []

    async def send(self, ctx: PublishContext, position: int, prepared: dict[str, Any]) -> SentItem:
        self._deliveries.append((time.time(), ctx.post_id))
        return SentItem(remote_id=ctx.post_id, public_url=f"null://{ctx.post_id}")

    async def aclose(self) -> None:
        record = {"deliveries": self._deliveries, "connections": 0}
        self._out.write_text(json.dumps(record))
