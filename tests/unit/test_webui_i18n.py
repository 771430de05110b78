"""English and Simplified Chinese: the compiled catalogue matches its source, the pages render
in the language chosen (a cookie, else Accept-Language), and every template string is marked."""

from __future__ import annotations

import asyncio
from pathlib import Path

from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from jinja2 import ChoiceLoader, Environment, PackageLoader
from quart import Quart, g

from ipv6wgm_webui import state as webstate
from ipv6wgm_webui.context import PageContext
from ipv6wgm_webui.web import choose_language

CATALOGUE = Path(webstate.__file__).with_name("translations") / "zh_CN" / "LC_MESSAGES"


def test_compiled_catalogue_matches_its_source() -> None:
    with (CATALOGUE / "messages.po").open("rb") as po, (CATALOGUE / "messages.mo").open("rb") as mo:
        source, compiled = read_po(po), read_mo(mo)
    wanted = {m.id: m.string for m in source if m.id and m.string}
    assert len(wanted) >= 150
    assert {m.id: m.string for m in compiled if m.id and m.string} == wanted, "run pybabel compile"
    assert webstate.load_catalogs()["zh_CN"].gettext("Log in") == "登录"


def render(template: str, headers: dict[str, str], **values: object) -> str:
    app = Quart("i18n")
    catalogs = webstate.load_catalogs()
    env = Environment(loader=ChoiceLoader([PackageLoader("ipv6wgm_webui", "templates")]), autoescape=True,
                      extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(lambda m: catalogs[webstate.current_language()].gettext(m),  # type: ignore[attr-defined]
                                  lambda s, p, n: catalogs[webstate.current_language()].ngettext(s, p, n),
                                  newstyle=True)
    web = webstate.WebState(env, b"k" * 32, [], [], catalogs)

    async def go() -> str:
        async with app.test_request_context("/login", headers=headers):
            g.webui_lang = choose_language()
            return PageContext(web, None).render(template, **values)

    return asyncio.run(go())


def test_language_from_the_browser_or_the_cookie() -> None:
    english = render("login.html", {"Accept-Language": "en-GB,en;q=0.9"}, title="Log in", next="/")
    chinese = render("login.html", {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}, title="Log in", next="/")
    assert 'lang="en"' in english and ">Log in<" in english and "登录" not in english
    assert 'lang="zh-CN"' in chinese and "用户名" in chinese and "<h1>登录</h1>" in chinese
    chosen = render("login.html", {"Accept-Language": "zh-CN", "Cookie": "ipv6wgm_lang=en"}, title="Log in", next="/")
    assert "用户名" not in chosen and 'href="/lang/zh_CN"' in chosen


def test_rows_rendered_in_python_are_translated_too() -> None:
    from ipv6wgm_webui.pages.client_rows import render_rows

    row = {"id": 7, "name": "<b>x</b>", "description": None, "ipv4_address": "10.0.0.2/32", "ipv6_address": None,
           "last_handshake": None, "bytes_received": 2048, "bytes_sent": 0, "status": "disabled", "enabled": False}
    zh = webstate.load_catalogs()["zh_CN"]
    html = str(render_rows([row], zh.gettext, "t" * 64, can_toggle=True))
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>" not in html, "names are escaped"
    assert "已禁用" in html and ">启用</button>" in html and "2.0 kB" in html
