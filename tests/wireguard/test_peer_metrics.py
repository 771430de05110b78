"""Per-peer metrics (``prometheus_per_peer``): every client of this node's interfaces, with the
exporter's labels, read by the paging fast path and fresh at each sample; and without the
setting, none are kept."""

from __future__ import annotations

import httpx
import pytest

from ipv6wgm.testing import ServerProcess, wait_for

from .helpers import make_server

TOKEN = "metrics-token-0123456789abcdef"  # noqa: S105 - a test's own token


@pytest.mark.hooks("collect_metrics")
def test_per_peer_series_on_metrics() -> None:
    server = ServerProcess(env={"IPV6WGM_METRICS_TOKEN": TOKEN, "IPV6WGM_MONITORING_PROMETHEUS_PER_PEER": "1",
                                "IPV6WGM_MONITORING_SAMPLE_INTERVAL": "1"})
    try:
        server.start()
        with server.client(server.token()) as admin:
            srv = make_server(admin)
            made = [admin.post("/wireguard/clients", json={"name": f"peer-{i}", "server_id": srv["id"]}).json()["data"]
                    for i in range(3)]

            def exported() -> str:
                r = httpx.get(f"{server.base}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
                assert r.status_code == 200, r.text
                return r.text if all(f'friendly_name="{c["name"]}"' in r.text for c in made) else ""

            text = wait_for(exported, timeout=30, message="per-peer series of every client")
        lines = [line for line in text.splitlines() if line.split("{")[0] in ("wireguard_sent_bytes",
                                                                               "wireguard_sent_bytes_total")]
        assert len(lines) == len(made)
        for client in made:
            line = next(line for line in lines if f'friendly_name="{client["name"]}"' in line)
            assert f'public_key="{client["public_key"]}"' in line
            assert f'allowed_ips="{client["ipv4_address"]},{client["ipv6_address"]}"' in line
            assert line.endswith(" 0.0")
    finally:
        server.cleanup()
