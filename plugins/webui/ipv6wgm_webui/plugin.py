"""Hook implementations of the web UI plugin.

The web UI is served by the API's own app at ``/``. It consumes ``register_ui``: every plugin's
pages, navigation entries, dashboard cards and templates. It also uses the hook itself: the
core's pages (dashboard, users, logs, system) and, for now, the pages of the bundled plugins
(WireGuard, BGP, IPv6, monitoring), each registered with ``requires=<plugin>`` so it exists only
when that plugin is loaded.
"""

from __future__ import annotations

from ipv6wgm import hookimpl
from ipv6wgm.plugins import BlueprintRegistrar, ModelRegistrar, PluginInfo, Runtime, UiRegistrar

info = PluginInfo(name="webui", version="0.1.0",
                  description="Web UI: server-rendered pages with htmx, dark mode, per-plugin pages")


@hookimpl
def register_models(register: ModelRegistrar) -> None:
    register("ipv6wgm_webui.models", migrations="ipv6wgm_webui.migrations")


@hookimpl
def register_blueprints(register: BlueprintRegistrar) -> None:
    from ipv6wgm_webui.web import build_blueprint

    register(build_blueprint(), url_prefix="/")


@hookimpl
def register_ui(register: UiRegistrar) -> None:
    from ipv6wgm_webui.pages import account, core, network, share, wireguard

    core.register(register)
    account.register(register)
    share.register(register)
    wireguard.register(register)
    network.register(register)


@hookimpl
def startup(runtime: Runtime) -> None:
    from ipv6wgm_webui.state import WebState

    runtime.set_state("webui", WebState.build(runtime))


@hookimpl
async def shutdown(runtime: Runtime) -> None:
    await runtime.close_state("webui")
