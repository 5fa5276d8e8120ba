"""One line for a database failure: a database that lacks the schema is told to migrate,
one that is down says so, anything else names the error."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError, SQLAlchemyError

from cli.views import shown
from db.migrations import behind
from settings import Settings

NOT_MIGRATED = "database not migrated: run `starter.py migrate`"


def database_problem(exc: SQLAlchemyError, settings: Settings) -> str:
    if behind(settings.database_url):
        return NOT_MIGRATED
    if isinstance(exc, OperationalError):
        return f"database unavailable: {shown(exc.orig)}"
    return f"database error: {type(exc).__name__}"
