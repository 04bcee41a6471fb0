"""An IMAP mailbox: each message of the chosen folders becomes an email document (its attachments
become documents of their own, as with an uploaded .eml). Messages are never changed or marked
read (EXAMINE and BODY.PEEK).

Settings: `host`, `port` (993 with TLS, else 143), `security` ("tls", "starttls" or "none", for a
server on this machine only), `username`, `password` (kept sealed) or `password_env` (the name of
an environment variable holding it, one the operator lists in CITADEL_SOURCE_SECRET_ENV), and
`folders` (["INBOX"] unless set). The host is reached only at addresses the operator lets sources
reach, checked on the connection itself (`reach`), before the password is sent. A message's key is
`<folder>/<UIDVALIDITY>-<UID>.eml`, so permission rules match folders (`Legal/**`); when a server
renumbers a folder, the same messages come back as renames, not as new documents.

With `"permissions_from": "acl"` each folder's access list on the server (RFC 4314, as Dovecot's
and Cyrus's shared folders have) says who reads its messages: identifiers with the read right are
members (by username or email), `$group` identifiers teams, `anyone` and `authenticated` everyone.
The account Citadel signs in with is not a reader."""

import imaplib
import re
import ssl
import time
from collections.abc import Iterator, Mapping, Sequence

from citadel.sources.connectors.base import ConnectorError, Item, Known, Readers, Skipped
from citadel.sources.connectors.reach import Reach

MAX_ITEMS = 200_000
_BATCH = 500
_FETCHED = re.compile(rb"UID (\d+)|RFC822\.SIZE (\d+)")
_LOCAL = ("127.0.0.1", "::1", "localhost")
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*"|[^\s"]+')


