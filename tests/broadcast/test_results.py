"""`results ID FILE`: validated like every import, idempotent, summed up with ROI."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from broadcast.results import NoBroadcastLines, ResultsReport, import_results
from broadcast.summary import broadcast_lines
from db.engine import session_scope
from ingest.report import ImportFileError
from models.engagement_tables import BroadcastLineRow, BroadcastResult
from models.tables import AuditEntry
from tests.engagement.kit import make_campaign

AT = datetime(2025, 3, 20, 2, 0, tzinfo=UTC)
TODAY = date(2025, 3, 20)
HEADER = ["line", "channel", "date", "impressions", "clicks", "visits", "leads", "cost"]
SPEC = {
    "broadcast": [
        {"channel": "douyin", "planned_cost": "5000"},
        {"channel": "tv", "name": "cctv", "planned_cost": "20000"},
        {"channel": "tv", "name": "local-tv", "planned_cost": "5000"},
        {"channel": "billboard", "planned_cost": "8000"},
    ]
}
Write = Callable[..., Path]


@pytest.fixture
def write(tmp_path: Path) -> Write:
    def make(
        rows: list[list[str]],
        header: list[str] = HEADER,
        name: str = "results.csv",
        encoding: str = "utf-8",
    ) -> Path:
        path = tmp_path / name
        with path.open("w", encoding=encoding, newline="") as fh:
            csv.writer(fh).writerows([header, *rows])
        return path

    return make


@pytest.fixture
def campaign(engine: Engine) -> str:
    with session_scope(engine) as s:
        return make_campaign(s, SPEC)


def run(
    engine: Engine, campaign: str, path: Path, reject_path: Path | None = None
) -> ResultsReport:
    with session_scope(engine) as s:
        return import_results(
            s, campaign, path, actor="analyst", at=AT, today=TODAY, reject_path=reject_path
        )


def stored(engine: Engine, campaign: str) -> int:
    with session_scope(engine) as s:
        return s.execute(
            select(func.count())
            .select_from(BroadcastResult)
            .where(BroadcastResult.campaign_id == campaign)
        ).scalar_one()


GOOD = [
    ["", "douyin", "2025-03-10", "120000", "3400", "900", "60", "2500.00"],
    ["", "douyin", "2025-03-11", "100000", "2600", "700", "40", "2000.50"],
    ["cctv", "tv", "2025-03-10", "2000000", "0", "1500", "0", "18000"],
    ["", "billboard", "2025-03-01", "500000", "0", "0", "0", "8000"],
]


def test_good_file_is_recorded_and_summed_per_line(
    engine: Engine, campaign: str, write: Write
) -> None:
    report = run(engine, campaign, write(GOOD))
    assert (report.rows_read, report.inserted, report.rejected) == (4, 4, 0)
    with session_scope(engine) as s:
        lines = {line["line"]: line for line in broadcast_lines(s, campaign)}
        audit = s.execute(select(AuditEntry).where(AuditEntry.campaign_id == campaign)).scalar_one()
    assert lines["douyin"] == {
        "line": "douyin",
        "channel": "douyin",
        "planned_cost": "5000.00",
        "actual_cost": "4500.50",
        "impressions": 220000,
        "clicks": 6000,
        "visits": 1600,
        "leads": 100,
        "revenue": None,
        "roi": None,
        "days_reported": 2,
    }
    assert lines["local-tv"]["actual_cost"] == "0.00" and lines["local-tv"]["days_reported"] == 0
    assert set(lines) == {"douyin", "cctv", "local-tv", "billboard"}
    assert audit.action == "broadcast_results" and audit.detail["inserted"] == 4


def test_reimport_is_idempotent_and_corrections_update(
    engine: Engine, campaign: str, write: Write
) -> None:
    run(engine, campaign, write(GOOD))
    again = run(engine, campaign, write(GOOD))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 4)
    corrected = [row[:] for row in GOOD[:2]]
    corrected[1][7] = "2100.50"
    with_revenue = [[*row, rev] for row, rev in zip(corrected, ["9000", ""], strict=True)]
    fixed = run(engine, campaign, write(with_revenue, HEADER + ["revenue"]))
    assert (fixed.inserted, fixed.updated, fixed.unchanged) == (0, 2, 0)
    assert stored(engine, campaign) == 4
    with session_scope(engine) as s:
        douyin = next(x for x in broadcast_lines(s, campaign) if x["line"] == "douyin")
    assert douyin["actual_cost"] == "4600.50" and douyin["revenue"] == "9000.00"
    assert douyin["roi"] == pytest.approx(9000 / 4600.50)


def test_every_bad_row_is_reported_and_the_rest_imported(
    engine: Engine, campaign: str, write: Write, tmp_path: Path
) -> None:
    rows = [
        GOOD[0],
        ["", "douyin", "2025-03-10", "1", "1", "1", "1", "1"],  # repeats line 2
        ["", "tv", "2025-03-10", "1", "1", "1", "1", "1"],  # two tv lines
        ["cctv", "radio", "2025-03-10", "1", "1", "1", "1", "1"],  # not the line's channel
        ["nope", "douyin", "2025-03-12", "1", "1", "1", "1", "1"],  # unknown line
        ["", "sms", "2025-03-12", "1", "1", "1", "1", "1"],  # addressable channel
        ["", "douyin", "2025/03/12", "1,000", "-3", "1", "1", "12.345"],  # three bad fields
        ["", "douyin", "2025-04-01", "1", "1", "1", "1", "1"],  # future
        ["", "douyin", "2025-03-13", "1", "1"],  # short row
        ["", "douyin", "2025-03-14", "10", "2", "1", "0", "50"],
    ]
    rejects_file = tmp_path / "rejects.csv"
    report = run(engine, campaign, write(rows), rejects_file)
    assert (report.rows_read, report.inserted, report.rejected) == (10, 2, 8)
    problems = {(r.line, r.field) for r in report.rejects}
    assert problems == {
        (3, "date"),
        (4, "line"),
        (5, "channel"),
        (6, "line"),
        (7, "channel"),
        (8, "date"),
        (8, "impressions"),
        (8, "clicks"),
        (8, "cost"),
        (9, "date"),
        (10, "(row)"),
    }
    reasons = {(r.line, r.field): r.reason for r in report.rejects}
    assert reasons[(3, "date")] == "line douyin and this date repeat line 2"
    assert reasons[(4, "line")] == "several tv lines (cctv, local-tv): name one"
    assert reasons[(9, "date")] == "date is in the future"
    written = list(csv.reader(rejects_file.open(encoding="utf-8")))
    assert written[0] == ["line", "field", "value", "reason"] and len(written) == 12


@pytest.mark.parametrize(
    ("header", "rows", "name", "encoding", "message"),
    [
        (HEADER[:-1], [GOOD[0][:-1]], "r.csv", "utf-8", "missing column cost"),
        ([*HEADER, "roi"], [[*GOOD[0], "2"]], "r.csv", "utf-8", "unknown column roi"),
        (["line", "渠道", *HEADER[2:]], [GOOD[0]], "r.csv", "gbk", "GBK"),
        (HEADER, [GOOD[0]], "r.txt", "utf-8", "unsupported file type"),
    ],
)
def test_a_file_that_is_not_a_results_csv_imports_nothing(
    engine: Engine,
    campaign: str,
    write: Write,
    header: list[str],
    rows: list[list[str]],
    name: str,
    encoding: str,
    message: str,
) -> None:
    path = write(rows, header, name, encoding)
    with pytest.raises(ImportFileError, match=message):
        run(engine, campaign, path)
    with session_scope(engine) as s:
        assert (
            s.execute(
                select(func.count())
                .select_from(BroadcastLineRow)
                .where(BroadcastLineRow.campaign_id == campaign)
            ).scalar_one()
            == 0
        )
    assert stored(engine, campaign) == 0


def test_binary_file_and_campaign_without_lines(
    engine: Engine, campaign: str, tmp_path: Path, write: Write
) -> None:
    xlsx = tmp_path / "results.csv"
    xlsx.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    with pytest.raises(ImportFileError, match="ZIP archive"):
        run(engine, campaign, xlsx)
    with session_scope(engine) as s:
        bare = make_campaign(s)
    with pytest.raises(NoBroadcastLines):
        run(engine, bare, write(GOOD))
