"""Runs the WireGuard backend inside a network namespace for the integration tests and bench.

Started as ``ip netns exec <ns> python nsagent.py [backend-kind]``: the whole process (and the
wireguard-go daemons it spawns) then lives in that namespace, which is how production runs too
(the worker is simply in the namespace it manages). It reads one JSON request per line on
stdin and answers one JSON line on stdout, so a test drives several namespaces from one
pytest process without any setns() in the test process itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "plugins" / "wireguard"))

from ipv6wgm_wireguard.dataplane import InterfaceSpec, PeerSpec, get_backend, links  # noqa: E402


async def handle(backend, req: dict) -> object:
    op = req.pop("op")
    if op == "ensure_interface":
        return await backend.ensure_interface(InterfaceSpec(**req["spec"]))
    if op == "set_peer":
        return await backend.set_peer(req["name"], PeerSpec(**req["peer"]))
    if op == "sync_peers":
        result = await backend.sync_peers(req["name"], [PeerSpec(**p) for p in req["peers"]])
        return dataclasses.asdict(result)
    if op == "dump":
        return dataclasses.asdict(await backend.dump(req["name"]))
    if op == "timed":
        # Times one call here, in the namespace, so figures exclude this JSON pipe and any
        # ``ip netns exec`` start-up. "run" times an external command (the bench's reference).
        inner = dict(req["req"])
        what = inner.pop("op")
        start = time.perf_counter()
        if what == "run":
            proc = await asyncio.create_subprocess_exec(*inner["argv"], stdout=asyncio.subprocess.PIPE)
            await proc.communicate()
            if proc.returncode:
                raise RuntimeError(f"{inner['argv']} exited {proc.returncode}")
        elif what == "dump":
            await backend.dump(inner["name"])
        else:
            await handle(backend, {"op": what, **inner})
        return time.perf_counter() - start
    if op in ("remove_peer", "add_route", "remove_route", "delete_interface", "interface_exists"):
        return await getattr(backend, op)(**req)
    if op in ("list_routes", "list_addresses"):
        return await getattr(links, op)(**req)
    raise ValueError(f"unknown op {op}")


async def main() -> None:
    backend = get_backend(sys.argv[1] if len(sys.argv) > 1 else "userspace")
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            break
        try:
            reply = {"ok": True, "result": await handle(backend, json.loads(line))}
        except Exception as exc:  # reported to the test, which fails with the traceback
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "tb": traceback.format_exc()}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main())
