"""Each test module gets one PostgreSQL and one SQLite database; every test starts empty."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.profiles.dbutil import clear, postgres_engine, sqlite_engine


@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    if request.param == "postgresql":
        with postgres_engine() as eng:
            yield eng
    else:
        with sqlite_engine(tmp_path_factory.mktemp("db")) as eng:
            yield eng


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    clear(engine)
    with Session(engine) as s:
        yield s
        s.rollback()
