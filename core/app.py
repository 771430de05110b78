"""``create_app()``: assembles everything before serving.

Quart never stops late route registration, so every blueprint (core, plugins, WebSocket
streams) is registered here, from the registry, before the app is returned.
"""

from __future__ import annotations

import logging
from typing import Any

from quart import Quart, Response, g, request
from quart.wrappers import Request
from quart_schema import QuartSchema, RequestSchemaValidationError
from tortoise.exceptions import DBConnectionError, OperationalError
from werkzeug.exceptions import HTTPException

from ipv6wgm import SERVICE_NAME, __version__
from ipv6wgm.api import (
    BAD_REQUEST,
    INTERNAL_ERROR,
    METHOD_NOT_ALLOWED,
    RATE_LIMIT_EXCEEDED,
    RESOURCE_NOT_FOUND,
    SERVICE_UNAVAILABLE,
    VALIDATION_ERROR,
    ApiError,
    error_response,
)
from ipv6wgm.auth.service import authenticate, bearer
from ipv6wgm.bootstrap import build_runtime, start_runtime, stop_runtime
from ipv6wgm.jobs import after_response
from ipv6wgm.jsonio import FastJSONProvider
from ipv6wgm.logs.service import audit
from ipv6wgm.maintenance import blocked, body_limits, write_guards
from ipv6wgm.openapi import BoundedIntConverter, Provider
from ipv6wgm.runtime import Runtime
from ipv6wgm.settings import Settings, load_settings
from ipv6wgm.ws_routes import build_ws_blueprint

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
DB_DOWN = (DBConnectionError, OperationalError, ConnectionError, TimeoutError, OSError)
HTTP_CODES = {400: BAD_REQUEST, 404: RESOURCE_NOT_FOUND, 405: METHOD_NOT_ALLOWED, 413: BAD_REQUEST}


def create_app(settings: Settings | None = None, *, migrate: bool = True) -> Quart:
    settings = settings or load_settings()
    runtime = build_runtime(settings)
    app = Quart("ipv6wgm")
    app.url_map.converters["int"] = BoundedIntConverter
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.request_class = _request_class(body_limits(runtime.registry.services))
    app.config["QUART_SCHEMA_CONVERSION_PREFERENCE"] = "pydantic"
    # /docs loads Swagger UI from the files vendored in core/static (pinned, sha256 in SHA256SUMS),
    # never from a CDN.
    app.config["QUART_SCHEMA_SWAGGER_JS_URL"] = "/static/swagger-ui/swagger-ui-bundle.js"
    app.config["QUART_SCHEMA_SWAGGER_CSS_URL"] = "/static/swagger-ui/swagger-ui.css"
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    app.extensions["ipv6wgm"] = runtime
    QuartSchema(
        app,
        openapi_path="/openapi.json",
        swagger_ui_path="/docs",
        redoc_ui_path=None,
        scalar_ui_path=None,
        info={"title": SERVICE_NAME, "version": __version__},
        security_schemes={"bearerAuth": {"type": "http", "scheme": "bearer", "bearer_format": "JWT"}},
        openapi_provider_class=Provider,
    )
    app.json = FastJSONProvider(app, fallback=app.json)
    app.asgi_app = after_response(app.asgi_app)  # type: ignore[method-assign]
    for spec in runtime.registry.blueprints:
        app.register_blueprint(spec.blueprint, url_prefix=spec.url_prefix)
    app.register_blueprint(build_ws_blueprint())
    _install_request_hooks(app, runtime)
    _install_error_handlers(app)

    @app.before_serving
    async def _start() -> None:
        await start_runtime(runtime, migrate=migrate)

    @app.after_serving
    async def _stop() -> None:
        await stop_runtime(runtime)

    return app


def _request_class(limits: dict[str, int]) -> type[Request]:
    """Bodies are capped at ``MAX_CONTENT_LENGTH``, except on the few exact paths a plugin
    declared (``ipv6wgm.maintenance.BodyLimit``); the cap is set when the request is made,
    before any byte of the body is buffered."""
    if not limits:
        return Request

    class LimitedRequest(Request):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            limit = limits.get(self.path)
            if limit is not None:
                self.body = self.body_class(self.content_length, limit)

    return LimitedRequest


