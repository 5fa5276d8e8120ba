"""Field encryption and blind indexes: standard constructions, fresh nonces everywhere."""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from dataclasses import replace

import pytest

from privacy.blind_index import blind_index
from privacy.cipher import DecryptionError, decrypt, encrypt
from privacy.keys import KeyRing

NONCE = slice(-12 - 16 - 5, -16 - 5)  # of a 5-byte plaintext: nonce, ciphertext, 16-byte tag


@pytest.mark.parametrize("key_len", [16, 32, 64, 65, 100])
def test_blind_index_is_hmac_sha256(ring: KeyRing, key_len: int) -> None:
    keyed = replace(ring, index_key=bytes(range(key_len)))
    for kind, value, norm in (
        ("phone", "+86 139-0000-1234", "13900001234"),
        ("email", " Ann@Example.COM ", "ann@example.com"),
        ("device", " dev-1 ", "dev-1"),
        ("email", "顾客@例子.中国", "顾客@例子.中国"),
    ):
        expected = hmac.new(keyed.index_key, f"{kind}:{norm}".encode(), hashlib.sha256).hexdigest()
        assert blind_index(kind, value, keyed) == expected
    assert blind_index("phone", "13900001234", keyed) != blind_index("phone", "13900001234", ring)
    assert blind_index("phone", None, ring) is None and blind_index("phone", "", ring) is None


def test_round_trip_binds_the_field(ring: KeyRing) -> None:
    blob = encrypt("13900001234", "phone", ring)
    assert blob is not None and b"13900001234" not in blob
    assert decrypt(blob, "phone", ring) == "13900001234"
    with pytest.raises(DecryptionError):
        decrypt(blob, "email", ring)


def test_nonces_never_repeat_across_pool_draws_and_threads(ring: KeyRing) -> None:
    seen: list[bytes] = []
    lock = threading.Lock()

    def work() -> None:
        mine = [encrypt("hello", "name", ring)[NONCE] for _ in range(5000)]
        with lock:
            seen.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 20000 and len(set(seen)) == 20000


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_does_not_reuse_the_parents_nonces(ring: KeyRing) -> None:
    encrypt("warm", "name", ring)  # the parent has a pool with nonces left in it
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next nonces, then leave at once
        os.close(read)
        os.write(write, b"".join(encrypt("hello", "name", ring)[NONCE] for _ in range(100)))
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        child = fh.read()
    os.waitpid(pid, 0)
    parent = b"".join(encrypt("hello", "name", ring)[NONCE] for _ in range(100))
    child_nonces = {child[i : i + 12] for i in range(0, len(child), 12)}
    parent_nonces = {parent[i : i + 12] for i in range(0, len(parent), 12)}
    assert len(child_nonces) == 100 and not child_nonces & parent_nonces
