"""Temporal payload encryption: workflow inputs, results, queries, signals and failure details
are AES-256-GCM ciphertext in Temporal's history, readable only by holders of the key ring.

Keys: one codec key per PII key in the ring (`privacy.keys`), derived with HKDF-SHA256
(info "omnireach/temporal-payload-codec/v1"), so the codec key is never the PII key itself and
rotates with it: payloads are encrypted under the active key id, and history written under an
older key id stays readable while that key is in the ring. No separate secret to configure.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

from privacy.keys import KeyRing, keyring

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
_INFO = b"omnireach/temporal-payload-codec/v1"
_NONCE = 12


class CodecError(ValueError):
    """A payload cannot be decrypted: unknown key id, or it failed authentication."""


def derive_codec_key(pii_key: bytes) -> bytes:
    """The codec key belonging to one PII key (HKDF, domain-separated)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(pii_key)


class EncryptionCodec(PayloadCodec):
    """Encrypts every payload as a whole (metadata included) under the ring's active key."""

    def __init__(self, ring: KeyRing | None = None) -> None:
        super().__init__()
        ring = ring or keyring()
        self._active = ring.active_id
        self._ciphers = {kid: AESGCM(derive_codec_key(key)) for kid, key in ring.keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        kid = self._active.encode()
        nonce = os.urandom(_NONCE)
        sealed = self._ciphers[self._active].encrypt(nonce, payload.SerializeToString(), kid)
        return Payload(metadata={"encoding": ENCODING, KEY_ID: kid}, data=nonce + sealed)

    def decrypt(self, payload: Payload) -> Payload:
        """Plain payloads (not written by this codec) pass through unchanged."""
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        kid = payload.metadata.get(KEY_ID, b"").decode()
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise CodecError(f"payload encrypted with key id {kid!r}, which is not in the key ring")
        data = payload.data
        try:
            plain = cipher.decrypt(data[:_NONCE], data[_NONCE:], kid.encode())
        except InvalidTag:
            raise CodecError(f"payload under key id {kid!r} failed authentication") from None
        return Payload.FromString(plain)


def data_converter(ring: KeyRing | None = None) -> DataConverter:
    """Pydantic converter + encryption codec + failure messages/stack traces moved into
    (encrypted) payloads, for every Temporal client and worker of omnireach."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec(ring),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
