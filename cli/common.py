"""What every CLI command shares: the Typer app, the console, settings and the Temporal client."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Coroutine
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from temporalio.client import Client

from cli.errors import OperatorError
from orchestration.client import connect
from settings import Settings, settings

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="omnireach: start, approve, watch and review marketing campaigns.",
)
# Scripts and pipes get wide tables instead of an 80-column guess.
console = Console(soft_wrap=True, width=None if sys.stdout.isatty() else 160)
T = TypeVar("T")

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def run(make: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(make)


async def client(settings: Settings) -> Client:
    try:
        return await connect(settings)
    except RuntimeError as exc:
        raise OperatorError(
            f"cannot reach Temporal at {settings.temporal_address}: {exc}"
        ) from None


def load_settings() -> Settings:
    """The process's settings (read once; SettingsError names a bad variable)."""
    return settings()


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
