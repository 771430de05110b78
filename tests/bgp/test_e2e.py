"""End to end through the API with real BIRDs in network namespaces.

The server runs normally; its BIRD (owned by the server on SQLite, by the ``ipv6wgm worker``
with MariaDB + Redis) runs in ``bgpt-s…`` through ``IPV6WGM_BGP_NETNS``. A peer BIRD,
configured here, runs in ``bgpt-p…``; a veth joins them (10.97.0.0/29, fd00:97::/64 only).
Peer-side facts are read on the peer's control socket with our own client.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from ipv6wgm.testing import REDIS_URL, ServerProcess, check_redis, mysql_database, recv_until, wait_for, ws_url
from ipv6wgm_bgp.bird import BirdControl, session_state
from ipv6wgm_bgp.bird.state import ReceivedRoute, parse_routes

from .conftest import require_root_and_bird

OURS4, OURS4_2, PEER4, PEER4_2, NH4 = "10.97.0.1", "10.97.0.3", "10.97.0.2", "10.97.0.4", "10.97.0.5"
OURS6, PEER6, NH6 = "fd00:97::1", "fd00:97::2", "fd00:97::5"
AS_US, AS_PEER = 65001, 65002
PEER_CONF = f"""
router id {PEER4};
timeformat protocol "%s";
protocol device {{ }}
protocol static ps4 {{ ipv4; route 203.0.113.0/24 blackhole; }}
template bgp t {{ local as {AS_PEER}; connect retry time 1; error wait time 1, 2; hold time 9; }}
protocol bgp p4 from t {{ neighbor {OURS4} as {AS_US}; ipv4 {{ import all; export where proto = "ps4"; }}; }}
protocol bgp p6 from t {{ neighbor {OURS6} as {AS_US}; ipv6 {{ import all; export none; }}; }}
protocol bgp pmd5 from t {{ local {PEER4_2} as {AS_PEER}; neighbor {OURS4_2} as {AS_US};
  password "right-secret"; ipv4 {{ import all; export none; }}; }}
