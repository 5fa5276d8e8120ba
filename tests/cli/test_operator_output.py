"""Operator output shows user-supplied text, never acts on it: a campaign name with ESC[2J or
BEL, or rich markup in an owner or approver name, is printed visibly escaped by `start`,
`list` and `status`, and does not clear the screen, retitle the terminal or break the line."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

import cli.main  # noqa: F401  (registers the commands)
from cli import campaign_commands, views
from cli.common import app
from db.engine import make_engine, session_scope
from models.contracts import CampaignStatus, Counters, Phase
from models.tables import Campaign
from tests.cli.test_spec_errors import EXAMPLE

NAME = "spring\x1b[2J\x07[bold]sale[/bold][/oops]"
OWNER = "mallory\x1b]0;pwned\x07"
APPROVER = "[red]eve\x1b[8m"


def assert_inert(out: str) -> None:
    assert "\x1b" not in out and "\x07" not in out, repr(out)
    assert "\\x1b" in out and "\\x07" in out


def test_start_prints_the_name_and_requester_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tmp_path / "spec.yaml"
    name_line = "name: 春季焕新 · 老会员唤醒"
    assert name_line in EXAMPLE
    spec.write_text(
        EXAMPLE.replace(name_line, 'name: "spring\\e[2J\\a[bold]sale[/bold][/oops]"'),
        encoding="utf-8",
    )

    async def no_client(cfg: object) -> None:
        return None

    async def started(*args: object) -> str:
        return "cmp-test-1"

    async def polled(*args: object) -> bool:
        return True

    monkeypatch.setattr(campaign_commands, "client", no_client)
    monkeypatch.setattr(campaign_commands, "start_campaign", started)
    monkeypatch.setattr(campaign_commands, "worker_polls", polled)
    monkeypatch.setattr(campaign_commands, "refuse_what_would_fail", lambda *args: None)
    result = CliRunner().invoke(app, ["start", str(spec), "--as", APPROVER])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "cmp-test-1"
    assert_inert(result.stderr)
    assert "[bold]sale[/bold][/oops]" in result.stderr and "[red]eve" in result.stderr


def test_list_prints_names_and_owners_escaped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'list.db'}"
    engine = make_engine(url)
    Campaign.__table__.create(engine)
    now = datetime(2025, 3, 1, tzinfo=UTC)
    with session_scope(engine) as session:
        session.add(
            Campaign(
                id="cmp-1",
                name=NAME,
                objective="reactivate",
                owner=OWNER,
                requested_by=APPROVER,
                spec={},
                phase="research",
                detail=APPROVER,
                budget_limit=Decimal(1),
                created_at=now,
                updated_at=now,
            )
        )
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    result = CliRunner().invoke(app, ["list"])
    assert result.exit_code == 0, result.output
    assert_inert(result.stdout)
    assert "[bold]sale[/bold][/oops]" in result.stdout


def render(show: Any, *args: object) -> str:
    out = StringIO()
    show(Console(file=out, width=200, color_system=None), *args)
    return out.getvalue()


def test_status_and_audit_details_are_escaped() -> None:
    st = CampaignStatus(
        campaign_id="cmp-1",
        phase=Phase.RESEARCH,
        detail=f"rejected by {APPROVER}: {NAME}",
        counters=Counters(),
    )
    assert_inert(render(views.show_status, st))
    rows = [
        {
            "id": 1,
            "at": "2025-03-01T00:00:00",
            "actor": APPROVER,
            "action": "reject",
            "campaign_id": "cmp-1",
            "detail": {"comment": NAME},
        }
    ]
    assert_inert(render(views.show_audit, rows))
