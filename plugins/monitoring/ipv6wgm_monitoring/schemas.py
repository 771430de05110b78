"""Request and response models of /monitoring.

What JSON Schema can say is said here, so it answers 422 before any code runs: conditions,
levels, numeric thresholds (no NaN or infinity), name and tag syntax, bounds. Whether a metric
exists, and whether a time window is well-formed, is checked by the code (422 naming the field).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ipv6wgm.api import IsoDatetime, PageQuery, Pagination, StrictBody

TEXT = r"^[^\x00-\x1f\x7f]*$"
RULE_ID = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
ALERT_ID = r"^[a-z0-9][a-z0-9_.-]{0,95}$"
METRIC = r"^[a-z][a-z0-9_]{0,40}(\.[a-z0-9_]{1,40}){0,6}$"
NODE = r"^(\*|[A-Za-z0-9_.-]{1,64})$"  # "*": the cluster-wide series
NODE_ID = r"^[A-Za-z0-9_.-]{1,64}$"
NAME = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
TAG_KEY = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
#: ``key:value,key:value`` (a value may hold colons, e.g. an IPv6 prefix; no commas).
_PAIR = r"[A-Za-z_][A-Za-z0-9_]{0,63}:[^,\x00-\x1f\x7f]{0,255}"
TAGS_QUERY = rf"^{_PAIR}(,{_PAIR}){{0,15}}$"
TIME = r"^([0-9]{1,11}|[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9:.]{5,15}(Z|[+-][0-9]{2}:?[0-9]{2})?)$"
DURATION = r"^[0-9]{1,9}[smhdw]?$"

Condition = Literal[">", ">=", "<", "<=", "==", "!="]
Level = Literal["info", "warning", "error", "critical"]
AlertStatus = Literal["pending", "active", "resolved"]


def check_tags(value: dict[str, str] | None) -> dict[str, str] | None:
    import re

    if value is None:
        return None
    if len(value) > 16:
        raise ValueError("at most 16 tags")
    for key, text in value.items():
        if re.fullmatch(TAG_KEY[1:-1], key) is None:
            raise ValueError(f"tag name {key!r} must match {TAG_KEY}")
        if len(text) > 255 or re.fullmatch(TEXT[1:-1], text) is None:
            raise ValueError(f"tag {key!r}: at most 255 characters, no control characters")
    return value


class RuleBase(StrictBody):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class RuleCreate(RuleBase):
    id: str | None = Field(None, pattern=RULE_ID, description="slug; generated from a random suffix when absent")
    name: str = Field(min_length=1, max_length=128, pattern=TEXT)
    description: str = Field("", max_length=255, pattern=TEXT)
    metric_name: str = Field(pattern=METRIC, max_length=128, description="a stored metric, e.g. system.cpu.usage")
    condition: Condition
    threshold: float
    level: Level
    enabled: bool = True
    for_seconds: int = Field(0, ge=0, le=86400, description="the breach must last this long before the alert fires")
    cooldown_minutes: int = Field(5, ge=0, le=10080, description="no new alert this long after one resolved")
    tags: dict[str, str] = Field(default_factory=dict, description="only series whose tags include these "
                                                                    "(node: one node)")

    _tags = field_validator("tags")(check_tags)


class RuleUpdate(RuleBase):
    """Any subset of the fields (the id stays)."""

    name: str | None = Field(None, min_length=1, max_length=128, pattern=TEXT)
    description: str | None = Field(None, max_length=255, pattern=TEXT)
    metric_name: str | None = Field(None, pattern=METRIC, max_length=128)
    condition: Condition | None = None
    threshold: float | None = None
    level: Level | None = None
    enabled: bool | None = None
    for_seconds: int | None = Field(None, ge=0, le=86400)
    cooldown_minutes: int | None = Field(None, ge=0, le=10080)
    tags: dict[str, str] | None = None

    _tags = field_validator("tags")(check_tags)


class RuleOut(BaseModel):
    id: str
    name: str
    description: str
    metric_name: str
    condition: str
    threshold: float
    level: str
    enabled: bool
    for_seconds: int
    cooldown_minutes: int
    tags: dict[str, str]
    builtin: bool
    created_at: str | None
    updated_at: str | None


class RuleList(BaseModel):
    rules: list[RuleOut]
    pagination: Pagination


class RuleQuery(PageQuery):
    enabled: bool | None = None
    metric_name: str | None = Field(None, pattern=METRIC, max_length=128)


class AlertOut(BaseModel):
    id: str
    rule_id: str
    name: str
    description: str
    level: str
    status: str = Field(description="pending (breaching, waiting for for_seconds), active (firing), resolved")
    metric_name: str
    condition: str
    threshold_value: float
    current_value: float | None
    node: str | None
    tags: dict[str, str]
    started_at: str | None
    fired_at: str | None
    resolved_at: str | None
    resolution: str | None = Field(description="cleared, no data, manual, rule disabled, rule deleted")
    resolved_by: str | None
    acknowledged: bool
    acknowledged_at: str | None
    acknowledged_by: str | None
    created_at: str | None
    updated_at: str | None


class AlertQuery(PageQuery):
    status: AlertStatus | None = None
    level: Level | None = None
    rule_id: str | None = Field(None, pattern=RULE_ID)
    metric_name: str | None = Field(None, pattern=METRIC, max_length=128)
    node: str | None = Field(None, pattern=NODE)
    acknowledged: bool | None = None
    since: IsoDatetime | None = Field(None, description="created at or after (ISO-8601)")
    until: IsoDatetime | None = Field(None, description="created at or before (ISO-8601)")


class AlertList(BaseModel):
    alerts: list[AlertOut]
    pagination: Pagination


class ActiveQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: Level | None = None
    include_pending: bool = False


class AlertAction(StrictBody):
    note: str = Field("", max_length=255, pattern=TEXT)


class MetricsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str = Field(pattern=METRIC, max_length=128)
    tags: str | None = Field(None, pattern=TAGS_QUERY, max_length=4200,
                             description="key:value pairs separated by commas; node:<id> selects a node")
    start: str | None = Field(None, alias="from", pattern=TIME,
                              description="ISO-8601 or epoch seconds; default: an hour before 'to'")
    end: str | None = Field(None, alias="to", pattern=TIME, description="ISO-8601 or epoch seconds; default: now")
    step: str | None = Field(None, pattern=DURATION, description="bucket: 60, 30s, 5m, 1h, 1d; default: about "
                                                                  "300 points")


class MetricsSystemQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hours: int = Field(24, ge=1, le=8760)
    node: str | None = Field(None, pattern=NODE)


class DashboardQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    node: str | None = Field(None, pattern=NODE_ID, description="default: this process's node")


class PointOut(BaseModel):
    timestamp: str
    value: float
    min: float
    max: float
    count: int


class SeriesOut(BaseModel):
    node: str | None
    tags: dict[str, str]
    unit: str
    points: list[PointOut]


class MetricsOut(BaseModel):
    name: str
    from_: str = Field(alias="from")
    to: str
    step: int
    resolution: int = Field(description="seconds per stored point of the level read (raw: the sample interval)")
    series: list[SeriesOut]


class SystemPoint(BaseModel):
    name: str
    value: float
    timestamp: str
    tags: dict[str, str]
    metadata: dict[str, Any]


class MetricName(BaseModel):
    name: str
    unit: str
    series: int


class Dashboard(BaseModel):
    node: str
    measured_at: str | None
    system_metrics: dict[str, Any] | None
    application_metrics: dict[str, Any]
    alerts: dict[str, int]


NotifierKind = Literal["webhook", "apprise"]


class NotifierCreate(StrictBody):
    name: str = Field(pattern=NAME)
    kind: NotifierKind = "webhook"
    url: str = Field(min_length=8, max_length=2048, pattern=r"^[^\s\x00-\x1f\x7f]+$",
                     description="webhook: http(s) URL; apprise: any apprise URL (mailto://, tgram://, json://...)")
    secret: str | None = Field(None, min_length=16, max_length=256, pattern=r"^[\x21-\x7e]+$",
                               description="webhook HMAC key; generated (and shown once) when absent")
    min_level: Level = "info"
    enabled: bool = True


class NotifierUpdate(StrictBody):
    name: str | None = Field(None, pattern=NAME)
    url: str | None = Field(None, min_length=8, max_length=2048, pattern=r"^[^\s\x00-\x1f\x7f]+$")
    secret: str | None = Field(None, min_length=16, max_length=256, pattern=r"^[\x21-\x7e]+$")
    min_level: Level | None = None
    enabled: bool | None = None


class NotifierOut(BaseModel):
    id: int
    name: str
    kind: str
    url: str = Field(description="redacted: scheme, host and path only")
    min_level: str
    enabled: bool
    has_secret: bool
    last_attempt_at: str | None
    last_status: str | None
    last_error: str | None
    created_at: str | None
    updated_at: str | None


class NotifierCreated(NotifierOut):
    secret: str | None = Field(None, description="the webhook HMAC key, shown only in this answer")


class NotifierList(BaseModel):
    notifiers: list[NotifierOut]
    pagination: Pagination


class DeliveryResult(BaseModel):
    delivered: bool
    error: str | None
