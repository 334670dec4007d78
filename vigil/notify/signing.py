"""Webhook signatures: ``Vigil-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>``.

The HMAC covers ``f"{t}.{raw body}"``, so a receiver can tell the body was not changed and,
by checking ``t``, that an old request is not being replayed. Deliveries to an upload's
``notification_url`` are signed ``v2``: the HMAC covers ``f"{t}.{url}.{raw body}"`` under the
uploading key's own secret (``key_secret``), so a delivery verifies only for the key whose
upload it is, and only at the URL it was sent to. Receivers may import ``verify`` from here
or copy the standalone examples in docs/webhooks.md.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "Vigil-Signature"
SCHEME = "v1"
URL_SCHEME = "v2"  # the target URL is under the signature too
DEFAULT_TOLERANCE_SECONDS = 300
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh signing secret; the whole string (prefix included) is the HMAC key."""
    return SECRET_PREFIX + secrets.token_hex(32)


def key_secret(server_secret: str, key_id: str) -> str:
    """The secret that signs notification_url deliveries of the key ``key_id``: derived from
    the server's, so there is nothing to store and every process derives the same one."""
    derived = hmac.new(server_secret.encode(), key_id.encode(), hashlib.sha256).hexdigest()
    return SECRET_PREFIX + derived


def signature(secret: str, timestamp: int, body: bytes, url: str | None = None) -> str:
    """The hex HMAC-SHA256 under ``secret`` of ``f"{timestamp}.{body}"``, or, with a
    ``url``, of ``f"{timestamp}.{url}.{body}"``."""
    signed_url = b"" if url is None else url.encode() + b"."
    message = str(timestamp).encode() + b"." + signed_url + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes, url: str | None = None) -> str:
    """The ``Vigil-Signature`` header value for ``body`` sent at ``timestamp`` (``v2``, with
    the target ``url`` under the signature, when one is given)."""
    scheme = SCHEME if url is None else URL_SCHEME
    return f"t={timestamp},{scheme}={signature(secret, timestamp, body, url)}"


def verify(
    secret: str,
    header: str,
    body: bytes,
    tolerance_seconds: float = DEFAULT_TOLERANCE_SECONDS,
    *,
    now: float | None = None,
    url: str | None = None,
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and its timestamp is within
    ``tolerance_seconds`` of ``now`` (default: the current time). With ``url`` (the URL the
    request was sent to), only a ``v2`` signature over that URL is accepted."""
    timestamp, candidates = _parse(header, SCHEME if url is None else URL_SCHEME)
    if timestamp is None or not candidates:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        return False
    expected = signature(secret, timestamp, body, url)
    # Every v1 value is checked, so a sender may list several during a secret rotation.
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)


def _parse(header: str, scheme: str) -> tuple[int | None, list[str]]:
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == scheme and value:
            candidates.append(value)
    return timestamp, candidates
