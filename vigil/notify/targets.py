"""Where a webhook may be sent: http(s) only, and by default never to an address inside the
network vigil runs in (loopback, private, link-local, ...), so a webhook URL cannot be used to
reach internal services (SSRF). A host is checked by every address it resolves to, when the
URL is registered and again before each request, because DNS answers can change."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from vigil.errors import UnsafeWebhookTarget

SCHEMES = {"http": 80, "https": 443}
MAX_URL_LENGTH = 2000
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Target:
    """A checked URL and the addresses it resolved to; requests go to these addresses, not to
    a second lookup that could answer differently."""

    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line
    addresses: tuple[str, ...]


def check_target(url: str, allow_private: bool) -> None:
    """UnsafeWebhookTarget unless ``url`` is http(s) and its host resolves only to public
    addresses (or ``allow_private``). A host that does not resolve is refused too: it cannot
    be checked, and it is most likely a typo."""
    try:
        resolve_target(url, allow_private)
    except OSError as exc:
        host = urlsplit(url).hostname
        raise UnsafeWebhookTarget(f"cannot resolve the webhook host {host}: {exc}") from None


def check_literal_target(url: str, allow_private: bool) -> None:
    """UnsafeWebhookTarget when ``url`` is not a webhook URL, or names an address that is not
    public by itself (an IP literal, ``localhost``): what can be refused without a DNS lookup,
    so an upload carrying such a notification_url is refused at once. Hosts are resolved and
    checked again when each delivery is sent."""
    _scheme, host, _port, _path = _parse(url)
    if allow_private:
        return
    lowered = host.lower().rstrip(".")
    if lowered == "localhost" or lowered.endswith(".localhost"):
        raise UnsafeWebhookTarget(
            f"the webhook host {host} is this machine; VIGIL_WEBHOOK_ALLOW_PRIVATE=true allows it"
        )
    try:
        address = ipaddress.ip_address(lowered)
    except ValueError:
        return  # a name: checked by what it resolves to, when sent
    if not is_public(str(address)):
        raise UnsafeWebhookTarget(
            f"the webhook address {host} is not a public address (private, loopback, "
            "link-local, multicast, reserved or unspecified); VIGIL_WEBHOOK_ALLOW_PRIVATE=true "
            "allows it"
        )


def resolve_target(url: str, allow_private: bool) -> Target:
    """The target ``url`` names, resolved and checked. Raises UnsafeWebhookTarget, or OSError
    when the host does not resolve."""
    scheme, host, port, path = _parse(url)
    addresses = _resolve(host, port)
    if not allow_private:
        unsafe = [address for address in addresses if not is_public(address)]
        if unsafe:
            raise UnsafeWebhookTarget(
                f"the webhook host {host} resolves to {unsafe[0]}, which is not a public "
                "address (private, loopback, link-local, multicast, reserved or unspecified); "
                "VIGIL_WEBHOOK_ALLOW_PRIVATE=true allows it"
            )
    return Target(scheme, host, port, path, addresses)


def is_public(address: str) -> bool:
    """Whether an address is on the public internet."""
    ip = _embedded_ipv4(ipaddress.ip_address(address.split("%", 1)[0]))
    refused = (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )
    # is_global also rules out ranges none of the above name, such as carrier-grade NAT.
    return not refused and ip.is_global


def _embedded_ipv4(ip: IPAddress) -> IPAddress:
    """The IPv4 address inside an IPv4-mapped or 6to4 IPv6 address, which reaches that IPv4
    host; Python 3.11 does not classify ``::ffff:127.0.0.1`` as loopback by itself."""
    if isinstance(ip, ipaddress.IPv6Address):
        return ip.ipv4_mapped or ip.sixtofour or ip
    return ip


def _parse(url: str) -> tuple[str, str, int, str]:
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeWebhookTarget(f"a webhook URL is at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeWebhookTarget(f"'{url}' is not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UnsafeWebhookTarget(f"a webhook URL must be http:// or https://, not '{url}'")
    if not parts.hostname:
        raise UnsafeWebhookTarget(f"the webhook URL '{url}' names no host")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, parts.hostname, port or SCHEMES[scheme], path


def _resolve(host: str, port: int) -> tuple[str, ...]:
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = (str(sockaddr[0]) for *_, sockaddr in found)
    return tuple(dict.fromkeys(addresses))  # unique, in the resolver's order
