"""Fixtures for the BIRD layer: two network namespaces joined by a veth pair.

``bgpt-a`` runs the BIRD our supervisor spawns (through ``ip netns exec``), ``bgpt-b`` a
peer BIRD with a plain config file written here. Addresses (10.98.0.0/29, fd00:98::/64)
exist only inside these namespaces. Missing root or bird is a failure, not a skip: these
tests are the evidence that the BIRD layer works.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from ipv6wgm_bgp.bird import BirdControl, BirdSupervisor

from .helpers import (
    A4,
    A4_2,
    A6,
    AS_A,
    AS_B,
    B4,
    B4_2,
    B6,
    MD5_PASSWORD,
    NS_A,
    NS_B,
    VETH_A,
    VETH_B,
    tree,
)

PEER_CONF = f"""
router id {B4};
timeformat protocol "%s";
protocol device {{ }}
protocol static bs4 {{ ipv4; route 203.0.113.0/24 blackhole {{ bgp_community.add((65002,7)); }}; }}
protocol static bs6 {{ ipv6; route 2001:db8:ff::/48 blackhole; }}
template bgp peer {{
  local as {AS_B};
  connect retry time 1;
  error wait time 1, 2;
  hold time 9;
}}
protocol bgp a4 from peer {{
  neighbor {A4} as {AS_A};
  ipv4 {{ import all; export where proto = "bs4"; }};
}}
protocol bgp a6 from peer {{
  neighbor {A6} as {AS_A};
  ipv6 {{ import all; export where proto = "bs6"; }};
}}
protocol bgp amd5 from peer {{
  local {B4_2} as {AS_B};
  neighbor {A4_2} as {AS_A};
  password "{MD5_PASSWORD}";
  ipv4 {{ import all; export none; }};
}}
"""


def _run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)


def _cleanup_netns() -> None:
    for ns in (NS_A, NS_B):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def require_root_and_bird() -> str:
    if os.geteuid() != 0:
        pytest.fail("BGP integration tests need root (network namespaces)")
    bird = shutil.which("bird") or ("/usr/sbin/bird" if os.path.exists("/usr/sbin/bird") else None)
    if bird is None:
        pytest.fail("BGP integration tests need BIRD 2 (`bird` not found)")
    if shutil.which("ip") is None:
        pytest.fail("BGP integration tests need iproute2 (`ip` not found)")
    return bird


@pytest.fixture(scope="session")
def bird_binary() -> str:
    return require_root_and_bird()


@pytest.fixture(scope="session")
def netns(bird_binary: str) -> Iterator[None]:
    _cleanup_netns()
    try:
        _run("ip", "netns", "add", NS_A)
        _run("ip", "netns", "add", NS_B)
        _run("ip", "link", "add", VETH_A, "netns", NS_A, "type", "veth", "peer", "name", VETH_B, "netns", NS_B)
        for ns, dev, v4s, v6 in ((NS_A, VETH_A, (A4, A4_2), A6), (NS_B, VETH_B, (B4, B4_2), B6)):
            for v4 in v4s:
                _run("ip", "-n", ns, "addr", "add", f"{v4}/29", "dev", dev)
            _run("ip", "-n", ns, "addr", "add", f"{v6}/64", "dev", dev, "nodad")
            _run("ip", "-n", ns, "link", "set", "lo", "up")
            _run("ip", "-n", ns, "link", "set", dev, "up")
        yield
    finally:
        _cleanup_netns()


@pytest.fixture(scope="session")
def peer_sock(netns: None, bird_binary: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The peer BIRD in ``bgpt-b``; a plain process, as an operator's router would be."""
    d = tmp_path_factory.mktemp("peer")
    conf, sock = d / "bird.conf", str(d / "bird.ctl")
    conf.write_text(PEER_CONF)
    proc = subprocess.Popen(
        ["ip", "netns", "exec", NS_B, bird_binary, "-f", "-c", str(conf), "-s", sock],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(sock):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"peer bird did not start (exit {proc.poll()})")
            time.sleep(0.05)
        yield sock
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def peer(peer_sock: str) -> AsyncIterator[BirdControl]:
    ctl = BirdControl(peer_sock)
    yield ctl
    await ctl.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def supervisor(
    netns: None, bird_binary: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BirdSupervisor]:
    """Our supervised BIRD in ``bgpt-a``; tests reshape its config with ``apply``."""
    base: Path = tmp_path_factory.mktemp("sup")
    sup = BirdSupervisor(base, bird_binary=bird_binary, command_prefix=["ip", "netns", "exec", NS_A])
    try:
        await sup.start(tree([], []))
        yield sup
    finally:
        await sup.stop()
