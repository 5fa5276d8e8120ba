"""A recurring campaign's `schedule:` that is wrong is refused at `start` with one message
naming the field and the value: exit code 2, no traceback, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.cli.test_spec_errors import EXAMPLE, run_start

SCHEDULE = {"cron": "0 10 * * MON", "timezone": "Asia/Shanghai", "total_budget": 5000}


def with_schedule(**changes: object) -> str:
    doc = yaml.safe_load(EXAMPLE)
    doc["schedule"] = {k: v for k, v in (SCHEDULE | changes).items() if v is not None}
    return yaml.safe_dump(doc, allow_unicode=True)


CASES = [
    ("four fields", {"cron": "0 10 * *"}, "schedule.cron", "has 5 fields", "'0 10 * *'"),
    ("minute 60", {"cron": "60 10 * * *"}, "schedule.cron", "minute 60 is outside 0-59", ""),
    ("hour 24", {"cron": "0 24 * * *"}, "schedule.cron", "hour 24 is outside 0-23", ""),
    ("bad day name", {"cron": "0 10 * * MOO"}, "schedule.cron", "day of week 'MOO'", ""),
    ("step 0", {"cron": "*/0 10 * * *"}, "schedule.cron", "has a step of 0", ""),
    ("backwards", {"cron": "0 10 * 9-3 *"}, "schedule.cron", "runs backwards", ""),
    ("no cron", {"cron": None}, "schedule.cron", "Field required", ""),
    (
        "unknown zone",
        {"timezone": "Asia/Shanghia"},
        "schedule.timezone",
        "'Asia/Shanghia' is not an IANA time zone",
        "",
    ),
    ("no zone", {"timezone": None}, "schedule.timezone", "Field required", ""),
    ("path as zone", {"timezone": "../etc"}, "schedule.timezone", "not an IANA time zone", ""),
    (
        "total below a run",
        {"total_budget": 100},
        "",
        "schedule.total_budget 100 is less than budget.limit 500",
        "",
    ),
    ("negative total", {"total_budget": -1}, "schedule.total_budget", "greater than 0", ""),
    ("unknown key", {"every": "monday"}, "schedule.every", "Extra inputs", ""),
]


@pytest.mark.parametrize(
    ("changes", "field", "message", "value"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_a_wrong_schedule_is_one_message_and_changes_nothing(
    tmp_path: Path, changes: dict[str, object], field: str, message: str, value: str
) -> None:
    proc = run_start(tmp_path, with_schedule(**changes))
    assert proc.returncode == 2, proc.stderr
    text = " ".join(proc.stderr.split())
    assert "the campaign spec has 1 problem(s)" in text, text
    assert field in text and message in text and value in text, text
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stdout == ""
    assert not (tmp_path / "x.db").exists()


def test_an_end_date_already_past_is_refused(tmp_path: Path) -> None:
    proc = run_start(tmp_path, with_schedule(until="2020-01-01T00:00:00+08:00"))
    assert proc.returncode == 2, proc.stderr
    assert "schedule.until 2020-01-01T00:00:00+08:00 is already past" in proc.stderr
    assert not (tmp_path / "x.db").exists()


def test_a_valid_schedule_passes_validation(tmp_path: Path) -> None:
    proc = run_start(tmp_path, with_schedule(cron="*/15 8-20 1,15 JAN-DEC 1-5"))
    assert proc.returncode == 1, proc.stderr  # past the spec checks, stopped at Temporal
    assert "cannot reach Temporal" in proc.stderr
