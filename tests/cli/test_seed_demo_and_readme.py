"""`seed-demo` names what it found instead of calling an operator's data "demo data"; the
README lists the import columns the importer really takes."""

from __future__ import annotations

import re
from pathlib import Path

from ingest.columns import COLUMNS
from tests.cli.test_data_commands import ROOT, cli
from tests.conftest import migrate


def test_seed_demo_after_an_import_names_the_imported_file(tmp_path: Path) -> None:
    migrate(f"sqlite:///{tmp_path / 'omni.db'}")
    customers = tmp_path / "members-2026.csv"
    customers.write_text("customer_id,name,city\nC1,张三,上海\nC2,李四,北京\n", encoding="utf-8")
    assert cli(tmp_path, "import", "customers", str(customers)).returncode == 0
    out = cli(tmp_path, "seed-demo")
    assert out.returncode == 0, out.stderr
    said = " ".join(out.stdout.split())
    assert "demo data" not in said
    assert "already holds 2 customers, imported from 1 customer file(s) (latest " \
           "members-2026.csv)" in said and "nothing seeded" in said


def test_seed_demo_twice_says_the_demo_base_is_there(tmp_path: Path) -> None:
    migrate(f"sqlite:///{tmp_path / 'omni.db'}")
    assert "seeded 12 customers" in cli(tmp_path, "seed-demo", "--customers", "12").stdout
    again = " ".join(cli(tmp_path, "seed-demo").stdout.split())
    assert again == "demo data already present (12 customers); nothing seeded"


def test_the_readme_lists_every_import_column_per_kind() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for kind, columns in COLUMNS.items():
        row = re.search(rf"^\| `{kind}` \| (.+) \|$", readme, re.M)
        assert row, f"no README row for {kind}"
        listed = re.findall(r"`(\w+)`(\\\*)?", row.group(1))
        assert [name for name, star in listed if star] == list(columns.required)
        assert [name for name, star in listed if not star] == list(columns.optional)
