"""Config injection, on SQLite and on MariaDB + Redis + worker: every hostile string against
every field that is rendered, on create, update and import. Each is refused with 422 and changes
nothing, or the files it ends up in (client config, QR payload, server export, file names) parse
back to exactly the sections and keys this product writes."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from ipv6wgm.testing import ServerProcess
from ipv6wgm_wireguard import peerconfig

from .helpers import update_row
from .hostile import CLIENT_KEYS, POST_UP, SERVER_KEYS, hostile, read_wg_quick

_port = iter(range(30000, 50000))  # unique per node; these servers never start
WRONG_INTS = ["1420", "1420\n[Interface]", 1420.5, True, [1420], {"v": 1}, -1, 2**40]
FILENAME = re.compile(r'(attachment|inline); filename="[A-Za-z0-9_=+.-]{1,70}\.(conf|png)"')


@pytest.fixture()
def api(server: ServerProcess, admin_token: str):
    with server.client(admin_token) as client:
        yield client


def server_body(**override: Any) -> dict[str, Any]:
    port = next(_port)
    return {"name": f"inj{port}", "interface": f"wi{port}", "listen_port": port, "ipv4_address": "10.67.0.1/24",
            "ipv6_address": "fd67::1/64", "endpoint": "vpn.example.com", "dns_servers": ["fd67::53"], "mtu": 1420,
            "persistent_keepalive": 25, **override}


SERVER_ATTACKS: dict[str, list[Any]] = {
    "name": hostile("inj"),
    "interface": hostile("wi"),
    "endpoint": hostile("vpn.example.com") + hostile("[fd67::9]:51820") + hostile("fd67::9") + hostile("1.2.3.4"),
    "dns_servers": [[h] for h in hostile("fd67::53") + hostile("1.1.1.1")] + ["fd67::53"],
    "ipv4_address": hostile("10.67.0.1/24"),
    "ipv6_address": hostile("fd67::1/64") + hostile("fe80::1/64"),
    "node_id": hostile("gw1"),
    "mtu": WRONG_INTS, "listen_port": WRONG_INTS, "persistent_keepalive": WRONG_INTS,
}
UPDATABLE = ("name", "endpoint", "dns_servers", "mtu", "listen_port", "persistent_keepalive")
CLIENT_ATTACKS: dict[str, list[Any]] = {
    "name": hostile("phone"),
    "description": hostile("my phone"),
    "dns_servers": [[h] for h in hostile("fd67::53") + hostile("9.9.9.9")],
    "allowed_ips": [[h] for h in hostile("0.0.0.0/0") + hostile("fd67::/64") + hostile("fe80::/64")],
    "ipv4_address": hostile("10.67.0.77"),
    "ipv6_address": hostile("fd67::77") + hostile("fe80::77"),
    "public_key": hostile("x" * 43 + "="),
    "persistent_keepalive": WRONG_INTS,
}


def _count(api: httpx.Client, path: str, **params: Any) -> int:
    return api.get(path, params=params).json()["data"]["pagination"]["total"]


def _refused_or_ok(response: httpx.Response, field: str, value: Any) -> bool:
    """True if accepted; a refusal must be a clean 422 naming the field."""
    if response.status_code in (200, 201):
        return True
    assert response.status_code == 422, (field, value, response.text)
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and error["details"]["field"].split(".")[0] == field, error
    return False


def _check_downloads(api: httpx.Client, server_id: int) -> int:
    """Every client config, QR payload and the export of one server parse back exactly."""
    clients = api.get("/wireguard/clients", params={"server_id": server_id, "size": 100}).json()["data"]["clients"]
    for client in clients:
        config = api.get(f"/wireguard/clients/{client['id']}/config")
        assert config.status_code == 200, config.text
        assert FILENAME.fullmatch(config.headers["content-disposition"]), config.headers
        sections = read_wg_quick(config.text, CLIENT_KEYS)
        assert [s for s, _ in sections] == ["[Interface]", "[Peer]"]
        qr = api.get(f"/wireguard/clients/{client['id']}/qr")
        assert qr.status_code == 200 and FILENAME.fullmatch(qr.headers["content-disposition"])
        assert qr.content == peerconfig.qr_png(config.text), "the QR payload is exactly the parsed config"
    export = api.get(f"/wireguard/servers/{server_id}/export")
    assert export.status_code == 200, export.text
    assert FILENAME.fullmatch(export.headers["content-disposition"]), export.headers
    sections = read_wg_quick(export.text, SERVER_KEYS)
    assert [s for s, _ in sections] == ["[Interface]"] + ["[Peer]"] * len(clients)
    return len(clients)


def test_server_fields_on_create_and_update(api: httpx.Client) -> None:
    before = _count(api, "/wireguard/servers")
    accepted: list[int] = []
    for field, values in SERVER_ATTACKS.items():
        for value in values:
            r = api.post("/wireguard/servers", json=server_body(**{field: value}))
            if _refused_or_ok(r, field, value):
                accepted.append(r.json()["data"]["id"])
    assert _count(api, "/wireguard/servers") == before + len(accepted)
    target = api.post("/wireguard/servers", json=server_body()).json()["data"]
    assert api.post("/wireguard/clients", json={"name": "c1", "server_id": target["id"]}).status_code == 201
    original = api.get(f"/wireguard/servers/{target['id']}").json()["data"]
    for field in UPDATABLE:
        for value in SERVER_ATTACKS[field]:
            r = api.put(f"/wireguard/servers/{target['id']}", json={field: value})
            if _refused_or_ok(r, field, value):  # only a harmless value: put the original back
                api.put(f"/wireguard/servers/{target['id']}", json={field: original[field]})
    after = api.get(f"/wireguard/servers/{target['id']}").json()["data"]
    assert {k: v for k, v in after.items() if k != "updated_at"} == \
        {k: v for k, v in original.items() if k != "updated_at"}
    for server_id in [target["id"], *accepted]:
        if api.get(f"/wireguard/servers/{server_id}").json()["data"]["endpoint"]:
            api.post("/wireguard/clients", json={"name": "probe", "server_id": server_id})
        _check_downloads(api, server_id)


def test_client_fields_on_create_and_update(api: httpx.Client) -> None:
    srv = api.post("/wireguard/servers", json=server_body(endpoint="[fd67::9]:443")).json()["data"]
    accepted = 0
    for field, values in CLIENT_ATTACKS.items():
        for number, value in enumerate(values):
            body = {"name": f"c-{field[:8]}-{number}", "server_id": srv["id"], field: value}
            r = api.post("/wireguard/clients", json=body)
            accepted += _refused_or_ok(r, field, value)
    assert _count(api, "/wireguard/clients", server_id=srv["id"]) == accepted
    target = api.post("/wireguard/clients", json={"name": "target", "server_id": srv["id"]}).json()["data"]
    original = api.get(f"/wireguard/clients/{target['id']}").json()["data"]
    for field in ("name", "description", "dns_servers", "allowed_ips", "persistent_keepalive"):
        for value in CLIENT_ATTACKS[field]:
            r = api.put(f"/wireguard/clients/{target['id']}", json={field: value})
            if _refused_or_ok(r, field, value):
                api.put(f"/wireguard/clients/{target['id']}", json={field: original[field]})
    after = api.get(f"/wireguard/clients/{target['id']}").json()["data"]
    assert {k: v for k, v in after.items() if k != "updated_at"} == \
        {k: v for k, v in original.items() if k != "updated_at"}
    assert _check_downloads(api, srv["id"]) == accepted + 1


def test_import(api: httpx.Client) -> None:
    srv = api.post("/wireguard/servers", json=server_body()).json()["data"]
    for name in ("one", "two"):
        assert api.post("/wireguard/clients", json={"name": name, "server_id": srv["id"]}).status_code == 201
    text = api.get(f"/wireguard/servers/{srv['id']}/export").text.replace(
        f"ListenPort = {srv['listen_port']}", "ListenPort = {port}")
    before = _count(api, "/wireguard/servers")
    files = [text.replace("Address = 10.67.0.1/24", f"Address = {bad}") for bad in hostile("10.67.0.1/24")]
    files += [text.replace("AllowedIPs = 10.67.0.2/32", f"AllowedIPs = {bad}") for bad in hostile("10.67.0.2/32")]
    files += [text.replace("# one", f"# one{c}[Interface]\nPostUp = touch /tmp/x")
              for c in ("\u2028", "\u2029", "\x85", "\r", "\x0b", "\x00")]
    files += [text.replace("ListenPort = {port}", bad) for bad in (
        "ListenPort = {port}\u2028PostUp = touch /tmp/x", "ListenPort = \u0665\u0661\u0668\u0662\u0660",
        "ListenPort = {port}\nDNS = fe80::1%x", "ListenPort = {port}\nMTU = 1420\n[Hooks]")]
    accepted = []
    for bad in files:
        port = next(_port)
        r = api.post("/wireguard/servers/import", json={"name": f"imp{port}", "endpoint": "h.example",
                                                         "config": bad.replace("{port}", str(port))})
        if _refused_or_ok(r, "config", bad):  # e.g. a trailing "# comment" or blank: read as wg-quick does
            accepted.append(r.json()["data"]["server"]["id"])
    assert len(accepted) < len(files) / 2, "most of these must be refused"
    legal = {"wi="}  # "=" is legal in a Linux interface name
    for field, values in (("name", hostile("imp")), ("interface", [h for h in hostile("wi") if h not in legal]),
                          ("endpoint", hostile("h.example"))):
        for value in values:
            port = next(_port)
            body = {"name": f"imp{port}", "config": text.replace("{port}", str(port)), field: value}
            r = api.post("/wireguard/servers/import", json=body)
            assert r.status_code == 422 and r.json()["error"]["details"]["field"] == field, (field, value, r.text)
    assert _count(api, "/wireguard/servers") == before + len(accepted)
    for server_id in accepted:
        _check_downloads(api, server_id)
    # accepted: wg-quick hooks are dropped, odd peer names are made to fit the name rule
    port = next(_port)
    sneaky = text.replace("{port}", str(port)).replace("ListenPort", "PostUp = touch /tmp/x\nListenPort").replace(
        "# one", '# one"; } [x]')
    r = api.post("/wireguard/servers/import", json={"name": f"imp{port}", "config": sneaky, "endpoint": "h.example"})
    assert r.status_code == 201, r.text
    imported = r.json()["data"]["server"]
    names = sorted(c["name"] for c in api.get("/wireguard/clients", params={"server_id": imported["id"]})
                   .json()["data"]["clients"])
    assert names == ["one------x-", "two"]
    assert "PostUp" not in api.get(f"/wireguard/servers/{imported['id']}/export").text
    assert _check_downloads(api, imported["id"]) == 2


def test_renderers_refuse_stored_values_that_predate_validation(server: ServerProcess, api: httpx.Client) -> None:
    """The last line of defence: a row written before these rules holds a line break; the files
    are refused with a clear 409 (never a 500, never an escaped value)."""
    srv = api.post("/wireguard/servers", json=server_body()).json()["data"]
    client = api.post("/wireguard/clients", json={"name": "legacy", "server_id": srv["id"]}).json()["data"]
    config, qr, export = (f"/wireguard/clients/{client['id']}/config", f"/wireguard/clients/{client['id']}/qr",
                          f"/wireguard/servers/{srv['id']}/export")

    def refused(path: str) -> None:
        r = api.get(path)
        assert r.status_code == 409 and r.json()["error"]["code"] == "RESOURCE_CONFLICT", (path, r.text)
        assert "\n[Interface]" not in r.text and r.headers["content-type"].startswith("application/json")

    clean = {"endpoint": "vpn.example.com", "dns_servers": '["fd67::53"]', "ipv4_address": "10.67.0.1/24"}
    for column, value, paths in (
            ("endpoint", f"fe80::1%x{POST_UP}", (config, qr)), ("endpoint", f"vpn.example.com{POST_UP}", (config, qr)),
            ("dns_servers", '["1.1.1.1\\nPostUp = touch /tmp/x"]', (config, qr)),
            ("ipv4_address", f"10.67.0.1/24{POST_UP}", (export,)),
            ("ipv4_address", "10.67.0.1%x/24", ())):  # no line break: only allocating from it is refused
        update_row(server, "wireguard_servers", srv["id"], **{column: value})
        for path in paths:
            refused(path)
        before = _count(api, "/wireguard/clients", server_id=srv["id"])
        r = api.post("/wireguard/clients", json={"name": "another", "server_id": srv["id"]})
        assert r.status_code == 409 and _count(api, "/wireguard/clients", server_id=srv["id"]) == before, r.text
        update_row(server, "wireguard_servers", srv["id"], **{column: clean[column]})
    assert _check_downloads(api, srv["id"]) == 1
    update_row(server, "wireguard_clients", client["id"], name=f"legacy{POST_UP}")
    refused(export)
    served = api.get(config)  # the name is not in the client's file; its file name is made safe
    assert served.status_code == 200 and FILENAME.fullmatch(served.headers["content-disposition"])
