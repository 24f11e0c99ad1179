"""Generated file connectors sync local folders, S3 (moto on 127.0.0.1), SFTP (paramiko on 127.0.0.1) and FTP and
FTPS (pyftpdlib on 127.0.0.1) into DuckDB with the real `fivetran debug`, exactly.

Each test writes files with chosen modified times (os.utime, or LastModified in moto), syncs, compares every row of
the warehouse with what the files hold, then adds, changes, fixes or breaks files and checks from the logs and the
state that the next sync read exactly those, and from the warehouse that the rows are right.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.exact_values import EXPECTED_DECLARATIONS, assert_table_exact, declared_columns, exact_records
from tests.harness import (
    SyncFailed,
    column_name,
    fivetran_debug,
    fivetran_debug_killed,
    invoke,
    project_tests,
    read_state,
    render,
    same_value,
    warehouse_rows,
)
from tests.servers import azure as fake_azure
from tests.servers import ftp as fake_ftp
from tests.servers import gcs as fake_gcs
from tests.servers import s3 as fake_s3
from tests.servers import sftp as fake_sftp
from tests.servers.json_text import json_text

pytestmark = [pytest.mark.sync]
SOURCE_TYPE = "file"

BASE = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return BASE + timedelta(minutes=minutes)


def put_local(folder: Path, path: str, body: bytes, modified: datetime) -> None:
    target = folder / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body)
    os.utime(target, (modified.timestamp(), modified.timestamp()))


def csv_bytes(rows: list[list[str]], bom: bool = False) -> bytes:
    text = io.StringIO(newline="")
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + text.getvalue().encode()


def files_read(output: str, table: str) -> list[str]:
    """The files a sync wrote rows from, in order, from its per-file log lines."""
    return re.findall(rf"{table}: (\S.*?): \d+ rows, \d+ upserted", output)


def rows_by(project: Path, table: str, key: tuple[str, ...]) -> dict[tuple, dict[str, Any]]:
    rows = warehouse_rows(project, table)
    by_key = {tuple(row[column_name(column)] for column in key): row for row in rows}
    assert len(by_key) == len(rows), f"{table}: duplicate keys in the warehouse"
    return by_key


def text_matches(expected: str | None, actual: Any) -> bool:
    """A CSV value (text) as the local tester stores it: text, or the number or timestamp it infers from it."""
    if expected is None or expected == "":
        return actual is None or actual == ""
    if isinstance(actual, bool):
        return str(actual).lower() == expected.lower()
    if isinstance(actual, (int, float, Decimal)):
        # the same number, and no leading zero lost (a postal code is not a number)
        return Decimal(expected) == Decimal(str(actual)) and not re.match(r"-?0\d", expected)
    if isinstance(actual, (datetime, date)):
        return same_value(expected, actual)
    return actual == expected


def assert_csv_rows(project: Path, table: str, expected: dict[tuple, dict[str, str | None]]) -> None:
    """Every expected row is in the table, keyed by (_file, _line), with every value; and nothing else is."""
    rows = rows_by(project, table, ("_file", "_line"))
    assert sorted(rows) == sorted(expected), f"{table}: rows differ from the files"
    for key, record in expected.items():
        for column, value in record.items():
            actual = rows[key].get(column_name(column))
            assert text_matches(value, actual), f"{table} {key} {column}: file {value!r}, warehouse {actual!r}"


def expected_from_csv(path: str, rows: list[list[str]]) -> dict[tuple, dict[str, str | None]]:
    header, *data = rows
    return {(path, number): dict(zip(header, row, strict=True)) for number, row in enumerate(data, start=1)}


# ---------------------------------------------------------------------------------------------------- local, CSV

ORDERS_1 = [
    ["id", "customer", "note", "amount", "zip"],
    ["1", "Zoë Ångström", 'said "hi", then left', "36999.26", "02134"],
    ["2", "山田 太郎", "line one\nline two", "0.10", "10001"],
    ["3", "Émile", "", "-7", "99999"],
]
ORDERS_2 = [["id", "customer", "note", "amount", "zip"], ["4", "Grace", "gzip", "1.5", "00501"]]
ORDERS_3 = [["id", "customer", "note", "amount", "zip"], ["5", "Ada", "same time as 4", "2", "12345"]]
ORDERS_4 = [["id", "customer", "note", "amount", "zip"], ["6", "Alan", "same time as 3", "3", "54321"]]


def test_local_csv_first_sync_then_only_new_changed_and_fixed_files(template, tool_env, tmp_path):
    """BOM, quoted delimiters and line breaks, unicode, gzip, files sharing a modified time, broken files (a bad
    encoding, a row cut short, a gzip upload cut off, two exports joined) of which nothing lands, each logged,
    summarised and retried, then synced in full once fixed, a synthetic key, and a second sync that reads only the
    new, changed and fixed files, with a column that only the later file has."""
    project = render(
        template,
        tmp_path / "project",
        {"source_type": "file", "source_name": "Vendor orders", "file_pattern": "orders_*", "file_table": "orders"},
    )
    folder = tmp_path / "drops"
    cut_short = ORDERS_3 + [["7", "Short row"]]  # the upload stopped inside the last row
    orders_7 = [ORDERS_1[0], ["12", "Gzip", "whole until its last bytes", "8", "60601"]]
    joined = csv_bytes(ORDERS_4) + csv_bytes([ORDERS_1[0], ["13", "Joined", "second export", "9", "70112"]])
    put_local(folder, "2024/orders_1.csv", csv_bytes(ORDERS_1, bom=True), at(1))
    put_local(folder, "orders_2.csv.gz", gzip.compress(csv_bytes(ORDERS_2)), at(2))
    put_local(folder, "orders_3.csv", csv_bytes(cut_short), at(5))
    put_local(folder, "orders_4.csv", csv_bytes(ORDERS_4), at(5))
    put_local(folder, "orders_7.csv.gz", gzip.compress(csv_bytes(orders_7))[:-8], at(4))  # no CRC and length
    put_local(folder, "orders_joined.csv", joined, at(4))
    put_local(folder, "orders_bad.csv", b"id,customer\n1,\xff\xfe broken\n", at(3))
    put_local(folder, "readme.txt", b"not an order", at(4))
    configuration = {"folder": str(folder), "checkpoint_rows": "10000"}

    first = fivetran_debug(project, configuration, tool_env)

    assert files_read(first, "orders") == ["2024/orders_1.csv", "orders_2.csv.gz", "orders_4.csv"]
    assert re.search(r"(SEVERE|ERROR) .*orders: cannot read orders_bad\.csv: UnicodeDecodeError", first)
    assert "cannot read orders_3.csv: line 3 has 2 fields where the header has 5" in first
    assert "cannot read orders_7.csv.gz: EOFError" in first
    assert "cannot read orders_joined.csv: line 3 repeats the header" in first
    summary = next(line for line in first.splitlines() if "could not be read and will be retried" in line)
    assert "Sync summary: 4 files could not be read" in summary
    assert "orders: orders_bad.csv (UnicodeDecodeError" in summary
    expected = {
        **expected_from_csv("2024/orders_1.csv", ORDERS_1),
        **expected_from_csv("orders_2.csv.gz", ORDERS_2),
        **expected_from_csv("orders_4.csv", ORDERS_4),
    }
    assert_csv_rows(project, "orders", expected)  # not a row of the broken files, not even their good first rows
    state = read_state(project)["orders"]
    assert state["modified"] == "2024-03-01T12:05:00.000000Z"
    assert sorted(state["paths"]) == ["orders_3.csv", "orders_4.csv"]
    assert sorted(state["failed"]) == ["orders_3.csv", "orders_7.csv.gz", "orders_bad.csv", "orders_joined.csv"]

    # A new file at the same modified time as the last ones, a later one with a new column, a changed file, and
    # three broken files fixed without a newer modified time: only these six are read; the joined file stays broken.
    changed_1 = [ORDERS_1[0], ["1", "Zoë Ångström", "changed", "37000.01", "02134"], *ORDERS_1[2:]]
    orders_5 = [["id", "customer", "note", "amount", "zip", "coupon"], ["9", "Hedy", "new column", "4", "20500", "X1"]]
    orders_6 = [ORDERS_1[0], ["10", "Barbara", "same time, new name", "5", "30301"]]
    fixed = [["id", "customer"], ["11", "Fixed"]]
    fixed_3 = ORDERS_3 + [["7", "Whole row", "uploaded again", "1", "11111"]]
    put_local(folder, "2024/orders_1.csv", csv_bytes(changed_1, bom=True), at(9))
    put_local(folder, "orders_5.csv", csv_bytes(orders_5), at(8))
    put_local(folder, "orders_6.csv", csv_bytes(orders_6), at(5))
    put_local(folder, "orders_bad.csv", csv_bytes(fixed), at(3))
    put_local(folder, "orders_3.csv", csv_bytes(fixed_3), at(5))
    put_local(folder, "orders_7.csv.gz", gzip.compress(csv_bytes(orders_7)), at(4))

    second = fivetran_debug(project, configuration, tool_env)

    assert files_read(second, "orders") == [
        "orders_bad.csv",
        "orders_7.csv.gz",
        "orders_3.csv",
        "orders_6.csv",
        "orders_5.csv",
        "2024/orders_1.csv",
    ]
    assert "orders: 7 of 9 files are new, changed or to retry" in second
    assert "Sync summary: 1 files could not be read" in second and "orders: orders_joined.csv (line 3" in second
    expected.update(expected_from_csv("2024/orders_1.csv", changed_1))
    expected.update(expected_from_csv("orders_5.csv", orders_5))
    expected.update(expected_from_csv("orders_6.csv", orders_6))
    expected.update(expected_from_csv("orders_bad.csv", fixed))
    expected.update(expected_from_csv("orders_3.csv", fixed_3))
    expected.update(expected_from_csv("orders_7.csv.gz", orders_7))
    assert_csv_rows(project, "orders", expected)
    state = read_state(project)["orders"]
    assert state["failed"].keys() == {"orders_joined.csv"}
    assert (state["modified"], state["paths"]) == ("2024-03-01T12:09:00.000000Z", ["2024/orders_1.csv"])

    put_local(folder, "orders_joined.csv", csv_bytes(ORDERS_4), at(4))
    third = fivetran_debug(project, configuration, tool_env)
    assert files_read(third, "orders") == ["orders_joined.csv"]
    assert "orders: 1 of 9 files are new, changed or to retry" in third
    expected.update(expected_from_csv("orders_joined.csv", ORDERS_4))
    assert_csv_rows(project, "orders", expected)
    assert read_state(project)["orders"]["failed"] == {}


# ---------------------------------------------------------------------------------------------------- local, JSON Lines


def jsonl(records: list[dict]) -> bytes:
    return b"".join(json.dumps(record, ensure_ascii=False).encode() + b"\n" for record in records)


def test_table_per_pattern_with_keys_and_a_restart_inside_a_big_file(template, tool_env, tmp_path):
    """Two tables by file-name pattern with their own primary keys; a sync that dies inside a big file resumes after
    the rows its last in-file checkpoint covers, and the rerun writes only the rest."""
    answers = {
        "source_type": "file",
        "file_format": "jsonl",
        "file_tables": [
            {"table": "orders", "pattern": "orders_*.jsonl*", "primary_key": "order_id"},
            {"table": "customers", "pattern": "customers/*.jsonl", "primary_key": "region,customer_id"},
        ],
    }
    project = render(template, tmp_path / "project", answers)
    # The owner's hook fails at order 550 while a marker file exists: a crash in the middle of the big file.
    marker = tmp_path / "crash-now"
    (project / "hooks.py").write_text(
        "from pathlib import Path\n\n\n"
        "def transform_record(table, record):\n"
        f"    if table == 'orders' and record['order_id'] == 550 and Path({str(marker)!r}).exists():\n"
        "        raise RuntimeError('simulated crash mid-file')\n"
        "    return record\n"
    )
    folder = tmp_path / "drops"
    orders = [
        {"order_id": n, "amount": 36999.26 + n, "ok": n % 2 == 0, "items": [{"sku": f"S{n}", "qty": 0.1}], "note": None}
        for n in range(1, 1001)
    ]
    customers = [
        {"region": "eu", "customer_id": 1, "name": "Zoë", "since": "2020-01-02T03:04:05Z", "big": 2**70},
        {"region": "us", "customer_id": 1, "name": "Ada", "since": "2021-05-06T07:08:09Z", "big": -1},
    ]
    put_local(folder, "orders_big.jsonl.gz", gzip.compress(jsonl(orders)), at(1))
    put_local(folder, "customers/all.jsonl", jsonl(customers), at(2))
    put_local(folder, "customers/notes.txt", b"ignored", at(2))
    configuration = {"folder": str(folder), "checkpoint_rows": "100"}
    marker.touch()

    with pytest.raises(SyncFailed) as failed:
        fivetran_debug(project, configuration, tool_env)
    assert "simulated crash mid-file" in failed.value.output
    assert read_state(project)["orders"]["resume"] == {
        "path": "orders_big.jsonl.gz",
        "modified": "2024-03-01T12:01:00.000000Z",
        "rows": 500,
    }

    marker.unlink()
    rerun = fivetran_debug(project, configuration, tool_env)
    assert "orders: resuming orders_big.jsonl.gz after row 500" in rerun
    assert "orders: orders_big.jsonl.gz: 1000 rows, 500 upserted" in rerun
    assert files_read(rerun, "customers") == ["customers/all.jsonl"]

    synced_orders = rows_by(project, "orders", ("order_id",))
    assert sorted(synced_orders) == [(n,) for n in range(1, 1001)]
    for record in orders:
        row = synced_orders[(record["order_id"],)]
        for column in ("amount", "ok", "items"):
            assert same_value(record[column], row[column]), (record["order_id"], column, row[column])
        assert row["_file"] == "orders_big.jsonl.gz" and row["_line"] == record["order_id"]
    synced_customers = rows_by(project, "customers", ("region", "customer_id"))
    assert sorted(synced_customers) == [("eu", 1), ("us", 1)]
    for record in customers:
        row = synced_customers[(record["region"], record["customer_id"])]
        assert row["name"] == record["name"] and same_value(record["since"], row["since"])
        assert str(row["big"]) == str(record["big"])  # beyond 64 bits: kept as text, not rounded
    state = read_state(project)
    assert "resume" not in state["orders"] and state["customers"]["paths"] == ["customers/all.jsonl"]


# ---------------------------------------------------------------------------------------------------- S3, Parquet


def parquet_bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, row_group_size=7)
    return buffer.getvalue()


def parquet_batch(first_id: int, count: int, extra_column: bool = False, seen_at: bool = False) -> pa.Table:
    ids = list(range(first_id, first_id + count))
    columns: dict[str, pa.Array] = {
        "id": pa.array(ids, pa.int64()),
        "price": pa.array([Decimal(f"{n}12345678901234567.123456789{n % 10}") for n in ids], pa.decimal128(38, 10)),
        "ratio": pa.array([n / 3 for n in ids], pa.float64()),
        "small": pa.array([n % 100 for n in ids], pa.int16()),
        "active": pa.array([n % 2 == 0 for n in ids], pa.bool_()),
        "at_utc": pa.array([at(n) for n in ids], pa.timestamp("us", tz="UTC")),
        "at_local": pa.array([datetime(2024, 1, 1, 8, 30) + timedelta(seconds=n) for n in ids], pa.timestamp("ms")),
        "day": pa.array([date(2024, 2, 1) + timedelta(days=n) for n in ids], pa.date32()),
        "name": pa.array([f"név {n} – ✓" if n % 5 else None for n in ids], pa.string()),
        "address": pa.array(
            [{"city": f"City {n}", "zip": f"{n:05d}"} for n in ids],
            pa.struct([("city", pa.string()), ("zip", pa.string())]),
        ),
        "tags": pa.array([[f"t{n}", "x"] for n in ids], pa.list_(pa.string())),
    }
    if extra_column:
        columns["channel"] = pa.array(["web"] * count, pa.string())
    if seen_at:  # nanoseconds in another zone: a column that the newest file, and so schema(), may lack
        moments = [at(n).astimezone(timezone(timedelta(hours=-5))) for n in ids]
        columns["seen_at"] = pa.array(moments, pa.timestamp("ns", tz="America/New_York"))
    return pa.table(columns)


def assert_parquet_rows(project: Path, table: pa.Table) -> None:
    rows = rows_by(project, "items", ("id",))
    for record in table.to_pylist():
        assert (record["id"],) in rows, f"item {record['id']} missing"
        row = rows[(record["id"],)]
        assert row["price"] == record["price"], "decimal(38,10) exact"
        assert row["ratio"] == record["ratio"]
        assert row["small"] == record["small"] and row["active"] is record["active"]
        assert row["at_utc"] == record["at_utc"]
        assert row["at_local"] == record["at_local"]
        assert row["day"] == record["day"]
        assert row["name"] == record["name"]
        assert json.loads(row["address"]) == record["address"]
        assert json.loads(row["tags"]) == record["tags"]
        if "channel" in record:
            assert row["channel"] == record["channel"]


def test_s3_parquet_keeps_types_and_second_sync_reads_only_new_files(template, tool_env, tmp_path):
    project = render(
        template,
        tmp_path / "project",
        {
            "source_type": "file",
            "file_storage": "s3",
            "file_format": "parquet",
            "file_table": "items",
            "primary_key": "id",
        },
    )
    assert (project / "requirements.txt").read_text().splitlines()[-2:] == ["pyarrow==26.0.1", "boto3==1.44.8"]
    first_batch, second_batch = parquet_batch(1, 40), parquet_batch(41, 15, extra_column=True)
    third_batch = parquet_batch(100, 20, seen_at=True)
    with fake_s3.FakeS3() as s3:
        s3.put("drops/part-1.parquet", parquet_bytes(first_batch), at(1))
        s3.put("drops/part-2.parquet", b"PAR1 this is not really parquet PAR1", at(2))
        # Every row of it decodes; only gzip's CRC and length, cut off with the upload, are missing.
        s3.put("drops/part-3.parquet", gzip.compress(parquet_bytes(third_batch))[:-8], at(2))
        s3.put("elsewhere/part-9.parquet", parquet_bytes(parquet_batch(900, 3)), at(3))
        configuration = {**s3.configuration(prefix="drops/"), "checkpoint_rows": "10000"}

        first = fivetran_debug(project, configuration, tool_env)

        assert files_read(first, "items") == ["part-1.parquet"]
        assert "items: part-2.parquet (" in first and "will be retried on the next sync" in first
        assert "cannot read part-3.parquet: EOFError" in first
        for broken in (parquet_batch(41, 1), parquet_batch(100, 1)):
            with pytest.raises(AssertionError):  # a test that can fail: the broken files have no rows
                assert_parquet_rows(project, broken)
        assert_parquet_rows(project, first_batch)
        assert len(warehouse_rows(project, "items")) == 40

        s3.put("drops/part-2.parquet", parquet_bytes(second_batch), at(4))
        s3.put("drops/part-3.parquet", gzip.compress(parquet_bytes(third_batch)), at(2))
        second = fivetran_debug(project, configuration, tool_env)

    assert files_read(second, "items") == ["part-3.parquet", "part-2.parquet"]
    assert len(warehouse_rows(project, "items")) == 75
    for batch in (first_batch, second_batch, third_batch):
        assert_parquet_rows(project, batch)
    # seen_at is only in an older file, so schema() did not declare it: its moments still land as timestamps.
    rows = rows_by(project, "items", ("id",))
    assert [rows[(n,)]["seen_at"] for n in range(100, 120)] == [at(n) for n in range(100, 120)]
    for secret in (fake_s3.SECRET_ACCESS_KEY, fake_s3.ACCESS_KEY_ID):
        assert secret not in first + second
    assert read_state(project)["items"]["failed"] == {}


# ---------------------------------------------------------------------------------------------------- Cloud Storage


def test_gcs_json_lines_from_an_emulator_with_a_cut_off_upload_then_only_new_and_repaired_files(
    template, tool_env, tmp_path
):
    """Cloud Storage through its emulator, anonymously via endpoint_url: gzip and plain JSON Lines under a prefix,
    an upload cut off (nothing of it lands), then a second sync that reads the repaired and the new file only."""
    project = render(
        template,
        tmp_path / "project",
        {
            "source_type": "file",
            "file_storage": "gcs",
            "file_format": "jsonl",
            "primary_key": "id",
            "file_pattern": "*.jsonl*",
        },
    )
    declare_in_columns_file(project, "records", {"id": "LONG", "name": "STRING", "amount": "STRING"})
    events = [{"id": n, "name": f"événement {n}", "amount": f"{n}.10"} for n in range(1, 8)]
    with fake_gcs.FakeGcs() as gcs:
        gcs.put("drops/2024/events_1.jsonl.gz", gzip.compress(jsonl(events[:3])))
        gcs.put("drops/events_2.jsonl", jsonl(events[3:5]))
        gcs.put("drops/events_3.jsonl.gz", gzip.compress(jsonl(events[5:6]))[:-8])
        gcs.put("elsewhere/events_9.jsonl", jsonl([{"id": 99}]))
        configuration = {**gcs.configuration(prefix="drops"), "checkpoint_rows": "10000"}
        first = fivetran_debug(project, configuration, tool_env)
        assert files_read(first, "records") == ["2024/events_1.jsonl.gz", "events_2.jsonl"]
        assert "cannot read events_3.jsonl.gz: EOFError" in first
        assert sorted(rows_by(project, "records", ("id",))) == [(n,) for n in range(1, 6)]

        gcs.put("drops/events_3.jsonl.gz", gzip.compress(jsonl(events[5:6])))
        gcs.put("drops/events_4.jsonl", jsonl(events[6:]))
        second = fivetran_debug(project, configuration, tool_env)
    assert files_read(second, "records") == ["events_3.jsonl.gz", "events_4.jsonl"]
    rows = rows_by(project, "records", ("id",))
    assert {key: (row["name"], row["amount"]) for key, row in rows.items()} == {
        (event["id"],): (event["name"], event["amount"]) for event in events
    }
    assert read_state(project)["records"]["failed"] == {}


# ----------------------------------------------------------------------------------------------- Azure Blob Storage


def test_azure_csv_from_azurite_with_a_ragged_upload_then_only_new_and_repaired_files(template, tool_env, tmp_path):
    """Azure Blob Storage through Azurite with a connection string: CSV under a prefix, a file whose last row was
    cut short (nothing of it lands), then a second sync that reads the repaired and the new file only; the account
    key never reaches the output."""
    project = render(
        template,
        tmp_path / "project",
        {"source_type": "file", "file_storage": "azure", "file_pattern": "*.csv", "file_table": "orders"},
    )
    cut = ORDERS_3 + [["7", "Cut"]]
    with fake_azure.FakeAzure(tmp_path / "azurite") as azure:
        azure.put("incoming/2024/orders_1.csv", csv_bytes(ORDERS_1))
        azure.put("incoming/orders_2.csv", csv_bytes(cut))
        azure.put("other/orders_9.csv", csv_bytes(ORDERS_4))
        configuration = {**azure.configuration(prefix="incoming/"), "checkpoint_rows": "10000"}
        first = fivetran_debug(project, configuration, tool_env)
        assert files_read(first, "orders") == ["2024/orders_1.csv"]
        assert "cannot read orders_2.csv: line 3 has 2 fields where the header has 5" in first
        expected = expected_from_csv("2024/orders_1.csv", ORDERS_1)
        assert_csv_rows(project, "orders", expected)

        repaired = ORDERS_3 + [["7", "Whole", "uploaded again", "1", "11111"]]
        azure.put("incoming/orders_2.csv", csv_bytes(repaired))
        azure.put("incoming/orders_3.csv", csv_bytes(ORDERS_4))
        second = fivetran_debug(project, configuration, tool_env)
    assert sorted(files_read(second, "orders")) == ["orders_2.csv", "orders_3.csv"]
    expected.update(expected_from_csv("orders_2.csv", repaired))
    expected.update(expected_from_csv("orders_3.csv", ORDERS_4))
    assert_csv_rows(project, "orders", expected)
    assert fake_azure.ACCOUNT_KEY not in first + second


# ---------------------------------------------------------------------------------------------------- SFTP, JSON


def test_sftp_json_with_a_private_key_then_only_changed_files(template, tool_env, tmp_path):
    project = render(
        template,
        tmp_path / "project",
        {
            "source_type": "file",
            "file_storage": "sftp",
            "sftp_auth": "private_key",
            "file_format": "json",
            "file_pattern": "**/*.json*",
            "primary_key": "sku",
        },
    )
    root = tmp_path / "sftp-root"
    products = [{"sku": f"P{n}", "price": 19.99 + n, "attributes": {"color": "rød", "size": n}} for n in range(30)]
    put_local(root, "upload/2024/products.json.gz", gzip.compress(json.dumps(products).encode()), at(1))
    put_local(root, "upload/single.json", json.dumps({"sku": "ONE", "price": 1.1}).encode(), at(2))
    put_local(root, "upload/broken.json", b'[{"sku": "B1"}, {"sku": ', at(3))
    cut = [{"sku": "C1", "price": 3.5}, {"sku": "C2", "price": 4.5}]
    put_local(root, "upload/2024/cut.json.gz", gzip.compress(json.dumps(cut).encode())[:-8], at(3))
    key, private_text = fake_sftp.client_key_pair()
    with fake_sftp.FakeSftp(root, client_key=key) as server:
        configuration = {
            **server.configuration(remote_path="/upload"),
            "private_key": private_text,
            "host_key": server.host_key_line(),
            "checkpoint_rows": "10000",
        }
        first = fivetran_debug(project, configuration, tool_env)
        assert files_read(first, "records") == ["2024/products.json.gz", "single.json"]
        assert re.search(r"cannot read broken\.json: element 2: ", first)
        assert "cannot read 2024/cut.json.gz: EOFError" in first
        assert rows_by(project, "records", ("sku",)).keys().isdisjoint({("B1",), ("C1",), ("C2",)})

        changed = [dict(products[0], price=5.05), {"sku": "P99", "price": 0.3}]
        repaired = [{"sku": "B1", "price": 7.25}, {"sku": "B2", "price": 8.25}]
        put_local(root, "upload/2024/products.json.gz", gzip.compress(json.dumps(changed).encode()), at(4))
        put_local(root, "upload/2024/cut.json.gz", gzip.compress(json.dumps(cut).encode()), at(3))
        put_local(root, "upload/broken.json", json.dumps(repaired).encode(), at(3))
        second = fivetran_debug(project, configuration, tool_env)
        assert files_read(second, "records") == ["2024/cut.json.gz", "broken.json", "2024/products.json.gz"]
        assert "could not be read" not in second

        other_host_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherKeyOtherKeyOtherKeyOtherKey"
        wrong_key = {**configuration, "host_key": other_host_key}
        with pytest.raises(SyncFailed) as refused:
            fivetran_debug(project, wrong_key, tool_env)
        assert "offered a different host key than host_key" in refused.value.output

    rows = rows_by(project, "records", ("sku",))
    expected = {
        record["sku"]: record for record in [*products, {"sku": "ONE", "price": 1.1}, *changed, *cut, *repaired]
    }
    assert sorted(rows) == sorted((sku,) for sku in expected)
    for sku, record in expected.items():
        row = rows[(sku,)]
        if "price" in record:
            assert same_value(record["price"], row["price"]), (sku, row["price"])
        if "attributes" in record:
            assert json.loads(row["attributes"]) == record["attributes"]
    assert "BEGIN OPENSSH PRIVATE KEY" not in first + second


# ---------------------------------------------------------------------------------------------------- Excel and Avro


def workbook(rows: list[list[Any]], sheet: str, header_row: int) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Cover"
    book.active["A1"] = "a sheet the connector does not read"
    data = book.create_sheet(sheet)
    data["A1"] = "Orders export, generated 2024-03-01"
    for offset, row in enumerate(rows):
        for column, value in enumerate(row, start=1):
            data.cell(row=header_row + offset, column=column, value=value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


EXCEL_HEADER = ["id", "zip", "amount", "count", "ordered_at", "ship_date", "paid", "note"]


def excel_row(number: int) -> list[Any]:
    return [
        number,
        f"{number:05d}",  # text with leading zeros
        Decimal(f"{number}9999.26"),  # written as a double, shown as 19999.26
        number * 10,
        datetime(2024, 1, number, 10, 30, 15),
        date(2024, 2, number),
        number % 2 == 0,
        "TRUE" if number == 3 else ("långt " * 500 if number == 4 else f"note {number} – ✓"),
    ]


def assert_excel_rows(project: Path, rows: list[list[Any]]) -> None:
    landed = rows_by(project, "orders", ("id",))
    assert sorted(landed) == sorted((row[0],) for row in rows)
    for row in rows:
        actual = landed[(row[0],)]
        expected = dict(zip(EXCEL_HEADER, row, strict=True))
        assert actual["zip"] == expected["zip"] and actual["note"] == expected["note"], row[0]
        assert Decimal(repr(actual["amount"])) == expected["amount"], (row[0], actual["amount"])
        assert actual["count"] == expected["count"] and type(actual["count"]) is int
        assert actual["ordered_at"] == expected["ordered_at"] and actual["ship_date"] == expected["ship_date"]
        assert actual["paid"] is expected["paid"]


def test_excel_cells_land_with_their_types_and_a_cut_off_workbook_lands_nothing(template, tool_env, tmp_path):
    """A named sheet under title rows: whole numbers, decimals, text with leading zeros (and text that reads TRUE),
    date-times and dates keep their types through `invoke test`'s columns.py; a workbook cut off in its upload lands
    nothing and its repaired version lands whole."""
    answers = {
        "source_type": "file",
        "file_format": "xlsx",
        "file_pattern": "orders_*.xlsx",
        "file_table": "orders",
        "primary_key": "id",
        "xlsx_sheet": "Orders",
        "xlsx_header_row": "3",
    }
    project = render(template, tmp_path / "project", answers)
    folder = tmp_path / "drops"
    first_rows = [excel_row(n) for n in (1, 2, 3, 4)]
    put_local(folder, "orders_1.xlsx", workbook([EXCEL_HEADER, *first_rows], "Orders", 3), at(1))
    tested = invoke(project, {**tool_env, "CONNECTOR_FOLDER": str(folder)}, "test", "--skip-unit")
    assert tested.returncode == 0, tested.stdout[-4000:] + tested.stderr[-2000:]
    assert declared_columns(project)["orders"] == {
        "id": "LONG",
        "zip": "STRING",
        "amount": "DOUBLE",
        "count": "LONG",
        "ordered_at": "NAIVE_DATETIME",
        "ship_date": "NAIVE_DATE",
        "paid": "BOOLEAN",
        "note": "STRING",
        **FILE_COLUMNS,
    }
    assert_excel_rows(project, first_rows)

    cut = workbook([EXCEL_HEADER, excel_row(5), excel_row(6)], "Orders", 3)
    put_local(folder, "orders_2.xlsx", cut[: len(cut) - 100], at(2))
    put_local(folder, "orders_3.xlsx", workbook([EXCEL_HEADER, excel_row(7)], "Orders", 3), at(3))
    configuration = {"folder": str(folder), "checkpoint_rows": "10000"}
    second = fivetran_debug(project, configuration, tool_env)
    assert files_read(second, "orders") == ["orders_3.xlsx"]
    assert "cannot read orders_2.xlsx: not an .xlsx workbook" in second
    assert_excel_rows(project, [*first_rows, excel_row(7)])

    put_local(folder, "orders_2.xlsx", cut, at(2))
    third = fivetran_debug(project, configuration, tool_env)
    assert files_read(third, "orders") == ["orders_2.xlsx"]
    assert_excel_rows(project, [*first_rows, excel_row(5), excel_row(6), excel_row(7)])


AVRO_SCHEMA = {
    "type": "record",
    "name": "Payment",
    "namespace": "vendor.exports",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 38, "scale": 10}},
        {
            "name": "fee",
            "type": [
                "null",
                {"type": "fixed", "name": "Fee", "size": 8, "logicalType": "decimal", "precision": 12, "scale": 2},
            ],
        },
        {"name": "paid_at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "booked_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "local_at", "type": {"type": "long", "logicalType": "local-timestamp-micros"}},
        {"name": "value_date", "type": {"type": "int", "logicalType": "date"}},
        {"name": "cutoff", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "reference", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "rate", "type": "double"},
        {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["PAID", "REFUNDED"]}},
        {"name": "memo", "type": ["null", "string"]},
        {"name": "raw", "type": "bytes"},
        {"name": "payer", "type": {"type": "record", "name": "Payer", "fields": [{"name": "iban", "type": "string"}]}},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
    ],
}


def avro_payment(number: int) -> dict[str, Any]:
    return {
        "id": number,
        "amount": Decimal(f"{number}2345678901234567.123456789{number % 10}"),
        "fee": Decimal(f"{number}.05") if number % 3 else None,
        "paid_at": datetime(2024, 3, 1, 12, 0, 0, 123456, tzinfo=UTC) + timedelta(hours=number),
        "booked_at": datetime(2024, 3, 1, 12, 0, 0, 123000, tzinfo=UTC) + timedelta(hours=number),
        "local_at": datetime(2024, 3, 1, 8, 30, 0, 654321) + timedelta(hours=number),
        "value_date": date(2024, 3, number),
        "cutoff": time(17, 30, 0, 250000),
        "reference": f"5f0c3c2e-8a4b-4f51-9c1e-2f6d3a7b8c{number:02d}",
        "rate": number / 3,
        "status": "PAID" if number % 2 else "REFUNDED",
        "memo": None if number == 2 else f"mémo {number}",
        "raw": bytes([number, 0, 255]),
        "payer": {"iban": f"SE45 5000 0000 0583 9825 74{number:02d}"},
        "tags": ["a", f"t{number}"],
    }


def avro_bytes(payments: list[dict[str, Any]]) -> bytes:
    import fastavro

    buffer = io.BytesIO()
    fastavro.writer(buffer, AVRO_SCHEMA, payments, codec="deflate")
    return buffer.getvalue()


def assert_avro_rows(project: Path, payments: list[dict[str, Any]]) -> None:
    landed = rows_by(project, "payments", ("id",))
    assert sorted(landed) == sorted((payment["id"],) for payment in payments)
    for payment in payments:
        row = landed[(payment["id"],)]
        assert row["amount"] == payment["amount"] and row["fee"] == payment["fee"], "decimals exact"
        assert row["paid_at"] == payment["paid_at"] and row["booked_at"] == payment["booked_at"]
        assert row["local_at"] == payment["local_at"] and row["value_date"] == payment["value_date"]
        assert row["cutoff"] == "17:30:00.250000" and row["reference"] == payment["reference"]
        assert row["rate"] == payment["rate"] and row["status"] == payment["status"] and row["memo"] == payment["memo"]
        assert bytes(row["raw"]) == payment["raw"]
        assert json.loads(row["payer"]) == payment["payer"] and json.loads(row["tags"]) == payment["tags"]


def test_avro_logical_types_land_exactly_from_s3_and_a_corrupt_file_lands_nothing(template, tool_env, tmp_path):
    """Decimals (bytes and fixed), timestamps in millis and micros, local timestamps, dates, times, UUIDs, enums,
    bytes, nested records and arrays, from the writer's schema; a file whose last block is damaged lands nothing."""
    answers = {
        "source_type": "file",
        "file_storage": "s3",
        "file_format": "avro",
        "file_pattern": "*.avro",
        "file_table": "payments",
        "primary_key": "id",
    }
    project = render(template, tmp_path / "project", answers)
    first = [avro_payment(n) for n in (1, 2, 3)]
    damaged = avro_bytes([avro_payment(n) for n in (4, 5)])
    damaged = damaged[:-20] + bytes(byte ^ 0x5A for byte in damaged[-20:])  # its last block and sync marker
    with fake_s3.FakeS3() as s3:
        s3.put("exports/payments_1.avro", avro_bytes(first), at(1))
        s3.put("exports/payments_2.avro", damaged, at(2))
        configuration = {**s3.configuration(prefix="exports/"), "checkpoint_rows": "10000"}
        first_sync = fivetran_debug(project, configuration, tool_env)
        assert files_read(first_sync, "payments") == ["payments_1.avro"]
        assert "cannot read payments_2.avro" in first_sync
        assert_avro_rows(project, first)

        s3.put("exports/payments_2.avro", avro_bytes([avro_payment(n) for n in (4, 5)]), at(3))
        second_sync = fivetran_debug(project, configuration, tool_env)
    assert files_read(second_sync, "payments") == ["payments_2.avro"]
    assert_avro_rows(project, [avro_payment(n) for n in (1, 2, 3, 4, 5)])


