"""Links customers get (unsubscribe, tracking) start with OMNIREACH_PUBLIC_URL; `start` refuses
to leave it at a loopback address when a real provider would carry them, in one line naming
the variable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engagement.links import click_url, open_pixel_url
from optout.links import unsubscribe_url
from tests.cli.test_spec_errors import EXAMPLE, ROOT


def start(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    spec = tmp_path / "spec.yaml"
    spec.write_text(EXAMPLE, encoding="utf-8")
    base = {
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
        env=base | env,
        timeout=60,
    )


@pytest.mark.parametrize(
    "url", [None, "http://127.0.0.1:8088", "http://localhost:9000/", "https://[::1]"]
)
def test_start_refuses_a_loopback_public_url_with_a_real_provider(
    tmp_path: Path, url: str | None
) -> None:
    env = {"OMNIREACH_CHANNEL_PROVIDERS": "sms=aliyun,email=smtp"}
    if url is not None:
        env["OMNIREACH_PUBLIC_URL"] = url
    proc = start(tmp_path, **env)
    assert proc.returncode == 1, proc.stderr
    err = proc.stderr.strip()
    assert "\n" not in err and "Traceback" not in err
    assert err.startswith("error: OMNIREACH_PUBLIC_URL is ")
    assert "(loopback)" in err and "email, sms" in err


@pytest.mark.parametrize(
    "env",
    [
        {
            "OMNIREACH_CHANNEL_PROVIDERS": "sms=aliyun",
            "OMNIREACH_PUBLIC_URL": "https://m.example.cn",
        },
        {},  # sandbox only: a loopback address is fine for a demo
    ],
)
def test_a_public_url_or_the_sandbox_passes(tmp_path: Path, env: dict[str, str]) -> None:
    proc = start(tmp_path, **env)
    assert "cannot reach Temporal" in proc.stderr, proc.stderr  # got past the check


def test_links_use_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIREACH_PUBLIC_URL", "https://m.example.cn/")
    assert unsubscribe_url(1, "sms", "c").startswith("https://m.example.cn/u/")
    assert open_pixel_url(5).startswith("https://m.example.cn/o/")
    assert click_url(5, "https://shop.example.cn/a").startswith("https://m.example.cn/c/")
