"""Create, verify and restore archives (run inside the jobs; see ``jobs``).

A restore checks everything it can before it touches the database: the archive's sha256
against the catalogue, every member against the manifest (sha256, size, row count), the format
and the schema (an archive from a newer schema is refused, an older one is mapped onto this
one). Then, with writes paused across the API, it replaces every table in one transaction:
all or nothing. A process killed mid-way leaves the old data (the transaction never commits).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from tortoise import Tortoise
from tortoise.migrations.recorder import MigrationRecorder
from tortoise.transactions import in_transaction

from ipv6wgm import __version__
from ipv6wgm.api import now_iso
from ipv6wgm.auth import service as auth
from ipv6wgm.auth.models import AuthSession
from ipv6wgm.runtime import current
from ipv6wgm_backup import archive as arc
from ipv6wgm_backup import dump
from ipv6wgm_backup.settings import get_settings

FORMAT = 1
#: Tables a ``config`` backup carries.
CONFIG_TABLES = frozenset({"core_config"})
SESSIONS_TABLE = AuthSession._meta.db_table
WITH_TABLES = ("full", "database", "config")
WITH_CONTRIB = ("full", "files")
Progress = Callable[[str, int], Awaitable[None]]


def limits() -> arc.Limits:
    s = get_settings()
    return arc.Limits(s.max_members, s.max_member_bytes, s.max_total_bytes)


async def applied_migrations(connection: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key in await MigrationRecorder(connection).applied_migrations():
        out.setdefault(key.app_label, []).append(key.name)
    return {app: sorted(names) for app, names in out.items()}


def selected_tables(backup_type: str) -> list[dump.Table]:
    if backup_type not in WITH_TABLES:
        return []
    found = dump.tables()
    return [t for t in found if t.name in CONFIG_TABLES] if backup_type == "config" else found


# ---- create ---------------------------------------------------------------------------------------


async def create(path: Path, *, name: str, backup_type: str, passphrase: str | None, metadata: dict[str, Any],
                 progress: Progress) -> dict[str, Any]:
    """Write the archive at ``path`` (0600); returns sha256, size and the manifest summary."""
    runtime = current()
    writer = arc.ArchiveWriter(path, passphrase)
    members = _Members(writer)
    try:
        manifest: dict[str, Any] = {
            "format": FORMAT, "kind": "ipv6wgm-backup", "name": name, "backup_type": backup_type,
            "created_at": now_iso(), "core_version": __version__, "metadata": metadata,
            "plugins": {p["name"]: p["version"] for p in runtime.plugins.public() if p["status"] == "loaded"},
            "tables": {}, "contributors": [],
        }
        selected = selected_tables(backup_type)
        async with in_transaction() as conn:  # one snapshot of every table
            manifest["dialect"] = dump.dialect_of(conn)
            manifest["migrations"] = await applied_migrations(conn)
            for index, table in enumerate(selected):
                spool = arc.SpoolMember(path.parent)
                rows = 0
                try:
                    async for chunk in dump.dump_rows(conn, table):
                        spool.write(chunk)
                        rows += chunk.count(b"\n")
                except BaseException:
                    spool.close()
                    raise
                await members.add(table.member, spool)
                manifest["tables"][table.name] = {**table.describe(), "rows": rows, "member": table.member}
                await progress(f"table {table.name}", 5 + 80 * (index + 1) // max(len(selected), 1))
        await members.drain()
        if backup_type in ("full", "config"):
            writer.add_bytes("config.json", orjson.dumps(runtime.config.as_dict(), option=orjson.OPT_SORT_KEYS))
        if backup_type in WITH_CONTRIB:
            for spec in runtime.registry.backups.values():
                data = await spec.dump()
                if not isinstance(data, bytes):
                    raise TypeError(f"backup contributor {spec.name} returned {type(data).__name__}, not bytes")
                writer.add_bytes(f"contrib/{spec.name}", data)
                manifest["contributors"].append(spec.name)
        manifest["members"] = dict(writer.members)
        writer.add_bytes("manifest.json", orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
        sha256, size = await asyncio.to_thread(writer.close)
        members.close()
    except BaseException:
        members.close()
        writer.abort()
        path.unlink(missing_ok=True)  # noqa: ASYNC240 - one local unlink on the way out
        raise
    return {"sha256": sha256, "size": size, "tables": len(manifest["tables"]),
            "rows": sum(t["rows"] for t in manifest["tables"].values()), "contributors": manifest["contributors"]}


class _Members:
    """Compresses one table's member into the archive (a thread) while the next table is read:
    the engine renders rows on one core while gzip runs on the other."""

    def __init__(self, writer: arc.ArchiveWriter) -> None:
        self.writer = writer
        self.pending: concurrent.futures.Future[None] | None = None
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="backup-write")

    async def add(self, name: str, spool: arc.SpoolMember) -> None:
        try:
            await self.drain()
        except BaseException:
            spool.close()
            raise
        self.pending = self.pool.submit(self._write, name, spool)

    def _write(self, name: str, spool: arc.SpoolMember) -> None:
        try:
            self.writer.add_file(name, spool.rewind(), spool.size, spool.sha.hexdigest())
        finally:
            spool.close()

    async def drain(self) -> None:
        if self.pending is not None:
            await asyncio.wrap_future(self.pending)
            self.pending = None

    def close(self) -> None:
        """After a failure too: a write in flight finishes before the archive file is closed
        (waited for here even when the task is being cancelled; it is one member's gzip)."""
        if self.pending is not None:
            concurrent.futures.wait([self.pending])
        self.pool.shutdown(wait=False)


# ---- verify ---------------------------------------------------------------------------------------


def verify_members(plain: Path) -> dict[str, Any]:
    """Pass one (sync, in a thread): every member checked and hashed; the manifest, checked."""
    cap = limits()
    seen: dict[str, dict[str, Any]] = {}
    raw: bytes | None = None
    for name, handle in arc.iter_members(plain, cap):
        if name == "manifest.json":
            raw = arc.read_all(handle, arc.MANIFEST_MAX)
            continue
        sha, size, lines = hashlib.sha256(), 0, 0
        while chunk := handle.read(arc.CHUNK):
            sha.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
        seen[name] = {"sha256": sha.hexdigest(), "size": size, "lines": lines}
    # parsed once the whole stream has been read: damage anywhere shows as such (gzip's CRC)
    # rather than as whatever a damaged manifest would say
    if raw is None:
        raise arc.ArchiveError("the archive has no manifest.json: it is damaged or not a backup")
    try:
        manifest = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise arc.ArchiveError(f"manifest.json is not JSON: {exc}") from None
    check_manifest(manifest)
    members = manifest["members"]
    if set(members) != set(seen):
        raise arc.ArchiveError(f"members differ from the manifest: missing {sorted(set(members) - set(seen))}, "
                               f"unexpected {sorted(set(seen) - set(members))}")
    for name, entry in members.items():
        if entry.get("sha256") != seen[name]["sha256"] or entry.get("size") != seen[name]["size"]:
            raise arc.ArchiveError(f"checksum mismatch in member {name!r}")
    for table, entry in manifest["tables"].items():
        if seen.get(entry.get("member"), {}).get("lines") != entry.get("rows"):
            raise arc.ArchiveError(f"table {table}: row count differs from the manifest")
    return manifest


def check_manifest(manifest: Any) -> None:
    if not isinstance(manifest, dict) or manifest.get("kind") != "ipv6wgm-backup":
        raise arc.ArchiveError("manifest.json is not an ipv6wgm backup manifest")
    if manifest.get("format") != FORMAT:
        raise arc.ArchiveError(f"archive format {manifest.get('format')!r} is not supported (this version reads "
                               f"format {FORMAT})")
    for key, kind in (("members", dict), ("tables", dict), ("migrations", dict), ("contributors", list)):
        if not isinstance(manifest.get(key), kind):
            raise arc.ArchiveError(f"manifest.json: {key!r} is missing or malformed")
    for table, entry in manifest["tables"].items():
        if (not isinstance(entry, dict) or entry.get("member") != f"tables/{table}.jsonl"
                or not isinstance(entry.get("columns"), list) or not isinstance(entry.get("rows"), int)):
            raise arc.ArchiveError(f"manifest.json: table {table!r} is malformed")
        if not all(isinstance(c, dict) and isinstance(c.get("name"), str) for c in entry["columns"]):
            raise arc.ArchiveError(f"manifest.json: the columns of table {table!r} are malformed")


async def check_schema(manifest: dict[str, Any]) -> dict[str, bool]:
    """Per app of the archive: True when the archive's schema is older than this one. Refuses
    an archive from a newer schema or with a plugin that is not installed here."""
    from tortoise.connection import get_connection

    here = await applied_migrations(get_connection("default"))
    installed = set(Tortoise.apps or {})
    older: dict[str, bool] = {}
    for app, names in manifest["migrations"].items():
        if app.startswith("_"):
            continue
        if app not in installed:
            raise arc.ArchiveError(f"the archive holds the tables of plugin {app!r}, which is not installed here: "
                                   "install it first")
        unknown = sorted(set(names) - set(here.get(app, [])))
        if unknown:
            raise arc.ArchiveError(f"the archive comes from a newer schema ({app}: {', '.join(unknown)} unknown "
                                   "here): upgrade this installation first")
        older[app] = set(names) != set(here.get(app, []))
    return older


# ---- restore --------------------------------------------------------------------------------------


async def restore(plain: Path, manifest: dict[str, Any], older: dict[str, bool], progress: Progress) -> dict[str, Any]:
    """Pass two: replace the tables in one transaction, re-hashing every member as it is read."""
    current_tables = {t.name: t for t in dump.tables()}
    archived = manifest["tables"]
    for table, entry in archived.items():
        if table not in current_tables and not older.get(entry.get("app", ""), False):
            raise arc.ArchiveError(f"table {table!r} of the archive does not exist in this schema")
    scope = {n for n in archived if n in current_tables}
    if manifest.get("backup_type") in ("full", "database"):
        scope |= {n for n, t in current_tables.items() if t.app in manifest["migrations"]}
    by_member = {entry["member"]: name for name, entry in archived.items()}
    delay = get_settings().test_table_delay if current().settings.environment == "test" else 0.0
    contributions: dict[str, bytes] = {}
    async with in_transaction() as conn:
        dialect = dump.dialect_of(conn)
        plans = {name: dump.plan_table(current_tables[name], [c["name"] for c in archived[name]["columns"]],
                                       dialect, older=older.get(current_tables[name].app, False))
                 for name in archived if name in current_tables}
        live = await auth.live_sessions(conn) if SESSIONS_TABLE in scope else None
        await _foreign_keys(conn, dialect, enabled=False)
        try:
            inserted = await _replace(conn, dialect, _Replace(plain, manifest, scope, plans, by_member, contributions,
                                                               progress, delay))
            if live is not None:
                await auth.keep_only_live(conn, live)
        finally:
            # MariaDB: the setting belongs to the pooled connection, not the transaction.
            with contextlib.suppress(Exception):
                await _foreign_keys(conn, dialect, enabled=True)
    return {"tables": len(plans), "rows": inserted, "contributions": contributions}


@dataclass
class _Replace:
    plain: Path
    manifest: dict[str, Any]
    scope: set[str]
    plans: dict[str, dump.TablePlan]
    by_member: dict[str, str]
    contributions: dict[str, bytes]
    progress: Progress
    delay: float


async def _replace(conn: Any, dialect: str, job: _Replace) -> int:
    """Inside the transaction: empty the tables in scope, then insert every archived row."""
    plain, manifest, scope, plans, by_member = job.plain, job.manifest, job.scope, job.plans, job.by_member
    contributions, progress, delay = job.contributions, job.progress, job.delay
    inserted = 0
    for name in sorted(scope):
        await conn.execute_query(f"DELETE FROM {dump.quote(dialect, name)}")  # noqa: S608 - a model's table
    await progress("tables emptied", 20)
    done = 0
    for member, handle in arc.iter_members(plain, limits()):
        expected = manifest["members"].get(member) if member != "manifest.json" else None
        if member == "manifest.json":
            continue
        if expected is None:
            raise arc.ArchiveError(f"member {member!r} is not in the manifest")
        sha = hashlib.sha256()
        table = by_member.get(member)
        if table is not None and table in plans:
            inserted += await _insert(conn, plans[table], dialect, arc.iter_lines(handle, sha))
            done += 1
            await progress(f"table {table}", 20 + 70 * done // max(len(plans), 1))
            if delay:
                await asyncio.sleep(delay)
        else:
            data = arc.read_all(handle, limits().max_member_bytes)
            sha.update(data)
            if member.startswith("contrib/"):
                contributions[member.removeprefix("contrib/")] = data
        if sha.hexdigest() != expected["sha256"]:
            raise arc.ArchiveError(f"member {member!r} changed since it was verified")
    return inserted


async def _foreign_keys(conn: Any, dialect: str, *, enabled: bool) -> None:
    """Rows go in table by table, so references are checked at the end (SQLite: at commit) or not
    at all while the consistent snapshot goes in (MariaDB's FOREIGN_KEY_CHECKS is per session)."""
    # execute_query, not execute_script: sqlite3's executescript commits the open transaction first.
    if dialect == "mysql":
        await conn.execute_query(f"SET FOREIGN_KEY_CHECKS={1 if enabled else 0}")
    elif not enabled:
        await conn.execute_query("PRAGMA defer_foreign_keys = ON")


async def _insert(conn: Any, plan: dump.TablePlan, dialect: str, lines: Any) -> int:
    sql = plan.sql(dialect)
    batch: list[tuple[Any, ...]] = []
    count = 0
    for line in lines:
        if not line:
            continue
        try:
            values = orjson.loads(line)
            if not isinstance(values, list):
                raise ValueError("a row is not a JSON array")
            batch.append(plan.convert(values))
        except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
            raise arc.ArchiveError(f"table {plan.table.name}, row {count + len(batch) + 1}: {exc}") from None
        if len(batch) >= 2000:
            await conn.execute_many(sql, batch)
            count += len(batch)
            batch = []
    if batch:
        await conn.execute_many(sql, batch)
        count += len(batch)
    return count
