"""The memo of a page's HTML around its rows (``ipv6wgm_webui.frames``): one render per key,
the content put in as it is, and nothing kept when the slot is not there exactly once."""

from __future__ import annotations

from markupsafe import Markup, escape

from ipv6wgm_webui.frames import FrameMemo, freeze


def test_rendered_once_per_key_with_the_content_in_its_slot() -> None:
    memo, calls = FrameMemo(), []

    def render(fill: Markup) -> str:
        calls.append(str(fill))
        return str(Markup("<p>{}</p><div>{}</div>").format("a & b", fill))

    rows = Markup("<tr><td>x</td></tr>")
    assert memo.fill(("k", 1), render, rows) == "<p>a &amp; b</p><div><tr><td>x</td></tr></div>"
    assert memo.fill(("k", 1), render, Markup("<tr>y</tr>")) == "<p>a &amp; b</p><div><tr>y</tr></div>"
    assert len(calls) == 1, "the same key is not rendered again"
    memo.fill(("k", 2), render, rows)
    assert len(calls) == 2, "another key is"


def test_no_memo_when_the_slot_is_not_there_once() -> None:
    memo, calls = FrameMemo(), []

    def twice(fill: Markup) -> str:
        calls.append(1)
        return f"{fill}|{fill}"

    def never(fill: Markup) -> str:
        calls.append(1)
        return str(escape("<b>"))

    assert memo.fill("twice", twice, Markup("r")) == "r|r"
    assert memo.fill("never", never, Markup("r")) == "&lt;b&gt;"
    calls.clear()
    memo.fill("twice", twice, Markup("r"))
    assert calls == [1, 1], "rendered with the marker, then with the content, every time"


def test_freeze_makes_template_values_a_key() -> None:
    values = {"pagination": {"page": 2, "pages": 3}, "statuses": ("", "enabled"), "rows": [1, [2]]}
    assert freeze(values) == freeze({"pagination": {"page": 2, "pages": 3}, "statuses": ["", "enabled"],
                                     "rows": (1, (2,))})
    assert freeze(values) != freeze({**values, "pagination": {"page": 3, "pages": 3}})
    hash(freeze(values))
