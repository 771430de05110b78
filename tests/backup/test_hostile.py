"""Hostile and damaged archives are refused with a clear error, and the database is unchanged
(a full dump of every table before and after). Also: passphrases (right, wrong, missing), the
admin-only routes, id validation and file confinement."""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Iterator

import httpx
import pytest

from ipv6wgm.testing import ServerProcess, running_server
from tests.backup.archives import build, member, members_of, rebuild
from tests.backup.helpers import QUIET, create_backup, full_dump, restore, upload, wait_job

CAP = 256 * 1024
ENV = {**QUIET, "IPV6WGM_BACKUP_MAX_MEMBER_BYTES": str(CAP), "IPV6WGM_BACKUP_MAX_MEMBERS": "64"}


@pytest.fixture(scope="module", params=["sqlite", "mysql"])
def srv(request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    with running_server(request.param, env=ENV) as server:
        yield server


@pytest.fixture(scope="module")
def api(srv: ServerProcess) -> Iterator[httpx.Client]:
    with srv.client(srv.token()) as client:
        assert client.post("/ipv6/pools", json={"name": "keep-me", "prefix": "fd12:3456:789a::/48",
                                                "prefix_length": 64}).status_code == 201
        yield client


@pytest.fixture(scope="module")
def genuine(api: httpx.Client) -> bytes:
    backup = create_backup(api, "genuine")
    data = api.get(f"/backup/backups/{backup['id']}/download").content
    assert hashlib.sha256(data).hexdigest() == backup["checksum"]
    return data


def _manifest(pairs: list[tuple[str, bytes]]) -> dict:
    return json.loads(dict(pairs)["manifest.json"])


def _with_manifest(pairs: list[tuple[str, bytes]], manifest: dict) -> list[tuple[str, bytes]]:
    return [(n, json.dumps(manifest).encode() if n == "manifest.json" else d) for n, d in pairs]


def hostile_cases(genuine: bytes) -> dict[str, tuple[bytes, str]]:
    pairs = members_of(genuine)
    manifest = _manifest(pairs)
    table = next(n for n, _ in pairs if n.startswith("tables/core_users"))
    tampered = [(n, d.replace(b"admin", b"admiN") if n == table else d) for n, d in pairs]
    newer = json.loads(json.dumps(manifest))
    newer["migrations"]["core"].append("9999_from_the_future")
    unknown_app = json.loads(json.dumps(manifest))
    unknown_app["migrations"]["nosuchplugin"] = ["0001_initial"]
    corrupted = bytearray(genuine)
    for i in range(len(corrupted) // 3, len(corrupted) // 3 + 64):
        corrupted[i] ^= 0x5A
    return {
        "corrupted": (bytes(corrupted), "corrupted"),
        "truncated": (genuine[: len(genuine) // 2], "corrupted or truncated"),
        "not-gzip": (b"PK\x03\x04 a zip file", "not a backup archive"),
        "tar-slip": (build([member("../../etc/cron.d/evil", b"* * * * * root id\n")]), "'..'"),
        "tar-slip-nested": (build([member("tables/../../x.jsonl", b"[]\n")]), "'..'"),
        "absolute": (build([member("/etc/passwd", b"root::0:0::/:/bin/sh\n")]), "absolute"),
        "symlink": (build([member("manifest.json", kind=tarfile.SYMTYPE, linkname="/etc/shadow")]), "links"),
        "hardlink": (build([member("manifest.json", kind=tarfile.LNKTYPE, linkname="/etc/shadow")]), "links"),
        "device": (build([member("config.json", kind=tarfile.CHRTYPE, devmajor=1, devminor=3)]), "devices"),
        "fifo": (build([member("config.json", kind=tarfile.FIFOTYPE)]), "fifos"),
        "directory": (build([member("tables", kind=tarfile.DIRTYPE)]), "only regular files"),
        "unknown-member": (build([member("evil.sh", b"#!/bin/sh\n")]), "not part of the archive format"),
        "oversized": (rebuild([*pairs[:-1], ("contrib/big", b"\0" * (CAP + 1)), pairs[-1]]), "more than the cap"),
        "too-many": (build([member(f"contrib/m{i}", b"x") for i in range(70)]), "more than 64 members"),
        "duplicate": (build([member("config.json", b"{}"), member("config.json", b"{}")]), "appears twice"),
        "no-manifest": (rebuild([p for p in pairs if p[0] != "manifest.json"]), "no manifest"),
        "checksum-mismatch": (rebuild(tampered), "checksum mismatch in member"),
        "newer-schema": (rebuild(_with_manifest(pairs, newer)), "newer schema"),
        "unknown-plugin": (rebuild(_with_manifest(pairs, unknown_app)), "not installed"),
        "bad-manifest": (rebuild([(n, b"{not json" if n == "manifest.json" else d) for n, d in pairs]), "not JSON"),
    }


def test_hostile_archives_refused_database_unchanged(srv: ServerProcess, api: httpx.Client, genuine: bytes) -> None:
    before = full_dump(srv)
    for case, (data, expected) in hostile_cases(genuine).items():
        r = api.post("/backup/backups/upload", params={"name": case}, content=data)
        if r.status_code == 422:  # refused at the door (not an archive at all)
            assert expected in r.json()["error"]["details"]["message"], (case, r.text)
            continue
        assert r.status_code == 201, (case, r.text)
        backup_id = r.json()["data"]["id"]
        for action in ("verify", "restore"):
            r = api.post(f"/backup/backups/{backup_id}/{action}", json={})
            assert r.status_code == 200, (case, r.text)
            job = wait_job(api, r.json()["data"]["job_id"])
            assert job["status"] == "failed" and expected in job["error"], (case, action, job)
        assert full_dump(srv) == before, case
    assert not list((srv.data_dir / "backups").glob(".restore-*")), "a decrypted copy was left behind"
    assert not any(p.name in ("evil", "passwd", "x.jsonl") for p in srv.data_dir.rglob("*"))


def test_file_changed_on_disk_is_refused(srv: ServerProcess, api: httpx.Client) -> None:
    backup = create_backup(api, "then changed")
    before = full_dump(srv)
    path = srv.data_dir / "backups" / backup["file_path"].rsplit("/", 1)[1]
    path.write_bytes(path.read_bytes() + b"\0")
    job = restore(api, backup["id"])
    assert job["status"] == "failed" and "checksum mismatch" in job["error"], job
    assert full_dump(srv) == before


def test_passphrase(srv: ServerProcess, api: httpx.Client) -> None:
    backup = create_backup(api, "sealed", passphrase="correct horse battery")
    assert backup["encrypted"] is True and backup["file_path"].endswith(".tar.gz.enc")
    data = api.get(f"/backup/backups/{backup['id']}/download")
    assert data.status_code == 200 and data.headers["content-type"] == "application/octet-stream"
    assert b"core_users" not in data.content and data.content.startswith(b"IPV6WGM-BACKUP-AESGCM-1\n")
    before = full_dump(srv)
    for body, message in (({}, "passphrase"), ({"passphrase": "wrong horse battery"}, "wrong passphrase")):
        for action in ("verify", "restore"):
            r = api.post(f"/backup/backups/{backup['id']}/{action}", json=body)
            assert r.status_code == 400 and message in r.json()["error"]["message"], r.text
    # a damaged encrypted archive: the key check passes, the tag does not
    damaged = bytearray(data.content)
    damaged[len(damaged) // 2] ^= 1
    entry = upload(api, bytes(damaged), "damaged sealed")
    r = api.post(f"/backup/backups/{entry['id']}/restore", json={"passphrase": "correct horse battery"})
    job = wait_job(api, r.json()["data"]["job_id"])
    assert job["status"] == "failed" and "does not decrypt" in job["error"], job
    assert full_dump(srv) == before
    job = wait_job(api, api.post(f"/backup/backups/{backup['id']}/verify",
                                 json={"passphrase": "correct horse battery"}).json()["data"]["job_id"])
    assert job["status"] == "completed" and job["result"]["tables"] > 10, job


def test_admin_only_and_ids(srv: ServerProcess, api: httpx.Client, genuine: bytes) -> None:
    token = api.headers["Authorization"].split()[1]
    manager = srv.make_user(token, role="manager")
    backup = api.get("/backup/backups").json()["data"][0]
    with srv.client(manager["token"]) as m:
        assert m.get("/backup/backups").status_code == 200
        assert m.get("/backup/stats").status_code == 200
        for method, path in (("GET", f"/backup/backups/{backup['id']}/download"),
                             ("POST", f"/backup/backups/{backup['id']}/restore"),
                             ("DELETE", f"/backup/backups/{backup['id']}"), ("POST", "/backup/backups/upload")):
            assert m.request(method, path).status_code == 403, path
    user = srv.make_user(token, role="user")
    with srv.client(user["token"]) as u:
        assert u.get("/backup/backups").status_code == 403
    for bad in ("..%2F..%2Fetc%2Fpasswd", "backup_1", "backup_20240101_000000_zzzzzz", "x" * 300):
        assert api.get(f"/backup/backups/{bad}/download").status_code == 404, bad
    assert api.post(f"/backup/backups/{backup['id']}/restore", params={"target_dir": "/tmp"}).status_code == 422
    directory = srv.data_dir / "backups"
    assert directory.stat().st_mode & 0o777 == 0o700
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in directory.iterdir())
    entry = upload(api, genuine, "to delete")
    assert api.delete(f"/backup/backups/{entry['id']}").status_code == 200
    assert api.get(f"/backup/backups/{entry['id']}").status_code == 404
    assert not (directory / entry["file_path"].rsplit("/", 1)[1]).exists()


def test_a_restore_never_brings_a_revoked_token_back(srv: ServerProcess, api: httpx.Client) -> None:
    """A backup is older than a logout or a token renewal: the restored sessions keep those."""
    token = api.headers["Authorization"].split()[1]
    leaver, renewer = srv.make_user(token, role="user"), srv.make_user(token, role="user")
    backup = create_backup(api, "sessions")
    with srv.client(leaver["token"]) as c:
        assert c.post("/auth/logout").status_code == 200
        assert c.get("/auth/me").status_code == 401
    r = httpx.post(f"{srv.api}/auth/refresh", headers={"Authorization": f"Bearer {renewer['token']}"})
    assert r.status_code == 200, r.text
    renewed = r.json()["data"]["access_token"]
    job = restore(api, backup["id"])
    assert job["status"] == "completed", job
    for dead in (leaver["token"], renewer["token"]):
        with srv.client(dead) as c:
            assert c.get("/auth/me").status_code == 401
    with srv.client(renewed) as c:
        assert c.get("/auth/me").json()["data"]["username"] == renewer["username"]
    assert api.get("/auth/me").status_code == 200  # a session live then and now stays live
