"""The payload codec: round trips, no plaintext in encoded bytes, rotation, tampering."""

from __future__ import annotations

import pytest
from pydantic import BaseModel
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.exceptions import ApplicationError

from privacy.codec import (
    ENCODING,
    KEY_ID,
    CodecError,
    EncryptionCodec,
    data_converter,
    derive_codec_key,
)
from privacy.keys import KeyRing
from tests.privacy.conftest import make_ring

PHONE = "13812345678"
EMAIL = "zhang.wei@example.com"


class Contact(BaseModel):
    customer_id: int
    phone: str
    email: str


async def test_round_trip_and_no_plaintext(ring: KeyRing) -> None:
    converter = data_converter(ring)
    value = Contact(customer_id=7, phone=PHONE, email=EMAIL)
    encoded = await converter.encode([value, "上海 张女士"])
    for payload in encoded:
        raw = payload.SerializeToString()
        assert payload.metadata["encoding"] == ENCODING
        assert payload.metadata[KEY_ID] == b"k1"
        for secret in (PHONE.encode(), EMAIL.encode(), "张女士".encode(), b"json/plain"):
            assert secret not in raw
    assert await converter.decode(encoded, [Contact, str]) == [value, "上海 张女士"]


async def test_each_encoding_uses_a_fresh_nonce(ring: KeyRing) -> None:
    codec = EncryptionCodec(ring)
    payload = Payload(metadata={"encoding": b"json/plain"}, data=b'"same"')
    first, second = await codec.encode([payload, payload])
    assert first.data != second.data
    assert await codec.decode([first, second]) == [payload, payload]


def test_codec_key_is_derived_not_the_pii_key(ring: KeyRing) -> None:
    pii = ring.keys["k1"]
    assert derive_codec_key(pii) == derive_codec_key(pii)
    assert derive_codec_key(pii) != pii and len(derive_codec_key(pii)) == 32


async def test_rotation_keeps_old_history_readable() -> None:
    old = make_ring("k1")
    payload = Payload(metadata={"encoding": b"json/plain"}, data=b'{"x": 1}')
    [sealed_old] = await EncryptionCodec(old).encode([payload])
    rotated = KeyRing(
        active_id="k2", keys={"k2": make_ring("k2").keys["k2"], **old.keys}, index_key=old.index_key
    )
    codec = EncryptionCodec(rotated)
    [sealed_new] = await codec.encode([payload])
    assert sealed_new.metadata[KEY_ID] == b"k2"
    assert await codec.decode([sealed_old, sealed_new]) == [payload, payload]


async def test_unknown_key_id_and_tampering_are_clear_errors(ring: KeyRing) -> None:
    payload = Payload(metadata={"encoding": b"json/plain"}, data=b"1")
    [sealed] = await EncryptionCodec(ring).encode([payload])
    with pytest.raises(CodecError, match="key id 'k1', which is not in the key ring"):
        await EncryptionCodec(make_ring("other")).decode([sealed])
    tampered = Payload(metadata=dict(sealed.metadata), data=sealed.data[:-1] + b"\x00")
    with pytest.raises(CodecError, match="failed authentication"):
        await EncryptionCodec(ring).decode([tampered])
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID: b"k2"}, data=sealed.data)
    ring2 = KeyRing(
        active_id="k1",
        keys={"k1": ring.keys["k1"], "k2": ring.keys["k1"]},
        index_key=ring.index_key,
    )
    with pytest.raises(CodecError, match="failed authentication"):
        await EncryptionCodec(ring2).decode([relabelled])  # key id is bound as associated data


async def test_plain_payloads_pass_through(ring: KeyRing) -> None:
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b"42")
    assert await EncryptionCodec(ring).decode([plain]) == [plain]


async def test_failure_messages_are_encoded(ring: KeyRing) -> None:
    converter = data_converter(ring)
    failure = Failure()
    try:
        raise ApplicationError(f"cannot reach {PHONE}", EMAIL, type="Unreachable")
    except ApplicationError as exc:
        await converter.encode_failure(exc, failure)
    raw = failure.SerializeToString()
    assert PHONE.encode() not in raw and EMAIL.encode() not in raw
    assert failure.message == "Encoded failure"
    decoded = await converter.decode_failure(failure)
    assert isinstance(decoded, ApplicationError)
    assert decoded.message == f"cannot reach {PHONE}" and decoded.details == (EMAIL,)
