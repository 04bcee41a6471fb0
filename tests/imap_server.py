"""Debian's Dovecot as a real IMAP server for the tests, on 127.0.0.1 with a config of its own in a
temporary folder: `server.mailbox(name)` gives a fresh user with an empty Maildir (every user has
the one password). Folders keep access lists (SETACL/GETACL), as shared mailboxes do."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

CONFIG = """
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = 1
default_internal_user = {internal}
default_login_user = {login}
mail_location = maildir:~/Maildir
mail_plugins = acl
protocol imap {{
  mail_plugins = $mail_plugins imap_acl
}}
plugin {{
  acl = vfile
  acl_anyone = allow
}}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


@dataclass
class Mailbox:
    host: str
    port: int
    username: str
    password: str
    maildir: Path


class DovecotServer:
    password = "mail-secret"

    def __init__(self, port: int):
        self.port = port
        self.root = Path(tempfile.mkdtemp(prefix="citadel-dovecot-"))
        # Dovecot will not deliver mail as root: as root it runs mail as its own system user.
        owner = pwd.getpwnam("dovecot") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
        self.uid, self.gid = owner.pw_uid, owner.pw_gid
        internal = "dovecot" if os.geteuid() == 0 else owner.pw_name
        login = "dovenull" if os.geteuid() == 0 else owner.pw_name
        (self.root / "home").mkdir()
        config = self.root / "dovecot.conf"
        config.write_text(
            CONFIG.format(
                root=self.root,
                port=port,
                uid=self.uid,
                gid=self.gid,
                internal=internal,
                login=login,
                password=self.password,
            )
        )
        os.chmod(self.root, 0o755)  # noqa: S103 (Dovecot's own user must reach the mailboxes inside)
        self.process = subprocess.Popen(
            ["dovecot", "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"Dovecot did not start: {self.process.stderr.read().decode()}") from None
                time.sleep(0.1)

    def mailbox(self, username: str) -> Mailbox:
        home = self.root / "home" / username
        for sub in ("cur", "new", "tmp"):
            (home / "Maildir" / sub).mkdir(parents=True, exist_ok=True)
        for path in (home, home / "Maildir", *(home / "Maildir").iterdir()):
            os.chown(path, self.uid, self.gid)
        return Mailbox("127.0.0.1", self.port, username, self.password, home / "Maildir")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)