# ---------------------------------------------------------------------------------------------------- deleted files


def live_and_deleted(project: Path, table: str, key: tuple[str, ...]) -> tuple[dict[tuple, dict], set[tuple]]:
    rows = rows_by(project, table, key)
    live = {k: row for k, row in rows.items() if not row["_fivetran_deleted"]}
    return live, {k for k, row in rows.items() if row["_fivetran_deleted"]}


def test_detect_deletes_marks_the_lines_of_gone_and_shortened_files_deleted(template, tool_env, tmp_path):
    """With the `_file`, `_line` key: a gone file's lines and a shortened file's last lines are deleted by key, and
    the files left are not read again."""
    project = render(template, tmp_path / "project", {"source_type": "file", "file_pattern": "orders_*.csv"})
    folder = tmp_path / "drops"
    put_local(folder, "orders_1.csv", csv_bytes(ORDERS_1), at(1))
    put_local(folder, "orders_2.csv", csv_bytes(ORDERS_2 + [["5", "Ada", "second row", "2", "12345"]]), at(2))
    put_local(folder, "orders_4.csv", csv_bytes(ORDERS_4), at(3))
    configuration = {"folder": str(folder), "checkpoint_rows": "10000", "detect_deletes": "true"}
    fivetran_debug(project, configuration, tool_env)
    assert read_state(project)["orders"]["files"] == {"orders_1.csv": 3, "orders_2.csv": 2, "orders_4.csv": 1}

    (folder / "orders_2.csv").unlink()
    put_local(folder, "orders_1.csv", csv_bytes(ORDERS_1[:2]), at(4))  # one of its three rows left
    second = fivetran_debug(project, configuration, tool_env)

    assert "orders: 1 files are gone (orders_2.csv); their rows are marked deleted" in second
    assert files_read(second, "orders") == ["orders_1.csv"]
    live, deleted = live_and_deleted(project, "orders", ("_file", "_line"))
    assert sorted(live) == [("orders_1.csv", 1), ("orders_4.csv", 1)]
    assert deleted == {("orders_1.csv", 2), ("orders_1.csv", 3), ("orders_2.csv", 1), ("orders_2.csv", 2)}
    assert read_state(project)["orders"]["files"] == {"orders_1.csv": 1, "orders_4.csv": 1}


