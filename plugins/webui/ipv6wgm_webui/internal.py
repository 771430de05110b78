"""In-process calls of the JSON API: the web UI changes things only through it.

A form post becomes one ASGI request to ``/api/v1/...`` on the same app, authenticated with a
short access token of the browser's own session. The API's validation, per-object
authorization, rate limits and audit apply unchanged, and no rule is written twice.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson


@dataclass(frozen=True)
class ApiResult:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> dict[str, Any]:
        try:
            value = orjson.loads(self.body)
        except orjson.JSONDecodeError:
            return {}
        return value if isinstance(value, dict) else {}

    @property
    def data(self) -> Any:
        return self.json().get("data")

    @property
    def error(self) -> str:
        """The envelope's message, with the field it names."""
        err = self.json().get("error") or {}
        message = str(err.get("message") or f"HTTP {self.status}")
        details = err.get("details") or {}
        field = details.get("field") if isinstance(details, dict) else None
        detail = details.get("message") if isinstance(details, dict) else None
        if field and detail and detail != message:
            return f"{message}: {field}: {detail}"
        return message


async def call(app: Any, method: str, path: str, *, token: str | None = None, json: Any = None,
               query: dict[str, Any] | None = None, client: tuple[str, int] | None = None,
               user_agent: str | None = None) -> ApiResult:
    body = orjson.dumps(json) if json is not None else b""
    headers = [(b"host", b"localhost"), (b"content-length", str(len(body)).encode())]
    if json is not None:
        headers.append((b"content-type", b"application/json"))
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    if user_agent:
        headers.append((b"user-agent", user_agent.encode("latin-1", "replace")[:255]))
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method.upper(),
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": urlencode({k: v for k, v in (query or {}).items() if v not in (None, "")}).encode(),
        "headers": headers, "client": client or ("127.0.0.1", 0), "server": ("localhost", 80), "extensions": {},
    }
    sent = False
    parts: list[bytes] = []
    start: dict[str, Any] = {}

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # never disconnects; cancelled when the response is done
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))

    await app(scope, receive, send)
    hdrs = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in start.get("headers", [])}
    return ApiResult(int(start.get("status", 500)), hdrs, b"".join(parts))
