"""BGP job failures reach the client the same way on both backends (in-process on SQLite; from
the worker through arq with MariaDB + Redis): a BIRD that cannot run is a 503 naming the step
and the node, and the write is rolled back. (BIRD refusing a config, 422 with its message, is
covered end to end with a real BIRD in test_e2e.py.)"""

from __future__ import annotations

import pytest

from ipv6wgm.testing import running_server


@pytest.mark.parametrize("backend", ["sqlite", "mysql"])
def test_bird_that_cannot_run_is_503_and_changes_nothing(backend: str, tmp_path) -> None:
    env = {"IPV6WGM_BGP_BIRD_BINARY": str(tmp_path / "no-such-bird")}
    with running_server(backend, env=env) as server, server.client(server.token()) as c:
        r = c.post("/bgp/sessions", json={"name": "nobird", "neighbor": "10.95.0.1", "remote_as": 65001})
        assert r.status_code == 503, r.text
        error = r.json()["error"]
        assert error["code"] == "SERVICE_UNAVAILABLE" and error["details"]["step"] == "configure"
        assert error["details"]["node_id"] == server.env["IPV6WGM_NODE_ID"]
        assert "BIRD" in error["message"]
        assert c.get("/bgp/sessions").json()["data"]["pagination"]["total"] == 0
        r = c.post("/bgp/announcements", json={"prefix": "198.51.100.0/24", "next_hop": "10.95.0.5"})
        assert r.status_code == 503 and r.json()["error"]["details"]["step"] == "configure", r.text
        assert c.get("/bgp/announcements").json()["data"]["pagination"]["total"] == 0
