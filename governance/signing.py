"""Signed statements: a decision counts only if the person's own Ed25519 key signed it.

A statement names who decides what, on which campaign and plan, when, with a fresh nonce; its
canonical JSON is what is signed and what the audit log keeps, so anyone holding the enrolled
public keys can verify every decision again later. Private keys live in a file (PEM) or an
environment variable, never in the database.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from models.identity import identity
from models.signed import Signed, Statement
from settings import settings

KEY_ENV = "OMNIREACH_SIGNING_KEY"  # a PEM file's path, or the PEM itself


class BadSignature(ValueError):
    """The statement is not signed by the key it names."""


def new_private_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def public_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The raw public key, base64: what an admin enrolls."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def key_id(public: str) -> str:
    return hashlib.sha256(base64.b64decode(public)).hexdigest()[:16]


def parse_public(text: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise ValueError("public key: not a base64 Ed25519 public key (32 bytes)") from None


def write_private_key(path: Path, key: Ed25519PrivateKey) -> None:
    """Write the private key readable by its owner only; never overwrite an existing key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(private_pem(key))


def load_private_key(source: str | None) -> Ed25519PrivateKey:
    """From a PEM file path or PEM text (`--key` or OMNIREACH_SIGNING_KEY)."""
    source = source or settings().signing_key
    if not source:
        raise ValueError(f"--key: no signing key (give --key FILE or set {KEY_ENV})")
    pem = source.encode() if source.lstrip().startswith("-----BEGIN") else Path(source).read_bytes()
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("--key: not an Ed25519 private key")
    return key


def sign(
    key: Ed25519PrivateKey,
    *,
    kind: str,
    subject: str,
    by: str,
    at: datetime,
    plan_digest: str | None = None,
    comment: str = "",
) -> Signed:
    statement = Statement(
        kind=kind,
        subject=subject,
        by=identity(by),
        at=at,
        nonce=secrets.token_hex(16),
        plan_digest=plan_digest,
        comment=comment,
    )
    text = statement.canonical()
    signature = base64.b64encode(key.sign(text.encode())).decode()
    return Signed(statement=text, signature=signature, key_id=key_id(public_text(key)))


def check_signature(public: str, signed: Signed) -> Statement:
    """The statement, if `public` signed exactly this text; BadSignature otherwise."""
    try:
        parse_public(public).verify(base64.b64decode(signed.signature), signed.statement.encode())
    except (InvalidSignature, ValueError):
        raise BadSignature("the signature does not match the statement and key") from None
    return signed.parsed()
