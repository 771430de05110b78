"""Injection into BIRD files, attacked at the renderer: every rendered field, every hostile string.

Each value is either refused (ValueError naming the field, or UnsafeValue from the renderer's
last line of defence) or the rendered tree reads back as exactly the statements the product
writes (``birdconf.read_tree``) and BIRD's own parser accepts it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipv6wgm.testing import HOSTILE_STRINGS, hostile_variants
from ipv6wgm.validation import UnsafeValue, unsafe_char
from ipv6wgm_bgp import validation as v
from ipv6wgm_bgp.bird.render import AnnouncementSpec, SessionSpec, render_config, render_main
from ipv6wgm_bgp.service.desired import pool_specs

from .birdconf import bird_parses, read_tree, write

RID = "10.98.0.1"
SESSION = {"name": "peer1", "neighbor": "10.98.0.2", "remote_as": 65002, "local_as": 65001,
           "source_address": "10.98.0.1", "description": "uplink", "password": "secret"}
SESSION_FIELDS = ("name", "neighbor", "source_address", "description", "password")
ANNOUNCEMENT = {"id": 1, "prefix": "192.0.2.0/24", "next_hop": "10.98.0.5"}
# API string fields of an announcement and how they become spec arguments (as the routes do).
ANN_FIELDS: dict[str, Any] = {
    "prefix": lambda x: {"prefix": x},
    "next_hop": lambda x: {"next_hop": x},
    "as_path": lambda x: {"as_path_prepend": v.as_path(x)},
    "community": lambda x: dict(zip(("communities", "large_communities"), v.split_communities(x), strict=True)),
    "communities": lambda x: {"communities": [x]},
    "large_communities": lambda x: {"large_communities": [x]},
}
ANN_BASE = {"prefix": "192.0.2.0/24", "next_hop": "10.98.0.5", "as_path": "65000 65001", "community": "65000:1",
            "communities": "65000:2", "large_communities": "65000:1:2"}


def _accepted_tree(files: dict[str, str], tmp_path: Path, bird_binary: str) -> dict[str, Any]:
    tree = read_tree(files)
    bird_parses(bird_binary, write(tmp_path / f"t{len(list(tmp_path.iterdir()))}", files))
    return tree


def _session_or_none(**kw: Any) -> SessionSpec | None:
    try:
        return SessionSpec(**{**SESSION, **kw})
    except ValueError:
        return None


def _announcement_or_none(field: str, value: str) -> AnnouncementSpec | None:
    try:
        return AnnouncementSpec(**{**ANNOUNCEMENT, **ANN_FIELDS[field](value)})
    except ValueError:
        return None


def _check_session(spec: SessionSpec, field: str, value: str, tree: dict[str, Any]) -> None:
    sessions = tree["sessions"]
    assert list(sessions) == [spec.name] and sessions[spec.name]["protocol"] == f"wgm_{spec.name}"
    if field in ("description", "password"):
        assert sessions[spec.name][field] == value  # the value itself, one string, one line
    assert tree["routes"] == {}


@pytest.mark.parametrize("field", SESSION_FIELDS)
def test_session_fields_refuse_or_render_exactly(field: str, tmp_path: Path, bird_binary: str) -> None:
    accepted = 0
    for value in hostile_variants(str(SESSION[field])):
        spec = _session_or_none(**{field: value})
        if spec is None:
            continue
        assert unsafe_char(value) is None, f"{field}={value!r} was accepted"
        assert field in ("description", "password") or "%" not in value, f"{field}={value!r} was accepted"
        _check_session(spec, field, value, _accepted_tree(render_config(RID, [spec], []), tmp_path, bird_binary))
        accepted += 1
    assert accepted < len(hostile_variants(str(SESSION[field])))


@pytest.mark.parametrize("field", list(ANN_FIELDS))
def test_announcement_fields_refuse_or_render_exactly(field: str, tmp_path: Path, bird_binary: str) -> None:
    for value in hostile_variants(ANN_BASE[field]):
        spec = _announcement_or_none(field, value)
        if spec is None:
            continue
        assert unsafe_char(value) is None and "%" not in value, f"{field}={value!r} was accepted"
        tree = _accepted_tree(render_config(RID, [], [spec]), tmp_path, bird_binary)
        assert list(tree["routes"]) == [spec.prefix] and tree["sessions"] == {}


@pytest.mark.parametrize("bad", HOSTILE_STRINGS)
def test_router_id_includes_and_pool_prefixes(bad: str) -> None:
    for value in (bad, RID + bad, bad + RID):
        with pytest.raises(ValueError, match="^router_id:"):
            render_main(value, [])
    for path in (bad, "/etc/bird/extra.conf" + bad):
        if path.startswith("/") and unsafe_char(path) is None and '"' not in path and "\\" not in path:
            continue  # an absolute path with '#' or ';' is still one BIRD string
        with pytest.raises(ValueError, match="^extra_includes:"):
            render_main(RID, [], [path])
    hostile_pools = [bad, "2001:db8::/48" + bad, bad + "2001:db8::/48", "2001:db8::%x\n}/48"]
    assert pool_specs(hostile_pools, []) == []  # a pool prefix that is not a prefix is never announced


@pytest.mark.parametrize("field", [*SESSION_FIELDS, "remote_as", "local_as", "hold_time"])
@pytest.mark.parametrize("bad", HOSTILE_STRINGS)
def test_renderer_refuses_values_that_bypassed_validation(field: str, bad: str) -> None:
    """The last line of defence: a spec mutated after validation still cannot inject."""
    spec = SessionSpec(**SESSION)
    value = str(SESSION.get(field, 1)) + bad
    object.__setattr__(spec, field, value)
    try:
        files = render_config(RID, [spec], [])
    except UnsafeValue:
        return
    except ValueError:
        assert field == "name", field  # protocol_name() validates before anything is rendered
        return
    # Only text inside a BIRD string may hold '#', ';', braces…: it must stay that one string.
    assert field in ("description", "password") and unsafe_char(bad) is None, (field, bad)
    _check_session(spec, field, value, read_tree(files))


@pytest.mark.parametrize("field", ["prefix", "next_hop", "as_path_prepend", "communities", "large_communities"])
@pytest.mark.parametrize("bad", HOSTILE_STRINGS)
def test_announcement_renderer_refuses_bypassed_values(field: str, bad: str) -> None:
    spec = AnnouncementSpec(**ANNOUNCEMENT, as_path_prepend=[65000], communities=["1:2"],
                            large_communities=["1:2:3"])
    value: Any = ANNOUNCEMENT.get(field, "1:2") + bad if field in ("prefix", "next_hop") else [f"1:2{bad}"]
    object.__setattr__(spec, field, value)
    with pytest.raises(ValueError):
        render_config(RID, [], [spec])


_ALPHABET = st.sampled_from(list("0123456789abcdef:./%# ;{}\"\\\n\r\x00\x85\u2028\u2029") + ["as", "protocol"])
_TEXTS = st.lists(_ALPHABET, max_size=24).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(SESSION_FIELDS), value=_TEXTS)
def test_property_session_value_is_refused_or_contained(field: str, value: str, tmp_path: Path) -> None:
    spec = _session_or_none(**{field: value})
    if spec is not None:
        assert unsafe_char(value) is None
        assert field in ("description", "password") or "%" not in value
        _check_session(spec, field, value, read_tree(render_config(RID, [spec], [])))


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(list(ANN_FIELDS)), value=_TEXTS)
def test_property_announcement_value_is_refused_or_contained(field: str, value: str) -> None:
    try:
        spec = _announcement_or_none(field, value)
    except ValueError:  # as_path / community text refused before the spec
        spec = None
    if spec is not None:
        assert unsafe_char(value) is None and "%" not in value
        tree = read_tree(render_config(RID, [], [spec]))
        assert list(tree["routes"]) == [spec.prefix]


def test_canonical_forms() -> None:
    spec = SessionSpec(**{**SESSION, "neighbor": "FD00:98:0::0002", "source_address": "fd00:98::1"})
    assert spec.neighbor == "fd00:98::2"
    ann = AnnouncementSpec(1, "2001:DB8::/32", communities=["06500:01"], large_communities=["01:2:03"])
    assert (ann.prefix, ann.communities, ann.large_communities) == ("2001:db8::/32", ("6500:1",), ("1:2:3",))
    assert v.as_path_text(" 65000,65001  65002 ") == "65000 65001 65002"
    assert v.community_text("65000:1, 1:2:3 65000:1") == "65000:1 1:2:3"
    for bad in ("١:٢", "65000\n65001", "²"):
        with pytest.raises(ValueError):
            v.community_text(bad)
        with pytest.raises(ValueError):
            v.as_path(bad)
    assert dataclasses.replace(spec, description=None).description is None


@pytest.mark.parametrize(("path", "old", "new"), [
    ("sessions/peer1.conf", "neighbor 10.98.0.2 as 65002;", "neighbor 2001:db8::1%x\n}\nprotocol bgp evil {"),
    ("sessions/peer1.conf", 'description "uplink";', 'description "uplink";\n  import all;'),
    ("sessions/peer1.conf", "next hop keep;", "next hop keep;\n    export all;"),
    ("sessions/peer1.conf", "}\n", "}\nprotocol bgp evil { neighbor 10.0.0.9 as 1; ipv4; }\n"),
    ("sessions/peer1.conf", "}\n", "}}\n"),
    ("bird.conf", 'include "announcements.conf";', 'include "announcements.conf";\ninclude "/etc/passwd";'),
    ("bird.conf", "router id 10.98.0.1;", "router id 10.98.0.1;\ndebug protocols all;"),
    ("announcements.conf", "  reject;", "  accept;"),
    ("announcements.conf", "  ipv4;\n", "  ipv4;\n  route 0.0.0.0/0 blackhole;\n  export all;\n"),
    ("announcements.conf", "bgp_next_hop = 10.98.0.5;", "bgp_next_hop = 10.98.0.5; bgp_local_pref = 1;"),
])
def test_reader_catches_what_the_product_does_not_write(path: str, old: str, new: str) -> None:
    """The reader used above must fail on any statement the renderer does not write."""
    files = render_config(RID, [SessionSpec(**SESSION)], [AnnouncementSpec(**ANNOUNCEMENT)])
    read_tree(files)
    assert old in files[path], files[path]
    files[path] = files[path].replace(old, new, 1)
    with pytest.raises(AssertionError):
        read_tree(files)
