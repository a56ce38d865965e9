"""A loopback file server for media tests: files with or without Content-Length, compressed
on the wire, redirects, slow bodies, and a count of every request it answered."""

from __future__ import annotations

import asyncio
import gzip
import threading
import time
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.support.receiver import free_port


class FileServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        app = Starlette(
            routes=[
                Route("/file/{name}", self._file),
                Route("/chunked/{name}", self._chunked),
                Route("/slow/{name}", self._slow),
                Route("/encoded/{coding}/{name}", self._encoded),
                Route("/redirect", self._redirect),
                Route("/status/{code:int}", self._status),
            ]
        )
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def allow(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def add(self, name: str, data: bytes) -> str:
        """Serve `data` at /file/<name>; returns its URL."""
        self.files[name] = data
        return self.url(f"/file/{name}")

    async def _file(self, request: Request) -> Response:
        self.requests.append(request.url.path)
        data = self.files.get(request.path_params["name"])
        if data is None:
            return Response(status_code=404)
        return Response(data, media_type="image/jpeg")

    async def _chunked(self, request: Request) -> Response:
        """No Content-Length: the cap must be enforced by counting."""
        self.requests.append(request.url.path)
        data = self.files[request.path_params["name"]]

        async def body() -> AsyncIterator[bytes]:
            for start in range(0, len(data), 65536):
                yield data[start : start + 65536]

        return StreamingResponse(body(), media_type="application/octet-stream")

    async def _encoded(self, request: Request) -> Response:
        """Compressed with gzip whatever the client asked for (as some servers do), under
        the coding the path names (`gzip`, or another to see it refused)."""
        self.requests.append(request.url.path)
        data = gzip.compress(self.files[request.path_params["name"]], compresslevel=1)
        coding = request.path_params["coding"]
        return Response(data, media_type="image/jpeg", headers={"Content-Encoding": coding})

    async def _slow(self, request: Request) -> Response:
        self.requests.append(request.url.path)
        data = self.files[request.path_params["name"]]

        async def body() -> AsyncIterator[bytes]:
            for start in range(0, len(data), 1024):
                await asyncio.sleep(0.5)
                yield data[start : start + 1024]

        return StreamingResponse(body(), media_type="image/jpeg")

    async def _redirect(self, request: Request) -> Response:
        self.requests.append(request.url.path)
        return RedirectResponse(request.query_params["to"], status_code=302)

    async def _status(self, request: Request) -> Response:
        self.requests.append(request.url.path)
        return Response(status_code=request.path_params["code"])

    def start(self) -> None:
        self._thread.start()
        deadline = time.time() + 10
        while not self._server.started:
            if time.time() > deadline:
                raise RuntimeError("file server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
