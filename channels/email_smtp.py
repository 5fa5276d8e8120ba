"""Email over SMTP (aiosmtplib): a few connections per batch, each sending its share of the
messages one after another, so a batch of thousands does not open thousands of connections.

SMTP answers per recipient: 4xx means try later (greylisting, full queue), 5xx means this
address will not take the mail (550 no such user, 553 bad address): permanent. Timeouts and
dropped connections are retryable, and the next message gets a fresh connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import aiosmtplib

from channels.base import OutboundMessage, Outcome, SendResult
from channels.config import Env
from channels.email_mime import DkimKey, Sender, build_message, message_id, to_bytes
from channels.http import result


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    sender: Sender
    port: int = 587
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = True
    implicit_tls: bool = False  # port 465 style
    ca_file: str | None = None  # extra CA bundle, e.g. for a relay with a private CA
    timeout: float = 30.0
    connections: int = 4

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmtpSettings:
        env = Env("SMTP", environ)
        address = env.require("FROM")
        selector = env.optional("DKIM_SELECTOR")
        dkim = (
            None
            if selector is None
            else DkimKey(
                selector=selector,
                domain=env.get("DKIM_DOMAIN", address.rpartition("@")[2]),
                private_key=env.secret("DKIM_PRIVATE_KEY"),
            )
        )
        return cls(
            host=env.require("HOST"),
            sender=Sender(
                address=address,
                name=env.optional("FROM_NAME"),
                unsubscribe_mailto=env.optional("UNSUBSCRIBE_MAILTO"),
                dkim=dkim,
            ),
            port=env.integer("PORT", 587),
            username=env.optional("USERNAME"),
            password=env.optional("PASSWORD"),
            starttls=env.flag("STARTTLS", True),
            implicit_tls=env.flag("IMPLICIT_TLS", False),
            ca_file=env.optional("CA_FILE"),
            timeout=env.number("TIMEOUT", 30.0),
            connections=env.integer("CONNECTIONS", 4),
        )


def smtp_reply(message: OutboundMessage, code: int, text: str) -> SendResult:
    outcome = Outcome.RETRYABLE if 400 <= code < 500 else Outcome.PERMANENT
    return result(message, outcome, error_code=f"smtp_{code}", detail=text)


async def _close(smtp: aiosmtplib.SMTP | None) -> None:
    if smtp is None or not smtp.is_connected:
        return
    try:
        await smtp.quit()
    except (aiosmtplib.SMTPException, OSError):
        smtp.close()


class SmtpEmailChannel:
    """`Channel` for email through an SMTP relay."""

    def __init__(self, settings: SmtpSettings, *, name: str = "email") -> None:
        self.name = name
        self.settings = settings

    async def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        results: dict[int, SendResult] = {}
        work = iter(enumerate(messages))

        async def lane() -> None:
            smtp: aiosmtplib.SMTP | None = None
            try:
                for index, message in work:
                    smtp, results[index] = await self._deliver(smtp, message)
            finally:
                await _close(smtp)

        lanes = min(self.settings.connections, len(messages))
        await asyncio.gather(*(lane() for _ in range(lanes)))
        return [results[i] for i in range(len(messages))]

    async def _connect(self) -> aiosmtplib.SMTP:
        s = self.settings
        smtp = aiosmtplib.SMTP(
            hostname=s.host,
            port=s.port,
            username=s.username,
            password=s.password,
            use_tls=s.implicit_tls,
            start_tls=s.starttls and not s.implicit_tls,
            cert_bundle=s.ca_file,
            timeout=s.timeout,
        )
        await smtp.connect()
        return smtp

    async def _deliver(
        self, smtp: aiosmtplib.SMTP | None, message: OutboundMessage
    ) -> tuple[aiosmtplib.SMTP | None, SendResult]:
        """Send one message on `smtp` (connecting first if needed); returns the connection to
        use for the next message, None when it is no longer usable."""
        sender = self.settings.sender
        try:
            data = to_bytes(build_message(message, sender), sender.dkim)
        except ValueError as exc:  # e.g. a line break smuggled into an address or URL
            return smtp, result(
                message, Outcome.PERMANENT, error_code="invalid_message", detail=str(exc)
            )
        try:
            if smtp is None or not smtp.is_connected:
                smtp = None
                smtp = await self._connect()
            await smtp.sendmail(sender.address, [message.address], data)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refusal = exc.recipients[0]
            return smtp, smtp_reply(message, refusal.code, refusal.message)
        except aiosmtplib.SMTPResponseException as exc:
            return smtp, smtp_reply(message, exc.code, exc.message)
        except (aiosmtplib.SMTPException, OSError) as exc:
            await _close(smtp)
            code = "timeout" if isinstance(exc, TimeoutError) else "connection"
            return None, result(
                message, Outcome.RETRYABLE, error_code=code, detail=type(exc).__name__
            )
        return smtp, result(
            message,
            Outcome.SENT,
            provider_message_id=message_id(message.idempotency_key, sender.domain),
        )
