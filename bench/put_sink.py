"""The bare receiver that presigned uploads are measured against: an aiohttp server that
writes each PUT body to a file and answers 200, nothing else (no hash, no sniffing).

Run as `python -m bench.put_sink --port P --dir DIR`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from aiohttp import web

READ_SIZE = 1024 * 1024


def make_app(directory: Path) -> web.Application:
    async def receive(request: web.Request) -> web.Response:
        with (directory / "upload.bin").open("wb") as out:
            while chunk := await request.content.read(READ_SIZE):
                out.write(chunk)
        return web.Response(text="{}", content_type="application/json")

    app = web.Application(client_max_size=0)
    app.router.add_put("/{name}", receive)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", type=Path, required=True)
    args = parser.parse_args()
    web.run_app(make_app(args.dir), host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
