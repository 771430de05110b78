"""The rows of the clients table, rendered in Python and memoised like the API's JSON rows.

This is the one hot loop of the web UI: a Jinja include (or macro) per row cost ~0.1 ms, five
times what the row's data costs to fetch, so one format string per row, every value escaped.
And like ``GET /api/v1/wireguard/clients``, the page keeps each row's HTML in
``ipv6wgm.paging.render_page``'s memo, keyed by the row's raw values (and the language and
whether the viewer may toggle): a page of rows shown before costs a lookup per row.

The per-browser CSRF token is the one part of a row that is not a function of those keys, so a
row is kept as the HTML around it (``Segments``) and the token goes in when the page is put
together (``join_rows``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from functools import lru_cache
from gettext import NullTranslations
from typing import Any

from jinja2.filters import do_filesizeformat
from markupsafe import Markup, escape

from ipv6wgm.paging import Render
from ipv6wgm_webui.security import CSRF_FIELD

ROW_HEAD = (
    '<tr id="client-row-{id}">'
    '<td><a href="/wireguard/clients/{id}" hx-boost="false">{name}</a>{description}</td>'
    "<td><small>{ipv4}<br>{ipv6}</small></td><td>{handshake}</td><td>{received}</td><td>{sent}</td>"
    '<td><span class="badge {status}">{status_label}</span></td><td>'
)
ROW_TAIL = "</td></tr>\n"
ACTION_HEAD = (  # the CSRF token follows
    '<form method="post" action="/wireguard/clients/{id}/{verb}" class="inline" '
    'hx-post="/wireguard/clients/{id}/{verb}" hx-target="#client-row-{id}" hx-select="#client-row-{id}" '
    'hx-swap="outerHTML"><input type="hidden" name="{field}" value="'
)
ACTION_TAIL = '"><button type="submit" class="outline{secondary}">{label}</button></form>'
LABELS = ("Disable", "Enable", "active", "inactive", "disabled", "expired", "quota_exceeded", "account_disabled")

Segments = tuple[str, ...]  # a row's HTML, split where the CSRF token goes


def row_segments(c: dict[str, Any], labels: dict[str, Markup], gettext: Callable[[str], str],
                 can_toggle: bool) -> Segments:
    """One client (its API form) as HTML, every value escaped."""
    status = str(c["status"])
    head = ROW_HEAD.format(
        id=int(c["id"]), name=escape(c["name"]),
        description=Markup("<br><small>{}</small>").format(c["description"]) if c.get("description") else "",
        ipv4=escape(c["ipv4_address"] or ""), ipv6=escape(c["ipv6_address"] or ""),
        handshake=escape(c["last_handshake"] or "—"),
        received=escape(do_filesizeformat(c["bytes_received"])), sent=escape(do_filesizeformat(c["bytes_sent"])),
        status=escape(status), status_label=labels.get(status) or escape(gettext(status)))
    if not can_toggle:
        return (head + ROW_TAIL,)
    verb = "disable" if c["enabled"] else "enable"
    action = ACTION_HEAD.format(id=int(c["id"]), verb=verb, field=escape(CSRF_FIELD))
    tail = ACTION_TAIL.format(secondary=" secondary" if c["enabled"] else "",
                              label=labels["Disable"] if c["enabled"] else labels["Enable"])
    return (head + action, tail + ROW_TAIL)


def _labels(gettext: Callable[[str], str]) -> dict[str, Markup]:
    """The labels a row may show, translated once (not once per row)."""
    return {key: escape(gettext(key)) for key in LABELS}


def join_rows(rows: Iterable[Segments], csrf: str) -> Markup:
    token = str(escape(csrf))
    return Markup("".join([token.join(segments) for segments in rows]))  # noqa: S704 - escaped above


def render_rows(clients: Iterable[dict[str, Any]], gettext: Callable[[str], str], csrf: str,
                can_toggle: bool) -> Markup:
    """Clients in their API form (e.g. the one an htmx toggle just changed) as table rows."""
    labels = _labels(gettext)
    return join_rows((row_segments(c, labels, gettext, can_toggle) for c in clients), csrf)


@lru_cache(maxsize=32)
def row_renderer(translations: NullTranslations, can_toggle: bool) -> Render:
    """The ``render`` for ``render_page`` in one language, for viewers who may (or may not)
    toggle clients: one function per pair, so its rows are found again in the memo."""
    from ipv6wgm_wireguard.service import render_client_row

    gettext = translations.gettext
    labels = _labels(gettext)

    def render(row: Any, now: datetime) -> tuple[Segments, datetime | None]:
        data, until = render_client_row(row, now)
        return row_segments(data, labels, gettext, can_toggle), until

    return render
