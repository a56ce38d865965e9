"""A fake Bluesky AppView serving `app.bsky.feed.getPosts` (the counts analytics reads) over a
real PDS, on 127.0.0.1; `bluesky_appview.py` answers `getPostThread` in front of the PDS.

The real PDS (shared/tools/bluesky-pds) does not serve AppView routes, so this answers them:
each requested post is read from the PDS's repository (a deleted record is simply left out,
as the AppView does) and given the counts a test set for it. Requests are checked against the
lexicon of `app.bsky.feed.getPosts` (not among shared/specs' lexicons; its rules are written
out below: `uris` required, an array of at most 25 AT-URIs), refused with 400
`InvalidRequest` and recorded in `invalid`. Answers are `postView`s with the lexicon's
required fields (uri, cid, author {did, handle}, record, indexedAt).

Faults, queued with `fail_next("getPosts", ...)`: `rate_limit` (429 with ratelimit-* headers),
`unavailable` (502); `missing_metric()` makes the next answer leave out `likeCount`.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.http import FakeServer

MAX_URIS = 25
AT_URI = re.compile(
    r"^at://(did:[a-z]+:[A-Za-z0-9._:%-]+)/([a-zA-Z0-9.-]+)/([A-Za-z0-9._~:-]{1,512})$"
)
OPERATION = "getPosts"


class FakeCountsAppView(FakeServer):
    name = "fake Bluesky AppView"

    def __init__(self, pds_url: str) -> None:
        super().__init__()
        self.pds_url = pds_url
        self.counts: dict[str, dict[str, int]] = {}
        """Counts per AT-URI (likeCount, replyCount, repostCount, quoteCount, bookmarkCount);
        zeros for a post not listed."""
        self.handles: dict[str, str] = {}
        self.uris: list[list[str]] = []
        """The AT-URIs of each getPosts request, in order."""
        self._omit_likes = 0

    def app(self) -> Starlette:
        return Starlette(
            routes=[Route(f"/xrpc/app.bsky.feed.{OPERATION}", self._get_posts, methods=["GET"])]
        )

    def missing_metric(self) -> None:
        self._omit_likes += 1

    @staticmethod
    def _refuse(message: str) -> JSONResponse:
        return JSONResponse({"error": "InvalidRequest", "message": message}, status_code=400)

    async def _get_posts(self, request: Request) -> Response:
        uris = request.query_params.getlist("uris")
        self.record(request, OPERATION, b"")
        self.uris.append(uris)
        problem = None
        if not uris:
            problem = 'Params must have the property "uris"'
        elif len(uris) > MAX_URIS:
            problem = f"uris must not have more than {MAX_URIS} elements"
        else:
            bad = [uri for uri in uris if not AT_URI.match(uri)]
            if bad:
                problem = f"uris/0 must be a valid at-uri: {bad[0]}"
        if problem is not None:
            self.invalid.append(problem)
            return self._refuse(problem)
        fault = self.next_fault(OPERATION)
        if fault == "rate_limit":
            reset = int(time.time()) + self.rate_limit_seconds
            return JSONResponse(
                {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                status_code=429,
                headers={
                    "ratelimit-limit": "3000",
                    "ratelimit-remaining": "0",
                    "ratelimit-reset": str(reset),
                },
            )
        if fault == "unavailable":
            return JSONResponse(
                {"error": "UpstreamFailure", "message": "Upstream Failure"}, status_code=502
            )
        omit = self._omit_likes > 0
        self._omit_likes -= 1 if omit else 0
        posts = []
        async with httpx.AsyncClient(base_url=self.pds_url) as client:
            for uri in dict.fromkeys(uris):
                view = await self._view(client, uri)
                if view is not None:
                    if omit:
                        view.pop("likeCount")
                    posts.append(view)
        return JSONResponse({"posts": posts})

    async def _view(self, client: httpx.AsyncClient, uri: str) -> dict[str, Any] | None:
        match = AT_URI.match(uri)
        assert match is not None
        did, collection, rkey = match.groups()
        response = await client.get(
            "/xrpc/com.atproto.repo.getRecord",
            params={"repo": did, "collection": collection, "rkey": rkey},
        )
        if response.status_code != 200:
            return None
        record = response.json()
        counts = {"likeCount": 0, "replyCount": 0, "repostCount": 0, "quoteCount": 0}
        counts.update(self.counts.get(uri, {}))
        return {
            "uri": record["uri"],
            "cid": record["cid"],
            "author": {"did": did, "handle": self.handles.get(did, "handle.invalid")},
            "record": record["value"],
            "indexedAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            **counts,
        }
