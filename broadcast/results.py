"""`results ID FILE`: record what broadcast lines achieved, one row per line and day.

The whole file is read and checked before anything is written, in one transaction: a file
that is not a results CSV imports nothing. Rows that name no line of the campaign, a channel
that is not the line's, or a (line, date) seen earlier in the file are rejected like bad
fields. Re-importing updates by (campaign, line, date), so a corrected file replaces the
figures it repeats and an unchanged one changes nothing. An empty `line` names the campaign's
only line on the row's channel, so for one line per channel the key is (campaign, channel, date).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from audit.log import append as audit
from broadcast.results_csv import COUNTS, Reject, ResultRow, read_results
from broadcast.store import sync_lines
from ingest.rejects import RejectWriter, shown
from models.broadcast_lines import BROADCAST_CHANNELS, BroadcastLine
from models.engagement_tables import BroadcastResult

FIGURES = (*COUNTS, "cost", "revenue")


class NoBroadcastLines(LookupError):
    """The campaign has no broadcast lines to record results for."""


@dataclass
class ResultsReport:
    file_name: str
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejects: list[Reject] = field(default_factory=list)

    def shown_rejects(self) -> list[dict[str, Any]]:
        """Rejects as the operator may see them (values masked like every reject file)."""
        return [
            {"line": r.line, "field": r.field, "value": shown(r.field, r.value), "reason": r.reason}
            for r in self.rejects
        ]


def _line_of(row: ResultRow, lines: dict[str, BroadcastLine]) -> BroadcastLine | Reject:
    if row.channel not in BROADCAST_CHANNELS:
        return Reject(
            row.number,
            "channel",
            row.channel,
            f"not a broadcast channel (one of {', '.join(BROADCAST_CHANNELS)})",
        )
    if row.line is None:
        same = [line for line in lines.values() if line.channel == row.channel]
        if len(same) == 1:
            return same[0]
        reason = (
            f"the campaign has no {row.channel} line"
            if not same
            else f"several {row.channel} lines ({', '.join(s.key for s in same)}): name one"
        )
        return Reject(row.number, "line", None, reason)
    line = lines.get(row.line)
    if line is None:
        return Reject(
            row.number, "line", row.line, f"not a line of this campaign (lines: {', '.join(lines)})"
        )
    if line.channel != row.channel:
        return Reject(
            row.number, "channel", row.channel, f"line {line.key} is a {line.channel} line"
        )
    return line


def _accept(
    path: Path, lines: dict[str, BroadcastLine], today: date, report: ResultsReport
) -> dict[tuple[str, date], dict[str, Any]]:
    """The valid rows by (line, day); every problem goes to `report.rejects`."""
    accepted: dict[tuple[str, date], dict[str, Any]] = {}
    first_seen: dict[tuple[str, date], int] = {}
    for parsed in read_results(path, today):
        report.rows_read += 1
        if isinstance(parsed, list):
            report.rejects += parsed
            report.rejected += 1
            continue
        line = _line_of(parsed, lines)
        if isinstance(line, BroadcastLine) and (line.key, parsed.day) in first_seen:
            line = Reject(
                parsed.number,
                "date",
                parsed.day.isoformat(),
                f"line {line.key} and this date repeat line {first_seen[(line.key, parsed.day)]}",
            )
        if isinstance(line, Reject):
            report.rejects.append(line)
            report.rejected += 1
            continue
        key = (line.key, parsed.day)
        first_seen[key] = parsed.number
        accepted[key] = {
            "line": line.key,
            "channel": line.channel,
            "day": parsed.day,
            **parsed.counts,
            "cost": parsed.cost,
            "revenue": parsed.revenue,
        }
    return accepted


def _write(
    session: Session,
    campaign_id: str,
    rows: dict[tuple[str, date], dict[str, Any]],
    at: datetime,
    report: ResultsReport,
) -> None:
    r = BroadcastResult
    stored = {
        (row.line, row.day): row
        for row in session.execute(select(r).where(r.campaign_id == campaign_id)).scalars()
    }
    new, changed = [], []
    for key, values in rows.items():
        old = stored.get(key)
        if old is None:
            new.append({"campaign_id": campaign_id, **values, "imported_at": at})
        elif any(getattr(old, f) != values[f] for f in FIGURES) or old.channel != values["channel"]:
            changed.append({"id": old.id, **values, "imported_at": at})
        else:
            report.unchanged += 1
    if new:
        session.execute(insert(r), new)
    if changed:
        session.execute(update(r), changed)
    report.inserted, report.updated = len(new), len(changed)


def import_results(
    session: Session,
    campaign_id: str,
    path: Path,
    *,
    actor: str,
    at: datetime,
    today: date,
    reject_path: Path | None = None,
) -> ResultsReport:
    """Check the whole file, then write its valid rows; the caller commits."""
    path = Path(path)
    lines = {line.key: line for line in sync_lines(session, campaign_id)}
    if not lines:
        raise NoBroadcastLines(
            f"campaign {campaign_id!r} has no broadcast lines; add them to "
            "its spec (broadcast: [...]) first"
        )
    report = ResultsReport(file_name=path.name)
    with RejectWriter(reject_path) as writer:
        rows = _accept(path, lines, today, report)
        for reject in report.rejects:
            writer.add(reject.line, reject.field, reject.value, reject.reason)
    _write(session, campaign_id, rows, at, report)
    audit(
        session,
        at=at,
        actor=actor,
        action="broadcast_results",
        campaign_id=campaign_id,
        detail={
            "file": path.name[:200],
            "rows_read": report.rows_read,
            "inserted": report.inserted,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "rejected": report.rejected,
        },
    )
    return report
