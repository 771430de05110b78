"""The ``ipv6wgm`` CLI on a fresh data dir, and the core as a built wheel (not only editable)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, data_dir: Path, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "IPV6WGM_DATA_DIR": str(data_dir), **(extra_env or {})}
    return subprocess.run([sys.executable, "-m", "ipv6wgm_entrypoints.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def tables(data_dir: Path) -> set[str]:
    with sqlite3.connect(data_dir / "ipv6wgm.sqlite3") as db:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_db_upgrade_and_admin_create(tmp_path: Path) -> None:
    done = cli("db", "upgrade", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert {"core_users", "core_auth_sessions", "core_logs", "sample_notes"} <= tables(tmp_path)
    assert oct((tmp_path / "secret.key").stat().st_mode & 0o777) == "0o600"
    env = {"IPV6WGM_NEW_ADMIN_PASSWORD": "an-admin-pass-1"}
    made = cli("admin", "create", "ops", "--email", "ops@example.com", data_dir=tmp_path, extra_env=env)
    assert made.returncode == 0 and "created admin 'ops'" in made.stdout, made.stderr
    again = cli("admin", "create", "ops", data_dir=tmp_path, extra_env=env)
    assert again.returncode == 1 and "taken" in again.stderr
    weak = cli("admin", "create", "weak", data_dir=tmp_path, extra_env={"IPV6WGM_NEW_ADMIN_PASSWORD": "short"})
    assert weak.returncode == 1
    with sqlite3.connect(tmp_path / "ipv6wgm.sqlite3") as db:
        rows = db.execute("SELECT username, role, password_hash FROM core_users").fetchall()
    assert [(u, r) for u, r, _ in rows] == [("ops", "admin")] and rows[0][2].startswith("$argon2id$")


def test_openapi_command(tmp_path: Path) -> None:
    out = cli("openapi", data_dir=tmp_path)
    assert out.returncode == 0, out.stderr
    spec = json.loads(out.stdout)
    assert spec["openapi"].startswith("3.") and "/api/v1/auth/login" in spec["paths"]


def test_built_wheel_imports_and_migrates(tmp_path: Path) -> None:
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                            "-w", str(tmp_path / "dist"), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    wheel = next((tmp_path / "dist").glob("ipv6_wireguard_manager-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for required in ("ipv6wgm/app.py", "ipv6wgm/migrations/0001_initial.py", "ipv6wgm/security/tokens.py",
                     "ipv6wgm_entrypoints/cli.py"):
        assert required in names, required
    assert not any(n.startswith(("core/", "tests/")) for n in names)
    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import ipv6wgm; "
        "assert ipv6wgm.__file__.startswith(sys.argv[1]), ipv6wgm.__file__; "
        "from ipv6wgm_entrypoints.cli import main; sys.exit(main(['db', 'upgrade']))"
    )
    env = {**os.environ, "IPV6WGM_DATA_DIR": str(tmp_path / "data"), "IPV6WGM_DISABLED_PLUGINS": "sample"}
    run = subprocess.run([sys.executable, "-c", code, str(unpacked)], env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert "core_users" in tables(tmp_path / "data")
