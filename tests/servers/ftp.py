"""A local FTP server for the file connector's tests: pyftpdlib over a folder, on 127.0.0.1, plain or with explicit
TLS (FTPS) and a certificate from a certificate authority made for the test session.

Read-only, one user with a password. Two faults a real server shows can be switched on: a server that does not know
MLSD (the connector then lists with LIST and MDTM), and a control connection dropped on the first download of
chosen files (the connector reconnects and downloads again).
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import threading
from pathlib import Path
from typing import Any, Self

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler, TLS_FTPHandler
from pyftpdlib.servers import FTPServer

from tests.servers.base import HOST, StartedInWith

USERNAME = "vendor"
PASSWORD = "ftp-pass-do-not-log"


class FakeFtp(StartedInWith):
    """Serve `root` over FTP (FTPS with `tls`) on an ephemeral port of 127.0.0.1 until stopped."""

    def __init__(self, root: Path, tls: bool = False, mlsd: bool = True, drop_first_download: set[str] = frozenset()):
        self.root = root.resolve()
        self.tls, self.mlsd = tls, mlsd
        self.drop_first_download = set(drop_first_download)
        self.downloads: list[str] = []  # paths of RETR commands, in order, dropped ones included
        self.commands: list[str] = []  # every command the server ran, by name
        self.port = 0
        self._server: FTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Self:
        authorizer = DummyAuthorizer()
        authorizer.add_user(USERNAME, PASSWORD, str(self.root), perm="elr")
        fake = self
        base: type[FTPHandler] = TLS_FTPHandler if self.tls else FTPHandler

        class Handler(base):  # type: ignore[valid-type,misc]
            proto_cmds = (
                base.proto_cmds
                if fake.mlsd
                else {name: spec for name, spec in base.proto_cmds.items() if name not in ("MLSD", "MLST")}
            )

            def process_command(self, cmd: str, *args: Any, **kwargs: Any) -> Any:
                fake.commands.append(cmd)
                return super().process_command(cmd, *args, **kwargs)

            def ftp_RETR(self, file: str) -> Any:
                relative = Path(file).resolve().relative_to(fake.root).as_posix()
                fake.downloads.append(relative)
                if relative in fake.drop_first_download:
                    fake.drop_first_download.discard(relative)
                    self.close()  # the control connection drops, as on a flaky network
                    return None
                return super().ftp_RETR(file)

            def log(self, *args: Any, **kwargs: Any) -> None:
                return None

            logline = log_cmd = log

        Handler.authorizer = authorizer
        if self.tls:
            certificate = server_certificate_file()
            Handler.certfile = Handler.keyfile = str(certificate)
            Handler.tls_control_required = Handler.tls_data_required = True
        self._server = FTPServer((HOST, 0), Handler)
        self.port = self._server.address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"timeout": 0.2, "handle_exit": False}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.close_all()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)

    def configuration(self, remote_path: str = "/") -> dict[str, str]:
        values = {"host": HOST, "port": str(self.port), "username": USERNAME, "remote_path": remote_path}
        return {**values, "password": PASSWORD}


def _folder() -> Path:
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"fake_ftp_tls_{os.getuid()}"
    folder.mkdir(exist_ok=True)
    return folder


def ca_certificate_pem() -> str:
    """The test session's certificate authority, which signed the server's certificate: what `ca_cert` trusts."""
    server_certificate_file()
    return (_folder() / "ca.pem").read_text()


def server_certificate_file() -> Path:
    """The server's key and certificate (for 127.0.0.1, signed by the test CA) in one PEM file, made once."""
    combined = _folder() / "server.pem"
    if combined.exists():
        return combined
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.UTC)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test FTP CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)]))
        .issuer_name(ca_name)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(HOST))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    (_folder() / "ca.pem").write_bytes(ca.public_bytes(pem))
    key_text = server_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    combined.write_bytes(key_text + server.public_bytes(pem))
    combined.chmod(0o600)
    return combined
