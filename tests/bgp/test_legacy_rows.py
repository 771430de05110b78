"""A row stored before validation existed (here: written straight to the database with a zone-id
neighbor carrying a protocol) never reaches BIRD, on both backends.

Start-up and reconcile render leniently (the row is left out and logged, the other sessions
stay); writes render strictly, so the API refuses every change with 422 naming the field until
the row is fixed or deleted, and never answers 500.
"""

from __future__ import annotations

import json
import subprocess
import sys

import httpx

from ipv6wgm.testing import ServerProcess

from .birdconf import read_tree
from .helpers import check_tree

EVIL = "2001:db8::1%x\n}\nprotocol bgp evil {"
SCRIPT = r'''
import asyncio, json, sys
from ipv6wgm.bootstrap import build_runtime
from ipv6wgm.db import close_db, init_db
from ipv6wgm.settings import load_settings

async def main(evil):
    rt = build_runtime(load_settings(), role="cli")
    await init_db(rt.settings, rt.registry.models)
    from ipv6wgm_bgp.models import BgpSession
    from ipv6wgm_bgp.service.desired import render_desired
    out = {}
    try:
        row = await BgpSession.create(name="legacy", neighbor=evil, remote_as=65097, local_as=65000, enabled=True)
        out["id"] = row.id
        out["lenient"] = await render_desired(strict=False)
        try:
            await render_desired()
            out["strict"] = None
        except ValueError as exc:
            out["strict"] = str(exc)
    finally:
        await close_db()
    print(json.dumps(out))

asyncio.run(main(sys.argv[1]))
'''


def test_stored_hostile_row_never_reaches_bird(server: ServerProcess, admin: httpx.Client) -> None:
    good = admin.post("/bgp/sessions", json={"name": "legacy_ok", "neighbor": "10.97.0.1", "remote_as": 65097})
    assert good.status_code == 201, good.text
    proc = subprocess.run([sys.executable, "-c", SCRIPT, EVIL], env=server.env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    try:
        tree = read_tree(out["lenient"])
        assert "legacy" not in tree["sessions"] and "legacy_ok" in tree["sessions"]
        assert out["strict"].startswith("neighbor:"), out["strict"]

        r = admin.post("/bgp/sessions", json={"name": "legacy_new", "neighbor": "10.97.0.2", "remote_as": 65097})
        assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "neighbor", r.text
        assert all(s["name"] != "legacy_new" for s in admin.get("/bgp/sessions").json()["data"]["sessions"])

        fixed = admin.put(f"/bgp/sessions/{out['id']}", json={"neighbor": "10.97.0.3"})
        assert fixed.status_code == 200 and fixed.json()["data"]["neighbor"] == "10.97.0.3", fixed.text
        assert check_tree(server, admin)["sessions"]["legacy"]["neighbor_address"] == "10.97.0.3"
    finally:
        assert admin.delete(f"/bgp/sessions/{out['id']}").status_code == 200
        assert admin.delete(f"/bgp/sessions/{good.json()['data']['id']}").status_code == 200
