"""What `vigil serve` checks and sets up before uvicorn takes over."""

from __future__ import annotations

import errno
import logging
import socket
import sys

from vigil.errors import InvalidParameter, PortInUse
from vigil.service.core.audit import security_log


def check_port_free(host: str, port: int) -> None:
    """PortInUse when ``host:port`` cannot be bound. uvicorn would find out only after the
    models and the database are set up, seconds after announcing it listens."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise InvalidParameter(f"cannot listen on {host}: {exc.strerror}") from None
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        # As uvicorn binds: SO_REUSEADDR, so a port in TIME_WAIT is not reported as taken.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(
                    f"{host}:{port} is already in use (another vigil or program listens "
                    "there); stop it, or pick another port with --port or VIGIL_PORT"
                ) from None
            raise InvalidParameter(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def send_audit_log_to_stderr() -> None:
    """Audit events with no asset (sign-ins, lockouts) as lines on standard error."""
    if not security_log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s audit %(message)s"))
        security_log.addHandler(handler)
    security_log.setLevel(logging.INFO)
    security_log.propagate = False


class QueryRedactor(logging.Filter):
    """Drops the query string from uvicorn's access-log lines: queries can carry what
    shouldn't sit in log files (search terms, a signed link's parameters), and the path says
    which route answered."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path, _, query = args[2].partition("?")
            record.args = (*args[:2], f"{path}?[redacted]" if query else path, *args[3:])
        return True


def redact_access_log_queries() -> None:
    """Install ``QueryRedactor`` on uvicorn's access logger (once)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(each, QueryRedactor) for each in access.filters):
        access.addFilter(QueryRedactor())
