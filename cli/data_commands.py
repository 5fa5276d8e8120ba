"""Commands that manage customer data: the demo seed."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import app, console, load_settings
from db.engine import engine_for, session_scope
from demo.seed import seed_demo


@app.command("seed-demo")
def seed_demo_cmd(
    customers: Annotated[int, typer.Option(min=10, max=1_000_000)] = 3000,
    seed: Annotated[int, typer.Option()] = 20231125,
) -> None:
    """Fill an empty database with the synthetic demo customer base."""
    with session_scope(engine_for(load_settings().database_url)) as session:
        made = seed_demo(session, customers=customers, seed=seed)
    if made is None:
        console.print("demo data already present; nothing seeded")
    else:
        console.print(
            f"seeded {made.customers} customers, {made.orders} orders, "
            f"{made.events} behavior events, {made.consents} consents"
        )
