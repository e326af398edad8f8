"""Which replicas a target names: the clients keep one channel per replica address.

A list ("ipv4:10.0.0.1:50051,10.0.0.2:50051") names its replicas; a "dns:" target is
resolved here (and again every dns_refresh_s) so each address gets its own channel and can
be ejected on its own. Any other target is one replica: gRPC resolves and balances it.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Final

_LIST_SCHEMES: Final = ("ipv4:", "ipv6:")


@dataclass(frozen=True)
class DnsName:
    host: str
    port: int


def listed_replicas(target: str) -> tuple[str, ...] | None:
    """The addresses of an "ipv4:"/"ipv6:" list, each as its own one-address target."""
    for scheme in _LIST_SCHEMES:
        if target.startswith(scheme):
            parts = [p.strip() for p in target.removeprefix(scheme).split(",") if p.strip()]
            return tuple(f"{scheme}{p}" for p in parts) or None
    return None


def dns_name(target: str) -> DnsName | None:
    """ "dns:///host:port" or "dns://authority/host:port" (the authority is not used)."""
    if not target.startswith("dns:"):
        return None
    rest = target.removeprefix("dns:")
    if rest.startswith("//"):
        rest = rest[2:].partition("/")[2]
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit():
        return None
    return DnsName(host.strip("[]"), int(port))


def resolve(name: DnsName) -> tuple[str, ...]:
    """Every TCP address of `name`, as one-address targets, in a stable order."""
    infos = socket.getaddrinfo(name.host, name.port, type=socket.SOCK_STREAM)
    addresses = set()
    for family, _, _, _, sockaddr in infos:
        host = str(sockaddr[0])
        if family == socket.AF_INET6:
            addresses.add(f"ipv6:[{host}]:{name.port}")
        elif family == socket.AF_INET:
            addresses.add(f"ipv4:{host}:{name.port}")
    return tuple(sorted(addresses))
