"""One round trip per list page: rows as named tuples, with the total in the same statement.

The web UI pages through users, clients, logs and allocations all the time. Through the ORM a
``/users`` page cost a ``COUNT(*)`` round trip, SQL compilation (~0.12 ms) and ORM object
construction per row (~0.5 ms for 20 rows on SQLite), against ~0.09 ms for the statement
itself. So the hot lists describe their filters with the few shapes below; the statement text
is built once per shape (values are always parameters) and the count rides along as a scalar
subquery, which SQLite and MariaDB both evaluate once.

Identifiers come only from model metadata and from the code, never from a request.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
from tortoise import connections
from tortoise import fields as tfields

from ipv6wgm.api import PageQuery, pagination
from ipv6wgm.runtime import current


@dataclass(frozen=True)
class Eq:
    column: str
    value: Any


@dataclass(frozen=True)
class In:
    column: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Range:
    """``low <= column <= high``; either bound may be None."""

    column: str
    low: Any = None
    high: Any = None


@dataclass(frozen=True)
class Search:
    """Case-insensitive substring match in any of ``columns``."""

    columns: tuple[str, ...]
    term: str


Condition = Eq | In | Range | Search


@dataclass(frozen=True)
class Expr:
    """A computed column: ``sql`` names identifiers as ``{name}`` (quoted per dialect), e.g.
    ``Expr("has_key", "{key_enc} IS NOT NULL", boolean=True)``; written in code, never from a
    request. Lets a page carry a flag or a related value instead of a second round trip."""

    name: str
    sql: str
    boolean: bool = False


Column = str | Expr
DEEP_OFFSET = 1000  # from here on, the total is read first to pick the cheaper end


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(conditions: Sequence[Condition], quote: Any, mark: str, like_escape: str) -> tuple[str, list[Any]]:
    parts: list[str] = []
    params: list[Any] = []
    for cond in conditions:
        if isinstance(cond, Eq):
            if cond.value is None:
                parts.append(f"{quote(cond.column)} IS NULL")
            else:
                parts.append(f"{quote(cond.column)} = {mark}")
                params.append(cond.value)
        elif isinstance(cond, In):
            if not cond.values:
                parts.append("1 = 0")
            else:
                parts.append(f"{quote(cond.column)} IN ({', '.join([mark] * len(cond.values))})")
                params.extend(cond.values)
        elif isinstance(cond, Range):
            if cond.low is not None:
                parts.append(f"{quote(cond.column)} >= {mark}")
                params.append(cond.low)
            if cond.high is not None:
                parts.append(f"{quote(cond.column)} <= {mark}")
                params.append(cond.high)
        else:
            pattern = f"%{_escape_like(cond.term)}%"
            ors = [f"UPPER({quote(c)}) LIKE UPPER({mark}){like_escape}" for c in cond.columns]
            parts.append("(" + " OR ".join(ors) + ")")
            params.extend([pattern] * len(cond.columns))
    return (" WHERE " + " AND ".join(parts)) if parts else "", params


def _shape(cond: Condition) -> tuple[Any, ...]:
    if isinstance(cond, Eq):
        return ("eq", cond.column, cond.value is None)
    if isinstance(cond, In):
        return ("in", cond.column, len(cond.values))
    if isinstance(cond, Range):
        return ("range", cond.column, cond.low is None, cond.high is None)
    return ("search", cond.columns)


def _params(conditions: Sequence[Condition]) -> list[Any]:
    params: list[Any] = []
    for cond in conditions:
        if isinstance(cond, Eq):
            if cond.value is not None:
                params.append(cond.value)
        elif isinstance(cond, In):
            params.extend(cond.values)
        elif isinstance(cond, Range):
            params.extend(v for v in (cond.low, cond.high) if v is not None)
        else:
            params.extend([f"%{_escape_like(cond.term)}%"] * len(cond.columns))
    return params


@dataclass(frozen=True)
class Statements:
    page: str  # the total as its first column, then the page
    count: str
    backward: str  # the page read from the end: deep pages cost what the first ones do
    rows: str  # no count, no offset


def _reverse(order: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(o[1:] if o.startswith("-") else f"-{o}" for o in order)


class _Quoted(dict):  # type: ignore[type-arg]
    def __init__(self, quote: Any) -> None:
        super().__init__()
        self.quote = quote

    def __missing__(self, key: str) -> str:
        return str(self.quote(key))


def _column_sql(column: Column, quote: Any) -> str:
    if isinstance(column, Expr):
        return f"({column.sql.format_map(_Quoted(quote))}) AS {quote(column.name)}"
    return str(quote(column))


def _name(column: Column) -> str:
    return column.name if isinstance(column, Expr) else column


@lru_cache(maxsize=512)
def _statements(dialect: str, table: str, columns: tuple[Column, ...], order: tuple[str, ...],
                shape: tuple[tuple[Any, ...], ...]) -> Statements:
    if dialect == "mysql":
        def quote(name: str) -> str:
            return f"`{name}`"
        mark, like_escape = "%s", ""  # backslash is MySQL's default LIKE escape
    else:
        def quote(name: str) -> str:
            return f'"{name}"'
        mark, like_escape = "?", " ESCAPE '\\'"
    where, _ = _where([_placeholder(s) for s in shape], quote, mark, like_escape)

    def order_by(terms: tuple[str, ...]) -> str:
        return ", ".join(f"{quote(o.lstrip('-'))} {'DESC' if o.startswith('-') else 'ASC'}" for o in terms)

    cols = ", ".join(_column_sql(c, quote) for c in columns)
    source = f"FROM {quote(table)}{where}"
    count = f"SELECT COUNT(*) {source}"  # noqa: S608 - identifiers from model metadata, values bound
    page = f"SELECT ({count}) AS page_total, {cols} {source} ORDER BY {order_by(order)} LIMIT {mark} OFFSET {mark}"
    backward = f"SELECT {cols} {source} ORDER BY {order_by(_reverse(order))} LIMIT {mark} OFFSET {mark}"
    rows = f"SELECT {cols} {source} ORDER BY {order_by(order)} LIMIT {mark}"
    return Statements(page, count, backward, rows)


def _placeholder(shape: tuple[Any, ...]) -> Condition:
    """A condition of the same shape, for rendering SQL text (values never enter it)."""
    kind = shape[0]
    if kind == "eq":
        return Eq(shape[1], None if shape[2] else 0)
    if kind == "in":
        return In(shape[1], (0,) * shape[2])
    if kind == "range":
        return Range(shape[1], None if shape[2] else 0, None if shape[3] else 0)
    return Search(shape[1], "")


def _converter(field: Any) -> Any:
    """Turn a raw column value into what the ORM would have given, cheaply."""
    if isinstance(field, tfields.DatetimeField):
        def to_datetime(value: Any) -> Any:
            if isinstance(value, str):
                return _parse_datetime(value)
            if isinstance(value, datetime) and value.tzinfo is None:
                value = value.replace(tzinfo=UTC)
            return value
        return to_datetime
    if isinstance(field, tfields.BooleanField):
        return lambda value: None if value is None else bool(value)
    if isinstance(field, tfields.JSONField):
        return lambda value: orjson.loads(value) if isinstance(value, _TEXT) else value
    return None


_TEXT = (str, bytes)  # a constant: ``str | bytes`` would build a union on every call


@lru_cache(maxsize=65536)
def _parse_datetime(text: str) -> datetime:
    """SQLite hands back text; the same timestamps come back page after page."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@lru_cache(maxsize=128)
