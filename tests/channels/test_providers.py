from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from channels import providers
from channels.config import ChannelConfigError
from channels.http import HttpChannel
from channels.wechat_subscribe import SEND_PATHS, WeChatSubscribeChannel

_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
KEY = _RSA.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
PUBLIC_KEY = (
    _RSA.public_key()
    .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    .decode()
)

ENV = {
    "OMNIREACH_ALIYUN_SMS_ACCESS_KEY_ID": "id",
    "OMNIREACH_ALIYUN_SMS_ACCESS_KEY_SECRET": "s",
    "OMNIREACH_ALIYUN_SMS_SIGN_NAME": "欧姆尼",
    "OMNIREACH_TENCENT_SMS_SECRET_ID": "id",
    "OMNIREACH_TENCENT_SMS_SECRET_KEY": "s",
    "OMNIREACH_TENCENT_SMS_SDK_APP_ID": "1400",
    "OMNIREACH_TENCENT_SMS_SIGN_NAME": "欧姆尼",
    "OMNIREACH_SMTP_HOST": "smtp.example.com",
    "OMNIREACH_SMTP_FROM": "news@example.com",
    "OMNIREACH_WECHAT_OA_APP_ID": "wx1",
    "OMNIREACH_WECHAT_OA_APP_SECRET": "s",
    "OMNIREACH_WECOM_CORP_ID": "ww1",
    "OMNIREACH_WECOM_SECRET": "s",
    "OMNIREACH_ALIPAY_APP_ID": "2021",
    "OMNIREACH_ALIPAY_PRIVATE_KEY": KEY,
    "OMNIREACH_ALIPAY_PUBLIC_KEY": PUBLIC_KEY,
    "OMNIREACH_JPUSH_APP_KEY": "k",
    "OMNIREACH_JPUSH_MASTER_SECRET": "s",
    "OMNIREACH_FCM_SERVICE_ACCOUNT": json.dumps(
        {"project_id": "p", "client_email": "a@p.iam.gserviceaccount.com", "private_key": KEY}
    ),
    "OMNIREACH_OUTBOUND_CALL_URL": "https://calls.example.com",
    "OMNIREACH_OUTBOUND_CALL_SECRET": "s",
    "OMNIREACH_WEBHOOK_URL": "https://hooks.example.com",
    "OMNIREACH_WEBHOOK_SECRET": "s",
}
CHANNEL_OF = {
    "aliyun": "sms",
    "tencent": "sms",
    "smtp": "email",
    "wechat": "wechat_oa",
    "wecom": "wecom",
    "alipay": "alipay",
    "jpush": "app_push",
    "fcm": "app_push",
    "call_center": "outbound_call",
    "webhook": "webhook",
}


@pytest.mark.parametrize("provider", sorted(providers.FACTORIES))
async def test_every_provider_builds_from_its_environment(
    provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    channel = providers.build(provider, CHANNEL_OF[provider])
    assert channel.name == CHANNEL_OF[provider]
    if isinstance(channel, WeChatSubscribeChannel):
        assert channel.settings.send_path == SEND_PATHS["wechat_oa"]
    if isinstance(channel, HttpChannel):
        await channel.aclose()


def test_unknown_provider_is_a_config_error() -> None:
    with pytest.raises(ChannelConfigError, match="unknown provider 'twilio'"):
        providers.build("twilio", "sms")
