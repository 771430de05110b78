"""The ``ipv6wgm`` CLI on a fresh data dir, and the core as a built wheel (not only editable)."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, data_dir: Path, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "IPV6WGM_DATA_DIR": str(data_dir), **(extra_env or {})}
    return subprocess.run([sys.executable, "-m", "ipv6wgm_entrypoints.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120)


def tables(data_dir: Path) -> set[str]:
    with sqlite3.connect(data_dir / "ipv6wgm.sqlite3") as db:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


@pytest.mark.hooks("register_models")
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


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_data_dir_and_database_files_are_private(tmp_path: Path) -> None:
    """An install made before files were private is tightened at the next start."""
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    for name in ("ipv6wgm.sqlite3", "ipv6wgm.sqlite3-journal"):
        (data / name).touch()
        (data / name).chmod(0o644)
    done = cli("db", "upgrade", data_dir=data)
    assert done.returncode == 0, done.stderr
    assert mode(data) == 0o700
    files = [p for p in data.iterdir() if p.name.startswith("ipv6wgm.sqlite3")]
    assert files and all(mode(p) == 0o600 for p in files), {p.name: oct(mode(p)) for p in files}
    fresh = tmp_path / "fresh"
    assert cli("db", "upgrade", data_dir=fresh).returncode == 0
    assert mode(fresh) == 0o700 and mode(fresh / "ipv6wgm.sqlite3") == 0o600


def test_openapi_command(tmp_path: Path) -> None:
    out = cli("openapi", data_dir=tmp_path)
    assert out.returncode == 0, out.stderr
    spec = json.loads(out.stdout)
    assert spec["openapi"].startswith("3.") and "/api/v1/auth/login" in spec["paths"]


def build_wheel(project: Path, dist: Path) -> subprocess.CompletedProcess[str]:
    """``pip wheel -v`` shows the build backend's own output, deprecation warnings included."""
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-v", "-w", str(dist), str(project)],
                           capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    output = build.stdout + build.stderr
    assert "SetuptoolsDeprecationWarning" not in output and "License classifiers" not in output, output[-3000:]
    return build


PYPROJECTS = sorted([ROOT / "pyproject.toml", *ROOT.glob("plugins/*/pyproject.toml"),
                     ROOT / "tests/plugins/sample/pyproject.toml"])


@pytest.mark.parametrize("pyproject", PYPROJECTS, ids=lambda p: str(p.parent.relative_to(ROOT)) or "core")
def test_every_distribution_builds_without_deprecations(pyproject: Path, tmp_path: Path) -> None:
    meta = tomllib.loads(pyproject.read_text())
    assert isinstance(meta["project"]["license"], str), "project.license must be an SPDX expression (PEP 639)"
    assert any(r.replace(" ", "").startswith("setuptools>=77") for r in meta["build-system"]["requires"])
    if pyproject.parent != ROOT:  # the core's wheel is built (and checked the same way) below
        build_wheel(pyproject.parent, tmp_path / "dist")


@pytest.mark.parametrize(("command", "variable", "value", "accepts"), [
    (("serve",), "IPV6WGM_API_RATE_LIMIT", "100000000", "an integer from 10 to 1000000"),
    (("worker",), "IPV6WGM_PORT", "eighty", "an integer from 1 to 65535"),
    (("db", "upgrade"), "IPV6WGM_LOG_LEVEL", "chatty", "one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    (("plugins",), "IPV6WGM_NODE_ID", "gw/1", "matching"),
    (("admin", "create", "ops"), "IPV6WGM_DATABASE_TIMEOUT", "-1", "a number > 0 and <= 60"),
])
def test_a_bad_setting_is_one_line_and_a_failure(tmp_path: Path, command: tuple[str, ...], variable: str,
                                                 value: str, accepts: str) -> None:
    env = {variable: value, "IPV6WGM_REDIS_URL": "redis://127.0.0.1:6379/0",
           "IPV6WGM_NEW_ADMIN_PASSWORD": "an-admin-pass-1"}
    done = cli(*command, data_dir=tmp_path, extra_env=env)
    lines = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert done.returncode == 2, (done.returncode, lines)
    assert len(lines) == 1, lines
    assert variable in lines[0] and accepts in lines[0] and repr(value) in lines[0], lines[0]
    assert not (tmp_path / "ipv6wgm.sqlite3").exists()  # nothing started


def test_a_secret_setting_is_never_echoed(tmp_path: Path) -> None:
    done = cli("serve", data_dir=tmp_path, extra_env={"IPV6WGM_SECRET_KEY": "hunter2-but-short"})
    assert done.returncode == 2
    assert done.stderr.strip() == ("ipv6wgm: IPV6WGM_SECRET_KEY accepts text of at least 32 characters, "
                                   "got a value of 17 characters")
    assert "hunter2" not in done.stdout + done.stderr


def test_built_wheel_imports_and_migrates(tmp_path: Path) -> None:
    build_wheel(ROOT, tmp_path / "dist")
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