"""


def sh(*args: str) -> None:
    subprocess.run(list(args), check=True, capture_output=True, timeout=60)


def peer_query(sock: str, command: str) -> Any:
    async def run() -> Any:
        async with BirdControl(sock) as ctl:
            return await ctl.request(command)

    return asyncio.run(run())


def peer_routes(sock: str, proto: str) -> dict[str, ReceivedRoute]:
    return {r.prefix: r for r in parse_routes(peer_query(sock, f'show route all where proto = "{proto}"'))}


def peer_since(sock: str, proto: str) -> int | None:
    async def run() -> int | None:
        async with BirdControl(sock) as ctl:
            st = await session_state(ctl, proto)
            return st.since_epoch if st is not None and st.state == "established" else None

    return asyncio.run(run())


class Lab:
    def __init__(self, server: ServerProcess, peer_sock: str, include: Path) -> None:
        self.server, self.peer_sock, self.include = server, peer_sock, include
        self.token = server.token()

    def client(self) -> httpx.Client:
        return self.server.client(self.token)


@pytest.fixture(params=["sqlite", "mysql"], scope="module")
def lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    bird = require_root_and_bird()
    tag = secrets.token_hex(3)
    ns_s, ns_p, veth = f"bgpt-s{tag}", f"bgpt-p{tag}", f"bgpt{tag}"
    work = tmp_path_factory.mktemp("bgp-e2e")
    include = work / "operator.conf"
    include.write_text("# operator config, included verbatim\n")
    peer: subprocess.Popen[bytes] | None = None
    server: ServerProcess | None = None
    ctx = None
    try:
        for ns in (ns_s, ns_p):
            sh("ip", "netns", "add", ns)
            sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "link", "add", f"{veth}s", "netns", ns_s, "type", "veth", "peer", "name", f"{veth}p", "netns", ns_p)
        sides = ((ns_s, f"{veth}s", (OURS4, OURS4_2), OURS6), (ns_p, f"{veth}p", (PEER4, PEER4_2), PEER6))
        for ns, dev, v4s, v6 in sides:
            for v4 in v4s:
                sh("ip", "-n", ns, "addr", "add", f"{v4}/29", "dev", dev)
            sh("ip", "-n", ns, "addr", "add", f"{v6}/64", "dev", dev, "nodad")
            sh("ip", "-n", ns, "link", "set", dev, "up")
        (work / "peer.conf").write_text(PEER_CONF)
        peer_sock = str(work / "peer.ctl")
        argv = ["ip", "netns", "exec", ns_p, bird, "-f", "-c", str(work / "peer.conf"), "-s", peer_sock]
        peer = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: Path(peer_sock).exists(), timeout=15, message="peer BIRD socket")
        env = {"IPV6WGM_BGP_NETNS": ns_s, "IPV6WGM_BGP_ROUTER_ID": OURS4, "IPV6WGM_BGP_LOCAL_AS": str(AS_US),
               "IPV6WGM_BGP_COLLECT_INTERVAL": "1", "IPV6WGM_BGP_EXTRA_INCLUDES": json.dumps([str(include)])}
        if request.param == "sqlite":
            server = ServerProcess(env=env)
        else:
            check_redis()
            ctx = mysql_database()
            server = ServerProcess(database_url=ctx.__enter__(), redis_url=REDIS_URL, env=env)
        server.start()
        yield Lab(server, peer_sock, include)
    finally:
        if server is not None:
            print(server.logs())  # shown when a test failed
            server.cleanup()
        if ctx is not None:
            ctx.__exit__(None, None, None)
        if peer is not None and peer.poll() is None:
            peer.send_signal(signal.SIGTERM)
            try:
                peer.wait(10)
            except subprocess.TimeoutExpired:
                peer.kill()
                peer.wait()
        for ns in (ns_s, ns_p):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def session(c: httpx.Client, sid: int) -> dict[str, Any]:
    r = c.get(f"/bgp/sessions/{sid}")
    assert r.status_code == 200, r.text
    return r.json()["data"]


def established(c: httpx.Client, sid: int, timeout: float = 60) -> dict[str, Any]:
    return wait_for(lambda: (s := session(c, sid))["status"] == "established" and s, timeout=timeout,
                    message=f"session {sid} established")


def test_sessions_announcements_and_isolation(lab: Lab) -> None:
    with lab.client() as c:
        r = c.post("/bgp/sessions", json={"name": "peer4", "neighbor": PEER4, "remote_as": AS_PEER, "hold_time": 9})
        assert r.status_code == 201, r.text
        s4 = r.json()["data"]["id"]
        r = c.post("/bgp/sessions", json={"name": "peer6", "neighbor": PEER6, "remote_as": AS_PEER, "hold_time": 9,
                                          "description": "IPv6 neighbor"})
        assert r.status_code == 201, r.text
        s6 = r.json()["data"]["id"]
        r = c.post("/bgp/sessions", json={"name": "md5", "neighbor": PEER4_2, "source_address": OURS4_2,
                                          "remote_as": AS_PEER, "password": "wrong-secret"})
        assert r.status_code == 201, r.text
        md5 = r.json()["data"]
        assert md5["has_password"] is True and "password" not in md5 and "password_enc" not in md5

        first = established(c, s4)
        assert first["uptime"] >= 0 and first["local_as"] == AS_US
        established(c, s6)
        time.sleep(2.5)
        assert session(c, s4)["uptime"] >= first["uptime"] + 2
        # the peer's 203.0.113.0/24 is received
        routes = wait_for(lambda: c.get(f"/bgp/sessions/{s4}/routes").json()["data"]["routes"], timeout=30,
                          message="received routes")
        assert [(x["prefix"], x["as_path"]) for x in routes] == [("203.0.113.0/24", [AS_PEER])]
        assert session(c, s4)["routes_received"] == 1

        # announcements reach the peer with next hop, AS path and communities; disabling withdraws
        r = c.post("/bgp/announcements", json={"prefix": "192.0.2.0/24", "next_hop": NH4, "as_path": "65010 65010",
                                               "community": "65001:100", "large_communities": ["65001:1:2"]})
        assert r.status_code == 201, r.text
        a4 = r.json()["data"]
        assert a4["status"] == "active" and a4["community"] == "65001:100 65001:1:2"
        got = wait_for(lambda: peer_routes(lab.peer_sock, "p4").get("192.0.2.0/24"), timeout=30, message="peer route")
        assert got.next_hop == NH4 and got.as_path == (AS_US, 65010, 65010)
        assert got.communities == ("65001:100",) and got.large_communities == ("65001:1:2",)
        r = c.post("/bgp/announcements", json={"prefix": "2001:db8:1::/48", "next_hop": NH6, "as_path": "",
                                               "communities": ["65001:6"]})
        assert r.status_code == 201, r.text
        got6 = wait_for(lambda: peer_routes(lab.peer_sock, "p6").get("2001:db8:1::/48"), timeout=30,
                        message="peer IPv6 route")
        assert got6.next_hop == NH6 and got6.as_path == (AS_US,) and got6.communities == ("65001:6",)
        assert c.put(f"/bgp/announcements/{a4['id']}", json={"enabled": False}).json()["data"]["status"] == "disabled"
        wait_for(lambda: "192.0.2.0/24" not in peer_routes(lab.peer_sock, "p4"), timeout=30, message="withdrawn")
        assert "2001:db8:1::/48" in peer_routes(lab.peer_sock, "p6")

        # a wrong MD5 password never establishes, and the API shows it
        time.sleep(4)
        wrong = session(c, md5["id"])
        assert wrong["status"] != "established" and wrong["uptime"] == 0
        assert peer_since(lab.peer_sock, "pmd5") is None

        # stopping one session leaves the other's uptime untouched
        since4 = peer_since(lab.peer_sock, "p4")
        r = c.post(f"/bgp/sessions/{s6}/stop")
        assert r.status_code == 200 and r.json()["data"]["status"] == "idle", r.text
        wait_for(lambda: peer_since(lab.peer_sock, "p6") is None, timeout=30, message="peer6 down")
        assert peer_since(lab.peer_sock, "p4") == since4
        r = c.post(f"/bgp/sessions/{s6}/start")
        assert r.status_code == 200 and r.json()["data"]["started_at"], r.text
        established(c, s6)

        # the right password (changed through the API) brings the MD5 session up
        assert c.put(f"/bgp/sessions/{md5['id']}", json={"password": "right-secret"}).status_code == 200
        established(c, md5["id"])
        assert peer_since(lab.peer_sock, "p4") == since4

        # the status stream
        with connect(ws_url(lab.server, "/ws/bgp/status", token=lab.token)) as ws:
            msg = recv_until(ws, "bgp_status", timeout=30, predicate=lambda d: any(
                x["id"] == s4 and x["status"] == "established" and x["uptime"] > 0 for x in d["sessions"]))
            assert set(msg["data"]["sessions"][0]) == {"id", "name", "status", "uptime", "routes_received",
                                                      "routes_advertised"}


def test_bird_refuses_config_rolls_back(lab: Lab) -> None:
    """A tree BIRD's ``configure check`` refuses is not committed, and the API says why."""
    with lab.client() as c:
        before = c.get("/bgp/sessions").json()["data"]["pagination"]["total"]
        lab.include.write_text("this is not bird config;\n")
        try:
            r = c.post("/bgp/sessions", json={"name": "refused", "neighbor": "10.97.1.9", "remote_as": 65009})
            assert r.status_code == 422, r.text
            err = r.json()["error"]
            assert err["details"]["field"] == "config" and "operator.conf" in err["details"]["message"]
            assert c.get("/bgp/sessions").json()["data"]["pagination"]["total"] == before
        finally:
            lab.include.write_text("# operator config, included verbatim\n")
        r = c.post("/bgp/sessions", json={"name": "accepted", "neighbor": "10.97.1.9", "remote_as": 65009})
        assert r.status_code == 201, r.text
        assert c.delete(f"/bgp/sessions/{r.json()['data']['id']}").status_code == 200


