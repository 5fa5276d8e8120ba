"""The real adapters by provider name, each built from its `OMNIREACH_<PROVIDER>_*` variables.

`build(provider, channel)` is what a registry needs for entries such as `sms=aliyun`,
`app_push=jpush` or `wechat_oa=wechat`; the channel name picks the WeChat account's variables.
"""

from __future__ import annotations

from collections.abc import Callable

from channels.alipay import AlipayChannel, AlipaySettings
from channels.base import Channel
from channels.config import ChannelConfigError
from channels.email_smtp import SmtpEmailChannel, SmtpSettings
from channels.outbound_call import OutboundCallChannel, OutboundCallSettings
from channels.push_fcm import FcmChannel, FcmSettings
from channels.push_jpush import JPushChannel, JPushSettings
from channels.sms_aliyun import AliyunSmsChannel, AliyunSmsSettings
from channels.sms_tencent import TencentSmsChannel, TencentSmsSettings
from channels.webhook import WebhookChannel, WebhookSettings
from channels.wechat_subscribe import WeChatSettings, WeChatSubscribeChannel
from channels.wecom import WeComChannel, WeComSettings

FACTORIES: dict[str, Callable[[str], Channel]] = {
    "aliyun": lambda name: AliyunSmsChannel(AliyunSmsSettings.from_env(), name=name),
    "tencent": lambda name: TencentSmsChannel(TencentSmsSettings.from_env(), name=name),
    "smtp": lambda name: SmtpEmailChannel(SmtpSettings.from_env(), name=name),
    "wechat": lambda name: WeChatSubscribeChannel(WeChatSettings.from_env(name), name=name),
    "wecom": lambda name: WeComChannel(WeComSettings.from_env(), name=name),
    "alipay": lambda name: AlipayChannel(AlipaySettings.from_env(), name=name),
    "jpush": lambda name: JPushChannel(JPushSettings.from_env(), name=name),
    "fcm": lambda name: FcmChannel(FcmSettings.from_env(), name=name),
    "call_center": lambda name: OutboundCallChannel(OutboundCallSettings.from_env(), name=name),
    "webhook": lambda name: WebhookChannel(WebhookSettings.from_env(), name=name),
}


def build(provider: str, channel: str) -> Channel:
    """The adapter for `channel` through `provider`, configured from the environment."""
    factory = FACTORIES.get(provider)
    if factory is None:
        raise ChannelConfigError(
            f"unknown provider {provider!r} for channel {channel!r}; "
            f"known: {', '.join(sorted(FACTORIES))}"
        )
    return factory(channel)
