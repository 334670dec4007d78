"""One HTTP POST to a checked target. http.client rather than a higher-level client because
it connects to the addresses that were checked (no second DNS lookup), never follows a
redirect (which could point anywhere), and ignores proxy environment variables."""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Mapping

from vigil.notify.targets import Target

# The receiver's answer body is not stored; this much is read so the exchange ends cleanly.
MAX_RESPONSE_BYTES = 64 * 1024


def post(target: Target, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
    """POST ``body`` and return the status code. Raises OSError (connection, TLS, timeout)
    or http.client.HTTPException (a malformed answer)."""
    connection = _connection(target, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=dict(headers))
        response = connection.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        return response.status
    finally:
        connection.close()


def _connection(target: Target, timeout: float) -> http.client.HTTPConnection:
    if target.scheme == "https":
        return _PinnedHTTPSConnection(target, timeout)
    return _PinnedHTTPConnection(target, timeout)


def _open(addresses: tuple[str, ...], port: int, timeout: float | None) -> socket.socket:
    """A connection to the first of ``addresses`` that answers."""
    failure: OSError = OSError("no address to connect to")
    for address in addresses:
        try:
            return socket.create_connection((address, port), timeout=timeout)
        except OSError as exc:
            failure = exc
    raise failure


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._addresses = target.addresses

    def connect(self) -> None:
        self.sock = _open(self._addresses, self.port, self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=timeout, context=self._tls)
        self._addresses = target.addresses

    def connect(self) -> None:
        # The certificate is checked against the host name, not the pinned address.
        raw = _open(self._addresses, self.port, self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)
