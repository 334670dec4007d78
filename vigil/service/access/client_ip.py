"""Which address a request came from, trusting ``X-Forwarded-For`` only from known proxies.

Anyone can send ``X-Forwarded-For``; believing it from any peer would let a client pick the
address its sign-in attempts are counted against. So the header is read only when the peer
itself is a proxy the operator named (``VIGIL_TRUSTED_PROXIES``), and then from the right:
each trusted hop is skipped, and the first address no trusted proxy vouches for is the
client's."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from vigil.errors import InvalidParameter

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class ProxyTrust:
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, entries: list[str]) -> ProxyTrust:
        try:
            return cls(tuple(ipaddress.ip_network(entry, strict=False) for entry in entries))
        except ValueError as exc:
            raise InvalidParameter(f"VIGIL_TRUSTED_PROXIES: {exc}") from None

    def trusts(self, address: str) -> bool:
        try:
            parsed = ipaddress.ip_address(address.strip())
        except ValueError:
            return False
        return any(parsed in network for network in self.networks)

    def client(self, peer: str, forwarded_for: str | None) -> str:
        """The client's address: the peer's, unless a trusted proxy forwarded the request."""
        if not forwarded_for or not self.trusts(peer):
            return peer
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop if _is_address(hop) else peer
        # Every hop is a proxy we trust: the leftmost is the client the first one saw.
        return hops[0] if hops and _is_address(hops[0]) else peer


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
