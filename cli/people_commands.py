"""Enrolled people and their keys: setup-admin (once), keys new, enroll, revoke-key.

Every decision and role change is a statement signed with the person's own Ed25519 key (a PEM
file given by --key or OMNIREACH_SIGNING_KEY); the database keeps only public keys.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cli.common import app, console, load_settings
from cli.errors import OperatorError
from db.engine import engine_for, session_scope
from governance.enrollment import bootstrap_admin, enroll, revoke_key
from governance.roles import NotAllowed
from governance.signing import (
    key_id,
    load_private_key,
    new_private_key,
    public_text,
    sign,
    write_private_key,
)
from models.identity import identity
from models.signed import Signed

BAD_INPUT = 2
keys_app = typer.Typer(
    no_args_is_help=True, help="Signing keys (Ed25519) of the people who decide."
)
app.add_typer(keys_app, name="keys")
KeyOpt = Annotated[
    str | None,
    typer.Option("--key", help="Your private key file (default: OMNIREACH_SIGNING_KEY)."),
]
AsOpt = Annotated[str, typer.Option("--as", help="Who you are (your enrolled name).")]


def signing_key(source: str | None) -> Ed25519PrivateKey:
    try:
        return load_private_key(source)
    except (ValueError, OSError) as exc:
        raise OperatorError(f"--key: cannot read a signing key ({exc})", BAD_INPUT) from None


def signed_by(
    source: str | None,
    person: str,
    kind: str,
    subject: str,
    *,
    plan_digest: str | None = None,
    comment: str = "",
) -> Signed:
    """`person`'s statement, signed with their key (refused here if the key is not theirs)."""
    try:
        return sign(
            signing_key(source),
            kind=kind,
            subject=subject,
            by=person,
            at=datetime.now(UTC),
            plan_digest=plan_digest,
            comment=comment,
        )
    except ValueError as exc:
        raise OperatorError(str(exc), BAD_INPUT) from None


def _refused(exc: Exception) -> OperatorError:
    code = BAD_INPUT if isinstance(exc, ValueError) else 1
    return OperatorError(f"refused: {exc}", code)


@keys_app.command("new")
def keys_new(file: Path) -> None:
    """Make a new key pair: the private key goes to FILE (yours alone), the public key is
    printed for an admin to enroll."""
    key = new_private_key()
    try:
        write_private_key(file, key)
    except FileExistsError:
        raise OperatorError(f"{file} exists: a key is never overwritten", BAD_INPUT) from None
    public = public_text(key)
    console.print(f"public key {public} (key id {key_id(public)}); private key in {file}")


@app.command("setup-admin")
def setup_admin(
    name: str,
    key: Annotated[
        Path, typer.Option("--key", help="The admin's private key file; made if it does not exist.")
    ],
) -> None:
    """Bootstrap, once, where the database is: NAME becomes the first enrolled admin."""
    private = signing_key(str(key)) if key.exists() else new_private_key()
    try:
        with session_scope(engine_for(load_settings().database_url)) as session:
            kid = bootstrap_admin(session, name, public_text(private), datetime.now(UTC))
            if not key.exists():  # inside the transaction: no enrolment without its key file
                write_private_key(key, private)
    except (NotAllowed, ValueError) as exc:
        raise _refused(exc) from None
    console.print(f"{name} is the first admin (key id {kid}); keep {key} private")


@app.command("enroll")
def enroll_cmd(name: str, public_key: str, as_: AsOpt, key: KeyOpt = None) -> None:
    """Enroll NAME's PUBLIC_KEY (from `keys new`), as an admin."""
    try:
        signed = signed_by(key, as_, "enroll", f"{identity(name)}:{key_id(public_key)}")
        with session_scope(engine_for(load_settings().database_url)) as session:
            kid = enroll(session, signed, name, public_key, datetime.now(UTC))
    except (NotAllowed, ValueError) as exc:
        raise _refused(exc) from None
    console.print(f"{name} enrolled with key {kid}")


@app.command("revoke-key")
def revoke_key_cmd(
    key_id_: Annotated[str, typer.Argument(metavar="KEY_ID")], as_: AsOpt, key: KeyOpt = None
) -> None:
    """Revoke an enrolled key, as an admin: statements it signs stop counting."""
    try:
        signed = signed_by(key, as_, "revoke_key", key_id_)
        with session_scope(engine_for(load_settings().database_url)) as session:
            revoke_key(session, signed, key_id_, datetime.now(UTC))
    except (NotAllowed, ValueError) as exc:
        raise _refused(exc) from None
    console.print(f"key {key_id_} revoked")
