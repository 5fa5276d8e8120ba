"""Reading a request body with a cap, before any parsing or signature check."""

from __future__ import annotations

from starlette.requests import Request


async def read_capped(request: Request, limit: int) -> bytes | None:
    """The body, or None when it is (or says it is) larger than `limit`; read as it streams in,
    so an endless chunked body with no Content-Length costs at most `limit` bytes of memory."""
    declared = request.headers.get("content-length", "0")
    if not declared.isdigit() or int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)
