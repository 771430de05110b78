"""Time series on SQLite and MariaDB alike: series, raw points, incremental rollups, queries.

Three levels: raw points (every sample, ``raw_retention_hours``), 1-minute rollups (from the
points) and 1-hour rollups (from the minutes), each row holding count, sum, min and max so any
coarser bucket is exact. Rollups advance from a per-level watermark, so each run reads only the
points that arrived since the previous one. A query reads the coarsest level that is at most its
step and still holds its start, and the tail the rollups have not reached yet (the current hour,
the current minute) from the next finer level, so answers are complete up to the last sample and
cost about the same for an hour as for a year.

Statements are written by hand (the ORM has no GROUP BY over an expression); table and column
names are constants and every value is bound, except the integer step and resolution, which the
code computes.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from ipv6wgm.api import invalid
from ipv6wgm.runtime import current
from ipv6wgm_monitoring.models import CLUSTER, RollupState, Series
from ipv6wgm_monitoring.settings import get_settings
from ipv6wgm_monitoring.timefmt import iso_epoch

log = logging.getLogger(__name__)
RAW = 0
NICE_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
DEFAULT_POINTS = 300  # a chart needs no more; the default step keeps every query about this size
MAX_POINTS = 11_000  # per series, as Prometheus limits a range query
CHUNK = 500
TOUCH_EVERY_S = 300


def _mark() -> str:
    return "%s" if current().settings.database_kind == "mysql" else "?"


def _bucket(step: int) -> str:
    """SQL for the start of ``ts``'s bucket of ``step`` seconds (integer division in both)."""
    div = "DIV" if current().settings.database_kind == "mysql" else "/"
    return f"(ts {div} {int(step)}) * {int(step)}"


def _conn() -> Any:
    return connections.get("default")


def series_key(node: str, name: str, tags: dict[str, str]) -> str:
    """Identity of a series: node, name and canonical tags (sorted keys)."""
    raw = orjson.dumps([node, name, sorted(tags.items())])
    return hashlib.sha1(raw, usedforsecurity=False).hexdigest()


@dataclass
class SeriesCache:
    """This process's map of series keys to ids, and when each id's ``last_seen`` was written."""

    ids: dict[str, int] = field(default_factory=dict)
    touched: dict[int, int] = field(default_factory=dict)
    refused: set[str] = field(default_factory=set)


def _cache() -> SeriesCache:
    from ipv6wgm_monitoring.state import plugin_state

    return plugin_state().series


async def series_ids(node: str, entries: dict[str, tuple[str, dict[str, str], str]]) -> dict[str, int]:
    """Ids for ``{key: (name, tags, unit)}`` of one node, creating the missing series.

    A node holds at most ``max_series_per_node`` series; beyond, new ones are refused (logged
    once per series) so an unbounded tag cannot fill the database.
    """
    cache = _cache()
    out = {k: cache.ids[k] for k in entries if k in cache.ids}
    missing = [k for k in entries if k not in out and k not in cache.refused]
    for start in range(0, len(missing), CHUNK):
        chunk = missing[start:start + CHUNK]
        for sid, key in await Series.filter(key_hash__in=chunk).values_list("id", "key_hash"):
            out[key] = cache.ids[key] = sid
    new = [k for k in missing if k not in out]
    if new:
        room = get_settings().max_series_per_node - await Series.filter(node=node).count()
        if room < len(new):
            for key in new[max(room, 0):]:
                cache.refused.add(key)
                log.warning("monitoring: node %s has too many series; dropping %s %s", node,
                            entries[key][0], entries[key][1])
            new = new[:max(room, 0)]
        now = int(time.time())
        rows = [Series(key_hash=k, node=node, name=entries[k][0], tags=entries[k][1], unit=entries[k][2],
                       last_seen=now) for k in new]
        try:
            await Series.bulk_create(rows, batch_size=CHUNK)
        except IntegrityError:  # another process created some of them meanwhile
            for row in rows:
                try:
                    await row.save()
                except IntegrityError:
                    pass
        for start in range(0, len(new), CHUNK):
            for sid, key in await Series.filter(key_hash__in=new[start:start + CHUNK]).values_list("id", "key_hash"):
                out[key] = cache.ids[key] = sid
                cache.touched[sid] = now
    return out


