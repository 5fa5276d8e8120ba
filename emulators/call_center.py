"""Call center / AI-voice platform emulator: takes call tasks under the signed webhook contract
(mainland numbers only, do-not-call list → 410) and produces the signed result callbacks the
platform would POST back once the call is over."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from starlette.responses import JSONResponse

from emulators.base import MAINLAND_PHONE
from emulators.contract_auth import contract_headers
from emulators.webhook import WebhookReceiver, contract_error


class CallCenterEmulator(WebhookReceiver):
    opt_out_code = "do_not_call"
    path = "/calls"
    accepted_status = 202

    def validate(self, payload: dict[str, Any]) -> tuple[str, str] | JSONResponse:
        phone, script = payload.get("phone"), payload.get("script")
        if not isinstance(phone, str) or not MAINLAND_PHONE.match(phone):
            return contract_error(400, "invalid_number")
        if not isinstance(script, str) or not payload.get("task_id"):
            return contract_error(422, "missing_field")
        return phone, script

    def _caller(self, task_id: str) -> str | None:
        """The caller id the task asked for (the platform's own line when it named none)."""
        payload = next(d.content for d in self.deliveries if d.key == task_id)
        caller = payload.get("caller_id")
        return caller if isinstance(caller, str) and caller else "4008001234"

    def callback(
        self, task_id: str, result: str, *, duration_seconds: int = 0, now: float | None = None
    ) -> tuple[dict[str, str], bytes]:
        """Headers and body of the result callback for a task this emulator accepted."""
        call_id = self._replies[task_id]["id"]  # KeyError: not a task accepted here
        body = json.dumps(
            {
                "task_id": task_id,
                "call_id": call_id,
                "caller_id": self._caller(task_id),
                "recording_url": f"https://recordings.call-center.example/{call_id}.mp3",
                "result": result,
                "duration_seconds": duration_seconds,
                "ended_at": datetime.now(UTC).isoformat(),
            }
        ).encode()
        return contract_headers(self.secret, body, now), body
