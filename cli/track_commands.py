"""The track API's process and its sources: `track-service`, `track-sources add|list|revoke`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, TypeVar

import typer

from cli.actor import ActorOpt, actor
from cli.common import JsonOpt, app, console, load_settings, print_json
from cli.errors import OperatorError
from db.engine import engine_for, make_engine, session_scope
from track.sources import AUTHS, SourceError, add_source, list_sources, revoke_source

BAD_INPUT = 2
T = TypeVar("T")
sources_app = typer.Typer(
    no_args_is_help=True, help="Who may post events to the track API, and with which key."
)
app.add_typer(sources_app, name="track-sources")
NameArg = Annotated[str, typer.Argument(help="The source's name (letters, digits, . _ -).")]


@app.command("track-service")
def track_service_cmd(
    host: Annotated[str | None, typer.Option(help="Default: $OMNIREACH_TRACK_HOST.")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Default: $OMNIREACH_TRACK_PORT.")
    ] = None,
) -> None:
    """Serve the track API (POST /v1/events) and its metrics on OMNIREACH_METRICS_PORT."""
    import uvicorn

    from observability.exporter import serve_metrics
    from track.service import STATEMENT_TIMEOUT, create_app

    config = load_settings()
    serve_metrics(config.metrics_port, None)
    uvicorn.run(
        create_app(make_engine(config.database_url, STATEMENT_TIMEOUT)),
        host=host or config.track_host,
        port=port or config.track_port,
        access_log=False,
        proxy_headers=True,
        server_header=False,
    )


def _changed(as_: str | None, change: Callable[..., T], *args: str) -> T:
    """Run one audited change of the sources as the operator named by --as."""
    who = actor(as_, "track source change")
    try:
        with session_scope(engine_for(load_settings().database_url)) as session:
            return change(session, *args, by=who, at=datetime.now(UTC))
    except SourceError as exc:
        raise OperatorError(str(exc), BAD_INPUT) from None


@sources_app.command("add")
def add_cmd(
    name: NameArg,
    auth: Annotated[str, typer.Option(help=f"{' or '.join(AUTHS)}.")],
    as_: ActorOpt = None,
) -> None:
    """Add a source; its key is printed once (stored only encrypted or hashed)."""
    key = _changed(as_, add_source, name, auth)
    console.print(f"source {name} added ({auth}); its key, shown only now:", highlight=False)
    typer.echo(key)


@sources_app.command("list")
def list_cmd(as_json: JsonOpt = False) -> None:
    """Every source, live or revoked (never their keys)."""
    with session_scope(engine_for(load_settings().database_url)) as session:
        rows = [asdict(row) for row in list_sources(session)]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("no track sources: add one with `track-sources add NAME --auth hmac`")
    for r in rows:
        state = f"revoked {r['revoked_at']:%Y-%m-%d %H:%M}" if r["revoked_at"] else "live"
        console.print(
            f"{r['name']:<24} {r['auth']:<7} {state:<24} by {r['created_by']}", highlight=False
        )


@sources_app.command("revoke")
def revoke_cmd(name: NameArg, as_: ActorOpt = None) -> None:
    """Refuse the source's key from the next request on."""
    revoked = _changed(as_, revoke_source, name)
    console.print(f"source {name} revoked" if revoked else f"source {name} was already revoked")
