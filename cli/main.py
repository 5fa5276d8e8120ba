"""Entry point: runs the CLI and turns every failure into one readable line and an exit code."""

from __future__ import annotations

import os
import sys

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from cli import (  # noqa: F401 (importing registers the commands)
    call_whitelist_commands,
    campaign_commands,
    data_commands,
    governance_commands,
    migrate_commands,
    people_commands,
    pia_commands,
    preview_commands,
    receipt_commands,
    report_commands,
    results_commands,
    retention_commands,
    schedule_commands,
    series_commands,
    track_commands,
    watch_commands,
)
from cli.common import app, load_settings
from cli.database_errors import database_problem
from cli.errors import OperatorError
from cli.unregistered import explain_unknown
from cli.views import shown
from db.campaigns import UnknownCampaign
from observability.logs import setup_logging
from settings import SettingsError

err = Console(stderr=True, soft_wrap=True)


def main() -> None:
    code = _run()
    # Leave without interpreter finalization: the Temporal client's native threads can still be
    # winding down, and tearing Python down under them aborts the process after the work is done.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _run() -> int:
    """Run one command; every failure becomes one readable line and an exit code."""
    setup_logging()
    try:
        load_settings()  # a bad variable stops every command here, in one line
        result = app(standalone_mode=False)
        return result if isinstance(result, int) else 0
    except OperatorError as exc:
        err.print(f"[red]error:[/red] {shown(exc)}", highlight=False)
        return exc.code
    except SettingsError as exc:
        err.print(f"[red]error:[/red] {shown(exc)}", highlight=False)
        return 1
    except UnknownCampaign as exc:  # not in the database: maybe started, with no worker yet
        err.print(
            f"[red]error:[/red] {shown(explain_unknown(exc, load_settings()))}", highlight=False
        )
        return 1
    except typer.Abort:
        return 130
    except typer.Exit as exc:
        return exc.exit_code
    except typer.TyperException as exc:  # usage errors: the option, value and what is wrong
        show = getattr(exc, "show", None)
        if show is None:
            err.print(f"[red]error:[/red] {shown(exc.format_message())}", highlight=False)
        else:
            show()
        return exc.exit_code
    except SQLAlchemyError as exc:
        err.print(f"[red]error:[/red] {database_problem(exc, load_settings())}", highlight=False)
        return 1
    except Exception as exc:  # noqa: BLE001 - last line of defence: no traceback to operators
        err.print(f"[red]internal error:[/red] {type(exc).__name__}: {shown(exc)}")
        return 1
