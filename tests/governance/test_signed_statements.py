"""Signed statements against real PostgreSQL: only an enrolled, unrevoked key of the person the
statement names makes it count, once, within minutes of its date; names compare as one person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from db.engine import session_scope
from governance.enrollment import accept, bootstrap_admin, enroll, revoke_key
from governance.roles import NotAllowed
from governance.signing import key_id, new_private_key, public_text, sign
from models.identity import identity
from models.signed import Signed

NOW = datetime.now(UTC)
ADMIN, ALICE, BOB = new_private_key(), new_private_key(), new_private_key()


@pytest.fixture(scope="module")
def people(engine: Engine) -> Engine:
    with session_scope(engine) as s:
        bootstrap_admin(s, "root", public_text(ADMIN), NOW)
        for name, key in (("alice", ALICE), ("bob", BOB)):
            public = public_text(key)
            enroll(
                s,
                sign(ADMIN, kind="enroll", subject=f"{name}:{key_id(public)}", by="root", at=NOW),
                name,
                public,
                NOW,
            )
    return engine


def approval(key: object, by: str = "alice", at: datetime = NOW) -> Signed:
    return sign(
        key,  # type: ignore[arg-type]
        kind="approve",
        subject="cmp-1",
        by=by,
        at=at,
        plan_digest="abc",
        comment="ok",
    )


def check(engine: Engine, signed: Signed | None, use: str = "cmp-1/u1") -> str:
    with session_scope(engine) as s:
        return accept(s, signed, kind="approve", subject="cmp-1", use=use, at=NOW).by


def refused(engine: Engine, signed: Signed | None, use: str = "cmp-1/u1") -> str:
    with pytest.raises(NotAllowed) as exc:
        check(engine, signed, use)
    return str(exc.value)


def test_a_statement_counts_once_for_its_use(people: Engine) -> None:
    signed = approval(ALICE)
    assert check(people, signed) == "alice"
    assert check(people, signed) == "alice", "a retry of the same update presents it again"
    assert "already used" in refused(people, signed, use="cmp-1/u2")


def test_what_does_not_count(people: Engine) -> None:
    assert "unsigned approve" in refused(people, None)
    assert "belongs to bob, not alice" in refused(people, approval(BOB, by="alice"))
    forged = approval(ALICE).model_copy(
        update={"statement": approval(ALICE).statement.replace('"ok"', '"ok!"')}
    )
    assert "signature does not match" in refused(people, forged)
    stranger = new_private_key()
    assert "not enrolled" in refused(people, approval(stranger))
    assert "sign it again" in refused(people, approval(ALICE, at=NOW - timedelta(hours=1)))
    other = sign(ALICE, kind="approve", subject="cmp-2", by="alice", at=NOW)
    assert "not a approve of cmp-1" in refused(people, other)


def test_a_revoked_key_stops_counting(people: Engine) -> None:
    carol = new_private_key()
    public = public_text(carol)
    with session_scope(people) as s:
        enroll(
            s,
            sign(ADMIN, kind="enroll", subject=f"carol:{key_id(public)}", by="root", at=NOW),
            "carol",
            public,
            NOW,
        )
    assert check(people, approval(carol, by="carol"), use="c/1") == "carol"
    with session_scope(people) as s:
        revoke_key(
            s,
            sign(ADMIN, kind="revoke_key", subject=key_id(public), by="root", at=NOW),
            key_id(public),
            NOW - timedelta(seconds=1),
        )
    assert "was revoked" in refused(people, approval(carol, by="carol"), use="c/2")


def test_only_an_admin_enrolls_and_the_first_admin_only_once(people: Engine) -> None:
    dave = public_text(new_private_key())
    by_alice = sign(ALICE, kind="enroll", subject=f"dave:{key_id(dave)}", by="alice", at=NOW)
    with session_scope(people) as s, pytest.raises(NotAllowed, match="not an admin"):
        enroll(s, by_alice, "dave", dave, NOW)
    with session_scope(people) as s, pytest.raises(NotAllowed, match="already enrolled"):
        bootstrap_admin(s, "mallory", dave, NOW)


def test_one_person_has_one_spelling() -> None:
    assert identity("李娜 ") == identity(" 李娜") == identity("李娜")
    assert identity("Ｌｉ Ｎａ") == identity("li na") == identity("LI NA")
    with pytest.raises(ValueError, match="not a valid name"):
        identity("li\x1b[2Jna")
