"""Control actions name a person: without --as or OMNIREACH_ACTOR, `start`, `pause`, `resume`
and `cancel` refuse in one line (exit 2) before reaching Temporal; the operating-system account
is never taken instead."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_spec_errors import EXAMPLE

ROOT = Path(__file__).resolve().parents[2]


def cli(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "OMNIREACH_ACTOR"}
    env |= {
        "TEMPORAL_ADDRESS": "127.0.0.1:1",
        "USER": "root",
        "LOGNAME": "root",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        **extra,
    }
    return subprocess.run(
        [sys.executable, str(ROOT / "starter.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )


@pytest.mark.parametrize("action", ["pause", "resume", "cancel"])
def test_a_control_without_a_name_is_refused(tmp_path: Path, action: str) -> None:
    proc = cli(tmp_path, action, "cmp-1")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == (
        f"error: who does this {action}? give --as NAME or set OMNIREACH_ACTOR"
    )


def test_start_without_a_name_is_refused_and_the_variable_names_one(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(EXAMPLE, encoding="utf-8")
    nobody = cli(tmp_path, "start", str(spec))
    assert nobody.returncode == 2 and "give --as NAME or set OMNIREACH_ACTOR" in nobody.stderr
    assert "root" not in nobody.stderr
    blank = cli(tmp_path, "start", str(spec), "--as", "  ")
    assert blank.returncode == 2 and "who does this start?" in blank.stderr
    named = cli(tmp_path, "start", str(spec), OMNIREACH_ACTOR="王芳")
    assert named.returncode == 1 and "cannot reach Temporal" in named.stderr, named.stderr
