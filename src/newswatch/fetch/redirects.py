"""The redirect policy: how many hops, no loops, http(s) only, and no hop that would let a
public feed steer the fetcher to a private host, or any feed to a link-local one."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass, field

import httpx

from newswatch.fetch.failures import Refused
from newswatch.fetch.policy import Redirect

__all__ = ["Chain", "check_target"]


@dataclass(slots=True)
class Chain:
    """The redirects followed so far for one fetch, and the rules the next one must pass."""

    start: httpx.URL
    max_redirects: int
    kinds: list[Redirect] = field(default_factory=list)
    public_seen: bool | None = None
    visited: set[httpx.URL] = field(init=False)

    def __post_init__(self) -> None:
        self.visited = {self.start.copy_with(fragment=None)}

    @property
    def permanent(self) -> bool:
        """Whether the feed has moved: there were redirects and every one was permanent."""
        return bool(self.kinds) and all(k is Redirect.PERMANENT for k in self.kinds)

    async def follow(self, current: httpx.URL, location: str, kind: Redirect) -> httpx.URL:
        """The URL that ``location`` (received from ``current``) leads to, once the policy
        allows it; raises ``Refused`` otherwise."""
        if len(self.kinds) >= self.max_redirects:
            raise Refused(f"more than {self.max_redirects} redirects")
        target = current.join(location).copy_with(fragment=None)
        if target in self.visited:
            raise Refused("redirect loop")
        self.public_seen = await check_target(current, target, self.public_seen)
        self.visited.add(target)
        self.kinds.append(kind)
        return target


def _ip_is_global(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for an address on the public internet (not loopback, private, link-local, ...)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _ip_is_link_local(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """True for link-local addresses (169.254.0.0/16, fe80::/10): cloud metadata services
    live there, and no feed has a reason to redirect to one."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_link_local


async def _addresses(url: httpx.URL) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """Every address ``url``'s host stands for; IP literals need no DNS."""
    try:
        return {ipaddress.ip_address(url.host)}
    except ValueError:
        pass
    host = url.raw_host.decode("ascii")
    port = url.port or (443 if url.scheme == "https" else 80)
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return {ipaddress.ip_address(str(info[4][0]).partition("%")[0]) for info in infos}


def _all_global(addresses: set[ipaddress.IPv4Address | ipaddress.IPv6Address]) -> bool:
    """Whether there are addresses and every one of them is global."""
    return bool(addresses) and all(_ip_is_global(a) for a in addresses)


async def _is_public_host(url: httpx.URL) -> bool:
    """Whether every address of ``url``'s host is global."""
    return _all_global(await _addresses(url))


async def check_target(origin: httpx.URL, target: httpx.URL, public_seen: bool | None) -> bool:
    """Refuse non-HTTP targets, any link-local target, and a move from a public
    address to a non-public one.

    Returns whether a public address has been seen so far in the chain.
    """
    if target.scheme not in ("http", "https"):
        raise Refused("redirect to a non-HTTP URL refused")
    if public_seen is None:
        try:
            public_seen = await _is_public_host(origin)
        except OSError:  # cannot tell: assume public, the safer side
            public_seen = True
    try:
        addresses = await _addresses(target)
    except OSError as exc:
        raise Refused("redirect target host does not resolve") from exc
    if any(_ip_is_link_local(a) for a in addresses):
        raise Refused("redirect to a link-local address refused")
    target_public = _all_global(addresses)
    if public_seen and not target_public:
        raise Refused("redirect to a non-public address refused")
    return public_seen or target_public
