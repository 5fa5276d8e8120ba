"""The governance commands on the shared Typer app: roles, opt-out, forget."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

import cli.governance_commands  # noqa: F401  (registers the commands)
from cli.common import app
from cli.errors import OperatorError
from db.engine import session_scope
from models.tables import AuditEntry, Customer
from tests.conftest import drop_database
from tests.governance.dbkit import fresh_engine, is_contactable, make_customer


@pytest.fixture
def db() -> Iterator[tuple[Engine, dict[str, str]]]:
    made, url = fresh_engine()
    try:
        yield made, {"DATABASE_URL": url}
    finally:
        made.dispose()
        drop_database(url)


def run(env: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), env=env)


def test_roles_commands(db: tuple[Engine, dict[str, str]]) -> None:
    _, env = db
    assert "no roles granted yet" in run(env, "roles", "list").output
    refused = run(env, "roles", "grant", "wang", "approver", "--as", "wang")
    assert isinstance(refused.exception, OperatorError)
    assert "first grant must be the admin role" in str(refused.exception)
    assert run(env, "roles", "grant", "li", "admin", "--as", "li").exit_code == 0
    ok = run(env, "roles", "grant", "wang", "approver", "--as", "li")
    assert ok.exit_code == 0 and "approver granted for wang" in ok.output
    bad = run(env, "roles", "grant", "wang", "boss", "--as", "li")
    assert isinstance(bad.exception, OperatorError) and bad.exception.code == 2
    listed = json.loads(run(env, "roles", "list", "--json").output)
    assert [(r["user"], r["role"]) for r in listed] == [("li", "admin"), ("wang", "approver")]
    assert run(env, "roles", "revoke", "wang", "approver", "--as", "li").exit_code == 0
    assert [r["role"] for r in json.loads(run(env, "roles", "list", "--json").output)] == [
        "admin"]


def test_opt_out_and_forget_commands(db: tuple[Engine, dict[str, str]]) -> None:
    engine, env = db
    with session_scope(engine) as s:
        c = make_customer(s, phone="13700001111", email="li.si@example.com")
        cid, ext = c.id, c.external_id
    r = run(env, "opt-out", ext, "--channel", "sms", "--reason", "called 13700001111",
            "--as", "zhao")
    assert r.exit_code == 0 and "opted out of marketing on sms" in r.output
    assert "already opted out" in run(env, "opt-out", str(cid), "--channel", "sms",
                                      "--as", "zhao").output
    bad = run(env, "opt-out", ext, "--channel", "fax", "--as", "zhao")
    assert isinstance(bad.exception, OperatorError) and "--channel" in str(bad.exception)
    missing = run(env, "opt-out", "nobody", "--as", "zhao")
    assert isinstance(missing.exception, OperatorError)
    with session_scope(engine) as s:
        assert not is_contactable(s, cid, "sms") and is_contactable(s, cid, "email")
        detail = s.execute(select(AuditEntry.detail).where(AuditEntry.action == "opt_out")
                           ).scalar_one()
    assert detail["reason"] == "called 137****1111"
    done = run(env, "forget", ext, "--yes", "--json")
    assert done.exit_code == 0 and json.loads(done.output)["already_erased"] is False
    assert "13700001111" not in done.output and "li.si" not in done.output
    again = run(env, "forget", ext, "--yes")
    assert again.exit_code == 0 and "already erased" in again.output
    with session_scope(engine) as s:
        assert s.get(Customer, cid).erased_at is not None  # type: ignore[union-attr]
