"""`pull-receipts`: SMS delivery receipts by pull, for sends whose push never came."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Annotated

import typer

from channels.config import ChannelConfigError
from channels.configured import ENV, real_provider
from channels.providers import build
from channels.sms_aliyun import AliyunSmsChannel
from channels.sms_tencent import TencentSmsChannel
from cli.common import JsonOpt, app, console, load_settings, print_json, run
from cli.errors import OperatorError
from db.engine import engine_for
from engagement.receipt_pull import LOOKBACK, PullResult, pull_aliyun, pull_tencent

PULLABLE = ("aliyun", "tencent")


async def _pull(days: int) -> PullResult:
    provider = real_provider("sms")
    if provider not in PULLABLE:
        shown = provider or "the sandbox"
        raise OperatorError(
            f"{ENV}: sms goes to {shown}; receipts can be pulled from sms=aliyun or sms=tencent"
        )
    try:
        channel = build(provider, "sms")
    except ChannelConfigError as exc:
        raise OperatorError(f"sms={provider}: {exc}") from None
    engine = engine_for(load_settings().database_url)
    if isinstance(channel, AliyunSmsChannel):
        async with channel:
            return await pull_aliyun(engine, channel, lookback=timedelta(days=days))
    assert isinstance(channel, TencentSmsChannel)
    async with channel:
        return await pull_tencent(engine, channel)


@app.command("pull-receipts")
def pull_receipts_cmd(
    days: Annotated[
        int,
        typer.Option(
            "--days",
            min=1,
            max=30,
            help="Alibaba: ask about sends of the last DAYS days still without a receipt.",
        ),
    ] = LOOKBACK.days,
    as_json: JsonOpt = False,
) -> None:
    """Fetch SMS delivery statuses from the configured provider for sends whose receipt never
    came; a receipt that also came by push is counted once."""
    result = run(_pull(days))
    if as_json:
        print_json(asdict(result))
        return
    console.print(
        f"{result.asked} provider call(s): {result.received} status(es), {result.stored} new, "
        f"{result.waiting} still waiting for the carrier, {result.unmatched} for unknown sends",
        highlight=False,
    )
    for code, calls in sorted(result.errors.items()):
        console.print(f"  [red]{code}[/red]: {calls} call(s) failed", highlight=False)
    if result.errors:
        raise typer.Exit(1)
