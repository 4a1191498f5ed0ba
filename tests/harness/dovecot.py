"""A real Dovecot IMAP server on loopback, in a temporary directory, for the mail tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bot.demo.net import free_port

USER, PASSWORD = "bot@example.test", "imap-secret"

_CONFIG = """\
auth_failure_delay = 0
login_trusted_networks = 127.0.0.0/8
protocols = imap
listen = 127.0.0.1
base_dir = {tmp}/run
state_dir = {tmp}/state
log_path = {tmp}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{tmp}/mail/%n
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {tmp}/users
}}
userdb {{
  driver = static
  args = uid=65534 gid=65534 home={tmp}/mail/%n
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


def dovecot_binary() -> str | None:
    """The dovecot executable, if installed."""
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot",) if os.path.exists(p)), None
    )


@dataclass
class DovecotServer:
    """A running Dovecot: connect to host:port as user/password (one mailbox, INBOX)."""

    directory: Path
    port: int
    process: subprocess.Popen[bytes]
    host: str = "127.0.0.1"
    user: str = USER
    password: str = PASSWORD

    @classmethod
    def start(cls) -> DovecotServer:
        binary = dovecot_binary()
        if binary is None:
            raise RuntimeError("dovecot is not installed (apt-get install dovecot-imapd)")
        tmp = Path(tempfile.mkdtemp(prefix="partnerbot-dovecot-"))
        port = free_port()
        for sub in ("run", "state", "mail"):
            (tmp / sub).mkdir()
        (tmp / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        (tmp / "dovecot.conf").write_text(_CONFIG.format(tmp=tmp, port=port))
        os.chmod(tmp, 0o755)  # noqa: S103 (dovecot services run as other users)
        if os.geteuid() == 0:
            shutil.chown(tmp / "mail", 65534, 65534)
        process = subprocess.Popen(
            [binary, "-F", "-c", str(tmp / "dovecot.conf")],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        server = cls(tmp, port, process)
        server._wait_listening()
        return server

    def _wait_listening(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = self.directory / "dovecot.log"
                detail = (
                    log.read_text()
                    if log.exists()
                    else (self.process.stdout.read() if self.process.stdout else b"").decode()
                )
                raise RuntimeError(f"dovecot exited: {detail[-2000:]}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("dovecot did not start listening within 10 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.directory, ignore_errors=True)
