"""Hook implementations of the backup plugin: the consumer of every plugin's ``backup_contributors``.

Routes (``/api/v1/backup``): ``/backups`` (list), ``/backups/create``, ``/backups/{id}`` (GET,
DELETE), ``/backups/{id}/verify``, ``/backups/{id}/restore``, ``/backups/{id}/download``,
``/backups/upload``, ``/jobs``, ``/jobs/{id}``, ``/stats``, ``/schedules`` (GET, POST),
``/schedules/{id}`` (GET, PUT, DELETE).

Jobs ``backup.create``, ``backup.verify``, ``backup.restore``; cluster cron ``backup.schedules``.
WebSocket channel ``backup`` (permission ``backup.read``, stream ``/ws/backup``):
``backup_progress`` messages. Services: ``backup.write_guard`` (the API pauses writes while a
restore runs) and ``backup.body_limit`` (uploads larger than the API's 1 MiB body cap).
"""

from __future__ import annotations

from ipv6wgm import hookimpl
from ipv6wgm.plugins import (
    BlueprintRegistrar,
    ChannelRegistrar,
    CronRegistrar,
    JobRegistrar,
    ModelRegistrar,
    PermissionRegistrar,
    PluginInfo,
    Runtime,
    ServiceRegistrar,
)

info = PluginInfo(name="backup", version="0.1.0",
                  description="Verified, optionally encrypted backups; all-or-nothing restore; schedules")


@hookimpl
def register_models(register: ModelRegistrar) -> None:
    register("ipv6wgm_backup.models", migrations="ipv6wgm_backup.migrations")


@hookimpl
def register_blueprints(register: BlueprintRegistrar) -> None:
    from ipv6wgm_backup.routes import bp

    register(bp)


@hookimpl
def register_jobs(register: JobRegistrar) -> None:
    from ipv6wgm_backup import jobs

    register("create", jobs.create, timeout=3600, max_tries=1)
    register("verify", jobs.verify, timeout=3600, max_tries=1)
    register("restore", jobs.restore, timeout=3600, max_tries=1)


@hookimpl
def register_cron(register: CronRegistrar) -> None:
    from ipv6wgm_backup.schedules import tick
    from ipv6wgm_backup.settings import get_settings

    register("schedules", tick, every=get_settings().schedule_interval, scope="cluster")


@hookimpl
def register_ws_channels(register: ChannelRegistrar) -> None:
    register("backup", message_type="backup_progress", permission="backup.read", stream_path="/ws/backup")


@hookimpl
def register_permissions(register: PermissionRegistrar) -> None:
    register("backup.read", "List backups, jobs, schedules and stats", roles=("manager",))
    register("backup.write", "Create and verify backups; manage schedules", roles=("manager",))
    register("backup.admin", "Download, upload, restore and delete backups")  # admins only


@hookimpl
def register_services(register: ServiceRegistrar) -> None:
    from ipv6wgm_backup.maintenance import write_guard
    from ipv6wgm_backup.routes import upload_limit

    register("write_guard", write_guard)
    register("body_limit", upload_limit())


@hookimpl
def startup(runtime: Runtime) -> None:
    from ipv6wgm_backup.maintenance import BackupState

    runtime.set_state(info.name, BackupState())


@hookimpl
async def shutdown(runtime: Runtime) -> None:
    await runtime.close_state(info.name)
