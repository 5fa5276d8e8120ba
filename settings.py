"""Process configuration, read once from the environment (12-factor style)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
DEFAULT_DATABASE_URL = f"sqlite:///{ROOT / 'var' / 'omnireach.db'}"
TASK_QUEUE = "omnireach-campaigns"


@dataclass(frozen=True)
class Settings:
    """Everything a worker or the CLI needs to find its collaborators."""

    database_url: str = DEFAULT_DATABASE_URL
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = TASK_QUEUE
    metrics_port: int = 9464
    pii_keys: str = ""
    index_key: str = ""
    send_slot_seconds: int = 60
    send_batch_size: int = 1000
    send_lanes: int = 4
    send_max_items: int = 5000
    send_max_seconds: float = 5.0
    profile_refresh_minutes: int = 10  # 0: the worker does not create the refresh schedule

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            database_url=env.get("DATABASE_URL", DEFAULT_DATABASE_URL),
            temporal_address=env.get("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
            temporal_namespace=env.get("TEMPORAL_NAMESPACE", "default"),
            task_queue=env.get("OMNIREACH_TASK_QUEUE", TASK_QUEUE),
            metrics_port=int(env.get("OMNIREACH_METRICS_PORT", "9464")),
            pii_keys=env.get("OMNIREACH_PII_KEYS", ""),
            index_key=env.get("OMNIREACH_INDEX_KEY", ""),
            send_slot_seconds=int(env.get("OMNIREACH_SEND_SLOT_SECONDS", "60")),
            send_batch_size=int(env.get("OMNIREACH_SEND_BATCH_SIZE", "1000")),
            send_lanes=int(env.get("OMNIREACH_SEND_LANES", "4")),
            send_max_items=int(env.get("OMNIREACH_SEND_MAX_ITEMS", "5000")),
            send_max_seconds=float(env.get("OMNIREACH_SEND_MAX_SECONDS", "5")),
            profile_refresh_minutes=int(env.get("OMNIREACH_PROFILE_REFRESH_MINUTES", "10")),
        )


PUBLIC_URL_ENV = "OMNIREACH_PUBLIC_URL"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8088"  # the opt-out service on this machine: demos only


def public_url() -> str:
    """Where customers reach the opt-out service (unsubscribe, open and click links); `start`
    refuses a loopback address when a real provider would carry these links."""
    return os.environ.get(PUBLIC_URL_ENV, DEFAULT_PUBLIC_URL).rstrip("/")
