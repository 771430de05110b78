"""Plugin discovery through real installed metadata: a broken plugin is isolated (listed as
failed, server still serves) unless IPV6WGM_STRICT_PLUGINS=1 makes it fatal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from ipv6wgm.testing import ServerProcess

BROKEN = textwrap.dedent('''
    from ipv6wgm import hookimpl
    from ipv6wgm.plugins import PluginInfo

    info = PluginInfo(name="broken", version="9.9.9")

    @hookimpl
    def register_blueprints(register):
        raise RuntimeError("broken on purpose")
''')
MISSPELLED = textwrap.dedent('''
    from ipv6wgm import hookimpl
    from ipv6wgm.plugins import PluginInfo

    info = PluginInfo(name="typo", version="1.0", requires=("sample",))

    @hookimpl
    def register_blueprint(register):
        pass
''')


def install_fake(site: Path, dist: str, module: str, source: str, ep_name: str) -> None:
    """A module plus a .dist-info with an entry point: what pip leaves behind, minus pip."""
    (site / f"{module}.py").write_text(source)
    info = site / f"{dist}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[ipv6wgm]\n{ep_name} = {module}\n")


@pytest.fixture()
def fake_site(tmp_path: Path) -> Path:
    site = tmp_path / "site"
    site.mkdir()
    install_fake(site, "ipv6wgm_broken", "broken_plugin", BROKEN, "broken")
    install_fake(site, "ipv6wgm_typo", "typo_plugin", MISSPELLED, "typo")
    return site


def test_failing_plugins_are_isolated(fake_site: Path) -> None:
    env = {"PYTHONPATH": str(fake_site), "IPV6WGM_STRICT_PLUGINS": "0"}
    server = ServerProcess(env=env).start()
    try:
        with server.client(server.token()) as c:
            plugins = {p["name"]: p for p in c.get("/plugins").json()["data"]}
            assert plugins["broken"]["status"] == "failed" and "broken on purpose" in plugins["broken"]["error"]
            assert plugins["typo"]["status"] == "failed" and "register_blueprint" in plugins["typo"]["error"]
            assert plugins["sample"]["status"] == "loaded"
            assert c.get("/sample/notes").status_code == 200
        cli = subprocess.run([sys.executable, "-m", "ipv6wgm_entrypoints.cli", "plugins", "--json"],
                             env={**server.env}, capture_output=True, text=True, timeout=60)
        listed = {p["name"]: p["status"] for p in json.loads(cli.stdout)}
        assert {k: listed[k] for k in ("core", "sample", "broken", "typo")} == {
            "core": "loaded", "sample": "loaded", "broken": "failed", "typo": "failed"}
        assert all(status == "loaded" for name, status in listed.items() if name not in ("broken", "typo"))
    finally:
        server.cleanup()


def test_strict_mode_makes_a_broken_plugin_fatal(fake_site: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(fake_site), "IPV6WGM_STRICT_PLUGINS": "1",
           "IPV6WGM_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.run([sys.executable, "-m", "ipv6wgm_entrypoints.cli", "serve", "--port", "1"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "PluginLoadError" in proc.stderr and "failed" in proc.stderr


def test_disabled_plugin_removes_its_routes() -> None:
    server = ServerProcess(env={"IPV6WGM_DISABLED_PLUGINS": "sample"}).start()
    try:
        with server.client(server.token()) as c:
            assert c.get("/sample/notes").status_code == 404
            plugins = {p["name"]: p["status"] for p in c.get("/plugins").json()["data"]}
            assert plugins["sample"] == "disabled"
            assert "sample" not in c.get("/status/health/detailed").json()["data"]["components"]
        spec = httpx.get(f"{server.base}/openapi.json").json()
        assert not any(p.startswith("/api/v1/sample") for p in spec["paths"])
    finally:
        server.cleanup()
