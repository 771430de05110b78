"""A page's HTML around its one changing part, memoised by everything its template reads.

The clients page at 10,000 clients must cost about what the JSON API's page costs (issue 13).
Its rows come from ``render_page``'s memo (``pages/client_rows``); what is left is the layout,
the filter form, the table head and the pager: some 35 translated strings and a few loops
through Jinja, about as much again as the whole API request. None of it changes between two
requests that agree on what the template reads, so it is rendered once per such key, with a
marker where the rows go, and kept as the two strings either side of it.

Like ``render_page``'s memo this is a memo of a pure function, not a cache of data: the key is
every input (see ``PageContext.html_around``), so nothing stale can be served and nothing needs
invalidating; it is bounded by dropping everything when full.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

from markupsafe import Markup

SLOT = "<!--ipv6wgm:slot-->"  # escaped values cannot produce it: their "<" becomes "&lt;"


def freeze(value: Any) -> Hashable:
    """A template value as a memo key part (dicts and lists as tuples, recursively)."""
    if isinstance(value, dict):
        return tuple((k, freeze(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value  # a str, number, None or Markup; anything unhashable fails the lookup loudly


class FrameMemo:
    LIMIT = 1000

    def __init__(self) -> None:
        self._memo: dict[Hashable, tuple[str, str]] = {}

    def fill(self, key: Hashable, render: Callable[[Markup], str], content: Markup) -> str:
        """``render(content)``, from the memo when ``key`` was rendered before."""
        hit = self._memo.get(key)
        if hit is None:
            html = render(Markup(SLOT))  # noqa: S704 - a constant
            if html.count(SLOT) != 1:  # the slot shown twice or not at all: nothing to keep
                return render(content)
            head, _, tail = html.partition(SLOT)
            if len(self._memo) >= self.LIMIT:
                self._memo.clear()
            self._memo[key] = hit = (head, tail)
        return "".join((hit[0], content, hit[1]))  # not ``+``: Markup would escape the strings

    def clear(self) -> None:
        self._memo.clear()
