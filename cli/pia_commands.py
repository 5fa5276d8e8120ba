"""`pia add|list`: approved personal-information impact assessments campaigns cite (CN-27)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime, time
from typing import Annotated

import typer

from cli.common import JsonOpt, app, console, load_settings, print_json
from cli.errors import OperatorError
from cli.people_commands import AsOpt, KeyOpt, signed_by
from db.engine import engine_for, session_scope
from governance.pia import KIND, check_id, list_assessments, record_assessment
from governance.roles import NotAllowed

BAD_INPUT = 2
pia_app = typer.Typer(
    no_args_is_help=True,
    help="Impact assessments (PIPL Art 55) a campaign's `pia` cites; recorded by a compliance "
    "officer.",
)
app.add_typer(pia_app, name="pia")


def _until(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), time.max, UTC)
    except ValueError:
        raise OperatorError(
            f"--valid-until {value!r} is not a date like 2027-12-31", BAD_INPUT
        ) from None


@pia_app.command("add")
def add_cmd(
    pia_id: Annotated[str, typer.Argument(metavar="ID", help="e.g. PIA-2026-001")],
    as_: AsOpt,
    title: Annotated[str, typer.Option(help="What was assessed.")],
    scope: Annotated[str, typer.Option(help="Processing it covers (segmentation, vendors…).")],
    valid_until: Annotated[
        str | None, typer.Option("--valid-until", help="Last day it holds (YYYY-MM-DD).")
    ] = None,
    key: KeyOpt = None,
) -> None:
    """Record an approved assessment, signed with your key (compliance officers only)."""
    until = _until(valid_until)
    try:
        signed = signed_by(key, as_, KIND, check_id(pia_id))
        with session_scope(engine_for(load_settings().database_url)) as session:
            done = record_assessment(
                session,
                signed,
                pia_id=pia_id,
                title=title,
                scope=scope,
                valid_until=until,
                at=datetime.now(UTC),
            )
    except ValueError as exc:
        raise OperatorError(str(exc), BAD_INPUT) from None
    except NotAllowed as exc:
        raise OperatorError(f"refused: {exc}") from None
    console.print(f"impact assessment {done.id} recorded, approved by {done.approved_by}")


@pia_app.command("list")
def list_cmd(as_json: JsonOpt = False) -> None:
    """Every recorded assessment."""
    with session_scope(engine_for(load_settings().database_url)) as session:
        rows = [
            asdict(a)
            | {
                "approved_at": a.approved_at.isoformat(),
                "valid_until": a.valid_until.isoformat() if a.valid_until else None,
            }
            for a in list_assessments(session)
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("no impact assessment recorded yet (pia add ID --as OFFICER …)")
    for r in rows:
        until = f" until {r['valid_until'][:10]}" if r["valid_until"] else ""
        console.print(
            f"{r['id']:<16} {r['title']}  approved by {r['approved_by']} at "
            f"{r['approved_at'][:19]}{until}\n  scope: {r['scope']}"
        )
