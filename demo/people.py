"""The demo's people, enrolled once per database: each signs decisions with a key of their own
kept under var/keys/ (a demo convenience; real people keep their key files to themselves)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from db.engine import engine_for, session_scope
from governance.signing import key_id, load_private_key, public_text
from models.governance_tables import PersonKey

Cli = Callable[..., subprocess.CompletedProcess[str]]


def key_file(keys: Path, person: str) -> Path:
    return keys / f"{person}.pem"


def _enrolled(database_url: str, key: Path) -> bool:
    if not key.exists():
        return False
    kid = key_id(public_text(load_private_key(str(key))))
    with session_scope(engine_for(database_url)) as session:
        found = session.get(PersonKey, kid)
        return found is not None and found.revoked_at is None


def enroll_people(
    cli: Cli, database_url: str, keys: Path, admin: str, roles: dict[str, str]
) -> None:
    """The admin bootstraps (setup-admin), then enrolls each person's own new key and grants
    their role, every step signed with the admin's key."""
    admin_key = key_file(keys, admin)
    if not _enrolled(database_url, admin_key):
        cli("setup-admin", admin, "--key", str(admin_key))
    for person, role in roles.items():
        key = key_file(keys, person)
        if not _enrolled(database_url, key):
            if not key.exists():
                cli("keys", "new", str(key))
            public = public_text(load_private_key(str(key)))
            cli("enroll", person, public, "--as", admin, "--key", str(admin_key))
        if role:
            cli("roles", "grant", person, role, "--as", admin, "--key", str(admin_key))
