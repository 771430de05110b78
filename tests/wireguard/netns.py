"""Namespace plumbing shared by the integration tests and the bench (test-only: uses ip/wg)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

AGENT = Path(__file__).with_name("nsagent.py")
SOCKET_DIR = Path("/var/run/wireguard")


def missing_prerequisites() -> list[str]:
    problems = [] if os.geteuid() == 0 else ["not running as root"]
    problems += [f"{tool} not found in PATH" for tool in ("wireguard-go", "wg", "ip", "ping") if not shutil.which(tool)]
    return problems


def run(*args: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), check=check, capture_output=True, text=True, timeout=timeout)


def nsrun(ns: str, *args: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return run("ip", "netns", "exec", ns, *args, check=check, timeout=timeout)


class Agent:
    """A backend living in one namespace (see nsagent.py)."""

    def __init__(self, ns: str, kind: str = "userspace") -> None:
        self.ns = ns
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, str(AGENT), kind],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def call(self, op: str, **kwargs: object) -> object:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"op": op, **kwargs}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"agent in {self.ns} died")
        reply = json.loads(line)
        if not reply["ok"]:
            raise RuntimeError(f"{op} in {self.ns}: {reply['error']}\n{reply['tb']}")
        return reply["result"]

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wireguard_go_pids(ifnames: set[str]) -> list[int]:
    """PIDs of the wireguard-go daemons serving exactly these interface names."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if len(argv) >= 2 and argv[0].endswith(b"wireguard-go") and argv[-2].decode(errors="replace") in ifnames:
            pids.append(int(entry.name))
    return pids


def cleanup(namespaces: list[str], ifnames: set[str]) -> None:
    """Best effort, safe to call twice: daemons of *our* names, then our namespaces."""
    for pid in wireguard_go_pids(ifnames):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while wireguard_go_pids(ifnames) and time.monotonic() < deadline:
        time.sleep(0.05)
    for pid in wireguard_go_pids(ifnames):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for ns in namespaces:
        run("ip", "netns", "del", ns, check=False)
    for name in ifnames:
        sock = SOCKET_DIR / f"{name}.sock"
        if sock.exists():
            try:
                sock.unlink()
            except OSError:
                pass


def make_pair(ns1: str, ns2: str, suffix: str) -> None:
    """Two namespaces joined by a veth pair: 10.99.0.1|2/24 and fd00:99::1|2/64."""
    for ns in (ns1, ns2):
        run("ip", "netns", "add", ns)
        nsrun(ns, "ip", "link", "set", "lo", "up")
    va, vb = f"wgtva{suffix}", f"wgtvb{suffix}"
    run("ip", "link", "add", va, "netns", ns1, "type", "veth", "peer", "name", vb, "netns", ns2)
    for ns, dev, n in ((ns1, va, 1), (ns2, vb, 2)):
        nsrun(ns, "ip", "addr", "add", f"10.99.0.{n}/24", "dev", dev)
        nsrun(ns, "ip", "-6", "addr", "add", f"fd00:99::{n}/64", "dev", dev, "nodad")
        nsrun(ns, "ip", "link", "set", dev, "up")
