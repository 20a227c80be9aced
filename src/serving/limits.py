"""Request limits of the StreamRec API: a request body size cap, enforced before the body is read.

:class:`BodySizeLimit` is plain ASGI middleware (``app.add_middleware(BodySizeLimit)``). It
refuses a request whose ``Content-Length`` is over ``API_MAX_BODY_BYTES`` with 413 without
reading a byte of the body, and one whose ``Content-Length`` is not a number with 400. It also
counts the body as it streams in (chunked uploads, or a client that sends more than it
declared) and answers 413 the moment the count passes the cap. Nothing is ever buffered past
the cap. Why: a 200 MB JSON body used to be read fully (+611 MB RSS, 10–12 s) and stalled
``/health`` for 4 s. Uvicorn discards what a client still sends after the reply, so the
keep-alive connection stays usable and is not reset.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

import orjson

from src.config import API_MAX_BODY_BYTES

__all__ = ["BodySizeLimit"]

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class _BodyTooLarge(Exception):
    """Raised from ``receive`` inside the app once the streamed body passes the cap."""


async def _reply(send: Send, status: int, detail: str) -> None:
    """Send a complete JSON error reply ``{"detail": ...}``."""
    body = orjson.dumps({"detail": detail})
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class BodySizeLimit:
    """ASGI middleware: 413 for request bodies over ``max_bytes`` (declared or streamed)."""

    def __init__(self, app: Callable, max_bytes: int = API_MAX_BODY_BYTES) -> None:
        """In: the wrapped ASGI app and the largest body accepted, in bytes."""
        self.app = app
        self.max_bytes = int(max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_big_msg = f"request body is larger than the {self.max_bytes}-byte limit"
        declared = [v for k, v in scope.get("headers", ()) if k == b"content-length"]
        if declared:
            # Only plain ASCII digits: int() would also accept " 12", "+12" or "1_2".
            text = declared[0]
            if len(declared) > 1 or not text.isdigit() or not text.isascii() or len(text) > 19:
                await _reply(send, 400, "Content-Length must be one decimal number")
                return
            if int(text) > self.max_bytes:
                await _reply(send, 413, too_big_msg)
                return

        received = 0
        overflow = False
        started = False

        async def counted_receive() -> Message:
            nonlocal received, overflow
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    overflow = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if overflow:  # the app's reply to a body it never got whole; ours is the 413
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            # After an overflow, whatever the app raised (our _BodyTooLarge, or its own error
            # about an unreadable body) is answered with the 413 below; anything else is real.
            if not overflow:
                raise
        if overflow and not started:
            await _reply(send, 413, too_big_msg)
