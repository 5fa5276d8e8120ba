"""FCM HTTP v1 emulator with its OAuth2 token endpoint: verifies the service account's RS256
assertion (signature, issuer, audience, expiry), issues bearer tokens for the scopes asked, and
answers `messages:send` with FCM's error shapes (UNREGISTERED, INVALID_ARGUMENT,
UNAUTHENTICATED…). Deduplicates on the `idempotency_key` data field the adapter adds.

As broad and as strict as Google: the assertion's audience may be Google's token URL (google-auth
signs that whatever token URI it posts to) or this endpoint's own URL; each refusal of the token
endpoint carries Google's description (a bad signature, the audience check, the iat/exp window,
an unknown account); a token is issued for any scopes, and a send with one that grants no FCM
scope (firebase-admin asks for cloud-platform among others) is refused as Google refuses it,
403 ACCESS_TOKEN_SCOPE_INSUFFICIENT; the device is named by its
registration `token` or, as firebase-admin now prefers, its installation id `fid`. `validate_only: true` is a dry
run: checked and answered as Google does, recorded as nothing."""

from __future__ import annotations

import base64
import json
import secrets
import time
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from emulators.base import Delivery, Emulator

JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
# Scopes Google accepts for `messages:send`.
SEND_SCOPES = {
    "https://www.googleapis.com/auth/firebase.messaging",
    "https://www.googleapis.com/auth/cloud-platform",
}


BAD_SIGNATURE = "Invalid JWT Signature."
BAD_AUDIENCE = f"Invalid JWT: Failed audience check. The right audience is {GOOGLE_TOKEN_URL}"
BAD_TIMES = (
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
    "Check your iat and exp values in the JWT claim."
)
UNKNOWN_ACCOUNT = "Invalid grant: account not found"


@dataclass(frozen=True)
class Grant:
    """An issued bearer token: until when, and for which scopes."""

    expires: float
    scopes: frozenset[str]


class Refused(Exception):
    """An assertion the token endpoint refuses, with Google's error_description."""


def _b64url_decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def error_body(
    status: int, canonical: str, message: str, error_code: str | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": status, "message": message, "status": canonical}
    if error_code:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                "errorCode": error_code,
            }
        ]
    return {"error": error}


def fcm_error(
    status: int, canonical: str, message: str, error_code: str | None = None
) -> JSONResponse:
    return JSONResponse(error_body(status, canonical, message, error_code), status)


def scope_insufficient() -> JSONResponse:
    """Google's answer to a valid token whose scopes do not cover FCM."""
    body = error_body(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.")
    body["error"]["details"] = [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
            "domain": "googleapis.com",
            "metadata": {"service": "fcm.googleapis.com"},
        }
    ]
    return JSONResponse(body, 403)


class FcmEmulator(Emulator):
    opt_out_code = "UNREGISTERED"

    def __init__(self, *, project_id: str, client_email: str, public_key: rsa.RSAPublicKey) -> None:
        super().__init__()
        self.project_id = project_id
        self.client_email = client_email
        self.public_key = public_key
        self.tokens: dict[str, Grant] = {}
        self._sequence = 0

    def routes(self) -> list[Route]:
        return [
            Route("/token", self.token, methods=["POST"]),
            Route("/v1/projects/{project}/messages:send", self.send, methods=["POST"]),
        ]

    def fault_body(self, status: int) -> dict[str, Any]:
        canonical, code = {
            429: ("RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"),
            503: ("UNAVAILABLE", "UNAVAILABLE"),
        }.get(status, ("INTERNAL", "INTERNAL"))
        return error_body(status, canonical, "injected fault", code)

    def expire_tokens(self) -> None:
        self.tokens = {token: replace(grant, expires=0.0) for token, grant in self.tokens.items()}

    def reset(self) -> None:
        super().reset()
        self.tokens.clear()

    def _claims(self, assertion: str, audiences: set[str]) -> dict[str, Any]:
        """The assertion's claims if it is signed by the account's key and valid now."""
        try:
            header_b64, claims_b64, signature_b64 = assertion.split(".")
            header = json.loads(_b64url_decode(header_b64))
            claims = json.loads(_b64url_decode(claims_b64))
            if not isinstance(claims, dict) or header.get("alg") != "RS256":
                raise ValueError("not an RS256 JWT")
        except (ValueError, AttributeError):
            raise Refused(BAD_SIGNATURE) from None
        if claims.get("iss") != self.client_email:
            raise Refused(UNKNOWN_ACCOUNT)
        try:
            self.public_key.verify(
                _b64url_decode(signature_b64),
                f"{header_b64}.{claims_b64}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (ValueError, InvalidSignature):
            raise Refused(BAD_SIGNATURE) from None
        if claims.get("aud") not in audiences:
            raise Refused(BAD_AUDIENCE)
        now, iat, exp = time.time(), claims.get("iat"), claims.get("exp")
        if not (
            isinstance(iat, int)
            and isinstance(exp, int)
            and iat <= now + 60
            and now < exp <= iat + 3600
        ):
            raise Refused(BAD_TIMES)
        return claims

    async def token(self, request: Request) -> JSONResponse:
        form = dict(parse_qsl((await request.body()).decode()))
        if form.get("grant_type") != JWT_GRANT:
            return JSONResponse({"error": "unsupported_grant_type"}, 400)
        audiences = {str(request.url), GOOGLE_TOKEN_URL}
        try:
            claims = self._claims(form.get("assertion", ""), audiences)
        except Refused as refused:
            return JSONResponse({"error": "invalid_grant", "error_description": str(refused)}, 400)
        token = f"ya29.{secrets.token_urlsafe(32)}"
        scopes = frozenset(str(claims.get("scope", "")).split())
        self.tokens[token] = Grant(time.time() + 3600, scopes)
        return JSONResponse({"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    async def send(self, request: Request) -> JSONResponse:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        grant = self.tokens.get(token)
        if grant is None or grant.expires < time.time():
            return fcm_error(
                401, "UNAUTHENTICATED", "Request had invalid authentication credentials."
            )
        if SEND_SCOPES.isdisjoint(grant.scopes):
            return scope_insufficient()
        if request.path_params["project"] != self.project_id:
            return fcm_error(403, "PERMISSION_DENIED", "Permission denied.", "SENDER_ID_MISMATCH")
        try:
            body = json.loads(await request.body())
            message, dry_run = body["message"], body.get("validate_only", False)
            targets = [message[t] for t in ("token", "fid") if t in message]
            data = message.get("data", {})
            valid_data = all(isinstance(v, str) for v in data.values())
        except (ValueError, KeyError, TypeError, AttributeError):
            return fcm_error(400, "INVALID_ARGUMENT", "Invalid JSON payload.", "INVALID_ARGUMENT")
        if len(targets) != 1 or not targets[0] or not valid_data or not isinstance(dry_run, bool):
            return fcm_error(400, "INVALID_ARGUMENT", "Invalid message.", "INVALID_ARGUMENT")
        device = str(targets[0])
        if (refused := self.refusal(device)) is not None:
            return fcm_error(404, "NOT_FOUND", "Requested entity was not found.", refused)
        if dry_run:
            return JSONResponse({"name": f"projects/{self.project_id}/messages/fake_message_id"})
        self._sequence += 1
        key = data.get("idempotency_key")
        name = f"projects/{self.project_id}/messages/0:{self._sequence}%{secrets.token_hex(8)}"
        reply = self.deliver(key, Delivery(key, device, "notification", message), {"name": name})
        return JSONResponse(reply)
