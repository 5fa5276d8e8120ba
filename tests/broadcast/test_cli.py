"""The `results` and `events` commands against a real database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

import cli.results_commands  # noqa: F401  (registers the commands)
from cli.common import app
from cli.errors import OperatorError
from db.campaigns import UnknownCampaign
from db.engine import session_scope
from engagement.handlers import apply_open
from tests.engagement.kit import NOW, make_campaign, make_send
from tests.governance.dbkit import make_customer

runner = CliRunner()


@pytest.fixture(autouse=True)
def database(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))


def test_results_command_reports_counts_and_rejects(engine: Engine, tmp_path: Path) -> None:
    with session_scope(engine) as s:
        campaign = make_campaign(s, {"broadcast": [{"channel": "weibo", "planned_cost": "900"}]})
    path = tmp_path / "weibo.csv"
    path.write_text(
        "line,channel,date,impressions,clicks,visits,leads,cost\n"
        ",weibo,2025-03-02,5000,120,40,3,300\n"
        ",weibo,2025-03-03,lots,120,40,3,300\n",
        encoding="utf-8",
    )
    rejects = tmp_path / "rejects.csv"
    result = runner.invoke(
        app,
        [
            "results",
            campaign,
            str(path),
            "--reject-file",
            str(rejects),
            "--as",
            "analyst",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert {k: body[k] for k in ("rows_read", "inserted", "rejected")} == {
        "rows_read": 2,
        "inserted": 1,
        "rejected": 1,
    }
    assert body["rejects"] == [
        {
            "line": 3,
            "field": "impressions",
            "value": "lots",
            "reason": "not a whole number ≥ 0 (digits only, no separators)",
        }
    ]
    text = runner.invoke(app, ["results", campaign, str(path)])
    assert "2 rows read, 0 new, 0 updated, 1 unchanged, 1 rejected" in text.output
    assert "line 3: impressions:" in text.output


def test_results_command_turns_bad_files_into_operator_errors(
    engine: Engine, tmp_path: Path
) -> None:
    with session_scope(engine) as s:
        campaign = make_campaign(s, {"broadcast": [{"channel": "weibo", "planned_cost": "900"}]})
        bare = make_campaign(s)
    path = tmp_path / "wrong.csv"
    path.write_text("customer_id,phone\n1,13800138000\n", encoding="utf-8")
    failed = runner.invoke(app, ["results", campaign, str(path)])
    assert isinstance(failed.exception, OperatorError) and failed.exception.code == 2
    assert "nothing imported" in str(failed.exception)
    no_lines = runner.invoke(app, ["results", bare, str(path)])
    assert isinstance(no_lines.exception, OperatorError)
    unknown = runner.invoke(app, ["results", "no-such-campaign", str(path)])
    assert isinstance(unknown.exception, UnknownCampaign)


def test_events_command_counts_per_channel_and_type(engine: Engine) -> None:
    with session_scope(engine) as s:
        campaign = make_campaign(s)
        send = make_send(s, campaign, make_customer(s).id, "email")
        apply_open(s, send.id, NOW)
    result = runner.invoke(app, ["events", campaign, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [
        {"channel": "email", "event_type": "opened", "events": 1, "sends": 1}
    ]
    table = runner.invoke(app, ["events", campaign])
    assert "opened" in table.output and "email" in table.output
