"""Alipay open platform gateway emulator for `alipay.open.app.mini.templatemessage.send`:
common parameters from the query string or the form body (the official SDKs put them in the
query, `biz_content` in the body), the RSA2 request signature verified with the app's public
key, timestamp window, and the biz_content fields. Every reply is signed as the gateway signs
it: RSA2 with the gateway's own key over the exact JSON text of `<method>_response`, given as
`sign` beside it; a request the gateway cannot tie to this app and API (unknown app_id or
method) is answered, signed, as `error_response`. Business failures (40004) use illustrative sub_codes: Alipay publishes no
stable list for this API.

Written from Alipay's documentation, independently of the adapter, so a wrong algorithm in
either shows up as a failed check."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from emulators.base import Delivery, Emulator

METHOD = "alipay.open.app.mini.templatemessage.send"
RESPONSE_KEY = "alipay_open_app_mini_templatemessage_send_response"
ERROR_KEY = "error_response"
GATEWAY_TIME = timezone(timedelta(hours=8))  # timestamps are Beijing time
MAX_CLOCK_SKEW = timedelta(minutes=15)


def signed_text(params: Mapping[str, str]) -> bytes:
    """The request's string to sign: every non-empty parameter but `sign`, sorted by name,
    joined raw (not URL-encoded) as `k=v&k=v`."""
    return "&".join(
        f"{k}={params[k]}" for k in sorted(params) if k != "sign" and params[k]
    ).encode()


class AlipayEmulator(Emulator):
    opt_out_code = "USER_REFUSED"

    def __init__(
        self,
        *,
        app_id: str,
        app_public_key: rsa.RSAPublicKey,
        templates: Mapping[str, Iterable[str]],
        gateway_key: rsa.RSAPrivateKey | None = None,
    ) -> None:
        """`templates`: user_template_id → the keywords its data needs. `gateway_key` signs the
        replies (a fresh one unless given); apps verify with `gateway_public_key`."""
        super().__init__()
        self.app_id = app_id
        self.app_public_key = app_public_key
        self.templates = {tid: set(keys) for tid, keys in templates.items()}
        self.gateway_key = gateway_key or rsa.generate_private_key(
            public_exponent=65537, key_size=2048
        )

    @property
    def gateway_public_key(self) -> rsa.RSAPublicKey:
        return self.gateway_key.public_key()

    def routes(self) -> list[Route]:
        return [Route("/gateway.do", self.gateway, methods=["POST"])]

    def _answer(
        self,
        code: str,
        msg: str,
        sub_code: str | None = None,
        sub_msg: str | None = None,
        key: str = RESPONSE_KEY,
    ) -> Response:
        body: dict[str, Any] = {"code": code, "msg": msg}
        if sub_code:
            body.update(sub_code=sub_code, sub_msg=sub_msg or sub_code)
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        signature = self.gateway_key.sign(text.encode(), padding.PKCS1v15(), hashes.SHA256())
        sign = base64.b64encode(signature).decode()
        return Response(
            f'{{"{key}":{text},"sign":"{sign}"}}',
            media_type="application/json;charset=utf-8",
        )

    def _invalid(self, sub_code: str, sub_msg: str, key: str = RESPONSE_KEY) -> Response:
        return self._answer("40002", "Invalid Arguments", sub_code, sub_msg, key)

    def _verify(self, params: dict[str, str]) -> Response | None:
        if params.get("app_id") != self.app_id:
            return self._invalid("isv.invalid-app-id", "无效的AppID参数", ERROR_KEY)
        if params.get("method") != METHOD:
            return self._invalid("isv.invalid-method", "不存在的方法名", ERROR_KEY)
        if params.get("sign_type") != "RSA2" or params.get("charset", "").lower() != "utf-8":
            return self._invalid("isv.invalid-signature-type", "无效的签名类型")
        try:
            sent_at = datetime.strptime(params.get("timestamp", ""), "%Y-%m-%d %H:%M:%S")
        except ValueError:
            return self._invalid("isv.invalid-timestamp", "非法的时间戳参数")
        if abs(datetime.now(GATEWAY_TIME) - sent_at.replace(tzinfo=GATEWAY_TIME)) > MAX_CLOCK_SKEW:
            return self._invalid("isv.invalid-timestamp", "非法的时间戳参数")
        try:
            self.app_public_key.verify(
                base64.b64decode(params.get("sign", "")),
                signed_text(params),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except (InvalidSignature, ValueError):
            return self._invalid("isv.invalid-signature", "验签出错")
        return None

    async def gateway(self, request: Request) -> Response:
        body = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        params = {**body, **request.query_params}
        if (failure := self._verify(params)) is not None:
            return failure
        try:
            biz = json.loads(params["biz_content"])
            data = json.loads(biz["data"])
            user = biz.get("to_user_id") or biz["to_open_id"]
            form_id, template_id = biz["form_id"], biz["user_template_id"]
        except (KeyError, ValueError, TypeError):
            return self._answer("40001", "Missing Required Arguments", "isv.missing-parameter")
        keys = self.templates.get(template_id)
        if keys is None:
            return self._answer("40004", "Business Failed", "USER_TEMPLATE_ILLEGAL", "模板不存在")
        if set(data) != keys:
            return self._answer("40004", "Business Failed", "DATA_ILLEGAL", "模板数据不匹配")
        if (refused := self.refusal(user)) is not None:
            return self._answer("40004", "Business Failed", refused, "用户拒收")
        self.deliver(
            None,
            Delivery(
                None, user, template_id, {"form_id": form_id, "page": biz.get("page"), "data": data}
            ),
            None,
        )
        return self._answer("10000", "Success")