def test_detect_deletes_with_a_data_key_reads_the_remaining_files_again(template, tool_env, tmp_path):
    """With a key from the data, a gone file's keys may be in other files too: the table is truncated and every
    remaining file read again, so a key the gone file had updated returns to the remaining file's values and a key
    only it held is deleted. Without detect_deletes the rows stay."""
    project = render(
        template,
        tmp_path / "project",
        {"source_type": "file", "file_format": "jsonl", "primary_key": "id", "file_table": "customers"},
    )
    declare_in_columns_file(project, "customers", {"id": "LONG", "name": "STRING"})
    folder = tmp_path / "drops"
    put_local(folder, "2024/customers_1.jsonl", jsonl([{"id": n, "name": f"first {n}"} for n in (1, 2, 3)]), at(1))
    put_local(folder, "customers_2.jsonl", jsonl([{"id": 3, "name": "updated 3"}, {"id": 4, "name": "new 4"}]), at(2))
    configuration = {"folder": str(folder), "checkpoint_rows": "10000", "detect_deletes": "false"}
    fivetran_debug(project, configuration, tool_env)
    assert "files" not in read_state(project)["customers"]

    configuration["detect_deletes"] = "true"  # turned on later: the files synced so far are known, counts unknown
    fivetran_debug(project, configuration, tool_env)
    assert read_state(project)["customers"]["files"] == {"2024/customers_1.jsonl": None, "customers_2.jsonl": None}

    (folder / "customers_2.jsonl").unlink()
    third = fivetran_debug(project, configuration, tool_env)

    assert "customers: 1 files are gone (customers_2.jsonl); the table is truncated and read again" in third
    assert files_read(third, "customers") == ["2024/customers_1.jsonl"]
    live, deleted = live_and_deleted(project, "customers", ("id",))
    assert {key: row["name"] for key, row in live.items()} == {(1,): "first 1", (2,): "first 2", (3,): "first 3"}
    assert deleted == {(4,)}
    assert read_state(project)["customers"]["files"] == {"2024/customers_1.jsonl": 3}

    configuration["detect_deletes"] = "maybe"
    with pytest.raises(SyncFailed) as refused:
        fivetran_debug(project, configuration, tool_env)
    assert "detect_deletes must be true or false, got 'maybe'" in refused.value.output


