"""The real PostgreSQL and MariaDB servers of this machine (and of CI), each test in a database of its own.

A test gets a freshly created database and drops it afterwards. A server that cannot be reached skips the test with
a message saying how to start it, except in CI (`CI=true`), where it is a failure: CI must prove the claim.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import psycopg.types.string
import pymysql
import pymysql.converters
import pytest
from pymysql.constants import FIELD_TYPE

from tests.servers.base import HOST

POSTGRES_PORT = 5432
MARIADB_PORT = 3306


@dataclass(frozen=True)
class Database:
    engine: str  # the template's db_engine answer
    name: str
    port: int
    user: str

    def configuration(self, **overrides: str) -> dict[str, str]:
        """A generated connector's configuration for this database."""
        values = {
            "host": HOST,
            "port": str(self.port),
            "database": self.name,
            "user": self.user,
            "password": "",
            "schema": "public" if self.engine == "postgresql" else self.name,
            "tables": "",
            "tls_mode": "disable",
            "connect_timeout": "10",
            "batch_size": "1000",
        }
        return {**values, **overrides}

    def connect(self) -> Any:
        if self.engine == "postgresql":
            connection = psycopg.connect(host=HOST, port=self.port, user=self.user, dbname=self.name, autocommit=True)
            # Intervals as PostgreSQL writes them: the driver's timedelta turns a month into 30 days.
            connection.adapters.register_loader("interval", psycopg.types.string.TextLoader)
            return connection
        conversions = dict(pymysql.converters.conversions)
        conversions[FIELD_TYPE.TIME] = str  # TIME as MySQL writes it: it spans +-838 hours, beyond a time of day
        return pymysql.connect(
            host=HOST,
            port=self.port,
            user=self.user,
            database=self.name,
            charset="utf8mb4",
            autocommit=True,
            conv=conversions,
            init_command="SET time_zone = '+00:00'",
        )

    def execute(self, *statements: str) -> None:
        with self.connect() as connection, connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)

    def rows(self, query: str) -> list[dict[str, Any]]:
        with self.connect() as connection, connection.cursor() as cursor:
            cursor.execute(query)
            columns = [column[0] for column in cursor.description]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def unreachable(engine: str, error: Exception) -> None:
    how = {
        "postgresql": "start PostgreSQL on 127.0.0.1:5432 with trust auth for user postgres",
        "mysql": "start MariaDB (or MySQL) on 127.0.0.1:3306 with user root and an empty password",
    }[engine]
    message = f"{engine} server unreachable ({error}); {how}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def postgres_database() -> Iterator[Database]:
    name = f"connector_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(host=HOST, port=POSTGRES_PORT, user="postgres", dbname="postgres", autocommit=True)
    except psycopg.OperationalError as error:
        unreachable("postgresql", error)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield Database("postgresql", name, POSTGRES_PORT, "postgres")
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@contextmanager
def mariadb_database() -> Iterator[Database]:
    name = f"connector_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = pymysql.connect(host=HOST, port=MARIADB_PORT, user="root", autocommit=True)
    except pymysql.err.OperationalError as error:
        unreachable("mysql", error)
    with admin, admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        try:
            yield Database("mysql", name, MARIADB_PORT, "root")
        finally:
            cursor.execute(f"DROP DATABASE `{name}`")
