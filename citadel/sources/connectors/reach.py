"""What a source may reach: the one place that decides, asked by every connector when it is built
and again on every connection it opens.

An organization's admin sets up sources, but the operator of the installation decides what they
can touch. Three rules, each refusing with a sentence the admin can act on:

* **Folders**: a folder source's path must resolve, every link followed, inside a root the operator
  granted to the source's organization (`source_root_grant`). The data dir, the stored originals,
  the code, the Python install and the system's own folders are never grantable, nor is a folder
  holding any of them.
* **Networks**: a host is resolved and refused when any of its addresses is loopback, private,
  link-local (cloud metadata lives there), shared, unspecified, multicast or reserved, unless the
  operator opened it in CITADEL_SOURCE_ALLOWED_NETWORKS (CIDRs or host names). The check is made
  on the addresses the socket then connects to (`connect`), never on an earlier lookup, so a name
  that resolves differently later (DNS rebinding) is refused too. HTTP (requests, and botocore for
  S3) goes through `GuardedHTTPAdapter` and `guard_botocore`, IMAP through `connect` directly.
* **Secrets**: a source names a server environment variable as its password only when the
  operator lists it in CITADEL_SOURCE_SECRET_ENV; an S3 source without keys of its own uses the
  server's credentials only with CITADEL_SOURCE_S3_SERVER_CREDENTIALS=1, and never to read the
  installation's own storage bucket.
"""

import ipaddress
import os
import socket
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests
from botocore.awsrequest import AWSHTTPConnectionPool, AWSHTTPSConnectionPool
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from citadel.sources.connectors.base import ConnectorError

NOT_GRANTED = "This folder is not among the folders the operator has opened to this organization."
# The system's own folders: never a source, nor a folder holding one of them.
SYSTEM_FOLDERS = (
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/sys",
    "/usr",
    "/var/backups",
    "/var/cache",
    "/var/lib",
    "/var/log",
    "/var/mail",
    "/var/run",
    "/var/spool",
)
# Shared address space (RFC 6598) is neither private nor global to `ipaddress`.
SHARED = ipaddress.ip_network("100.64.0.0/10")


class Refused(ConnectorError):
    """What the operator does not allow this source to reach. The sync fails, and a source that
    breaks a rule it once met (a root revoked, a name now resolving inward) is paused."""


# --- folders ---------------------------------------------------------------------------------------


def protected_folders() -> list[Path]:
    """What no organization may read: Citadel's own data, originals, code and Python, the system's
    folders, and the home of the account Citadel runs as (its keys and credentials live there)."""
    paths = [
        settings.DATA_DIR,
        settings.MEDIA_ROOT,
        settings.STATIC_ROOT,
        settings.BASE_DIR,
        sys.prefix,
        sys.base_prefix,
        Path.home(),
        *SYSTEM_FOLDERS,
    ]
    return sorted({Path(p).resolve() for p in paths})


def root_refusal(path: Path) -> str | None:
    """Why a resolved folder may not be granted to an organization, or None."""
    if path == Path(path.anchor):
        return "The whole file system cannot be opened to an organization."
    for protected in protected_folders():
        if path == protected or path.is_relative_to(protected):
            return f"{path} is inside {protected}, which Citadel or the system keeps: it cannot be opened."
        if protected.is_relative_to(path):
            return f"{path} holds {protected}, which Citadel or the system keeps: it cannot be opened."
    return None


def folder_inside_roots(path: str, roots: Iterable[str]) -> Path:
    """The folder's real path, when it lies inside one of the roots; else Refused."""
    real = Path(path).resolve()
    for root in roots:
        root_path = Path(root)
        if real == root_path or real.is_relative_to(root_path):
            refusal = root_refusal(real)
            if refusal is not None:
                raise Refused(refusal)
            return real
    raise Refused(NOT_GRANTED)


def open_inside(root: Path, relative: Path) -> int:
    """A read-only descriptor of `root/relative`, opened one segment at a time without following a
    link, so a file swapped for a link between listing and reading is refused, never read."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(root, flags | os.O_DIRECTORY)
    try:
        parts = relative.parts
        for part in parts[:-1]:
            following = os.open(part, flags | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = following
        # Non-blocking: a FIFO put in a file's place must not hang the worker (reading checks it is a file).
        file_fd = os.open(parts[-1], flags | os.O_NONBLOCK, dir_fd=fd)
    finally:
        os.close(fd)
    return file_fd


# --- networks --------------------------------------------------------------------------------------


def _allowed_networks() -> tuple[list, set[str]]:
    networks, hosts = [], set()
    for entry in settings.CITADEL["SOURCE_ALLOWED_NETWORKS"]:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            hosts.add(entry.lower().rstrip("."))
    return networks, hosts


def _inward(address) -> bool:
    """Whether an address is one a source must not reach unless the operator opened it."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if embedded is not None and _inward(embedded):
            return True
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
        or address in SHARED
    )


def resolve(host: str, port: int) -> list[tuple[int, str]]:
    """(family, address) of each address the host resolves to, in the resolver's order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError) as exc:
        raise Refused(f"The name {host} cannot be resolved ({exc}).") from None
    return list(dict.fromkeys((family, sockaddr[0]) for family, _, _, _, sockaddr in infos))


def checked_addresses(host: str, port: int) -> list[tuple[int, str]]:
    """The host's addresses, when the operator allows every one of them; else Refused."""
    host = (host or "").strip().lower().rstrip(".")
    if not host:
        raise Refused("No host is given.")
    addresses = resolve(host, port)
    if not addresses:
        raise Refused(f"The name {host} resolves to no address.")
    networks, hosts = _allowed_networks()
    if host in hosts:
        return addresses
    for _, text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if _inward(address) and not any(address in network for network in networks):
            return _refuse(host, address)
    return addresses


