"""Codec endpoint for the Temporal UI and CLI: POST /encode and /decode of payloads.

Only callers presenting `Authorization: Bearer <OMNIREACH_CODEC_TOKEN>`, or the cookie of a
browser signed in with it (`codec_signin`), get an answer, so only people who hold that secret
(configured next to the key ring) can read decoded payloads. Point the UI at it
(`TEMPORAL_CODEC_ENDPOINT` with `TEMPORAL_CODEC_INCLUDE_CREDENTIALS=true`, or the UI's codec
settings) or use `temporal workflow show --codec-endpoint URL --codec-auth "Bearer TOKEN"`.

Run: `python -m privacy.codec_server` (listens on 127.0.0.1:8081; OMNIREACH_CODEC_HOST/PORT;
the UI's origins in OMNIREACH_CODEC_ORIGINS, comma-separated).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Sequence

from google.protobuf import json_format
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from temporalio.api.common.v1 import Payload, Payloads

from privacy.codec import CodecError, EncryptionCodec
from privacy.codec_signin import signed_in, signin_routes
from settings import SettingsError, settings
from web.body import read_capped

UI_ORIGINS = ("http://localhost:8233", "http://127.0.0.1:8233")
MAX_BODY = 4 * 1024 * 1024
MIN_TOKEN_LENGTH = 16

Transform = Callable[[Sequence[Payload]], Awaitable[list[Payload]]]


class CodecServerConfigError(RuntimeError):
    """The codec server has no (or too weak a) bearer token configured."""


def _error(status: int, message: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _authorized(request: Request, token: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer":
        return hmac.compare_digest(given.strip().encode(), token.encode())
    return signed_in(request, token)


def _endpoint(transform: Transform, token: str) -> Callable[[Request], Awaitable[Response]]:
    async def handle(request: Request) -> Response:
        if not _authorized(request, token):
            return _error(401, "missing or wrong bearer token")
        if not request.headers.get("content-type", "").startswith("application/json"):
            return _error(415, "send the payloads as application/json")
        body = await read_capped(request, MAX_BODY)
        if body is None:
            return _error(413, f"body larger than {MAX_BODY} bytes")
        try:
            payloads = json_format.Parse(body, Payloads())
        except json_format.ParseError as exc:
            return _error(400, f"not a Payloads JSON document: {exc}")
        try:
            result = Payloads(payloads=await transform(payloads.payloads))
        except CodecError as exc:
            return _error(422, str(exc))
        return Response(json_format.MessageToJson(result), media_type="application/json")

    return handle


def create_app(
    token: str | None = None,
    codec: EncryptionCodec | None = None,
    origins: Sequence[str] | None = None,
) -> Starlette:
    """The codec app; the token defaults to OMNIREACH_CODEC_TOKEN and is required, the UI's
    origins to OMNIREACH_CODEC_ORIGINS (else the local dev server's)."""
    token = token if token is not None else settings().codec_token
    if origins is None:
        configured = settings().codec_origins.split(",")
        origins = [o.strip() for o in configured if o.strip()] or UI_ORIGINS
    if len(token) < MIN_TOKEN_LENGTH:
        raise CodecServerConfigError(
            f"OMNIREACH_CODEC_TOKEN must be set to a secret of at least {MIN_TOKEN_LENGTH} "
            "characters; the codec server does not run without one"
        )
    codec = codec or EncryptionCodec()
    cors = Middleware(
        CORSMiddleware,
        allow_origins=list(origins),
        allow_methods=["POST"],
        allow_headers=["authorization", "content-type", "x-namespace"],
        allow_credentials=True,
    )
    routes = [
        Route("/encode", _endpoint(codec.encode, token), methods=["POST"]),
        Route("/decode", _endpoint(codec.decode, token), methods=["POST"]),
        *signin_routes(token),
    ]
    return Starlette(routes=routes, middleware=[cors])


def main() -> None:
    import uvicorn

    try:
        config = settings()
        app = create_app()
    except (SettingsError, CodecServerConfigError) as exc:
        raise SystemExit(f"codec server: {exc}") from None
    uvicorn.run(app, host=config.codec_host, port=config.codec_port, access_log=False)


if __name__ == "__main__":
    main()
