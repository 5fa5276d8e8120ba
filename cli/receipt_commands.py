"""`pull-receipts`: SMS delivery receipts by pull, for sends whose push never came."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Annotated

import typer

from cli.common import JsonOpt, app, console, load_settings, print_json, run
from cli.errors import OperatorError
from db.engine import engine_for
from engagement.receipt_pull import LOOKBACK, PullResult
from engagement.receipt_source import NotPullable, pull_configured


async def _pull(days: int) -> PullResult:
    engine = engine_for(load_settings().database_url)
    try:
        return await pull_configured(engine, timedelta(days=days))
    except NotPullable as exc:
        raise OperatorError(str(exc)) from None


@app.command("pull-receipts")
def pull_receipts_cmd(
    days: Annotated[
        int,
        typer.Option(
            "--days",
            min=1,
            max=30,
            help="Alibaba: ask about sends of the last DAYS days still without a receipt.",
        ),
    ] = LOOKBACK.days,
    as_json: JsonOpt = False,
) -> None:
    """Fetch SMS delivery statuses from the configured provider for sends whose receipt never
    came; a receipt that also came by push is counted once."""
    result = run(_pull(days))
    if as_json:
        print_json(asdict(result))
        return
    console.print(
        f"{result.asked} provider call(s): {result.received} status(es), {result.stored} new, "
        f"{result.waiting} still waiting for the carrier, {result.unmatched} for unknown sends",
        highlight=False,
    )
    for code, calls in sorted(result.errors.items()):
        console.print(f"  [red]{code}[/red]: {calls} call(s) failed", highlight=False)
    if result.errors:
        raise typer.Exit(1)
