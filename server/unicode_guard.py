"""Refuse request bodies that are not valid Unicode, before any route sees them.

Two ways text can be broken: bytes that are not UTF-8, and JSON `\\ud800`-style escapes of a lone
surrogate, which `json.loads` happily turns into a Python string that cannot be encoded again.
Left in, such a string fails much later (writing the checkpoint, logging, rendering the
reply) as a 5xx that tells the shopper to retry, and every retry fails the same way. So every
request body is checked once here and refused with 422 and a message naming where the bad text
is; a refused request reaches nothing.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_SURROGATE = re.compile("[\ud800-\udfff]")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def unicode_problem(body: bytes, content_type: str) -> str | None:
    """Why `body` is not valid Unicode, or None. Only JSON bodies are looked into; a body that
    is not JSON at all is left to the route (which answers its own error)."""
    if not body:
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"The request body is not valid UTF-8 (byte {exc.start})."
    if "json" not in content_type and not text.lstrip().startswith(("{", "[")):
        return None
    if "\\u" not in text.lower():
        return None  # decoded UTF-8 cannot hold a surrogate; only a JSON escape can make one
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    where = _surrogate_path(parsed, "body")
    if where is not None:
        return f"{where} contains an invalid Unicode escape (a lone surrogate such as \\ud800)."
    return None


def _surrogate_path(value: Any, path: str) -> str | None:
    """Dotted path of the first string (key or value) holding a lone surrogate."""
    if isinstance(value, str):
        return path if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if _SURROGATE.search(key):
                return f"{path} (a key)"
            found = _surrogate_path(item, f"{path}.{key}")
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _surrogate_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


class UnicodeGuardMiddleware:
    """Buffers each request body (bounded by the body-size middleware around it), checks it with
    `unicode_problem`, then replays it to the app unchanged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left before sending its body: nothing to answer
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        headers = dict(scope.get("headers") or [])
        content_type = headers.get(b"content-type", b"").decode("latin-1").lower()
        problem = unicode_problem(body, content_type)
        if problem is not None:
            await _refuse(send, problem)
            return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # then the real channel: disconnects still reach streaming responses

        await self.app(scope, replay, send)


async def _refuse(send: Send, detail: str) -> None:
    body = json.dumps({"error": "invalid_unicode", "detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 422, "headers": headers})
    await send({"type": "http.response.body", "body": body})