def _refuse(host: str, address) -> list:
    shown = host if host == str(address) else f"{host} ({address})"
    raise Refused(
        f"{shown} is an internal address (loopback, private, link-local or reserved); sources reach public "
        "addresses only, unless the operator opens it in CITADEL_SOURCE_ALLOWED_NETWORKS."
    )


def connect(host: str, port: int, timeout=None, *, source_address=None, socket_options=None) -> socket.socket:
    """A connected socket to an address of the host that `checked_addresses` allows: resolving,
    checking and connecting are one step, so what is checked is what is reached."""
    last_error: OSError | None = None
    for family, address in checked_addresses(host, port):
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            for option in socket_options or ():
                sock.setsockopt(*option)
            if timeout is not None:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect((address, port))
            return sock
        except OSError as exc:
            last_error = exc
            sock.close()
    raise last_error or OSError(f"{host}:{port} could not be connected to")


class _GuardedConnection:
    """urllib3's connection, opening its socket through `connect`. A refusal is not an OSError, so
    urllib3 and requests pass it up unretried, and the connector turns it into its sentence."""

    def _new_conn(self) -> socket.socket:
        try:
            return connect(
                self._dns_host,
                self.port,
                self.timeout,
                source_address=self.source_address,
                socket_options=self.socket_options,
            )
        except TimeoutError as exc:
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out.") from exc
        except OSError as exc:
            raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc


def _guarded_pools(http_pool, https_pool) -> dict:
    """Subclasses of a library's two connection pools whose connections open their sockets
    through `connect`, by scheme, as a PoolManager names them."""

    def guarded(pool):
        connection = type(f"Guarded{pool.ConnectionCls.__name__}", (_GuardedConnection, pool.ConnectionCls), {})
        return type(f"Guarded{pool.__name__}", (pool,), {"ConnectionCls": connection})

    return {"http": guarded(http_pool), "https": guarded(https_pool)}


_URLLIB3_POOLS = _guarded_pools(HTTPConnectionPool, HTTPSConnectionPool)
_BOTOCORE_POOLS = _guarded_pools(AWSHTTPConnectionPool, AWSHTTPSConnectionPool)


class GuardedHTTPAdapter(HTTPAdapter):
    """A requests adapter whose every connection is checked by `connect`."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _URLLIB3_POOLS


def guard_botocore(client) -> None:
    """Make a boto3 client's connections go through `connect`. botocore builds its pools from the
    classes its HTTP session names; the client is given guarded ones before it sends anything."""
    session = client._endpoint.http_session
    session._pool_classes_by_scheme = _BOTOCORE_POOLS
    session._manager.pool_classes_by_scheme = _BOTOCORE_POOLS


# --- secrets ---------------------------------------------------------------------------------------


def secret_from_env(name: str) -> str:
    """The value of an environment variable the operator lets sources name; else Refused."""
    if name not in settings.CITADEL["SOURCE_SECRET_ENV"]:
        raise Refused(
            f"The environment variable {name} is not one the operator lets sources use "
            "(CITADEL_SOURCE_SECRET_ENV); give the password itself instead."
        )
    value = os.environ.get(name, "")
    if not value:
        raise Refused(f"The environment variable {name} is not set.")
    return value


def s3_credentials_check(*, bucket: str, own_keys: bool) -> None:
    own_bucket = settings.STORAGES["default"].get("OPTIONS", {}).get("bucket_name") or ""
    if own_bucket and bucket.lower() == own_bucket.lower():
        raise Refused("This bucket holds Citadel's own stored files; it cannot be a source.")
    if not own_keys and not settings.CITADEL["SOURCE_S3_SERVER_CREDENTIALS"]:
        raise Refused(
            "An S3 source needs its own access key ID and secret access key: the operator does not let sources "
            "use the server's credentials (CITADEL_SOURCE_S3_SERVER_CREDENTIALS)."
        )


@dataclass(frozen=True)
class Reach:
    """What one organization's sources may reach, as its connectors ask it: the folder roots granted
    to it (resolved paths); the network and secret rules are the operator's settings, read on each
    use, so a changed setting holds from the next connection."""

    roots: tuple[str, ...] = ()

    def folder(self, path: str) -> Path:
        return folder_inside_roots(path, self.roots)

    def url(self, url: str) -> None:
        parts = urlsplit(url)
        try:
            port = parts.port
        except ValueError:
            raise Refused(f"{url} has a port that is not a number.") from None
        checked_addresses(parts.hostname or "", port or (443 if parts.scheme == "https" else 80))

    def host(self, host: str, port: int) -> None:
        checked_addresses(host, port)

    def connect(self, host: str, port: int, timeout=None) -> socket.socket:
        return connect(host, port, timeout)

    def http_session(self) -> requests.Session:
        """A requests session whose connections are checked, and which ignores the server's proxy
        settings (a proxy would reach for it what the check refuses)."""
        session = requests.Session()
        session.trust_env = False
        adapter = GuardedHTTPAdapter()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        return session

    def guard_botocore(self, client) -> None:
        guard_botocore(client)

    def secret_from_env(self, name: str) -> str:
        return secret_from_env(name)

    def s3_credentials(self, *, bucket: str, own_keys: bool) -> None:
        s3_credentials_check(bucket=bucket, own_keys=own_keys)
