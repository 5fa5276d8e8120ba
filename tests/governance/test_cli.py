"""The governance commands on the shared Typer app: roles, opt-out, forget."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

import cli.governance_commands  # noqa: F401  (registers the commands)
import cli.people_commands  # noqa: F401
from cli.common import app
from cli.errors import OperatorError
from db.engine import session_scope
from models.tables import AuditEntry, Customer
from tests.governance.dbkit import fresh_database, is_contactable, make_customer


@pytest.fixture
def db(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Engine, dict[str, str]]]:
    with fresh_database() as (made, url):
        monkeypatch.setenv("DATABASE_URL", url)  # the settings this process reads
        yield made, {"DATABASE_URL": url}


def run(env: dict[str, str], *args: str):
    return CliRunner().invoke(app, list(args), env=env)


def public_key(output: str) -> str:
    return output.split("public key ", 1)[1].split()[0]


def test_people_are_enrolled_and_roles_change_only_on_an_admins_signature(
    db: tuple[Engine, dict[str, str]], tmp_path: Path
) -> None:
    _, env = db
    li, wang = str(tmp_path / "li.pem"), str(tmp_path / "wang.pem")
    assert "no roles granted yet" in run(env, "roles", "list").output
    assert run(env, "setup-admin", "li", "--key", li).exit_code == 0
    again = run(env, "setup-admin", "wang", "--key", wang)
    assert isinstance(again.exception, OperatorError)
    assert "already enrolled" in str(again.exception)
    made = run(env, "keys", "new", wang)
    assert made.exit_code == 0 and Path(wang).stat().st_mode & 0o077 == 0
    unenrolled = run(env, "roles", "grant", "wang", "approver", "--as", "wang", "--key", wang)
    assert "not enrolled" in str(unenrolled.exception)
    assert (
        run(env, "enroll", "wang", public_key(made.output), "--as", "li", "--key", li).exit_code
        == 0
    )
    ok = run(env, "roles", "grant", "wang", "approver", "--as", "li", "--key", li)
    assert ok.exit_code == 0 and "approver granted for wang" in ok.output
    not_admin = run(env, "roles", "grant", "wang", "admin", "--as", "wang", "--key", wang)
    assert "not an admin" in str(not_admin.exception)
    typed = run(env, "roles", "grant", "zhao", "approver", "--as", "li", "--key", wang)
    assert "belongs to wang, not li" in str(typed.exception)
    unsigned = run(env, "roles", "grant", "zhao", "approver", "--as", "li")
    assert isinstance(unsigned.exception, OperatorError) and unsigned.exception.code == 2
    bad = run(env, "roles", "grant", "wang", "boss", "--as", "li", "--key", li)
    assert isinstance(bad.exception, OperatorError) and bad.exception.code == 2
    listed = json.loads(run(env, "roles", "list", "--json").output)
    assert [(r["user"], r["role"]) for r in listed] == [("li", "admin"), ("wang", "approver")]
    assert run(env, "roles", "revoke", "wang", "approver", "--as", "li", "--key", li).exit_code == 0
    assert [r["role"] for r in json.loads(run(env, "roles", "list", "--json").output)] == ["admin"]


def test_opt_out_and_forget_commands(db: tuple[Engine, dict[str, str]]) -> None:
    engine, env = db
    with session_scope(engine) as s:
        c = make_customer(s, phone="13700001111", email="li.si@example.com")
        cid, ext = c.id, c.external_id
    r = run(
        env, "opt-out", ext, "--channel", "sms", "--reason", "called 13700001111", "--as", "zhao"
    )
    assert r.exit_code == 0 and "opted out of marketing on sms" in r.output
    assert (
        "already opted out"
        in run(env, "opt-out", str(cid), "--channel", "sms", "--as", "zhao").output
    )
    bad = run(env, "opt-out", ext, "--channel", "fax", "--as", "zhao")
    assert isinstance(bad.exception, OperatorError) and "--channel" in str(bad.exception)
    missing = run(env, "opt-out", "nobody", "--as", "zhao")
    assert isinstance(missing.exception, OperatorError)
    with session_scope(engine) as s:
        assert not is_contactable(s, cid, "sms") and is_contactable(s, cid, "email")
        detail = s.execute(
            select(AuditEntry.detail).where(AuditEntry.action == "opt_out")
        ).scalar_one()
    assert detail["reason"] == "called 137****1111"
    done = run(env, "forget", ext, "--yes", "--json")
    assert done.exit_code == 0 and json.loads(done.output)["already_erased"] is False
    assert "13700001111" not in done.output and "li.si" not in done.output
    again = run(env, "forget", ext, "--yes")
    assert again.exit_code == 0 and "already erased" in again.output
    with session_scope(engine) as s:
        assert s.get(Customer, cid).erased_at is not None  # type: ignore[union-attr]
