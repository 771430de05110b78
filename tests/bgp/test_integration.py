"""Real BIRD 2 in two network namespaces: our supervised BIRD in ``bgpt-a``, a peer in ``bgpt-b``.

Tests share one pair of BIRDs (starting BGP sessions is the slow part) and each one applies
the whole desired tree it needs, the way the product does. Peer-side facts are read with
our own client on the peer's control socket.
"""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import replace

import pytest

from ipv6wgm_bgp.bird import (
    AnnouncementSpec,
    BirdConfigError,
    BirdControl,
    BirdError,
    BirdSupervisor,
    SessionSpec,
    SessionState,
    received_routes,
    session_state,
)
from ipv6wgm_bgp.bird.state import ReceivedRoute, parse_routes

from .helpers import A4_2, AS_A, AS_B, B4_2, MD5_PASSWORD, NH4, NH6, session4, session6, tree, wait_for

pytestmark = pytest.mark.asyncio(loop_scope="session")

ANN4 = AnnouncementSpec(
    1,
    "192.0.2.0/24",
    next_hop=NH4,
    as_path_prepend=[AS_A, 65010],
    communities=["65001:100", "65001:200"],
    large_communities=["65001:1:2"],
)
ANN6 = AnnouncementSpec(2, "2001:db8:1::/48", next_hop=NH6, communities=["65001:6"])


async def established(sup: BirdSupervisor, proto: str, timeout: float = 30) -> SessionState:
    async def probe() -> SessionState | None:
        return await session_state(sup.control, proto)

    st = await wait_for(probe, lambda s: s is not None and s.state == "established", timeout, f"{proto} up")
    assert st is not None
    return st


async def peer_routes(peer: BirdControl, proto: str) -> dict[str, ReceivedRoute]:
    reply = await peer.request(f'show route all where proto = "{proto}"')
    return {r.prefix: r for r in parse_routes(reply)}


async def since(sup: BirdSupervisor, proto: str) -> int | None:
    st = await session_state(sup.control, proto)
    assert st is not None
    return st.since_epoch


async def test_session_established_and_uptime_grows(supervisor: BirdSupervisor, peer: BirdControl) -> None:
    await supervisor.apply(tree([session4(), session6()], []))
    st = await established(supervisor, "wgm_peer4")
    assert st.neighbor == "10.98.0.2" and st.last_error is None
    await asyncio.sleep(2.1)
    later = await session_state(supervisor.control, "wgm_peer4")
    assert later is not None and later.since_epoch == st.since_epoch
    assert later.uptime_s >= st.uptime_s + 2
    # the peer exports 203.0.113.0/24 with a community: we see it as received
    await wait_for(lambda: received_routes(supervisor.control, "wgm_peer4"), lambda r: len(r) == 1, what="rx")
    (rx,) = await received_routes(supervisor.control, "wgm_peer4")
    assert (rx.prefix, rx.next_hop, rx.as_path, rx.communities) == (
        "203.0.113.0/24",
        "10.98.0.2",
        (AS_B,),
        ("65002:7",),
    )
    st = await wait_for(
        lambda: session_state(supervisor.control, "wgm_peer4"),
        lambda s: s is not None and s.routes_imported == 1,
        what="imported counter",
    )


async def test_announcement_reaches_peer_as_requested(supervisor: BirdSupervisor, peer: BirdControl) -> None:
    await supervisor.apply(tree([session4(), session6()], []))
    before = (await established(supervisor, "wgm_peer4")).since_epoch
    await asyncio.sleep(1.1)  # so a session restart would show as a new `since`
    await supervisor.apply(tree([session4(), session6()], [ANN4, ANN6]))
    routes = await wait_for(lambda: peer_routes(peer, "a4"), lambda r: "192.0.2.0/24" in r, what="v4 route")
    got = routes["192.0.2.0/24"]
    assert got.next_hop == NH4
    assert got.as_path == (AS_A, AS_A, 65010)  # our AS, then the prepends in the given order
    assert set(got.communities) == {"65001:100", "65001:200"}
    assert got.large_communities == ("65001:1:2",)
    st = await session_state(supervisor.control, "wgm_peer4")
    assert st is not None and st.routes_exported == 1
    assert await since(supervisor, "wgm_peer4") == before  # announcing restarts nothing

    # disabling the announcement withdraws it, and only it
    await supervisor.apply(tree([session4(), session6()], [replace(ANN4, enabled=False), ANN6]))
    await wait_for(lambda: peer_routes(peer, "a4"), lambda r: "192.0.2.0/24" not in r, what="withdrawal")
    assert "2001:db8:1::/48" in await peer_routes(peer, "a6")
    assert await since(supervisor, "wgm_peer4") == before


