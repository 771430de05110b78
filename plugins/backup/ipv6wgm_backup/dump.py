"""The logical dump: every table of every Tortoise app (the core's and each installed plugin's).

Tables are found through Tortoise's registered apps, so a new plugin's tables are carried
without any change here. One JSONL member per table: each line is a JSON array of the row's
values in the manifest's column order. Values are encoded per field type, explicitly, so a dump
taken from SQLite restores into MariaDB and the other way round:

- datetimes: ISO-8601 with offset, always UTC (SQLite stores text, MariaDB naive DATETIME);
- dates and times: ISO-8601; durations: integer microseconds;
- decimals: their exact text; binary: base64 text; UUIDs: text;
- JSON fields: the decoded JSON value itself (not the engine's text form);
- booleans: true/false (SQLite and MariaDB both store 0/1);
- integers, floats and text: as they are.

The encoders here define these values; for tables of integers, text, booleans, datetimes and
JSON the engine writes the same lines itself, much faster (``render``).

Secrets are dumped as stored: encrypted with the installation's master key, which never goes
into an archive.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
from tortoise import Tortoise, fields
from tortoise.exceptions import OperationalError
from tortoise.models import Model

from ipv6wgm_backup import render

#: Tables describing this host's files and running jobs: neither dumped nor replaced.
LOCAL_TABLES = frozenset({"backup_archives", "backup_jobs", "backup_maintenance"})
PAGE = 5000
#: GROUP_CONCAT's cap during a dump (a page longer than this or than max_allowed_packet is re-read).
GROUPED_MAX = 64 * 1024 * 1024
_RENDERS: dict[str, bool] = {}
#: How Tortoise stores an aware UTC datetime in SQLite (``isoformat(" ")``): re-encoded without parsing.
_SQLITE_UTC = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{6})?\+00:00")
Codec = Callable[[Any], Any]


@dataclass(frozen=True)
class Table:
    app: str
    model: type[Model]
    name: str
    pk: str  # column
    columns: tuple[str, ...]
    field_objects: tuple[fields.Field, ...]

    @property
    def member(self) -> str:
        return f"tables/{self.name}.jsonl"

    def describe(self) -> dict[str, Any]:
        return {"app": self.app, "model": self.model.__name__, "pk": self.pk,
                "columns": [{"name": c, "type": type(f).__name__} for c, f in zip(self.columns, self.field_objects,
                                                                               strict=True)]}


def excluded(model: type[Model]) -> bool:
    """A model marked ``backup_excluded = True`` holds live runtime state (a leader lease and its
    fencing epoch, claimed cron ticks): restoring an old copy would move it backwards, so it is
    neither dumped nor replaced."""
    return getattr(model, "backup_excluded", False) is True


def tables() -> list[Table]:
    """Every table of every registered app, in a stable order (app, table)."""
    apps = Tortoise.apps
    out: list[Table] = []
    if apps is None:
        return out
    for label, models in sorted(apps.items()):
        if label.startswith("_"):
            continue
        for model in sorted(models.values(), key=lambda m: m._meta.db_table):
            meta = model._meta
            if meta.db_table in LOCAL_TABLES or getattr(meta, "abstract", False) or excluded(model):
                continue
            names = list(meta.fields_db_projection)
            out.append(Table(
                app=label, model=model, name=meta.db_table, pk=meta.fields_db_projection[meta.pk_attr],
                columns=tuple(meta.fields_db_projection[n] for n in names),
                field_objects=tuple(meta.fields_map[n] for n in names)))
    return out


# ---- encoding: database value -> JSON value ----------------------------------------------------


def _identity(value: Any) -> Any:
    return value


def encoder(field: fields.Field) -> Codec:
    """Database value (as either engine returns it) -> JSON value."""
    to_python = field.to_python_value
    if isinstance(field, fields.DatetimeField):
        def enc_datetime(v: Any) -> Any:
            if v is None:
                return None
            if isinstance(v, dt.datetime) and v.tzinfo is None:  # MariaDB: naive, in UTC
                return f"{v.isoformat()}+00:00"
            if isinstance(v, str) and _SQLITE_UTC.fullmatch(v):  # SQLite: Tortoise's text form, UTC
                return f"{v[:10]}T{v[11:]}"
            return to_python(v).astimezone(dt.UTC).isoformat()
        return enc_datetime
    if isinstance(field, fields.DateField):
        return lambda v: None if v is None else to_python(v).isoformat()
    if isinstance(field, fields.TimeDeltaField):
        return lambda v: None if v is None else to_python(v) // dt.timedelta(microseconds=1)
    if isinstance(field, fields.TimeField):
        return lambda v: None if v is None else to_python(v).isoformat()
    if isinstance(field, fields.DecimalField):
        return lambda v: None if v is None else str(to_python(v))
    if isinstance(field, fields.BinaryField):
        return lambda v: None if v is None else base64.b64encode(bytes(v)).decode()
    if isinstance(field, fields.JSONField):
        return lambda v: None if v is None else to_python(v)
    if isinstance(field, fields.UUIDField):
        return lambda v: None if v is None else str(v)
    if isinstance(field, fields.BooleanField):
        return lambda v: None if v is None else bool(v)
    return _identity


# ---- decoding: JSON value -> database parameter ------------------------------------------------


def decoder(field: fields.Field, dialect: str) -> Codec:
    """JSON value -> the parameter this engine's driver stores as Tortoise would."""
    if isinstance(field, fields.DatetimeField):
        def dec_datetime(v: Any) -> Any:
            if v is None:
                return None
            value = dt.datetime.fromisoformat(v)
            value = value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)
            # MariaDB's DATETIME is naive (the session time zone is UTC); SQLite keeps the
            # offset in its text form, as Tortoise writes it.
            return value.replace(tzinfo=None) if dialect == "mysql" else value
        return dec_datetime
    if isinstance(field, fields.DateField):
        return lambda v: None if v is None else dt.date.fromisoformat(v)
    if isinstance(field, fields.TimeDeltaField):
        return lambda v: None if v is None else int(v)
    if isinstance(field, fields.TimeField):
        return lambda v: None if v is None else field.to_db_value(dt.time.fromisoformat(v), field.model)
    if isinstance(field, fields.DecimalField):
        return lambda v: None if v is None else (Decimal(v) if dialect == "mysql" else str(Decimal(v)))
    if isinstance(field, fields.BinaryField):
        return lambda v: None if v is None else base64.b64decode(v, validate=True)
    if isinstance(field, fields.JSONField):
        encode = field.encoder
        return lambda v: None if v is None else encode(v)
    if isinstance(field, fields.UUIDField):
        return lambda v: None if v is None else str(uuid.UUID(v))
    if isinstance(field, fields.BooleanField):
        def dec_bool(v: Any) -> Any:
            if v is None or isinstance(v, bool):
                return v
            raise ValueError(f"expected true/false, got {v!r}")
        return dec_bool
    return _identity


