"""Shared fixtures: one real server per backend (SQLite embedded; MariaDB + Redis + worker).

Both backends are mandatory: if MariaDB or Redis cannot be reached the fixture raises and the
tests fail. Nothing is skipped.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ipv6wgm.testing import REDIS_URL, ServerProcess, check_redis, mysql_database

pytest_plugins: list[str] = []


@pytest.fixture(scope="session", params=["sqlite", "mysql"])
def server(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    if request.param == "sqlite":
        proc = ServerProcess()
        try:
            yield proc.start()
        finally:
            proc.cleanup()
        return
    check_redis()
    with mysql_database() as url:
        proc = ServerProcess(database_url=url, redis_url=REDIS_URL)
        try:
            yield proc.start()
        finally:
            proc.cleanup()


@pytest.fixture(scope="session")
def admin_token(server: ServerProcess) -> str:
    return server.token()


@pytest.fixture()
def admin(server: ServerProcess, admin_token: str):
    with server.client(admin_token) as client:
        yield client