# ---------------------------------------------------------------------------------------------------- FTP and FTPS


def test_ftps_csv_checks_the_certificate_reconnects_after_a_drop_and_lands_only_whole_files(
    template, tool_env, tmp_path
):
    """Explicit TLS with the server's certificate checked against `ca_cert` (refused without it), passive mode,
    MLSD listing of subfolders, a control connection dropped during a download (reconnected, downloaded again), a
    gzip upload cut off among the good files (nothing of it lands), then a second sync that reads only the repaired
    and the new file."""
    project = render(
        template,
        tmp_path / "project",
        {"source_type": "file", "file_storage": "ftps", "file_pattern": "**/*.csv*", "file_table": "orders"},
    )
    root = tmp_path / "ftp-root"
    cut = [ORDERS_1[0], ["20", "Cut", "upload stopped", "1", "00001"]]
    put_local(root, "upload/2024/orders_1.csv", csv_bytes(ORDERS_1), at(1))
    put_local(root, "upload/orders_2.csv", csv_bytes(ORDERS_2), at(2))
    put_local(root, "upload/2024/cut.csv.gz", gzip.compress(csv_bytes(cut))[:-8], at(3))
    with fake_ftp.FakeFtp(root, tls=True, drop_first_download={"upload/orders_2.csv"}) as server:
        configuration = {
            **server.configuration(remote_path="/upload"),
            "ca_cert": fake_ftp.ca_certificate_pem().replace("\n", "\\n"),  # as a one-line form field holds it
            "checkpoint_rows": "10000",
        }
        untrusted = {**configuration, "ca_cert": ""}
        with pytest.raises(SyncFailed) as refused:
            fivetran_debug(project, untrusted, tool_env)
        assert "has a certificate this connector does not trust" in refused.value.output
        assert "set ca_cert" in refused.value.output

        first = fivetran_debug(project, configuration, tool_env)

        assert files_read(first, "orders") == ["2024/orders_1.csv", "orders_2.csv"]
        assert re.search(r"downloading orders_2\.csv: \w+.*; reconnecting \(attempt 2 of 4\)", first)
        assert server.downloads.count("upload/orders_2.csv") == 2
        assert "MLSD" in server.commands and "LIST" not in server.commands and "MDTM" not in server.commands
        assert "cannot read 2024/cut.csv.gz: EOFError" in first
        expected = {**expected_from_csv("2024/orders_1.csv", ORDERS_1), **expected_from_csv("orders_2.csv", ORDERS_2)}
        assert_csv_rows(project, "orders", expected)

        put_local(root, "upload/2024/cut.csv.gz", gzip.compress(csv_bytes(cut)), at(3))
        put_local(root, "upload/orders_3.csv", csv_bytes(ORDERS_3), at(4))
        server.downloads.clear()
        second = fivetran_debug(project, configuration, tool_env)

    assert files_read(second, "orders") == ["2024/cut.csv.gz", "orders_3.csv"]
    assert server.downloads == ["upload/2024/cut.csv.gz", "upload/orders_3.csv"]
    expected.update(expected_from_csv("2024/cut.csv.gz", cut))
    expected.update(expected_from_csv("orders_3.csv", ORDERS_3))
    assert_csv_rows(project, "orders", expected)
    assert read_state(project)["orders"]["failed"] == {}
    assert fake_ftp.PASSWORD not in first + second + refused.value.output


