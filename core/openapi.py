"""OpenAPI generation on top of quart-schema: the error envelope and bearer security are added
to every operation here, once, instead of decorating each route with them."""

from __future__ import annotations

from typing import Any

from quart_schema import OpenAPIProvider
from quart_schema.validation import QUART_SCHEMA_REQUEST_ATTRIBUTE

from ipv6wgm.api import ErrorEnvelope

ERROR_STATUSES = {
    400: "Bad request",
    401: "Missing, invalid, expired or revoked token",
    403: "Insufficient permissions",
    404: "Not found",
    409: "Conflict",
    422: "Validation failed",
    429: "Rate limit exceeded",
    503: "Service unavailable (database unreachable)",
}
FILE_RESPONSE_ATTR = "_ipv6wgm_file_response"


def file_response(content_type: str):
    """Document a route that answers with a file instead of JSON."""

    def decorator(func: Any) -> Any:
        func._ipv6wgm_file_response = content_type  # type: ignore[attr-defined]
        return func

    return decorator


class Provider(OpenAPIProvider):
    def build_paths(self, rule: Any) -> tuple[dict, dict]:
        paths, components = super().build_paths(rule)
        func = self._app.view_functions[rule.endpoint]
        is_public = getattr(func, "_ipv6wgm_public", False)
        file_type = getattr(func, FILE_RESPONSE_ATTR, None)
        error_schema, error_defs = self.build_response_object(ErrorEnvelope, None)
        components.update(error_defs)
        has_body = getattr(func, QUART_SCHEMA_REQUEST_ATTRIBUTE, None) is not None
        for operations in paths.values():
            for operation in operations.values():
                responses = operation["responses"]
                if file_type is not None:
                    responses[200] = {
                        "description": "file",
                        "content": {file_type: {"schema": {"type": "string", "format": "binary"}}},
                    }
                for status, description in ERROR_STATUSES.items():
                    if status == 401 and is_public and not rule.rule.endswith("/refresh") and \
                            not rule.rule.endswith("/login"):
                        continue
                    if status == 400 and not has_body:
                        continue
                    responses.setdefault(status, {**error_schema, "description": description})
                if not is_public:
                    operation["security"] = [{"bearerAuth": []}]
        return paths, components