def _record_type(columns: tuple[str, ...]) -> Any:
    """Rows as named tuples: attribute access like the ORM's objects, at a tuple's cost."""
    return namedtuple("Row", columns)  # noqa: PYI024 - built at run time from the column list


@lru_cache(maxsize=128)
def _converters(model: Any, columns: tuple[Column, ...]) -> tuple[tuple[int, Any], ...]:
    fields_map = model._meta.fields_map
    boolean = tfields.BooleanField()
    found = ((i, _converter(boolean if isinstance(c, Expr) and c.boolean else
                            None if isinstance(c, Expr) else fields_map.get(c))) for i, c in enumerate(columns))
    return tuple((i, c) for i, c in found if c is not None)


async def fetch_page(model: Any, columns: Sequence[Column], query: PageQuery, *,
                     where: Sequence[Condition] = (), order: Sequence[str] = ("id",),
                     ) -> tuple[list[Any], dict[str, int]]:
    """The rows of one page of ``model`` (only ``columns``, as attribute records) and the
    spec's pagination block."""
    cols = tuple(columns)
    raws, page = await _page_raws(model, cols, query, where, order)
    return _records(model, cols, raws), page


async def render_page(model: Any, columns: Sequence[Column], query: PageQuery, render: Render, *,
                      where: Sequence[Condition] = (), order: Sequence[str] = ("id",), context: Any = None,
                      freeze: Callable[[Any], Any] | None = None) -> tuple[list[Any], dict[str, int]]:
    """One page already in its API form: ``render(record, now)`` of each row (see ``Render``),
    memoised by the row's raw values, and the pagination block.

    What is kept is ``freeze(rendered)``: by default the row's JSON (an ``orjson.Fragment``);
    the web UI keeps its HTML instead (``freeze=as_rendered``), so a page of rows it has shown
    before costs a dictionary lookup per row there too.

    A list page is mostly the same rows again (the UI polls and pages back and forth), and
    turning a row into its JSON costs more than reading it. The memo is keyed by every value the
    statement just returned (and ``context``, for what else ``render`` reads, e.g. a setting),
    so a row changed by any process is a new key: nothing stale can be served, and nothing needs
    invalidating. Time is the one other input: ``render`` says until when its answer holds.
    """
    cols = tuple(columns)
    raws, page = await _page_raws(model, cols, query, where, order)
    return _RENDERED.rows(render, context, _row_builder(model, cols), raws, freeze or _json_fragment), page


