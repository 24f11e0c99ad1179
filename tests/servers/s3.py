"""A local S3 for the file connector's tests: moto's server on 127.0.0.1, with a bucket and helpers to put objects
with a chosen modified time (moto keeps LastModified as the time of the put, so tests set it explicitly)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Self

import boto3
from moto.server import ThreadedMotoServer

from tests.servers.base import HOST, StartedInWith

ACCESS_KEY_ID = "test-access-key"
SECRET_ACCESS_KEY = "test-secret-key-do-not-log"
REGION = "us-east-1"


class FakeS3(StartedInWith):
    def __init__(self, bucket: str = "vendor-drops") -> None:
        self.bucket = bucket
        self._server = ThreadedMotoServer(ip_address=HOST, port=0, verbose=False)
        self.endpoint_url = ""

    def start(self) -> Self:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no request log on the tests' stderr
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        self.client().create_bucket(Bucket=self.bucket)
        return self

    def stop(self) -> None:
        self._server.stop()

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
        )

    def put(self, key: str, body: bytes, modified: datetime) -> None:
        """Store an object whose LastModified is `modified` (moto's backend is in this process)."""
        self.client().put_object(Bucket=self.bucket, Key=key, Body=body)
        from moto.s3.models import s3_backends

        for backend in s3_backends.values():
            for partition in backend.values():
                bucket = partition.buckets.get(self.bucket)
                if bucket is not None and key in bucket.keys:
                    bucket.keys[key].last_modified = modified.replace(tzinfo=None)

    def delete(self, key: str) -> None:
        self.client().delete_object(Bucket=self.bucket, Key=key)

    def configuration(self, prefix: str = "") -> dict[str, str]:
        return {
            "bucket": self.bucket,
            "prefix": prefix,
            "region": REGION,
            "endpoint_url": self.endpoint_url,
            "aws_access_key_id": ACCESS_KEY_ID,
            "aws_secret_access_key": SECRET_ACCESS_KEY,
        }