def test_plain_ftp_without_mlsd_lists_with_list_and_mdtm(template, tool_env, tmp_path):
    """A server that does not know MLSD is listed with LIST and MDTM: files in subfolders with their exact modified
    times, so that the second sync reads only the changed and the repaired file; a file whose last line was cut off
    mid-record lands nothing until it is whole."""
    project = render(
        template,
        tmp_path / "project",
        {"source_type": "file", "file_storage": "ftp", "file_format": "jsonl", "primary_key": "id"},
    )
    declare_in_columns_file(project, "records", {"name": "STRING", "amount": "STRING", "code": "STRING"})
    root = tmp_path / "ftp-root"
    events = [{"id": n, "name": f"événement {n}", "amount": "10.00", "code": "007"} for n in range(1, 8)]
    put_local(root, "drops/2024/03/events.jsonl", jsonl(events[:3]), at(1))
    put_local(root, "drops/more events.jsonl", jsonl(events[3:5]), at(2))
    put_local(root, "drops/cut.jsonl", jsonl(events[5:])[:-12], at(3))
    with fake_ftp.FakeFtp(root, mlsd=False) as server:
        configuration = {**server.configuration(remote_path="/drops"), "checkpoint_rows": "10000"}
        first = fivetran_debug(project, configuration, tool_env)
        assert "MLSD" not in server.commands and {"LIST", "MDTM"} <= set(server.commands)
        assert files_read(first, "records") == ["2024/03/events.jsonl", "more events.jsonl"]
        assert "cannot read cut.jsonl: line 2 is not JSON" in first
        assert sorted(rows_by(project, "records", ("id",))) == [(n,) for n in range(1, 6)]  # not 6, cut's first
        state = read_state(project)["records"]
        assert (state["modified"], state["paths"]) == ("2024-03-01T12:03:00.000000Z", ["cut.jsonl"])

        changed = [dict(events[0], amount="11.50")]
        put_local(root, "drops/2024/03/events.jsonl", jsonl(changed), at(5))
        put_local(root, "drops/cut.jsonl", jsonl(events[5:]), at(3))
        second = fivetran_debug(project, configuration, tool_env)

    assert files_read(second, "records") == ["cut.jsonl", "2024/03/events.jsonl"]
    rows = rows_by(project, "records", ("id",))
    assert sorted(rows) == [(n,) for n in range(1, 8)]
    for record in [*events[1:], *changed]:
        row = rows[(record["id"],)]
        assert (row["name"], row["amount"], row["code"]) == (record["name"], record["amount"], record["code"])
    assert fake_ftp.PASSWORD not in first + second


