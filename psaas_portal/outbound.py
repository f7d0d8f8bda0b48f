"""Outgoing HTTP to addresses people give the portal (webhook endpoints, Slack and Teams
incoming webhooks), guarded against server-side request forgery.

A URL must be https (http only with WEBHOOKS_ALLOW_HTTP, for development), carry no user
name or password, and every address its host resolves to must be public: loopback, private,
link-local, shared, multicast and reserved ranges are refused unless WEBHOOKS_ALLOW_PRIVATE
is on (development and tests, whose receivers listen on 127.0.0.1). The check runs when a URL
is saved and again before each request, and the request connects to the very address that
was checked (no second lookup a changed DNS answer could redirect). Short timeouts; a
redirect is an answer like any other, never followed.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

MAX_URL_LENGTH = 2000
# What is read of an answer: a receiver's reply is not ours to store.
MAX_ANSWER_BYTES = 4096


class RefusedURL(ValueError):
    """The URL may not be used: the message says why, in words for the person who gave it."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]


NAT64 = ipaddress.ip_network("64:ff9b::/96")
# Not global whatever Python's table says: site-local IPv6, the IETF protocol assignments.
NEVER = (ipaddress.ip_network("fec0::/10"), ipaddress.ip_network("192.0.0.0/24"))


def _public(address: str) -> bool:
    """A public unicast address, also after unwrapping an IPv4 address carried inside an
    IPv6 one (mapped, IPv4-compatible, 6to4, Teredo, NAT64), which could reach a private
    IPv4 address."""
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
        address.split("%", 1)[0]
    )
    if isinstance(ip, ipaddress.IPv6Address):
        inner = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if inner is None and ip in NAT64:
            inner = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if inner is None and int(ip) >> 32 == 0 and int(ip) > 1:  # ::a.b.c.d (deprecated)
            inner = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if inner is not None and not _public(str(inner)):
            return False
    if any(ip in net for net in NEVER if net.version == ip.version):
        return False
    return ip.is_global and not ip.is_multicast


def _resolve(host: str, port: int) -> tuple[str, ...]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise RefusedURL(f"the host {host} cannot be resolved") from None
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))


def check_url(url: str, *, resolve: bool = True) -> Target:
    """The URL's parts and the addresses it may be sent to; RefusedURL says why not."""
    url = (url or "").strip()
    if not url:
        raise RefusedURL("enter a URL")
    if len(url) > MAX_URL_LENGTH:
        raise RefusedURL(f"a URL has at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise RefusedURL("that is not a valid URL") from None
    allowed = ("https", "http") if settings.WEBHOOKS_ALLOW_HTTP else ("https",)
    if parts.scheme not in allowed:
        raise RefusedURL("the URL must start with https://")
    if parts.username or parts.password:
        raise RefusedURL("the URL must not contain a user name or password")
    host = parts.hostname or ""
    if not host:
        raise RefusedURL("the URL has no host")
    if any(c.isspace() for c in url):
        raise RefusedURL("the URL must not contain spaces")
    port = port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    addresses: tuple[str, ...] = ()
    if resolve:
        addresses = _resolve(host, port)
        if not addresses:
            raise RefusedURL(f"the host {host} cannot be resolved")
        if not settings.WEBHOOKS_ALLOW_PRIVATE and not all(_public(a) for a in addresses):
            raise RefusedURL(
                f"the host {host} resolves to a loopback, private or link-local address; "
                "the portal sends only to public addresses"
            )
    return Target(parts.scheme, host, port, path, addresses)


class _PinnedHTTP(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever the host resolves to now."""

    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.addresses[0]

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """The same over TLS: the certificate is checked against the host name (SNI)."""

    def __init__(self, target: Target, timeout: float):
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = target.addresses[0]

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def _cut(connection: http.client.HTTPConnection, fired: threading.Event) -> None:
    """The deadline passed: shut the socket, so a read blocked on it returns at once."""
    fired.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POSTs the body; returns the HTTP status. Raises RefusedURL (the address is not
    allowed now) or OSError / http.client.HTTPException (unreachable, timed out, garbled).

    WEBHOOKS_TIMEOUT bounds the whole request, not only each read: a receiver that answers
    a byte at a time is cut off at the deadline (the claim lease counts on it)."""
    target = check_url(url)
    kind = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    connection = kind(target, timeout=settings.WEBHOOKS_TIMEOUT)
    fired = threading.Event()
    deadline = threading.Timer(settings.WEBHOOKS_TIMEOUT, _cut, args=(connection, fired))
    deadline.daemon = True
    deadline.start()
    try:
        return _exchange(connection, target, body, headers, fired)
    finally:
        deadline.cancel()
        connection.close()


def _exchange(
    connection: http.client.HTTPConnection,
    target: Target,
    body: bytes,
    headers: dict[str, str],
    fired: threading.Event,
) -> int:
    try:
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "PSaaS-Portal-Webhooks/1",
                **headers,
            },
        )
        response = connection.getresponse()
        response.read(MAX_ANSWER_BYTES)
    except (OSError, http.client.HTTPException):
        if fired.is_set():
            raise TimeoutError(
                f"timed out: no whole answer within {settings.WEBHOOKS_TIMEOUT} s"
            ) from None
        raise
    if fired.is_set():
        raise TimeoutError(f"timed out: no whole answer within {settings.WEBHOOKS_TIMEOUT} s")
    return response.status
