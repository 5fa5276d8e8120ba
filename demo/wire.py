"""Real wire traffic for `make demo`: the SMTP, Alibaba Cloud SMS and JPush emulators in this
process, and the environment that points a worker's adapters at them.

The emulators check what the providers check (STARTTLS and AUTH, the HMAC-SHA1 request
signature, sign name, template code, mainland numbers, Basic auth, issued cids, registered
devices), so a send the demo counts as made crossed a socket in the provider's own format.
Credentials are made up per run. The summary shows one request of each format, with phone
numbers and email addresses masked.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

from sqlalchemy import Engine, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from db.engine import default_engine
from emulators.aliyun_sms import AliyunSmsEmulator
from emulators.jpush import JPushEmulator
from emulators.server import serve
from emulators.smtp import SmtpEmulator
from emulators.tls import self_signed
from models.tables import Customer
from privacy.masking import mask_email, mask_phone

PROVIDERS = "sms=aliyun,email=smtp,app_push=jpush"
BRAND = "欧姆尼百货"
SENDER = "news@omnireach.example"
# One-click unsubscribe (RFC 8058) needs an https link; used unless OMNIREACH_PUBLIC_URL is set.
PUBLIC_URL = "https://omnireach.example"
# Templates registered with the demo SMS account, as a retailer registers them with Alibaba
# before sending (examples/demo-campaign.yaml uses this one), with their required variables.
SMS_TEMPLATES: dict[str, tuple[str, ...]] = {
    "SMS_205123456": ("honorific", "end_time"),
    "SMS_205123457": ("honorific", "end_time"),  # the journey's A/B variant B
}
_LINK_TOKEN = re.compile(r"(/u/[\w-]{6})[\w-]+")


def _not_aiosmtpd_legacy_note(record: logging.LogRecord) -> bool:
    """aiosmtpd warns about its own deprecated attribute on every AUTH; not news in a demo."""
    return "login_data is deprecated" not in record.getMessage()


@dataclass(frozen=True)
class Exchange:
    """One HTTP request exactly as the adapter sent it, and the emulator's answer."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    answer: bytes


class Tap:
    """ASGI wrapper that keeps every exchange with the wrapped emulator, byte for byte."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.exchanges: list[Exchange] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body, answer, status = bytearray(), bytearray(), [0]

        async def tapped_receive() -> Message:
            message = await receive()
            body.extend(message.get("body", b""))
            return message

        async def tapped_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            answer.extend(message.get("body", b""))
            await send(message)

        await self.app(scope, tapped_receive, tapped_send)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        self.exchanges.append(
            Exchange(scope["method"], scope["path"], headers, bytes(body), status[0], bytes(answer))
        )


@dataclass(frozen=True)
class WireSetup:
    env: dict[str, str]  # everything a worker process needs to send through the emulators
    summary: Callable[[], str]
    smtp: SmtpEmulator
    aliyun: AliyunSmsEmulator
    jpush: JPushEmulator
    sms_wire: Tap
    push_wire: Tap


def registered_devices(engine: Engine) -> set[str]:
    """The push registration ids of the customer base: the devices the JPush app knows."""
    with engine.connect() as conn:
        query = select(Customer.device_id).where(Customer.device_id.is_not(None)).distinct()
        return {device for device in conn.execute(query).scalars() if device is not None}


@contextmanager
def wire_emulators(var_dir: Path, engine: Engine | None = None) -> Iterator[WireSetup]:
    """Run the three emulators until the block ends. `engine` is the database whose customers'
    devices JPush accepts (the configured one by default); the throwaway TLS key lives in
    `var_dir` only while the block runs."""
    key_id, key_secret = f"LTAI{secrets.token_hex(10)}", secrets.token_urlsafe(24)
    app_key, master_secret = secrets.token_hex(12), secrets.token_hex(12)
    smtp_user, smtp_password = "omnireach-demo", secrets.token_urlsafe(16)
    aliyun = AliyunSmsEmulator(
        access_key_id=key_id,
        access_key_secret=key_secret,
        sign_names=[BRAND],
        templates=SMS_TEMPLATES,
    )
    jpush = JPushEmulator(
        app_key=app_key,
        master_secret=master_secret,
        devices=registered_devices(engine or default_engine()),
    )
    sms_wire, push_wire = Tap(aliyun.app), Tap(jpush.app)
    var_dir.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        smtp_log = logging.getLogger("mail.log")
        smtp_log.addFilter(_not_aiosmtpd_legacy_note)
        stack.callback(smtp_log.removeFilter, _not_aiosmtpd_legacy_note)
        tls_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="wire-", dir=var_dir))
        tls_context, cert_file = self_signed(Path(tls_dir))
        smtp = SmtpEmulator(username=smtp_user, password=smtp_password, tls_context=tls_context)
        smtp_port = stack.enter_context(smtp.running())
        sms_url = stack.enter_context(serve(sms_wire))
        push_url = stack.enter_context(serve(push_wire))
        env = {
            "OMNIREACH_CHANNEL_PROVIDERS": PROVIDERS,
            "OMNIREACH_SMTP_HOST": "127.0.0.1",
            "OMNIREACH_SMTP_PORT": str(smtp_port),
            "OMNIREACH_SMTP_STARTTLS": "true",
            "OMNIREACH_SMTP_CA_FILE": str(cert_file),
            "OMNIREACH_SMTP_USERNAME": smtp_user,
            "OMNIREACH_SMTP_PASSWORD": smtp_password,
            "OMNIREACH_SMTP_FROM": SENDER,
            "OMNIREACH_SMTP_FROM_NAME": BRAND,
            "OMNIREACH_SMTP_UNSUBSCRIBE_MAILTO": f"unsubscribe@{SENDER.partition('@')[2]}",
            "OMNIREACH_ALIYUN_SMS_ACCESS_KEY_ID": key_id,
            "OMNIREACH_ALIYUN_SMS_ACCESS_KEY_SECRET": key_secret,
            "OMNIREACH_ALIYUN_SMS_SIGN_NAME": BRAND,
            "OMNIREACH_ALIYUN_SMS_ENDPOINT": f"{sms_url}/",
            "OMNIREACH_JPUSH_APP_KEY": app_key,
            "OMNIREACH_JPUSH_MASTER_SECRET": master_secret,
            "OMNIREACH_JPUSH_BASE_URL": push_url,
        }
        if "OMNIREACH_PUBLIC_URL" not in os.environ:
            env["OMNIREACH_PUBLIC_URL"] = PUBLIC_URL
        yield WireSetup(
            env,
            lambda: summarize(smtp, aliyun, sms_wire, jpush, push_wire),
            smtp,
            aliyun,
            jpush,
            sms_wire,
            push_wire,
        )


def _short(value: str, keep: int = 8) -> str:
    return value if len(value) <= keep + 1 else f"{value[:keep]}…"


def _smtp_lines(smtp: SmtpEmulator) -> list[str]:
    head = (
        f"  email     SMTP, STARTTLS + AUTH: {len(smtp.received)} mails accepted "
        f"on {len(smtp.peers)} connections"
    )
    if not smtp.received:
        return [head]
    mail = smtp.received[0]
    email = mail.message
    parts = ", ".join(p.get_content_type() for p in email.iter_parts())
    unsubscribe = _LINK_TOKEN.sub(r"\1…", str(email["List-Unsubscribe"]))
    return [
        head,
        f"            MAIL FROM:<{mail.mail_from}>  "
        f"RCPT TO:<{', '.join(mask_email(r) for r in mail.rcpt_tos)}>",
        f"            Message-ID: {email['Message-ID']}",
        f"            Content-Type: {email.get_content_type()} ({parts})",
        f"            List-Unsubscribe: {unsubscribe}",
        f"            List-Unsubscribe-Post: {email['List-Unsubscribe-Post']}",
    ]


def _code(exchange: Exchange) -> str:
    """Alibaba's `Code` in an answer (200 or not), `http_<status>` if the body has none."""
    try:
        return str(json.loads(exchange.answer)["Code"])
    except (ValueError, KeyError, TypeError):
        return f"http_{exchange.status}"


