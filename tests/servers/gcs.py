"""A local Cloud Storage for the file connector's tests: gcp-storage-emulator in memory, on 127.0.0.1.

The emulator stamps each object's `updated` time when it is written, so tests order files by writing them in turn.
Connectors reach it anonymously through `endpoint_url`, as the configuration allows for emulators.
"""

from __future__ import annotations

from typing import Self

from gcp_storage_emulator.server import create_server
from google.cloud import storage

from tests.servers.base import HOST, StartedInWith, free_port

BUCKET = "vendor-drops"


class FakeGcs(StartedInWith):
    """An in-memory Cloud Storage with one bucket, until stopped."""

    def __init__(self) -> None:
        self.port = 0
        self._server = None
        self.client: storage.Client | None = None

    def start(self) -> Self:
        self.port = free_port()  # the emulator wants a port number
        self._server = create_server(HOST, self.port, in_memory=True, default_bucket=BUCKET)
        self._server.start()
        anonymous = storage.Client.create_anonymous_client()
        self.client = storage.Client(
            project="test", credentials=anonymous._credentials, client_options={"api_endpoint": self.endpoint_url}
        )
        return self

    @property
    def endpoint_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def put(self, name: str, body: bytes) -> None:
        assert self.client is not None
        self.client.bucket(BUCKET).blob(name).upload_from_string(body)

    def delete(self, name: str) -> None:
        assert self.client is not None
        self.client.bucket(BUCKET).blob(name).delete()

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def configuration(self, prefix: str = "") -> dict[str, str]:
        return {"bucket": BUCKET, "prefix": prefix, "endpoint_url": self.endpoint_url, "service_account_json": ""}