def test_200_sessions_changes_leave_established_alone(lab: Lab) -> None:
    with lab.client() as c:
        sessions = c.get("/bgp/sessions", params={"size": 100}).json()["data"]["sessions"]
        up = {s["name"]: s["id"] for s in sessions if s["name"] in ("peer4", "peer6")}
        assert len(up) == 2
        for sid in up.values():
            established(c, sid)
        since = {p: peer_since(lab.peer_sock, p) for p in ("p4", "p6")}
        total = c.get("/bgp/sessions").json()["data"]["pagination"]["total"]
        started = time.monotonic()
        for i in range(200 - total):
            r = c.post("/bgp/sessions", json={"name": f"bulk{i}", "neighbor": f"10.96.{i // 250}.{i % 250 + 1}",
                                              "remote_as": 64512 + i})
            assert r.status_code == 201, r.text
        fill = time.monotonic() - started
        assert c.get("/bgp/sessions").json()["data"]["pagination"]["total"] == 200
        timings = {}
        t = time.monotonic()
        r = c.post("/bgp/sessions", json={"name": "extra", "neighbor": "10.96.9.9", "remote_as": 65099})
        timings["add"] = time.monotonic() - t
        assert r.status_code == 201, r.text
        extra = r.json()["data"]["id"]
        t = time.monotonic()
        assert c.put(f"/bgp/sessions/{extra}", json={"remote_as": 65098, "hold_time": 30}).status_code == 200
        timings["change"] = time.monotonic() - t
        t = time.monotonic()
        assert c.delete(f"/bgp/sessions/{extra}").status_code == 200
        timings["delete"] = time.monotonic() - t
        print(f"BGP API with 201 sessions: fill {fill:.1f}s; " + ", ".join(f"{k} {v * 1000:.0f} ms"
                                                                       for k, v in timings.items()))
        assert {p: peer_since(lab.peer_sock, p) for p in ("p4", "p6")} == since
        for sid in up.values():
            assert session(c, sid)["status"] == "established"


