"""The README's configuration tables name every environment variable the product reads and every
variable docker-compose.yml asks for (provider adapters' own are the `OMNIREACH_<PROVIDER>_*`
row, documented in `channels/`)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"\b((?:OMNIREACH|TEMPORAL)_[A-Z0-9_]*[A-Z0-9]|DATABASE_URL)\b")
NOT_PRODUCT = {".venv", "tests", "bench", "var", "build"}
PROVIDER_ADAPTERS = {"channels", "engagement"}
WECHAT = ("WECHAT_OA", "WECHAT_MINI")  # Env(channel.upper()) in channels/wechat_subscribe.py


def provider_prefixes() -> tuple[str, ...]:
    """`OMNIREACH_<PROVIDER>_` of every adapter (`Env("SMTP")` and the like in channels/)."""
    found = {
        m
        for path in (ROOT / "channels").glob("*.py")
        for m in re.findall(r'Env\("([A-Z_]+)"', path.read_text(encoding="utf-8"))
    }
    return tuple(f"OMNIREACH_{p}_" for p in sorted(found | set(WECHAT)))


def read_by_the_code() -> set[str]:
    names: set[str] = set()
    for path in ROOT.rglob("*.py"):
        top = path.relative_to(ROOT).parts[0]
        if top in NOT_PRODUCT | PROVIDER_ADAPTERS or top.startswith("."):
            continue
        text = path.read_text(encoding="utf-8")
        if "environ" in text or "getenv" in text or "_ENV" in text:
            names |= set(NAME.findall(text))
    return names


def asked_by_compose() -> set[str]:
    text = (ROOT / "docker-compose.yml").read_text()
    return set(re.findall(r"\$\{(OMNIREACH_[A-Z0-9_]+)", text))


def test_every_variable_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"`((?:OMNIREACH|TEMPORAL)_[A-Z0-9_]+|DATABASE_URL)`", readme))
    prefixes = provider_prefixes()
    assert "OMNIREACH_SMTP_" in prefixes
    wanted = {n for n in read_by_the_code() | asked_by_compose() if not n.startswith(prefixes)}
    assert {"DATABASE_URL", "OMNIREACH_METRICS_PORT", "OMNIREACH_CODEC_TOKEN"} <= wanted
    assert wanted - documented == set()