async def test_ipv6_neighbor_and_prefix(supervisor: BirdSupervisor, peer: BirdControl) -> None:
    await supervisor.apply(tree([session4(), session6()], [ANN6]))
    st = await established(supervisor, "wgm_peer6")
    assert st.neighbor == "fd00:98::2"
    routes = await wait_for(lambda: peer_routes(peer, "a6"), lambda r: "2001:db8:1::/48" in r, what="v6 route")
    r6 = routes["2001:db8:1::/48"]
    assert (r6.next_hop, r6.as_path, r6.communities) == (NH6, (AS_A,), ("65001:6",))
    assert "2001:db8:1::/48" not in await peer_routes(peer, "a4")  # v6 stays on the v6 session
    (rx,) = await wait_for(lambda: received_routes(supervisor.control, "wgm_peer6"), lambda r: len(r) == 1)
    assert rx.prefix == "2001:db8:ff::/48"


async def test_wrong_md5_password_never_establishes(supervisor: BirdSupervisor, peer: BirdControl) -> None:
    def md5(password: str) -> SessionSpec:
        return SessionSpec(
            "md5", B4_2, AS_B, AS_A, password=password, source_address=A4_2, hold_time=9, connect_retry_time=1
        )

    await supervisor.apply(tree([session4(), session6(), md5("wrong-secret")], []))
    seen: set[str] = set()
    for _ in range(25):  # 5 s: several connect retries
        st = await session_state(supervisor.control, "wgm_md5")
        assert st is not None
        seen.add(st.state)
        await asyncio.sleep(0.2)
    assert "established" not in seen and seen <= {"idle", "connect", "active"}, seen
    assert seen & {"connect", "active"}, seen
    # the same session with the right password comes up: the password was the only problem
    await supervisor.apply(tree([session4(), session6(), md5(MD5_PASSWORD)], []))
    await established(supervisor, "wgm_md5")


async def test_other_sessions_keep_their_since(supervisor: BirdSupervisor, peer: BirdControl) -> None:
    base = [session4(), session6()]
    await supervisor.apply(tree(base, [ANN4]))
    await established(supervisor, "wgm_peer6")
    keep = (await established(supervisor, "wgm_peer4")).since_epoch
    peer_keep = (await session_state(peer, "a4")).since_epoch  # type: ignore[union-attr]
    await asyncio.sleep(1.1)
    extra = SessionSpec("extra", "10.98.0.6", 65003, AS_A, connect_retry_time=1)
    steps = {
        "add": tree([*base, extra], [ANN4]),
        "change other": tree([*base, SessionSpec("extra", "10.98.0.6", 65004, AS_A, password="p")], [ANN4]),
        "disable other": tree([*base, SessionSpec("extra", "10.98.0.6", 65004, AS_A, enabled=False)], [ANN4]),
        "delete other": tree(base, [ANN4]),
        "change announcements": tree(base, [ANN6]),
    }
    for step, files in steps.items():
        res = await supervisor.apply(files)
        assert res.changed, step
        await asyncio.sleep(0.5)
        assert await since(supervisor, "wgm_peer4") == keep, step
    st = await session_state(supervisor.control, "wgm_peer4")
    assert st is not None and st.state == "established"
    assert (await session_state(peer, "a4")).since_epoch == peer_keep  # type: ignore[union-attr]

    # and the session that is changed does restart: BIRD's configure is per protocol
    v6_before = (await established(supervisor, "wgm_peer6")).since_epoch
    await asyncio.sleep(1.1)
    await supervisor.apply(tree([session4(), session6(hold_time=12)], [ANN6]))
    await wait_for(
        lambda: session_state(supervisor.control, "wgm_peer6"),
        lambda s: s is not None and s.state == "established" and s.since_epoch != v6_before,
        what="peer6 restarted",
    )
    assert await since(supervisor, "wgm_peer4") == keep


