"""Pure parts of the monitoring plugin: metric hygiene, node ownership, Prometheus naming
(per-interface and per-peer WireGuard series), signatures, times."""

from __future__ import annotations

import hashlib
import hmac
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ipv6wgm_monitoring.models import CLUSTER
from ipv6wgm_monitoring.notify import apprise_text, level_at_least, sign
from ipv6wgm_monitoring.prometheus import family_name, render
from ipv6wgm_monitoring.sampling import NodeSnapshot, Sample, clean, owned
from ipv6wgm_monitoring.timefmt import parse_duration, parse_time


def test_clean_refuses_malformed_metrics() -> None:
    assert clean("wireguard.clients", 3, {"server": "wg0"}, "count") == Sample("wireguard.clients", {"server": "wg0"},
                                                                              3.0, "count")
    assert clean("x.up", True, None, None) == Sample("x.up", {}, 1.0, "")
    assert clean("x.pool", 1, {"prefix": 42}, None).tags == {"prefix": "42"}
    for args in (("Bad.Name", 1, None, None), ("x..y", 1, None, None), ("x", float("nan"), None, None),
                 ("x", float("inf"), None, None), ("x", "12", None, None), ("x", 1, {"bad key": "v"}, None),
                 ("x", 1, {"k": "line\nbreak"}, None), ("x", 1, {f"k{i}": "v" for i in range(17)}, None),
                 ("x", 1, None, "Bytes!")):
        assert clean(*args) is None, args


def test_each_series_has_one_owner() -> None:
    samples = [Sample("wg.bytes", {"node": "gw1", "if": "wg0"}, 1, ""),
               Sample("wg.bytes", {"node": "gw2", "if": "wg0"}, 2, ""),
               Sample("pool.used", {"pool": "p"}, 3, "")]
    assert owned(samples, "gw1") == [Sample("wg.bytes", {"if": "wg0"}, 1, "")]
    assert owned(samples, "gw2") == [Sample("wg.bytes", {"if": "wg0"}, 2, "")]
    assert owned(samples, CLUSTER) == [samples[2]]
    assert owned(samples, "gw3") == []


def _snapshot(node: str, per_peer: bool) -> NodeSnapshot:
    rows = [["wireguard.bytes_sent", {"server": "s1", "interface": "wg0"}, 1000.0, "bytes", "k1"],
            ["wireguard.bytes_received", {"server": "s1", "interface": "wg0"}, 2000.0, "bytes", "k2"],
            ["wireguard.clients", {"server": "s1", "interface": "wg0"}, 2.0, "count", "k3"],
            ["system.memory.total", {}, 8e9, "bytes", "k4"], ["system.cpu.usage", {}, 12.5, "percent", "k5"]]
    if per_peer:
        for i in range(2):
            peer = {"interface": "wg0", "public_key": f"key{i}=", "allowed_ips": f"10.0.0.{i + 2}/32",
                    "friendly_name": f"c{i}"}
            rows += [["wireguard.peer.sent_bytes", peer, 100.0 * i, "bytes", None],
                     ["wireguard.peer.received_bytes", peer, 200.0 * i, "bytes", None],
                     ["wireguard.peer.latest_handshake", peer, 1.7e9 + i, "seconds", None]]
    return NodeSnapshot(node, int(time.time()), None, rows)


def _families(text: bytes) -> dict:
    return {f.name: f for f in text_string_to_metric_families(text.decode())}


def test_prometheus_wireguard_names_per_interface_and_per_peer() -> None:
    per_interface = _families(render([_snapshot("gw1", False)], {"warning": 2}, per_peer=False))
    sent = per_interface["wireguard_sent_bytes"]
    assert sent.type == "counter" and [(s.name, s.labels, s.value) for s in sent.samples] == [
        ("wireguard_sent_bytes_total", {"server": "s1", "interface": "wg0", "node": "gw1"}, 1000.0)]
    assert per_interface["wireguard_received_bytes"].samples[0].value == 2000.0
    assert per_interface["ipv6wgm_wireguard_bytes_sent"].samples[0].value == 1000.0
    assert per_interface["ipv6wgm_system_memory_total_bytes"].samples[0].value == 8e9
    assert per_interface["ipv6wgm_system_cpu_usage_percent"].type == "gauge"
    assert {s.labels["level"]: s.value for s in per_interface["ipv6wgm_alerts_active"].samples}["warning"] == 2

    per_peer = _families(render([_snapshot("gw1", True)], {}, per_peer=True))
    sent = per_peer["wireguard_sent_bytes"].samples
    assert {s.labels["public_key"] for s in sent} == {"key0=", "key1="}
    assert all(s.labels["node"] == "gw1" and s.labels["allowed_ips"].endswith("/32") for s in sent)
    handshakes = per_peer["wireguard_latest_handshake_seconds"]
    assert handshakes.type == "gauge" and len(handshakes.samples) == 2
    assert "ipv6wgm_wireguard_peer_sent_bytes" not in per_peer  # peers are exported only under the exporter's names
    assert per_peer["ipv6wgm_wireguard_bytes_sent"].samples[0].value == 1000.0  # interface totals stay


def test_silent_nodes_are_down_and_not_exported() -> None:
    stale = _snapshot("gw9", False)
    stale.taken_at = int(time.time()) - 3600
    families = _families(render([stale], {}, per_peer=False))
    assert [(s.labels, s.value) for s in families["ipv6wgm_node_up"].samples] == [({"node": "gw9"}, 0.0)]
    assert "wireguard_sent_bytes" not in families


def test_family_names() -> None:
    assert family_name("system.disk.usage", "percent") == "ipv6wgm_system_disk_usage_percent"
    assert family_name("system.network.send_rate", "bytes_per_second") == \
        "ipv6wgm_system_network_send_rate_bytes_per_second"
    assert family_name("system.uptime", "seconds") == "ipv6wgm_system_uptime_seconds"
    assert family_name("ipv6.pool.allocated", "count") == "ipv6wgm_ipv6_pool_allocated"


def test_signature_is_hmac_sha256_over_timestamp_and_body() -> None:
    body = b'{"event":"alert.active"}'
    expected = hmac.new(b"k" * 20, b"1700000000." + body, hashlib.sha256).hexdigest()
    assert sign("k" * 20, 1700000000, body) == f"sha256={expected}"
    assert level_at_least("critical", "warning") and not level_at_least("info", "warning")
    title, text = apprise_text("alert.active", {"alert": {"level": "error", "name": "Disk", "status": "active",
                                                          "metric_name": "system.disk.usage", "condition": ">",
                                                          "threshold_value": 90, "current_value": 95, "id": "a_1",
                                                          "node": "gw1"}})
    assert title == "[ERROR] Disk active" and "gw1" in text and "95" in text


def test_times_and_durations() -> None:
    assert parse_time("2024-01-01T00:00:00Z") == 1704067200 == parse_time("1704067200")
    assert parse_time("2024-01-01T01:00:00+01:00") == 1704067200
    assert parse_duration("5m") == 300 and parse_duration("90") == 90 and parse_duration("1d") == 86400
    for bad in ("yesterday", "2024-13-01T00:00:00Z", "99999999999999"):
        with pytest.raises(ValueError):
            parse_time(bad)
    for bad in ("0", "5x", "-1m", "1 h"):
        with pytest.raises(ValueError):
            parse_duration(bad)