def dialect_of(connection: Any) -> str:
    return str(getattr(connection.capabilities, "dialect", "sqlite"))


def quote(dialect: str, name: str) -> str:
    return f"`{name}`" if dialect == "mysql" else f'"{name}"'


def placeholder(dialect: str) -> str:
    return "%s" if dialect == "mysql" else "?"


def _row_values(row: Any) -> tuple[Any, ...]:
    return tuple(row.values()) if isinstance(row, dict) else tuple(row)


async def dump_rows(connection: Any, table: Table) -> AsyncIterator[bytes]:
    """Yield the table's JSONL lines (bytes), page by page in primary-key order: rendered by the
    engine when it can (``render``), else encoded here value by value. The next page is read
    while the caller writes this one (the engine works on one core, Python on the other)."""
    dialect = dialect_of(connection)
    line = render.line_sql(table.columns, table.field_objects, dialect, lambda n: quote(dialect, n))
    if line is not None and not await _engine_renders(connection, dialect):
        line = None
    cap = saved = 0
    if line is not None and dialect == "mysql":  # GROUP_CONCAT's cap, raised for the dump
        _, rows = await connection.execute_query("SELECT @@SESSION.group_concat_max_len, @@max_allowed_packet", [])
        saved, packet = (int(v) for v in _row_values(rows[0]))
        cap = min(GROUPED_MAX, packet - 1024)
        await connection.execute_query(f"SET SESSION group_concat_max_len = {cap}", [])

    async def read(after: list[Any]) -> Page:
        page = None
        if line is not None:
            page = await (_mysql_page(connection, table, line, after, cap) if cap
                          else _sqlite_page(connection, table, line, after))
        # not rendered by the engine, or not this page
        return page if page is not None else await _python_page(connection, table, dialect, after)

    pending: asyncio.Future[Page] | None = asyncio.ensure_future(read([]))
    try:
        while pending is not None:
            page = await pending
            pending = asyncio.ensure_future(read([page.last])) if page.rows == PAGE else None
            if page.rows:
                yield page.data
    finally:
        if pending is not None:  # the caller stopped early: let the query in flight finish
            with contextlib.suppress(BaseException):
                await pending
        if cap:
            await connection.execute_query(f"SET SESSION group_concat_max_len = {saved}", [])