# ---------------------------------------------------------------------------------------------------- invoke test


@pytest.mark.parametrize(
    ("file_format", "pattern", "extra", "sample"),
    [
        ("csv", "", {}, "sample.csv"),
        ("parquet", "", {}, "sample.parquet"),
        ("avro", "", {}, "sample.avro"),
        ("xlsx", "", {"xlsx_sheet": "Daily orders", "xlsx_header_row": "2"}, "sample.xlsx"),
        ("csv", "Acme Drops/**/report_[0-9][0-9]-*.csv", {}, "Acme Drops/report_00-sample.csv"),
    ],
    ids=["csv", "parquet", "avro", "xlsx_named_sheet_header_below_a_title", "csv_in_a_folder_with_character_classes"],
)
def test_invoke_test_passes_right_after_copy_with_the_sample_files(
    file_format, pattern, extra, sample, template, tool_env, tmp_path
):
    """A local-folder project points at its sample_data folder, holding a sample file its first table's pattern
    matches (an Excel sample written for the answered sheet and header row), so its owner's first `invoke test`
    syncs twice."""
    answers = {
        "source_type": "file",
        "file_format": file_format,
        **extra,
        **({"file_pattern": pattern} if pattern else {}),
    }
    project = render(template, tmp_path / "project", answers)
    assert (project / "sample_data" / sample).is_file()
    result = invoke(project, tool_env, "test")
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert "All checks passed." in result.stdout
    table = "report" if pattern else "records"
    rows = rows_by(project, table, ("_file", "_line"))
    assert sorted(rows) == [(sample, line) for line in range(1, 5)]
    assert {row["name"] for row in rows.values()} == {"Ada Lovelace", "Zoë Ångström", "Grace Hopper", "山田 太郎"}


