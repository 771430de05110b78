"""Parsing of captured BIRD 2.0.12 control-socket output (raw lines in ``data/``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ipv6wgm_bgp.bird.control import (
    BirdCommandError,
    BirdConnectionError,
    BirdControl,
    BirdReply,
    BirdTimeout,
    parse_reply_lines,
    raise_for_error,
)
from ipv6wgm_bgp.bird.state import parse_protocols, parse_routes

DATA = Path(__file__).parent / "data"


def reply(name: str) -> BirdReply:
    return parse_reply_lines((DATA / name).read_text().splitlines())


def test_reply_framing() -> None:
    r = parse_reply_lines(["1002-a", " b", "+async noise", "1006-c", " d", "0000 "])
    assert r.lines == ((1002, "a"), (1002, "b"), (1006, "c"), (1006, "d"), (0, ""))
    assert r.code == 0
    assert r.texts(1006) == ["c", "d"]


def test_error_reply_raises_with_bird_message() -> None:
    r = reply("configure_check_missing.txt")
    with pytest.raises(BirdCommandError) as ei:
        raise_for_error(r, "configure check")
    assert ei.value.code == 8002
    assert "No such file or directory" in ei.value.message


def test_parse_protocols_all() -> None:
    states = parse_protocols(reply("show_protocols_all.txt"), now=1795526500)
    assert set(states) == {"wgm_bad", "wgm_off", "wgm_md5", "wgm_peer1", "wgm_peer6"}  # BGP only
    p1 = states["wgm_peer1"]
    assert (p1.state, p1.proto_state, p1.since_epoch, p1.uptime_s) == ("established", "up", 1795526248, 252)
    assert (p1.routes_imported, p1.routes_exported) == (2, 2)
    assert p1.description == "peer one" and p1.neighbor == "10.98.0.2" and p1.last_error is None
    assert states["wgm_peer6"].neighbor == "fd00:98::2"
    md5 = states["wgm_md5"]
    assert (md5.state, md5.proto_state, md5.uptime_s, md5.routes_imported) == ("connect", "start", 0, 0)
    off = states["wgm_off"]
    assert (off.state, off.proto_state) == ("idle", "down")  # disabled


def test_parse_protocol_with_last_error() -> None:
    states = parse_protocols(reply("show_protocols_all_error.txt"), now=0)
    bad = states["wgm_bad"]
    assert bad.state == "active"
    assert bad.last_error == "Socket: Connection reset by peer"


def test_parse_single_protocol() -> None:
    states = parse_protocols(reply("show_protocols_all_established.txt"), now=1795526248)
    assert list(states) == ["wgm_peer1"] and states["wgm_peer1"].uptime_s == 0


def test_parse_received_routes() -> None:
    routes = parse_routes(reply("show_route_peer1_all.txt"))
    assert [r.prefix for r in routes] == ["198.18.0.0/15", "203.0.113.0/24"]
    r = routes[1]
    assert (r.protocol, r.next_hop, r.as_path, r.primary) == ("wgm_peer1", "10.98.0.2", (65002,), True)
    assert r.communities == ("65002:7",) and r.large_communities == ("65002:0:1",)
    assert (r.origin, r.local_pref) == ("IGP", 100)
    (r6,) = parse_routes(reply("show_route_peer6_all.txt"))
    assert (r6.prefix, r6.next_hop) == ("2001:db8:ff::/48", "fd00:98::2")


def test_parse_peer_table_with_static_and_prepends() -> None:
    routes = {(r.prefix, r.protocol): r for r in parse_routes(reply("peer_show_route_all.txt"))}
    got = routes[("192.0.2.0/24", "a4")]
    assert got.next_hop == "10.98.0.77" and got.as_path == (65001, 65001, 65001)
    assert got.communities == ("65001:100",) and got.large_communities == ("65001:1:2",)
    assert routes[("203.0.113.0/24", "bs4")].next_hop is None  # blackhole
    assert routes[("2001:db8:1::/48", "a6")].next_hop == "fd00:98::77"


def test_parse_multipath_net() -> None:
    """A net with several routes prints its prefix once; later paths inherit it."""
    routes = parse_routes(reply("show_route_multipath.txt"))
    assert [(r.prefix, r.protocol, r.primary) for r in routes] == [
        ("192.0.2.0/24", "p1", True),
        ("192.0.2.0/24", "p2", False),
        ("198.51.100.0/24", "p2", True),
    ]
    assert routes[1].as_path == (65003, 65009)


# ---- client behaviour against a tiny line server (framing, reconnect, timeouts) ---------


async def _serve(path: str, script: dict[str, list[str]], drop_after: int | None = None) -> asyncio.Server:
    served = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal served
        writer.write(b"0001 BIRD 2.0.12 ready.\n")
        await writer.drain()
        while line := await reader.readline():
            cmd = line.decode().strip()
            served += 1
            if drop_after is not None and served == drop_after:
                writer.close()
                return
            for out in script.get(cmd, ["9001 syntax error"]):
                writer.write(out.encode() + b"\n")
            await writer.drain()
        writer.close()

    return await asyncio.start_unix_server(handle, path)


@pytest.mark.asyncio
async def test_client_reconnects_after_drop(tmp_path: Path) -> None:
    path = str(tmp_path / "s")
    server = await _serve(path, {"show status": ["1000-BIRD 2.0.12", "0013 Daemon is up"]}, drop_after=2)
    async with server, BirdControl(path, timeout=2) as ctl:
        assert ctl.greeting == "BIRD 2.0.12 ready."
        assert (await ctl.request("show status")).code == 13
        assert (await ctl.request("show status")).code == 13  # 2nd dropped: retried on a new connection
        with pytest.raises(BirdCommandError) as ei:
            await ctl.request("bogus")
        assert ei.value.code == 9001
        with pytest.raises(ValueError):
            await ctl.request("show status\nconfigure")


@pytest.mark.asyncio
async def test_client_timeout_and_missing_socket(tmp_path: Path) -> None:
    path = str(tmp_path / "s")
    server = await _serve(path, {"slow": []})
    async with server, BirdControl(path, timeout=0.3) as ctl:
        with pytest.raises(BirdTimeout):
            await ctl.request("slow")
        assert not ctl.connected  # a half-read reply must not leak into the next command
    with pytest.raises(BirdConnectionError):
        await BirdControl(str(tmp_path / "nope")).request("show status")
