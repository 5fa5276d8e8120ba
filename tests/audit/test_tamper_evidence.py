"""Tamper evidence end to end: whoever can write `audit_log` (but holds neither the audit key nor
the checkpoint file) cannot edit, re-hash, cut short or empty the log unnoticed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import Engine, delete, func, select, text

from audit.log import append, verify
from db.engine import make_engine, session_scope
from models.tables import AuditEntry
from privacy.keys import keyring
from tests.conftest import create_database, drop_database, migrate
from tests.prometheus_text import samples

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
Rehash = Callable[[str, AuditEntry], str]


@dataclass(frozen=True)
class Log:
    url: str
    engine: Engine
    checkpoint: Path


def write(engine: Engine, n: int, actor: str = "李娜") -> None:
    """n entries, one transaction each, as the product writes them."""
    for i in range(n):
        with session_scope(engine) as s:
            append(
                s,
                at=T0 + timedelta(minutes=i),
                actor=actor,
                action="budget.approved",
                campaign_id="cmp-1",
                detail={"n": i, "comment": "同意"},
            )


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Log]:
    """Five entries under a fresh key ring, the checkpoint in a file of this test's own."""
    b64 = base64.b64encode
    monkeypatch.setenv("OMNIREACH_PII_KEYS", "a1:" + b64(secrets.token_bytes(32)).decode())
    monkeypatch.setenv("OMNIREACH_INDEX_KEY", b64(secrets.token_bytes(32)).decode())
    monkeypatch.setenv("OMNIREACH_AUDIT_CHECKPOINT", str(tmp_path / "audit-head.json"))
    keyring.cache_clear()
    url = create_database("omni_audit")
    engine = make_engine(url)
    try:
        migrate(url)
        write(engine, 5)
        yield Log(url, engine, tmp_path / "audit-head.json")
    finally:
        engine.dispose()
        drop_database(url)
        keyring.cache_clear()


