"""Entry point: runs the CLI and turns every failure into one readable line and an exit code."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from cli import (  # noqa: F401 (importing registers the commands)
    campaign_commands,
    data_commands,
    governance_commands,
    report_commands,
)
from cli.common import app
from cli.errors import OperatorError
from db.campaigns import UnknownCampaign
from observability.logs import setup_logging

err = Console(stderr=True)


def main() -> None:
    setup_logging()
    try:
        app(standalone_mode=False)
    except OperatorError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        sys.exit(exc.code)
    except UnknownCampaign as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        sys.exit(1)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except OperationalError as exc:
        err.print(f"[red]error:[/red] database unavailable or not migrated: {exc.orig}")
        sys.exit(1)
    except SQLAlchemyError as exc:
        err.print(f"[red]error:[/red] database error: {type(exc).__name__}")
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback to operators
        err.print(f"[red]internal error:[/red] {type(exc).__name__}: {exc}")
        sys.exit(1)
