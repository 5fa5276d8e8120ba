"""`python -m demo.seed` names what it found instead of calling an operator's data "demo data"; the
README lists the import columns the importer really takes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from ingest.columns import COLUMNS
from tests.cli.test_data_commands import ROOT, cli
from tests.conftest import migrate


def seed(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'omni.db'}")
    return subprocess.run(
        [sys.executable, "-m", "demo.seed", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def test_seed_demo_after_an_import_names_the_imported_file(tmp_path: Path) -> None:
    migrate(f"sqlite:///{tmp_path / 'omni.db'}")
    customers = tmp_path / "members-2026.csv"
    customers.write_text("customer_id,name,city\nC1,张三,上海\nC2,李四,北京\n", encoding="utf-8")
    assert cli(tmp_path, "import", "customers", str(customers)).returncode == 0
    out = seed(tmp_path)
    assert out.returncode == 0, out.stderr
    said = " ".join(out.stdout.split())
    assert "demo data" not in said
    assert (
        "already holds 2 customers, imported from 1 customer file(s) (latest members-2026.csv)"
        in said
        and "nothing seeded" in said
    )


def test_seed_demo_twice_says_the_demo_base_is_there(tmp_path: Path) -> None:
    migrate(f"sqlite:///{tmp_path / 'omni.db'}")
    assert "seeded 12 customers" in seed(tmp_path, "--customers", "12").stdout
    again = " ".join(seed(tmp_path).stdout.split())
    assert again == "demo data already present (12 customers); nothing seeded"


def test_a_bad_customer_count_is_a_usage_error(tmp_path: Path) -> None:
    proc = seed(tmp_path, "--customers", "many")
    assert proc.returncode == 2 and "Invalid value for '--customers'" in proc.stderr


def test_the_readme_lists_every_import_column_per_kind() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for kind, columns in COLUMNS.items():
        row = re.search(rf"^\| `{kind}` \| (.+) \|$", readme, re.M)
        assert row, f"no README row for {kind}"
        listed = re.findall(r"`(\w+)`(\\\*)?", row.group(1))
        assert [name for name, star in listed if star] == list(columns.required)
        assert [name for name, star in listed if not star] == list(columns.optional)
