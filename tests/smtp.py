"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd), recording what it accepts; it can be
told to refuse the next messages, as a failing mail relay would."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.servers import free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        # A long subject is folded right after "Subject:"; mail clients drop the leading
        # space that Python's parser keeps from the unfolding.
        return str(self.message["Subject"]).strip()

    @property
    def body(self) -> str:
        return str(self.message.get_content())


@dataclass
class RecordingHandler:
    received: list[Received] = field(default_factory=list)
    refuse: str = ""  # an SMTP reply such as "451 4.3.0 try later"; empty accepts

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        if self.refuse:
            return self.refuse
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 2.0.0 queued as test"


@dataclass
class SmtpServer:
    port: int
    handler: RecordingHandler

    @property
    def received(self) -> list[Received]:
        return self.handler.received


@dataclass
class PasswordCheck:
    """Accepts one user name and password (AUTH PLAIN or LOGIN)."""

    user: str
    password: str

    def __call__(
        self, _server: Any, _session: Any, _envelope: Any, _mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            self.user.encode(),
            self.password.encode(),
        )
        return AuthResult(success=ok, handled=False)


@contextmanager
def smtp_server(login: tuple[str, str] | None = None) -> Iterator[SmtpServer]:
    """A server; with ``login``, one that requires that user name and password."""
    handler = RecordingHandler()
    port = free_port()
    auth: dict[str, Any] = {}
    if login is not None:
        # Plain-text AUTH is refused by default; loopback in a test is the one place it's fine.
        auth = {
            "authenticator": PasswordCheck(*login),
            "auth_required": True,
            "auth_require_tls": False,
        }
    controller = Controller(handler, hostname="127.0.0.1", port=port, **auth)
    controller.start()
    try:
        yield SmtpServer(port, handler)
    finally:
        controller.stop()