async def write_points(ts: int, values: dict[int, float]) -> None:
    """One raw point per series at ``ts``; refreshes ``last_seen`` every few minutes."""
    if not values:
        return
    mark = _mark()
    conn = _conn()
    sql = f"INSERT INTO monitoring_points (series_id, ts, v) VALUES ({mark}, {mark}, {mark})"  # noqa: S608
    await conn.execute_many(sql, [[sid, ts, float(v)] for sid, v in values.items()])
    cache = _cache()
    stale = [sid for sid in values if ts - cache.touched.get(sid, 0) >= TOUCH_EVERY_S]
    for start in range(0, len(stale), CHUNK):
        chunk = stale[start:start + CHUNK]
        marks = ", ".join([mark] * len(chunk))
        await conn.execute_query(
            f"UPDATE monitoring_series SET last_seen = {mark} WHERE id IN ({marks})", [ts, *chunk])  # noqa: S608
        for sid in chunk:
            cache.touched[sid] = ts


# ---- rollups and retention ----------------------------------------------------------------------

#: One run rolls up at most this much backlog, so no transaction grows without bound.
MAX_BATCH_S = 6 * 3600


async def _watermark(conn: Any, res: int) -> int:
    qs = RollupState.filter(res=res).using_db(conn)
    if current().settings.database_kind == "mysql":
        qs = qs.select_for_update()
    row = await qs.first()
    return int(row.done_until) if row is not None else 0


async def done_until() -> dict[int, int]:
    rows = await RollupState.all().values_list("res", "done_until")
    return {int(r): int(d) for r, d in rows}


async def _roll(res: int, now: int) -> int:
    """Advance the ``res`` rollups as far as their source allows; returns buckets written."""
    grace = 2 * get_settings().sample_interval + 15  # a sample may land this late
    mark = _mark()
    async with in_transaction() as conn:
        done = await _watermark(conn, res)
        if res == 60:
            source_end = now - grace
            first_sql = "SELECT MIN(ts) AS t FROM monitoring_points"
        else:
            source_end = await _watermark(conn, 60)
            first_sql = "SELECT MIN(ts) AS t FROM monitoring_rollups WHERE res = 60"
        upto = source_end - source_end % res
        start = done
        if start == 0:
            _, rows = await conn.execute_query(first_sql)
            first = rows[0]["t"] if rows else None
            if first is None:
                return 0
            start = int(first) - int(first) % res
        end = min(upto, start + MAX_BATCH_S)
        if end <= start:
            return 0
        if res == 60:
            sql = (f"INSERT INTO monitoring_rollups (series_id, res, ts, n, total, vmin, vmax) "  # noqa: S608
                   f"SELECT series_id, 60, {_bucket(60)} AS b, COUNT(*), SUM(v), MIN(v), MAX(v) "
                   f"FROM monitoring_points WHERE ts >= {mark} AND ts < {mark} GROUP BY series_id, b")
        else:
            sql = (f"INSERT INTO monitoring_rollups (series_id, res, ts, n, total, vmin, vmax) "  # noqa: S608
                   f"SELECT series_id, {res}, {_bucket(res)} AS b, SUM(n), SUM(total), MIN(vmin), MAX(vmax) "
                   f"FROM monitoring_rollups WHERE res = 60 AND ts >= {mark} AND ts < {mark} GROUP BY series_id, b")
        written, _ = await conn.execute_query(sql, [start, end])
        updated = await RollupState.filter(res=res).using_db(conn).update(done_until=end)
        if not updated:
            await RollupState.create(res=res, done_until=end, using_db=conn)
    return int(written or 0)


async def rollup(now: int | None = None) -> dict[str, int]:
    """Minute then hour rollups (each as far as it can go in a few steps), then retention."""
    now = int(now if now is not None else time.time())
    out = {"minute": 0, "hour": 0}
    for res, label in ((60, "minute"), (3600, "hour")):
        for _ in range(8):  # a backlog (a restart after hours) is caught up over a few runs
            written = await _roll(res, now)
            out[label] += written
            if not written:
                break
    out.update(await enforce_retention(now))
    return out


