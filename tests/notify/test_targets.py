"""The SSRF guard: which webhook URLs are refused, and which addresses count as public."""

from __future__ import annotations

import pytest

from vigil.errors import UnsafeWebhookTarget
from vigil.notify.targets import check_target, is_public, resolve_target


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.1.2.3",
        "10.0.0.5",
        "172.16.4.4",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "0.0.0.0",
        "100.64.0.1",  # carrier-grade NAT: not private, not global either
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1%eth0",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:10.0.0.1",
        "2002:7f00:1::1",  # 6to4 wrapping 127.0.0.1
    ],
)
def test_internal_addresses_are_not_public(address: str) -> None:
    assert not is_public(address)


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_internet_addresses_are_public(address: str) -> None:
    assert is_public(address)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "https://[::1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/",
        "http://0.0.0.0:9000/",
    ],
)
def test_internal_targets_are_refused_by_default(url: str) -> None:
    with pytest.raises(UnsafeWebhookTarget, match="VIGIL_WEBHOOK_ALLOW_PRIVATE"):
        check_target(url, allow_private=False)
    check_target(url, allow_private=True)


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/x", "file:///etc/passwd", "gopher://127.0.0.1/", "example.com/hook"],
)
def test_only_http_and_https_are_accepted(url: str) -> None:
    with pytest.raises(UnsafeWebhookTarget, match="http:// or https://"):
        check_target(url, allow_private=True)


@pytest.mark.parametrize("url", ["http:///path", "http://host:99999/", "http://[::1/"])
def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(UnsafeWebhookTarget):
        check_target(url, allow_private=True)


def test_a_host_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(UnsafeWebhookTarget, match="cannot resolve"):
        check_target("https://no-such-host.invalid/hook", allow_private=False)


def test_a_public_target_resolves_to_what_is_checked() -> None:
    target = resolve_target("https://93.184.215.14/hooks/vigil?source=x", allow_private=False)
    assert target.scheme == "https" and target.port == 443
    assert target.path == "/hooks/vigil?source=x"
    assert target.addresses == ("93.184.215.14",)
    assert resolve_target("http://93.184.215.14", allow_private=False).path == "/"
