"""JSON answers through orjson: list pages are mostly serialisation.

Flask's provider sorts keys and runs the pure-Python encoder for every answer; a page of 20
clients spent more time there than in the database. orjson is exact for 64-bit integers;
anything it refuses (an IPv6 count past 2**64) falls back to the standard library, so JSON
integers stay exact.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import orjson
from quart.json.provider import DefaultJSONProvider

from ipv6wgm.api import loads_json


class FastJSONProvider(DefaultJSONProvider):
    """Installed over Quart-Schema's provider, whose ``default`` (pydantic models, dataclasses)
    it keeps for what orjson does not know."""

    sort_keys = False

    def __init__(self, app: Any, fallback: DefaultJSONProvider) -> None:
        super().__init__(app)
        self._fallback_default = fallback.default

    def _default(self, value: Any) -> Any:
        if isinstance(value, datetime | date):
            return value.isoformat()
        if isinstance(value, set | frozenset | tuple):
            return list(value)
        return self._fallback_default(value)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Every JSON body of every route is parsed here: too deep a nesting is a 400, once."""
        return loads_json(s)

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if not kwargs.get("indent"):
            try:
                return orjson.dumps(obj, default=self._default).decode()
            except (orjson.JSONEncodeError, TypeError):
                pass  # e.g. an integer wider than 64 bits: the standard library keeps it exact
        kwargs.setdefault("default", self._default)
        kwargs.setdefault("ensure_ascii", False)
        kwargs.setdefault("sort_keys", False)
        return json.dumps(obj, **kwargs)