async def _page_raws(model: Any, cols: tuple[Column, ...], query: PageQuery, where: Sequence[Condition],
                     order: Sequence[str]) -> tuple[list[tuple[Any, ...]], dict[str, int]]:
    meta = model._meta
    db = connections.get(meta.default_connection or "default")
    dialect = db.capabilities.dialect
    ordering = tuple(order) if "id" in {o.lstrip("-") for o in order} else (*order, "id")
    sql = _statements(dialect, meta.db_table, cols, ordering, tuple(_shape(c) for c in where))
    conds = _params(where)
    run = _runner(db, dialect, where)
    if query.offset < DEEP_OFFSET:
        rows = await run(sql.page, conds + conds + [query.limit, query.offset])
        raws = [_values(row)[1:] for row in rows]
        total = int(_values(rows[0])[0]) if rows else None
    else:
        raws, total = [], None
    if total is None:
        count_rows = await run(sql.count, conds)
        total = int(_values(count_rows[0])[0]) if count_rows else 0
        if query.offset >= DEEP_OFFSET and query.offset < total:
            raws = await _deep_page(run, sql, conds, query, total)
    return raws, pagination(query, total)


# ``render(record, now) -> (api_dict or HTML, valid_until)``: ``valid_until`` is the first moment the
# answer may change with time alone (a status computed against ``now``), or None.
Render = Callable[[Any, datetime], tuple[Any, datetime | None]]


class _RenderMemo:
    """Raw row -> its rendered form (JSON as an ``orjson.Fragment``, or HTML), per render function and context.

    A memo of a pure function of the key, not a cache of data: see ``render_page``. Bounded by
    dropping everything when full (a page needs at most its own 20-100 rows back)."""

    LIMIT = 20_000

    def __init__(self) -> None:
        self._memo: dict[tuple[Any, ...], tuple[Any, datetime | None]] = {}

    def rows(self, render: Render, context: Any, build: Any, raws: list[tuple[Any, ...]],
             freeze: Callable[[Any], Any]) -> list[Any]:
        memo = self._memo
        now = datetime.now(UTC)
        out = []
        for raw in raws:
            key = (render, context, raw)
            hit = memo.get(key)
            if hit is None or (hit[1] is not None and hit[1] <= now):
                data, until = render(build(raw), now)
                if len(memo) >= self.LIMIT:
                    memo.clear()
                memo[key] = hit = (freeze(data), until)
            out.append(hit[0])
        return out

    def clear(self) -> None:
        self._memo.clear()


