"""Security headers on every answer, as one pure ASGI middleware (installed where the app is
assembled).

No page may be framed (the revoke and cancel buttons could be clicked through a transparent
frame), and pages run only scripts and styles served from this origin: the templates, htmx
(configured in base.html not to inject its own style element), static/app.js and the
vendored Swagger UI need nothing else. `form-action` is left out on purpose: Chromium applies
it to the redirect after a form is sent, and the OAuth connect form redirects to the
platform's authorize page.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    )
)
HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)


def secured(headers: Sequence[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """`headers` and each security header it does not already set (a page may set its own)."""
    present = {name.lower() for name, _ in headers}
    return [*headers, *(header for header in HEADERS if header[0] not in present)]


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = secured(message.get("headers", ()))
            await send(message)

        await self.app(scope, receive, send_with_headers)
