"""Browser sign-in for the codec server, so the Temporal UI can decode for people holding the token.

The UI's browser calls the codec server itself and cannot add a bearer token; it can send
cookies (`TEMPORAL_CODEC_INCLUDE_CREDENTIALS=true`). A person opens the codec server's page once,
enters the codec token, and gets an HttpOnly, SameSite=Strict cookie derived from the token (never
the token itself). The UI and codec server are one site (same host, other port), so the cookie
travels with the UI's requests and nowhere else.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from web.body import read_capped

COOKIE = "omnireach_codec"
MAX_AGE = 8 * 3600  # one working day; sign in again after
FORM = """<!doctype html><meta charset="utf-8"><title>omnireach codec</title>
<h1>omnireach codec server</h1><p>{message}</p>
<form method="post" action="/session"><label>Codec token
<input type="password" name="token" autocomplete="off" autofocus></label>
<button type="submit">Sign in</button></form>"""


def session_value(token: str) -> str:
    """What the cookie holds: a MAC of the token, useless for anything but this server."""
    return hmac.new(token.encode(), b"omnireach-codec-session", hashlib.sha256).hexdigest()


def signed_in(request: Request, token: str) -> bool:
    given = request.cookies.get(COOKIE, "")
    return bool(given) and hmac.compare_digest(given.encode(), session_value(token).encode())


def signin_routes(token: str) -> list[Route]:
    """GET / shows the sign-in form; POST /session checks the token and sets the cookie."""

    async def page(request: Request) -> Response:
        state = (
            "Signed in: the Temporal UI shows payloads decoded."
            if signed_in(request, token)
            else "Sign in to let the Temporal UI show decoded payloads."
        )
        return HTMLResponse(FORM.format(message=state))

    async def session(request: Request) -> Response:
        body = await read_capped(request, 4096)
        given = parse_qs((body or b"").decode(errors="replace")).get("token", [""])[0]
        if not hmac.compare_digest(given.encode(), token.encode()):
            return HTMLResponse(FORM.format(message="Wrong codec token."), status_code=401)
        response = HTMLResponse(
            FORM.format(message="Signed in: the Temporal UI shows payloads decoded.")
        )
        response.set_cookie(
            COOKIE,
            session_value(token),
            max_age=MAX_AGE,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    return [Route("/", page, methods=["GET"]), Route("/session", session, methods=["POST"])]
