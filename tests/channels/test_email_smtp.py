from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

import pytest

from channels.base import OutboundMessage, Outcome
from channels.email_mime import DkimKey, Sender, message_id
from channels.email_smtp import SmtpEmailChannel, SmtpSettings
from emulators.smtp import SmtpEmulator
from emulators.tls import self_signed
from tests.channels.conftest import FAST_TIMEOUT, STALL, message

USER, PASSWORD = "mailer", "smtp-password"
SENDER = Sender(
    address="news@brand.example", name="欧姆尼零售", unsubscribe_mailto="unsubscribe@brand.example"
)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory):
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def relay(tls) -> Iterator[tuple[SmtpEmulator, SmtpSettings]]:
    """A relay that requires STARTTLS and AUTH, and settings that trust its certificate."""
    context, cert_file = tls
    emulator = SmtpEmulator(username=USER, password=PASSWORD, tls_context=context)
    with emulator.running() as port:
        yield (
            emulator,
            SmtpSettings(
                host="127.0.0.1",
                port=port,
                sender=SENDER,
                username=USER,
                password=PASSWORD,
                ca_file=str(cert_file),
                timeout=FAST_TIMEOUT,
                connections=2,
            ),
        )


@pytest.fixture(autouse=True)
def _fresh(relay: tuple[SmtpEmulator, SmtpSettings]) -> None:
    relay[0].reset()


def part(email: EmailMessage, kind: str) -> str:
    body = email.get_body((kind,))
    assert body is not None, f"no text/{kind} part"
    return str(body.get_content())


def mail(to: str = "li.lei@example.com", **params: str) -> OutboundMessage:
    return message(
        to,
        "email_1111",
        subject="双十一会员专享",
        params=params,
        body="李雷您好：\n\n全场8折，仅限今日。",
    )


async def test_mail_is_multipart_with_one_click_unsubscribe_and_stable_message_id(
    relay: tuple[SmtpEmulator, SmtpSettings],
) -> None:
    smtp, settings = relay
    m = mail(unsubscribe_url="https://brand.example/u/abc")
    [answer] = await SmtpEmailChannel(settings).send_batch([m])
    assert answer.outcome is Outcome.SENT
    [received] = smtp.received
    email = received.message
    assert received.rcpt_tos == ["li.lei@example.com"] and smtp.authenticated == [USER]
    assert email.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in email.iter_parts()] == ["text/plain", "text/html"]
    assert "全场8折" in part(email, "plain")
    assert "<p>全场8折，仅限今日。</p>" in part(email, "html")
    assert email["List-Unsubscribe"] == (
        "<https://brand.example/u/abc>, <mailto:unsubscribe@brand.example>"
    )
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email["Message-ID"] == message_id(m.idempotency_key, "brand.example")
    assert answer.provider_message_id == email["Message-ID"]
    assert email["Subject"] == "双十一会员专享"
    assert "欧姆尼零售" in email["From"] and "news@brand.example" in email["From"]


async def test_without_https_url_there_is_no_one_click_header(
    relay: tuple[SmtpEmulator, SmtpSettings],
) -> None:
    smtp, settings = relay
    await SmtpEmailChannel(settings).send_batch([mail(html_body="<b>8折</b>")])
    [received] = smtp.received
    assert received.message["List-Unsubscribe"] == "<mailto:unsubscribe@brand.example>"
    assert received.message["List-Unsubscribe-Post"] is None
    assert part(received.message, "html").strip() == "<b>8折</b>"


async def test_resent_message_keeps_its_message_id_and_is_stored_once(
    relay: tuple[SmtpEmulator, SmtpSettings],
) -> None:
    smtp, settings = relay
    m = mail()
    channel = SmtpEmailChannel(settings)
    first, again = (await channel.send_batch([m]))[0], (await channel.send_batch([m]))[0]
    assert first.provider_message_id == again.provider_message_id
    assert len(smtp.received) == 1


async def test_a_batch_shares_a_few_connections(relay: tuple[SmtpEmulator, SmtpSettings]) -> None:
    smtp, settings = relay
    results = await SmtpEmailChannel(settings).send_batch(
        [mail(f"u{i}@example.com") for i in range(10)]
    )
    assert {r.outcome for r in results} == {Outcome.SENT}
    assert len(smtp.received) == 10 and len(smtp.peers) == 2


async def test_smtp_replies_and_timeouts_are_classified_per_message(
    relay: tuple[SmtpEmulator, SmtpSettings],
) -> None:
    smtp, settings = relay
    smtp.faults.refuse("nobody@example.com")
    smtp.faults.refuse("full@example.com", "552 5.2.2 Mailbox full")
    batch = [
        mail("nobody@example.com"),
        mail("full@example.com"),
        mail("later@example.com"),
        mail("slow@example.com"),
        mail("fine@example.com"),
    ]
    channel = SmtpEmailChannel(replace(settings, connections=1))
    results = await channel.send_batch(batch[:2])
    smtp.faults.fail(status=451)
    smtp.faults.stall(seconds=STALL)
    results += await channel.send_batch(batch[2:])
    assert [(r.outcome, r.error_code) for r in results] == [
        (Outcome.PERMANENT, "smtp_550"),
        (Outcome.PERMANENT, "smtp_552"),
        (Outcome.RETRYABLE, "smtp_451"),
        (Outcome.RETRYABLE, "timeout"),
        (Outcome.SENT, None),
    ]
    assert [r.rcpt_tos for r in smtp.received] == [["fine@example.com"]]


async def test_header_injection_is_refused_before_sending(
    relay: tuple[SmtpEmulator, SmtpSettings],
) -> None:
    smtp, settings = relay
    hostile = mail(unsubscribe_url="https://x.example/u\r\nBcc: victim@example.com")
    [answer] = await SmtpEmailChannel(settings).send_batch([hostile])
    assert (answer.outcome, answer.error_code) == (Outcome.PERMANENT, "invalid_message")
    assert smtp.received == [] and smtp.peers == set()


async def test_wrong_password_is_permanent(relay: tuple[SmtpEmulator, SmtpSettings]) -> None:
    smtp, settings = relay
    [answer] = await SmtpEmailChannel(replace(settings, password="wrong")).send_batch([mail()])
    assert (answer.outcome, answer.error_code) == (Outcome.PERMANENT, "smtp_535")
    assert smtp.received == []


async def test_unreachable_relay_is_retryable() -> None:
    settings = SmtpSettings(
        host="127.0.0.1", port=1, sender=SENDER, starttls=False, timeout=FAST_TIMEOUT
    )
    [answer] = await SmtpEmailChannel(settings).send_batch([mail()])
    assert (answer.outcome, answer.error_code) == (Outcome.RETRYABLE, "connection")


async def test_dkim_signature_covers_the_sent_bytes(
    relay: tuple[SmtpEmulator, SmtpSettings], tmp_path: Path
) -> None:
    import dkim
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    smtp, settings = relay
    signed = replace(settings, sender=replace(SENDER, dkim=DkimKey("s1", "brand.example", pem)))
    await SmtpEmailChannel(signed).send_batch([mail(unsubscribe_url="https://brand.example/u")])
    [received] = smtp.received
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    assert dkim.verify(received.raw, dnsfunc=lambda name, timeout=5: record)
    assert b"list-unsubscribe" in received.message["DKIM-Signature"].encode().lower()