def _sms_lines(aliyun: AliyunSmsEmulator, wire: Tap) -> list[str]:
    answers = [(x, _code(x)) for x in wire.exchanges]
    codes = Counter(code for _, code in answers)
    head = (
        f"  sms       Alibaba Cloud SendSms: {len(aliyun.deliveries)} accepted, "
        f"signatures verified; answers {dict(codes)}"
    )
    sent = next((x for x, code in answers if code == "OK"), None)
    if sent is None:
        return [head]
    q = dict(parse_qsl(sent.body.decode()))
    names = ", ".join(sorted(json.loads(q.get("TemplateParam") or "{}")))
    return [
        head,
        f"            {sent.method} {sent.path} Action={q['Action']} Version={q['Version']} "
        f"SignatureMethod={q['SignatureMethod']} Signature={_short(q['Signature'])}",
        f"            SignName={q['SignName']} TemplateCode={q['TemplateCode']} "
        f"PhoneNumbers={','.join(mask_phone(n) for n in q['PhoneNumbers'].split(','))}",
        f"            OutId={q.get('OutId')} TemplateParam keys: {names or '-'}",
    ]


def _push_lines(jpush: JPushEmulator, wire: Tap) -> list[str]:
    posts = sum(1 for x in wire.exchanges if x.path == "/v3/push")
    head = (
        f"  app_push  JPush v3: {len(jpush.deliveries)} pushes accepted of {posts} POST "
        f"/v3/push; {len(jpush.issued)} cids issued"
    )
    sent = next((x for x in wire.exchanges if x.path == "/v3/push" and x.status == 200), None)
    if sent is None:
        return [head]
    body = json.loads(sent.body)
    ids = [_short(r) for r in body["audience"]["registration_id"]]
    scheme = sent.headers.get("authorization", "").partition(" ")[0] or "none"
    return [
        head,
        f"            {sent.method} {sent.path} Authorization: {scheme} ***  "
        f"platform={body['platform']} cid={_short(body.get('cid') or '-', 16)}",
        f"            audience.registration_id={ids} "
        f"notification: {', '.join(sorted(body.get('notification') or {}))}",
    ]


def summarize(
    smtp: SmtpEmulator,
    aliyun: AliyunSmsEmulator,
    sms_wire: Tap,
    jpush: JPushEmulator,
    push_wire: Tap,
) -> str:
    """What each emulator received: counts and one request of each wire format, PII masked."""
    return "\n".join(
        [
            "wire traffic at the provider emulators (phones and emails masked):",
            *_smtp_lines(smtp),
            *_sms_lines(aliyun, sms_wire),
            *_push_lines(jpush, push_wire),
        ]
    )
