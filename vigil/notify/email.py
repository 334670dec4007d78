"""Sending one plain-text e-mail through the configured SMTP server, and checking addresses."""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from vigil.errors import EmailDeliveryFailed, EmailNotConfigured, InvalidParameter
from vigil.settings import Settings

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 30.0
MAX_RECIPIENTS = 20
# Deliberately narrow: plain ASCII addresses work with every SMTP server (no SMTPUTF8 needed),
# and a typo is refused when the rule is stored rather than bouncing at 3 a.m.
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"[A-Za-z0-9.!#$%&'*+/=?^_`{{|}}~-]{{1,64}}@{_LABEL}(?:\.{_LABEL})*")


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    username: str
    password: str
    starttls: bool
    sender: str

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpConfig:
        return cls(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
            sender=settings.smtp_from,
        )


@dataclass(frozen=True)
class Email:
    recipients: tuple[str, ...]
    subject: str
    body: str


def check_addresses(addresses: Sequence[str]) -> tuple[str, ...]:
    """The addresses stripped, in order, without repeats; InvalidParameter names a bad one."""
    cleaned = tuple(dict.fromkeys(address.strip() for address in addresses))
    if not cleaned or len(cleaned) > MAX_RECIPIENTS:
        raise InvalidParameter(f"give 1 to {MAX_RECIPIENTS} recipient e-mail addresses")
    for address in cleaned:
        if len(address) > 254 or not _ADDRESS.fullmatch(address):
            raise InvalidParameter(f"'{address}' is not an e-mail address like ops@example.com")
    return cleaned


def send_email(config: SmtpConfig, email: Email) -> str:
    """Deliver ``email``; returns what the server answered to the message ("250 ...").
    EmailNotConfigured without a host; EmailDeliveryFailed says what went wrong."""
    if not config.host:
        raise EmailNotConfigured(
            "alert e-mail is off because VIGIL_SMTP_HOST is empty; set it (and VIGIL_SMTP_PORT,"
            " VIGIL_SMTP_FROM, ...) to your SMTP server, see docs/alerts.md"
        )
    where = f"{config.host}:{config.port}"
    try:
        with _RecordingSMTP(config.host, config.port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            _open(smtp, config)
            refused = smtp.send_message(_message(config.sender, email))
            reply = smtp.data_reply
    # SMTPException is an OSError too, so it must be caught first.
    except smtplib.SMTPException as exc:
        raise EmailDeliveryFailed(f"SMTP server {where} refused the e-mail: {_said(exc)}") from exc
    except OSError as exc:
        raise EmailDeliveryFailed(f"cannot talk to SMTP server {where}: {exc}") from exc
    if refused:
        # Not an error: retrying would send a second copy to the recipients that accepted.
        log.warning("SMTP server %s refused some recipients: %s", where, _refusals(refused))
        reply += f" (refused: {_refusals(refused)})"
    return reply


class _RecordingSMTP(smtplib.SMTP):
    """smtplib keeps no record of the server's answer to DATA; operators want to see it."""

    data_reply = ""

    def data(self, msg: Any) -> tuple[int, bytes]:
        code, reply = super().data(msg)
        self.data_reply = f"{code} {reply.decode(errors='replace')}"
        return code, reply


def _open(smtp: smtplib.SMTP, config: SmtpConfig) -> None:
    if config.starttls:
        smtp.starttls(context=ssl.create_default_context())
    if config.username:
        smtp.login(config.username, config.password)


def _message(sender: str, email: Email) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(email.recipients)
    message["Subject"] = email.subject
    message["Date"] = formatdate(usegmt=True)
    # An explicit domain: make_msgid's default asks DNS for this host's name, which can hang.
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "vigil.invalid")
    message.set_content(email.body)
    return message


def _said(exc: smtplib.SMTPException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return _refusals(exc.recipients)
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error
        text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
        return f"{exc.smtp_code} {text}"
    return str(exc) or type(exc).__name__


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(
        f"{address}: {code} {reply.decode(errors='replace')}"
        for address, (code, reply) in refused.items()
    )
