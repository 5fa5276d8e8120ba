"""Hostile spec files get one clear line and exit 2: alias bombs, runaway nesting, numbers the
database cannot hold, megabyte values echoed back, rich markup and escape codes in values."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from cli.errors import OperatorError
from cli.spec_file import BAD_SPEC, MAX_ALIASES, MAX_EXPANDED, MAX_NESTING, load_spec_file
from models.spec import MAX_FILTER_DEPTH, MONEY_MAX
from tests.cli.test_spec_errors import EXAMPLE, run_start

NOW = datetime.now(UTC)
AUDIENCE = (
    "audience:\n  any:\n    - lifecycle: [at_risk, dormant, churned]\n    - segment: [potential]\n"
)


def refusal(tmp_path: Path, text: str, name: str = "spec.yaml") -> str:
    """The one message a bad spec is refused with (exit code 2)."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(OperatorError) as caught:
        load_spec_file(path, NOW)
    assert caught.value.code == BAD_SPEC
    return str(caught.value)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "ok.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def nots(depth: int) -> str:
    """The example with an audience of `depth` nested `not`s around one condition."""
    lines = "".join("  " * (i + 1) + "not:\n" for i in range(depth))
    return EXAMPLE.replace(
        AUDIENCE, "audience:\n" + lines + "  " * (depth + 1) + "lifecycle: [at_risk]\n"
    )


def as_json() -> str:
    return json.dumps(yaml.safe_load(EXAMPLE), ensure_ascii=False)


def test_billion_laughs_is_refused_by_its_alias_count(tmp_path: Path) -> None:
    laughs = 'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
        f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 9)
    )
    message = refusal(tmp_path, laughs + EXAMPLE)
    assert f"more than {MAX_ALIASES} aliases" in message and "spec.yaml:" in message


def test_few_aliases_expanding_to_a_huge_document_are_refused(tmp_path: Path) -> None:
    base = f"base: &n0 [{', '.join(['1'] * 10_000)}]\n"
    levels = "".join(f"x{i}: &n{i} [*n{i - 1}, *n{i - 1}]\n" for i in range(1, 7))
    assert f"more than {MAX_EXPANDED} values" in refusal(tmp_path, base + levels + EXAMPLE)
    assert "values through aliases" in refusal(tmp_path, "loop: &c [*c]\n" + EXAMPLE)


def test_a_few_anchors_still_work(tmp_path: Path) -> None:
    text = EXAMPLE.replace("  limit: 500", "  limit: &money 500").replace(
        "  roi: 2", "  roi: *money"
    )
    assert load_spec_file(_write(tmp_path, text), NOW).kpi.roi == 500


def test_a_5000_deep_filter_is_refused_naming_the_limit(tmp_path: Path) -> None:
    proc = run_start(tmp_path, nots(5000))
    assert proc.returncode == 2, proc.stderr
    assert f"deeper than {MAX_NESTING} levels (the limit)" in proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
    deep = as_json()[:-1] + ', "x": ' + "[" * 5000 + "]" * 5000 + "}"
    assert f"deeper than {MAX_NESTING} levels" in refusal(tmp_path, deep, "spec.json")


def test_filter_depth_has_its_own_limit(tmp_path: Path) -> None:
    assert load_spec_file(_write(tmp_path, nots(MAX_FILTER_DEPTH)), NOW)
    message = refusal(tmp_path, nots(MAX_FILTER_DEPTH + 1))
    assert "audience" in message and f"more than {MAX_FILTER_DEPTH} levels" in message


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("  limit: 500", "  limit: 1e38", "budget.limit"),
        ("  limit: 500", "  limit: 10000000000", "budget.limit"),
        (
            "    template: SMS_205123456",
            "    template: SMS_205123456\n    unit_cost: 1e20",
            "channels[2].unit_cost",
        ),
        ("  roi: 2", "  roi: .inf", "kpi.roi"),
        ("  roi: 2", "  roi: 1e300", "kpi.roi"),
        ("  roi: 2", "  lift: .nan", "kpi.lift"),
    ],
)
def test_numbers_the_database_cannot_hold_are_refused(
    tmp_path: Path, old: str, new: str, field: str
) -> None:
    assert old in EXAMPLE
    assert field in refusal(tmp_path, EXAMPLE.replace(old, new))


def test_the_largest_budget_the_database_holds_is_accepted(tmp_path: Path) -> None:
    text = EXAMPLE.replace("  limit: 500", f"  limit: {MONEY_MAX}")
    assert load_spec_file(_write(tmp_path, text), NOW).budget.limit == MONEY_MAX


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("  limit: 500", "  limit: " + "9" * 5000, "unreadable value"),
        ('  end: "+3m"', "  end: 2030-13-45", "unreadable value"),
        ('  end: "+3m"', '  end: "+99999999999d"', "out of range"),
    ],
)
def test_unreadable_values_are_one_line_not_an_internal_error(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert expected in refusal(tmp_path, EXAMPLE.replace(old, new))


def test_a_window_already_over_is_refused(tmp_path: Path) -> None:
    text = EXAMPLE.replace(
        '  start: "+1m"\n  end: "+3m"',
        '  start: "2020-01-01T09:00:00+08:00"\n  end: "2020-01-02T09:00:00+08:00"',
    )
    message = refusal(tmp_path, text)
    assert "send_window.end" in message and "already past" in message


def test_a_10_mb_value_is_not_echoed(tmp_path: Path) -> None:
    doc = yaml.safe_load(EXAMPLE)
    doc["channels"][0]["body"] = "x" * 10_000_000
    doc["k" * 100_000] = 1
    proc = run_start(tmp_path, json.dumps(doc, ensure_ascii=False), name="spec.json")
    assert proc.returncode == 2
    assert "channels[0].body" in proc.stderr and "…" in proc.stderr
    assert len(proc.stderr) < 2_000, len(proc.stderr)


def test_markup_and_escape_codes_in_values_are_shown_not_applied(tmp_path: Path) -> None:
    text = EXAMPLE.replace("objective: reactivate", 'objective: "[/bold] x"') + '"\\e[2J": 1\n'
    proc = run_start(tmp_path, text)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "[/bold] x" in proc.stderr
    assert "\x1b" not in proc.stderr and "\\x1b[2J" in proc.stderr
