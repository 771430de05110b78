"""The sample plugin's web UI (``register_ui``): a page, a menu entry and a dashboard card with
the plugin's own templates. It needs nothing from the web UI package: ``ctx`` brings ``render``
and ``html``, so a plugin ships its pages even where the web UI is not installed."""

from __future__ import annotations

from typing import Any

from ipv6wgm_sample.models import Note


async def notes_page(ctx: Any) -> Any:
    return ctx.html("sample/notes.html", title="Sample notes", count=await Note.all().count())


async def notes_card(ctx: Any) -> str:
    return ctx.render("sample/card.html", count=await Note.all().count())
