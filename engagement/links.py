"""Signed tracking links: the open pixel `/o/{token}` and the click redirect `/c/{token}?u=…`.

A token carries the planned send id and an HMAC (key derived from the key ring's index key,
apart from the unsubscribe-link key). The click signature also covers the target URL, so a
link cannot be re-pointed elsewhere: the service is not an open redirect. Open and click
signatures differ by purpose, so one cannot stand in for the other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from urllib.parse import quote, urlsplit

from privacy.keys import keyring
from settings import public_url

MAX_TARGET = 2048
_SIG_BYTES = 16
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")


class BadLink(ValueError):
    """A token we did not issue, or a target that is not a plain http(s) URL."""


def _key() -> bytes:
    return hmac.new(keyring().index_key, b"engagement-link", hashlib.sha256).digest()


def _sign(purpose: str, planned_send_id: int, target: str = "") -> bytes:
    message = f"{purpose}|{planned_send_id}|{target}".encode()
    return hmac.new(_key(), message, hashlib.sha256).digest()[:_SIG_BYTES]


def _token(purpose: str, planned_send_id: int, target: str = "") -> str:
    raw = str(planned_send_id).encode() + b"|" + _sign(purpose, planned_send_id, target)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read(token: str, purpose: str, target: str = "") -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        raise BadLink("token is not base64") from None
    ident, sep, sig = raw[: -_SIG_BYTES - 1], raw[-_SIG_BYTES - 1 : -_SIG_BYTES], raw[-_SIG_BYTES:]
    if sep != b"|" or not ident.isdigit() or len(ident) > 19:
        raise BadLink("malformed token")
    planned_send_id = int(ident)
    if not hmac.compare_digest(sig, _sign(purpose, planned_send_id, target)):
        raise BadLink("signature mismatch")
    return planned_send_id


def check_target(target: str) -> str:
    """The target if it is an absolute http(s) URL with a host and no spaces or backslashes."""
    if len(target) > MAX_TARGET or _UNSAFE.search(target):
        raise BadLink("target URL is too long or has spaces, control characters or backslashes")
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadLink("target must be an absolute http(s) URL")
    return target


def open_token(planned_send_id: int) -> str:
    return _token("open", planned_send_id)


def click_token(planned_send_id: int, target: str) -> str:
    return _token("click", planned_send_id, check_target(target))


def read_open_token(token: str) -> int:
    """The planned send id of an open-pixel token, or BadLink."""
    return _read(token, "open")


def read_click_token(token: str, target: str) -> int:
    """The planned send id, if the token was issued for exactly this target; else BadLink."""
    return _read(token, "click", check_target(target))


def open_pixel_url(planned_send_id: int) -> str:
    """URL of the 1×1 image to put at the end of an HTML email."""
    return f"{public_url()}/o/{open_token(planned_send_id)}"


def click_url(planned_send_id: int, target: str) -> str:
    """A tracked link that records the click and redirects to `target`."""
    return f"{public_url()}/c/{click_token(planned_send_id, target)}?u={quote(target, safe='')}"
