"""The web UI's process state: the Jinja environment over every plugin's templates, and the
CSRF key. Built in ``startup`` from the registry's ``register_ui`` contributions."""

from __future__ import annotations

from dataclasses import dataclass, field
from gettext import NullTranslations, translation
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, PrefixLoader, select_autoescape
from quart import g, has_request_context

from ipv6wgm.registry import Registry, UiCard, UiNav
from ipv6wgm.security.keys import derive_key
from ipv6wgm_webui.frames import FrameMemo

LANGUAGES = {"en": "en", "zh_CN": "zh-CN"}  # catalogue -> HTML lang
TRANSLATIONS = Path(__file__).with_name("translations")


def load_catalogs() -> dict[str, NullTranslations]:
    """English (the source strings) and every compiled catalogue (``pybabel compile``)."""
    catalogs: dict[str, NullTranslations] = {"en": NullTranslations()}
    for code in LANGUAGES:
        if code != "en":
            catalogs[code] = translation("messages", localedir=TRANSLATIONS, languages=[code])
    return catalogs


def current_language() -> str:
    """The request's language (chosen in ``web._guard``); English outside a request."""
    return getattr(g, "webui_lang", "en") if has_request_context() else "en"


def loaded_plugins(runtime: Any) -> frozenset[str]:
    return frozenset(name for name, rec in runtime.plugins.records.items() if rec.status == "loaded")


@dataclass
class WebState:
    env: Environment
    csrf_key: bytes
    nav: list[UiNav]
    cards: list[UiCard]
    catalogs: dict[str, NullTranslations]
    frames: FrameMemo = field(default_factory=FrameMemo)

    def translations(self) -> NullTranslations:
        """The request's catalogue."""
        return self.catalogs.get(current_language(), self.catalogs["en"])

    def gettext(self, message: str) -> str:
        return self.translations().gettext(message)

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
        catalogs = load_catalogs()

        def _gettext(message: str) -> str:
            return catalogs.get(current_language(), catalogs["en"]).gettext(message)

        def _ngettext(singular: str, plural: str, n: int) -> str:
            return catalogs.get(current_language(), catalogs["en"]).ngettext(singular, plural, n)

        env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]
        nav = sorted((n for n in registry.ui_nav if n.requires is None or n.requires in plugins),
                     key=lambda n: (n.order, n.label))
        cards = sorted((c for c in registry.ui_cards.values() if c.requires is None or c.requires in plugins),
                       key=lambda c: (c.order, c.name))
        return cls(env, derive_key(runtime.settings.master_secret, "webui-csrf"), nav, cards, catalogs)
