"""XRPC over httpx, and finding an account's PDS from its handle (atproto identity).

Kept apart from the publisher so that bluesky.py reads as the publishing steps and this file
as the wire: one request shape, one error shape (`{"error": Name, "message": ...}`).
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from masthead.domain.inputs import ascii_int
from masthead.net.encoding import EncodingRefused, Oversized, read_capped
from masthead.platforms import kit
from masthead.platforms.http import retry_after


@dataclass
class XrpcError(Exception):
    """An answer that is not 2xx, in the platform's own terms."""

    status: int
    error: str
    message: str
    retry_after: float | None = None

    def __str__(self) -> str:
        return f"{self.status} {self.error}: {self.message}" if self.message else self.error


def rate_limit_wait(response: httpx.Response) -> float | None:
    """Seconds to wait: `Retry-After`, else the `ratelimit-reset` epoch when nothing remains."""
    after = retry_after(response.headers)
    if after is not None:
        return after
    reset, remaining = (
        response.headers.get("ratelimit-reset"),
        response.headers.get("ratelimit-remaining"),
    )
    at = ascii_int(reset or "")
    if at is not None and (response.status_code == 429 or remaining == "0"):
        return max(0.0, at - time.time())
    return None


async def xrpc(
    client: httpx.AsyncClient,
    service: str,
    nsid: str,
    *,
    token: str | None = None,
    params: Mapping[str, str | list[str]] | None = None,
    body: dict[str, Any] | None = None,
    content: bytes | None = None,
    content_type: str | None = None,
    procedure: bool = False,
) -> dict[str, Any]:
    """One call: a procedure (POST) when it has a body or `procedure` says so (refreshSession
    has no body), else a query (GET)."""
    headers: dict[str, str] = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    url = f"{service.rstrip('/')}/xrpc/{nsid}"
    if body is not None:
        headers["Content-Type"] = "application/json"
        response = await client.post(url, content=orjson.dumps(body), headers=headers)
    elif content is not None:
        headers["Content-Type"] = content_type or "application/octet-stream"
        response = await client.post(url, content=content, headers=headers)
    elif procedure:
        response = await client.post(url, headers=headers)
    else:
        response = await client.get(url, params=params, headers=headers)
    try:
        data = response.json()
    except ValueError:
        data = None
    if response.is_success and isinstance(data, dict):
        return data
    error, message = "", ""
    if isinstance(data, dict):
        error, message = str(data.get("error") or ""), str(data.get("message") or "")
    raise XrpcError(
        response.status_code,
        error or f"HTTP {response.status_code}",
        message or response.reason_phrase,
        rate_limit_wait(response),
    )


def token_expires_within(jwt: str, seconds: float) -> bool:
    """Whether an access token (a JWT we only read, never verify) ends within `seconds`:
    renewing first saves a refused call. Unreadable tokens count as expiring."""
    try:
        payload = jwt.split(".")[1]
        claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return float(claims["exp"]) < time.time() + seconds
    except (IndexError, ValueError, KeyError, TypeError):
        return True


def check_pds_endpoint(endpoint: str, allow: frozenset[tuple[str, int]]) -> str:
    """A PDS URL taken from a DID document (which its owner writes, not the operator) must be
    https, unless the operator allowed its host:port (MASTHEAD_FETCH_ALLOW, for local PDSes)."""
    parts = urlsplit(endpoint)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    allowed = {(host.lower().strip("[]"), number) for host, number in allow}
    if parts.scheme == "https" or (
        parts.scheme == "http" and ((parts.hostname or "").lower(), port) in allowed
    ):
        return endpoint.rstrip("/")
    raise kit.Permanent(f"The account's PDS {endpoint!r} is not an https URL; Masthead refuses it")


IDENTITY_BYTES = 64 * 1024
"""A handle's DID or a DID document is a few hundred bytes; its host is whoever the user
names, so its answer is read capped and decoded off the event loop."""


async def _identity_document(client: httpx.AsyncClient, url: str) -> tuple[bool, bytes]:
    async with client.stream("GET", url) as response:
        return response.is_success, await read_capped(response, IDENTITY_BYTES)


async def resolve_did(client: httpx.AsyncClient, handle: str) -> str:
    """A handle's DID through `https://<handle>/.well-known/atproto-did` (the HTTPS method
    every bsky.social handle supports). A DID given as the identifier is used as is."""
    if handle.startswith("did:"):
        return handle
    try:
        ok, body = await _identity_document(client, f"https://{handle}/.well-known/atproto-did")
    except (httpx.HTTPError, EncodingRefused, Oversized) as exc:
        raise kit.Permanent(f"Cannot resolve the Bluesky handle {handle}: {exc}") from exc
    did = body.decode("utf-8", "replace").strip()
    if not ok or not did.startswith("did:"):
        raise kit.Permanent(f"Cannot resolve the Bluesky handle {handle}: no DID at its domain")
    return did


async def pds_of(client: httpx.AsyncClient, plc_url: str, did: str) -> str:
    """The `#atproto_pds` service endpoint of a did:plc (from the PLC directory) or a did:web
    (from its domain's /.well-known/did.json)."""
    if did.startswith("did:plc:"):
        url = f"{plc_url.rstrip('/')}/{did}"
    elif did.startswith("did:web:"):
        url = f"https://{did.removeprefix('did:web:')}/.well-known/did.json"
    else:
        raise kit.Permanent(f"Unsupported DID method: {did}")
    try:
        ok, body = await _identity_document(client, url)
        document = orjson.loads(body) if ok else {}
    except (httpx.HTTPError, ValueError, EncodingRefused, Oversized) as exc:
        raise kit.Permanent(f"Cannot read the DID document of {did}: {exc}") from exc
    services = document.get("service") if isinstance(document, dict) else None
    for service in services if isinstance(services, list) else []:
        if isinstance(service, dict) and str(service.get("id", "")).endswith("#atproto_pds"):
            return str(service.get("serviceEndpoint", ""))
    raise kit.Permanent(f"The DID document of {did} names no PDS")
