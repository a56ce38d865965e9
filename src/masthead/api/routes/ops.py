"""Outside /v2: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import hmac
from datetime import timedelta

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import PlainTextResponse, Response

from masthead.api.auth import context
from masthead.api.errors import ApiError, json_response
from masthead.dispatch.resilience import EngineState
from masthead.store import queue
from masthead.timeutil import utcnow

router = APIRouter(tags=["operations"])
WORKER_STALE = timedelta(seconds=30)


@router.get("/healthz")
async def healthz() -> Response:
    """The process answers."""
    return json_response(200, {"status": "ok"})


@router.get("/readyz", responses={503: {"description": "Not ready; the body says why"}})
async def readyz(request: Request) -> Response:
    """Database reachable and a dispatch worker running (this process's, or any recent one).
    With a worker in this process, `engine` says what it is doing: `running`, `backing-off`
    (the database fails; it retries by itself) or `stopped`."""
    ctx = context(request)
    checks: dict[str, str] = {}
    body: dict[str, object] = {}
    if not await ctx.db.ping():
        checks["database"] = "unreachable"
    else:
        checks["database"] = "unwritable" if ctx.db.writer.unavailable else "ok"
    if ctx.dispatcher is not None:
        state = ctx.dispatcher.state
        checks["worker"] = "ok" if state == EngineState.RUNNING else state
        health = ctx.dispatcher.health
        body["engine"] = {
            "state": state,
            "consecutiveFailures": health.failures,
            "lastClaimAt": health.last_claim_at.isoformat() if health.last_claim_at else None,
        }
    elif checks["database"] == "ok":
        live = await ctx.db.read(lambda conn: queue.live_workers(conn, utcnow() - WORKER_STALE))
        checks["worker"] = "ok" if live else "no live worker"
    if ctx.draining:
        checks["process"] = "draining"
    ready = all(value == "ok" for value in checks.values())
    return json_response(
        200 if ready else 503,
        {"status": "ok" if ready else "unavailable", "checks": checks, **body},
    )


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        401: {"description": "MASTHEAD_METRICS_TOKEN is set and was not sent"},
    },
)
async def metrics(request: Request) -> Response:
    """Open unless MASTHEAD_METRICS_TOKEN is set; then only `Authorization: Bearer <token>`
    is answered (docs/operations.md)."""
    token = context(request).settings.metrics_token
    if token is not None and token.get_secret_value():
        sent = request.headers.get("authorization", "")
        expected = f"Bearer {token.get_secret_value()}"
        if not hmac.compare_digest(sent.encode(), expected.encode()):
            raise ApiError(
                401,
                "Send the metrics token as `Authorization: Bearer <token>`",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
