"""The track API's ciphertexts live under the PII key ring like every other: key rotation
re-encrypts them, and erasing a customer blanks the PII their events carried."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC, datetime

from sqlalchemy import select

from db.engine import session_scope
from governance.key_rotation import rotate_keys
from models.tables import BehaviorEvent
from models.track_tables import EVENT_PII_FIELD, SECRET_FIELD, TrackSource
from optout.erasure import forget
from privacy.cipher import decrypt, encrypt, key_id
from privacy.keys import parse_keyring
from tests.governance.dbkit import fresh_database, make_customer

INDEX = base64.b64encode(secrets.token_bytes(32)).decode()
KEYS = {kid: base64.b64encode(secrets.token_bytes(32)).decode() for kid in ("old", "new")}
OLD = parse_keyring(f"old:{KEYS['old']}", INDEX)
BOTH = parse_keyring(f"new:{KEYS['new']},old:{KEYS['old']}", INDEX)
NOW = datetime(2026, 12, 1, tzinfo=UTC)
PII = json.dumps({"phone": "13800138000"})


def _event(customer_id: int, pii: bytes | None) -> BehaviorEvent:
    return BehaviorEvent(
        customer_id=customer_id,
        event_type="order",
        occurred_at=NOW,
        source_id=1,
        external_id=secrets.token_hex(8),
        received_at=NOW,
        pii_enc=pii,
    )


def test_rotation_moves_event_pii_and_source_secrets_to_the_new_key() -> None:
    with fresh_database() as (engine, _):
        with session_scope(engine) as s:
            s.add(_event(1, encrypt(PII, EVENT_PII_FIELD, OLD)))
            s.add(
                TrackSource(
                    name="pos",
                    auth="hmac",
                    secret_enc=encrypt("s3cret", SECRET_FIELD, OLD),
                    created_by="运营",
                    created_at=NOW,
                )
            )
        with session_scope(engine) as s:
            assert rotate_keys(s, ring=BOTH) == 2
            pii = s.execute(select(BehaviorEvent.pii_enc)).scalar_one()
            secret = s.execute(select(TrackSource.secret_enc)).scalar_one()
        assert pii is not None and secret is not None
        assert key_id(pii) == key_id(secret) == "new"
        assert decrypt(pii, EVENT_PII_FIELD, BOTH) == PII
        assert decrypt(secret, SECRET_FIELD, BOTH) == "s3cret"


def test_erasure_blanks_the_pii_of_the_customers_events_only() -> None:
    with fresh_database() as (engine, _):
        with session_scope(engine) as s:
            gone, kept = make_customer(s), make_customer(s)
            s.flush()
            s.add_all([_event(gone.id, encrypt(PII, EVENT_PII_FIELD)), _event(kept.id, b"x")])
        with session_scope(engine) as s:
            report = forget(s, gone.id, actor="客服", at=NOW)
        assert report.events_blanked == 1
        with engine.connect() as conn:
            left = dict(
                conn.execute(select(BehaviorEvent.customer_id, BehaviorEvent.pii_enc)).all()
            )
        assert left == {gone.id: None, kept.id: b"x"}
