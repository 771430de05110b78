"""Every process exits by itself: CLI commands (a plugin's included) and scripts or benches that
open a runtime with ``ipv6wgm.bootstrap.session``.

A process that leaves a database connection open never exits: aiosqlite runs each connection
in a non-daemon thread, which the interpreter waits for at exit (``bench/wireguard.py`` used to
print its result and hang). Each test runs the process for real and fails when it is still
running after its timeout.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ipv6wgm.testing import running_server, wait_for

EXIT_TIMEOUT_S = 60


def run(args: list[str], data_dir: Path, timeout: float = EXIT_TIMEOUT_S, **env: str
        ) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "IPV6WGM_DATA_DIR": str(data_dir), **env}
    environ.pop("IPV6WGM_REDIS_URL", None)
    environ.pop("IPV6WGM_DATABASE_URL", None)
    return subprocess.run([sys.executable, *args], env=environ, capture_output=True, text=True, timeout=timeout)


def cli(*args: str, data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run(["-m", "ipv6wgm_entrypoints.cli", *args], data_dir, **env)


@pytest.mark.hooks("register_commands", "startup", "shutdown")
def test_a_plugin_command_runs_in_a_started_runtime_and_exits(tmp_path: Path) -> None:
    made = cli("admin", "create", "ops", data_dir=tmp_path, IPV6WGM_NEW_ADMIN_PASSWORD="an-admin-pass-1")
    assert made.returncode == 0, made.stderr
    with sqlite3.connect(tmp_path / "ipv6wgm.sqlite3") as db:
        db.execute("INSERT INTO sample_notes (owner_id, text, created_at) VALUES (1, 'from the database', "
                   "'2026-01-01 00:00:00+00:00')")
    started = time.monotonic()
    listed = cli("sample-notes", "--json", data_dir=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == [{"id": 1, "owner_id": 1, "text": "from the database"}]
    assert time.monotonic() - started < EXIT_TIMEOUT_S
    assert cli("sample-notes", "--owner", "2", "--json", data_dir=tmp_path).stdout.strip() == "[]"
    helped = cli("sample-notes", "--help", data_dir=tmp_path)
    assert helped.returncode == 0 and "list the sample plugin's notes" in helped.stdout
    missing = cli("no-such-command", data_dir=tmp_path)
    assert missing.returncode == 2 and "invalid choice" in missing.stderr
    disabled = cli("sample-notes", data_dir=tmp_path, IPV6WGM_DISABLED_PLUGINS="sample")
    assert disabled.returncode == 2 and "invalid choice" in disabled.stderr  # goes with its plugin


SCRIPT = r"""
import asyncio, json
from ipv6wgm.bootstrap import session

async def main():
    async with session(migrate=True) as rt:
        from ipv6wgm_ipv6.state import plugin_state as ipv6_state
        from ipv6wgm_monitoring.state import plugin_state as monitoring_state
        from ipv6wgm_sample.state import SampleState
        from ipv6wgm_wireguard.models import WireGuardClient
        from ipv6wgm_wireguard.state import plugin_state as wireguard_state

        sample = rt.state("sample", SampleState)
        during = sorted(rt.plugin_states)
        ipv6_state().pool_lock(1)  # each plugin's state is there, and the database answers
        monitoring_state().series.ids["k"] = 1
        clients = await WireGuardClient.all().count()
        specs = wireguard_state().peer_specs
    print(json.dumps({"during": during, "after": sorted(rt.plugin_states), "sample_closed": sample.closed,
                      "clients": clients, "specs": type(specs).__name__}))

asyncio.run(main())
"""


@pytest.mark.hooks("startup", "shutdown")
def test_a_script_with_a_session_exits_by_itself(tmp_path: Path) -> None:
    """What a bench does: a runtime, the database, every plugin's state; then it just ends."""
    started = time.monotonic()
    done = run(["-c", SCRIPT], tmp_path)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"bgp", "cluster", "ipv6", "monitoring", "sample", "wireguard"} <= set(out["during"])  # + any installed
    assert out["after"] == [] and out["sample_closed"] is True
    assert out["clients"] == 0 and out["specs"] == "PeerSpecCache"
    assert time.monotonic() - started < EXIT_TIMEOUT_S


def test_a_database_left_open_keeps_a_script_from_exiting(tmp_path: Path) -> None:
    """The control: the same database opened without ``session`` and never closed, which is
    what ``bench/wireguard.py`` did. The script prints its result and does not exit."""
    leak = ("import asyncio\n"
            "from ipv6wgm.bootstrap import build_runtime\n"
            "from ipv6wgm.db import init_db, upgrade\n"
            "from ipv6wgm.settings import load_settings\n"
            "from ipv6wgm.users.models import User\n"
            "async def main():\n"
            "    rt = build_runtime(load_settings(), role='cli')\n"
            "    await upgrade(rt.settings, rt.registry.models)\n"
            "    await init_db(rt.settings, rt.registry.models)\n"
            "    print('done', await User.all().count(), flush=True)\n"
            "asyncio.run(main())\n")
    with pytest.raises(subprocess.TimeoutExpired) as hung:
        run(["-c", leak], tmp_path, timeout=15)
    assert b"done 0" in (hung.value.stdout or b"")


@pytest.mark.parametrize("backend", ["sqlite", "mysql"])
@pytest.mark.hooks("startup", "shutdown")
def test_servers_and_workers_use_plugin_state_from_the_first_tick_and_stop_cleanly(backend: str) -> None:
    """Crons that run at start-up (the monitoring sampler, the WireGuard reconcile, the BGP
    collection) find their plugin's state; SIGTERM stops each process promptly with status 0,
    and the BIRD it supervised goes with it."""
    with running_server(backend) as server:
        api = server.client(server.token())
        node = server.env["IPV6WGM_NODE_ID"]
        wait_for(lambda: node in api.get("/status/health/detailed").json()["data"]["components"]["monitoring"]
                 ["snapshot_age_s"], timeout=30, message="the start-up sample")
        assert "has no state in this runtime" not in server.logs()
        birds = subprocess.run(["ip", "netns", "pids", server.netns], capture_output=True, text=True).stdout.split()
        assert birds, "the data-plane owner runs BIRD in its namespace"
        for proc in reversed(server.procs):  # the worker first, as an orchestrator would
            started = time.monotonic()
            os.killpg(proc.pid, signal.SIGTERM)
            assert proc.wait(30) == 0, server.logs()
            assert time.monotonic() - started < 20
        server.procs.clear()
        left = subprocess.run(["ip", "netns", "pids", server.netns], capture_output=True, text=True).stdout.split()
        assert left == [], f"processes left in {server.netns}: {left}"
        assert "Traceback" not in server.logs()
