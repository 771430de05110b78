"""A browser-like HTTP session for the web UI: cookies, the CSRF token of the last page, Origin."""

from __future__ import annotations

import re
from typing import Any

import httpx

from ipv6wgm.testing import ServerProcess

CSRF_RE = re.compile(r'<meta name="csrf-token" content="([0-9a-f]{64})">')


class WebSession:
    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.base, timeout=30, follow_redirects=False)
        self.csrf = ""

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        response = self.http.get(path, **kwargs)
        found = CSRF_RE.search(response.text)
        if found:
            self.csrf = found.group(1)
        return response

    def post(self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True,
             origin: str | None = "self", headers: dict[str, str] | None = None) -> httpx.Response:
        body = dict(data or {})
        if csrf:
            body["csrf_token"] = self.csrf
        hdrs = dict(headers or {})
        if origin == "self":
            hdrs["Origin"] = self.server.base
        elif origin is not None:
            hdrs["Origin"] = origin
        return self.http.post(path, data=body, headers=hdrs)

    def login(self, username: str, password: str) -> httpx.Response:
        self.get("/login")
        response = self.post("/login", {"username": username, "password": password})
        assert response.status_code == 303, response.text
        return response

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> WebSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