def _is_public(app: Quart) -> bool:
    view = app.view_functions.get(request.endpoint or "")
    return view is None or getattr(view, "_ipv6wgm_public", False) or not request.path.startswith(API_PREFIX)


def _install_request_hooks(app: Quart, runtime: Runtime) -> None:
    guards = write_guards(runtime.registry.services)

    @app.before_request
    async def _authenticate_and_limit() -> None:
        g.principal = None
        g.write_blocked = False
        if guards and request.method in MUTATING and request.path.startswith(API_PREFIX):
            block = await blocked(guards)
            if block is not None:
                g.write_blocked = True
                raise ApiError(503, SERVICE_UNAVAILABLE, f"writes are paused: {block.reason}",
                               {"retry_after": block.retry_after, "reason": block.reason},
                               {"Retry-After": str(block.retry_after)})
        token = bearer(request.headers.get("Authorization"))
        if not _is_public(app):
            g.principal = await authenticate(token)
        if request.path.startswith(API_PREFIX):
            key = f"u:{g.principal.id}" if g.principal else f"ip:{request.remote_addr}"
            allowed, retry = await runtime.limiter.hit(key, runtime.config.api_rate_limit)
            if not allowed:
                raise ApiError(429, RATE_LIMIT_EXCEEDED, "rate limit exceeded", {"retry_after": retry},
                               {"Retry-After": str(retry)})

    @app.after_request
    async def _audit_and_harden(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("Cache-Control", "no-store")
        principal = getattr(g, "principal", None)
        if (
            request.method in MUTATING
            and request.path.startswith(API_PREFIX)
            and not request.path.startswith(f"{API_PREFIX}/auth/")
            and response.status_code not in (401, 429)
            and not getattr(g, "write_blocked", False)  # the guard's database is being replaced
        ):
            try:
                user = principal.user if principal else None
                rule = request.url_rule.rule if request.url_rule else request.path
                await audit(
                    f"{request.method} {request.path} -> {response.status_code}",
                    action=f"{request.method.lower()} {rule}"[:64],
                    level="INFO" if response.status_code < 400 else "WARNING",
                    user_id=user.id if user else None,
                    username=user.username if user else None,
                    status_code=response.status_code,
                    module=(request.blueprint or "api").split(".")[0],
                )
            except Exception:
                log.exception("could not write the audit entry")
        return response


def _validation_details(exc: RequestSchemaValidationError) -> dict[str, Any]:
    error = exc.validation_error
    errors: list[dict[str, str]] = []
    if hasattr(error, "errors"):
        for item in error.errors()[:20]:
            field = ".".join(str(p) for p in item.get("loc", ())) or "body"
            errors.append({"field": field, "message": str(item.get("msg", "invalid"))})
    if not errors:
        errors.append({"field": "body", "message": "invalid or missing request data"})
    return {"field": errors[0]["field"], "message": errors[0]["message"], "errors": errors}


def _install_error_handlers(app: Quart) -> None:
    @app.errorhandler(ApiError)
    async def _api_error(exc: ApiError) -> Response:
        return error_response(exc)

    @app.errorhandler(RequestSchemaValidationError)
    async def _schema_error(exc: RequestSchemaValidationError) -> Response:
        return error_response(ApiError(422, VALIDATION_ERROR, "validation failed", _validation_details(exc)))

    @app.errorhandler(HTTPException)
    async def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = HTTP_CODES.get(status, BAD_REQUEST if status < 500 else INTERNAL_ERROR)
        err = ApiError(status, code, exc.name if status != 400 else "malformed request")
        response = error_response(err)
        if status == 405 and getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(UnicodeDecodeError)
    async def _bad_encoding(exc: UnicodeDecodeError) -> Response:
        return error_response(ApiError(400, BAD_REQUEST, "request body is not valid UTF-8"))

    @app.errorhandler(Exception)
    async def _unexpected(exc: Exception) -> Response:
        if isinstance(exc, DB_DOWN):
            log.error("database unavailable: %s", exc)
            return error_response(ApiError(503, SERVICE_UNAVAILABLE, "database unavailable",
                                           headers={"Retry-After": "5"}))
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(ApiError(500, INTERNAL_ERROR, "internal error"))