async def test_disabled_session_is_configured_but_down(supervisor: BirdSupervisor) -> None:
    await supervisor.apply(tree([session4(), session6(enabled=False)], []))
    st = await wait_for(
        lambda: session_state(supervisor.control, "wgm_peer6"),
        lambda s: s is not None and s.proto_state == "down",
        what="peer6 down",
    )
    assert st.state == "idle" and st.uptime_s == 0
    await supervisor.apply(tree([session4(), session6()], []))
    await established(supervisor, "wgm_peer6")


async def test_failed_check_leaves_running_config(supervisor: BirdSupervisor) -> None:
    good = tree([session4(), session6()], [ANN4])
    await supervisor.apply(good)
    keep = (await established(supervisor, "wgm_peer4")).since_epoch
    generation = supervisor.current_generation()
    gens_before = sorted(p.name for p in supervisor.base_dir.iterdir())
    bad = dict(good)
    bad["sessions/broken.conf"] = "protocol bgp wgm_broken {\n  local as 65001;\n  neighbour 10.98.0.6;\n}\n"
    bad["bird.conf"] += 'include "sessions/broken.conf";\n'
    with pytest.raises(BirdConfigError) as ei:
        await supervisor.apply(bad)
    assert ei.value.code in (8002, 9001)
    assert "sessions/broken.conf:3" in ei.value.message  # BIRD's file:line reaches the caller
    assert supervisor.current_generation() == generation
    assert sorted(p.name for p in supervisor.base_dir.iterdir()) == gens_before  # nothing left over
    assert await session_state(supervisor.control, "wgm_broken") is None
    assert await since(supervisor, "wgm_peer4") == keep
    res = await supervisor.apply(good)  # same tree again: nothing to do
    assert not res.changed and res.generation == generation


async def test_supervisor_restarts_bird(supervisor: BirdSupervisor) -> None:
    await supervisor.apply(tree([session4(), session6()], []))
    await established(supervisor, "wgm_peer4")
    pid, restarts = supervisor.pid, supervisor.restarts
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    await wait_for(lambda: _restarted(supervisor, pid), bool, what="bird restart")
    assert supervisor.restarts == restarts + 1
    await established(supervisor, "wgm_peer4")  # the client reconnected, config is current/


async def test_attach_to_existing_bird(bird_binary: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Attach mode drives a BIRD we did not start: a second BIRD in ns A stands in for the
    system one (its session is disabled so the two BIRDs never compete for port 179)."""
    own = BirdSupervisor(
        tmp_path_factory.mktemp("sys"),
        bird_binary=bird_binary,
        command_prefix=["ip", "netns", "exec", "bgpt-a"],
    )
    await own.start(tree([], []))
    try:
        att = BirdSupervisor(tmp_path_factory.mktemp("att"), socket_path=own.socket_path, attach=True)
        await att.start(tree([SessionSpec("attached", "10.98.0.6", 65009, AS_A, enabled=False)], [ANN4]))
        st = await session_state(att.control, "wgm_attached")
        assert st is not None and st.neighbor == "10.98.0.6" and st.proto_state == "down"
        # BIRD does not remember a path given to `configure`: a plain `configure` (or a
        # restart by systemd) goes back to its own file, hence the include advice in the docs
        assert str(att.config_path) not in (await att.control.request("configure check")).text
        await att.stop()
        assert own.pid is not None  # stopping an attached supervisor leaves BIRD running
        # a new supervisor on the same tree cannot know BIRD loaded it: it configures once more
        again = BirdSupervisor(att.base_dir, socket_path=own.socket_path, attach=True)
        files = tree([SessionSpec("attached", "10.98.0.6", 65009, AS_A, enabled=False)], [ANN4])
        first, second = await again.apply(files), await again.apply(files)
        assert (first.changed, first.generation) == (True, att.current_generation())
        assert not second.changed
        await again.stop()
    finally:
        await own.stop()


async def _restarted(sup: BirdSupervisor, old_pid: int) -> bool:
    if sup.pid in (None, old_pid):
        return False
    try:
        await sup.control.request("show status")
    except BirdError:  # still coming up
        return False
    return True
