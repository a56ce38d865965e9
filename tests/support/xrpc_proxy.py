"""A loopback proxy in front of the real PDS that injects the faults a PDS cannot be asked for:
a 429 with rate-limit headers, a 5xx before the PDS acts, an answer that arrives too late after
it acted. Everything else is forwarded untouched, so the PDS stays the judge of every record."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support.receiver import free_port


@dataclass
class ProxyFault:
    """For a call of `nsid` (the first after `skip` others): answer `status` without
    forwarding (the PDS never sees the request), or forward it and hold the PDS's answer for
    `delay_after` seconds."""

    nsid: str
    skip: int = 0
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay_after: float = 0.0


class XrpcProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.faults: list[ProxyFault] = []
        self.calls: list[tuple[float, str]] = []
        """(time, nsid) of every request received, faulted or not."""
        app = Starlette(routes=[Route("/xrpc/{nsid}", self._handle, methods=["GET", "POST"])])
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def calls_of(self, nsid: str) -> list[float]:
        return [at for at, name in self.calls if name == nsid]

    async def _handle(self, request: Request) -> Response:
        nsid = request.path_params["nsid"]
        self.calls.append((time.time(), nsid))
        fault = next((f for f in self.faults if f.nsid == nsid), None)
        if fault is not None and fault.skip > 0:
            fault.skip -= 1
            fault = None
        elif fault is not None:
            self.faults.remove(fault)
        if fault is not None and fault.status is not None:
            return Response(fault.body, fault.status, fault.headers, "application/json")
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")
        }
        async with httpx.AsyncClient(timeout=30) as client:
            upstream = await client.request(
                request.method,
                f"{self.upstream}{request.url.path}",
                params=request.query_params,
                content=await request.body(),
                headers=headers,
            )
        if fault is not None:
            await asyncio.sleep(fault.delay_after)
        passed = {
            k: v
            for k, v in upstream.headers.items()
            if k.lower() not in ("content-length", "content-encoding", "transfer-encoding")
        }
        return Response(upstream.content, upstream.status_code, passed)

    def start(self) -> None:
        self._thread.start()
        deadline = time.time() + 10
        while not self._server.started:
            if time.time() > deadline:
                raise RuntimeError("the XRPC proxy did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
