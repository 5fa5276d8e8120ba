"""Key rotation: every ciphertext moves to the new active key, still decrypts, indexes stay."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from audit.log import verify
from db.engine import session_scope
from governance.key_rotation import RotationError, rotate_keys
from models.tables import AuditEntry, Customer, SandboxOutbox
from privacy.blind_index import blind_index
from privacy.cipher import decrypt, encrypt, key_id
from privacy.keys import KeyRing, parse_keyring
from tests.governance.dbkit import fresh_database

INDEX = base64.b64encode(secrets.token_bytes(32)).decode()
KEYS = {kid: base64.b64encode(secrets.token_bytes(32)).decode() for kid in ("old", "new")}
OLD = parse_keyring(f"old:{KEYS['old']}", INDEX)
BOTH = parse_keyring(f"new:{KEYS['new']},old:{KEYS['old']}", INDEX)
NEW_ONLY = parse_keyring(f"new:{KEYS['new']}", INDEX)
FIELDS = {"name_enc": "name", "phone_enc": "phone", "email_enc": "email", "address_enc": "address"}


@pytest.fixture
def db() -> Iterator[Engine]:
    with fresh_database() as (made, _):
        yield made


def _seed(engine: Engine, n: int) -> dict[int, dict[str, str | None]]:
    plain: dict[int, dict[str, str | None]] = {}
    with session_scope(engine) as s:
        for i in range(n):
            values = {
                "name_enc": f"客户{i}",
                "phone_enc": f"1380000{i:04d}",
                "email_enc": None if i % 3 == 0 else f"c{i}@example.com",
                "address_enc": f"北京市朝阳区{i}号",
            }
            ring = BOTH if i == 0 else OLD  # one row is already under the new key
            c = Customer(
                external_id=f"r-{i}",
                phone_index=blind_index("phone", values["phone_enc"], OLD),
                **{col: encrypt(v, FIELDS[col], ring) for col, v in values.items()},
            )
            s.add(c)
            s.flush()
            plain[c.id] = values
            s.add(
                SandboxOutbox(
                    idempotency_key=f"k{i}",
                    campaign_id="c",
                    customer_id=c.id,
                    channel="sms",
                    address_enc=encrypt(values["phone_enc"], "address_outbox", OLD),
                    body="b",
                    received_at=datetime.now(UTC),
                )
            )
    return plain


def test_rotation_moves_everything_to_the_new_key(db: Engine) -> None:
    plain = _seed(db, 7)
    stale = sum(
        v is not None for i, values in enumerate(plain.values()) if i for v in values.values()
    ) + len(plain)
    with session_scope(db) as s:
        indexes = dict(s.execute(select(Customer.id, Customer.phone_index)).all())
        assert rotate_keys(s, batch=2, ring=BOTH) == stale
    with session_scope(db) as s:
        for c in s.execute(select(Customer)).scalars():
            assert c.phone_index == indexes[c.id]
            for col, field in FIELDS.items():
                blob = getattr(c, col)
                assert (blob is None) == (plain[c.id][col] is None)
                if blob is not None:
                    assert key_id(blob) == "new"
                    assert decrypt(blob, field, NEW_ONLY) == plain[c.id][col]
        for row in s.execute(select(SandboxOutbox)).scalars():
            assert key_id(row.address_enc) == "new"
            assert (
                decrypt(row.address_enc, "address_outbox", NEW_ONLY)
                == plain[row.customer_id]["phone_enc"]
            )
        assert rotate_keys(s, ring=BOTH) == 0
        entry = s.execute(
            select(AuditEntry).where(AuditEntry.action == "keys_rotated")
        ).scalar_one()
        assert entry.detail == {"active_key": "new", "ciphertexts": stale}
        assert verify(s).ok


def test_a_ciphertext_under_a_dropped_key_stops_rotation_with_its_location(db: Engine) -> None:
    _seed(db, 2)
    elsewhere: KeyRing = parse_keyring(
        f"newer:{base64.b64encode(secrets.token_bytes(32)).decode()}", INDEX
    )
    with session_scope(db) as s, pytest.raises(RotationError, match=r"customers\.name_enc row"):
        rotate_keys(s, ring=elsewhere)
    with pytest.raises(ValueError, match="batch"), session_scope(db) as s:
        rotate_keys(s, batch=0, ring=BOTH)
