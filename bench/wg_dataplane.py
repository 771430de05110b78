"""Benchmark the userspace WireGuard backend against ``wg`` on real wireguard-go interfaces.

Run as root: ``/tmp/venv-wg/bin/python bench/wg_dataplane.py [--peers 10000] [--reps 3]``.
Everything happens in a private namespace ``wgt-bench-<pid>``; the backend runs in an agent
process inside it (tests/wireguard/nsagent.py) and times each call there, and the reference
``wg`` commands are timed by the same agent, so neither side pays for ``ip netns exec`` or the
JSON pipe. The last line printed is one JSON object with the ratios.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins" / "wireguard"))
sys.path.insert(0, str(ROOT / "tests" / "wireguard"))

from netns import Agent, cleanup, missing_prerequisites, run  # noqa: E402

from ipv6wgm_wireguard.keys import generate_private_key  # noqa: E402


def rand_key() -> str:
    # Any 32 bytes are a usable X25519 public key; skipping scalar mults keeps set-up quick.
    return base64.b64encode(os.urandom(32)).decode()


def make_peers(n: int) -> list[dict]:
    return [
        {
            "public_key": rand_key(),
            "allowed_ips": [f"10.{64 + (i >> 16)}.{(i >> 8) & 255}.{i & 255}/32", f"fd00:99:ffff::{i:x}/128"],
            "persistent_keepalive": 25,
        }
        for i in range(n)
    ]


def setconf_text(private_key: str, port: int, peers: list[dict]) -> str:
    lines = ["[Interface]", f"PrivateKey = {private_key}", f"ListenPort = {port}"]
    for p in peers:
        lines += [
            "[Peer]",
            f"PublicKey = {p['public_key']}",
            f"AllowedIPs = {', '.join(p['allowed_ips'])}",
            f"PersistentKeepalive = {p['persistent_keepalive']}",
        ]
    return "\n".join(lines) + "\n"


def median(agent: Agent, reps: int, **req: object) -> float:
    return statistics.median(float(agent.call("timed", req=req)) for _ in range(reps))  # type: ignore[arg-type]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers", type=int, default=10_000)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    problems = missing_prerequisites()
    if problems:
        print("cannot run: " + "; ".join(problems), file=sys.stderr)
        return 2
    n, reps = args.peers, args.reps
    tag = str(os.getpid() % 100000)
    ns = f"wgt-bench-{tag}"
    subj, ref, small = f"wgtbs{tag}", f"wgtbr{tag}", f"wgtbt{tag}"
    agent: Agent | None = None
    tmp = tempfile.TemporaryDirectory(prefix="wgt-bench-")
    try:
        run("ip", "netns", "add", ns)
        agent = Agent(ns)
        keys = {name: generate_private_key() for name in (subj, ref, small)}
        for port, name in enumerate((subj, ref, small), start=51900):
            spec = {"name": name, "private_key": keys[name], "listen_port": port, "addresses": []}
            agent.call("ensure_interface", spec=spec)
        peers = make_peers(n)
        full = Path(tmp.name, "full.conf")
        full.write_text(setconf_text(keys[ref], 51901, peers))
        empty = Path(tmp.name, "empty.conf")
        empty.write_text(setconf_text(keys[ref], 51901, []))

        fill, setconf = [], []
        for _ in range(reps):
            agent.call("sync_peers", name=subj, peers=[])
            fill.append(agent.call("timed", req={"op": "sync_peers", "name": subj, "peers": peers}))
            agent.call("timed", req={"op": "run", "argv": ["wg", "setconf", ref, str(empty)]})
            setconf.append(agent.call("timed", req={"op": "run", "argv": ["wg", "setconf", ref, str(full)]}))
        assert len(agent.call("dump", name=subj)["peers"]) == n
        assert len(agent.call("dump", name=ref)["peers"]) == n

        noop = median(agent, reps, op="sync_peers", name=subj, peers=peers)
        assert agent.call("sync_peers", name=subj, peers=peers) == {"added": 0, "removed": 0, "updated": 0}
        dump = median(agent, max(reps, 5), op="dump", name=subj)
        wg_dump = median(agent, max(reps, 5), op="run", argv=["wg", "show", subj, "dump"])

        agent.call("sync_peers", name=small, peers=peers[:10])
        at_big, at_small = [], []
        for _ in range(max(reps, 51)):
            extra = make_peers(1)[0]
            for name, sink in ((subj, at_big), (small, at_small)):
                sink.append(agent.call("timed", req={"op": "set_peer", "name": name, "peer": extra}))
                agent.call("remove_peer", name=name, public_key=extra["public_key"])

        fill_m, setconf_m = statistics.median(fill), statistics.median(setconf)
        big_m, small_m = statistics.median(at_big), statistics.median(at_small)
        print(f"peers: {n}, repetitions: {reps}")
        print(f"fill empty interface: sync_peers {fill_m * 1000:.1f} ms, wg setconf {setconf_m * 1000:.1f} ms")
        print(f"no-drift sync_peers: {noop * 1000:.1f} ms")
        print(f"dump: backend {dump * 1000:.1f} ms, wg show dump {wg_dump * 1000:.1f} ms")
        print(f"set_peer: at {n} peers {big_m * 1000:.2f} ms, at 10 peers {small_m * 1000:.2f} ms")
        figures = {
            f"sync_{n}_vs_setconf": round(fill_m / setconf_m, 3),
            f"noop_sync_{n}_s": round(noop, 4),
            f"dump_{n}_vs_wg_dump": round(dump / wg_dump, 3),
            f"set_peer_at_{n}_vs_at_10": round(big_m / small_m, 3),
        }
        print(json.dumps(figures))
        return 0
    finally:
        if agent is not None:
            for name in (subj, ref, small):
                try:
                    agent.call("delete_interface", name=name)
                except Exception:  # noqa: S110 - cleanup() below removes what is left
                    pass
            agent.close()
        cleanup([ns], {subj, ref, small})
        tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
