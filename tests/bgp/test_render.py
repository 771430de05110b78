"""Rendering and validation: every field that reaches a BIRD file is checked."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ipv6wgm_bgp.bird.render import (
    EXPORT_FILTER,
    AnnouncementSpec,
    SessionSpec,
    parse_tree_keys,
    protocol_name,
    render_announcements,
    render_config,
    render_main,
    render_session,
)


def s(**kw: object) -> SessionSpec:
    args: dict[str, object] = {
        "name": "peer1",
        "neighbor": "10.98.0.2",
        "remote_as": 65002,
        "local_as": 65001,
    }
    args.update(kw)
    return SessionSpec(**args)  # type: ignore[arg-type]


def a(**kw: object) -> AnnouncementSpec:
    args: dict[str, object] = {"id": 1, "prefix": "192.0.2.0/24"}
    args.update(kw)
    return AnnouncementSpec(**args)  # type: ignore[arg-type]


def test_session_full() -> None:
    text = render_session(
        s(
            password="pa ss",
            description="uplink é",
            source_address="10.98.0.1",
            hold_time=9,
            multihop=2,
            import_limit=1000,
            import_policy="none",
            passive=True,
            connect_retry_time=1,
        )
    )
    assert "protocol bgp wgm_peer1 {" in text
    for line in (
        'description "uplink é";',
        "local 10.98.0.1 as 65001;",
        "neighbor 10.98.0.2 as 65002;",
        'password "pa ss";',
        "hold time 9;",
        "multihop 2;",
        "passive on;",
        "connect retry time 1;",
        "ipv4 {",
        "import none;",
        "import limit 1000 action restart;",
        f"export filter {EXPORT_FILTER};",
        "next hop keep;",
    ):
        assert f"  {line}" in text or f"    {line}" in text, line
    assert "disabled" not in text


def test_session_minimal_v6_and_disabled() -> None:
    text = render_session(s(neighbor="FD00:98::0002", enabled=False))
    assert "neighbor fd00:98::2 as 65002;" in text  # canonical form
    assert "  disabled;" in text
    assert "ipv6 {" in text and "import all;" in text
    assert "password" not in text and "description" not in text


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"name": "bad-name"}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"name": "a;b"}, "name"),
        ({"neighbor": "10.98.0.256"}, "neighbor"),
        ({"neighbor": "0.0.0.0"}, "neighbor"),
        ({"neighbor": "fe80::1"}, "neighbor"),
        ({"neighbor": "224.0.0.5"}, "neighbor"),
        ({"remote_as": 0}, "remote_as"),
        ({"remote_as": 4294967296}, "remote_as"),
        ({"remote_as": True}, "remote_as"),
        ({"local_as": "65001"}, "local_as"),
        ({"password": 'a"b'}, "password"),
        ({"password": "a\\b"}, "password"),
        ({"password": "a\nb"}, "password"),
        ({"password": "a\x00b"}, "password"),
        ({"password": "é"}, "password"),
        ({"password": ""}, "password"),
        ({"password": "x" * 81}, "password"),
        ({"description": 'x";}'}, "description"),
        ({"description": "line\nbreak"}, "description"),
        ({"description": "tab\there"}, "description"),
        ({"description": "ls\u2028"}, "description"),
        ({"source_address": "fd00::1"}, "source_address"),
        ({"hold_time": 2}, "hold_time"),
        ({"hold_time": 70000}, "hold_time"),
        ({"multihop": 0}, "multihop"),
        ({"multihop": 256}, "multihop"),
        ({"import_limit": 0}, "import_limit"),
        ({"import_policy": "some"}, "import_policy"),
        ({"enabled": "yes"}, "enabled"),
        ({"connect_retry_time": 0}, "connect_retry_time"),
    ],
)
def test_session_validation(kw: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}:"):
        s(**kw)


def test_protocol_names() -> None:
    assert protocol_name("bgp") == "wgm_bgp"  # keywords are safe behind the prefix
    assert protocol_name("1st") == "wgm_1st"
    long = protocol_name("x" * 64)
    assert len(long) == 64 and long.startswith("wgm_xxx") and long != protocol_name("x" * 63)
    assert protocol_name("x" * 64) == long


def test_announcement_attributes() -> None:
    text = render_announcements(
        [
            a(
                next_hop="10.98.0.5",
                as_path_prepend=[65001, 65010],
                communities=["65001:100", "0:65535", "65001:100"],
                large_communities=["4294967295:0:1"],
            ),
            a(id=2, prefix="2001:db8:1::/48", next_hop="fd00:98::5"),
            a(id=3, prefix="198.51.100.0/24", enabled=False),
        ]
    )
    v4 = text[text.index("protocol static ipv6wgm_ann4") : text.index("protocol static ipv6wgm_ann6")]
    v6 = text[text.index("protocol static ipv6wgm_ann6") :]
    assert (
        "route 192.0.2.0/24 blackhole { bgp_next_hop = 10.98.0.5; bgp_path.prepend(65010); "
        "bgp_path.prepend(65001); bgp_community.add((65001,100)); bgp_community.add((0,65535)); "
        "bgp_large_community.add((4294967295,0,1)); }; # announcement 1"
    ) in v4
    assert "route 2001:db8:1::/48 blackhole { bgp_next_hop = fd00:98::5; };" in v6
    assert "198.51.100.0" not in text  # disabled = withdrawn
    assert f"filter {EXPORT_FILTER}" in text


def test_empty_announcements_keep_both_static_protocols() -> None:
    text = render_announcements([])
    assert "protocol static ipv6wgm_ann4 {\n  ipv4;\n}" in text
    assert "protocol static ipv6wgm_ann6 {\n  ipv6;\n}" in text


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"id": -1}, "id"),
        ({"prefix": "192.0.2.1/24"}, "prefix"),  # host bits set
        ({"prefix": "2001:db8::1/48"}, "prefix"),
        ({"prefix": "192.0.2.0/33"}, "prefix"),
        ({"prefix": "not a prefix"}, "prefix"),
        ({"next_hop": "fd00::1"}, "next_hop"),
        ({"next_hop": "10.0.0.1;"}, "next_hop"),
        ({"as_path_prepend": [0]}, "as_path_prepend"),
        ({"as_path_prepend": "65000"}, "as_path_prepend"),
        ({"as_path_prepend": [65000] * 33}, "as_path_prepend"),
        ({"communities": ["65536:1"]}, "communities"),
        ({"communities": ["1:2:3"]}, "communities"),
        ({"communities": ["a:b"]}, "communities"),
        ({"communities": "1:2"}, "communities"),
        ({"communities": [" 1:2"]}, "communities"),
        ({"large_communities": ["4294967296:0:0"]}, "large_communities"),
        ({"large_communities": ["1:2"]}, "large_communities"),
        ({"enabled": 1}, "enabled"),
    ],
)
def test_announcement_validation(kw: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=f"^{field}:"):
        a(**kw)


def test_duplicate_prefix_and_session_rejected() -> None:
    with pytest.raises(ValueError, match="^prefix:"):
        render_announcements([a(), a(id=2)])
    render_announcements([a(), a(id=2, enabled=False)])  # only enabled ones count
    with pytest.raises(ValueError, match="^name:"):
        render_config("10.98.0.1", [s(name="Peer"), s(name="peer", neighbor="10.98.0.3")], [])
    with pytest.raises(ValueError, match="^neighbor:"):
        render_config("10.98.0.1", [s(name="p1"), s(name="p2")], [])
    render_config("10.98.0.1", [s(name="p1"), s(name="p2", enabled=False)], [])


def test_main_and_tree_layout() -> None:
    files = render_config("10.98.0.1", [s(name="b"), s(name="a", neighbor="10.98.0.3")], [a()])
    assert sorted(files) == ["announcements.conf", "bird.conf", "sessions/a.conf", "sessions/b.conf"]
    main = files["bird.conf"]
    assert "router id 10.98.0.1;" in main and 'timeformat protocol "%s";' in main
    assert main.index('include "announcements.conf";') < main.index('include "sessions/a.conf";')
    with pytest.raises(ValueError, match="^router_id:"):
        render_main("fd00::1", [])
    with pytest.raises(ValueError, match="^extra_includes:"):
        render_main("10.0.0.1", [], ["relative.conf"])
    with pytest.raises(ValueError, match="^extra_includes:"):
        render_main("10.0.0.1", [], ['/x";'])


@pytest.mark.parametrize("key", ["/etc/x", "../x", "a/../b", "a//b", "", "./a"])
def test_tree_keys(key: str) -> None:
    with pytest.raises(ValueError, match="^files:"):
        parse_tree_keys({key: ""})


def test_rendered_config_parses_with_bird(tmp_path: Path, bird_binary: str) -> None:
    """The strongest check of the renderer: BIRD's own parser (``bird -p``) accepts it."""
    files = render_config(
        "10.98.0.1",
        [
            s(
                password="x y!#$%&'()*+,-./:;<=>?@[]^_`{|}~",
                description="d é 日本 {};#",
                hold_time=9,
                import_limit=5,
                enabled=False,
            ),
            s(name="v6", neighbor="fd00:98::2", source_address="fd00:98::1", multihop=2, passive=True),
            s(name="9" * 64, neighbor="10.0.0.9", remote_as=4294967295),
        ],
        [
            a(next_hop="10.98.0.5", as_path_prepend=[1, 4294967295], communities=["1:2"]),
            a(id=2, prefix="2001:db8::/32", large_communities=["1:2:3"]),
        ],
    )
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    res = subprocess.run([bird_binary, "-p", "-c", str(tmp_path / "bird.conf")], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr
