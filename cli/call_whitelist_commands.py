"""`call-whitelist add|list|remove`: the numbers marketing calls may go to (CN-11)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

import typer

from cli.actor import ActorOpt, actor
from cli.common import JsonOpt, app, console, load_settings, print_json
from cli.errors import OperatorError
from consent.call_whitelist import WhitelistRefused, add_number, list_numbers, remove_number
from db.engine import engine_for, session_scope

BAD_INPUT = 2
whitelist_app = typer.Typer(
    no_args_is_help=True,
    help="Numbers outbound marketing calls may go to (consented; a refusal takes one off).",
)
app.add_typer(whitelist_app, name="call-whitelist")
PhoneArg = Annotated[str, typer.Argument(help="A mainland mobile number, e.g. 13800138000.")]


@whitelist_app.command("add")
def add_cmd(phone: PhoneArg, as_: ActorOpt = None) -> None:
    """Whitelist a number whose customer consents to marketing calls."""
    who = actor(as_, "whitelist change")
    try:
        with session_scope(engine_for(load_settings().database_url)) as session:
            added = add_number(session, phone, by=who, at=datetime.now(UTC))
    except WhitelistRefused as exc:
        raise OperatorError(f"refused: {exc}", BAD_INPUT) from None
    console.print("added to the call whitelist" if added else "already on the call whitelist")


@whitelist_app.command("remove")
def remove_cmd(phone: PhoneArg, as_: ActorOpt = None) -> None:
    """Take a number off the whitelist: no marketing call goes to it from the next send on."""
    who = actor(as_, "whitelist change")
    try:
        with session_scope(engine_for(load_settings().database_url)) as session:
            removed = remove_number(session, phone, by=who, at=datetime.now(UTC))
    except WhitelistRefused as exc:
        raise OperatorError(str(exc), BAD_INPUT) from None
    console.print("removed from the call whitelist" if removed else "not on the call whitelist")


@whitelist_app.command("list")
def list_cmd(as_json: JsonOpt = False) -> None:
    """Every whitelisted number (masked), with the consent it rests on."""
    with session_scope(engine_for(load_settings().database_url)) as session:
        rows = [asdict(n) | {"added_at": n.added_at.isoformat()} for n in list_numbers(session)]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("the call whitelist is empty: no marketing call goes out")
    for r in rows:
        console.print(
            f"{r['phone']:<14} consent #{r['consent_event_id']:<8} by {r['added_by']} "
            f"at {r['added_at']}"
        )
