"""The open pixel and the click redirect, as Starlette endpoints.

Both answer from the token alone: a forged token or a target it was not signed for gets a 400
and no redirect. The visitor always gets the image or the redirect even if recording fails (a
database hiccup must not break a customer's link). `Referrer-Policy: no-referrer` keeps the
token out of the target site's logs; nothing is cached, no cookie is set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from db.engine import session_scope
from engagement.handlers import apply_click, apply_open
from engagement.links import BadLink, read_click_token, read_open_token
from optout.pages import SAFE_HEADERS

log = logging.getLogger(__name__)
PIXEL = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00"
    b"\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
MAX_TOKEN = 128
NO_STORE = {
    "Cache-Control": "no-store, max-age=0",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def _invalid() -> Response:
    return PlainTextResponse("invalid link", 400, headers=SAFE_HEADERS)


def tracking_routes(db: Callable[[], Engine], clock: Callable[[], datetime]) -> list[Route]:
    def store(apply: Callable[..., object], *args: object) -> None:
        try:
            with session_scope(db()) as session:
                apply(session, *args, clock())
        except SQLAlchemyError as exc:
            log.warning("tracking event not recorded: %s", type(exc).__name__)

    async def pixel(request: Request) -> Response:
        token = request.path_params["token"]
        if len(token) > MAX_TOKEN:
            return _invalid()
        try:
            planned_send_id = read_open_token(token)
        except BadLink:
            return _invalid()
        await run_in_threadpool(store, apply_open, planned_send_id)
        return Response(PIXEL, media_type="image/gif", headers=NO_STORE)

    async def click(request: Request) -> Response:
        token, target = request.path_params["token"], request.query_params.get("u", "")
        if len(token) > MAX_TOKEN:
            return _invalid()
        try:
            planned_send_id = read_click_token(token, target)
        except BadLink:
            return _invalid()
        await run_in_threadpool(store, apply_click, planned_send_id, target)
        return RedirectResponse(target, 302, headers=NO_STORE)

    return [
        Route("/o/{token}", pixel, methods=["GET"]),
        Route("/c/{token}", click, methods=["GET"]),
    ]
