"""The web UI's process state: the Jinja environment over every plugin's templates, and the
CSRF key. Built in ``startup`` from the registry's ``register_ui`` contributions."""

from __future__ import annotations

from dataclasses import dataclass
from gettext import NullTranslations
from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, PrefixLoader, select_autoescape

from ipv6wgm.registry import Registry, UiCard, UiNav
from ipv6wgm.security.keys import derive_key


def loaded_plugins(runtime: Any) -> frozenset[str]:
    return frozenset(name for name, rec in runtime.plugins.records.items() if rec.status == "loaded")


@dataclass
class WebState:
    env: Environment
    csrf_key: bytes
    nav: list[UiNav]
    cards: list[UiCard]
    translations: NullTranslations

    @classmethod
    def build(cls, runtime: Any) -> WebState:
        registry: Registry = runtime.registry
        plugins = loaded_plugins(runtime)
        prefixed = {plugin: PackageLoader(package, folder) for plugin, (package, folder)
                    in registry.ui_templates.items() if plugin in plugins}
        env = Environment(
            loader=ChoiceLoader([PackageLoader("ipv6wgm_webui", "templates"), PrefixLoader(prefixed)]),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.i18n"],
            auto_reload=False,  # templates ship with the package: no stat() per render
        )
        translations = NullTranslations()
        env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
        nav = sorted((n for n in registry.ui_nav if n.requires is None or n.requires in plugins),
                     key=lambda n: (n.order, n.label))
        cards = sorted((c for c in registry.ui_cards.values() if c.requires is None or c.requires in plugins),
                       key=lambda c: (c.order, c.name))
        return cls(env, derive_key(runtime.settings.master_secret, "webui-csrf"), nav, cards, translations)
