"""Envelope, error codes and pagination shared by every route, core and plugins alike.

Every JSON answer is ``{success, data, message?, timestamp}`` or
``{success: false, error: {code, message, details}, timestamp}``; routes return ``ok(...)``
or raise ``ApiError`` and never build either shape by hand.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from quart import Response, jsonify

T = TypeVar("T")

# Codes from the spec, plus the few the spec's HTTP table implies but does not name.
INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
TOKEN_EXPIRED = "TOKEN_EXPIRED"  # noqa: S105 - an error code, not a secret
INSUFFICIENT_PERMISSIONS = "INSUFFICIENT_PERMISSIONS"
RESOURCE_NOT_FOUND = "RESOURCE_NOT_FOUND"
VALIDATION_ERROR = "VALIDATION_ERROR"
RATE_LIMIT_EXCEEDED = "RATE_LIMIT_EXCEEDED"
INTERNAL_ERROR = "INTERNAL_ERROR"
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
RESOURCE_CONFLICT = "RESOURCE_CONFLICT"
BAD_REQUEST = "BAD_REQUEST"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"

MAX_PAGE_SIZE = 100
MAX_JSON_DEPTH = 64
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime | None) -> str | None:
    """ISO-8601 in UTC with ``Z``, as the spec shows; naive values are taken as UTC."""
    return None if value is None else _iso(value)


@lru_cache(maxsize=65536)
def _iso(value: datetime) -> str:
    """Memoised: a list page formats ~80 timestamps, mostly the same ones as the last time it
    was asked for (formatting costs ~1 us each, a cache hit ~0.1 us)."""
    if value.tzinfo is not None and value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.isoformat()[:19] + "Z"


def now_iso() -> str:
    return iso(utcnow())  # type: ignore[return-value]


class ApiError(Exception):
    """Raise from anywhere in a request; the core turns it into the error envelope."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or {}
        self.headers = headers or {}


def not_found(what: str = "resource") -> ApiError:
    return ApiError(404, RESOURCE_NOT_FOUND, f"{what} not found")


def forbidden(message: str = "insufficient permissions") -> ApiError:
    return ApiError(403, INSUFFICIENT_PERMISSIONS, message)


def conflict(message: str, **details: Any) -> ApiError:
    return ApiError(409, RESOURCE_CONFLICT, message, details)


def invalid(field: str, message: str) -> ApiError:
    return ApiError(422, VALIDATION_ERROR, "validation failed", {"field": field, "message": message})


def ok(data: Any = None, message: str | None = None, status: int = 200) -> tuple[Response, int]:
    body: dict[str, Any] = {"success": True, "data": data, "timestamp": now_iso()}
    if message is not None:
        body["message"] = message
    return jsonify(body), status


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "success": False,
        "error": {"code": code, "message": message, "details": details or {}},
        "timestamp": now_iso(),
    }


def error_response(err: ApiError) -> Response:
    response = jsonify(error_body(err.code, err.message, err.details))
    response.status_code = err.status
    for key, value in err.headers.items():
        response.headers[key] = value
    return response


def _bounded_int(text: str) -> int:
    value = int(text)
    if not INT64_MIN <= value <= INT64_MAX:
        raise ValueError("JSON integer outside the 64-bit range")
    return value


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("JSON number too large")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check_text(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("JSON string holds a lone surrogate (not Unicode text)") from None


def loads_json(data: str | bytes) -> Any:
    """``json.loads`` for untrusted input, so that every value a body carries can be stored and
    echoed back: too deep a nesting, an integer past 64 bits, ``NaN``/``Infinity`` and lone
    surrogates are a ``ValueError`` (a 400) here, not a failure later in a JSON column, the
    database driver or the recursion limit (the C scanner raises RecursionError at ~1,000 levels)."""
    try:
        value = json.loads(data, parse_int=_bounded_int, parse_float=_finite_float, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    stack: list[tuple[Any, int]] = [(value, 1)]
    if isinstance(value, str):
        _check_text(value)
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            for key in item:
                _check_text(key)
            children: Any = item.values()
        else:
            children = item if isinstance(item, list) else ()
        for child in children:
            if isinstance(child, str):
                _check_text(child)
            elif isinstance(child, dict | list):
                if depth >= MAX_JSON_DEPTH:
                    raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
                stack.append((child, depth + 1))
    return value


# ---- request models ---------------------------------------------------------------------


class StrictBody(BaseModel):
    """Base of every JSON request body: unknown fields are rejected (no mass assignment) and
    types are not coerced (``0`` is not ``false``, ``"5"`` is not ``5``)."""

    model_config = ConfigDict(extra="forbid", strict=True)


def _iso_datetime(value: Any) -> Any:
    """Query-string times must be ISO-8601 text, not epoch numbers pydantic would accept."""
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or len(value) < 10 or value[4] != "-":
        raise ValueError("expected an ISO-8601 date-time, e.g. 2024-01-01T00:00:00Z")
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


IsoDatetime = Annotated[datetime, BeforeValidator(_iso_datetime)]


# ---- pagination ---------------------------------------------------------------------------


class PageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    page: int = Field(1, ge=1, le=1_000_000)
    size: int = Field(20, ge=1, le=10_000, description=f"capped at {MAX_PAGE_SIZE}")

    @property
    def limit(self) -> int:
        return min(self.size, MAX_PAGE_SIZE)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.limit


class Pagination(BaseModel):
    page: int
    size: int
    total: int
    pages: int


def pagination(query: PageQuery, total: int) -> dict[str, int]:
    size = query.limit
    return {"page": query.page, "size": size, "total": total, "pages": math.ceil(total / size) if total else 0}


async def paginate(queryset: Any, query: PageQuery) -> tuple[list[Any], dict[str, int]]:
    """One COUNT and one LIMIT/OFFSET query; never loads the whole table."""
    total = await queryset.count()
    rows = await queryset.offset(query.offset).limit(query.limit)
    return rows, pagination(query, total)


# ---- documentation models -----------------------------------------------------------------


class Envelope(BaseModel, Generic[T]):
    success: bool
    data: T
    message: str | None = None
    timestamp: str


class MessageEnvelope(BaseModel):
    success: bool
    data: Any = None
    message: str | None = None
    timestamp: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: dict[str, Any]


class ErrorEnvelope(BaseModel):
    """The error envelope of the spec."""

    success: bool
    error: ErrorDetail
    timestamp: str
