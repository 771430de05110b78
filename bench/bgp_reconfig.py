"""Cost of one session change with 200 sessions configured, and proof it disturbs no other.

Two namespaces (``bgpt-ba``/``bgpt-bb``, veth, 10.98.0.0/29 and fd00:98::/64 only) each run a
BIRD; 2 of the 200 sessions are established to the peer, the other 198 point at an unused
ULA prefix and stay idle. We time one add, change and delete of a session through
``BirdSupervisor.apply`` (write tree, ``configure check``, swap, ``configure``) and check
the established sessions' ``since`` did not move. Needs root and bird. Last line: JSON.

    PYTHONPATH=plugins/bgp python bench/bgp_reconfig.py
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace

from ipv6wgm_bgp.bird import BirdSupervisor, SessionSpec, render_config, session_state, session_states

NS_A, NS_B, VETH_A, VETH_B = "bgpt-ba", "bgpt-bb", "bgpt-bva", "bgpt-bvb"
TOTAL = 200
PEER_CONF = """
router id 10.98.0.2;
timeformat protocol "%s";
protocol device { }
template bgp p { local as 65002; connect retry time 1; error wait time 1, 2; hold time 30;
  ipv4 { import all; export none; }; }
protocol bgp a1 from p { neighbor 10.98.0.1 as 65001; }
protocol bgp a2 from p { local 10.98.0.4 as 65002; neighbor 10.98.0.3 as 65001; }
"""


def sh(*argv: str, check: bool = True) -> None:
    subprocess.run(argv, check=check, capture_output=True)


def netns_up() -> None:
    netns_down()
    sh("ip", "netns", "add", NS_A)
    sh("ip", "netns", "add", NS_B)
    sh("ip", "link", "add", VETH_A, "netns", NS_A, "type", "veth", "peer", "name", VETH_B, "netns", NS_B)
    for ns, dev, addrs in ((NS_A, VETH_A, ("10.98.0.1", "10.98.0.3")), (NS_B, VETH_B, ("10.98.0.2", "10.98.0.4"))):
        for a in addrs:
            sh("ip", "-n", ns, "addr", "add", f"{a}/29", "dev", dev)
        sh("ip", "-n", ns, "link", "set", dev, "up")


def netns_down() -> None:
    for ns in (NS_A, NS_B):
        sh("ip", "netns", "del", ns, check=False)


def sessions(extra: list[SessionSpec] | None = None) -> list[SessionSpec]:
    live = [
        SessionSpec("live1", "10.98.0.2", 65002, 65001, hold_time=30, connect_retry_time=1),
        SessionSpec("live2", "10.98.0.4", 65002, 65001, source_address="10.98.0.3", hold_time=30, connect_retry_time=1),
    ]
    # idle ones: ns A has no IPv6 address, so these ULA neighbors never see a packet
    idle = [SessionSpec(f"idle{i}", f"fd00:98:1::{i:x}", 64512 + i, 65001) for i in range(TOTAL - 2)]
    return live + idle + (extra or [])


async def timed_apply(sup: BirdSupervisor, specs: list[SessionSpec]) -> tuple[float, float]:
    t0 = time.perf_counter()
    files = render_config("10.98.0.1", specs, [])
    t1 = time.perf_counter()
    await sup.apply(files)
    return (t1 - t0) * 1000, (time.perf_counter() - t1) * 1000


async def main() -> int:
    netns_up()
    tmp = tempfile.TemporaryDirectory(prefix="bgpt-bench-")
    peer = BirdSupervisor(f"{tmp.name}/b", command_prefix=["ip", "netns", "exec", NS_B])
    sup = BirdSupervisor(f"{tmp.name}/a", command_prefix=["ip", "netns", "exec", NS_A])
    try:
        await peer.start({"bird.conf": PEER_CONF})
        await sup.start(render_config("10.98.0.1", sessions(), []))
        deadline = time.monotonic() + 60
        while True:
            states = await session_states(sup.control)
            if all(states[p].state == "established" for p in ("wgm_live1", "wgm_live2")):
                break
            if time.monotonic() > deadline:
                raise SystemExit("live sessions did not come up")
            await asyncio.sleep(0.2)
        print(f"{len(states)} BGP sessions configured, 2 established")
        await asyncio.sleep(1.1)  # a restart would now show as a different `since`
        before = {p: states[p].since_epoch for p in ("wgm_live1", "wgm_live2")}

        t0 = time.perf_counter()
        await session_states(sup.control)
        show_ms = (time.perf_counter() - t0) * 1000
        new = SessionSpec("added", "fd00:98:2::1", 65100, 65001)
        figures: dict[str, float] = {"show_protocols_all_ms": round(show_ms, 2)}
        for step, specs in (
            ("add", sessions([new])),
            ("change", sessions([replace(new, remote_as=65101, password="secret", description="changed")])),
            ("delete", sessions()),
        ):
            render_ms, apply_ms = await timed_apply(sup, specs)
            figures[f"{step}_render_ms"] = round(render_ms, 2)
            figures[f"{step}_apply_ms"] = round(apply_ms, 2)
            print(f"{step:7s} render {render_ms:7.2f} ms   apply (check+swap+configure) {apply_ms:7.2f} ms")
        await asyncio.sleep(1.0)
        after = {p: (await session_state(sup.control, p)).since_epoch for p in before}  # type: ignore[union-attr]
        stable = after == before
        print(f"established sessions' since unchanged: {stable} ({before} -> {after})")
        print(json.dumps({"sessions": TOTAL, "established": 2, **figures, "since_unchanged": stable}))
        return 0 if stable else 1
    finally:
        await sup.stop()
        await peer.stop()
        netns_down()
        tmp.cleanup()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
