"""The schema's migrations, found beside the code (never relative to the working directory):
`starter.py migrate` runs them from anywhere, and the CLI tells a database that lacks them
from one that is down."""

from __future__ import annotations

import logging

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

from db.engine import make_engine
from settings import ROOT

# Alembic narrates every connection at INFO; operators get one line of outcome instead.
logging.getLogger("alembic").setLevel(logging.WARNING)


def alembic_config(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def head() -> str | None:
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


def current(url: str) -> str | None:
    """The database's revision (None if never migrated); raises if it cannot be reached."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def upgrade(url: str) -> tuple[str | None, str | None]:
    """Migrate to the newest revision; returns (before, after)."""
    before = current(url)
    command.upgrade(alembic_config(url), "head")
    return before, current(url)


def behind(url: str) -> bool:
    """True if the database answers but is not at the newest revision."""
    try:
        return current(url) != head()
    except SQLAlchemyError:
        return False
