"""Storage on SQLite and MariaDB: rollups equal the raw data, run incrementally and only once,
queries stitch rollups with the raw tail, retention keeps what is not rolled up yet.

In-process (a runtime on a fresh database, no server), so the test controls every timestamp.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tortoise.backends.base.executor import EXECUTOR_CACHE

from ipv6wgm.bootstrap import session
from ipv6wgm.settings import load_settings
from ipv6wgm.testing import mysql_database

NOW = 1_800_000_000 - 1_800_000_000 % 3600 + 1234  # a fixed "now" inside an hour


@pytest.fixture(params=["sqlite", "mysql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[object]:
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(mysql_database()) if request.param == "mysql" else None
        try:
            async with session(load_settings(data_dir=tmp_path, database_url=url), migrate=True):
                from ipv6wgm_monitoring import store as module

                yield module
        finally:
            # Tortoise caches each table's INSERT text by connection name, not by dialect: the
            # next parameter (the other database, same name "default") must not inherit it.
            EXECUTOR_CACHE.clear()


def value_at(ts: int) -> float:
    return float((ts // 10) % 7) + (ts % 3) / 4


async def seed(store, node: str, start: int, end: int) -> int:
    from ipv6wgm_monitoring.models import Point

    ids = await store.series_ids(node, {store.series_key(node, "t.metric", {"k": "v"}): ("t.metric", {"k": "v"}, "")})
    sid = next(iter(ids.values()))
    await Point.bulk_create([Point(series_id=sid, ts=ts, v=value_at(ts)) for ts in range(start, end, 10)],
                            batch_size=1000)
    return sid


def expected(start: int, end: int, step: int, lo: int, hi: int) -> dict[int, tuple[int, float, float, float]]:
    """Buckets computed from the seeded values themselves."""
    out: dict[int, list[float]] = {}
    for ts in range(lo, hi, 10):
        if start - start % step <= ts < end:
            out.setdefault(ts - ts % step, []).append(value_at(ts))
    return {b: (len(v), sum(v), min(v), max(v)) for b, v in out.items()}


async def test_rollups_match_raw_and_queries_stitch(store) -> None:
    first, last = NOW - 5 * 3600, NOW - 5
    sid = await seed(store, "n1", first, last)
    written = await store.rollup(NOW)
    done = await store.done_until()
    grace = 2 * 10 + 15
    assert done[60] == (NOW - grace) - (NOW - grace) % 60 and done[3600] == done[60] - done[60] % 3600
    assert written["minute"] > 0 and written["hour"] > 0
    again = await store.rollup(NOW)  # nothing new: nothing written twice
    assert again["minute"] == 0 and again["hour"] == 0
    from ipv6wgm_monitoring.models import Rollup

    assert await Rollup.filter(series_id=sid, res=60).count() == len(range(first - first % 60, done[60], 60))
    [row] = await store.find_series(name="t.metric", tags={"node": "n1", "k": "v"})
    for start, step in ((first, 3600), (first, 60), (NOW - 1800, 300), (NOW - 600, 10)):
        win = store.window(start, NOW, step, NOW)
        assert win.step == step
        got = (await store.read_series([row], win))[row.id]
        want = expected(start, NOW, step, first, last)
        assert set(got) == set(want), (step, sorted(set(got) ^ set(want))[:5])
        for bucket, (n, total, vmin, vmax) in want.items():
            cell = got[bucket]
            assert (int(cell[0]), cell[2], cell[3]) == (n, vmin, vmax), (step, bucket)
            assert cell[1] == pytest.approx(total), (step, bucket)
    assert store.choose_resolution(NOW - 3600, 10, NOW) == store.RAW
    assert store.choose_resolution(NOW - 10 * 86400, 300, NOW) == 60
    assert store.choose_resolution(NOW - 300 * 86400, 60, NOW) == 3600  # only hours reach back a year


async def test_retention_keeps_what_is_not_rolled_up(store) -> None:
    from ipv6wgm_monitoring.models import Point, Rollup

    old_start = NOW - 50 * 3600
    sid = await seed(store, "n2", old_start, old_start + 3600)
    await seed(store, "n2", NOW - 600, NOW)
    await store.enforce_retention(NOW)  # nothing rolled up yet: nothing deleted
    assert await Point.filter(series_id=sid, ts__lt=NOW - 48 * 3600).count() == 360
    await store.rollup(NOW)
    assert await Point.filter(series_id=sid, ts__lt=NOW - 48 * 3600).count() == 0
    assert await Point.filter(series_id=sid, ts__gte=NOW - 600).count() == 60
    minutes = await Rollup.filter(series_id=sid, res=60, ts__lt=old_start + 3600).values_list("n", flat=True)
    assert sum(minutes) == 360  # the old hour lives on in its minutes
    [row] = await store.find_series(name="t.metric", tags={"node": "n2"})
    win = store.window(old_start, old_start + 3600, 600, NOW)
    assert win.resolution == 60
    got = (await store.read_series([row], win))[row.id]
    assert sum(int(c[0]) for c in got.values()) == 360


async def test_series_are_per_node_and_capped(store, monkeypatch: pytest.MonkeyPatch) -> None:
    from ipv6wgm_monitoring.models import CLUSTER, Series
    from ipv6wgm_monitoring.settings import get_settings

    key_a, key_b = store.series_key("a", "m", {}), store.series_key("b", "m", {})
    assert key_a != key_b and store.series_key("a", "m", {"x": "1", "y": "2"}) == store.series_key(
        "a", "m", {"y": "2", "x": "1"})
    await store.series_ids("a", {key_a: ("m", {}, "")})
    await store.series_ids("b", {key_b: ("m", {}, "")})
    await store.series_ids(CLUSTER, {store.series_key(CLUSTER, "m", {}): ("m", {}, "")})
    rows = await store.find_series(name="m")
    assert sorted(r.node for r in rows) == sorted(["a", "b", CLUSTER])
    assert [r.node for r in await store.find_series(name="m", tags={"node": "b"})] == ["b"]
    monkeypatch.setattr(get_settings(), "max_series_per_node", 3)
    many = {store.series_key("c", "m", {"i": str(i)}): ("m", {"i": str(i)}, "") for i in range(5)}
    assert len(await store.series_ids("c", many)) == 3
    assert await Series.filter(node="c").count() == 3
