"""POST /v1/events over real HTTP: authentication, per-event validation, dedup, PII at rest."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine, func, select, text

from db.engine import make_engine
from emulators.server import serve
from ingest.run import CUSTOMER_IMPORT_LOCK
from models.tables import AuditEntry, BehaviorEvent
from models.track_tables import TrackSource
from observability.metrics import TRACK_EVENTS
from privacy.cipher import decrypt
from tests.track.conftest import bearer, body_of, customer_ref, event, new_source, signed
from track.events import MAX_PROPERTIES
from track.service import create_app


def count(engine: Engine, *event_ids: str) -> int:
    with engine.connect() as conn:
        return len(
            conn.execute(
                select(BehaviorEvent.id).where(BehaviorEvent.external_id.in_(event_ids))
            ).all()
        )


def test_a_signed_batch_is_stored_in_the_imported_events_table(
    engine: Engine, http: httpx.Client
) -> None:
    name, secret = new_source(engine, "hmac")
    ref = customer_ref(engine)
    events = [event(ref, channel="app", properties={"sku": "A-1", "qty": 2}) for _ in range(3)]
    body = body_of(*events)
    before = datetime.now(UTC)
    r = http.post("/v1/events", content=body, headers=signed(name, secret, body))
    assert r.status_code == 200, r.text
    doc = r.json()
    assert (doc["accepted"], doc["duplicates"], doc["rejected"]) == (3, 0, 0)
    assert [e["status"] for e in doc["events"]] == ["accepted"] * 3
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT e.event_type, e.channel, e.properties, e.received_at, c.external_id, "
                "s.name FROM behavior_events e JOIN customers c ON c.id = e.customer_id "
                "JOIN track_sources s ON s.id = e.source_id WHERE e.external_id = ANY(:ids)"
            ),
            {"ids": [e["event_id"] for e in events]},
        ).all()
    assert len(rows) == 3
    for row in rows:
        assert (row.event_type, row.channel, row.external_id, row.name) == (
            "add_to_cart",
            "app",
            ref,
            name,
        )
        assert row.properties == {"sku": "A-1", "qty": 2}
        assert before - timedelta(seconds=1) <= row.received_at <= datetime.now(UTC)


def test_wrong_missing_or_unknown_credentials_are_refused(
    engine: Engine, http: httpx.Client
) -> None:
    name, secret = new_source(engine, "hmac")
    _, token = new_source(engine, "bearer")
    ref = customer_ref(engine)
    e = event(ref)
    body = body_of(e)
    refused = {
        "wrong secret": signed(name, secret + "x", body),
        "unknown source": signed("no-such-source", secret, body),
        "signature of another body": signed(name, secret, body_of(event(ref))),
        "no signature": {"X-Omnireach-Source": name},
        "no credentials": {},
        "wrong bearer token": bearer(token + "x"),
        "hmac secret as a bearer token": bearer(secret),
        "bearer token as an hmac secret": signed(name, token, body),
    }
    for what, headers in refused.items():
        r = http.post("/v1/events", content=body, headers=headers)
        assert r.status_code == 401, what
    assert count(engine, e["event_id"]) == 0
    assert http.post("/v1/events", content=body, headers=bearer(token)).status_code == 200


def test_a_stale_timestamp_is_refused_and_a_replay_in_the_window_stores_nothing_twice(
    engine: Engine, http: httpx.Client
) -> None:
    name, secret = new_source(engine, "hmac")
    e = event(customer_ref(engine))
    body = body_of(e)
    for skew in (-301, 301):  # outside the 300 s window either way
        stale = signed(name, secret, body, at=time.time() + skew)
        assert http.post("/v1/events", content=body, headers=stale).status_code == 401
    assert count(engine, e["event_id"]) == 0
    headers = signed(name, secret, body)
    first = http.post("/v1/events", content=body, headers=headers)
    replay = http.post("/v1/events", content=body, headers=headers)
    assert first.json()["accepted"] == 1
    assert (replay.status_code, replay.json()["duplicates"]) == (200, 1)
    assert count(engine, e["event_id"]) == 1


def test_keys_are_never_stored_in_clear(engine: Engine) -> None:
    hmac_name, secret = new_source(engine, "hmac")
    bearer_name, token = new_source(engine, "bearer")
    with engine.connect() as conn:
        rows = {
            row.name: row
            for row in conn.execute(
                select(TrackSource).where(TrackSource.name.in_([hmac_name, bearer_name]))
            )
        }
        dump = json.dumps(
            [list(map(str, row)) for row in conn.execute(text("SELECT * FROM track_sources"))]
        )
    assert rows[bearer_name].token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert rows[bearer_name].secret_enc is None
    assert rows[hmac_name].token_hash is None
    assert decrypt(rows[hmac_name].secret_enc, "track_secret") == secret
    assert secret not in dump and token not in dump
    assert secret.encode() not in rows[hmac_name].secret_enc


def test_each_bad_event_names_its_index_field_value_and_reason_and_the_rest_are_kept(
    engine: Engine, http: httpx.Client
) -> None:
    _, token = new_source(engine, "bearer")
    ref = customer_ref(engine)
    future = (datetime.now(UTC) + timedelta(minutes=10)).isoformat()
    good = [event(ref), event(ref, properties={"size": "M"})]
    bad = [
        (event(ref, event_type="teleport"), "event_type", "teleport", "must be one of"),
        (event(ref, occurred_at=future), "occurred_at", future, "in the future"),
        (event("nobody-here"), "customer_id", "nobody-here", "unknown customer_id"),
        (event(ref, event_id=None), "event_id", "", "required value is missing"),
        (event(ref, properties=[1, 2]), "properties", "", "must be a JSON object"),
        (
            event(ref, properties={"blob": "x" * MAX_PROPERTIES}),
            "properties",
            "",
            f"larger than {MAX_PROPERTIES} bytes",
        ),
        (
            event(ref, properties={"phone": "12345"}),
            "properties.phone",
            "*****",
            "not a mainland mobile number",
        ),
        (event(ref, occurred_at=12), "occurred_at", "12", "must be a string"),
        (event(ref, colour="red"), "colour", "", "unknown field"),
    ]
    posted = [good[0], *(b[0] for b in bad[:4]), good[1], *(b[0] for b in bad[4:])]
    r = http.post("/v1/events", content=body_of(*posted), headers=bearer(token))
    assert r.status_code == 422, r.text
    doc = r.json()
    assert (doc["accepted"], doc["rejected"]) == (2, len(bad))
    results = doc["events"]
    assert [x["index"] for x in results] == list(range(len(posted)))
    assert results[0]["status"] == results[5]["status"] == "accepted"
    for result, (sent, field, value, reason) in zip(results[1:5] + results[6:], bad, strict=True):
        assert result["status"] == "rejected"
        assert result.get("event_id") == sent["event_id"]
        (error,) = [e for e in result["errors"] if e["field"] == field]
        assert error["value"] == value and reason in error["reason"], error
    assert count(engine, *(g["event_id"] for g in good)) == 2
    assert count(engine, *(b[0]["event_id"] for b in bad if b[0]["event_id"])) == 0


def test_a_wholly_bad_body_is_refused_whole(engine: Engine, http: httpx.Client) -> None:
    _, token = new_source(engine, "bearer")
    for body, reason in (
        (b"not json", "not JSON"),
        (b'{"events": []}', "at least one event"),
        (b"[1, 2]", "at least one event"),
        (body_of(*([{}] * 1001)), "at most 1000 events"),
    ):
        r = http.post("/v1/events", content=body, headers=bearer(token))
        assert r.status_code == 400 and reason in r.json()["error"], r.text


def test_event_ids_are_deduplicated_per_source_across_requests(
    engine: Engine, http: httpx.Client
) -> None:
    _, token = new_source(engine, "bearer")
    _, other = new_source(engine, "bearer")
    ref = customer_ref(engine)
    first, second = event(ref), event(ref)
    before = TRACK_EVENTS.labels("duplicate", "")._value.get()
    r1 = http.post("/v1/events", content=body_of(first), headers=bearer(token))
    r2 = http.post("/v1/events", content=body_of(second, first, second), headers=bearer(token))
    assert r1.json()["accepted"] == 1
    assert [e["status"] for e in r2.json()["events"]] == ["accepted", "duplicate", "duplicate"]
    assert count(engine, first["event_id"], second["event_id"]) == 2
    r3 = http.post("/v1/events", content=body_of(first), headers=bearer(other))
    assert r3.json()["accepted"] == 1  # another source's event of the same id is its own
    assert count(engine, first["event_id"]) == 2
    assert TRACK_EVENTS.labels("duplicate", "")._value.get() - before == 2


def test_pii_in_properties_is_encrypted_at_rest(engine: Engine, http: httpx.Client) -> None:
    name, secret = new_source(engine, "hmac")
    ref = customer_ref(engine)
    properties = {
        "phone": "+86 138-0013-8000",
        "email": "li.na@example.com",
        "name": "李娜",
        "note": "call back on 13900139000",
        "sku": "B-7",
    }
    e = event(ref, properties=properties)
    body = body_of(e)
    assert http.post("/v1/events", content=body, headers=signed(name, secret, body)).is_success
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT properties, pii_enc, CAST(properties AS text) AS raw "
                "FROM behavior_events WHERE external_id = :id"
            ),
            {"id": e["event_id"]},
        ).one()
    assert row.properties == {"sku": "B-7"}
    for plain in ("13800138000", "13900139000", "li.na@example.com", "李娜"):
        assert plain not in row.raw and plain.encode() not in bytes(row.pii_enc)
    assert json.loads(decrypt(bytes(row.pii_enc), "event_pii")) == {
        "phone": "13800138000",
        "email": "li.na@example.com",
        "name": "李娜",
        "note": "call back on 13900139000",
    }


def test_metrics_count_outcomes_and_the_failing_field(engine: Engine, http: httpx.Client) -> None:
    _, token = new_source(engine, "bearer")
    ref = customer_ref(engine)
    labels = [("accepted", ""), ("rejected", "event_type"), ("rejected", "customer_id")]
    before = [TRACK_EVENTS.labels(*lab)._value.get() for lab in labels]
    body = body_of(event(ref), event(ref), event(ref, event_type="x"), event("nobody"))
    assert http.post("/v1/events", content=body, headers=bearer(token)).status_code == 422
    after = [TRACK_EVENTS.labels(*lab)._value.get() for lab in labels]
    assert [a - b for a, b in zip(after, before, strict=True)] == [2, 1, 1]


def test_adding_and_revoking_a_source_is_audited(engine: Engine) -> None:
    name, _ = new_source(engine, "hmac")
    with engine.connect() as conn:
        actions = conn.execute(
            select(AuditEntry.action, AuditEntry.detail).where(
                AuditEntry.action.like("track_source.%")
            )
        ).all()
    assert ("track_source.added", {"name": name, "auth": "hmac"}) in [tuple(a) for a in actions]


def test_a_batch_waiting_too_long_for_a_customer_import_gets_503_and_stores_nothing(
    pg_url: str, engine: Engine
) -> None:
    """A customer import holds its lock for the whole file: a batch waits at most the
    service's statement timeout, then is told to send again."""
    _, token = new_source(engine, "bearer")
    e = event(customer_ref(engine))
    patient = make_engine(pg_url, statement_timeout=1)
    with serve(create_app(patient)) as base, engine.connect() as importer:
        importer.execute(select(func.pg_advisory_xact_lock(CUSTOMER_IMPORT_LOCK)))
        started = time.monotonic()
        r = httpx.post(f"{base}/v1/events", content=body_of(e), headers=bearer(token))
        assert (r.status_code, time.monotonic() - started < 5) == (503, True), r.text
        assert "send again" in r.json()["error"]
        importer.rollback()
        again = httpx.post(f"{base}/v1/events", content=body_of(e), headers=bearer(token))
        assert again.json()["accepted"] == 1
    patient.dispose()
    assert count(engine, e["event_id"]) == 1


def test_an_unknown_field_name_is_shown_scrubbed_and_short(
    engine: Engine, http: httpx.Client
) -> None:
    _, token = new_source(engine, "bearer")
    e = event(customer_ref(engine), **{"13800138000" + "x" * 200: "v"})
    r = http.post("/v1/events", content=body_of(e), headers=bearer(token))
    (error,) = r.json()["events"][0]["errors"]
    assert error["field"].startswith("138****8000x") and len(error["field"]) <= 81
    assert "13800138000" not in r.text
