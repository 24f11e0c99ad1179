"""A local SFTP server for the file connector's tests: paramiko's server interfaces over a folder, on 127.0.0.1.

Read-only is enough for a connector that lists and reads; logins are checked against one user's password or public
key, so that wrong credentials fail as they would on a real server.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from typing import Any, Self

import paramiko
from paramiko.sftp import SFTP_NO_SUCH_FILE, SFTP_OK, SFTP_PERMISSION_DENIED

from tests.servers.base import HOST, StartedInWith

USERNAME = "vendor"
PASSWORD = "sftp-pass-do-not-log"


class _Login(paramiko.ServerInterface):
    def __init__(self, public_key: paramiko.PKey | None) -> None:
        self.public_key = public_key

    def check_auth_password(self, username: str, password: str) -> int:
        ok = username == USERNAME and password == PASSWORD
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        ok = username == USERNAME and self.public_key is not None and key == self.public_key
        return paramiko.AUTH_SUCCESSFUL if ok else paramiko.AUTH_FAILED

    def get_allowed_auths(self, username: str) -> str:
        return "password,publickey"

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return paramiko.OPEN_SUCCEEDED if kind == "session" else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class _Handle(paramiko.SFTPHandle):
    def stat(self) -> Any:
        return paramiko.SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))


class _Folder(paramiko.SFTPServerInterface):
    """The SFTP view of a local folder: `/` is the folder; only reading is allowed."""

    root: Path

    def __init__(self, server: Any, *args: Any, root: Path, **kwargs: Any) -> None:
        super().__init__(server, *args, **kwargs)
        self.root = root

    def _local(self, path: str) -> Path:
        local = (self.root / path.lstrip("/")).resolve()
        if local != self.root and self.root not in local.parents:
            raise PermissionError(path)
        return local

    def list_folder(self, path: str) -> Any:
        try:
            folder = self._local(path)
            entries = []
            for name in sorted(os.listdir(folder)):
                attributes = paramiko.SFTPAttributes.from_stat(os.stat(folder / name))
                attributes.filename = name
                entries.append(attributes)
            return entries
        except FileNotFoundError:
            return SFTP_NO_SUCH_FILE
        except PermissionError:
            return SFTP_PERMISSION_DENIED

    def stat(self, path: str) -> Any:
        try:
            return paramiko.SFTPAttributes.from_stat(os.stat(self._local(path)))
        except FileNotFoundError:
            return SFTP_NO_SUCH_FILE

    lstat = stat

    def open(self, path: str, flags: int, attr: Any) -> Any:
        if flags & (os.O_WRONLY | os.O_RDWR):
            return SFTP_PERMISSION_DENIED
        try:
            handle = _Handle(flags)
            handle.readfile = open(self._local(path), "rb")  # noqa: SIM115 - the handle owns it
            handle.filename = path
            return handle
        except FileNotFoundError:
            return SFTP_NO_SUCH_FILE

    def canonicalize(self, path: str) -> str:
        return "/" + path.strip("/")

    def session_ended(self) -> None:
        return None


def _ok(*_: Any) -> int:
    return SFTP_OK


class FakeSftp(StartedInWith):
    """Serve `root` over SFTP on an ephemeral port of 127.0.0.1 until stopped."""

    def __init__(self, root: Path, client_key: paramiko.PKey | None = None) -> None:
        self.root = root.resolve()
        self.client_key = client_key
        self.host_key = paramiko.Ed25519Key.from_private_key_file(str(_host_key_file()))
        self.port = 0
        self.errors: list[str] = []
        self._socket: socket.socket | None = None
        self._transports: list[paramiko.Transport] = []
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, 0))
        listener.listen(16)
        self._socket, self.port = listener, listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, name="FakeSftp", daemon=True)
        self._thread.start()
        return self

    def _accept(self) -> None:
        assert self._socket is not None
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return  # stopped
            transport = paramiko.Transport(connection)
            transport.add_server_key(self.host_key)
            transport.set_subsystem_handler("sftp", paramiko.SFTPServer, _Folder, root=self.root)
            self._transports.append(transport)
            try:
                transport.start_server(server=_Login(self.client_key))
            except (paramiko.SSHException, EOFError, OSError) as error:
                self.errors.append(repr(error))

    def stop(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        for transport in self._transports:
            transport.close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def host_key_line(self) -> str:
        return f"{self.host_key.get_name()} {self.host_key.get_base64()}"

    def configuration(self, remote_path: str = "/") -> dict[str, str]:
        return {"host": HOST, "port": str(self.port), "username": USERNAME, "remote_path": remote_path}


def _host_key_file() -> Path:
    """One Ed25519 host key for the test session, generated with ssh-keygen-compatible OpenSSH format."""
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"fake_sftp_host_key_{os.getuid()}"
    if not path.exists():
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519

        key = ed25519.Ed25519PrivateKey.generate()
        text = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        )
        path.write_bytes(text)
        path.chmod(0o600)
    return path


def client_key_pair() -> tuple[paramiko.PKey, str]:
    """A fresh Ed25519 client key and its private text in OpenSSH form, as an owner pastes it into the form."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    text = (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
        .decode()
    )
    import io

    return paramiko.Ed25519Key.from_private_key(io.StringIO(text)), text
