"""The same per-module PostgreSQL and SQLite databases as tests/profiles."""

from tests.profiles.conftest import engine, session  # noqa: F401