_RENDERED = _RenderMemo()


def _json_fragment(data: Any) -> Any:
    try:
        return orjson.Fragment(orjson.dumps(data))
    except (orjson.JSONEncodeError, TypeError):  # e.g. an integer past 64 bits: as it is
        return data


def as_rendered(data: Any) -> Any:
    """``render_page``'s ``freeze`` that keeps what ``render`` returned (e.g. HTML), as it is."""
    return data


async def fetch_rows(model: Any, columns: Sequence[Column], *, where: Sequence[Condition] = (),
                     order: Sequence[str] = ("id",), limit: int = 1000) -> list[Any]:
    """Rows without a count (e.g. the owners of a page's objects), by the same fast path."""
    meta = model._meta
    db = connections.get(meta.default_connection or "default")
    dialect = db.capabilities.dialect
    cols = tuple(columns)
    sql = _statements(dialect, meta.db_table, cols, tuple(order), tuple(_shape(c) for c in where))
    rows = await _runner(db, dialect, where)(sql.rows, [*_params(where), limit])
    return _records(model, cols, [_values(row) for row in rows])


def _records(model: Any, columns: tuple[Column, ...], raws: list[tuple[Any, ...]]) -> list[Any]:
    build = _row_builder(model, columns)
    return [build(raw) for raw in raws]


@lru_cache(maxsize=128)
def _row_builder(model: Any, columns: tuple[Column, ...]) -> Any:
    """One function per column list that converts a raw row into a record in a single call:
    ``lambda r: Row(r[0], c1(r[1]), ...)`` (generated from column positions only)."""
    converters = dict(_converters(model, columns))
    row_type = _record_type(tuple(_name(c) for c in columns))
    parts = [f"c{i}(r[{i}])" if i in converters else f"r[{i}]" for i in range(len(columns))]
    namespace = {"new": tuple.__new__, "Row": row_type, **{f"c{i}": c for i, c in converters.items()}}
    source = f"lambda r: new(Row, ({', '.join(parts)},))"
    return eval(source, namespace)  # noqa: S307 - source built from integers only


def _runner(db: Any, dialect: str, where: Sequence[Condition]) -> Any:
    """Where the statements run: inline on the SQLite reader for index-backed pages, otherwise
    through the ORM's connection (a substring search scans the table: not on the loop)."""
    reader = None
    if dialect == "sqlite" and not any(isinstance(c, Search) for c in where):
        try:
            reader = current().db_reader
        except RuntimeError:  # no runtime in this process (a script): the ORM's connection
            reader = None

    async def run(sql: str, params: list[Any]) -> list[Any]:
        if reader is not None:
            try:
                return reader.execute(sql, params).fetchall()
            except sqlite3.OperationalError:  # busy (a checkpoint): take the usual path
                pass
        _, rows = await db.execute_query(sql, params)
        return list(rows)

    return run


def _values(row: Any) -> tuple[Any, ...]:
    """aiomysql answers dicts (in column order), sqlite3 answers Row tuples."""
    return tuple(row.values()) if isinstance(row, dict) else tuple(row)


async def _deep_page(run: Any, sql: Statements, conds: list[Any], query: PageQuery,
                     total: int) -> list[tuple[Any, ...]]:
    """Past the middle, read from the other end: an OFFSET walks every row it skips."""
    if query.offset <= total // 2:
        rows = await run(sql.page, conds + conds + [query.limit, query.offset])
        return [_values(row)[1:] for row in rows]
    end = min(total, query.offset + query.limit)
    rows = await run(sql.backward, conds + [end - query.offset, total - end])
    return [_values(row) for row in reversed(rows)]
