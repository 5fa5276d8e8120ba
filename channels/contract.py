"""Our own signed JSON-over-HTTP contract, spoken by the generic webhook and the call center.

Request: POST JSON, `Idempotency-Key: <key>`, `X-Omnireach-Timestamp` and
`X-Omnireach-Signature` (see `channels.signing`). Answers the receiver gives:

- 2xx `{"id": "…"}`: accepted;
- 409: this idempotency key was accepted before, nothing new happened (sent);
- 410: the recipient opted out or is on a do-not-contact list (opted_out);
- 429 with optional Retry-After: slow down; 408/5xx: try again later;
- any other 4xx `{"error": "<code>"}`: the request is wrong and will stay wrong (permanent).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from channels.base import OutboundMessage, Outcome, SendResult
from channels.http import json_object, result, status_failure
from channels.signing import signed_headers


async def post_signed(
    client: httpx.AsyncClient, url: str, secret: str, idempotency_key: str, payload: dict[str, Any]
) -> httpx.Response:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": idempotency_key,
        **signed_headers(secret, body),
    }
    return await client.post(url, content=body, headers=headers)


def contract_result(message: OutboundMessage, response: httpx.Response) -> SendResult:
    """The outcome a receiver's answer means under this contract."""
    if (failure := status_failure(message, response)) is not None:
        return failure
    body = json_object(response)
    status = response.status_code
    if 200 <= status < 300 or status == 409:
        ident = body.get("id")
        return result(message, Outcome.SENT, provider_message_id=str(ident) if ident else None)
    code = str(body.get("error") or f"http_{status}")
    outcome = Outcome.OPTED_OUT if status == 410 else Outcome.PERMANENT
    return result(message, outcome, error_code=code, detail=body.get("message"))
