"""Point an SDK's `requests` session at an emulator when the SDK hard-codes the provider's host
(wechatpy fetches tokens from a fixed URL): only the address changes, never the request."""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter


class _ToEmulator(HTTPAdapter):
    def __init__(self, origin: str, emulator: str) -> None:
        super().__init__()
        self.origin, self.emulator = origin, emulator

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        assert request.url is not None and request.url.startswith(self.origin)
        request.url = self.emulator + request.url.removeprefix(self.origin)
        return super().send(request, *args, **kwargs)


def redirect(session: requests.Session, origin: str, emulator: str) -> None:
    """Requests to `origin` (e.g. "https://api.weixin.qq.com") go to `emulator`'s base URL."""
    session.mount(origin + "/", _ToEmulator(origin, emulator))
