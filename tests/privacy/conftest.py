"""Key rings made up for the tests (never the development key file)."""

from __future__ import annotations

import base64
import secrets

import pytest

from privacy.keys import KeyRing, parse_keyring


def make_ring(*kids: str) -> KeyRing:
    keys = ",".join(f"{kid}:{base64.b64encode(secrets.token_bytes(32)).decode()}" for kid in kids)
    return parse_keyring(keys, base64.b64encode(secrets.token_bytes(32)).decode())


@pytest.fixture
def ring() -> KeyRing:
    return make_ring("k1")
