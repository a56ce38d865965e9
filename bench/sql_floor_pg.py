"""Part 2's database baseline on PostgreSQL: the writes that dispatching N due posts needs
(the claim, the sending mark, the answer and the outcome) in plain SQL through asyncpg, the
driver Masthead uses, on a database seeded like part 2's, with Masthead's batch size and
its commits: the claim (`FOR UPDATE SKIP LOCKED`), then the mark, then the answer with the
outcome, each its own durable transaction before the next step. No engine, no SQLAlchemy, no
HTTP: the burst's physical limit on this machine and server at that moment.

Run as `python -m bench.sql_floor_pg --url URL --batch B`; prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from datetime import UTC, datetime
from typing import Any

import asyncpg

from bench.sql_floor import summary

FAR_FUTURE = datetime(9999, 12, 31, tzinfo=UTC)
"""The claim's due bound and lease: every seeded post is due by then."""
_CLAIM = """
UPDATE posts SET state = 'in-progress', lease_owner = 'floor', lease_until = $1,
       attempt = attempt + 1, updated_at = $2
WHERE id IN (SELECT id FROM posts
             WHERE due_at <= $1 AND state IN ('scheduled', 'in-progress')
                   AND (lease_until IS NULL OR lease_until < $2)
             ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED)
RETURNING id
"""
_MARK = """
UPDATE posts SET started_at = coalesce(started_at, $2), updated_at = $2
WHERE id = $1 AND lease_owner = 'floor'
"""
_ITEM = """
INSERT INTO post_items (post_id, position, state, sending_at) VALUES ($1, 0, 'sending', $2)
"""
_SENT = """
UPDATE post_items SET state = 'sent', remote_id = $1, sent_at = $2
WHERE post_id = $1 AND position = 0
"""
_OUTCOME = """
UPDATE posts SET state = 'published', due_at = NULL, lease_owner = NULL, lease_until = NULL,
       finished_at = $2, updated_at = $2
WHERE id = $1
"""


async def run(url: str, batch: int) -> dict[str, Any]:
    conn = await asyncpg.connect(url)
    try:
        commits = published = 0
        cpu, started = time.process_time(), time.perf_counter()
        while True:
            now = datetime.now(UTC)
            ids = [row[0] for row in await conn.fetch(_CLAIM, FAR_FUTURE, now, batch)]
            commits += 1  # autocommit: the claim is its own transaction
            if not ids:
                break
            pairs = [(post_id, now) for post_id in ids]
            async with conn.transaction():
                await conn.executemany(_MARK, pairs)
                await conn.executemany(_ITEM, pairs)
            async with conn.transaction():
                await conn.executemany(_SENT, pairs)
                await conn.executemany(_OUTCOME, pairs)
            commits += 2
            published += len(ids)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        await conn.close()
    return summary(published, wall, cpu, commits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="postgresql://... of a seeded database")
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.url, args.batch))))


if __name__ == "__main__":
    main()
