"""Building the MIME message for one email: multipart/alternative, one-click unsubscribe
headers (RFC 8058), a Message-ID derived from the idempotency key, and optional DKIM.

`body` is the plain-text part; `params["html_body"]` the HTML part (else the text, escaped).
`params["unsubscribe_url"]` (https) and `params["unsubscribe_mailto"]` (or the configured
mailbox) fill `List-Unsubscribe`; the one-click POST header goes with the https URL only.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, formatdate

import dkim as dkimpy

from channels.base import OutboundMessage

# RFC 5322's hard line limit instead of the 78-character default: folding would otherwise
# RFC 2047-encode long unsubscribe URLs, which mail clients then cannot use.
POLICY = SMTP.clone(max_line_length=998)
_DKIM_HEADERS = [
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"mime-version",
    b"content-type",
]


@dataclass(frozen=True)
class DkimKey:
    selector: str
    domain: str
    private_key: str = field(repr=False)  # PEM


@dataclass(frozen=True)
class Sender:
    address: str
    name: str | None = None
    unsubscribe_mailto: str | None = None  # mailbox that takes "unsubscribe" mails
    dkim: DkimKey | None = None

    @property
    def domain(self) -> str:
        return self.address.rpartition("@")[2]


def message_id(idempotency_key: str, domain: str) -> str:
    """Stable per message, so a retried send carries the same Message-ID and mailbox
    providers that dedupe on it show one copy."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]
    return f"<{digest}@{domain}>"


def _html_from_text(text: str) -> str:
    paragraphs = "".join(
        f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in text.split("\n\n")
    )
    return f"<!DOCTYPE html><html><body>{paragraphs}</body></html>"


def _list_unsubscribe(message: OutboundMessage, sender: Sender) -> tuple[str | None, bool]:
    """(List-Unsubscribe value, whether one-click POST applies)."""
    url = message.params.get("unsubscribe_url")
    mailto = message.params.get("unsubscribe_mailto") or sender.unsubscribe_mailto
    targets = []
    if url:
        targets.append(f"<{url}>")
    if mailto:
        targets.append(f"<{mailto if mailto.startswith('mailto:') else 'mailto:' + mailto}>")
    return (", ".join(targets) or None), bool(url and url.startswith("https://"))


def build_message(message: OutboundMessage, sender: Sender) -> EmailMessage:
    email = EmailMessage(policy=POLICY)
    email["From"] = formataddr((sender.name or "", sender.address))
    email["To"] = message.address
    email["Subject"] = message.subject or ""
    email["Date"] = formatdate(localtime=False, usegmt=True)
    email["Message-ID"] = message_id(message.idempotency_key, sender.domain)
    unsubscribe, one_click = _list_unsubscribe(message, sender)
    if unsubscribe:
        email["List-Unsubscribe"] = unsubscribe
    if one_click:
        email["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    email.set_content(message.body)
    email.add_alternative(
        message.params.get("html_body") or _html_from_text(message.body), subtype="html"
    )
    return email


def to_bytes(email: EmailMessage, dkim: DkimKey | None) -> bytes:
    """The wire bytes, with a DKIM-Signature over exactly those bytes when a key is set."""
    raw = email.as_bytes(policy=POLICY)
    if dkim is None:
        return raw
    signature = dkimpy.sign(
        raw,
        dkim.selector.encode(),
        dkim.domain.encode(),
        dkim.private_key.encode(),
        include_headers=_DKIM_HEADERS,
    )
    return signature + raw
