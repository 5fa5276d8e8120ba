"""Firebase Cloud Messaging HTTP v1, authorised by a service account's OAuth2 token.

The token comes from the JWT-bearer grant (an RS256 assertion signed with the account's key)
and is cached until shortly before expiry; a 401 refreshes it once. FCM has no idempotency
parameter, so the key travels as the `idempotency_key` data field for the app to dedupe on.
An UNREGISTERED token (app uninstalled) is reported as opted_out so the address is suppressed.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from channels.base import OutboundMessage, Outcome, SendResult
from channels.config import (
    DEFAULT_CONCURRENCY,
    DEFAULT_TIMEOUT,
    ChannelConfigError,
    Env,
    load_rsa_private_key,
)
from channels.http import (
    SettingsChannel,
    json_object,
    result,
    status_failure,
)
from channels.tokens import CachedToken, call_with_token, token_from_response

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
DEFAULT_BASE_URL = "https://fcm.googleapis.com"
DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
_OUTCOMES = {
    "UNREGISTERED": Outcome.OPTED_OUT,
    "QUOTA_EXCEEDED": Outcome.RATE_LIMITED,
    "UNAVAILABLE": Outcome.RETRYABLE,
    "INTERNAL": Outcome.RETRYABLE,
}


@dataclass(frozen=True)
class FcmSettings:
    project_id: str
    client_email: str
    private_key: str = field(repr=False)  # PEM, as in the service account JSON
    token_uri: str = DEFAULT_TOKEN_URI
    base_url: str = DEFAULT_BASE_URL
    timeout: float = DEFAULT_TIMEOUT
    concurrency: int = DEFAULT_CONCURRENCY

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FcmSettings:
        """The service account JSON from `OMNIREACH_FCM_SERVICE_ACCOUNT_FILE` (or inline in
        `OMNIREACH_FCM_SERVICE_ACCOUNT`); project, token URI and base URL can be overridden."""
        env = Env("FCM", environ)
        text = env.secret("SERVICE_ACCOUNT")
        try:
            account = json.loads(text)
            return cls(
                project_id=env.get("PROJECT_ID", account.get("project_id", "")),
                client_email=account["client_email"],
                private_key=account["private_key"],
                token_uri=env.get("TOKEN_URI", account.get("token_uri", DEFAULT_TOKEN_URI)),
                base_url=env.get("BASE_URL", DEFAULT_BASE_URL),
                **env.http_limits(),
            )
        except (ValueError, KeyError, AttributeError) as exc:
            raise ChannelConfigError("the FCM service account JSON is malformed") from exc


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def service_account_jwt(settings: FcmSettings, key: rsa.RSAPrivateKey, now: int) -> str:
    """The signed assertion the token endpoint exchanges for an access token (1 hour)."""
    header = {"alg": "RS256", "typ": "JWT"}
    claims = {
        "iss": settings.client_email,
        "scope": SCOPE,
        "aud": settings.token_uri,
        "iat": now,
        "exp": now + 3600,
    }
    signing_input = ".".join(_b64url(json.dumps(part).encode()) for part in (header, claims))
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64url(signature)}"


def error_code(body: dict[str, Any]) -> str:
    """FCM's own errorCode from the error details, else the canonical status."""
    error = body.get("error") or {}
    for detail in error.get("details") or []:
        if isinstance(detail, dict) and detail.get("errorCode"):
            return str(detail["errorCode"])
    return str(error.get("status") or "UNKNOWN")


def _token_rejected(response: httpx.Response) -> bool:
    return (
        response.status_code == 401
        and error_code(json_object(response)) != "THIRD_PARTY_AUTH_ERROR"
    )


class FcmChannel(SettingsChannel[FcmSettings]):
    """`Channel` for app push through FCM; `address` is the device's registration token."""

    name = "app_push"

    def __init__(
        self,
        settings: FcmSettings,
        *,
        name: str | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(settings, name=name, client=client)
        self._key = load_rsa_private_key(settings.private_key, "FCM service account")
        self.token = CachedToken(self._fetch_token)

    async def _fetch_token(self) -> tuple[str, float]:
        assertion = service_account_jwt(self.settings, self._key, int(time.time()))
        response = await self.client.post(
            self.settings.token_uri, data={"grant_type": JWT_GRANT, "assertion": assertion}
        )
        return token_from_response(response)

    @staticmethod
    def payload(message: OutboundMessage) -> dict[str, Any]:
        notification = {"body": message.body}
        if message.subject:
            notification["title"] = message.subject
        return {
            "message": {
                "token": message.address,
                "notification": notification,
                "data": {**message.params, "idempotency_key": message.idempotency_key},
            }
        }

    async def send_one(self, message: OutboundMessage) -> SendResult:
        s = self.settings
        url = f"{s.base_url}/v1/projects/{s.project_id}/messages:send"
        payload = self.payload(message)

        async def post(token: str) -> httpx.Response:
            return await self.client.post(
                url, json=payload, headers={"Authorization": f"Bearer {token}"}
            )

        response = await call_with_token(self.token, post, _token_rejected)
        if (failure := status_failure(message, response)) is not None:
            return failure
        body = json_object(response)
        if response.status_code == 200 and body.get("name"):
            return result(message, Outcome.SENT, provider_message_id=str(body["name"]))
        code = error_code(body)
        return result(
            message,
            _OUTCOMES.get(code, Outcome.PERMANENT),
            error_code=code,
            detail=(body.get("error") or {}).get("message"),
        )