def cli_verify(url: str) -> subprocess.CompletedProcess[str]:
    keys = {k: v for k, v in os.environ.items() if k.startswith("OMNIREACH_")}
    return subprocess.run(
        [sys.executable, str(ROOT / "starter.py"), "audit", "--verify"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=keys | {"DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
    )


def ids(engine: Engine) -> list[int]:
    with session_scope(engine) as s:
        return list(s.execute(select(AuditEntry.id).order_by(AuditEntry.id)).scalars())


def _doc(prev: str, e: AuditEntry) -> bytes:
    return json.dumps(
        [prev, e.at.isoformat(), e.actor, e.action, e.campaign_id, e.detail],
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    ).encode()


def unkeyed(prev: str, e: AuditEntry) -> str:
    """The chain's original formula, which anyone with the table can compute."""
    return hashlib.sha256(_doc(prev, e)).hexdigest()


def under(key: bytes) -> Rehash:
    return lambda prev, e: hmac.new(key, _doc(prev, e), hashlib.sha256).hexdigest()


def tamper(engine: Engine, edit: int, rehash_from: int | None, formula: Rehash = unkeyed) -> None:
    """Change the actor of the `edit`-th entry, then recompute every hash from the
    `rehash_from`-th entry on (links included), as a tamperer would."""
    with session_scope(engine) as s:
        rows = list(s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars())
        rows[edit].actor = "王芳"
        if rehash_from is None:
            return
        prev = rows[rehash_from - 1].hash if rehash_from else "0" * 64
        for e in rows[rehash_from:]:
            e.prev_hash, e.hash = prev, formula(prev, e)
            prev = e.hash


def test_an_untouched_log_verifies_against_its_checkpoint(log: Log) -> None:
    with session_scope(log.engine) as s:
        check = verify(s, require_checkpoint=True)
    last = ids(log.engine)[-1]
    assert check.ok and check.entries == 5
    assert check.checkpoint is not None and (
        check.checkpoint.entries,
        check.checkpoint.last_id,
    ) == (5, last)
    proc = cli_verify(log.url)
    assert proc.returncode == 0, proc.stderr
    assert f"head matches its checkpoint (5 entries, entry {last})" in proc.stdout


def test_an_edit_in_the_middle_is_detected(log: Log) -> None:
    with session_scope(log.engine) as s:
        rows = list(s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars())
    assert all(e.hash != unkeyed(e.prev_hash, e) for e in rows)  # keyed: not recomputable
    tamper(log.engine, edit=2, rehash_from=None)
    proc = cli_verify(log.url)
    assert proc.returncode == 1
    assert f"broken at entry {rows[2].id}: content does not match its hash" in proc.stderr


@pytest.mark.parametrize("rehash_from", [2, 0], ids=["from-the-edit-on", "the-whole-chain"])
def test_an_edit_rehashed_with_the_unkeyed_formula_is_detected(log: Log, rehash_from: int) -> None:
    entry = ids(log.engine)
    tamper(log.engine, edit=2, rehash_from=rehash_from)
    proc = cli_verify(log.url)
    assert proc.returncode == 1
    if rehash_from:
        assert f"broken at entry {entry[2]}: hashed without the audit key" in proc.stderr
    else:  # a chain downgraded from genesis is consistent; its head is not the checkpointed one
        assert "audit chain broken" not in proc.stderr
    assert f"entry {entry[-1]} differs from its checkpointed hash" in proc.stderr


def test_an_edit_rehashed_under_another_key_is_detected(log: Log) -> None:
    entry = ids(log.engine)
    tamper(log.engine, edit=2, rehash_from=2, formula=under(secrets.token_bytes(32)))
    proc = cli_verify(log.url)
    assert proc.returncode == 1
    assert f"broken at entry {entry[2]}: content does not match its hash" in proc.stderr
    assert f"entry {entry[-1]} differs from its checkpointed hash" in proc.stderr


def test_deleting_the_last_entry_is_detected_even_after_new_entries(log: Log) -> None:
    last = ids(log.engine)[-1]
    with session_scope(log.engine) as s:
        s.execute(delete(AuditEntry).where(AuditEntry.id == last))
    proc = cli_verify(log.url)
    assert proc.returncode == 1
    assert "audit log has 4 entries, its checkpoint 5" in proc.stderr
    assert f"checkpointed entry {last} is missing" in proc.stderr
    write(log.engine, 3, actor="张伟")  # the product goes on: the checkpoint must not follow
    assert json.loads(log.checkpoint.read_text())["last_id"] == last
    proc = cli_verify(log.url)
    assert proc.returncode == 1 and f"checkpointed entry {last} is missing" in proc.stderr


def test_truncating_the_log_is_detected(log: Log) -> None:
    with log.engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_log RESTART IDENTITY"))
    proc = cli_verify(log.url)
    assert proc.returncode == 1
    assert "audit log has 0 entries, its checkpoint 5" in proc.stderr


def test_a_forged_checkpoint_is_detected_and_left_as_evidence(log: Log) -> None:
    entry = ids(log.engine)
    with session_scope(log.engine) as s:  # cut the last two entries, then cover it up
        s.execute(delete(AuditEntry).where(AuditEntry.id > entry[2]))
        third = s.execute(select(AuditEntry.hash).where(AuditEntry.id == entry[2])).scalar_one()
    head = [3, entry[2], third]
    sig = hmac.new(secrets.token_bytes(32), json.dumps(head).encode(), hashlib.sha256)
    forged = {"entries": 3, "last_id": entry[2], "last_hash": third, "sig": sig.hexdigest()}
    log.checkpoint.write_text(json.dumps(forged))
    proc = cli_verify(log.url)
    assert proc.returncode == 1 and "invalid signature (forged or altered)" in proc.stderr
    write(log.engine, 1, actor="张伟")
    assert json.loads(log.checkpoint.read_text()) == forged


def test_a_keyed_log_without_its_checkpoint_does_not_verify(log: Log) -> None:
    log.checkpoint.unlink()
    proc = cli_verify(log.url)
    assert proc.returncode == 1 and "no audit checkpoint at" in proc.stderr


def test_concurrent_appends_keep_the_chain_and_the_checkpoint(log: Log) -> None:
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def writer(actor: str) -> None:
        try:
            start.wait()
            write(log.engine, 15, actor=actor)
        except BaseException as exc:  # surfaced below
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(a,)) for a in ("甲", "乙")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    with session_scope(log.engine) as s:
        check = verify(s, require_checkpoint=True)
        last = s.execute(select(func.max(AuditEntry.id))).scalar_one()
    assert check.ok and check.entries == 35
    head = json.loads(log.checkpoint.read_text())
    assert (head["entries"], head["last_id"]) == (35, last)
    assert cli_verify(log.url).returncode == 0


def test_the_collector_exports_the_head(log: Log) -> None:
    from observability.metrics import AuditHeadCollector

    registry = CollectorRegistry()
    registry.register(AuditHeadCollector(log.engine))

    def scrape() -> dict[tuple[str, str], float]:
        return samples(generate_latest(registry).decode())

    assert scrape() == {
        ("omnireach_audit_entries", ""): 5,
        ("omnireach_audit_checkpoint_entries", ""): 5,
        ("omnireach_audit_checkpoint_valid", ""): 1,
    }
    last = ids(log.engine)[-1]
    with session_scope(log.engine) as s:
        s.execute(delete(AuditEntry).where(AuditEntry.id == last))
    assert scrape() == {
        ("omnireach_audit_entries", ""): 4,
        ("omnireach_audit_checkpoint_entries", ""): 5,
        ("omnireach_audit_checkpoint_valid", ""): 0,
    }


def test_entries_from_before_the_key_keep_verifying(
    log: Log, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A log begun with the unkeyed formula (before this change) verifies, keyed entries after."""
    monkeypatch.setenv("OMNIREACH_AUDIT_CHECKPOINT", str(tmp_path / "legacy-head.json"))
    url = create_database("omni_audit")
    engine = make_engine(url)
    try:
        migrate(url)
        with session_scope(engine) as s:
            prev = "0" * 64
            for i in range(3):
                e = AuditEntry(
                    at=T0,
                    actor="李娜",
                    action="budget.approved",
                    campaign_id=None,
                    detail={"n": i},
                    prev_hash=prev,
                    hash="",
                )
                e.hash = prev = unkeyed(prev, e)
                s.add(e)
        write(engine, 2)
        with session_scope(engine) as s:
            check = verify(s, require_checkpoint=True)
        assert check.ok and check.entries == 5
        assert check.checkpoint is not None and check.checkpoint.entries == 5
    finally:
        engine.dispose()
        drop_database(url)
