"""Lines rendered by the engine (``render``) carry the same JSON values as the per-value Python
encoder, on SQLite and MariaDB: hostile text (quotes, backslashes, control characters, emoji),
64-bit extremes, NULLs, booleans, datetimes with and without a fraction, JSON documents. Rows
the SQL would not render exactly make their page fall back to the Python encoder.

In-process (a runtime on a fresh database, no server), on a scratch table the test creates.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from tortoise import fields
from tortoise.backends.base.executor import EXECUTOR_CACHE
from tortoise.exceptions import FieldError
from tortoise.transactions import in_transaction

from ipv6wgm.bootstrap import session
from ipv6wgm.settings import load_settings
from ipv6wgm.testing import mysql_database

COLUMNS = {"id": fields.IntField(primary_key=True), "i": fields.BigIntField(null=True),
           "t": fields.TextField(null=True), "b": fields.BooleanField(null=True),
           "d": fields.DatetimeField(null=True), "j": fields.JSONField(null=True), "u": fields.UUIDField(null=True)}
DDL = {
    "sqlite": "CREATE TABLE bk_render (id INTEGER PRIMARY KEY, i BIGINT, t TEXT, b INT, d TIMESTAMP, j JSON, "
              "u CHAR(36))",
    "mysql": "CREATE TABLE bk_render (id INT PRIMARY KEY, i BIGINT, t LONGTEXT, b BOOL, d DATETIME(6), j JSON, "
             "u CHAR(36)) CHARACTER SET utf8mb4",
}
HOSTILE = 'quote " backslash \\ slash / \x01\x1f\t\n\r\x7f é € 😀 \u2028 end'
DOC = ('{"a": [1, 2.50, -0.0, 1e2, "x\\u0000y", "😀"], "b": {"c": null}, "d": true, '
       '"e": 9223372036854775807, "f": -123456789012345678}')


def when(micro: int) -> dt.datetime:
    return dt.datetime(2024, 2, 29, 23, 59, 58, micro, tzinfo=dt.UTC)


def stored(dialect: str, value: dt.datetime | None) -> Any:
    """A datetime as Tortoise stores it: naive UTC (MariaDB), ``isoformat(" ")`` text (SQLite)."""
    if value is None:
        return None
    return value.replace(tzinfo=None) if dialect == "mysql" else value.isoformat(" ")


def rows(dialect: str) -> tuple[list[tuple[Any, ...]], set[int]]:
    """The rows, and the ids of those the SQL must leave to the Python encoder."""
    out = [
        (1, None, None, None, None, None, None),
        (2, 2**63 - 1, HOSTILE, True, stored(dialect, when(123456)), DOC, str(uuid.UUID(int=7))),
        (3, -(2**63), "", False, stored(dialect, when(0)), "[]", str(uuid.uuid4())),
        (4, 0, "0", True, stored(dialect, when(1)), "null", None),
        (5, 7, "x" * 5000, False, stored(dialect, dt.datetime(1, 1, 1, tzinfo=dt.UTC)), '"text"', None),
        (6, 8, "plain", None, None, "12345", None),
    ]
    # an integer past 64 bits: the encoder carries it as a double, so must the dump
    out.append((11, 12, "e", None, None, '{"n": -92233720368547758090}', None))
    python = {11}
    if dialect == "sqlite":  # values only raw SQL leaves: a REAL in an integer column, other forms
        out += [(7, 1.5, "a", True, None, None, None),
                (8, 9, "b", True, "2024-01-02T05:04:05+02:00", None, None),
                (9, 10, "c", 2, "2024-01-02 03:04:05", "0.30000000000000004", None),
                (12, 13, "f", None, None, None, None)]
        python |= {7, 8, 9}
    return out, python


#: JSON documents the encoder refuses (a double's range, NaN): the dump fails on them as it did.
REFUSED = {"mysql": ['[1.5e400, "x"]'], "sqlite": ['[1.5e400, "x"]', "[NaN]"]}


@pytest.fixture(params=["sqlite", "mysql"])
async def dialect(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(mysql_database()) if request.param == "mysql" else None
        try:
            async with session(load_settings(data_dir=tmp_path, database_url=url), migrate=True):
                yield request.param
        finally:
            EXECUTOR_CACHE.clear()


def canonical(line: bytes) -> bytes:
    """Type-exact comparison of JSON values (true is not 1, 2.50 is 2.5)."""
    return orjson.dumps(orjson.loads(line))


@pytest.mark.filterwarnings("ignore:Row [0-9]+ was cut by GROUP_CONCAT")
async def test_engine_lines_equal_the_python_encoder(dialect: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from ipv6wgm_backup import dump

    table = dump.Table(app="x", model=object, name="bk_render", pk="id", columns=tuple(COLUMNS),  # type: ignore[arg-type]
                       field_objects=tuple(COLUMNS.values()))
    data, python = rows(dialect)
    mark = dump.placeholder(dialect)
    async with in_transaction() as conn:
        await conn.execute_query(DDL[dialect], [])
        await conn.execute_many(f"INSERT INTO bk_render VALUES ({', '.join([mark] * 7)})",  # noqa: S608
                                [list(r) for r in data])
    monkeypatch.setattr(dump, "PAGE", 2)  # several pages, each rendered or not on its own
    encoded_pages: list[Any] = []
    python_page = dump._python_page

    async def spy(connection: Any, table: dump.Table, dialect: str, after: list[Any]) -> dump.Page:
        page = await python_page(connection, table, dialect, after)
        encoded_pages.append(after)
        return page

    monkeypatch.setattr(dump, "_python_page", spy)
    async with in_transaction() as conn:
        got = b"".join([chunk async for chunk in dump.dump_rows(conn, table)]).splitlines()
        cols = ", ".join(dump.quote(dialect, c) for c in COLUMNS)
        _, raw = await conn.execute_query(f"SELECT {cols} FROM bk_render ORDER BY id", [])  # noqa: S608
    encoders = [dump.encoder(f) for f in COLUMNS.values()]
    expected = [orjson.dumps([e(v) for e, v in zip(encoders, dump._row_values(r), strict=True)]) for r in raw]
    assert [canonical(line) for line in got] == [canonical(line) for line in expected]
    # exactly the pages holding a row the SQL cannot render went through Python
    ids = sorted(r[0] for r in data)
    fallback = {ids.index(i) // 2 for i in python}
    assert len(encoded_pages) == len(fallback)
    # a page longer than GROUP_CONCAT may return is read again, value by value (MariaDB)
    if dialect == "mysql":
        encoded_pages.clear()
        monkeypatch.setattr(dump, "GROUPED_MAX", 64)
        async with in_transaction() as conn:
            again = b"".join([chunk async for chunk in dump.dump_rows(conn, table)]).splitlines()
        assert [canonical(line) for line in again] == [canonical(line) for line in expected]
        assert encoded_pages, "no page was cut short"
    for doc in REFUSED[dialect]:
        async with in_transaction() as conn:
            await conn.execute_query("DELETE FROM bk_render", [])
            await conn.execute_query(f"INSERT INTO bk_render (id, j) VALUES (1, {mark})", [doc])  # noqa: S608
        with pytest.raises(FieldError):
            dump.encoder(COLUMNS["j"])(doc)
        with pytest.raises(FieldError):
            async with in_transaction() as conn:
                [chunk async for chunk in dump.dump_rows(conn, table)]
