"""Results commands: record broadcast results from a CSV, show the message events of a campaign."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.table import Table

from broadcast.results import NoBroadcastLines, import_results
from cli.common import JsonOpt, app, console, load_settings, print_json
from cli.errors import OperatorError
from db.campaigns import get_campaign
from db.engine import engine_for, session_scope
from engagement.summary import event_counts
from ingest.parse import SHANGHAI
from ingest.report import ImportFileError
from settings import settings

BAD_INPUT = 2
SHOWN_REJECTS = 20


@app.command("results")
def results_cmd(
    campaign_id: str,
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV: line, channel, date, impressions, clicks, visits, leads, cost[, revenue]"
        ),
    ],
    reject_file: Annotated[
        Path | None,
        typer.Option(
            "--reject-file", help="Write every rejected row (line, field, value, reason) here."
        ),
    ] = None,
    as_: Annotated[str | None, typer.Option("--as", help="Who records this (audit log).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record what the campaign's broadcast lines achieved (re-importing updates by line+date)."""
    actor = as_ or settings().user or getpass.getuser()
    now = datetime.now(UTC)
    try:
        with session_scope(engine_for(load_settings().database_url)) as session:
            get_campaign(session, campaign_id)
            report = import_results(
                session,
                campaign_id,
                file,
                actor=actor,
                at=now,
                today=now.astimezone(SHANGHAI).date(),
                reject_path=reject_file,
            )
    except ImportFileError as exc:
        raise OperatorError(f"nothing imported: {exc}", BAD_INPUT) from None
    except NoBroadcastLines as exc:
        raise OperatorError(str(exc)) from None
    except ValidationError as exc:
        where = "; ".join(
            f"broadcast.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
        )
        raise OperatorError(f"the campaign's broadcast lines are invalid: {where}") from None
    counts = {
        k: getattr(report, k) for k in ("rows_read", "inserted", "updated", "unchanged", "rejected")
    }
    if as_json:
        print_json({"file": report.file_name, **counts, "rejects": report.shown_rejects()})
        return
    console.print(
        f"{report.file_name}: {report.rows_read} rows read, {report.inserted} new, "
        f"{report.updated} updated, {report.unchanged} unchanged, "
        f"{report.rejected} rejected"
    )
    for r in report.shown_rejects()[:SHOWN_REJECTS]:
        console.print(f"  line {r['line']}: {r['field']}: {r['reason']}", highlight=False)
    if len(report.rejects) > SHOWN_REJECTS:
        more = f"see {reject_file}" if reject_file else "use --reject-file to see all"
        console.print(f"  … {len(report.rejects) - SHOWN_REJECTS} more ({more})")


@app.command("events")
def events_cmd(campaign_id: str, as_json: JsonOpt = False) -> None:
    """Message events of a campaign (receipts, opens, clicks, replies, calls…) per channel."""
    with session_scope(engine_for(load_settings().database_url)) as session:
        get_campaign(session, campaign_id)
        rows = event_counts(session, campaign_id)
    if as_json:
        print_json(rows)
        return
    table = Table("channel", "event", "events", "sends", title=f"events of {campaign_id}")
    for row in rows:
        table.add_row(
            str(row["channel"]), str(row["event_type"]), str(row["events"]), str(row["sends"])
        )
    console.print(table if rows else f"no message events for {campaign_id} yet")
