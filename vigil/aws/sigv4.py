"""AWS Signature Version 4 verification for requests signed by unmodified AWS SDKs.

The server recomputes the signature the client made with botocore's own SigV4 signer, over the
request rebuilt from what the client signed (method, path, query, the signed headers, the
body), dated as the client dated it; vigil itself only parses the ``Authorization`` header and
checks the date and scope. Only header-signed requests
(``Authorization: AWS4-HMAC-SHA256 ...``) are accepted; presigned query strings are not used
by the JSON protocol the Rekognition API speaks.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl

from botocore.auth import SIGNED_HEADERS_BLACKLIST, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from vigil.errors import InvalidSignature, MissingAuthenticationToken

ALGORITHM = "AWS4-HMAC-SHA256"
# AWS refuses signatures dated more than 15 minutes from its clock, either way.
MAX_SKEW = timedelta(minutes=15)
AMZ_DATE = "%Y%m%dT%H%M%SZ"
_AUTH = re.compile(
    r"^AWS4-HMAC-SHA256\s+Credential=(?P<credential>[^,\s]+),\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class SignedRequest:
    """What the signature covers, as the server received it."""

    method: str
    path: str  # as sent, still percent-encoded
    query: str  # as sent
    headers: Mapping[str, str]  # names in lower case
    body: bytes


@dataclass(frozen=True)
class Credential:
    access_key_id: str
    date: str  # YYYYMMDD
    region: str
    service: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


@dataclass(frozen=True)
class _Authorization:
    credential: Credential
    signed_headers: list[str]
    signature: str


def access_key_of(request: SignedRequest) -> str:
    """The access key id the request claims, before anything is verified."""
    return claimed_access_key(request.headers)


def claimed_access_key(headers: Mapping[str, str]) -> str:
    """The access key id in an ``Authorization`` header (names in lower case): known from
    the headers alone, so a request can be refused before its body is read."""
    return _parse_header(headers.get("authorization", "")).credential.access_key_id


def verify(
    request: SignedRequest,
    secret_of: Callable[[str], str],
    service: str,
    now: datetime | None = None,
) -> Credential:
    """The verified credential, or InvalidSignature / MissingAuthenticationToken. ``secret_of``
    returns an access key's secret or raises (for an unknown key)."""
    auth = _parse(request)
    credential = auth.credential
    if credential.service != service:
        raise InvalidSignature(
            f"Credential should be scoped to correct service: '{service}'. "
            f"Found '{credential.service}'"
        )
    stamp = _check_date(request.headers, credential, now or datetime.now(UTC))
    secret = secret_of(credential.access_key_id)
    _check_payload_hash(request)
    expected = expected_signature(request, auth, secret, stamp)
    if not hmac.compare_digest(expected, auth.signature):
        raise InvalidSignature(
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method."
        )
    return credential


def expected_signature(
    request: SignedRequest, auth: _Authorization, secret: str, stamp: str
) -> str:
    """The signature an SDK holding ``secret`` makes over ``request``: computed by botocore's
    own signer on the request rebuilt from what was signed, so vigil and the SDKs cannot
    disagree on the canonical form."""
    unverifiable = sorted(set(auth.signed_headers) & set(SIGNED_HEADERS_BLACKLIST))
    if unverifiable:
        # botocore's signer leaves these out of any signature it computes.
        raise InvalidSignature(f"vigil cannot verify a signature over {', '.join(unverifiable)}")
    headers = {name: _header_value(request.headers, name) for name in auth.signed_headers}
    rebuilt = AWSRequest(
        method=request.method.upper(),
        url=f"http://{headers['host']}{request.path or '/'}",
        headers=headers,
        data=request.body,
        params=parse_qsl(request.query, keep_blank_values=True),
    )
    rebuilt.context["timestamp"] = stamp
    credential = auth.credential
    signer = SigV4Auth(
        Credentials(credential.access_key_id, secret), credential.service, credential.region
    )
    canonical = signer.canonical_request(rebuilt)
    found: str = signer.signature(signer.string_to_sign(rebuilt, canonical), rebuilt)
    return found


def _check_payload_hash(request: SignedRequest) -> None:
    """A signed ``x-amz-content-sha256`` stands in for the body in the signature, so it must be
    the body's hash: otherwise a valid signature could carry another body."""
    claimed = request.headers.get("x-amz-content-sha256")
    if claimed is not None and claimed != hashlib.sha256(request.body).hexdigest():
        raise InvalidSignature(
            "The provided 'x-amz-content-sha256' header does not match what was computed."
        )


def _parse(request: SignedRequest) -> _Authorization:
    return _parse_header(request.headers.get("authorization", ""))


def _parse_header(header: str) -> _Authorization:
    header = header.strip()
    if not header:
        raise MissingAuthenticationToken("Missing Authentication Token")
    match = _AUTH.match(header)
    if match is None:
        raise InvalidSignature(
            "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' "
            f"parameters with the {ALGORITHM} algorithm"
        )
    parts = match["credential"].split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise InvalidSignature(
            "Credential must have the form <access key>/<date>/<region>/<service>/aws4_request"
        )
    signed = match["signed"].split(";")
    if "host" not in signed or signed != sorted(signed):
        raise InvalidSignature("SignedHeaders must be sorted and include 'host'")
    credential = Credential(parts[0], parts[1], parts[2], parts[3])
    return _Authorization(credential, signed, match["signature"])


def _check_date(headers: Mapping[str, str], credential: Credential, now: datetime) -> str:
    stamp = headers.get("x-amz-date", "")
    try:
        signed_at = datetime.strptime(stamp, AMZ_DATE).replace(tzinfo=UTC)
    except ValueError:
        raise InvalidSignature("X-Amz-Date must be a date like 20260101T120000Z") from None
    if stamp[:8] != credential.date:
        raise InvalidSignature(
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
            f"from HTTP: '{credential.date}' != '{stamp[:8]}'"
        )
    if abs(now - signed_at) > MAX_SKEW:
        raise InvalidSignature(
            f"Signature expired: {stamp} is now outside {MAX_SKEW.seconds // 60} minutes of "
            f"{now.strftime(AMZ_DATE)}; check the client's clock"
        )
    return stamp


def _header_value(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        raise InvalidSignature(f"the signed header '{name}' is missing from the request")
    return " ".join(value.split())
