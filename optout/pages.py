"""The few HTML pages the opt-out service shows: no PII, no scripts, no cookies, no caching."""

from __future__ import annotations

from html import escape
from typing import Any

from starlette.responses import HTMLResponse, JSONResponse

SAFE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}
CHANNEL_LABELS = {
    "email": "邮件 email",
    "sms": "短信 SMS",
    "wechat_oa": "微信公众号 WeChat",
    "wechat_mini": "微信小程序 WeChat",
    "wecom": "企业微信 WeCom",
    "alipay": "支付宝 Alipay",
    "app_push": "App 推送 push",
    "outbound_call": "外呼 calls",
}
_STYLE = "body{font-family:sans-serif;max-width:32em;margin:3em auto;padding:0 1em}"


def page(status: int, title: str, message: str, *, confirm: bool = False) -> HTMLResponse:
    """A small page; `confirm` adds the one-click form that POSTs back to the same URL."""
    form = (
        '<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit">确认退订 Unsubscribe</button></form>'
        if confirm
        else ""
    )
    html = (
        f'<!doctype html><html lang="zh"><head><meta charset="utf-8">'
        f'<meta name="robots" content="noindex"><title>{escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body><h1>{escape(title)}</h1>"
        f"<p>{escape(message)}</p>{form}</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=SAFE_HEADERS)


def channel_label(channel: str) -> str:
    return CHANNEL_LABELS.get(channel, channel)


def answer(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=SAFE_HEADERS)