def test_announced_ipv6_pool_reaches_the_peer(lab: Lab) -> None:
    """The IPv6 plugin's announced pool is offered through the ``ipv6.announcements`` service."""
    with lab.client() as c:
        sessions = c.get("/bgp/sessions", params={"size": 100}).json()["data"]["sessions"]
        s6 = next((s["id"] for s in sessions if s["name"] == "peer6"), None)
        if s6 is None:
            r = c.post("/bgp/sessions", json={"name": "peer6", "neighbor": PEER6, "remote_as": AS_PEER,
                                              "hold_time": 9})
            assert r.status_code == 201, r.text
            s6 = r.json()["data"]["id"]
        c.post(f"/bgp/sessions/{s6}/start")
        established(c, s6)
        r = c.post("/ipv6/pools", json={"name": "announced", "prefix": "2001:db8:77::/48", "prefix_length": 56,
                                        "announce": True})
        assert r.status_code == 201, r.text
        pool = r.json()["data"]
        wait_for(lambda: "2001:db8:77::/48" in peer_routes(lab.peer_sock, "p6"), timeout=30,
                 message="pool aggregate announced")
        assert c.put(f"/ipv6/pools/{pool['id']}", json={"announce": False}).status_code == 200
        wait_for(lambda: "2001:db8:77::/48" not in peer_routes(lab.peer_sock, "p6"), timeout=30,
                 message="pool aggregate withdrawn")
        assert c.delete(f"/ipv6/pools/{pool['id']}").status_code == 200
