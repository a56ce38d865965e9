"""A fake Pinterest API v5 on 127.0.0.1: OAuth, the user account, boards, media uploads, pins.

Every `/v5/...` request (except the token endpoint) is validated against Pinterest's official
OpenAPI (`../shared/specs/pinterest/v5/openapi.json`) with openapi-core, and so are the fake's
own successful answers; anything that does not conform is recorded in `invalid`, which the
tests assert stays empty. Like Pinterest, the fake pulls `image_url` media over HTTP from the
URL it is given (Masthead's public URL of the file), so a wrong public URL fails the pin.
Faults are queued per operation with `fail_next` (tests.fakes.http.FAULTS, and `forbidden`:
a 403 refusal of that one call, the OpenAPI's example for a board or Pin the token may not read).
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.parser import BytesParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.fakes.http import FAULTS, Dropped, FakeServer, IssuedTokens
from tests.fakes.openapi import Contract

SPECS = Path(__file__).resolve().parents[2].parent / "shared" / "specs"
OPENAPI = SPECS / "pinterest" / "v5" / "openapi.json"
API_ORIGIN = "https://api.pinterest.com"
ALL_SCOPES = ("user_accounts:read", "boards:read", "pins:read", "pins:write")
VIDEO_ONLY_METRICS = frozenset(
    {"VIDEO_MRC_VIEW", "VIDEO_10S_VIEW", "QUARTILE_95_PERCENT_VIEW", "VIDEO_V50_WATCH_TIME"}
    | {"VIDEO_START", "VIDEO_AVG_WATCH_TIME"}
)
"""The metric types the OpenAPI lists only among "Video Pin metric types"."""


def _both_enums(cause: object) -> bool:
    """A value refused only for matching both branches of a `oneOf` of two enums that share
    values: pin analytics' `metric_types` lists IMPRESSION, SAVE... among both the standard and
    the video Pin types, which Pinterest means as either (anyOf)."""
    errors = getattr(cause, "schema_errors", None)
    return bool(errors) and all("is valid under each of" in str(e.message) for e in errors)


CONTRACT = Contract(OPENAPI, API_ORIGIN, excused=_both_enums)


SCOPES_NEEDED = {
    "user_account": {"user_accounts:read"},
    "boards": {"boards:read"},
    "board-pins": {"boards:read", "pins:read"},
    "media-register": {"pins:read", "pins:write"},
    "media-status": {"pins:read"},
    "pins": {"boards:read", "pins:write"},
    "pin-analytics": {"boards:read", "pins:read"},
}
"""The security requirement of each operation in the OpenAPI."""


def error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message}, status_code=status)


@dataclass
class User:
    id: str
    username: str
    boards: dict[str, str] = field(default_factory=dict)
    """board id → name."""


@dataclass
class Media:
    id: str
    user_id: str
    data: bytes = b""
    status: str = "registered"
    polls_left: int = 0


@dataclass
class Pin:
    id: str
    user_id: str
    board_id: str
    title: str | None
    description: str | None
    link: str | None
    alt_text: str | None
    source: dict[str, Any]
    images: list[bytes]
    created_at: datetime


class FakePinterest(FakeServer):
    name = "fake Pinterest"
    contract = CONTRACT
    first_id = 1_100_000_000_000_000_001
    authorize_path = "/oauth/"
    fault_names = FAULTS | {"forbidden"}

    def __init__(self, *, client_id: str = "pin-client", client_secret: str = "pin-secret") -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.users: dict[str, User] = {}
        self.tokens = IssuedTokens()
        self.refresh_tokens: dict[str, str] = {}
        self.grants: dict[str, tuple[str, str, tuple[str, ...]]] = {}
        self.media: dict[str, Media] = {}
        self.pins: dict[str, Pin] = {}
        self.authorize_as: str | None = None
        self.processing_polls = 1
        self.processing_result = "succeeded"
        self.boards_page_size_cap = 250
        self.pin_metrics: dict[str, dict[str, float]] = {}
        """pin id → its summary metrics over any period (set by tests); a metric asked for
        and not here is left out of the answer."""

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/oauth/", self._authorize, methods=["GET"]),
                Route("/v5/oauth/token", self._token, methods=["POST"]),
                Route("/media-upload/{media_id}", self._upload, methods=["POST"]),
                Route("/v5/{path:path}", self._api, methods=["GET", "POST"]),
            ]
        )

    # -- test helpers ------------------------------------------------------------------------

    def add_user(self, username: str, boards: tuple[str, ...] = ("Recipes",)) -> User:
        user = User(self.next_id(), username)
        for name in boards:
            user.boards[self.next_id()] = name
        self.users[user.id] = user
        return user

    def issue_tokens(
        self, user: User, *, lifetime: float = 30 * 86400, scopes: tuple[str, ...] = ALL_SCOPES
    ) -> dict[str, Any]:
        access, refresh = f"pina_{secrets.token_hex(8)}", f"pinr_{secrets.token_hex(8)}"
        self.tokens.issue(access, user.id, lifetime, scopes)
        self.refresh_tokens[refresh] = user.id
        return {
            "access_token": access,
            "refresh_token": refresh,
            "response_type": "authorization_code",
            "token_type": "bearer",
            "expires_in": int(lifetime),
            "refresh_token_expires_in": 365 * 86400,
            "scope": ",".join(scopes),
        }

    def expire_access_tokens(self) -> None:
        self.tokens.expire()

    def add_pin(self, user: User, *, video: bool = False, **metrics: float) -> Pin:
        """A published Pin of `user` on its first board with these summary metrics."""
        source = (
            {"source_type": "video_id", "media_id": "1"}
            if video
            else {"source_type": "image_url", "url": "https://i.example/1.jpg"}
        )
        pin = Pin(
            self.next_id(),
            user.id,
            next(iter(user.boards)),
            None,
            None,
            None,
            None,
            source,
            [],
            datetime.now(UTC),
        )
        self.pins[pin.id] = pin
        self.pin_metrics[pin.id] = dict(metrics)
        return pin

    def _pin_analytics(self, request: Request, pin_id: str, user: User) -> Response:
        """GET /v5/pins/{id}/analytics (the query was checked against the OpenAPI): video
        metric types only for a video Pin, dates within 90 days; the summary of the metrics
        the test set, daily rows left empty."""
        pin = self.pins.get(pin_id)
        if pin is None or pin.user_id != user.id:
            return error(404, 50, "Pin not found.")
        query = request.query_params
        asked = query.get("metric_types", "").split(",")
        video_only = [m for m in asked if m in VIDEO_ONLY_METRICS]
        if video_only and pin.source["source_type"] != "video_id":
            self.invalid.append(f"video metric types {video_only} asked of an image Pin")
            return error(400, 1, "Invalid pins analytics parameters.")
        start, end = query.get("start_date", ""), query.get("end_date", "")
        today = datetime.now(UTC).date()
        if not (
            today.toordinal() - 90
            < date.fromisoformat(start).toordinal()
            <= date.fromisoformat(end).toordinal()
            <= today.toordinal()
        ):
            self.invalid.append(f"pin analytics dates {start}..{end} out of range")
            return error(400, 1, "Invalid pins analytics parameters.")
        values = self.pin_metrics.get(pin_id, {})
        summary = {m: values[m] for m in asked if m in values}
        return JSONResponse({"all": {"daily_metrics": [], "summary_metrics": summary}})

    def pins_by(self, user: User) -> list[Pin]:
        return [p for p in self.pins.values() if p.user_id == user.id]

    # -- OAuth -------------------------------------------------------------------------------

    async def _authorize(self, request: Request) -> Response:
        q = request.query_params
        self.record(request, "authorize", b"")
        if q.get("response_type") != "code" or q.get("client_id") != self.client_id:
            return error(400, 1, "Invalid authorization request")
        back = {"state": q.get("state", "")}
        if self.authorize_as is None:
            back["error"] = "access_denied"
        else:
            code = f"code-{secrets.token_hex(6)}"
            scopes = tuple(q.get("scope", "").split(","))
            self.grants[code] = (self.authorize_as, q.get("redirect_uri", ""), scopes)
            back["code"] = code
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode(back)}", status_code=302)

    async def _token(self, request: Request) -> Response:
        raw = await request.body()
        self.record(request, "token", raw)
        form = dict(parse_qsl(raw.decode()))
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if request.headers.get("authorization") != f"Basic {expected}":
            return error(401, 2, "Authentication failed.")
        if form.get("grant_type") == "authorization_code":
            grant = self.grants.pop(form.get("code", ""), None)
            if grant is None or grant[1] != form.get("redirect_uri"):
                return error(400, 1, "Invalid authorization code")
            return JSONResponse(self.issue_tokens(self.users[grant[0]], scopes=grant[2]))
        if form.get("grant_type") == "refresh_token":
            user_id = self.refresh_tokens.get(form.get("refresh_token", ""))
            if user_id is None:
                return error(400, 1, "Invalid refresh token")
            body = self.issue_tokens(self.users[user_id])
            self.refresh_tokens.pop(body.pop("refresh_token"))
            body.pop("refresh_token_expires_in")
            return JSONResponse(body)
        return error(400, 1, "Unsupported grant type")

    # -- media upload (the S3-like URL Pinterest names) --------------------------------------

    async def _upload(self, request: Request) -> Response:
        body = await request.body()
        self.record(request, "media-upload", body)
        media = self.media.get(request.path_params["media_id"])
        if media is None:
            return Response(status_code=404)
        header = f"Content-Type: {request.headers.get('content-type', '')}\r\n\r\n".encode()
        message = BytesParser(policy=default_policy).parsebytes(header + body)
        fields: dict[str, bytes] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            fields[str(name)] = payload if isinstance(payload, bytes) else b""
        if fields.get("x-amz-signature") != media.id.encode() or "file" not in fields:
            self.invalid.append(f"media upload without its parameters: {sorted(fields)}")
            return Response(status_code=403)
        if list(fields)[-1] != "file":
            self.invalid.append("media upload: file is not the last field")
        media.data = fields["file"]
        media.status, media.polls_left = "processing", self.processing_polls
        return Response(status_code=204)

    # -- the API -----------------------------------------------------------------------------

    @staticmethod
    def _operation(method: str, path: str) -> str:
        if path == "/v5/user_account":
            return "user_account"
        if path == "/v5/boards":
            return "boards"
        if path.startswith("/v5/boards/") and path.endswith("/pins"):
            return "board-pins"
        if path == "/v5/media":
            return "media-register"
        if path.startswith("/v5/media/"):
            return "media-status"
        if path == "/v5/pins":
            return "pins"
        if path.startswith("/v5/pins/") and path.endswith("/analytics"):
            return "pin-analytics"
        return "unknown"

    async def _api(self, request: Request) -> Response:
        body = await request.body()
        operation = self._operation(request.method, request.url.path)
        self.record(request, operation, body)
        problem = CONTRACT.request_problem(request, body)
        if problem is not None:
            self.invalid.append(problem)
            return error(400, 1, problem)
        token = self.tokens.bearer(request)
        if token is None:
            return error(401, 2, "Authentication failed.")
        if not SCOPES_NEEDED[operation] <= set(token.scopes):
            return error(403, 3, f"Missing scopes {sorted(SCOPES_NEEDED[operation])}")
        fault = self.next_fault(operation)
        refused = self.refused(
            fault,
            limited={"code": 8, "message": "You have exceeded your rate limit. Try again later."},
            unavailable={"code": 0, "message": "Service unavailable"},
        )
        if refused is not None:
            return refused
        if fault == "forbidden":
            return error(403, 403, "Not authorized to access board or Pin.")
        user = self.users[token.user_id]
        payload = json.loads(body) if body else {}
        response = await self._handle(request, operation, user, payload)
        if response.status_code < 300:
            self.invalid.extend(CONTRACT.answer_problems(request, body, response))
        if fault == "drop_after" and response.status_code < 300:
            return Dropped()
        if fault == "slow_after":
            await asyncio.sleep(self.slow_seconds)
        if fault == "server_error_after":
            return error(500, 0, "Internal server error")
        return response

    async def _handle(
        self, request: Request, operation: str, user: User, payload: dict[str, Any]
    ) -> Response:
        if operation == "user_account":
            return JSONResponse(
                {"id": user.id, "username": user.username, "account_type": "BUSINESS"}
            )
        if operation == "boards":
            return self._boards(request, user)
        if operation == "board-pins":
            return self._board_pins(request.url.path.split("/")[3], user)
        if operation == "media-register":
            media = Media(self.next_id(), user.id)
            self.media[media.id] = media
            return JSONResponse(
                {
                    "media_id": media.id,
                    "media_type": "video",
                    "upload_url": f"{self.url}/media-upload/{media.id}",
                    "upload_parameters": {
                        "x-amz-date": "20261202T000000Z",
                        "key": f"uploads/{media.id}",
                        "x-amz-signature": media.id,
                        "Content-Type": "multipart/form-data",
                    },
                },
                status_code=201,
            )
        if operation == "media-status":
            return self._media_status(request.url.path.rsplit("/", 1)[1], user)
        if operation == "pins":
            return await self._create_pin(user, payload)
        if operation == "pin-analytics":
            return self._pin_analytics(request, request.url.path.split("/")[3], user)
        return error(404, 404, "Not found")

    def _boards(self, request: Request, user: User) -> Response:
        size = min(int(request.query_params.get("page_size", "25")), self.boards_page_size_cap)
        start = int(request.query_params.get("bookmark") or 0)
        ids = list(user.boards)
        page = ids[start : start + size]
        more = start + size < len(ids)
        return JSONResponse(
            {
                "items": [{"id": b, "name": user.boards[b], "privacy": "PUBLIC"} for b in page],
                "bookmark": str(start + size) if more else None,
            }
        )

    def _board_pins(self, board_id: str, user: User) -> Response:
        if board_id not in user.boards:
            return error(404, 40, "Board not found.")
        pins = sorted(
            (p for p in self.pins.values() if p.board_id == board_id),
            key=lambda p: p.created_at,
            reverse=True,
        )
        return JSONResponse({"items": [self._pin_json(p) for p in pins], "bookmark": None})

    def _media_status(self, media_id: str, user: User) -> Response:
        media = self.media.get(media_id)
        if media is None or media.user_id != user.id:
            return error(404, 4, "Media not found")
        if media.status == "processing":
            if media.polls_left > 0:
                media.polls_left -= 1
            else:
                media.status = self.processing_result
        return JSONResponse({"media_id": media.id, "media_type": "video", "status": media.status})

    @staticmethod
    def _pin_json(pin: Pin) -> dict[str, Any]:
        kind = "video" if pin.source["source_type"] == "video_id" else "image"
        return {
            "id": pin.id,
            "created_at": pin.created_at.isoformat().replace("+00:00", "Z"),
            "board_id": pin.board_id,
            "title": pin.title,
            "description": pin.description,
            "link": pin.link,
            "alt_text": pin.alt_text,
            "media": {"media_type": kind},
        }

    async def _create_pin(self, user: User, payload: dict[str, Any]) -> Response:
        board_id = payload["board_id"]
        if board_id not in user.boards:
            return error(404, 40, "Board not found.")
        source = payload["media_source"]
        images: list[bytes] = []
        kind = source["source_type"]
        if kind == "video_id":
            media = self.media.get(source["media_id"])
            if media is None or media.user_id != user.id or media.status != "succeeded":
                return error(400, 1, f"Media {source['media_id']} is not ready")
        elif kind in ("image_url", "multiple_image_urls"):
            urls = [source["url"]] if kind == "image_url" else [i["url"] for i in source["items"]]
            async with httpx.AsyncClient(timeout=10) as client:
                for url in urls:
                    try:
                        fetched = await client.get(url)
                    except (httpx.HTTPError, httpx.InvalidURL):
                        return error(400, 1, "Sorry we could not fetch the image.")
                    if fetched.status_code != 200:
                        return error(400, 1, "Sorry we could not fetch the image.")
                    images.append(fetched.content)
        else:
            return error(400, 1, f"Unsupported media source {kind}")
        pin = Pin(
            self.next_id(),
            user.id,
            board_id,
            payload.get("title"),
            payload.get("description"),
            payload.get("link"),
            payload.get("alt_text"),
            source,
            images,
            datetime.now(UTC),
        )
        self.pins[pin.id] = pin
        return JSONResponse(self._pin_json(pin), status_code=201)