# ---------------------------------------------------------------------------------------------------- setup tests

SETUP_TEST = """
import json, sys
import connector
for configuration in json.loads(sys.argv[1]):
    result = connector.connection_test(configuration)
    print(json.dumps({"success": result.success, "failure": result.failure}))
"""


def setup_test_results(project: Path, configurations: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The generated connector's setup test, run as Fivetran runs it, once per configuration."""
    command = [sys.executable, "-c", SETUP_TEST, json.dumps(configurations)]
    process = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=120)
    assert process.returncode == 0, process.stderr[-3000:]
    return [json.loads(line) for line in process.stdout.splitlines() if line.startswith("{")]


def test_setup_tests_list_real_servers_and_name_what_is_wrong_without_secrets(template, tmp_path):
    root = tmp_path / "files"
    put_local(root, "upload/a.csv", csv_bytes(ORDERS_2), at(1))
    sftp_project = render(template, tmp_path / "sftp", {"source_type": "file", "file_storage": "sftp"})
    s3_project = render(template, tmp_path / "s3", {"source_type": "file", "file_storage": "s3"})
    ftps_project = render(template, tmp_path / "ftps", {"source_type": "file", "file_storage": "ftps"})
    with fake_ftp.FakeFtp(root, tls=True) as ftp_server:
        ftps = {**ftp_server.configuration("/upload"), "ca_cert": fake_ftp.ca_certificate_pem()}
        ftps_results = setup_test_results(
            ftps_project,
            [
                ftps,
                {**ftps, "password": "wrong-password"},
                {**ftps, "remote_path": "/nowhere"},
                {**ftps, "ca_cert": ""},
                {**ftps, "ca_cert": "not a certificate"},
            ],
        )
    assert ftps_results[0] == {"success": True, "failure": None}
    assert "FTPS login as vendor" in ftps_results[1]["failure"] and "wrong-password" not in ftps_results[1]["failure"]
    assert "cannot list remote_path '/nowhere'" in ftps_results[2]["failure"]
    assert "has a certificate this connector does not trust" in ftps_results[3]["failure"]
    assert "ca_cert is not a PEM certificate" in ftps_results[4]["failure"]
    assert fake_ftp.PASSWORD not in json.dumps(ftps_results)
    azure_project = render(template, tmp_path / "azure", {"source_type": "file", "file_storage": "azure"})
    with fake_azure.FakeAzure(tmp_path / "azurite") as azure:
        azure.put("a.csv", csv_bytes(ORDERS_2))
        good = azure.configuration()
        wrong_key = good["connection_string"].replace(fake_azure.ACCOUNT_KEY, "d3Jvbmc=" * 11)
        sas_url = {**good, "connection_string": azure.account_url_with_sas(list_and_read=True)}
        read_only_sas = {**good, "connection_string": azure.account_url_with_sas(list_and_read=False)}
        azure_results = setup_test_results(
            azure_project,
            [
                good,
                sas_url,
                read_only_sas,
                {**good, "container": "no-such-container"},
                {**good, "connection_string": wrong_key},
                {**good, "connection_string": "not a connection string"},
            ],
        )
    assert azure_results[0] == azure_results[1] == {"success": True, "failure": None}
    assert "Azure refused the credentials" in azure_results[2]["failure"]  # a SAS that may read but not list
    assert "container 'no-such-container' does not exist" in azure_results[3]["failure"]
    assert "Azure refused the credentials" in azure_results[4]["failure"]
    assert "connection_string is not an Azure Storage connection string" in azure_results[5]["failure"]
    assert fake_azure.ACCOUNT_KEY not in json.dumps(azure_results) and "sig=" not in json.dumps(azure_results)
    gcs_project = render(template, tmp_path / "gcs", {"source_type": "file", "file_storage": "gcs"})
    with fake_gcs.FakeGcs() as gcs:
        gcs.put("a.csv", csv_bytes(ORDERS_2))
        good = gcs.configuration()
        gcs_results = setup_test_results(
            gcs_project,
            [
                good,
                {**good, "bucket": "no-such-bucket"},
                {**good, "service_account_json": '{"type": "service_account"'},
            ],
        )
    assert gcs_results[0] == {"success": True, "failure": None}
    assert "bucket 'no-such-bucket' does not exist" in gcs_results[1]["failure"]
    assert "service_account_json is not a service account key" in gcs_results[2]["failure"]
    with fake_sftp.FakeSftp(root) as server, fake_s3.FakeS3() as s3:
        s3.put("a.csv", csv_bytes(ORDERS_2), at(1))
        sftp = {**server.configuration("/upload"), "password": fake_sftp.PASSWORD, "host_key": server.host_key_line()}
        sftp_results = setup_test_results(
            sftp_project,
            [sftp, {**sftp, "password": "wrong-password"}, {**sftp, "remote_path": "/nowhere"}, {**sftp, "port": "x"}],
        )
        s3_results = setup_test_results(
            s3_project,
            [
                s3.configuration(),
                {**s3.configuration(), "bucket": "no-such-bucket"},
                {**s3.configuration(), "aws_secret_access_key": "<AWS_SECRET_ACCESS_KEY>"},
            ],
        )
    assert sftp_results[0] == {"success": True, "failure": None}
    assert "SFTP login as vendor" in sftp_results[1]["failure"] and "wrong-password" not in sftp_results[1]["failure"]
    assert "remote_path '/nowhere' does not exist" in sftp_results[2]["failure"]
    assert "port must be a number" in sftp_results[3]["failure"]
    assert s3_results[0] == {"success": True, "failure": None}
    assert "NoSuchBucket; check the bucket setting" in s3_results[1]["failure"]
    assert "replace the placeholder value of aws_secret_access_key" in s3_results[2]["failure"]
    assert fake_s3.SECRET_ACCESS_KEY not in json.dumps(s3_results)


# ---------------------------------------------------------------------------------------------------- copier update


