"""`starter.py migrate`: bring the database's schema to the newest revision, from any folder."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from cli.common import app, console, load_settings
from cli.views import shown
from db.migrations import upgrade


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema (DATABASE_URL) to the newest revision."""
    url = load_settings().database_url
    before, after = upgrade(url)
    where = shown(make_url(url).render_as_string(hide_password=True))
    if before == after:
        console.print(f"database {where} is up to date (revision {after})", highlight=False)
    else:
        console.print(
            f"migrated database {where} from revision {before or 'none'} to {after}",
            highlight=False,
        )
