"""Outbound HTTP with an SSRF guard: the one way Headway fetches a URL someone typed.

Every request (HTTP data sources now; webhooks and chat later) goes through ``fetch``:

- only http and https;
- the host is resolved once and every address is checked: loopback, private, link-local,
  metadata, multicast, reserved and unspecified addresses (``not ip.is_global``:
  127.0.0.0/8, 10/8, 172.16/12, 192.168/16, 169.254/16, 100.64/10, ::1, fc00::/7, fe80::/10,
  IPv4-mapped IPv6 of those) are refused unless the host or address is listed in
  ``settings.HEADWAY_SOURCE_ALLOWED_HOSTS`` (names, addresses or networks);
- the connection is made to the checked address itself (the URL's host is replaced by the
  address, the Host header and TLS server name keep the name): a DNS answer that changes
  between the check and the connection (rebinding) cannot redirect it;
- redirects are followed by hand (at most 5), each target checked the same way;
- a timeout for connecting and for the whole body, and a size cap: the body is read in
  chunks and cut when it passes ``max_bytes``.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx
from django.conf import settings

MAX_REDIRECTS = 5
USER_AGENT = "Headway data source (+https://github.com/headway)"


class OutboundError(Exception):
    """A request we refused or that failed; the message is for people."""


@dataclass
class Response:
    url: str
    status: int
    content_type: str
    body: bytes


def _allowed_entries() -> tuple[set[str], list]:
    names, networks = set(), []
    for entry in getattr(settings, "HEADWAY_SOURCE_ALLOWED_HOSTS", []) or []:
        entry = str(entry).strip().lower()
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            names.add(entry)
    return names, networks


def _plain_ip(ip):
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def address_allowed(host: str, ip) -> bool:
    """Whether connecting to ``ip`` (resolved from ``host``) is allowed."""
    names, networks = _allowed_entries()
    ip = _plain_ip(ip)
    if host.lower().rstrip(".") in names or any(ip in net for net in networks):
        return True
    return ip.is_global and not ip.is_multicast


def resolve_checked(host: str, port: int) -> str:
    """The address to connect to for ``host``, or OutboundError when it is not allowed.

    Every address the name resolves to must be allowed (a name pointing at both a public
    and a private address is refused)."""
    if not host:
        raise OutboundError("The URL has no host.")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise OutboundError(f"The host {host} cannot be resolved ({exc}).")
    addresses = []
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address_allowed(host, ip):
            raise OutboundError(
                f"{host} resolves to {ip}, a private, loopback, link-local or metadata "
                "address: refused (an administrator can allow it with "
                "HEADWAY_SOURCE_ALLOWED_HOSTS).")
        addresses.append(ip)
    if not addresses:
        raise OutboundError(f"The host {host} has no address.")
    return str(addresses[0])


def _pinned(url: str) -> tuple[str, str, str]:
    """(url with the checked address as host, the Host header, the TLS server name)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise OutboundError("Only http:// and https:// URLs can be fetched.")
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    ip = resolve_checked(host, port)
    netloc_host = f"[{ip}]" if ":" in ip else ip
    netloc = f"{netloc_host}:{parts.port}" if parts.port else netloc_host
    host_header = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")), host_header, host


def fetch(url: str, *, headers: dict[str, str] | None = None, timeout: float = 10.0,
          max_bytes: int = 5 * 1024 * 1024, auth: tuple[str, str] | None = None) -> Response:
    """GET ``url`` through the guard. OutboundError for anything refused or failed."""
    deadline = time.monotonic() + timeout
    current = url
    with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False,
                      trust_env=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            pinned, host_header, server_name = _pinned(current)
            request = client.build_request(
                "GET", pinned,
                headers={"User-Agent": USER_AGENT, **(headers or {}), "Host": host_header},
                extensions={"sni_hostname": server_name},
            )
            if auth is not None:
                request.headers["Authorization"] = httpx.BasicAuth(*auth)._auth_header
            try:
                response = client.send(request, stream=True)
            except httpx.TimeoutException:
                raise OutboundError(f"No answer from {server_name} within {timeout:g} s.")
            except httpx.HTTPError as exc:
                raise OutboundError(f"Could not fetch {server_name}: {exc}.")
            try:
                if response.is_redirect:
                    location = response.headers.get("location", "")
                    current = urljoin(current, location)
                    continue
                if response.status_code >= 400:
                    raise OutboundError(
                        f"{server_name} answered {response.status_code} {response.reason_phrase}.")
                body = bytearray()
                try:
                    for chunk in response.iter_bytes():
                        body.extend(chunk)
                        if len(body) > max_bytes:
                            raise OutboundError(
                                f"The response is larger than {max_bytes / 1024 / 1024:g} MB: cut.")
                        if time.monotonic() > deadline:
                            raise OutboundError(
                                f"{server_name} did not finish within {timeout:g} s.")
                except httpx.TimeoutException:
                    raise OutboundError(f"{server_name} did not finish within {timeout:g} s.")
                except httpx.HTTPError as exc:
                    raise OutboundError(f"Reading from {server_name} failed: {exc}.")
                return Response(url=current, status=response.status_code,
                                content_type=response.headers.get("content-type", ""),
                                body=bytes(body))
            finally:
                response.close()
    raise OutboundError(f"More than {MAX_REDIRECTS} redirects.")


def post(url: str, body: bytes, *, headers: dict[str, str] | None = None, timeout: float = 10.0,
         max_bytes: int = 4096, user_agent: str = "Headway webhooks") -> Response:
    """POST ``body`` to ``url`` through the guard (webhooks, Slack, Teams).

    Redirects are not followed (a 3xx is the receiver's answer); any status is returned (the
    caller decides what counts as delivered); only the first ``max_bytes`` of the answer are
    read. OutboundError when the URL is refused, the connection fails or the time is up."""
    deadline = time.monotonic() + timeout
    pinned, host_header, server_name = _pinned(url)
    try:
        with httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False,
                          trust_env=False) as client:
            request = client.build_request(
                "POST", pinned, content=body,
                headers={"User-Agent": user_agent, **(headers or {}), "Host": host_header},
                extensions={"sni_hostname": server_name},
            )
            response = client.send(request, stream=True)
            try:
                head = bytearray()
                for chunk in response.iter_bytes():
                    head.extend(chunk)
                    if len(head) >= max_bytes or time.monotonic() > deadline:
                        break
                return Response(url=url, status=response.status_code,
                                content_type=response.headers.get("content-type", ""),
                                body=bytes(head[:max_bytes]))
            finally:
                response.close()
    except httpx.TimeoutException:
        raise OutboundError(f"No answer from {server_name} within {timeout:g} s.")
    except httpx.HTTPError as exc:
        raise OutboundError(f"Could not reach {server_name}: {exc}.")


def check_url(url: str) -> str:
    """The URL if Headway may send to it (scheme, host, every address); else OutboundError
    with a message for the form."""
    _pinned(url)
    return url
