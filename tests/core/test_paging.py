"""``fetch_page`` against the ORM on SQLite and MariaDB: every page, both ends, filters, escaping.

The fast path builds its own statements, so it is checked row for row against what Tortoise
returns for the same filter, including deep pages that are read from the other end.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ipv6wgm.api import PageQuery
from ipv6wgm.testing import mysql_database

N = 2345


@pytest.fixture(scope="module", params=["sqlite", "mysql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite://{tmp}/paging.sqlite3"
        return
    with mysql_database() as url:
        yield url


async def _check(database_url: str) -> None:
    from tortoise.expressions import Q

    from ipv6wgm.bootstrap import build_runtime
    from ipv6wgm.db import close_db, init_db, open_sqlite_reader, upgrade
    from ipv6wgm.paging import Eq, In, Range, Search, fetch_page
    from ipv6wgm.settings import load_settings
    from ipv6wgm.users.models import User

    with tempfile.TemporaryDirectory() as data_dir:
        os.chmod(data_dir, 0o700)
        settings = load_settings(data_dir=data_dir, database_url=database_url, secret_key="k" * 40)
        rt = build_runtime(settings, role="cli")
        await upgrade(settings, rt.registry.models)
        await init_db(settings, rt.registry.models)
        try:
            base = datetime(2026, 1, 1, tzinfo=UTC)
            await User.bulk_create([
                User(username=f"u{i:05d}", email=None if i % 7 == 0 else f"u{i}@example.com", password_hash="x",
                     role=("manager", "user")[i % 2], full_name="100% sure" if i % 50 == 0 else f"name_{i}",
                     is_active=i % 3 != 0, last_login=base + timedelta(minutes=i)) for i in range(N)
            ], batch_size=500)
            columns = ("id", "username", "email", "full_name", "role", "is_active", "last_login")

            def as_tuple(r: object) -> tuple:
                return tuple(getattr(r, c) for c in columns)

            async def compare(where: list, qs: object, order: tuple[str, ...] = ("id",)) -> None:
                expected = [as_tuple(u) for u in await qs.order_by(*order)]  # type: ignore[attr-defined]
                for page, size in ((1, 20), (2, 7), (60, 20), (100, 13), (115, 20), (117, 20), (118, 20),
                                   (1000, 20), (1, 100), (24, 100)):
                    q = PageQuery(page=page, size=size)
                    rows, pagination = await fetch_page(User, columns, q, where=where, order=order)
                    assert pagination["total"] == len(expected)
                    assert [as_tuple(r) for r in rows] == expected[q.offset:q.offset + q.limit], (page, size)

            # SQLite: once through the ORM's connection, once inline on the read-only reader
            for reader in {None, open_sqlite_reader(settings)}:
                rt.db_reader = reader
                await compare([], User.all())
                await compare([], User.all(), order=("-id",))
                await compare([Eq("role", "manager")], User.filter(role="manager"))
                await compare([Eq("email", None)], User.filter(email__isnull=True))
                await compare([In("role", ("user",)), Eq("is_active", True)],
                              User.filter(role="user", is_active=True))
                await compare([In("id", ())], User.filter(id__in=[]))
                low, high = base + timedelta(minutes=100), base + timedelta(minutes=1999)
                await compare([Range("last_login", low, high)],
                              User.filter(last_login__gte=low, last_login__lte=high))
                await compare([Range("last_login", low=None, high=high)], User.filter(last_login__lte=high),
                              order=("-last_login",))
                if reader is not None:
                    reader.close()
            rt.db_reader = None
            # LIKE wildcards in the term are literal: "_1" must not match "name11" via "_"
            await compare([Search(("full_name", "username"), "e_1")],
                          User.filter(Q(full_name__icontains="e_1") | Q(username__icontains="e_1")))
            await compare([Search(("full_name",), "0%")], User.filter(full_name__contains="0%"))
            await compare([Search(("full_name",), "NAME_2")], User.filter(full_name__icontains="name_2"))
            rows, _ = await fetch_page(User, ("is_active", "last_login"), PageQuery(page=1, size=2))
            assert isinstance(rows[0].is_active, bool) and rows[0].last_login.tzinfo is not None
            await _check_render_page()
        finally:
            await close_db()


async def _check_render_page() -> None:
    """``render_page`` renders each row once, again when the row changes (whoever changed it) or
    when the render said its answer expires; the JSON is what the render returned."""
    import orjson

    from ipv6wgm.paging import as_rendered, render_page
    from ipv6wgm.users.models import User

    calls: list[int] = []

    def render(user: object, now: datetime) -> tuple[dict, datetime | None]:
        calls.append(user.id)  # type: ignore[attr-defined]
        until = now if user.id % 2 else now + timedelta(hours=1)  # type: ignore[attr-defined]
        return {"id": user.id, "name": user.username, "login": user.last_login.isoformat()}, until  # type: ignore[attr-defined]

    def as_json(rows: list) -> list[dict]:
        return orjson.loads(orjson.dumps(rows))

    q = PageQuery(page=2, size=4)
    expected = [{"id": u.id, "name": u.username, "login": u.last_login.isoformat()}
                for u in await User.all().order_by("id").offset(4).limit(4)]
    rows, page = await render_page(User, ("id", "username", "last_login"), q, render)
    assert as_json(rows) == expected and page["total"] == N and len(calls) == 4
    rows, _ = await render_page(User, ("id", "username", "last_login"), q, render)
    assert as_json(rows) == expected and sorted(calls[4:]) == sorted(u["id"] for u in expected if u["id"] % 2)
    changed = expected[0]["id"]
    await User.filter(id=changed).update(username="renamed")  # as another process would
    calls.clear()
    rows, _ = await render_page(User, ("id", "username", "last_login"), q, render)
    assert as_json(rows)[0]["name"] == "renamed" and changed in calls
    before = len(calls)
    await render_page(User, ("id", "username", "last_login"), q, render, context="other")
    assert len(calls) == before + 4  # another context: rendered afresh
    kept, _ = await render_page(User, ("id", "username", "last_login"), q, render, context="html", freeze=as_rendered)
    assert kept == as_json(rows) and all(isinstance(row, dict) for row in kept), "kept as render returned it"


def test_fetch_page_matches_the_orm(database_url: str) -> None:
    # Its own process: Tortoise caches per-model SQL for the first database it talked to.
    done = subprocess.run([sys.executable, __file__, database_url], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stdout + done.stderr


if __name__ == "__main__":
    asyncio.run(_check(sys.argv[1]))
    print("ok")
