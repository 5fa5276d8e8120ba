"""Internet-facing bodies are cut at the cap while they stream in, before any signature check.

A chunked POST with no Content-Length once grew the opt-out service by hundreds of MB before
its 413: the body was read whole, then measured. Here a real uvicorn server gets 50 MB in
64 KB chunks; the answer is 413 and the process's traced peak stays far below the body size.
"""

from __future__ import annotations

import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from starlette.types import ASGIApp

from engagement.optout_service import create_app
from optout.links import make_token
from privacy.codec_server import create_app as codec_app
from track.service import create_app as track_app

SECRET = "inbound-secret-for-tests-0123"
ENV = {"OMNIREACH_TENCENT_SMS_INBOUND_SECRET": SECRET}
CODEC_TOKEN = "codec-token-for-tests-0123"
CHUNK = b"x" * (64 * 1024)
BODY = 50 * 1024 * 1024
PEAK_ALLOWED = 8 * 1024 * 1024  # the caps are 64 KB, 2 MB and 4 MB; reading it whole costs > 50 MB


def chunks() -> Iterator[bytes]:
    """Generated lazily, so the client never holds the body either."""
    for _ in range(BODY // len(CHUNK)):
        yield CHUNK


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """`app` behind a real uvicorn server (in a thread) on a free local port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _optout() -> tuple[ASGIApp, list[tuple[str, dict[str, str]]]]:
    link = f"/u/{make_token(1, 'email', 'c')}"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    return create_app(environ=ENV), [("/inbound/sms/tencent", {}), (link, form)]


def _codec() -> tuple[ASGIApp, list[tuple[str, dict[str, str]]]]:
    headers = {"Authorization": f"Bearer {CODEC_TOKEN}", "Content-Type": "application/json"}
    return codec_app(CODEC_TOKEN), [("/encode", headers)]


def _track() -> tuple[ASGIApp, list[tuple[str, dict[str, str]]]]:
    headers = {"Authorization": "Bearer trk_x", "Content-Type": "application/json"}
    return track_app(), [("/v1/events", headers)]


@pytest.mark.parametrize("make", [_optout, _codec, _track], ids=["optout", "codec", "track"])
def test_huge_chunked_body_is_refused_without_being_held(make: object) -> None:
    app, targets = make()  # type: ignore[operator]
    with serving(app) as base, httpx.Client(base_url=base, timeout=120) as http:
        for path, headers in targets:
            tracemalloc.start()
            try:
                r = http.post(path, content=chunks(), headers=headers)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            assert r.request.headers.get("transfer-encoding") == "chunked"
            assert "content-length" not in r.request.headers
            assert r.status_code == 413, (path, r.text)
            assert peak < PEAK_ALLOWED, f"{path}: peak {peak / 2**20:.0f} MiB for a 50 MiB body"
