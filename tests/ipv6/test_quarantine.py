"""Quarantine ends and expiry releases, driven by the ``ipv6.sweep`` cron (in-process on SQLite,
in the worker with MariaDB + Redis), on a server with a short quarantine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ipv6wgm.testing import ServerProcess, running_server, wait_for

from .helpers import allocate, envelope, make_pool

FAST = {"IPV6WGM_IPV6_QUARANTINE_SECONDS": "2", "IPV6WGM_IPV6_SWEEP_SECONDS": "1"}


@pytest.fixture(scope="module", params=["sqlite", "mysql"])
def fast_server(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    with running_server(request.param, env=FAST) as proc:
        yield proc


def test_quarantine_ends_and_expiry_releases(fast_server: ServerProcess) -> None:
    with fast_server.client(fast_server.token()) as admin:
        pool = make_pool(admin, prefix_length=64, length=63)  # two /64s
        first, second = allocate(admin, pool["id"]), allocate(admin, pool["id"])
        released = envelope(admin.delete(f"/ipv6/allocations/{first['id']}"))
        assert released["status"] == "quarantined"
        allocate(admin, pool["id"], status=409)  # still in quarantine

        def reused() -> dict | None:
            r = admin.post("/ipv6/allocations", json={"pool_id": pool["id"], "client_name": "next"})
            return r.json()["data"] if r.status_code == 201 else None

        again = wait_for(reused, timeout=30, message="the quarantined prefix to come back")
        assert again["allocated_prefix"] == first["allocated_prefix"] and again["id"] != first["id"]
        counts = envelope(admin.get(f"/ipv6/pools/{pool['id']}"))
        assert (counts["allocated_prefixes"], counts["quarantined_prefixes"]) == (2, 0)

        other = make_pool(admin)
        soon = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()
        expiring = allocate(admin, other["id"], expires_at=soon)
        wait_for(lambda: admin.get(f"/ipv6/allocations/{expiring['id']}").json()["data"]["status"] == "quarantined",
                 timeout=30, message="the expired allocation to be released")
        wait_for(lambda: admin.get(f"/ipv6/allocations/{expiring['id']}").status_code == 404,
                 timeout=30, message="the quarantine of the expired allocation to end")
        counts = envelope(admin.get(f"/ipv6/pools/{other['id']}"))
        assert (counts["allocated_prefixes"], counts["quarantined_prefixes"]) == (0, 0)
        assert second["status"] == "active"
