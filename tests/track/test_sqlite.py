"""The embedded setup: the track migration goes up and down on SQLite, and the API stores and
deduplicates events there as on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, inspect, select

from db.engine import make_engine
from emulators.server import serve
from models.tables import BehaviorEvent
from tests.conftest import downgrade, migrate
from tests.track.conftest import bearer, body_of, customer_ref, event, new_source
from track.service import create_app


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    url = f"sqlite:///{tmp_path / 'track.db'}"
    engine = make_engine(url)
    yield url, engine
    engine.dispose()


def test_the_migration_goes_up_and_down_on_sqlite(sqlite: tuple[str, Engine]) -> None:
    url, engine = sqlite
    added = {"source_id", "external_id", "received_at", "properties", "pii_enc"}
    migrate(url)
    assert added <= {c["name"] for c in inspect(engine).get_columns("behavior_events")}
    assert "track_sources" in inspect(engine).get_table_names()
    downgrade(url, "0010")
    engine.dispose()
    assert not added & {c["name"] for c in inspect(engine).get_columns("behavior_events")}
    assert "track_sources" not in inspect(engine).get_table_names()
    migrate(url)
    engine.dispose()
    unique = inspect(engine).get_unique_constraints("behavior_events")
    assert [u["column_names"] for u in unique] == [["source_id", "external_id"]]


def test_events_are_stored_and_deduplicated_on_sqlite(sqlite: tuple[str, Engine]) -> None:
    url, engine = sqlite
    migrate(url)
    _, token = new_source(engine, "bearer")
    ref = customer_ref(engine)
    first, second = event(ref, properties={"sku": "A"}), event(ref)
    with serve(create_app(engine)) as base, httpx.Client(base_url=base) as client:
        r1 = client.post("/v1/events", content=body_of(first), headers=bearer(token))
        r2 = client.post("/v1/events", content=body_of(first, second), headers=bearer(token))
    assert r1.status_code == r2.status_code == 200, (r1.text, r2.text)
    assert [e["status"] for e in r2.json()["events"]] == ["duplicate", "accepted"]
    with engine.connect() as conn:
        rows = conn.execute(
            select(BehaviorEvent.external_id, BehaviorEvent.properties).order_by(BehaviorEvent.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        (first["event_id"], {"sku": "A"}),
        (second["event_id"], None),
    ]