def test_copier_update_switches_format_and_login_keeping_the_owners_values(template, tmp_path):
    """A file project follows a changed answer through `copier update`: the chosen code replaces the old, the owner's
    configuration values stay, and the new secret arrives as a placeholder."""
    import copier

    project = render(template, tmp_path / "project", {"source_type": "file", "file_storage": "sftp"})
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.com"]
    configuration = project / "configuration.json"
    configuration.write_text(configuration.read_text().replace("sftp.example.com", "sftp.acme.example"))
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "owner's project"]):
        subprocess.run([*git, *command], cwd=project, check=True)

    copier.run_update(
        str(project),
        data={"file_format": "parquet", "sftp_auth": "private_key"},
        defaults=True,
        unsafe=True,
        quiet=True,
        overwrite=True,
    )

    values = json.loads(configuration.read_text())
    assert values["host"] == "sftp.acme.example" and values["private_key"] == "<PRIVATE_KEY>"
    assert not list(project.rglob("*.rej"))
    assert (
        "pyarrow" in (project / "file_readers.py").read_text()
        and "import csv" not in (project / "file_readers.py").read_text()
    )
    assert (project / "requirements.txt").read_text().splitlines()[-2:] == ["pyarrow==26.0.1", "paramiko==5.1.0"]
    assert project_tests(project).returncode == 0


# ---------------------------------------------------------------------------------------------------- exact values

TEXT_THAT_LOOKS_LIKE_OTHER_VALUES = [
    ["id", "zip", "amount", "flag", "when", "empty", "digits", "exponent", "note"],
    ["007", "02134", "10.00", "true", "2024-01-01T10:00:00Z", "", "18446744073709551616", "1e5", 'Zoë, "quoted"'],
    ["7", "00501", "10.0", "FALSE", "2024-01-01T10:00:00.000001+05:30", "", "20240101", "1E5", " "],
    ["1704103200.000010", "10001", "-0.50", "t", "2024-02-29T23:59:59Z", "x", "0", "NaN", ""],
]
CSV_DECLARATIONS = {name: "STRING" for name in TEXT_THAT_LOOKS_LIKE_OTHER_VALUES[0]}
FILE_COLUMNS = {"_file": "STRING", "_line": "LONG", "_modified": "STRING"}


def csv_source(path: str, modified: str, rows: list[list[str]]) -> list[dict[str, Any]]:
    header, *data = rows
    return [
        {**dict(zip(header, row, strict=True)), "_file": path, "_line": number, "_modified": modified}
        for number, row in enumerate(data, start=1)
    ]


def test_csv_text_lands_as_the_same_text_unless_the_owner_declares_a_type(template, tool_env, tmp_path):
    """Every CSV field is text and lands as the same text, whatever it looks like, "" apart from null; the types the
    owner declares in columns.py convert the text exactly, and a field that does not convert names what to fix."""
    project = render(template, tmp_path / "project", {"source_type": "file", "file_pattern": "*.csv"})
    folder = tmp_path / "drops"
    put_local(folder, "values.csv", csv_bytes(TEXT_THAT_LOOKS_LIKE_OTHER_VALUES), at(1))
    environment = {**tool_env, "CONNECTOR_FOLDER": str(folder)}
    tested = invoke(project, environment, "test", "--skip-unit")
    assert tested.returncode == 0, tested.stdout[-4000:] + tested.stderr[-2000:]
    declarations = {**CSV_DECLARATIONS, **FILE_COLUMNS}
    assert declared_columns(project) == {"records": declarations}
    source = csv_source("values.csv", "2024-03-01T12:01:00.000000Z", TEXT_THAT_LOOKS_LIKE_OTHER_VALUES)
    assert_table_exact(project, "records", source, ("_file", "_line"), declarations)

    owner_types = {
        "amount": {"type": "DECIMAL", "precision": 12, "scale": 2},
        "flag": "BOOLEAN",
        "when": "UTC_DATETIME",
        "digits": {"type": "DECIMAL", "precision": 38, "scale": 0},
    }
    declare_in_columns_file(project, "records", owner_types)
    put_local(folder, "values.csv", csv_bytes(TEXT_THAT_LOOKS_LIKE_OTHER_VALUES[:2]), at(2))
    configuration = {"folder": str(folder), "checkpoint_rows": "10000"}
    invoke(project, environment, "reset")
    fivetran_debug(project, configuration, tool_env)
    row = warehouse_rows(project, "records")[0]
    assert row["amount"] == Decimal("10.00") and row["flag"] is True and row["digits"] == 18446744073709551616
    assert row["when"] == datetime(2024, 1, 1, 10, tzinfo=UTC) and row["zip"] == "02134" and row["empty"] == ""

    put_local(folder, "values.csv", csv_bytes(TEXT_THAT_LOOKS_LIKE_OTHER_VALUES), at(3))
    with pytest.raises(SyncFailed) as failed:
        fivetran_debug(project, configuration, tool_env)
    assert "records.flag is declared BOOLEAN in columns.py, but 't' is not true or false" in failed.value.output


def test_json_lines_values_land_with_the_type_and_value_the_file_holds(template, tool_env, tmp_path):
    """JSON Lines follow the API rules: strings stay strings, integers beyond 64 bits and numbers no double holds
    stay exact, "" stays apart from null, and nested objects and lists arrive as JSON."""
    answers = {"source_type": "file", "file_format": "jsonl", "file_pattern": "*.jsonl", "primary_key": "id"}
    project = render(template, tmp_path / "project", answers)
    folder = tmp_path / "drops"
    records = exact_records()
    body = "".join(json_text(record) + "\n" for record in records).encode()
    put_local(folder, "values.jsonl", body, at(1))
    tested = invoke(project, {**tool_env, "CONNECTOR_FOLDER": str(folder)}, "test", "--skip-unit")
    assert tested.returncode == 0, tested.stdout[-4000:] + tested.stderr[-2000:]
    flat = {name: declared for name, declared in EXPECTED_DECLARATIONS.items() if not name.startswith("nested_")}
    declarations = {**flat, "nested": "JSON", **FILE_COLUMNS}
    assert declared_columns(project)["records"] == declarations
    source = [
        {**record, "_file": "values.jsonl", "_line": line, "_modified": "2024-03-01T12:01:00.000000Z"}
        for line, record in enumerate(records, start=1)
    ]
    assert_table_exact(project, "records", source, ("id",), declarations, flattened=False)


def declare_in_columns_file(project: Path, table: str, types: dict[str, Any]) -> None:
    """An owner's edit of columns.py: the given columns get the given types."""
    columns = declared_columns(project)
    columns[table].update(types)
    text = (project / "columns.py").read_text()
    start = text.index("COLUMNS: dict[str, dict[str, Any]] = {")
    (project / "columns.py").write_text(text[:start] + f"COLUMNS: dict[str, dict[str, Any]] = {columns!r}\n")


def test_a_sync_killed_mid_file_resumes_inside_it_and_lands_exactly_the_files(template, tool_env, tmp_path):
    """SIGKILL on row 12 of the second file, after an in-file checkpoint at its row 7: the state never points past
    a written row, and the next sync resumes inside that file and lands every row exactly once."""
    project = render(template, tmp_path / "project", {"source_type": "file", "file_pattern": "*.csv"})
    folder = tmp_path / "drops"
    files = {
        name: [["id", "name"], *[[f"{name}-{n}", f"row {n}"] for n in range(1, 21)]]
        for name in ("a.csv", "b.csv", "c.csv")
    }
    for minute, (name, rows) in enumerate(files.items(), start=1):
        put_local(folder, name, csv_bytes(rows), at(minute))
    configuration = {"folder": str(folder), "checkpoint_rows": "7"}

    fivetran_debug_killed(project, configuration, tool_env, at_record=32)

    written = rows_by(project, "records", ("_file", "_line")) if (project / "files" / "warehouse.db").exists() else {}
    resume = read_state(project)["records"].get("resume", {})
    assert resume.get("path") == "b.csv" and resume.get("rows") == 7
    assert all(("b.csv", line) in written for line in range(1, resume["rows"] + 1))
    second = fivetran_debug(project, configuration, tool_env)
    assert "records: resuming b.csv after row 7" in second
    expected = {key: row for name, rows in files.items() for key, row in expected_from_csv(name, rows).items()}
    assert_csv_rows(project, "records", expected)
