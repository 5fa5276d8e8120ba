"""The opt-out HTTP service, safe to expose to the internet.

- `GET  /u/{token}`: a confirmation page for a signed unsubscribe link (never unsubscribes by
  itself, so mail scanners that follow links change nothing; shows no personal data).
- `POST /u/{token}` with `List-Unsubscribe=One-Click` (RFC 8058: no cookies, no login).
- `POST /inbound/sms/{tencent|aliyun}`: provider reply callbacks (see optout.inbound).
- `GET  /healthz`.

Bad or forged tokens get the same 400 whatever the customer; a valid token for a customer who
no longer exists gets the normal answer, so nothing reveals who is a customer. Run it with
`python starter.py optout-service` (uvicorn, access log off: URLs carry tokens).

It also serves engagement's endpoints (engagement.service) and records each opt-out as an
engagement event, so it lives here: engagement knows optout, never the reverse.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import default as email_policy
from urllib.parse import parse_qs

from sqlalchemy import Engine, text
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db.engine import default_engine, session_scope
from engagement.hooks import record_reply, record_unsubscribe
from engagement.service import routes as engagement_routes
from optout.apply import CHANNELS, UnknownCustomer, opt_out
from optout.inbound import PROVIDERS, SIGNATURE_HEADER, BadPayload, Reply, authentic
from optout.links import BadToken, read_token
from optout.pages import answer, channel_label, page
from optout.replies import apply_reply
from web.body import read_capped

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024
MAX_TOKEN = 512
Clock = Callable[[], datetime]


class TooLarge(ValueError):
    pass


async def _body(request: Request) -> bytes:
    """Streamed and cut at MAX_BODY before any signature check: a chunked body with no
    Content-Length must not be held in memory whole just to be refused."""
    body = await read_capped(request, MAX_BODY)
    if body is None:
        raise TooLarge(request.headers.get("content-length", "chunked"))
    return body


def is_one_click(content_type: str, body: bytes) -> bool:
    """RFC 8058 §3.1: the POST body carries List-Unsubscribe=One-Click (urlencoded or multipart)."""
    if content_type.startswith("multipart/form-data"):
        doc = BytesParser(policy=email_policy).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        for part in doc.iter_parts():
            value = part.get_payload(decode=True)
            if part.get_param("name", header="content-disposition") == "List-Unsubscribe":
                return isinstance(value, bytes) and value.strip() == b"One-Click"
        return False
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return fields.get("List-Unsubscribe") == ["One-Click"]


def _token(request: Request) -> tuple[int, str, str] | None:
    token = request.path_params["token"]
    if len(token) > MAX_TOKEN:
        return None
    try:
        customer_id, channel, campaign_id = read_token(token)
    except BadToken:
        return None
    return (customer_id, channel, campaign_id) if channel in CHANNELS else None


def create_app(
    engine: Engine | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    clock: Clock = lambda: datetime.now(UTC),
) -> Starlette:
    """The service; `engine` defaults to DATABASE_URL, secrets come from `environ`."""

    def db() -> Engine:
        return engine or default_engine()

    def do_opt_out(customer_id: int, channel: str, campaign_id: str) -> None:
        with session_scope(db()) as session:
            try:
                opt_out(
                    session,
                    customer_id=customer_id,
                    channel=channel,
                    source="one_click",
                    at=clock(),
                    actor="customer:unsubscribe_link",
                    campaign_id=campaign_id,
                )
                record_unsubscribe(
                    session,
                    customer_id=customer_id,
                    channel=channel,
                    campaign_id=campaign_id,
                    at=clock(),
                )
            except UnknownCustomer:
                pass  # answered like any other: the link must not reveal who is a customer

    def do_replies(replies: list[Reply], provider: str) -> None:
        with session_scope(db()) as session:
            for reply in replies:
                apply_reply(session, reply, provider=provider, at=clock())
                record_reply(session, reply, provider=provider, at=clock())

    async def link_page(request: Request) -> Response:
        found = _token(request)
        if found is None:
            return page(400, "链接无效 Invalid link", "This unsubscribe link is not valid.")
        label = channel_label(found[1])
        return page(
            200,
            "退订 Unsubscribe",
            f"停止接收{label}营销消息？ Stop marketing messages on this channel?",
            confirm=True,
        )

    async def link_post(request: Request) -> Response:
        found = _token(request)
        if found is None:
            return page(400, "链接无效 Invalid link", "This unsubscribe link is not valid.")
        try:
            body = await _body(request)
        except TooLarge:
            return page(413, "请求过大 Too large", "Request body too large.")
        if not is_one_click(request.headers.get("content-type", ""), body):
            return page(400, "请求无效 Bad request", "Expected List-Unsubscribe=One-Click.")
        await run_in_threadpool(do_opt_out, *found)
        return page(
            200,
            "已退订 Unsubscribed",
            f"您将不再收到{channel_label(found[1])}营销消息。 You are unsubscribed.",
        )

    async def inbound(request: Request) -> Response:
        provider = PROVIDERS.get(request.path_params["provider"])
        if provider is None:
            return answer({"error": "unknown provider"}, 404)
        secret = provider.secret(environ)
        if secret is None:
            return answer({"error": f"inbound SMS for {provider.name} is not configured"}, 503)
        try:
            body = await _body(request)
        except TooLarge:
            return answer({"error": f"body larger than {MAX_BODY} bytes"}, 413)
        if not authentic(
            secret, body, request.headers.get(SIGNATURE_HEADER), request.query_params.get("token")
        ):
            return answer({"error": "missing or wrong signature"}, 401)
        try:
            replies = provider.parse(json.loads(body))
        except (ValueError, BadPayload) as exc:
            message = str(exc) if isinstance(exc, BadPayload) else "body is not JSON"
            return answer({"error": message}, 400)
        await run_in_threadpool(do_replies, replies, provider.name)
        return answer(provider.ok)

    async def healthz(request: Request) -> Response:
        def ping() -> None:
            with db().connect() as conn:
                conn.execute(text("SELECT 1"))

        try:
            await run_in_threadpool(ping)
        except Exception as exc:  # noqa: BLE001 - health reports, never raises
            log.warning("healthz: database unavailable (%s)", type(exc).__name__)
            return answer({"status": "unavailable"}, 503)
        return answer({"status": "ok"})

    return Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/u/{token}", link_page, methods=["GET"]),
            Route("/u/{token}", link_post, methods=["POST"]),
            Route("/inbound/sms/{provider}", inbound, methods=["POST"]),
            *engagement_routes(engine, environ=environ, clock=clock),
        ]
    )