class ImapConnector:
    secrets = ("password",)
    concurrent_reads = 1

    def __init__(self, config: dict, reach: Reach):
        self.host = str(config.get("host") or "").strip()
        self.username = str(config.get("username") or "").strip()
        if not self.host or not self.username:
            raise ConnectorError("An IMAP source needs a host and a username.")
        self.security = config.get("security") or "tls"
        if self.security not in ("tls", "starttls", "none"):
            raise ConnectorError('An IMAP source\'s "security" is "tls", "starttls" or "none".')
        if self.security == "none" and self.host not in _LOCAL:
            raise ConnectorError("A mailbox on another machine is read over TLS or STARTTLS, never in the clear.")
        port = config.get("port") or (993 if self.security == "tls" else 143)
        if isinstance(port, str) and re.fullmatch(r"[0-9]{1,5}", port.strip()):
            port = int(port)
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            raise ConnectorError('An IMAP source\'s "port" is a whole number from 1 to 65535.')
        self.port = port
        env_name = str(config.get("password_env") or "")
        self.password = reach.secret_from_env(env_name) if env_name else str(config.get("password") or "")
        if not self.password:
            raise ConnectorError("An IMAP source needs a password.")
        folders = config.get("folders") or ["INBOX"]
        if not isinstance(folders, list) or not all(isinstance(f, str) and f.strip() for f in folders):
            raise ConnectorError('"folders" is a list of folder names, such as ["INBOX"].')
        self.folders = [f.strip() for f in folders]
        permissions_from = config.get("permissions_from") or ""
        if permissions_from not in ("", "acl"):
            raise ConnectorError('An IMAP source\'s "permissions_from" is "acl" or absent.')
        self.own_permissions = permissions_from == "acl"
        reach.host(self.host, self.port)
        self.reach = reach
        self.client = self._connect()
        if self.own_permissions and b"ACL" not in self.client.capability()[1][0].split():
            self.close()
            raise ConnectorError("The mail server keeps no access lists (no ACL capability) to read permissions from.")

    def _connect(self) -> imaplib.IMAP4:
        try:
            if self.security == "tls":
                client = _GuardedIMAP4SSL(
                    self.reach, self.host, self.port, ssl_context=ssl.create_default_context(), timeout=30
                )
            else:
                client = _GuardedIMAP4(self.reach, self.host, self.port, timeout=30)
                if self.security == "starttls":
                    client.starttls(ssl_context=ssl.create_default_context())
            client.login(self.username, self.password)
        except imaplib.IMAP4.error as exc:
            raise ConnectorError(f"The mailbox refused the login ({_text(exc)}).") from None
        except (OSError, ssl.SSLError) as exc:
            raise ConnectorError(f"The mail server {self.host}:{self.port} cannot be reached ({exc}).") from None
        return client

    def list(self, known: Mapping[str, Known]) -> Iterator[Item | Skipped]:
        count = 0
        for folder in self.folders:
            try:
                validity, uids = self._examine(folder)
            except imaplib.IMAP4.error as exc:
                yield Skipped(folder, f"the folder could not be opened ({_text(exc)})")
                continue
            except OSError as exc:
                raise ConnectorError(f"The mail server stopped answering ({exc}).") from None
            readers = self._readers(folder) if self.own_permissions else None
            for start in range(0, len(uids), _BATCH):
                for uid, size, received in self._fetch_sizes(uids[start : start + _BATCH]):
                    count += 1
                    key = f"{folder}/{validity}-{uid}.eml"
                    if count > MAX_ITEMS:
                        yield Skipped(key, f"the mailbox holds more than {MAX_ITEMS} messages; the rest were not read")
                        return
                    yield Item(key=key, size=size, modified=received, name=f"message-{uid}.eml", readers=readers)

    def read(self, key: str, *, max_bytes: int) -> bytes:
        folder, _, name = key.rpartition("/")
        validity, _, uid = name.removesuffix(".eml").partition("-")
        try:
            current, _ = self._examine(folder, search=False)
            if current != validity:
                raise ValueError("the folder was renumbered by the server since it was listed")
            sizes = list(self._fetch_sizes([uid]))
            if not sizes:
                raise ValueError("the message was deleted from the mailbox")
            if sizes[0][1] > max_bytes:
                raise ValueError(f"it is larger than the {max_bytes // (1024 * 1024)} MB limit")
            status, data = self.client.uid("FETCH", uid, "(BODY.PEEK[])")
        except imaplib.IMAP4.abort as exc:
            raise ConnectorError(f"The mail server stopped answering ({_text(exc)}).") from None
        except imaplib.IMAP4.error as exc:
            raise ValueError(f"it could not be read ({_text(exc)})") from None
        except OSError as exc:
            raise ConnectorError(f"The mail server stopped answering ({exc}).") from None
        parts = [part[1] for part in data if isinstance(part, tuple)]
        if status != "OK" or not parts:
            raise ValueError("the server sent no message for it")
        return parts[0]

    def _readers(self, folder: str) -> Readers:
        """A list that cannot be read names nobody: the folder's messages go to admins only."""
        try:
            status, data = self.client.getacl(_quoted(folder))
        except imaplib.IMAP4.error:
            return Readers()
        if status != "OK" or not data or not data[0]:
            return Readers()
        tokens = [t.strip(b'"').decode(errors="replace") for t in _TOKEN.findall(data[0])][1:]
        groups, people, everyone = [], [], False
        for identifier, rights in zip(tokens[::2], tokens[1::2], strict=False):
            if "r" not in rights or identifier.startswith("-") or identifier == self.username:
                continue
            if identifier in ("anyone", "authenticated"):
                everyone = True
            elif identifier.startswith("$"):
                groups.append(identifier[1:])
            else:
                people.append(identifier)
        return Readers(groups=tuple(groups), people=tuple(people), everyone=everyone)

    def close(self) -> None:
        try:
            self.client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass

    def _examine(self, folder: str, *, search: bool = True) -> tuple[str, Sequence[bytes]]:
        status, data = self.client.select(_quoted(folder), readonly=True)
        if status != "OK":
            raise imaplib.IMAP4.error(_text(data[0] if data else b"no such folder"))
        validity = (self.client.response("UIDVALIDITY")[1] or [b""])[0]
        validity = validity.decode() if isinstance(validity, bytes) else str(validity or "")
        if not search:
            return validity, []
        status, data = self.client.uid("SEARCH", None, "ALL")
        return validity, (data[0] or b"").split() if status == "OK" and data else []

    def _fetch_sizes(self, uids: Sequence) -> Iterator[tuple[int, int, float]]:
        uid_set = b",".join(u if isinstance(u, bytes) else str(u).encode() for u in uids).decode()
        status, data = self.client.uid("FETCH", uid_set, "(UID RFC822.SIZE INTERNALDATE)")
        if status != "OK":
            raise imaplib.IMAP4.error("the server would not list the messages")
        for line in data:
            line = line[0] if isinstance(line, tuple) else line
            if not line:
                continue
            fields = {}
            for match in _FETCHED.finditer(line):
                uid, size = match.groups()
                fields.update({k: v for k, v in (("uid", uid), ("size", size)) if v})
            received = imaplib.Internaldate2tuple(line)
            if {"uid", "size"} <= fields.keys() and received is not None:
                yield int(fields["uid"]), int(fields["size"]), time.mktime(received)


class _GuardedIMAP4(imaplib.IMAP4):
    """IMAP whose socket is opened by the reach: the address connected to is the address checked."""

    def __init__(self, reach: Reach, *args, **kwargs):
        self.reach = reach
        super().__init__(*args, **kwargs)

    def _create_socket(self, timeout):
        return self.reach.connect(self.host, self.port, timeout)


class _GuardedIMAP4SSL(imaplib.IMAP4_SSL):
    def __init__(self, reach: Reach, *args, **kwargs):
        self.reach = reach
        super().__init__(*args, **kwargs)

    def _create_socket(self, timeout):
        sock = self.reach.connect(self.host, self.port, timeout)
        return self.ssl_context.wrap_socket(sock, server_hostname=self.host)


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(exc) -> str:
    value = exc.args[0] if isinstance(exc, Exception) and exc.args else exc
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
