"""The baselines of part 1, under the same uvicorn settings as `masthead serve`:

- a bare ASGI app (no framework, no database), so the ratio to it isolates what Masthead
  itself costs per request;
- with `--durable DB_FILE`, the same app that also parses the JSON body and inserts it as one
  row through Masthead's own `Database` (SQLite with its pragmas and the same group commit),
  answering only once the row is durable: the physical limit of the job on this machine.

Run as `python -m bench.bare --port P [--durable DB_FILE]`.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.engine import Connection

from masthead.store.database import Database

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

BODY = b'{"postSubmissionId":"00000000-0000-0000-0000-000000000000","status":"scheduled"}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]
INSERT = text("INSERT INTO posts (id, body) VALUES (:id, :body)")


async def _lifespan(receive: Receive, send: Send, db: Database | None) -> None:
    while (await receive())["type"] != "lifespan.shutdown":
        if db is not None:
            await db.start()
            await db.write(
                lambda c: c.exec_driver_sql(
                    "CREATE TABLE IF NOT EXISTS posts (id TEXT PRIMARY KEY, body TEXT NOT NULL)"
                )
            )
        await send({"type": "lifespan.startup.complete"})
    if db is not None:
        await db.close()
    await send({"type": "lifespan.shutdown.complete"})


def make_app(db: Database | None) -> App:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        """Reads the whole request body (as Masthead must) and answers a small JSON 201;
        with a database, after a durable insert of the parsed body."""
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await _lifespan(receive, send, db)
            return
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        if db is not None:
            row = {"id": str(uuid.uuid4()), "body": orjson.dumps(orjson.loads(b"".join(chunks)))}

            def insert(conn: Connection) -> None:
                conn.execute(INSERT, row)

            await db.write(insert, isolated=False)
        await send({"type": "http.response.start", "status": 201, "headers": HEADERS})
        await send({"type": "http.response.body", "body": BODY})

    return app


app = make_app(None)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--durable", help="SQLite file: insert each body durably first")
    args = parser.parse_args()
    db = Database(f"sqlite:///{args.durable}") if args.durable else None
    # The same arguments as masthead.cli.serve (loop/http "auto": uvloop and httptools).
    uvicorn.run(
        make_app(db),
        host="127.0.0.1",
        port=args.port,
        workers=1,
        log_config=None,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
    )


if __name__ == "__main__":
    main()
