"""Serve /metrics on one port: the product's metrics plus the Temporal SDK's own.

The SDK's Rust core serves its metrics on a private loopback port; this endpoint appends that
text to prometheus_client's output, so Prometheus scrapes a single target per worker.
"""

from __future__ import annotations

import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest


def serve_metrics(port: int, sdk_port: int | None, host: str = "0.0.0.0") -> ThreadingHTTPServer:
    """Start the merged endpoint in a daemon thread and return the server."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            if self.path.split("?")[0] not in ("/metrics", "/"):
                self.send_error(404)
                return
            body = generate_latest(REGISTRY)
            if sdk_port:
                try:
                    with urllib.request.urlopen(
                        f"http://127.0.0.1:{sdk_port}/metrics", timeout=2
                    ) as r:
                        body += r.read()
                except OSError:
                    pass
            self.send_response(200)
            self.send_header("Content-Type", CONTENT_TYPE_LATEST)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="metrics").start()
    return server
