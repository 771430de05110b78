"""Typed settings from ``IPV6WGM_*`` environment variables (pydantic-settings).

There are deliberately no default credentials: the signing/encryption secret comes from
``IPV6WGM_SECRET_KEY`` or a 0600 key file generated on first start, and the first admin only
from ``IPV6WGM_ADMIN_USERNAME``/``IPV6WGM_ADMIN_PASSWORD`` or ``ipv6wgm admin create``.
"""

from __future__ import annotations

import os
import secrets
import socket
import typing
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from annotated_types import Ge, Gt, Le, Lt, MaxLen, MinLen
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
ENV_PREFIX = "IPV6WGM_"


class SettingsError(ValueError):
    """A bad setting, worded for the operator: one line naming the variable, what it accepts
    and what it got. Every entry point prints it as it is and exits non-zero (no traceback)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IPV6WGM_", extra="ignore", frozen=False)

    data_dir: Path = Path("./data")
    database_url: str | None = None
    database_pool_size: int = Field(10, ge=1, le=200)
    database_timeout: float = Field(5.0, gt=0, le=60)
    redis_url: str | None = None
    redis_prefix: str = Field("ipv6wgm", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    secret_key: SecretStr | None = Field(None, min_length=32)
    secret_key_file: Path | None = None
    admin_username: str | None = None
    admin_password: SecretStr | None = Field(None, min_length=8, max_length=128)  # the password policy
    admin_email: str | None = None
    node_id: str = Field(default_factory=socket.gethostname, pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    strict_plugins: bool = False
    disabled_plugins: str = ""
    environment: str = "production"
    debug: bool = False
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    generate_admin: bool = False
    netns: str | None = Field(None, pattern=r"^[A-Za-z0-9_.-]{1,64}$",
                              description="named network namespace that holds this node's data plane")

    # Defaults of the live-editable runtime configuration (/system/config overrides them).
    log_level: LogLevel = "INFO"
    session_timeout: int = Field(3600, ge=60, le=30 * 86400)
    refresh_token_ttl: int = Field(7 * 86400, ge=300, le=90 * 86400)
    api_rate_limit: int = Field(1000, ge=10, le=1_000_000)
    login_rate_limit: int = Field(30, ge=1, le=100_000)
    lockout_threshold: int = Field(5, ge=1, le=100, description="failed logins per account and source address "
                                   "before each further attempt is delayed")
    lockout_seconds: int = Field(900, ge=1, le=86400, description="longest delay (the delay doubles per failure)")
    log_export_ttl: int = Field(3600, ge=60, le=7 * 86400)
    jwt_issuer: str = "ipv6wgm"
    jwt_audience: str = "ipv6wgm-api"

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite://{(self.data_dir / 'ipv6wgm.sqlite3').resolve()}"

    @property
    def database_kind(self) -> str:
        return self.resolved_database_url.split(":", 1)[0]

    @property
    def disabled_plugin_names(self) -> list[str]:
        return [p.strip() for p in self.disabled_plugins.split(",") if p.strip()]

    def ensure_data_dir(self) -> Path:
        """The data dir holds the database, the key file and BIRD's files: owner only (0700),
        also when it already existed with looser modes."""
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if self.data_dir.stat().st_mode & 0o077:
            self.data_dir.chmod(0o700)
        return self.data_dir

    @cached_property
    def master_secret(self) -> bytes:
        """The root secret; every key (JWT, at-rest encryption) is derived from it."""
        if self.secret_key is not None:
            value = self.secret_key.get_secret_value().encode()
            if len(value) < 32:
                raise SettingsError(f"{ENV_PREFIX}SECRET_KEY accepts text of at least 32 characters, "
                                    f"got {len(value)} characters")
            return value
        path = self.secret_key_file or (self.data_dir / "secret.key")
        if not path.exists():
            self.ensure_data_dir()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        if path.stat().st_mode & 0o077:
            raise PermissionError(f"{path} must not be readable by group or others (chmod 600)")
        value = path.read_text().strip().encode()
        if len(value) < 32:
            raise SettingsError(f"{path} (the secret key file) must hold at least 32 characters, "
                                f"got {len(value)}")
        return value


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment (plus overrides); a bad value raises ``SettingsError``."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError("; ".join(_explain(err) for err in exc.errors())) from None


def _explain(error: Any) -> str:
    name = str(error["loc"][0]) if error.get("loc") else ""
    field = Settings.model_fields.get(name)
    if field is None:
        return f"invalid settings: {error.get('msg', 'invalid value')}"
    variable = f"{ENV_PREFIX}{name.upper()}"
    raw = os.environ.get(variable, error.get("input"))
    secret = _base_type(field.annotation) is SecretStr
    got = f"a value of {len(str(raw))} characters" if secret else repr(str(raw))
    return f"{variable} accepts {_accepts(field)}, got {got}"


def _base_type(annotation: Any) -> Any:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is not Literal and len(args) == 1:
        return args[0]
    return annotation


def _accepts(field: Any) -> str:
    """What a field accepts, from its type and constraints (so the message cannot drift)."""
    kind = _base_type(field.annotation)
    if typing.get_origin(kind) is Literal:
        return "one of " + ", ".join(str(v) for v in typing.get_args(kind))
    words = {int: "an integer", float: "a number", bool: "true or false (1/0, yes/no)", Path: "a path"}
    text = words.get(kind, "text")
    low = next((f">= {m.ge}" for m in field.metadata if isinstance(m, Ge)), None) or next(
        (f"> {m.gt}" for m in field.metadata if isinstance(m, Gt)), None)
    high = next((f"<= {m.le}" for m in field.metadata if isinstance(m, Le)), None) or next(
        (f"< {m.lt}" for m in field.metadata if isinstance(m, Lt)), None)
    if low and high and low.startswith(">=") and high.startswith("<="):
        text += f" from {low[3:]} to {high[3:]}"
    elif low or high:
        text += " " + " and ".join(b for b in (low, high) if b)
    shortest = next((m.min_length for m in field.metadata if isinstance(m, MinLen)), None)
    longest = next((m.max_length for m in field.metadata if isinstance(m, MaxLen)), None)
    if shortest is not None or longest is not None:
        text += " of " + " and ".join(w for w in (
            f"at least {shortest}" if shortest is not None else "", f"at most {longest}" if longest else "") if w)
        text += " characters"
    pattern = next((getattr(m, "pattern", None) for m in field.metadata if getattr(m, "pattern", None)), None)
    if pattern:
        text += f" matching {pattern}"
    return text
