from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from channels.alipay import AlipaySettings
from channels.config import ChannelConfigError, Env
from channels.email_smtp import SmtpSettings
from channels.outbound_call import OutboundCallSettings
from channels.push_jpush import JPushSettings
from channels.sms_aliyun import AliyunSmsSettings
from channels.sms_tencent import TencentSmsSettings
from channels.webhook import WebhookSettings
from channels.wechat_subscribe import SEND_PATHS, WeChatSettings
from channels.wecom import WeComSettings

SECRET = "s3cr3t-value-never-shown"

CASES: list[tuple[Callable[[dict[str, str]], Any], dict[str, str]]] = [
    (
        AliyunSmsSettings.from_env,
        {
            "OMNIREACH_ALIYUN_SMS_ACCESS_KEY_ID": "LTAI",
            "OMNIREACH_ALIYUN_SMS_ACCESS_KEY_SECRET": SECRET,
            "OMNIREACH_ALIYUN_SMS_SIGN_NAME": "欧姆尼",
        },
    ),
    (
        TencentSmsSettings.from_env,
        {
            "OMNIREACH_TENCENT_SMS_SECRET_ID": "AKID",
            "OMNIREACH_TENCENT_SMS_SECRET_KEY": SECRET,
            "OMNIREACH_TENCENT_SMS_SDK_APP_ID": "1400006666",
            "OMNIREACH_TENCENT_SMS_SIGN_NAME": "欧姆尼",
        },
    ),
    (
        lambda env: WeChatSettings.from_env("wechat_oa", env),
        {"OMNIREACH_WECHAT_OA_APP_ID": "wx1", "OMNIREACH_WECHAT_OA_APP_SECRET": SECRET},
    ),
    (WeComSettings.from_env, {"OMNIREACH_WECOM_CORP_ID": "ww1", "OMNIREACH_WECOM_SECRET": SECRET}),
    (
        AlipaySettings.from_env,
        {
            "OMNIREACH_ALIPAY_APP_ID": "2021",
            "OMNIREACH_ALIPAY_PRIVATE_KEY": SECRET,
            "OMNIREACH_ALIPAY_PUBLIC_KEY": "MIIBIjAN",
        },
    ),
    (
        JPushSettings.from_env,
        {"OMNIREACH_JPUSH_APP_KEY": "k", "OMNIREACH_JPUSH_MASTER_SECRET": SECRET},
    ),
    (
        WebhookSettings.from_env,
        {"OMNIREACH_WEBHOOK_URL": "https://x", "OMNIREACH_WEBHOOK_SECRET": SECRET},
    ),
    (
        OutboundCallSettings.from_env,
        {"OMNIREACH_OUTBOUND_CALL_URL": "https://x", "OMNIREACH_OUTBOUND_CALL_SECRET": SECRET},
    ),
    (
        SmtpSettings.from_env,
        {
            "OMNIREACH_SMTP_HOST": "smtp.x",
            "OMNIREACH_SMTP_FROM": "a@x.cn",
            "OMNIREACH_SMTP_PASSWORD": SECRET,
        },
    ),
]


@pytest.mark.parametrize(("load", "env"), CASES)
def test_settings_read_the_environment_and_never_show_secrets(
    load: Callable[[dict[str, str]], Any], env: dict[str, str]
) -> None:
    settings = load(env)
    assert SECRET not in repr(settings)
    assert SECRET in {getattr(settings, f) for f in vars(settings)}


@pytest.mark.parametrize(("load", "env"), CASES)
def test_each_required_variable_is_named_when_missing(
    load: Callable[[dict[str, str]], Any], env: dict[str, str]
) -> None:
    optional = {"OMNIREACH_SMTP_PASSWORD"}
    for name in env.keys() - optional:
        partial = {k: v for k, v in env.items() if k != name}
        with pytest.raises(ChannelConfigError, match=name) as caught:
            load(partial)
        assert SECRET not in str(caught.value)


def test_defaults_and_overrides() -> None:
    oa = WeChatSettings.from_env(
        "wechat_oa",
        {
            "OMNIREACH_WECHAT_OA_APP_ID": "wx1",
            "OMNIREACH_WECHAT_OA_APP_SECRET": "s",
            "OMNIREACH_WECHAT_OA_CONCURRENCY": "4",
        },
    )
    assert (oa.send_path, oa.concurrency) == (SEND_PATHS["wechat_oa"], 4)
    smtp = SmtpSettings.from_env(
        {
            "OMNIREACH_SMTP_HOST": "h",
            "OMNIREACH_SMTP_FROM": "a@b.cn",
            "OMNIREACH_SMTP_STARTTLS": "false",
            "OMNIREACH_SMTP_PORT": "25",
        }
    )
    assert (smtp.starttls, smtp.port, smtp.sender.domain, smtp.sender.dkim) == (
        False,
        25,
        "b.cn",
        None,
    )


def test_malformed_values_name_the_variable(tmp_path) -> None:
    env = Env(
        "X",
        {
            "OMNIREACH_X_N": "ten",
            "OMNIREACH_X_B": "maybe",
            "OMNIREACH_X_KEY_FILE": str(tmp_path / "missing.pem"),
        },
    )
    with pytest.raises(ChannelConfigError, match="OMNIREACH_X_N is not a float"):
        env.number("N", 1.0)
    with pytest.raises(ChannelConfigError, match="OMNIREACH_X_B is not a boolean"):
        env.flag("B", True)
    with pytest.raises(ChannelConfigError, match="OMNIREACH_X_KEY_FILE cannot be read"):
        env.secret("KEY")
