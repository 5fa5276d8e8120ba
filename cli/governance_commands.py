"""Governance commands: forget, opt-out, roles, rotate-keys and the opt-out HTTP service."""

from __future__ import annotations

import getpass
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from cli.common import JsonOpt, app, console, load_settings, print_json
from cli.errors import OperatorError
from cli.people_commands import KeyOpt, signed_by
from consent.customers import resolve_customer
from db.engine import engine_for, session_scope
from governance import roles
from governance.enrollment import change_role
from governance.key_rotation import RotationError, rotate_keys
from models.identity import identity
from optout.apply import CHANNELS, opt_out
from optout.erasure import forget
from privacy.masking import scrub
from settings import settings

BAD_INPUT = 2
roles_app = typer.Typer(no_args_is_help=True, help="Who holds which role (approver, admin, …).")
app.add_typer(roles_app, name="roles")
AsOpt = Annotated[str, typer.Option("--as", help="Who does this (recorded in the audit log).")]


def _me(name: str | None) -> str:
    return name or settings().user or getpass.getuser()


def _customer(session: Session, ref: str) -> int:
    found = resolve_customer(session, ref)
    if found is None:
        raise OperatorError(f"no customer with id {ref!r}")
    return found


@app.command("forget")
def forget_cmd(
    customer: Annotated[str, typer.Argument(help="The retailer's customer id or our id.")],
    as_: Annotated[str | None, typer.Option("--as", help="Who asks (audit log).")] = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Erase a customer's personal data (irreversible); reports keep anonymous counts."""
    if not yes:
        typer.confirm(
            f"Erase all personal data of customer {customer}? This cannot be undone", abort=True
        )
    with session_scope(engine_for(load_settings().database_url)) as session:
        report = forget(session, _customer(session, customer), actor=_me(as_), at=datetime.now(UTC))
    if as_json:
        print_json(asdict(report))
    elif report.already_erased:
        console.print(f"customer #{report.customer_id} was already erased; nothing to do")
    else:
        console.print(
            f"customer #{report.customer_id} erased: {report.suppressions_added} address(es) "
            f"kept on the suppression list, {report.tags_deleted} tag(s) and "
            f"{report.profile_deleted} profile deleted, {report.outbox_blanked} outbox copies "
            "blanked"
        )


@app.command("opt-out")
def opt_out_cmd(
    customer: Annotated[str, typer.Argument(help="The retailer's customer id or our id.")],
    as_: AsOpt,
    channel: Annotated[
        str | None, typer.Option(help="One channel; default: every channel.")
    ] = None,
    reason: Annotated[str, typer.Option(help="Why (e.g. the customer phoned in).")] = "",
) -> None:
    """Opt a customer out of marketing (one channel or all); effective from the next send."""
    if channel is not None and channel not in CHANNELS:
        raise OperatorError(
            f"--channel: unknown channel {channel!r} (one of {', '.join(CHANNELS)})", BAD_INPUT
        )
    with session_scope(engine_for(load_settings().database_url)) as session:
        cid = _customer(session, customer)
        changes = opt_out(
            session,
            customer_id=cid,
            channel=channel,
            source="operator",
            at=datetime.now(UTC),
            actor=_me(as_),
            reason=scrub(reason.strip()) or None,
        )
    where = channel or "every channel"
    if changes:
        console.print(f"customer #{cid} opted out of marketing on {where}")
    else:
        console.print(f"customer #{cid} was already opted out on {where}; nothing changed")


def _roles_change(change: str, user: str, role: str, by: str, key: str | None) -> None:
    try:
        signed = signed_by(key, by, f"role_{change}", f"{identity(user)}:{role}")
        with session_scope(engine_for(load_settings().database_url)) as session:
            changed = change_role(session, signed, change, user, role, datetime.now(UTC))
    except ValueError as exc:
        raise OperatorError(str(exc), BAD_INPUT) from None
    except roles.NotAllowed as exc:
        raise OperatorError(f"refused: {exc}") from None
    done = {"grant": ("granted", "already holds"), "revoke": ("revoked", "does not hold")}[change]
    console.print(f"{role} {done[0]} for {user}" if changed else f"{user} {done[1]} {role}")


@roles_app.command("grant")
def roles_grant(user: str, role: str, as_: AsOpt, key: KeyOpt = None) -> None:
    """Give USER the ROLE: approver, compliance_officer, operator or admin (admins only,
    signed with your key; the first admin comes from `setup-admin`)."""
    _roles_change("grant", user, role, as_, key)


@roles_app.command("revoke")
def roles_revoke(user: str, role: str, as_: AsOpt, key: KeyOpt = None) -> None:
    """Take ROLE away from USER (admins only, signed; the last admin stays)."""
    _roles_change("revoke", user, role, as_, key)


@roles_app.command("list")
def roles_list(as_json: JsonOpt = False) -> None:
    """Every role grant."""
    with session_scope(engine_for(load_settings().database_url)) as session:
        rows = [
            asdict(g) | {"granted_at": g.granted_at.isoformat()} for g in roles.list_roles(session)
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("no roles granted yet (bootstrap: setup-admin NAME --key FILE)")
    for r in rows:
        console.print(f"{r['user']:<24} {r['role']:<20} by {r['granted_by']} at {r['granted_at']}")


@app.command("rotate-keys")
def rotate_keys_cmd(
    batch: Annotated[int, typer.Option(min=1, max=100_000, help="Rows per commit.")] = 5000,
) -> None:
    """Re-encrypt all PII under the active key (first in OMNIREACH_PII_KEYS)."""
    try:
        with session_scope(engine_for(load_settings().database_url)) as session:
            done = rotate_keys(session, batch=batch)
    except RotationError as exc:
        raise OperatorError(f"rotation stopped: {exc}") from None
    console.print(f"re-encrypted {done} ciphertext(s) under the active key")


@app.command("optout-service")
def optout_service_cmd(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8088,
) -> None:
    """Serve unsubscribe links, RFC 8058 one-click POSTs and inbound SMS replies."""
    import uvicorn

    from engagement.optout_service import create_app

    engine = engine_for(load_settings().database_url)
    uvicorn.run(
        create_app(engine),
        host=host,
        port=port,
        access_log=False,
        proxy_headers=True,
        server_header=False,
    )
