"""OpenAPI generation on top of quart-schema: the error envelope and bearer security are added
to every operation here, once, instead of decorating each route with them."""

from __future__ import annotations

from typing import Any

from quart_schema import OpenAPIProvider
from quart_schema.validation import QUART_SCHEMA_REQUEST_ATTRIBUTE
from werkzeug.routing import BaseConverter, IntegerConverter

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


def optional_body(func: Any) -> Any:
    """Document a request body as optional (e.g. a token that may come in a header instead)."""
    func._ipv6wgm_optional_body = True
    return func


def file_response(*content_types: str):
    """Document a route that answers with a file (of one of ``content_types``) instead of JSON."""

    def decorator(func: Any) -> Any:
        func._ipv6wgm_file_response = content_types  # type: ignore[attr-defined]
        return func

    return decorator


MAX_ID = 2**63 - 1


class BoundedIntConverter(IntegerConverter):
    """``<int:...>`` limited to what a database BIGINT holds: a larger id finds nothing (404)
    instead of overflowing deep in the database driver."""

    def to_python(self, value: str) -> Any:
        number = super().to_python(value)
        return number if number <= MAX_ID else -1


class PatternConverter(BaseConverter):
    """A path segment of a fixed shape (``regex``). Unlike a plain ``<name>``, a shaped id never
    matches a literal sibling such as ``/backups/create``, so OPTIONS and 405 answers list only
    the methods of the resource asked for, and OpenAPI documents the shape."""

    part_isolating = True


def shaped_segment(blueprint: Any, name: str, regex: str) -> None:
    """Make ``<name:...>`` usable in ``blueprint``'s routes; call it before declaring them (the
    converter must be in the app's map when the blueprint's rules are added)."""
    converter = type(f"{name.title()}Converter", (PatternConverter,), {"regex": regex})
    blueprint.record_once(lambda state: state.app.url_map.converters.setdefault(name, converter))


class Provider(OpenAPIProvider):
    def build_path_parameter(self, name: str, converter: Any) -> dict[str, Any]:
        parameter = super().build_path_parameter(name, converter)
        if isinstance(converter, IntegerConverter):
            parameter["schema"] = {"type": "integer", "minimum": 0, "maximum": MAX_ID}
        elif isinstance(converter, PatternConverter):
            parameter["schema"] = {"type": "string", "pattern": f"^{converter.regex}$"}
        return parameter

    def build_paths(self, rule: Any) -> tuple[dict, dict]:
        paths, components = super().build_paths(rule)
        func = self._app.view_functions[rule.endpoint]
        is_public = getattr(func, "_ipv6wgm_public", False)
        file_type = getattr(func, FILE_RESPONSE_ATTR, None)
        error_schema, error_defs = self.build_response_object(ErrorEnvelope, None)
        components.update(error_defs)
        has_body = getattr(func, QUART_SCHEMA_REQUEST_ATTRIBUTE, None) is not None
        optional_body = getattr(func, "_ipv6wgm_optional_body", False)
        for operations in paths.values():
            for operation in operations.values():
                if "requestBody" in operation and not optional_body:
                    operation["requestBody"]["required"] = True
                responses = operation["responses"]
                if file_type is not None:
                    responses[200] = {
                        "description": "file",
                        "content": {kind: {"schema": {"type": "string", "format": "binary"}} for kind in file_type},
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
