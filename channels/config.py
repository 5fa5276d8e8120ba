"""Reading adapter settings from `OMNIREACH_<PROVIDER>_*` variables, one place for the rules.

Errors name the missing or malformed variable, never its value: values are often credentials.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from pathlib import Path
from typing import TypedDict, TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from settings import settings

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
N = TypeVar("N", int, float)

DEFAULT_TIMEOUT = 10.0
DEFAULT_CONCURRENCY = 16


class HttpLimits(TypedDict):
    """The settings every HTTP adapter has: seconds per request, requests in flight."""

    timeout: float
    concurrency: int


class ChannelConfigError(ValueError):
    """A channel's configuration is missing or malformed."""


def load_rsa_private_key(text: str, what: str) -> rsa.RSAPrivateKey:
    """An unencrypted RSA key given as PEM or as the bare base64 PKCS#8 that consoles show."""
    data = text.strip()
    try:
        if data.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(data.encode(), password=None)
        else:
            key = serialization.load_der_private_key(base64.b64decode(data), password=None)
    except (ValueError, TypeError, binascii.Error) as exc:
        raise ChannelConfigError(f"the {what} private key cannot be read") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ChannelConfigError(f"the {what} private key is not an RSA key")
    return key


def load_rsa_public_key(text: str, variable: str) -> rsa.RSAPublicKey:
    """An RSA public key given as PEM or as the bare base64 SubjectPublicKeyInfo that consoles
    show (Alipay's "支付宝公钥"); errors name the `variable` it came from."""
    data = text.strip()
    try:
        if data.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(data.encode())
        else:
            key = serialization.load_der_public_key(base64.b64decode(data))
    except (ValueError, TypeError, binascii.Error) as exc:
        raise ChannelConfigError(f"{variable} is not a readable public key") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise ChannelConfigError(f"{variable} is not an RSA public key")
    return key


class Env:
    """The variables of one provider, e.g. `Env("ALIYUN_SMS")` reads `OMNIREACH_ALIYUN_SMS_*`."""

    def __init__(self, provider: str, environ: Mapping[str, str] | None = None) -> None:
        self.prefix = f"OMNIREACH_{provider}_"
        self._environ = settings().provider_vars if environ is None else environ

    def optional(self, name: str) -> str | None:
        value = self._environ.get(self.prefix + name, "").strip()
        return value or None

    def require(self, name: str) -> str:
        value = self.optional(name)
        if value is None:
            raise ChannelConfigError(f"{self.prefix}{name} is not set")
        return value

    def get(self, name: str, default: str) -> str:
        return self.optional(name) or default

    def number(self, name: str, default: float) -> float:
        return self._parse(name, default, float)

    def integer(self, name: str, default: int) -> int:
        return self._parse(name, default, int)

    def flag(self, name: str, default: bool) -> bool:
        value = self.optional(name)
        if value is None:
            return default
        if value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise ChannelConfigError(f"{self.prefix}{name} is not a boolean")

    def http_limits(self) -> HttpLimits:
        """`TIMEOUT` and `CONCURRENCY`, read the same way for every HTTP adapter."""
        return {
            "timeout": self.number("TIMEOUT", DEFAULT_TIMEOUT),
            "concurrency": self.integer("CONCURRENCY", DEFAULT_CONCURRENCY),
        }

    def secret(self, name: str) -> str:
        """A secret given inline (`NAME`) or as a file path (`NAME_FILE`), e.g. a PEM key."""
        path = self.optional(f"{name}_FILE")
        if path is not None:
            try:
                return Path(path).read_text(encoding="utf-8")
            except OSError as exc:
                raise ChannelConfigError(f"{self.prefix}{name}_FILE cannot be read") from exc
        value = self.optional(name)
        if value is None:
            raise ChannelConfigError(f"neither {self.prefix}{name} nor {name}_FILE is set")
        return value

    def _parse(self, name: str, default: N, kind: type[N]) -> N:
        value = self.optional(name)
        if value is None:
            return default
        try:
            return kind(value)
        except ValueError:
            raise ChannelConfigError(f"{self.prefix}{name} is not a {kind.__name__}") from None
