"""Process configuration: every environment variable the product reads, typed and validated in
one model (pydantic-settings) and read once per process by `settings()`, so a bad value is one
line naming the variable when a worker or the CLI starts, not a failure deep in a campaign."""

from __future__ import annotations

import os
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import Field, PrivateAttr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent
DEFAULT_DATABASE_URL = f"sqlite:///{ROOT / 'var' / 'omnireach.db'}"
TASK_QUEUE = "omnireach-campaigns"
PROFILE_REFRESH_MINUTES = 10  # the worker's schedule, and `refresh-schedule`'s default
PUBLIC_URL_ENV = "OMNIREACH_PUBLIC_URL"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8088"  # the opt-out service on this machine: demos only
DEV_KEY_FILE = ROOT / "var" / "keys.json"
PROVIDER_PREFIX = "OMNIREACH_"  # adapters read OMNIREACH_<PROVIDER>_* (channels/config.py)


class SettingsError(ValueError):
    """A variable that does not parse; the message is one line naming it."""


def _var(default: Any, name: str, **rules: Any) -> Any:
    """A field read from the environment variable `name` (also settable by field name)."""
    return Field(default, validation_alias=name, **rules)


class Settings(BaseSettings):
    """Everything a worker or the CLI reads from its environment."""

    model_config = SettingsConfigDict(
        frozen=True, env_ignore_empty=True, validate_by_name=True, validate_by_alias=True
    )

    database_url: str = _var(DEFAULT_DATABASE_URL, "DATABASE_URL")
    temporal_address: str = _var("127.0.0.1:7233", "TEMPORAL_ADDRESS")
    temporal_namespace: str = _var("default", "TEMPORAL_NAMESPACE")
    task_queue: str = _var(TASK_QUEUE, "OMNIREACH_TASK_QUEUE")
    metrics_port: int = _var(9464, "OMNIREACH_METRICS_PORT", ge=1, le=65535)
    pii_keys: str = _var("", "OMNIREACH_PII_KEYS")
    index_key: str = _var("", "OMNIREACH_INDEX_KEY")
    key_file: Path = _var(
        DEV_KEY_FILE, "OMNIREACH_KEY_FILE"
    )  # used only without OMNIREACH_PII_KEYS
    send_slot_seconds: int = _var(60, "OMNIREACH_SEND_SLOT_SECONDS", ge=1)
    send_batch_size: int = _var(1000, "OMNIREACH_SEND_BATCH_SIZE", ge=1)
    send_lanes: int = _var(4, "OMNIREACH_SEND_LANES", ge=1)
    send_max_items: int = _var(5000, "OMNIREACH_SEND_MAX_ITEMS", ge=1)
    send_max_seconds: float = _var(5.0, "OMNIREACH_SEND_MAX_SECONDS", gt=0)
    # 0: the worker does not create the refresh schedule
    profile_refresh_minutes: int = _var(
        PROFILE_REFRESH_MINUTES, "OMNIREACH_PROFILE_REFRESH_MINUTES", ge=0
    )
    profile_max_age_seconds: int = _var(900, "OMNIREACH_PROFILE_MAX_AGE_SECONDS", ge=0)
    public_url: str = _var(DEFAULT_PUBLIC_URL, PUBLIC_URL_ENV)
    # Retention (compliance rule CN-29): how long each kind of data is kept, and how often the
    # purge schedule runs (0: the worker creates none). Call evidence is kept 30 days at least.
    retention_customer_years: int = _var(3, "OMNIREACH_RETENTION_CUSTOMER_YEARS", ge=1, le=100)
    retention_events_days: int = _var(730, "OMNIREACH_RETENTION_EVENTS_DAYS", ge=1)
    retention_bodies_days: int = _var(180, "OMNIREACH_RETENTION_BODIES_DAYS", ge=1)
    retention_call_evidence_days: int = _var(180, "OMNIREACH_RETENTION_CALL_EVIDENCE_DAYS", ge=30)
    retention_purge_hours: int = _var(24, "OMNIREACH_RETENTION_PURGE_HOURS", ge=0, le=24 * 30)
    # SMS receipts pulled from Alibaba/Tencent for sends whose push never came (0: no schedule)
    receipt_pull_minutes: int = _var(30, "OMNIREACH_RECEIPT_PULL_MINUTES", ge=0, le=24 * 60)
    dual_approval_above: Decimal = _var(Decimal(100000), "OMNIREACH_DUAL_APPROVAL_ABOVE", ge=0)
    # Parsed where their grammar lives, with errors naming the variable:
    unit_costs: str = _var("", "OMNIREACH_UNIT_COSTS")  # planning/costs.py
    channel_providers: str = _var("", "OMNIREACH_CHANNEL_PROVIDERS")  # channels/configured.py
    rate_limits: str = _var("", "OMNIREACH_RATE_LIMITS")  # sending/rate_limit.py
    # Files whose defaults live beside the code that reads them (None: that default):
    compliance_config: Path | None = _var(None, "OMNIREACH_COMPLIANCE_CONFIG")
    caps_file: Path | None = _var(None, "OMNIREACH_CAPS_FILE")
    audit_checkpoint: Path | None = _var(None, "OMNIREACH_AUDIT_CHECKPOINT")
    signing_key: str = _var("", "OMNIREACH_SIGNING_KEY")  # a PEM file's path, or the PEM itself
    user: str = _var("", "OMNIREACH_USER")  # governance and data commands without --as
    actor: str = _var("", "OMNIREACH_ACTOR")  # control commands without --as
    codec_token: str = _var("", "OMNIREACH_CODEC_TOKEN")
    codec_origins: str = _var("", "OMNIREACH_CODEC_ORIGINS")
    codec_host: str = _var("127.0.0.1", "OMNIREACH_CODEC_HOST")
    codec_port: int = _var(8081, "OMNIREACH_CODEC_PORT", ge=1, le=65535)
    track_host: str = _var("127.0.0.1", "OMNIREACH_TRACK_HOST")  # the track API (track-service)
    track_port: int = _var(8090, "OMNIREACH_TRACK_PORT", ge=1, le=65535)
    # The provider adapters' OMNIREACH_<PROVIDER>_* variables, taken with the rest.
    _provider_vars: dict[str, str] = PrivateAttr(
        default_factory=lambda: {
            k: v for k, v in os.environ.items() if k.startswith(PROVIDER_PREFIX)
        }
    )

    @property
    def provider_vars(self) -> Mapping[str, str]:
        return self._provider_vars

    @classmethod
    def from_env(cls) -> Settings:
        """A fresh read of the environment; SettingsError (one line) when a value is bad."""
        try:
            return cls()
        except ValidationError as exc:
            raise SettingsError(describe(exc)) from None


def describe(exc: ValidationError) -> str:
    """`NAME is 'value': what is wrong`, for every bad variable, on one line."""
    problems = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]) or "settings"
        problems.append(
            f"{name} is {error['input']!r}: {error['msg'][:1].lower()}{error['msg'][1:]}"
        )
    return "; ".join(problems)


@cache
def settings() -> Settings:
    """The process's settings, read once (tests that change the environment call
    `settings.cache_clear()`)."""
    return Settings.from_env()


def public_url() -> str:
    """Where customers reach the opt-out service (unsubscribe, open and click links); `start`
    refuses a loopback address when a real provider would carry these links."""
    return settings().public_url.rstrip("/")
