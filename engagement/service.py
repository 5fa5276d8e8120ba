"""The results-coming-back HTTP endpoints, to mount beside the opt-out service.

- `POST /receipts/sms/{aliyun|tencent}`: SMS delivery receipts (see engagement.receipts).
  Neither provider signs its pushes, so the configured URL carries the shared secret
  `OMNIREACH_<ALIYUN|TENCENT>_SMS_CALLBACK_SECRET` as `?token=SECRET`, or a relaying gateway
  sends `X-Omnireach-Signature: sha256=<hex HMAC-SHA256(SECRET, body)>` (as optout.inbound).
- `GET|POST /wechat/{wechat_oa|wechat_mini}`: WeChat server URL check and subscribe-message
  pushes, signed with the Token set in the WeChat console = `OMNIREACH_WECHAT_<OA|MINI>_
  CALLBACK_SECRET` (see engagement.wechat_events).
- `POST /calls/result`: call-center results signed per channels.signing with
  `OMNIREACH_OUTBOUND_CALL_CALLBACK_SECRET` (default: the channel's `…_SECRET`).
- `POST /app/push-opt-out`: the app's own opt-out of promotional pushes, into the consent
  ledger; signed as the relayed SMS callbacks with `OMNIREACH_APP_PUSH_CALLBACK_SECRET`
  (see engagement.app_push).
- `GET /o/{token}`, `GET /c/{token}?u=…`: open pixel and click redirect (engagement.tracking).

Forged or unsigned requests get 401, malformed bodies 400 naming the field, an unconfigured
secret 503. Reports naming sends not known yet get 503 so the provider pushes them again
(what was stored the first time is not stored twice). Logs carry counts, never phone numbers,
openids or tokens.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from channels.config import Env
from channels.outbound_call import CallbackError, parse_callback
from channels.signing import verify_signature
from db.engine import default_engine, session_scope
from engagement.app_push import apply_push_opt_out, parse_opt_out
from engagement.handlers import Applied, apply_call, apply_receipts, apply_wechat
from engagement.receipts import FORMATS
from engagement.tracking import tracking_routes
from engagement.wechat_events import parse_push, signature_ok
from optout.apply import UnknownCustomer
from optout.inbound import MIN_SECRET_LENGTH, SIGNATURE_HEADER, BadPayload, authentic
from optout.pages import answer
from web.body import read_capped

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
WECHAT_CHANNELS = ("wechat_oa", "wechat_mini")
MAX_BODY = 1024 * 1024  # a provider's batch push of receipts can hold hundreds of reports


def callback_secret(
    env: str, environ: Mapping[str, str] | None, fallback: str | None = None
) -> str | None:
    """`OMNIREACH_<env>_CALLBACK_SECRET` (else `…_<fallback>`) if long enough to be a secret."""
    vars_ = Env(env, environ)
    value = vars_.optional("CALLBACK_SECRET") or (vars_.optional(fallback) if fallback else None)
    return value if value and len(value) >= MIN_SECRET_LENGTH else None


def _outcome(applied: Applied, ok: Response, what: str) -> Response:
    if applied.unmatched:
        log.info("%s: %d stored, %d for unknown sends", what, applied.stored, applied.unmatched)
        return answer({"error": f"{applied.unmatched} item(s) name sends not known yet"}, 503)
    return ok


def routes(
    engine: Engine | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    clock: Clock = lambda: datetime.now(UTC),
) -> list[Route]:
    """The endpoints; `engine` defaults to DATABASE_URL, secrets come from `environ`."""

    def db() -> Engine:
        return engine or default_engine()

    def apply(fn: Callable[..., Applied], *args: object) -> Applied:
        with session_scope(db()) as session:
            return fn(session, *args, clock())

    async def run(fn: Callable[..., Applied], *args: object) -> Applied | Response:
        try:
            return await run_in_threadpool(apply, fn, *args)
        except SQLAlchemyError as exc:
            log.warning("callback not stored: %s", type(exc).__name__)
            return answer({"error": "temporarily unavailable"}, 503)

    async def body_of(request: Request) -> bytes | Response:
        body = await read_capped(request, MAX_BODY)
        if body is None:
            return answer({"error": f"body larger than {MAX_BODY} bytes"}, 413)
        return body

    async def sms_receipts(request: Request) -> Response:
        fmt = FORMATS.get(request.path_params["provider"])
        if fmt is None:
            return answer({"error": "unknown provider"}, 404)
        secret = callback_secret(fmt.env, environ)
        if secret is None:
            return answer({"error": f"receipts from {fmt.provider} are not configured"}, 503)
        body = await body_of(request)
        if isinstance(body, Response):
            return body
        if not authentic(
            secret, body, request.headers.get(SIGNATURE_HEADER), request.query_params.get("token")
        ):
            return answer({"error": "missing or wrong signature"}, 401)
        try:
            receipts = fmt.parse(json.loads(body))
        except (ValueError, BadPayload) as exc:
            return answer({"error": str(exc) if isinstance(exc, BadPayload) else "not JSON"}, 400)
        applied = await run(apply_receipts, fmt.provider, receipts)
        if isinstance(applied, Response):
            return applied
        return _outcome(applied, answer(fmt.ok), f"{fmt.provider} receipts")

    def wechat_token(request: Request) -> str | Response:
        channel = request.path_params["channel"]
        if channel not in WECHAT_CHANNELS:
            return answer({"error": "unknown account"}, 404)
        token = callback_secret(channel.upper(), environ)
        if token is None:
            return answer({"error": f"{channel} events are not configured"}, 503)
        if not signature_ok(token, request.query_params):
            return answer({"error": "missing or wrong signature"}, 401)
        return token

    async def wechat_check(request: Request) -> Response:
        checked = wechat_token(request)
        if isinstance(checked, Response):
            return checked
        return PlainTextResponse(request.query_params.get("echostr", "")[:128])

    async def wechat_push(request: Request) -> Response:
        checked = wechat_token(request)
        if isinstance(checked, Response):
            return checked
        body = await body_of(request)
        if isinstance(body, Response):
            return body
        try:
            push = parse_push(body)
        except BadPayload as exc:
            return answer({"error": str(exc)}, 400)
        if push is None:
            return PlainTextResponse("success")
        applied = await run(apply_wechat, request.path_params["channel"], push)
        if isinstance(applied, Response):
            return applied
        if push.event != "subscribe_msg_sent_event":  # an unknown openid will not become known
            return PlainTextResponse("success")
        return _outcome(applied, PlainTextResponse("success"), "wechat send results")

    async def call_result(request: Request) -> Response:
        secret = callback_secret("OUTBOUND_CALL", environ, fallback="SECRET")
        if secret is None:
            return answer({"error": "call results are not configured"}, 503)
        body = await body_of(request)
        if isinstance(body, Response):
            return body
        if not verify_signature(secret, request.headers, body):
            return answer({"error": "signature missing, stale or wrong"}, 401)
        try:
            report = parse_callback(secret, request.headers, body)
        except CallbackError as exc:
            return answer({"error": str(exc)}, 400)
        applied = await run(apply_call, report)
        if isinstance(applied, Response):
            return applied
        return _outcome(applied, answer({"ok": True}), "call result")

    async def push_opt_out(request: Request) -> Response:
        secret = callback_secret("APP_PUSH", environ)
        if secret is None:
            return answer({"error": "in-app push opt-outs are not configured"}, 503)
        body = await body_of(request)
        if isinstance(body, Response):
            return body
        if not authentic(secret, body, request.headers.get(SIGNATURE_HEADER), None):
            return answer({"error": "missing or wrong signature"}, 401)
        try:
            applied = await run(apply_push_opt_out, parse_opt_out(body))
        except BadPayload as exc:
            return answer({"error": str(exc)}, 400)
        except UnknownCustomer:
            return answer({"error": "customer_id: no such customer"}, 404)
        if isinstance(applied, Response):
            return applied
        return answer({"ok": True})

    return [
        Route("/receipts/sms/{provider}", sms_receipts, methods=["POST"]),
        Route("/app/push-opt-out", push_opt_out, methods=["POST"]),
        Route("/wechat/{channel}", wechat_check, methods=["GET"]),
        Route("/wechat/{channel}", wechat_push, methods=["POST"]),
        Route("/calls/result", call_result, methods=["POST"]),
        *tracking_routes(db, clock),
    ]


def create_app(
    engine: Engine | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    clock: Clock = lambda: datetime.now(UTC),
) -> Starlette:
    """The endpoints as their own app (tests, or to run apart from the opt-out service)."""
    return Starlette(routes=routes(engine, environ=environ, clock=clock))
