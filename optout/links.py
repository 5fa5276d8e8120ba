"""Signed one-click unsubscribe tokens: no login, no guessable ids, verifiable offline."""

from __future__ import annotations

import base64
import hashlib
import hmac
from functools import lru_cache

from privacy.keys import keyring
from settings import public_url


class BadToken(ValueError):
    """The token was not issued by us or was altered."""


def _key() -> bytes:
    return _derived(keyring().index_key)


@lru_cache(maxsize=4)
def _derived(index_key: bytes) -> bytes:
    """The link key of an index key: derived once, not once per message sent."""
    return hmac.new(index_key, b"unsubscribe-link", hashlib.sha256).digest()


def make_token(customer_id: int, channel: str, campaign_id: str) -> str:
    payload = f"{customer_id}|{channel}|{campaign_id}".encode()
    sig = hmac.new(_key(), payload, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(payload + b"|" + sig).decode().rstrip("=")


def read_token(token: str) -> tuple[int, str, str]:
    """(customer_id, channel, campaign_id) from a token, or BadToken."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        payload, sig = raw[:-17], raw[-16:]
        if raw[-17:-16] != b"|" or not hmac.compare_digest(
            sig, hmac.new(_key(), payload, hashlib.sha256).digest()[:16]
        ):
            raise BadToken("signature mismatch")
        customer, channel, campaign = payload.decode().split("|")
        return int(customer), channel, campaign
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadToken(str(exc)) from exc


def unsubscribe_url(customer_id: int, channel: str, campaign_id: str) -> str:
    return f"{public_url()}/u/{make_token(customer_id, channel, campaign_id)}"
