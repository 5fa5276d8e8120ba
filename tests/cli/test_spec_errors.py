"""A bad spec file: exit code 2, the field and the problem named, nothing started, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = (ROOT / "examples" / "demo-campaign.yaml").read_text(encoding="utf-8")


def run_start(
    tmp_path: Path, text: str, name: str = "spec.yaml"
) -> subprocess.CompletedProcess[str]:
    spec = tmp_path / name
    spec.write_text(text, encoding="utf-8")
    env = {
        "PATH": "/usr/bin:/bin",
        "TEMPORAL_ADDRESS": "127.0.0.1:1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        "OMNIREACH_KEY_FILE": str(tmp_path / "k.json"),
    }
    return subprocess.run(
        [sys.executable, str(ROOT / "starter.py"), "start", str(spec), "--as", "王芳"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("objective: reactivate", "objective: sell-more", "objective"),
        ("  limit: 500", "  limit: -5", "budget.limit"),
        ("holdout_percent: 10", "holdout_percent: 80", "holdout_percent"),
        ("  - channel: sms", "  - channel: fax", "channels[2].channel"),
        ('  end: "+3m"', '  end: "+0m"', "send_window"),
        ("    - segment: [potential]", "    - segment: [vip]", "audience.any[1].segment[0]"),
        ("  deadline: 30m", "  deadline: soon", "approval.deadline"),
    ],
)
def test_bad_field_is_named_with_exit_code_2(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in EXAMPLE
    proc = run_start(tmp_path, EXAMPLE.replace(old, new))
    assert proc.returncode == 2, proc.stderr
    assert expected in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    proc = run_start(tmp_path, "name: x\nobjective: [unclosed\n")
    assert proc.returncode == 2
    assert "spec.yaml:" in proc.stderr and "invalid YAML" in proc.stderr


def test_missing_file(tmp_path: Path) -> None:
    env_missing = run_start(tmp_path, "", name="present.yaml")
    assert env_missing.returncode == 2
    proc = subprocess.run(
        [sys.executable, str(ROOT / "starter.py"), "start", str(tmp_path / "nope.yaml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_unreachable_temporal_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    proc = run_start(tmp_path, EXAMPLE)
    assert proc.returncode == 1
    assert "cannot reach Temporal" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["approve", "cmp-1"], "Missing option '--as'"),
        (["refresh-schedule", "--every", "0"], "Invalid value for '--every'"),
        (["import", "customers"], "Missing argument 'file'"),
        (["launch"], "No such command 'launch'"),
    ],
)
def test_usage_errors_name_the_option_with_exit_code_2(
    tmp_path: Path, args: list[str], expected: str
) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "TEMPORAL_ADDRESS": "127.0.0.1:1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
    }
    proc = subprocess.run(
        [sys.executable, str(ROOT / "starter.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert expected in proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr
