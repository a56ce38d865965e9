"""Part 2's database baseline on SQLite: the writes that dispatching N due posts needs (the
claim, the sending mark, the answer and the outcome) in plain SQL through the standard
library driver, on a database seeded like part 2's, with Masthead's pragmas (WAL,
synchronous=FULL) and its batch size, each step durably committed before the next. No
engine, no HTTP, no event loop: the burst's physical limit on this machine at that moment.

Run as `python -m bench.sql_floor --db FILE --batch B`; prints JSON.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from contextlib import closing
from typing import Any

FAR_FUTURE = "9999-12-31 00:00:00.000000"
"""The claim's `now`: every seeded post is due by then."""
_CLAIM = """
UPDATE posts SET state = 'in-progress', lease_owner = 'floor', lease_until = :lease,
       attempt = attempt + 1, updated_at = :now
WHERE id IN (SELECT id FROM posts
             WHERE due_at <= :due AND +state IN ('scheduled', 'in-progress')
                   AND (lease_until IS NULL OR lease_until < :now)
             ORDER BY due_at LIMIT :limit)
RETURNING id
"""


def _stamp() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime())


def run(db_file: str, batch: int) -> dict[str, Any]:
    with closing(sqlite3.connect(db_file, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        commits = published = 0
        cpu, started = time.process_time(), time.perf_counter()
        while True:
            now = _stamp()
            conn.execute("BEGIN IMMEDIATE")
            ids = [
                (row[0],)
                for row in conn.execute(
                    _CLAIM, {"lease": FAR_FUTURE, "now": now, "due": FAR_FUTURE, "limit": batch}
                )
            ]
            conn.execute("COMMIT")
            commits += 1
            if not ids:
                break
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                f"UPDATE posts SET started_at = coalesce(started_at, '{now}'),"
                f" updated_at = '{now}' WHERE id = ? AND lease_owner = 'floor'",
                ids,
            )
            conn.executemany(
                "INSERT INTO post_items (post_id, position, state, sending_at)"
                f" VALUES (?, 0, 'sending', '{now}')",
                ids,
            )
            conn.execute("COMMIT")
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                f"UPDATE post_items SET state = 'sent', remote_id = post_id, sent_at = '{now}'"
                " WHERE post_id = ? AND position = 0",
                ids,
            )
            conn.executemany(
                "UPDATE posts SET state = 'published', due_at = NULL, lease_owner = NULL,"
                f" lease_until = NULL, finished_at = '{now}', updated_at = '{now}' WHERE id = ?",
                ids,
            )
            conn.execute("COMMIT")
            commits += 2
            published += len(ids)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    return summary(published, wall, cpu, commits)


def summary(published: int, wall: float, cpu: float, commits: int) -> dict[str, Any]:
    """What both baselines (this one and bench/sql_floor_pg.py) print."""
    return {
        "published": published,
        "seconds": round(wall, 3),
        "cpu_ms_per_post": round(1000 * cpu / published, 4) if published else None,
        "commits": commits,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    print(json.dumps(run(args.db, args.batch)))


if __name__ == "__main__":
    main()
