"""Hook implementations of the sample plugin: the test suite's plugin and a template for authors.

Same layout as the bundled plugins: ``plugin.py`` (hooks only), ``models.py`` + ``migrations/``,
``schemas.py``, ``routes.py``, ``jobs.py``, ``settings.py``, ``state.py`` (process state),
``commands.py`` (CLI). Every hook is typed with what the core passes (``ipv6wgm.plugins``).

What the tests rely on: the notes routes, the ``sample.touch`` job and the ``sample`` channel
(tests/core), the ``account_changed`` hook (tests/core/test_security.py), the opt-in crons
(``IPV6WGM_SAMPLE_CRON_EVERY``, tests/core/test_crons.py), the metric file
(``IPV6WGM_SAMPLE_METRIC_FILE``, tests/monitoring), the backup contributor
(``IPV6WGM_SAMPLE_BACKUP_FILE``, tests/backup), ``ipv6wgm sample-notes`` and its web UI page,
menu entry and dashboard card (``register_ui``, tests/webui).
"""

from __future__ import annotations

from typing import Any

from ipv6wgm import hookimpl
from ipv6wgm.plugins import (
    AccountEvent,
    BackupRegistrar,
    BlueprintRegistrar,
    ChannelRegistrar,
    CommandRegistrar,
    CronRegistrar,
    HealthRegistrar,
    JobRegistrar,
    MetricEmitter,
    ModelRegistrar,
    PermissionRegistrar,
    PluginInfo,
    Runtime,
    UiRegistrar,
)

info = PluginInfo(name="sample", version="0.1.0", description="test plugin")


@hookimpl
def register_models(register: ModelRegistrar) -> None:
    register("ipv6wgm_sample.models", migrations="ipv6wgm_sample.migrations")


@hookimpl
def register_blueprints(register: BlueprintRegistrar) -> None:
    from ipv6wgm_sample.routes import bp

    register(bp)


@hookimpl
def register_jobs(register: JobRegistrar) -> None:
    from ipv6wgm_sample.jobs import touch

    register("touch", touch, timeout=30)


@hookimpl
def register_cron(register: CronRegistrar) -> None:
    """Only with ``IPV6WGM_SAMPLE_CRON_EVERY`` set (tests of cron scopes): one cron per scope."""
    from ipv6wgm_sample.jobs import count_run
    from ipv6wgm_sample.settings import get_settings

    every = get_settings().cron_every
    if every:
        register("node_tick", count_run("node_tick"), every=every, scope="node")
        register("cluster_tick", count_run("cluster_tick"), every=every, scope="cluster")


@hookimpl
def register_ws_channels(register: ChannelRegistrar) -> None:
    register("sample", message_type="note_touched", permission="sample.notes.read", stream_path="/ws/sample")


@hookimpl
def register_permissions(register: PermissionRegistrar) -> None:
    register("sample.notes.read", "Read own notes", roles=("manager", "user"))
    register("sample.notes.write", "Write own notes", roles=("manager", "user"))
    register("sample.all", "See everyone's notes", roles=("manager",))


@hookimpl
def register_commands(register: CommandRegistrar) -> None:
    from ipv6wgm_sample import commands

    register("sample-notes", "list the sample plugin's notes", commands.configure, commands.list_notes)


@hookimpl
def collect_metrics(emit: MetricEmitter) -> None:
    """Only with ``IPV6WGM_SAMPLE_METRIC_FILE`` set (monitoring tests): ``sample.value`` is the
    number in that file (cluster-wide: no ``node`` tag), ``sample.node_value`` the same number
    owned by this node. A test changes the file to drive alert rules; no file, no metric."""
    from ipv6wgm.runtime import current
    from ipv6wgm_sample.settings import get_settings

    path = get_settings().metric_file
    if path is None:
        return
    try:
        value = float(path.read_text().strip())
    except (OSError, ValueError):
        return
    emit("sample.value", value, tags={"source": "file"}, unit="count")
    emit("sample.node_value", value, tags={"source": "file", "node": current().settings.node_id}, unit="count")


@hookimpl
async def account_changed(event: AccountEvent) -> None:
    """Access ends with the account: a deleted user's notes go with it, or, with
    ``keep_objects``, pass to the admin who deleted the account (a note must have an owner)."""
    from ipv6wgm_sample.models import Note

    if event.kind != "deleted":
        return
    if event.keep_objects and event.actor_id is not None:
        await Note.filter(owner_id=event.user_id).update(owner_id=event.actor_id)
    else:
        await Note.filter(owner_id=event.user_id).delete()


@hookimpl
def backup_contributors(register: BackupRegistrar) -> None:
    """``sample.file``: the bytes of ``IPV6WGM_SAMPLE_BACKUP_FILE`` (backup tests), put back on restore."""
    from ipv6wgm_sample.settings import get_settings

    async def dump() -> bytes:
        path = get_settings().backup_file
        return path.read_bytes() if path is not None and path.is_file() else b""

    async def restore(data: bytes) -> None:
        path = get_settings().backup_file
        if path is not None:
            path.write_bytes(data)

    register("file", dump, restore)


@hookimpl
def health_components(register: HealthRegistrar) -> None:
    async def check() -> dict[str, Any]:
        from ipv6wgm_sample.models import Note
        from ipv6wgm_sample.state import plugin_state

        return {"status": "healthy", "notes": await Note.all().count(), "touches_here": plugin_state().touches}

    register("sample", check)


@hookimpl
def startup(runtime: Runtime) -> None:
    from ipv6wgm_sample.state import SampleState

    runtime.set_state(info.name, SampleState())


@hookimpl
async def shutdown(runtime: Runtime) -> None:
    await runtime.close_state(info.name)


@hookimpl
def register_ui(register: UiRegistrar) -> None:
    from ipv6wgm_sample import ui

    register.templates("ipv6wgm_sample", "templates")
    register.page("/sample/notes", ui.notes_page, name="notes", permission="sample.all")
    register.nav("Notes", "/sample/notes", permission="sample.all", order=95)
    register.card("notes", ui.notes_card, permission="sample.all", order=95)
