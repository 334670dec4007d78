"""Vigil-Signature: what a receiver accepts and refuses, and that the docs example agrees."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from vigil.notify.signing import key_secret, new_secret, sign, verify

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
BODY = b'{"id":"evt_1","type":"asset.rejected","data":{"asset":{"id":"a1"}}}'
SECRET = "whsec_" + "ab" * 32
URL = "https://example.com/hooks/vigil"


def test_a_signature_verifies_with_its_secret() -> None:
    now = int(time.time())
    header = sign(SECRET, now, BODY)
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", header)
    assert verify(SECRET, header, BODY)


@pytest.mark.parametrize(
    ("secret", "body", "age"),
    [
        ("whsec_wrong", BODY, 0),  # another secret
        (SECRET, BODY.replace(b"rejected", b"approved"), 0),  # a tampered body
        (SECRET, BODY + b" ", 0),  # even one byte more
        (SECRET, BODY, 301),  # older than the tolerance: a replay
        (SECRET, BODY, -301),  # from the future
    ],
)
def test_a_signature_fails(secret: str, body: bytes, age: int) -> None:
    header = sign(SECRET, int(time.time()) - age, BODY)
    assert not verify(secret, header, body)


def test_the_tolerance_and_the_clock_can_be_chosen() -> None:
    header = sign(SECRET, 1_000, BODY)
    assert verify(SECRET, header, BODY, now=1_200)
    assert not verify(SECRET, header, BODY, now=1_400)
    assert verify(SECRET, header, BODY, tolerance_seconds=500, now=1_400)


@pytest.mark.parametrize("header", ["", "t=abc,v1=00", "v1=00", "t=1000", "garbage", "t=1000,v1="])
def test_malformed_headers_fail(header: str) -> None:
    assert not verify(SECRET, header, BODY, now=1_000)


def test_any_of_several_v1_values_may_match() -> None:
    good = sign(SECRET, 1_000, BODY)
    assert verify(SECRET, f"{good},v1={'0' * 64}", BODY, now=1_000)
    assert verify(SECRET, f"t=1000,v1={'0' * 64},{good.split(',')[1]}", BODY, now=1_000)


def test_secrets_are_fresh_and_long() -> None:
    first, second = new_secret(), new_secret()
    assert first != second and first.startswith("whsec_") and len(first) == 6 + 64


def _docs_verifier() -> Callable[..., bool]:
    """The standalone verification example in docs/webhooks.md, run as written."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(), flags=re.DOTALL)
    (example,) = [block for block in blocks if "def verify_vigil_signature" in block]
    namespace: dict[str, object] = {}
    exec(compile(example, str(DOCS), "exec"), namespace)
    verifier = namespace["verify_vigil_signature"]
    assert callable(verifier)
    return verifier


def test_the_docs_example_verifies_what_vigil_signs() -> None:
    verify_example = _docs_verifier()
    header = sign(SECRET, int(time.time()), BODY)
    assert verify_example(SECRET, header, BODY)
    assert not verify_example("whsec_wrong", header, BODY)
    assert not verify_example(SECRET, header, BODY + b"x")
    assert not verify_example(SECRET, sign(SECRET, int(time.time()) - 600, BODY), BODY)


def test_a_url_signature_covers_the_url() -> None:
    header = sign(SECRET, 1_000, BODY, URL)
    assert re.fullmatch(r"t=\d+,v2=[0-9a-f]{64}", header)
    assert verify(SECRET, header, BODY, now=1_000, url=URL)
    assert not verify(SECRET, header, BODY, now=1_000, url=URL + "/other")
    assert not verify(SECRET, header, BODY, now=1_000)  # a v2 signature is not a v1 one
    assert not verify(SECRET, sign(SECRET, 1_000, BODY), BODY, now=1_000, url=URL)


def test_each_key_has_its_own_stable_secret() -> None:
    first = key_secret(SECRET, "key_a")
    assert first == key_secret(SECRET, "key_a") and first.startswith("whsec_")
    assert first not in {key_secret(SECRET, "key_b"), key_secret("whsec_other", "key_a")}


def test_the_docs_example_verifies_a_url_signature() -> None:
    verify_example = _docs_verifier()
    header = sign(SECRET, int(time.time()), BODY, URL)
    assert verify_example(SECRET, header, BODY, url=URL)
    assert not verify_example(SECRET, header, BODY, url=URL + "/other")
    assert not verify_example(SECRET, header, BODY)