async def _engine_renders(connection: Any, dialect: str) -> bool:
    """Whether this engine has every SQL function ``render`` uses (asked once per process)."""
    if dialect not in _RENDERS:
        try:
            await connection.execute_query(render.probe_sql(dialect), [])
            _RENDERS[dialect] = True
        except OperationalError:  # the statement alone failed: the transaction goes on
            _RENDERS[dialect] = False
    return _RENDERS[dialect]


@dataclass(frozen=True)
class Page:
    data: bytes  # JSONL lines, each ending in a newline
    rows: int
    last: Any  # the page's last primary key


def _page_sql(table: Table, dialect: str, select: str, after: list[Any]) -> str:
    q = lambda n: quote(dialect, n)  # noqa: E731
    where = f" WHERE {q(table.pk)} > {placeholder(dialect)}" if after else ""
    return f"SELECT {select} FROM {q(table.name)}{where} ORDER BY {q(table.pk)} LIMIT {PAGE}"  # noqa: S608


async def _mysql_page(connection: Any, table: Table, line: str, after: list[Any], cap: int) -> Page | None:
    """The page is one GROUP_CONCAT value, which aiomysql parses once rather than cell by cell,
    over a primary-key range (its end read first: a derived table of the lines costs more).
    A page holding a NULL line (a value the SQL would not render exactly) or cut short by
    group_concat_max_len is not used."""
    pk, name = quote("mysql", table.pk), quote("mysql", table.name)
    _, rows = await connection.execute_query(
        f"SELECT MAX(k) FROM ({_page_sql(table, 'mysql', f'{pk} AS k', after)}) AS page", after)  # noqa: S608
    end = _row_values(rows[0])[0]
    if end is None:
        return Page(b"", 0, None)
    where = f"{pk} > %s AND {pk} <= %s" if after else f"{pk} <= %s"
    _, rows = await connection.execute_query(
        f"SELECT GROUP_CONCAT({line} ORDER BY {pk} SEPARATOR '\n'), COUNT(*) FROM {name} WHERE {where}",  # noqa: S608
        [*after, end])
    text, count = _row_values(rows[0])
    data = b"" if text is None else text.encode()
    if text is None or data.count(b"\n") + 1 != count or len(data) >= cap - 4:
        return None
    return Page(data + b"\n", count, end)


