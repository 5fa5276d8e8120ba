"""Who performs a control action: `--as NAME`, or OMNIREACH_ACTOR for scripts; never the
operating-system account, which names a machine user, not a person the audit log can hold
to account."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.errors import OperatorError
from settings import settings

ENV = "OMNIREACH_ACTOR"

ActorOpt = Annotated[
    str | None,
    typer.Option("--as", help=f"Who does this (audit log); default: ${ENV}."),
]


def actor(as_: str | None, action: str) -> str:
    """The name given, or the environment's; refused if neither is there."""
    name = (as_ if as_ is not None else settings().actor).strip()
    if not name:
        raise OperatorError(f"who does this {action}? give --as NAME or set {ENV}", 2)
    return name
