"""The address checks of the HTTP request step: which addresses a member-given URL may reach.

A member-controlled URL is a server-side request forgery risk: it could reach the database,
the cloud metadata service or an admin panel on the private network. So the host is
resolved here and every address it resolves to is checked (public only; private, loopback,
link-local, CGNAT, reserved and IPv4 wrapped in IPv6 refused) before any connection; the
transport then connects to the checked address itself. Admins may allow hosts or networks
in ``HTTP_STEP_ALLOWLIST``; cloud metadata addresses are refused regardless.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from integrations.base import IntegrationError

IP = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_ADDRESSES = {
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, DigitalOcean, OpenStack
        "169.254.170.2",  # AWS ECS task metadata
        "fd00:ec2::254",  # AWS over IPv6
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
    )
}
METADATA_HOSTS = {"metadata.google.internal", "metadata.goog", "metadata"}
CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def fail(message: str) -> IntegrationError:
    """An error retrying cannot fix: a refused address, a malformed request."""
    return IntegrationError(message, permanent=True)


def allowlist() -> list[str]:
    """Hosts (``intranet.example``, ``*.corp.example``) and addresses or networks
    (``10.1.2.3``, ``10.0.0.0/8``) an admin allows, from the ``HTTP_STEP_ALLOWLIST`` setting
    (a list, a comma-separated string, or a callable returning either)."""
    try:
        from django.conf import settings

        if not settings.configured:
            return []
        value: Any = getattr(settings, "HTTP_STEP_ALLOWLIST", [])
    except ImportError:
        return []
    if callable(value):
        value = value()
    if isinstance(value, str):
        value = value.split(",")
    return [str(v).strip() for v in value or [] if str(v).strip()]


@dataclass(frozen=True)
class _Rules:
    hosts: tuple[str, ...]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @classmethod
    def load(cls, entries: Iterable[str]) -> _Rules:
        hosts, networks = [], []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.append(entry.lower().rstrip("."))
        return cls(tuple(hosts), tuple(networks))

    def allows_host(self, host: str) -> bool:
        return any(
            host == rule or (rule.startswith("*.") and host.endswith(rule[1:]))
            for rule in self.hosts
        )

    def allows_ip(self, ip: IP) -> bool:
        return any(ip.version == net.version and ip in net for net in self.networks)


def is_metadata(ip: IP) -> bool:
    """A cloud metadata address, itself or wrapped in IPv6 (mapped, IPv4-compatible, 6to4,
    Teredo, NAT64): refused even when an admin allows a range around it."""
    if ip in METADATA_ADDRESSES:
        return True
    if not isinstance(ip, ipaddress.IPv6Address):
        return False
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    wrapped = [ip.ipv4_mapped, ip.sixtofour, *(ip.teredo or ())]
    if ip in NAT64 or int(ip) >> 32 == 0:
        wrapped.append(low32)
    return any(w in METADATA_ADDRESSES for w in wrapped if w is not None)


def refusal(ip: IP) -> str | None:
    """Why an address may not be called, or None for a public address."""
    if is_metadata(ip):
        return "a cloud metadata service"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return refusal(embedded) or "an IPv6 address wrapping an IPv4 one"
    checks = (
        (ip.is_loopback, "this server itself (loopback)"),
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip in CGNAT, "a carrier-grade NAT address"),
        (ip.is_private, "a private network"),
        (ip.is_reserved, "a reserved address"),
        (not ip.is_global, "an address that is not on the public internet"),
    )
    return next((why for bad, why in checks if bad), None)


def resolve(host: str, port: int) -> list[str]:
    """Every address the host name resolves to (A and AAAA)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


_NUMERIC_LABEL = re.compile(r"\d+|0[xX][0-9a-fA-F]*")


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str
    port: int
    ip: str


def check_url(url: str) -> Target:
    """Validate a URL and pick the checked address to connect to. Never connects."""
    if not isinstance(url, str) or not url.strip():
        raise fail("Enter the web address to call, starting with https://.")
    url = url.strip()
    if len(url) > 8192:
        raise fail("The web address is longer than 8,192 characters.")
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise fail(f"Only http:// and https:// addresses can be called, not “{scheme}:”.")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise fail("Put credentials in a header, not in the web address.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise fail("The web address has no host name.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise fail("The web address has an invalid port.") from None
    where = f"“{host}”"
    if host in METADATA_HOSTS:
        raise fail(f"This step cannot call {where}: it is a cloud metadata service.")
    literal: IP | None
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
        if all(_NUMERIC_LABEL.fullmatch(label) for label in host.split(".")):
            raise fail(
                f"{where} is an unusual way of writing an IP address; "
                "write it as four numbers such as 93.184.216.34."
            ) from None
    rules = _Rules.load(allowlist())
    if literal is not None:
        addresses = [literal]
    else:
        try:
            addresses = [ipaddress.ip_address(a.split("%")[0]) for a in resolve(host, port)]
        except (OSError, UnicodeError, ValueError):
            raise IntegrationError(f"Could not find {where}: check the address.") from None
        if not addresses:
            raise IntegrationError(f"Could not find {where}: check the address.")
    host_allowed = rules.allows_host(host.lower())
    for ip in addresses:
        why = refusal(ip)
        if why is None:
            continue
        metadata = is_metadata(ip)
        if metadata or not (host_allowed or rules.allows_ip(ip)):
            shown = where if str(ip) == host else f"{where} ({ip})"
            hint = "" if metadata else " An admin can allow it."
            raise fail(f"This step cannot call {shown}: it is {why}.{hint}")
    return Target(url=url, scheme=scheme, host=host, port=port, ip=str(addresses[0]))
