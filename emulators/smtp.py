"""SMTP relay emulator on aiosmtpd: optional STARTTLS and AUTH, parses and keeps every message
it accepts, refuses chosen recipients (550 by default), and takes the same fault plan as the
HTTP emulators (`fail(status=451)` answers RCPT with that code, `stall` delays it). A message
whose Message-ID it has already accepted is acknowledged but not stored again."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from emulators.base import FaultPlan
from emulators.server import free_port

NO_SUCH_USER = "550 5.1.1 Recipient address rejected: no such user"


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    raw: bytes


class SmtpEmulator:
    def __init__(
        self,
        *,
        username: str | None = None,
        password: str | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.username = username
        self.password = password
        self.tls_context = tls_context
        self.faults = FaultPlan()
        self.received: list[ReceivedMail] = []
        self.authenticated: list[str] = []
        self.peers: set[str] = set()  # client "(host, port)": one per connection
        self._message_ids: set[str | None] = set()  # of `received`, for the duplicate check

    def reset(self) -> None:
        self.faults.clear()
        self.received.clear()
        self.authenticated.clear()
        self.peers.clear()
        self._message_ids.clear()

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self.username
            and auth_data.password.decode() == self.password
        )
        if ok:
            self.authenticated.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd replies 535

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        self.peers.add(str(session.peer))
        fault = self.faults.next()
        if fault is not None and fault.delay:
            await asyncio.sleep(fault.delay)
        if fault is not None and fault.status is not None:
            return f"{fault.status} 4.3.0 injected fault"
        if address in self.faults.refused:
            return self.faults.refused[address] or NO_SUCH_USER
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = BytesParser(policy=policy.default).parsebytes(raw)
        message_id = None if message["Message-ID"] is None else str(message["Message-ID"])
        if message_id not in self._message_ids:
            self._message_ids.add(message_id)
            self.received.append(
                ReceivedMail(str(envelope.mail_from), list(envelope.rcpt_tos), message, raw)
            )
        return "250 2.0.0 OK: queued"

    @contextmanager
    def running(self) -> Iterator[int]:
        """Listen on 127.0.0.1 until the block ends; yields the port."""
        port = free_port()
        auth = self.username is not None
        controller = Controller(
            self,
            hostname="127.0.0.1",
            port=port,
            tls_context=self.tls_context,
            require_starttls=self.tls_context is not None,
            auth_required=auth,
            auth_require_tls=self.tls_context is not None,
            authenticator=self.authenticate if auth else None,
        )
        controller.start()
        try:
            yield port
        finally:
            controller.stop()
