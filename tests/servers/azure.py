"""A local Azure Blob Storage for the file connector's tests: Azurite from the npm registry, on 127.0.0.1.

Azurite is installed once into build/azurite (`npm install azurite@AZURITE_VERSION`; npm and Node.js come with the
machine) and started per test with its blob service only, in memory, on an ephemeral port. It stamps each blob's
Last-Modified when it is written, so tests order files by writing them in turn.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Self

import pytest
from azure.storage.blob import BlobServiceClient, ContainerSasPermissions, generate_container_sas

from tests.servers.base import HOST, StartedInWith, free_port

AZURITE_VERSION = "3.37.0"
INSTALL = Path(__file__).resolve().parents[2] / "build" / "azurite"
CONTAINER = "vendor-drops"
# Azurite's well-known development account (documented by Microsoft; not a secret).
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def azurite_command() -> Path:
    """The azurite-blob launcher, installed with npm on first use."""
    launcher = INSTALL / "node_modules" / ".bin" / "azurite-blob"
    if launcher.exists():
        return launcher
    if shutil.which("npm") is None:
        if os.environ.get("CI") == "true":
            raise RuntimeError("npm is needed to install Azurite for the Azure Blob Storage tests")
        pytest.skip("npm is not installed: the Azure Blob Storage tests need Azurite from the npm registry")
    INSTALL.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["npm", "install", "--no-audit", "--no-fund", "--silent", f"azurite@{AZURITE_VERSION}"],
        cwd=INSTALL,
        check=True,
        timeout=600,
    )
    return launcher


class FakeAzure(StartedInWith):
    """Azurite's blob service with one container, until stopped."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = 0
        self._process: subprocess.Popen[str] | None = None
        self.service: BlobServiceClient | None = None

    def start(self) -> Self:
        launcher = azurite_command()
        self.port = free_port()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [
                str(launcher),
                "--blobHost",
                HOST,
                "--blobPort",
                str(self.port),
                "--inMemoryPersistence",
                "--skipApiVersionCheck",
                "--disableProductStyleUrl",
                "--silent",
            ],
            cwd=self.workdir,  # where it would write its debug log, if asked
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self._process.stdout is not None
        for line in self._process.stdout:  # it says when it listens
            if "successfully listens" in line:
                break
        else:
            raise RuntimeError(f"Azurite stopped before it listened (exit {self._process.wait()})")
        self.service = BlobServiceClient.from_connection_string(self.connection_string())
        self.service.create_container(CONTAINER)
        return self

    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint=http://{HOST}:{self.port}/{ACCOUNT};"
        )

    def account_url_with_sas(self, list_and_read: bool) -> str:
        """The account URL with a SAS token for the container, allowed to list and read, or only to read."""
        token = generate_container_sas(
            ACCOUNT,
            CONTAINER,
            account_key=ACCOUNT_KEY,
            permission=ContainerSasPermissions(read=True, list=list_and_read),
            expiry=datetime.now(UTC) + timedelta(hours=1),
        )
        return f"http://{HOST}:{self.port}/{ACCOUNT}?{token}"

    def put(self, name: str, body: bytes) -> None:
        assert self.service is not None
        self.service.get_blob_client(CONTAINER, name).upload_blob(body, overwrite=True)

    def stop(self) -> None:
        if self.service is not None:
            self.service.close()
        if self._process is not None:
            self._process.kill()  # in memory: nothing to save, and a graceful close waits on idle connections
            self._process.wait(timeout=10)
            if self._process.stdout is not None:
                self._process.stdout.close()
            self._process = None

    def configuration(self, prefix: str = "") -> dict[str, str]:
        return {"container": CONTAINER, "prefix": prefix, "connection_string": self.connection_string()}