async def _sqlite_page(connection: Any, table: Table, line: str, after: list[Any]) -> Page | None:
    """The page is one group_concat value (no Python object per row); it keeps the order of its
    ordered subquery. A page holding a NULL line is not used."""
    inner = _page_sql(table, "sqlite", f"{quote('sqlite', table.pk)} AS k, {line} AS line", after)
    _, rows = await connection.execute_query(
        f"SELECT group_concat(line, char(10)), count(*), count(line), max(k) FROM ({inner})", after)  # noqa: S608
    text, count, rendered, last = _row_values(rows[0])
    if not count:
        return Page(b"", 0, None)
    if text is None or rendered != count:
        return None
    data = text.encode()
    if data.count(b"\n") + 1 != count:  # the manifest counts rows as lines
        raise RuntimeError(f"table {table.name}: a line rendered by the engine holds a newline")
    return Page(data + b"\n", count, last)


async def _python_page(connection: Any, table: Table, dialect: str, after: list[Any]) -> Page:
    """Every value encoded here (``encoder``)."""
    cols = ", ".join(quote(dialect, c) for c in table.columns)
    _, rows = await connection.execute_query(_page_sql(table, dialect, cols, after), after)
    if not rows:
        return Page(b"", 0, None)
    encoders = [encoder(f) for f in table.field_objects]
    plain = all(e is _identity for e in encoders)
    lines = []
    for row in rows:
        values = _row_values(row)
        if not plain:
            values = [e(v) for e, v in zip(encoders, values, strict=True)]
        lines.append(orjson.dumps(values))
    return Page(b"\n".join(lines) + b"\n", len(lines), _row_values(rows[-1])[table.columns.index(table.pk)])


@dataclass
class TablePlan:
    """How one archived table goes into the current schema."""

    table: Table
    archived: list[str]  # the archive's column order
    keep: list[int]  # positions in an archived row that go into the insert
    insert_columns: list[str]
    decoders: list[Codec]
    missing: list[str]  # current columns the archive lacks (older schema) ...
    defaults: list[Any]  # ... and the values they get

    def sql(self, dialect: str) -> str:
        cols = [*self.insert_columns, *self.missing]
        marks = ", ".join([placeholder(dialect)] * len(cols))
        names = ", ".join(quote(dialect, c) for c in cols)
        return f"INSERT INTO {quote(dialect, self.table.name)} ({names}) VALUES ({marks})"  # noqa: S608

    def convert(self, values: list[Any]) -> tuple[Any, ...]:
        if len(values) != len(self.archived):
            raise ValueError(f"a row of {self.table.name} has {len(values)} values, the manifest says "
                             f"{len(self.archived)}")
        return (*(d(values[i]) for d, i in zip(self.decoders, self.keep, strict=True)), *self.defaults)


def _default(field: fields.Field) -> Any:
    default = field.default
    if callable(default):
        default = default()
    if default is None and not field.null:
        raise LookupError
    return default


def plan_table(table: Table, archived_columns: list[str], dialect: str, *, older: bool) -> TablePlan:
    """Map the archive's columns onto the current table; an older archive may lack columns that
    have a default (they get it) and may carry columns dropped since (they are ignored)."""
    current = dict(zip(table.columns, table.field_objects, strict=True))
    extra = [c for c in archived_columns if c not in current]
    if extra and not older:
        raise ValueError(f"table {table.name}: columns {extra} are not in this schema")
    keep = [i for i, c in enumerate(archived_columns) if c in current]
    insert_columns = [archived_columns[i] for i in keep]
    missing = [c for c in table.columns if c not in archived_columns]
    defaults = []
    for column in missing:
        if not older:
            raise ValueError(f"table {table.name}: column {column} is missing from the archive")
        field = current[column]
        try:
            value = _default(field)
        except LookupError:
            raise ValueError(f"table {table.name}: column {column} has no default and is missing from "
                             "the (older) archive") from None
        defaults.append(decoder(field, dialect)(encoder(field)(value)) if value is not None else None)
    return TablePlan(table, list(archived_columns), keep, insert_columns,
                     [decoder(current[c], dialect) for c in insert_columns], missing, defaults)