async def enforce_retention(now: int) -> dict[str, int]:
    """Drop what each level no longer keeps, but never a point or minute not yet rolled up."""
    s = get_settings()
    done = await done_until()
    mark = _mark()
    conn = _conn()
    raw_cut = min(now - s.raw_retention_hours * 3600, done.get(60, 0))
    minute_cut = min(now - s.minute_retention_days * 86400, done.get(3600, 0))
    hour_cut = now - s.hour_retention_days * 86400
    deleted = {"points_deleted": 0, "rollups_deleted": 0}
    for sql, params, key in (
        ("DELETE FROM monitoring_points WHERE ts < {m}", [raw_cut], "points_deleted"),
        ("DELETE FROM monitoring_rollups WHERE res = 60 AND ts < {m}", [minute_cut], "rollups_deleted"),
        ("DELETE FROM monitoring_rollups WHERE res = 3600 AND ts < {m}", [hour_cut], "rollups_deleted"),
    ):
        count, _ = await conn.execute_query(sql.format(m=mark), params)
        deleted[key] += int(count or 0)
    # A series unseen for longer than the longest retention has no data left anywhere.
    await Series.filter(last_seen__lt=hour_cut).delete()
    return deleted


# ---- queries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeriesRow:
    id: int
    node: str
    name: str
    tags: dict[str, str]
    unit: str

    def public_tags(self) -> dict[str, str]:
        return self.tags if self.node == CLUSTER else {**self.tags, "node": self.node}


def _tags_match(row: SeriesRow, wanted: dict[str, str]) -> bool:
    for key, value in wanted.items():
        have = (None if row.node == CLUSTER else row.node) if key == "node" else row.tags.get(key)
        if have != value:
            return False
    return True


async def find_series(*, name: str | None = None, prefix: str | None = None,
                      tags: dict[str, str] | None = None) -> list[SeriesRow]:
    qs = Series.all()
    if name is not None:
        qs = qs.filter(name=name)
    if prefix is not None:
        qs = qs.filter(name__startswith=prefix)
    rows = await qs.order_by("name", "node", "id").values_list("id", "node", "name", "tags", "unit")
    found = [SeriesRow(int(i), n, nm, t or {}, u) for i, n, nm, t, u in rows]
    return [r for r in found if _tags_match(r, tags or {})]


def _retention(res: int) -> int:
    s = get_settings()
    return {RAW: s.raw_retention_hours * 3600, 60: s.minute_retention_days * 86400,
            3600: s.hour_retention_days * 86400}[res]


def auto_step(start: int, end: int) -> int:
    """The smallest round step giving at most ``DEFAULT_POINTS`` buckets, never below a sample."""
    want = max(math.ceil((end - start) / DEFAULT_POINTS), get_settings().sample_interval)
    return next((s for s in NICE_STEPS if s >= want), NICE_STEPS[-1] * math.ceil(want / NICE_STEPS[-1]))


def choose_resolution(start: int, step: int, now: int) -> int:
    """The coarsest level no coarser than ``step`` that still holds ``start``; when none does,
    the finest level that holds it (the step then grows to that level)."""
    holds = [r for r in (RAW, 60, 3600) if start >= now - _retention(r)]
    fine_enough = [r for r in holds if r <= step]
    if fine_enough:
        return max(fine_enough)
    return min(holds) if holds else 3600


def _plan(res: int, start: int, end: int, done: dict[int, int]) -> list[tuple[int, int, int]]:
    """(level, from, to) segments: the rolled-up part from ``res``, the rest from finer levels."""
    if res == RAW or start >= end:
        return [(RAW, start, end)] if start < end else []
    edge = done.get(res, 0)
    out = [(res, start, min(end, edge))] if start < edge else []
    finer = 60 if res == 3600 else RAW
    return out + _plan(finer, max(start, edge), end, done)


Bucket = list[float]  # n, total, min, max


