"""Security headers on every response of the app: a Content-Security-Policy and no framing.

The policy allows scripts only from the app itself, plus the inline scripts of each HTML page
it serves, by their sha256 (Gradio's page carries its configuration inline): nothing injected
into a page can run, and nothing is loaded from anywhere else. Styles may be inline (Gradio
sets them per component). Other sites cannot frame the app (`frame-ancestors 'self'`).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

POLICY = (
    "default-src 'self'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "worker-src 'self' blob:; frame-src 'self'; frame-ancestors 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'"
)
HEADERS = {
    b"x-frame-options": b"SAMEORIGIN",
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"same-origin",
}
INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", re.DOTALL | re.I)


def content_security_policy(page: bytes = b"") -> str:
    """Return the policy for a response, allowing the inline scripts of an HTML page by hash."""
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(body).digest()).decode()}'"
        for body in dict.fromkeys(m.group(1) for m in INLINE_SCRIPT.finditer(page))
    )
    return POLICY.format(hashes=hashes)


class SecurityHeaders:
    """ASGI middleware that adds the headers above to every HTTP response.

    A response that sets its own policy (a cached web page served as `sandbox`) keeps it, with
    `frame-ancestors 'self'` added. HTML bodies are read whole to hash their inline scripts;
    everything else (event streams, files) passes through as it streams.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        body: list[bytes] = []

        async def send_with_headers(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                if not _is_html(message):
                    _add_headers(message, content_security_policy())
                    await send(message)
                return
            if message["type"] != "http.response.body" or start is None or not _is_html(start):
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            page = b"".join(body)
            _add_headers(start, content_security_policy(page))
            start["headers"] = [
                (k, str(len(page)).encode() if k.lower() == b"content-length" else v)
                for k, v in start["headers"]
            ]
            await send(start)
            await send({"type": "http.response.body", "body": page, "more_body": False})

        await self.app(scope, receive, send_with_headers)


def _is_html(start: Message) -> bool:
    return any(
        k.lower() == b"content-type" and v.lower().startswith(b"text/html")
        for k, v in start.get("headers", [])
    )


def _add_headers(start: Message, policy: str) -> None:
    """Add the security headers to a response start, keeping a policy the response set itself."""
    headers = list(start.get("headers", []))
    names = {k.lower() for k, _ in headers}
    for i, (name, value) in enumerate(headers):
        if name.lower() == b"content-security-policy" and b"frame-ancestors" not in value:
            headers[i] = (name, value + b"; frame-ancestors 'self'")
    if b"content-security-policy" not in names:
        headers.append((b"content-security-policy", policy.encode()))
    headers += [(k, v) for k, v in HEADERS.items() if k not in names]
    start["headers"] = headers
