"""Commands that bring customer data in: imports (the demo seed is `python -m demo.seed`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from cli.common import JsonOpt, app, console, load_settings, print_json
from cli.errors import OperatorError
from consent.customers import resolve_customer
from db.engine import engine_for, session_scope
from ingest.columns import KINDS
from ingest.run import ImportFileError, import_file
from profiles.view import customer_view, export_profiles


class RowsPerSecond(ProgressColumn):
    """Rows read per second since the import began."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = task.completed / elapsed if elapsed > 0 else 0.0
        return Text(f"{rate:,.0f} rows/s")


@app.command("import")
def import_cmd(
    kind: Annotated[str, typer.Argument(help="customers, orders, events or consents")],
    file: Path,
    reject_file: Annotated[Path | None, typer.Option(help="Where rejected rows go.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import a CSV or JSON-lines file (streamed, idempotent); rejected rows go to a reject file."""
    if kind not in KINDS:
        raise OperatorError(f"unknown kind {kind!r}: use one of {', '.join(KINDS)}", 2)
    if not file.is_file():
        raise OperatorError(f"{file}: no such file", 2)
    rejects = reject_file or file.with_name(file.stem + ".rejects.csv")
    engine = engine_for(load_settings().database_url)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TextColumn("{task.completed:,} rows"),
        RowsPerSecond(),
        TimeElapsedColumn(),
        console=Console(stderr=True),  # stdout stays the report (or --json) alone
        transient=True,
    ) as bar:
        task = bar.add_task(f"importing {kind}", total=None)
        try:
            report = import_file(
                engine, kind, file, rejects, progress=lambda n: bar.update(task, completed=n)
            )
        except ImportFileError as exc:
            raise OperatorError(f"{exc} (nothing imported)", 2) from None
    if as_json:
        print_json(report.model_dump())
        return
    console.print(
        f"{kind}: read {report.rows_read:,}, inserted {report.inserted:,}, updated "
        f"{report.updated:,}, unchanged {report.unchanged:,}, rejected "
        f"{report.rejected:,}, flagged {report.flagged:,}, merged {report.merged:,} "
        f"in {report.seconds:.1f} s"
    )
    if report.rejected:
        console.print(f"rejected rows, with line, field and reason: {rejects}")


@app.command("profile")
def profile_cmd(customer_id: str, as_json: JsonOpt = False) -> None:
    """One customer's tags, RFM, lifecycle, consents and best hour (PII masked)."""
    with session_scope(engine_for(load_settings().database_url)) as session:
        internal = resolve_customer(session, customer_id)
        if internal is None:
            raise OperatorError(f"no customer {customer_id!r}")
        view = customer_view(session, internal)
    if as_json:
        print_json(view)
        return
    rfm = view["rfm"] or {}
    console.print(
        f"[bold]{view['customer_id']}[/bold] {view['name']}  {view['phone']}  "
        f"{view['email']}  {view['city'] or ''} {view['member_level'] or ''}"
    )
    console.print(
        f"  lifecycle {view['lifecycle']}  segment {rfm.get('segment')}  "
        f"R {rfm.get('recency_days')} F {rfm.get('frequency')} M {rfm.get('monetary')}"
        f"  scores {rfm.get('scores')}  best hour {view['best_hour']}"
    )
    console.print("  tags: " + ", ".join(f"{t['tag']} ({t['source']})" for t in view["tags"]))
    console.print(
        "  consents: "
        + ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in view["consents"].items())
    )


@app.command("export")
def export_cmd(
    what: Annotated[str, typer.Argument(help="profiles")],
    file: Path,
    as_of: Annotated[str | None, typer.Option("--as-of", help="YYYY-MM-DD (default: now)")] = None,
) -> None:
    """Write customer id, R, F, M, scores, segment, lifecycle and best hour for every customer
    (text cells neutralised: a spreadsheet never runs one as a formula)."""
    if what != "profiles":
        raise OperatorError(f"cannot export {what!r}: only 'profiles'", 2)
    try:
        when = datetime.fromisoformat(as_of).replace(tzinfo=UTC) if as_of else datetime.now(UTC)
    except ValueError:
        raise OperatorError(f"--as-of {as_of!r} is not a date like 2026-11-25", 2) from None
    with session_scope(engine_for(load_settings().database_url)) as session:
        written = export_profiles(session, file, when)
    console.print(f"wrote {written:,} profiles as of {when:%Y-%m-%d} to {file}")