async def _read(level: int, ids: list[int], start: int, end: int, step: int,
                into: dict[int, dict[int, Bucket]]) -> None:
    mark = _mark()
    marks = ", ".join([mark] * len(ids))
    if level == RAW:
        sql = (f"SELECT series_id, {_bucket(step)} AS b, COUNT(*), SUM(v), MIN(v), MAX(v) "  # noqa: S608
               f"FROM monitoring_points WHERE series_id IN ({marks}) AND ts >= {mark} AND ts < {mark} "
               f"GROUP BY series_id, b")
        params: list[Any] = [*ids, start, end]
    else:
        sql = (f"SELECT series_id, {_bucket(step)} AS b, SUM(n), SUM(total), MIN(vmin), MAX(vmax) "  # noqa: S608
               f"FROM monitoring_rollups WHERE res = {level} AND series_id IN ({marks}) AND ts >= {mark} "
               f"AND ts < {mark} GROUP BY series_id, b")
        params = [*ids, start - start % level, end]
    _, rows = await _conn().execute_query(sql, params)
    for row in rows:
        sid, bucket, n, total, vmin, vmax = (row[k] for k in row) if isinstance(row, dict) else row
        cell = into.setdefault(int(sid), {}).get(int(bucket))
        if cell is None:
            into[int(sid)][int(bucket)] = [float(n), float(total), float(vmin), float(vmax)]
        else:
            cell[0] += float(n)
            cell[1] += float(total)
            cell[2] = min(cell[2], float(vmin))
            cell[3] = max(cell[3], float(vmax))


@dataclass
class Window:
    start: int
    end: int
    step: int
    resolution: int


def window(start: int, end: int, step: int | None, now: int | None = None) -> Window:
    """Validated query window: ``start < end`` (``start`` moved back to a bucket boundary), a step
    that is a multiple of the level read and gives at most ``MAX_POINTS`` buckets."""
    now = int(now if now is not None else time.time())
    if end <= start:
        raise invalid("from", "'from' must be before 'to'")
    step = step or auto_step(start, end)
    res = choose_resolution(start, step, now)
    if res:
        step = max(res, step - step % res)
    start -= start % step  # whole buckets only: the first one is not cut short
    if (end - start) / step > MAX_POINTS:
        raise invalid("step", f"at most {MAX_POINTS} points per series: use a step of at least "
                              f"{math.ceil((end - start) / MAX_POINTS)} s")
    return Window(start, end, step, res)


async def read_series(rows: list[SeriesRow], win: Window) -> dict[int, dict[int, Bucket]]:
    """Buckets ``{series id: {bucket start: [n, sum, min, max]}}`` over the window."""
    out: dict[int, dict[int, Bucket]] = {}
    if not rows:
        return out
    done = await done_until()
    ids = [r.id for r in rows]
    for level, seg_start, seg_end in _plan(win.resolution, win.start, win.end, done):
        for start in range(0, len(ids), CHUNK):
            await _read(level, ids[start:start + CHUNK], seg_start, seg_end, win.step, out)
    return out


def points_out(buckets: dict[int, Bucket]) -> list[dict[str, Any]]:
    return [{"timestamp": iso_epoch(b), "value": round(c[1] / c[0], 6), "min": c[2], "max": c[3], "count": int(c[0])}
            for b, c in sorted(buckets.items())]


async def query(name: str, tags: dict[str, str], start: int, end: int, step: int | None) -> dict[str, Any]:
    """Every stored series named ``name`` whose tags include ``tags``, bucketed by ``step``."""
    win = window(start, end, step)
    rows = await find_series(name=name, tags=tags)
    data = await read_series(rows, win)
    return {
        "name": name, "from": iso_epoch(win.start), "to": iso_epoch(win.end), "step": win.step,
        "resolution": win.resolution or get_settings().sample_interval,
        "series": [{"node": None if r.node == CLUSTER else r.node, "tags": r.public_tags(), "unit": r.unit,
                    "points": points_out(data.get(r.id, {}))} for r in rows],
    }


async def query_service(name: str, tags: dict[str, str] | None, start: int, end: int,
                        step: int | None = None) -> dict[str, Any]:
    """``services["monitoring.query"]``: same as ``GET /monitoring/metrics`` (raises ApiError 422
    on a bad window)."""
    return await query(name, dict(tags or {}), int(start), int(end), step)
