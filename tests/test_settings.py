"""One settings object: every variable the product reads is a typed field of `settings.Settings`,
read once per process; a bad value stops the CLI or the worker in one line naming it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from channels.config import Env
from governance.approvals import approvals_needed
from settings import DEFAULT_DATABASE_URL, DEV_KEY_FILE, Settings, SettingsError, settings

ROOT = Path(__file__).resolve().parent.parent
READ_HERE = re.compile(r"\bos\.environ\b|\bgetenv\b")
NOT_PRODUCT = {"tests", "bench", "emulators", "var", "build"}
CHILD_PROCESS_ENV = {"demo"}  # the demo builds its children's environment


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith(("OMNIREACH_", "TEMPORAL_")) or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    return monkeypatch


def test_defaults(clean_env: pytest.MonkeyPatch) -> None:
    s = settings()
    assert (s.database_url, s.temporal_address, s.temporal_namespace, s.task_queue) == (
        DEFAULT_DATABASE_URL,
        "127.0.0.1:7233",
        "default",
        "omnireach-campaigns",
    )
    assert (
        s.metrics_port,
        s.send_slot_seconds,
        s.send_batch_size,
        s.send_lanes,
        s.send_max_items,
        s.send_max_seconds,
    ) == (9464, 60, 1000, 4, 5000, 5.0)
    assert (s.profile_refresh_minutes, s.profile_max_age_seconds) == (10, 900)
    assert s.dual_approval_above == Decimal(100000) and s.key_file == DEV_KEY_FILE
    assert (s.compliance_config, s.caps_file, s.audit_checkpoint) == (None, None, None)
    assert (s.codec_host, s.codec_port, s.public_url) == (
        "127.0.0.1",
        8081,
        "http://127.0.0.1:8088",
    )
    assert (s.track_host, s.track_port) == ("127.0.0.1", 8090)


PARSED: dict[str, tuple[str, str, Any]] = {
    "DATABASE_URL": ("database_url", "sqlite:///x.db", "sqlite:///x.db"),
    "TEMPORAL_ADDRESS": ("temporal_address", "t:7233", "t:7233"),
    "TEMPORAL_NAMESPACE": ("temporal_namespace", "ns", "ns"),
    "OMNIREACH_TASK_QUEUE": ("task_queue", "q", "q"),
    "OMNIREACH_METRICS_PORT": ("metrics_port", "9000", 9000),
    "OMNIREACH_PII_KEYS": ("pii_keys", "k1:abc", "k1:abc"),
    "OMNIREACH_INDEX_KEY": ("index_key", "idx", "idx"),
    "OMNIREACH_KEY_FILE": ("key_file", "/k/keys.json", Path("/k/keys.json")),
    "OMNIREACH_SEND_SLOT_SECONDS": ("send_slot_seconds", "5", 5),
    "OMNIREACH_SEND_BATCH_SIZE": ("send_batch_size", "10", 10),
    "OMNIREACH_SEND_LANES": ("send_lanes", "2", 2),
    "OMNIREACH_SEND_MAX_ITEMS": ("send_max_items", "7", 7),
    "OMNIREACH_SEND_MAX_SECONDS": ("send_max_seconds", "0.5", 0.5),
    "OMNIREACH_PROFILE_REFRESH_MINUTES": ("profile_refresh_minutes", "0", 0),
    "OMNIREACH_PROFILE_MAX_AGE_SECONDS": ("profile_max_age_seconds", "60", 60),
    "OMNIREACH_RETENTION_CUSTOMER_YEARS": ("retention_customer_years", "5", 5),
    "OMNIREACH_RETENTION_EVENTS_DAYS": ("retention_events_days", "365", 365),
    "OMNIREACH_RETENTION_BODIES_DAYS": ("retention_bodies_days", "90", 90),
    "OMNIREACH_RETENTION_CALL_EVIDENCE_DAYS": ("retention_call_evidence_days", "30", 30),
    "OMNIREACH_RETENTION_PURGE_HOURS": ("retention_purge_hours", "6", 6),
    "OMNIREACH_RECEIPT_PULL_MINUTES": ("receipt_pull_minutes", "0", 0),
    "OMNIREACH_PUBLIC_URL": ("public_url", "https://m.example.cn/", "https://m.example.cn/"),
    "OMNIREACH_DUAL_APPROVAL_ABOVE": ("dual_approval_above", "5000.5", Decimal("5000.5")),
    "OMNIREACH_UNIT_COSTS": ("unit_costs", '{"sms": 0.05}', '{"sms": 0.05}'),
    "OMNIREACH_CHANNEL_PROVIDERS": ("channel_providers", "sms=aliyun", "sms=aliyun"),
    "OMNIREACH_RATE_LIMITS": ("rate_limits", "sms=200/s:20", "sms=200/s:20"),
    "OMNIREACH_COMPLIANCE_CONFIG": ("compliance_config", "c.yaml", Path("c.yaml")),
    "OMNIREACH_CAPS_FILE": ("caps_file", "caps.yaml", Path("caps.yaml")),
    "OMNIREACH_AUDIT_CHECKPOINT": ("audit_checkpoint", "head.json", Path("head.json")),
    "OMNIREACH_SIGNING_KEY": ("signing_key", "me.pem", "me.pem"),
    "OMNIREACH_USER": ("user", "客服", "客服"),
    "OMNIREACH_ACTOR": ("actor", "王芳", "王芳"),
    "OMNIREACH_CODEC_TOKEN": ("codec_token", "t" * 16, "t" * 16),
    "OMNIREACH_CODEC_ORIGINS": ("codec_origins", "https://ui", "https://ui"),
    "OMNIREACH_CODEC_HOST": ("codec_host", "0.0.0.0", "0.0.0.0"),
    "OMNIREACH_CODEC_PORT": ("codec_port", "9081", 9081),
    "OMNIREACH_TRACK_HOST": ("track_host", "0.0.0.0", "0.0.0.0"),
    "OMNIREACH_TRACK_PORT": ("track_port", "9090", 9090),
}


@pytest.mark.parametrize("name", sorted(PARSED))
def test_each_variable_is_parsed(clean_env: pytest.MonkeyPatch, name: str) -> None:
    field, raw, expected = PARSED[name]
    clean_env.setenv(name, raw)
    assert getattr(settings(), field) == expected


def test_every_field_has_its_variable() -> None:
    aliases = {f.validation_alias for f in Settings.model_fields.values()}
    assert aliases == set(PARSED)


def test_read_once_per_process(clean_env: pytest.MonkeyPatch) -> None:
    first = settings()
    os.environ["OMNIREACH_SEND_LANES"] = "9"  # not through monkeypatch: no re-read
    try:
        assert settings() is first and settings().send_lanes == 4
    finally:
        del os.environ["OMNIREACH_SEND_LANES"]


def test_the_threshold_and_provider_variables_are_looked_up_at_use(
    clean_env: pytest.MonkeyPatch,
) -> None:
    assert approvals_needed(Decimal(6000)) == 1
    clean_env.setenv("OMNIREACH_DUAL_APPROVAL_ABOVE", "5000")
    clean_env.setenv("OMNIREACH_SMTP_HOST", "mail.example.cn")
    assert approvals_needed(Decimal(6000)) == 2
    assert Env("SMTP").require("HOST") == "mail.example.cn"


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("OMNIREACH_DUAL_APPROVAL_ABOVE", "abc", "valid decimal"),
        ("OMNIREACH_METRICS_PORT", "x", "valid integer"),
        ("OMNIREACH_SEND_LANES", "0", "greater than or equal to 1"),
    ],
)
def test_a_bad_value_names_the_variable(
    clean_env: pytest.MonkeyPatch, name: str, value: str, problem: str
) -> None:
    clean_env.setenv(name, value)
    with pytest.raises(SettingsError) as caught:
        settings()
    assert str(caught.value).startswith(f"{name} is {value!r}: ") and problem in str(caught.value)


def _start(tmp_path: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
        OMNIREACH_DUAL_APPROVAL_ABOVE="abc",
        TEMPORAL_ADDRESS="127.0.0.1:1",
    )
    return subprocess.run(
        [sys.executable, str(ROOT / script), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("script", "args", "prefix"),
    [("starter.py", ("list",), "error: "), ("worker.py", (), "worker: ")],
)
def test_the_cli_and_the_worker_stop_at_start_in_one_line(
    tmp_path: Path, script: str, args: tuple[str, ...], prefix: str
) -> None:
    proc = _start(tmp_path, script, *args)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f"{prefix}OMNIREACH_DUAL_APPROVAL_ABOVE is 'abc': input should be a valid decimal"
    )


def test_no_module_reads_the_environment_but_settings() -> None:
    readers = []
    for path in ROOT.rglob("*.py"):
        top = path.relative_to(ROOT).parts[0]
        if top.startswith(".") or top in NOT_PRODUCT | CHILD_PROCESS_ENV or top == "settings.py":
            continue
        if READ_HERE.search(path.read_text(encoding="utf-8")):
            readers.append(str(path.relative_to(ROOT)))
    assert readers == []


def test_the_worker_checks_unit_costs_at_start(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
        OMNIREACH_UNIT_COSTS='{"sms": "cheap"}',
        TEMPORAL_ADDRESS="127.0.0.1:1",
    )
    proc = subprocess.run(
        [sys.executable, str(ROOT / "worker.py")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "worker: OMNIREACH_UNIT_COSTS: cost for 'sms' is not a number: 'cheap'"
    )
