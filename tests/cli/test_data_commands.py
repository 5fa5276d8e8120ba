"""import, profile and export through the CLI, on the embedded SQLite default."""

from __future__ import annotations

import csv
import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import migrate

ROOT = Path(__file__).resolve().parents[2]


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'omni.db'}")
    return subprocess.run(
        [sys.executable, str(ROOT / "starter.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def test_import_profile_and_export(tmp_path: Path) -> None:
    migrate(f"sqlite:///{tmp_path / 'omni.db'}")
    customers = tmp_path / "customers.csv"
    customers.write_text(
        "customer_id,name,phone,email,city,registered_at\n"
        "C1,张三,13800138000,zhang@example.com,上海,2024-01-05T10:00:00+08:00\n"
        "C2,李四,12345,li@example,北京,2024-02-01T10:00:00+08:00\n",
        encoding="utf-8",
    )
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,customer_id,ordered_at,amount,category\n"
        "O1,C1,2026-11-01T20:15:00+08:00,399.00,服饰\n"
        "O2,C1,2026-11-20T20:40:00+08:00,120.50,美妆\n"
        "O3,C9,2026-11-20T20:40:00+08:00,10.00,美妆\n",
        encoding="utf-8",
    )
    first = cli(tmp_path, "import", "customers", str(customers))
    assert first.returncode == 0, first.stderr
    assert "inserted 1" in first.stdout and "rejected 1" in first.stdout
    rejects = (tmp_path / "customers.rejects.csv").read_text(encoding="utf-8")
    assert "3,phone" in rejects and "12345" not in rejects
    again = cli(tmp_path, "import", "customers", str(customers))
    assert "inserted 0" in again.stdout
    assert cli(tmp_path, "import", "orders", str(orders)).returncode == 0
    bad = cli(tmp_path, "import", "orders", str(customers))
    assert bad.returncode == 2 and "nothing imported" in bad.stderr
    out = tmp_path / "profiles.csv"
    assert cli(tmp_path, "export", "profiles", str(out), "--as-of", "2026-11-25").returncode == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows[0]["customer_id"] == "C1" and rows[0]["frequency"] == "2"
    assert rows[0]["recency_days"] == "4" and rows[0]["monetary"] == "519.50"
    shown = cli(tmp_path, "profile", "C1", "--json")
    view = json.loads(shown.stdout)
    assert view["phone"] == "138****8000" and view["email"] == "z***@example.com"
    assert "13800138000" not in shown.stdout and "zhang@" not in shown.stdout
    assert re.fullmatch(r"张\*+", view["name"])
    missing = cli(tmp_path, "profile", "NOPE")
    assert missing.returncode == 1 and "no customer" in missing.stderr


def test_import_shows_rows_per_second_on_the_terminal_and_keeps_json_clean(tmp_path: Path) -> None:
    """The progress bar goes to stderr (here a terminal); stdout stays the JSON report."""
    migrate(f"sqlite:///{tmp_path / 'omni.db'}")
    orders = tmp_path / "orders.csv"
    orders.write_text(
        "order_id,customer_id,ordered_at,amount,category\n"
        + "".join(f"O{i},C{i % 50},2026-11-01T20:15:00+08:00,9.90,服饰\n" for i in range(3000)),
        encoding="utf-8",
    )
    main, child = pty.openpty()
    env = dict(
        os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'omni.db'}", TERM="xterm", COLUMNS="120"
    )
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "starter.py"), "import", "orders", str(orders), "--json"],
        stdout=subprocess.PIPE,
        stderr=child,
        text=True,
        cwd=ROOT,
        env=env,
    )
    os.close(child)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    out, _ = proc.communicate(timeout=120)
    os.close(main)
    assert proc.returncode == 0
    assert json.loads(out)["rows_read"] == 3000
    screen = shown.decode("utf-8", "replace")
    assert re.search(r"importing orders.*3,000 rows.*[\d,]+ rows/s", screen), screen[-500:]
