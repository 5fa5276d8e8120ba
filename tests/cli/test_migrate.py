"""`starter.py migrate` works from any folder, and a database that exists but lacks the schema
makes every command say to run it (not "database error: ProgrammingError")."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from db.migrations import current, head
from tests.conftest import create_database, drop_database

ROOT = Path(__file__).resolve().parents[2]
NOT_MIGRATED = "error: database not migrated: run `starter.py migrate`"


def cli(url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DATABASE_URL=url, TEMPORAL_ADDRESS="127.0.0.1:1")
    return subprocess.run(
        [sys.executable, str(ROOT / "starter.py"), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


@pytest.fixture
def empty_pg() -> Iterator[str]:
    url = create_database("omni_mig")
    yield url
    drop_database(url)


def test_an_unmigrated_postgresql_database_says_to_migrate_and_migrate_fixes_it(
    empty_pg: str, tmp_path: Path
) -> None:
    for args in (["list"], ["plan", "cmp-1"], ["audit"]):
        proc = cli(empty_pg, tmp_path, *args)
        assert proc.returncode == 1 and proc.stderr.strip() == NOT_MIGRATED, (args, proc.stderr)
    done = cli(empty_pg, tmp_path, "migrate")  # from a folder outside the project
    assert done.returncode == 0, done.stderr
    assert f"from revision none to {head()}" in done.stdout
    assert current(empty_pg) == head()
    assert cli(empty_pg, tmp_path, "list", "--json").stdout.strip() == "[]"
    again = cli(empty_pg, tmp_path, "migrate")
    assert again.returncode == 0 and "up to date" in again.stdout


def test_an_unmigrated_sqlite_file_says_to_migrate(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    proc = cli(url, tmp_path, "profile", "C1")
    assert proc.returncode == 1 and proc.stderr.strip() == NOT_MIGRATED, proc.stderr
    assert cli(url, tmp_path, "migrate").returncode == 0
    missing = cli(url, tmp_path, "profile", "C1")
    assert missing.returncode == 1 and "no customer" in missing.stderr


def test_a_database_that_is_down_is_not_told_to_migrate(tmp_path: Path) -> None:
    proc = cli("postgresql+psycopg2://postgres@127.0.0.1:1/none", tmp_path, "list")
    assert proc.returncode == 1 and "database unavailable" in proc.stderr
    assert "migrate" not in proc.stderr
