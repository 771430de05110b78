"""Every hook a plugin may implement.

Hooks receive a ``register`` callback instead of returning values, so the plugin manager knows
which plugin contributed what (for namespacing, duplicate detection and isolation) without
untyped tuples travelling back through pluggy. The manager calls each plugin's implementation
on its own, so ``register`` is already bound to the calling plugin's name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ipv6wgm import hookspec

if TYPE_CHECKING:
    from ipv6wgm.accounts import AccountEvent
    from ipv6wgm.registry import (
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
        ServiceRegistrar,
        UiRegistrar,
    )
    from ipv6wgm.runtime import Runtime


@hookspec
def register_models(register: ModelRegistrar) -> None:
    """Declare Tortoise model modules and their migrations package.

    ``register("ipv6wgm_x.models", migrations="ipv6wgm_x.migrations")``. The app label is the
    plugin name. Called before ``Tortoise.init`` (which is process-global and happens once).
    """


@hookspec
def register_blueprints(register: BlueprintRegistrar) -> None:
    """Add Quart blueprints; ``register(bp)`` mounts it under ``/api/v1/<plugin>``.

    ``register(bp, url_prefix="/api/v1/other")`` chooses another prefix. All blueprints are
    registered inside ``create_app()``, before serving (Quart does not stop late registration).
    """


@hookspec
def register_jobs(register: JobRegistrar) -> None:
    """Add background jobs: ``register("apply_peer", func, timeout=60)``.

    The job is named ``<plugin>.apply_peer``. ``func(ctx, *args)`` must be idempotent: arq
    delivers at least once.
    """


@hookspec
def register_cron(register: CronRegistrar) -> None:
    """Add periodic jobs: ``register("reconcile", func, every=30, scope="node")`` (seconds).

    ``scope`` is required: ``"node"`` for work on this node's data plane (every node runs it
    on every tick), ``"cluster"`` for work on shared rows (one run per tick across all nodes).
    ``every`` must divide a minute, an hour or a day (``ipv6wgm.cron.ALLOWED_INTERVALS``):
    arq schedules on the clock and could not keep any other interval; validate settings that
    feed it with ``ipv6wgm.cron.CronInterval``. Run by each node's worker (arq) when Redis is
    configured, in-process otherwise. ``ctx["cron_tick"]`` is the tick's scheduled time (epoch
    seconds). A cron that fails with ``ipv6wgm.jobs.JobFailed`` is logged as a warning.
    """


@hookspec
def register_ws_channels(register: ChannelRegistrar) -> None:
    """Add WebSocket channels: ``register("wireguard", message_type="wireguard_status", ...)``.

    A channel names the permission needed to subscribe, an optional stream path
    (``/ws/wireguard/status``) and an optional snapshot coroutine sent on subscribe.
    Messages published with an ``owner_id`` reach only that owner and users holding
    ``<channel>.all``.
    """


@hookspec
def register_permissions(register: PermissionRegistrar) -> None:
    """Declare permissions and the roles granted them by default.

    ``register("wireguard.clients.write", "Manage WireGuard clients", roles=("manager",))``;
    admins hold ``*``.
    """


@hookspec
def register_commands(register: CommandRegistrar) -> None:
    """Add ``ipv6wgm`` CLI sub-commands: ``register("wg-export", help, configure, handler)``.

    ``configure(parser)`` adds the arguments; ``handler(args)`` runs the command. A coroutine
    function runs in a started CLI runtime (``ipv6wgm.bootstrap.session``: migrated database,
    every plugin's state), closed before the process exits; the return value is the exit status.
    """


@hookspec
def collect_metrics(emit: MetricEmitter) -> Any:
    """Emit current metrics: ``emit("wireguard.peers", 12, tags={...}, unit="count")``.

    May be a coroutine function.
    """


@hookspec
def health_components(register: HealthRegistrar) -> None:
    """Add components to ``/status/health/detailed``: ``register("wireguard", check)``.

    ``check()`` is a coroutine returning a dict with at least ``status``
    (healthy/degraded/unhealthy); the core times it and bounds it with a timeout.
    """


@hookspec
def backup_contributors(register: BackupRegistrar) -> None:
    """Add what a backup must carry besides the database: ``register("files", dump, restore)``.

    Named ``<plugin>.<name>`` in the archive. ``dump()`` is a coroutine returning ``bytes``
    (at most the backup plugin's member cap); ``restore(data: bytes)`` is a coroutine called
    after the database restore has committed, so it may read the restored rows. Both run in the
    process that runs the backup job (the node's worker, or the server without Redis). Secrets
    stay as they are stored (encrypted); never put the master key in a dump.
    """


@hookspec
def register_services(register: ServiceRegistrar) -> None:
    """Offer a documented service object to other plugins: ``register("delegation", obj)``.

    Registered as ``<plugin>.<name>``; another plugin looks it up with
    ``current().services.get("ipv6.delegation")`` and must work (with the feature off) when it
    is missing. This is how plugins meet without importing each other's internals.
    """


@hookspec
def register_ui(register: UiRegistrar) -> None:
    """Add web UI pages, navigation entries, dashboard cards and templates (consumed by the
    ``webui`` plugin; nothing happens without it).

    ``register.page("/wireguard/servers", view, name="servers")`` mounts ``async view(ctx, **args)``
    at that path (werkzeug rule syntax) for GET (``methods=`` for more); ``ctx`` is the web UI's
    page context (principal, CSRF-checked form, ``render``). ``register.nav("Servers",
    "/wireguard/servers")`` adds a menu entry, ``register.card("servers", render)`` a dashboard
    card (``async render(ctx) -> str`` of HTML), ``register.templates("ipv6wgm_x", "templates")``
    the plugin's Jinja folder, addressed as ``"<plugin>/<file>"``. ``permission=`` hides an item
    from principals without it; ``requires=`` names a plugin that must be loaded (for pages one
    plugin provides for another).
    """


@hookspec
def account_changed(event: AccountEvent) -> Any:
    """A user was deactivated or reactivated, or is about to be deleted. May be async.

    Access ends with the account: a plugin takes the user's objects off the data plane on
    ``deactivated``, puts back what was enabled on ``reactivated``, and on ``deleted`` removes
    them (or, with ``event.keep_objects``, keeps them disabled). Called in the API process
    before the answer; for ``deleted`` before the user row goes, and an exception refuses the
    deletion (503), so no object outlives its owner by accident.
    """


@hookspec
def startup(runtime: Runtime) -> Any:
    """Called once per runtime after the database is ready (server, worker, CLI commands and
    ``bootstrap.session``). May be async.

    Build the plugin's process state (backends, locks, caches) here as one object and keep it
    with ``runtime.set_state("<plugin>", obj)``; read it with ``current().state("<plugin>",
    Type)``. ``runtime.role`` (``server``, ``worker``, ``cli``) tells whether this process owns
    the data plane. Never keep process state in module globals.
    """


@hookspec
def shutdown(runtime: Runtime) -> Any:
    """Called once per runtime before the database closes. May be async.

    Close what ``startup`` built: ``await runtime.close_state("<plugin>")`` awaits the state's
    ``close()``. The process must be able to exit afterwards (no thread or connection left).
    """
