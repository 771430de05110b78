"""Small helpers shared by the ipv6 tests: envelopes, unique pool prefixes, pool creation."""

from __future__ import annotations

import re
import secrets
from typing import Any

import httpx

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def envelope(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is True and ISO_Z.match(body["timestamp"]), body
    return body["data"]


def error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["success"] is False and set(body["error"]) == {"code", "message", "details"}, body
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


def ula(length: int = 48) -> str:
    """A random unique-local prefix, so tests sharing one server never overlap."""
    groups = [f"fd{secrets.token_hex(1)}", secrets.token_hex(2), secrets.token_hex(2), secrets.token_hex(2)]
    import ipaddress

    net = ipaddress.IPv6Network(f"{':'.join(groups)}::/{length}", strict=False)
    return str(net)


def make_pool(client: httpx.Client, prefix_length: int = 64, length: int = 48, **extra: Any) -> dict[str, Any]:
    body = {"name": f"pool-{secrets.token_hex(4)}", "prefix": ula(length), "prefix_length": prefix_length, **extra}
    return envelope(client.post("/ipv6/pools", json=body), 201)


def allocate(client: httpx.Client, pool_id: int, status: int = 201, **extra: Any) -> dict[str, Any]:
    response = client.post("/ipv6/allocations", json={"pool_id": pool_id, "client_name": "client", **extra})
    if status == 201:
        return envelope(response, 201)
    return error(response, status)
