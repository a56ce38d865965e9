"""A fake LinkedIn on 127.0.0.1: OAuth, userinfo, organization ACLs, image and video uploads,
the versioned Posts API, and the faults that matter.

LinkedIn publishes no machine-readable schema, so the fake checks what platform-notes 3.2
documents and records every deviation in `invalid` (tests assert it stays empty): each
`/rest/` call names an active `LinkedIn-Version` and `X-Restli-Protocol-Version: 2.0.0`, the
post body has the documented fields, media URNs are uploaded and owned by the author.
Commentary is read as Little Text Format the way LinkedIn does: an unescaped reserved character
ends the text (LinkedIn cuts the post there without an error), so `Post.text` is what readers
would see.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.fakes.http import Dropped, FakeServer, IssuedTokens, Token

RESERVED = "|{}@[]()<>#\\*_~"
ACTIVE_VERSIONS = frozenset({"202510", "202511", "202512"})
ALL_SCOPES = (
    "openid",
    "profile",
    "w_member_social",
    "w_organization_social",
    "r_organization_admin",
    "r_organization_social",
)
POST_FIELDS = frozenset(
    {
        "author",
        "commentary",
        "visibility",
        "distribution",
        "lifecycleState",
        "isReshareDisabledByAuthor",
        "content",
    }
)


def error(status: int, message: str, code: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"status": status, "message": message}
    if code:
        body["code"] = code
    return JSONResponse(body, status_code=status)


def displayed(commentary: str) -> str:
    """What LinkedIn shows of `commentary`: escapes undone, `{hashtag|\\#|x}` shown as `#x`,
    and everything from the first unescaped reserved character dropped."""
    out: list[str] = []
    i = 0
    while i < len(commentary):
        char = commentary[i]
        if char == "\\" and i + 1 < len(commentary):
            out.append(commentary[i + 1])
            i += 2
            continue
        if commentary.startswith("{hashtag|\\#|", i):
            end = commentary.find("}", i)
            if end > 0:
                out.append("#" + commentary[i + len("{hashtag|\\#|") : end])
                i = end + 1
                continue
        if char in RESERVED:
            break
        out.append(char)
        i += 1
    return "".join(out)


@dataclass
class Member:
    id: str
    name: str


@dataclass
class Organization:
    id: str
    name: str
    roles: dict[str, str] = field(default_factory=dict)
    """member id → role (ADMINISTRATOR, ANALYST, ...)."""


@dataclass
class Asset:
    urn: str
    owner: str
    kind: str  # image or video
    size: int = 0
    parts: dict[int, bytes] = field(default_factory=dict)
    part_count: int = 1
    status: str = "WAITING_UPLOAD"
    polls_left: int = 0

    @property
    def data(self) -> bytes:
        return b"".join(self.parts[i] for i in sorted(self.parts))


@dataclass
class Post:
    urn: str
    author: str
    commentary: str
    text: str
    content: dict[str, Any] | None
    created_at: int


class FakeLinkedIn(FakeServer):
    name = "fake LinkedIn"
    first_id = 7_300_000_000_000_000_001
    authorize_path = "/oauth/v2/authorization"

    def __init__(self, *, client_id: str = "li-client", client_secret: str = "li-secret") -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.active_versions = set(ACTIVE_VERSIONS)
        self.members: dict[str, Member] = {}
        self.organizations: dict[str, Organization] = {}
        self.tokens = IssuedTokens()
        self.refresh_tokens: dict[str, str] = {}
        self.grants: dict[str, tuple[str, str, tuple[str, ...]]] = {}
        self.assets: dict[str, Asset] = {}
        self.posts: dict[str, Post] = {}
        self.authorize_as: str | None = None
        self.part_size = 4 * 1024 * 1024
        self.processing_polls = 1
        self.processing_result = "AVAILABLE"
        self.statistics: dict[str, dict[str, Any]] = {}
        """post URN → its totalShareStatistics, and for a member's post its counts by
        memberCreatorPostAnalytics queryType (set by tests)."""

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/oauth/v2/authorization", self._authorize, methods=["GET"]),
                Route("/oauth/v2/accessToken", self._token, methods=["POST"]),
                Route("/v2/userinfo", self._userinfo, methods=["GET"]),
                Route("/upload/{asset}/{part:int}", self._upload, methods=["PUT"]),
                Route("/rest/{path:path}", self._rest, methods=["GET", "POST"]),
            ]
        )

    # -- test helpers ------------------------------------------------------------------------

    @property
    def token_url(self) -> str:
        return f"{self.url}/oauth/v2/accessToken"

    def add_member(self, name: str) -> Member:
        member = Member(f"m{secrets.token_hex(5)}", name)
        self.members[member.id] = member
        return member

    def add_organization(self, name: str, admins: dict[str, str]) -> Organization:
        org = Organization(str(next(self._ids) % 100_000_000), name, dict(admins))
        self.organizations[org.id] = org
        return org

    def issue_tokens(
        self,
        member: Member,
        *,
        lifetime: float = 60 * 86400,
        scopes: tuple[str, ...] = ALL_SCOPES,
        refresh: bool = True,
    ) -> dict[str, Any]:
        access = f"li-at-{secrets.token_hex(8)}"
        self.tokens.issue(access, member.id, lifetime, scopes)
        body: dict[str, Any] = {
            "access_token": access,
            "expires_in": int(lifetime),
            "scope": ",".join(scopes),
        }
        if refresh:
            token = f"li-rt-{secrets.token_hex(8)}"
            self.refresh_tokens[token] = member.id
            body["refresh_token"] = token
            body["refresh_token_expires_in"] = 365 * 86400
        return body

    def expire_access_tokens(self) -> None:
        self.tokens.expire()

    def posts_by(self, author: str) -> list[Post]:
        return [p for p in self.posts.values() if p.author == author]

    # -- OAuth -------------------------------------------------------------------------------

    async def _authorize(self, request: Request) -> Response:
        """Stands in for the consent screen: `authorize_as` grants."""
        q = request.query_params
        self.record(request, "authorize", b"")
        if q.get("response_type") != "code" or q.get("client_id") != self.client_id:
            return error(400, "invalid authorization request")
        back = {"state": q.get("state", "")}
        if self.authorize_as is None:
            back |= {"error": "user_cancelled_login", "error_description": "cancelled"}
        else:
            code = f"code-{secrets.token_hex(6)}"
            self.grants[code] = (
                self.authorize_as,
                q.get("redirect_uri", ""),
                tuple(q.get("scope", "").split()),
            )
            back["code"] = code
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode(back)}", status_code=302)

    async def _token(self, request: Request) -> Response:
        raw = await request.body()
        self.record(request, "token", raw)
        form = dict(parse_qsl(raw.decode()))
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Client authentication failed"},
                status_code=401,
            )
        if form.get("grant_type") == "authorization_code":
            grant = self.grants.pop(form.get("code", ""), None)
            if grant is None or grant[1] != form.get("redirect_uri"):
                return JSONResponse(
                    {"error": "invalid_request", "error_description": "Unable to retrieve"},
                    status_code=400,
                )
            return JSONResponse(self.issue_tokens(self.members[grant[0]], scopes=grant[2]))
        if form.get("grant_type") == "refresh_token":
            member_id = self.refresh_tokens.get(form.get("refresh_token", ""))
            if member_id is None:
                return JSONResponse(
                    {"error": "invalid_request", "error_description": "The token is revoked"},
                    status_code=400,
                )
            body = self.issue_tokens(self.members[member_id], refresh=False)
            return JSONResponse(body)
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)

    # -- API ---------------------------------------------------------------------------------

    async def _userinfo(self, request: Request) -> Response:
        self.record(request, "userinfo", b"")
        token = self.tokens.bearer(request)
        if token is None:
            return error(401, "Invalid access token", "EXPIRED_ACCESS_TOKEN")
        member = self.members[token.user_id]
        return JSONResponse(
            {"sub": member.id, "name": member.name, "picture": f"https://media.invalid/{member.id}"}
        )

    async def _upload(self, request: Request) -> Response:
        body = await request.body()
        self.record(request, "upload", body)
        if self.tokens.bearer(request) is None:
            return error(401, "Invalid access token")
        asset = self.assets.get(unquote(request.path_params["asset"]))
        part = int(request.path_params["part"])
        if asset is None or part >= asset.part_count:
            return error(404, "no such upload")
        asset.parts[part] = body
        if asset.kind == "image":
            asset.status = "AVAILABLE"
        return Response(status_code=201, headers={"etag": f"etag-{asset.urn[-6:]}-{part}"})

    async def _rest(self, request: Request) -> Response:
        body = await request.body()
        path = request.url.path.removeprefix("/rest/")
        action = request.query_params.get("action", "")
        operation = self._operation(request.method, path, action)
        self.record(request, operation, body)
        problem = self._check_headers(request, operation)
        if problem is not None:
            return problem
        token = self.tokens.bearer(request)
        if token is None:
            return error(401, "Invalid access token", "EXPIRED_ACCESS_TOKEN")
        fault = self.next_fault(operation)
        refused = self.refused(
            fault,
            limited={"status": 429, "message": "Resource level throttle limit reached"},
            unavailable={"status": 503, "message": "Service Unavailable"},
        )
        if refused is not None:
            return refused
        payload = json.loads(body) if body else {}
        response = self._handle(request, operation, path, token, payload)
        if fault == "drop_after" and response.status_code < 300:
            return Dropped()
        if fault == "slow_after":
            await asyncio.sleep(self.slow_seconds)
        if fault == "server_error_after":
            return error(500, "Internal Server Error")
        return response

    @staticmethod
    def _operation(method: str, path: str, action: str) -> str:
        if path == "posts":
            return "posts" if method == "POST" else "posts-find"
        if path in ("images", "videos"):
            return f"{path}-{action}"
        if path.startswith("videos/"):
            return "video-status"
        if path.startswith("organizations/"):
            return "organization"
        return path

    def _check_headers(self, request: Request, operation: str) -> Response | None:
        version = request.headers.get("linkedin-version")
        if request.headers.get("x-restli-protocol-version") != "2.0.0":
            self.invalid.append(f"{operation}: no X-Restli-Protocol-Version 2.0.0")
        if not version:
            self.invalid.append(f"{operation}: no LinkedIn-Version")
            return error(400, "A version must be present", "VERSION_MISSING")
        if version not in self.active_versions:
            return error(426, f"Requested version {version} is not active", "NONEXISTENT_VERSION")
        return None

    def _handle(
        self, request: Request, operation: str, path: str, token: Token, payload: dict[str, Any]
    ) -> Response:
        member = token.user_id
        if operation == "organizationAcls":
            if "r_organization_admin" not in token.scopes:
                return error(403, "Not enough permissions to access: organizationAcls.FINDER")
            elements = [
                {
                    "organization": f"urn:li:organization:{org.id}",
                    "role": org.roles[member],
                    "state": "APPROVED",
                    "roleAssignee": f"urn:li:person:{member}",
                }
                for org in self.organizations.values()
                if member in org.roles
            ]
            return JSONResponse({"elements": elements, "paging": {"count": len(elements)}})
        if operation == "organization":
            org = self.organizations.get(path.split("/")[1])
            if org is None:
                return error(404, "Organization not found")
            return JSONResponse({"id": int(org.id), "localizedName": org.name})
        if operation == "images-initializeUpload":
            owner = payload.get("initializeUploadRequest", {}).get("owner")
            if not self._may_post_as(token, owner):
                return error(403, f"Not enough permissions to upload for {owner}")
            asset = Asset(f"urn:li:image:C{self.next_id()}", owner, "image")
            self.assets[asset.urn] = asset
            return JSONResponse(
                {
                    "value": {
                        "uploadUrlExpiresAt": int(time.time() * 1000) + 86_400_000,
                        "uploadUrl": f"{self.url}/upload/{asset.urn}/0",
                        "image": asset.urn,
                    }
                }
            )
        if operation == "videos-initializeUpload":
            return self._init_video(token, payload.get("initializeUploadRequest", {}))
        if operation == "videos-finalizeUpload":
            return self._finalize_video(payload.get("finalizeUploadRequest", {}))
        if operation == "video-status":
            return self._video_status(unquote(path.split("/", 1)[1]))
        if operation == "posts":
            return self._create_post(token, payload)
        if operation == "posts-find":
            return self._find_posts(request, token)
        if operation == "organizationalEntityShareStatistics":
            return self._share_statistics(request, token)
        if operation == "memberCreatorPostAnalytics":
            return self._member_analytics(request, token)
        return error(404, f"No resource {path}")

    def _may_post_as(self, token: Token, author: object) -> bool:
        if author == f"urn:li:person:{token.user_id}":
            return "w_member_social" in token.scopes
        if isinstance(author, str) and author.startswith("urn:li:organization:"):
            org = self.organizations.get(author.rsplit(":", 1)[1])
            return (
                org is not None
                and org.roles.get(token.user_id) in ("ADMINISTRATOR", "CONTENT_ADMINISTRATOR")
                and "w_organization_social" in token.scopes
            )
        return False

    def _init_video(self, token: Token, request: dict[str, Any]) -> Response:
        owner, size = request.get("owner"), request.get("fileSizeBytes")
        if not isinstance(size, int) or size <= 0:
            self.invalid.append("videos initializeUpload without fileSizeBytes")
            return error(400, "fileSizeBytes is required")
        if not self._may_post_as(token, owner):
            return error(403, f"Not enough permissions to upload for {owner}")
        count = -(-size // self.part_size)
        asset = Asset(
            f"urn:li:video:D{self.next_id()}", str(owner), "video", size, part_count=count
        )
        self.assets[asset.urn] = asset
        instructions = [
            {
                "uploadUrl": f"{self.url}/upload/{asset.urn}/{i}",
                "firstByte": i * self.part_size,
                "lastByte": min(size, (i + 1) * self.part_size) - 1,
            }
            for i in range(count)
        ]
        return JSONResponse(
            {
                "value": {
                    "uploadUrlsExpireAt": int(time.time() * 1000) + 86_400_000,
                    "video": asset.urn,
                    "uploadInstructions": instructions,
                    "uploadToken": "",
                }
            }
        )

    def _finalize_video(self, request: dict[str, Any]) -> Response:
        asset = self.assets.get(str(request.get("video")))
        if asset is None:
            return error(404, "video not found")
        expected = [f"etag-{asset.urn[-6:]}-{i}" for i in range(asset.part_count)]
        if request.get("uploadedPartIds") != expected or len(asset.data) != asset.size:
            return error(400, "uploadedPartIds do not match the uploaded parts")
        asset.status, asset.polls_left = "PROCESSING", self.processing_polls
        return JSONResponse({})

    def _video_status(self, urn: str) -> Response:
        asset = self.assets.get(urn)
        if asset is None:
            return error(404, "video not found")
        if asset.status == "PROCESSING":
            if asset.polls_left > 0:
                asset.polls_left -= 1
            else:
                asset.status = self.processing_result
        body: dict[str, Any] = {"id": urn, "status": asset.status, "owner": asset.owner}
        if asset.status == "PROCESSING_FAILED":
            body["processingFailureReason"] = "Video is corrupted"
        return JSONResponse(body)

    def _create_post(self, token: Token, payload: dict[str, Any]) -> Response:
        unknown = set(payload) - POST_FIELDS
        missing = {"author", "commentary", "visibility", "distribution", "lifecycleState"} - set(
            payload
        )
        if unknown or missing:
            self.invalid.append(f"post fields: unknown {unknown}, missing {missing}")
            return error(422, "Invalid post", "UNPROCESSABLE_ENTITY")
        author = payload["author"]
        if not self._may_post_as(token, author):
            return error(
                403,
                "Not enough permissions to access: partnerApiPostsExternal.CREATE.20251101",
                "ACCESS_DENIED",
            )
        commentary = str(payload["commentary"])
        if len(commentary) > 3000:
            return error(
                422,
                f"ShareCommentary text length ({len(commentary)} characters) exceeded the "
                "maximum allowed (3000 characters)",
                "FIELD_ARRAY_SIZE_TOO_HIGH",
            )
        content = payload.get("content")
        problem = self._check_content(author, content)
        if problem is not None:
            return problem
        for post in self.posts.values():
            if post.author == author and post.commentary == commentary and post.content == content:
                return JSONResponse(
                    {
                        "status": 422,
                        "message": f"Content is a duplicate of {post.urn}",
                        "errorDetails": {
                            "inputErrors": [
                                {
                                    "description": "Duplicate post is detected",
                                    "input": {},
                                    "code": "DUPLICATE_POST",
                                }
                            ]
                        },
                    },
                    status_code=422,
                )
        urn = f"urn:li:share:{self.next_id()}"
        self.posts[urn] = Post(
            urn, author, commentary, displayed(commentary), content, int(time.time() * 1000)
        )
        return Response(status_code=201, headers={"x-restli-id": urn})

    def _check_content(self, author: str, content: Any) -> Response | None:
        if content is None:
            return None
        if "media" in content:
            urns = [content["media"].get("id")]
        elif "multiImage" in content:
            urns = [image.get("id") for image in content["multiImage"].get("images", [])]
            if len(urns) < 2 or any(not str(u).startswith("urn:li:image:") for u in urns):
                self.invalid.append(f"multiImage with {urns}")
                return error(422, "multiImage needs 2 to 20 images")
        else:
            self.invalid.append(f"unknown content {content}")
            return error(422, "Unknown content")
        for urn in urns:
            asset = self.assets.get(str(urn))
            if asset is None or asset.owner != author or asset.status != "AVAILABLE":
                return error(422, f"Media {urn} is not available for {author}", "INVALID_MEDIA")
        return None

    def add_post(self, author: str, **statistics: Any) -> Post:
        """A published post of `author` (a person or organization URN) with its statistics."""
        urn = f"urn:li:share:{self.next_id()}"
        self.posts[urn] = Post(urn, author, "", "", None, int(time.time() * 1000))
        self.statistics[urn] = dict(statistics)
        return self.posts[urn]

    def _share_statistics(self, request: Request, token: Token) -> Response:
        """GET organizationalEntityShareStatistics?q=organizationalEntity&shares=List(...):
        Rest.li 2.0 lists of encoded share and ugcPost URNs, read by a page's administrator
        or analyst with r_organization_social; the page's existing posts are answered."""
        q = _raw_query(request)
        org_urn = unquote(q.get("organizationalEntity", ""))
        org = self.organizations.get(org_urn.removeprefix("urn:li:organization:"))
        lists = {name: RESTLI_LIST.match(q.get(name, "List()")) for name in ("shares", "ugcPosts")}
        if (
            q.get("q") != "organizationalEntity"
            or org is None
            or not all(lists.values())
            or set(q) - {"q", "organizationalEntity", "shares", "ugcPosts"}
        ):
            self.invalid.append(f"share statistics query not as documented: {q}")
            return error(400, "Invalid query parameters", "ILLEGAL_ARGUMENT")
        if (
            "r_organization_social" not in token.scopes
            or org.roles.get(token.user_id) not in ANALYTICS_ROLES
        ):
            return error(
                403, "Not enough permissions to access: organizationalEntityShareStatistics"
            )
        asked: list[tuple[str, str]] = []
        for name, prefix in (("shares", "urn:li:share:"), ("ugcPosts", "urn:li:ugcPost:")):
            found = lists[name]
            for raw in found.group(1).split(",") if found and found.group(1) else []:
                urn = unquote(raw)
                if ":" in raw or not urn.startswith(prefix):
                    self.invalid.append(f"{name} holds {raw!r}, not an encoded {prefix} URN")
                    return error(400, f"Invalid {name}", "ILLEGAL_ARGUMENT")
                asked.append(("share" if name == "shares" else "ugcPost", urn))
        elements = [
            {
                kind: urn,
                "organizationalEntity": org_urn,
                "totalShareStatistics": self.statistics.get(urn, {}),
            }
            for kind, urn in asked
            if urn in self.posts and self.posts[urn].author == org_urn
        ]
        return JSONResponse({"elements": elements, "paging": {"count": len(elements)}})

    def _member_analytics(self, request: Request, token: Token) -> Response:
        """GET memberCreatorPostAnalytics?q=entity&entity=(share:urn)&queryType=X&aggregation=
        TOTAL: one metric of one of the member's own posts; needs r_member_postAnalytics."""
        q = _raw_query(request)
        entity = re.fullmatch(r"\((share|ugc):([^()]*)\)", q.get("entity", ""))
        if (
            q.get("q") != "entity"
            or entity is None
            or ":" in entity.group(2)
            or q.get("queryType") not in MEMBER_QUERY_TYPES
            or q.get("aggregation") != "TOTAL"
        ):
            self.invalid.append(f"member post analytics query not as documented: {q}")
            return error(400, "Invalid query parameters", "ILLEGAL_ARGUMENT")
        if "r_member_postAnalytics" not in token.scopes:
            return error(403, "Not enough permissions to access: memberCreatorPostAnalytics")
        post = self.posts.get(unquote(entity.group(2)))
        if post is None or post.author != f"urn:li:person:{token.user_id}":
            return error(404, "Post not found")
        count = self.statistics.get(post.urn, {}).get(q["queryType"])
        elements = [] if count is None else [{"count": count, "metricType": q["queryType"]}]
        return JSONResponse({"elements": elements, "paging": {"count": len(elements)}})

    def _find_posts(self, request: Request, token: Token) -> Response:
        q = request.query_params
        author = q.get("author", "")
        if q.get("q") != "author" or not author:
            self.invalid.append(f"posts finder without q=author: {dict(q)}")
            return error(400, "q=author and author are required")
        if author.startswith("urn:li:person:") and author != f"urn:li:person:{token.user_id}":
            return error(403, "Not enough permissions")
        posts = sorted(self.posts_by(author), key=lambda p: -p.created_at)
        posts = posts[: int(q.get("count", "10"))]
        elements = [
            {
                "id": p.urn,
                "author": p.author,
                "commentary": p.commentary,
                "createdAt": p.created_at,
                "lifecycleState": "PUBLISHED",
            }
            for p in posts
        ]
        return JSONResponse({"elements": elements, "paging": {"count": len(elements)}})


ANALYTICS_ROLES = frozenset({"ADMINISTRATOR", "CONTENT_ADMINISTRATOR", "ANALYST"})
"""Organization roles that may read the page's share statistics."""
MEMBER_QUERY_TYPES = frozenset({"IMPRESSION", "MEMBERS_REACHED", "RESHARE", "REACTION", "COMMENT"})
RESTLI_LIST = re.compile(r"^List\(([^()]*)\)$")


def _raw_query(request: Request) -> dict[str, str]:
    """The query as sent, values still percent-encoded (Rest.li 2.0 reads its own syntax)."""
    pairs = (part.partition("=") for part in request.url.query.split("&") if part)
    return {key: value for key, _, value in pairs}
