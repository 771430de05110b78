"""Request and response models of /wireguard. Requests are strict (no unknown fields, no
coercion); every string that reaches a config file or the kernel goes through ``validation``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ipv6wgm.api import IsoDatetime, PageQuery, Pagination, StrictBody
from ipv6wgm_wireguard import validation as v

Name = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(v.name)]
IfName = Annotated[str, Field(min_length=1, max_length=15), AfterValidator(v.ifname)]
V4Server = Annotated[str, Field(max_length=64), AfterValidator(lambda x: v.server_address(x, 4))]
V6Server = Annotated[str, Field(max_length=64), AfterValidator(lambda x: v.server_address(x, 6))]
V4Client = Annotated[str, Field(max_length=64), AfterValidator(lambda x: str(v.client_address(x, 4)))]
V6Client = Annotated[str, Field(max_length=64), AfterValidator(lambda x: str(v.client_address(x, 6)))]
IpList = Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=8), AfterValidator(v.ip_list)]
CidrList = Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=64), AfterValidator(v.cidr_list)]
Endpoint = Annotated[str, Field(min_length=1, max_length=261, description=(
    "public host[:port] clients connect to: a DNS name, an IPv4 address or [IPv6]; stored canonical "
    "(lower-case name, compressed address); without a port the listen port is used")),
    AfterValidator(v.endpoint)]
Key = Annotated[str, Field(min_length=44, max_length=44), AfterValidator(v.public_key)]
Text = Annotated[str, Field(max_length=255), AfterValidator(v.text)]
Port = Annotated[int, Field(ge=1, le=65535)]
Mtu = Annotated[int, Field(ge=1280, le=9000)]
Keepalive = Annotated[int, Field(ge=0, le=65535)]
NodeId = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(v.node_id)]
# Operator fields of a client: a caller without wireguard.clients.write gets 403 naming the field.
OPERATOR = "needs wireguard.clients.write (403 INSUFFICIENT_PERMISSIONS otherwise)"
Quota = Annotated[int, Field(ge=0, le=2**62, description=f"bytes (rx + tx) before the peer is taken off: {OPERATOR}")]
Expiry = Annotated[IsoDatetime, Field(description=f"when the peer is taken off: {OPERATOR}")]
PoolId = Annotated[int, Field(ge=1, le=2**31 - 1, description=f"IPv6 pool to delegate a prefix from: {OPERATOR}")]
PrefixLength = Annotated[int, Field(ge=1, le=128, description=f"length of the delegated prefix: {OPERATOR}")]


class ServerCreate(StrictBody):
    name: Name
    interface: IfName | None = None
    listen_port: Port = 51820
    ipv4_address: V4Server | None = None
    ipv6_address: V6Server | None = None
    dns_servers: IpList = Field(default_factory=list)
    mtu: Mtu | None = None
    endpoint: Endpoint | None = None
    persistent_keepalive: Keepalive | None = None
    node_id: NodeId | None = None
    is_active: bool = False


class ServerUpdate(StrictBody):
    name: Name | None = None
    listen_port: Port | None = None
    dns_servers: IpList | None = None
    mtu: Mtu | None = None
    endpoint: Endpoint | None = None
    persistent_keepalive: Keepalive | None = None


class ServerImport(StrictBody):
    name: Name
    interface: IfName | None = None
    config: str = Field(min_length=10, max_length=2_000_000, description="a wg-quick server config")
    endpoint: Endpoint | None = None
    node_id: NodeId | None = None


class ServerQuery(PageQuery):
    status: Literal["running", "stopped", "error"] | None = None


class ClientCreate(StrictBody):
    name: Name
    server_id: Annotated[int, Field(ge=1, le=2**31 - 1)]
    description: Text | None = None
    ipv4_address: V4Client | None = None
    ipv6_address: V6Client | None = None
    dns_servers: IpList | None = None
    allowed_ips: CidrList = Field(default_factory=lambda: ["0.0.0.0/0", "::/0"])
    public_key: Key | None = Field(None, description="bring your own key: the server never holds the private key")
    preshared_key: bool = True
    persistent_keepalive: Keepalive | None = None
    enabled: bool = True
    quota_bytes: Quota | None = None
    expires_at: Expiry | None = None
    owner_id: Annotated[int, Field(ge=1, le=2**31 - 1, description=f"another user as owner: {OPERATOR}")] | None = None
    ipv6_pool_id: PoolId | None = None
    ipv6_prefix_length: PrefixLength | None = None


class ClientUpdate(StrictBody):
    name: Name | None = None
    description: Text | None = None
    dns_servers: IpList | None = None
    allowed_ips: CidrList | None = None
    persistent_keepalive: Keepalive | None = None
    enabled: bool | None = Field(None, description=f"true on a client an operator disabled: {OPERATOR}")
    quota_bytes: Quota | None = None
    expires_at: Expiry | None = None
    ipv6_pool_id: PoolId | None = None
    ipv6_prefix_length: PrefixLength | None = None


class TrafficQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    range: Literal["24h", "7d", "30d", "1y"] = Field("24h", description="hourly buckets for 24h and 7d, daily for "
                                                                       "30d and 1y")


class TrafficPoint(BaseModel):
    timestamp: str
    bytes_received: int
    bytes_sent: int


class TrafficOut(BaseModel):
    client_id: int
    range: str
    resolution: Literal["1h", "1d"]
    points: list[TrafficPoint]
    bytes_received: int
    bytes_sent: int


class ClientQuery(PageQuery):
    server_id: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    search: Annotated[str, Field(max_length=64)] | None = None


class ServerOut(BaseModel):
    id: int
    name: str
    interface: str
    node_id: str
    listen_port: int
    ipv4_address: str | None
    ipv6_address: str | None
    public_key: str
    dns_servers: list[str]
    mtu: int | None
    endpoint: str | None
    endpoint_detected: str | None = Field(description="without an endpoint: the node's primary address, which "
                                          "client configs use unless IPV6WGM_WIREGUARD_ENDPOINT is set")
    endpoint_detected_from: str | None
    persistent_keepalive: int | None
    is_active: bool
    status: str
    status_detail: str | None
    clients_count: int
    started_at: str | None
    stopped_at: str | None
    created_at: str | None
    updated_at: str | None


class ServerCreated(ServerOut):
    private_key: str


class ServerList(BaseModel):
    servers: list[ServerOut]
    pagination: Pagination


class ServerState(BaseModel):
    id: int
    status: str
    status_detail: str | None = None
    started_at: str | None = None
    stopped_at: str | None = None


class PeerOut(BaseModel):
    public_key: str
    client_id: int | None
    client_name: str | None
    endpoint: str | None
    allowed_ips: list[str]
    last_handshake: str | None
    bytes_received: int
    bytes_sent: int
    persistent_keepalive: int | None


class PeersOut(BaseModel):
    server_id: int
    interface: str
    listen_port: int | None
    public_key: str | None
    peers: list[PeerOut]


class ClientOut(BaseModel):
    id: int
    name: str
    server_id: int
    owner_id: int | None
    description: str | None
    ipv4_address: str | None
    ipv6_address: str | None
    public_key: str
    has_private_key: bool
    has_preshared_key: bool
    dns_servers: list[str] | None
    allowed_ips: list[str]
    persistent_keepalive: int | None
    enabled: bool
    status: Literal["active", "inactive", "disabled", "account_disabled", "quota_exceeded", "expired"] = Field(
        description="active/inactive: on the data plane (handshake younger than the active window or not); "
                    "otherwise off, and disabled_reason says why")
    disabled_reason: Literal["operator", "owner", "owner_deleted", "account_disabled", "quota_exceeded",
                             "expired"] | None = Field(
        description="why the client is off the data plane (null while it is on): operator / owner = switched off "
                    "by an operator (only wireguard.clients.write lifts it) or by its owner; owner_deleted = kept "
                    "after its owner was deleted (keep_objects); account_disabled = its owner's account is "
                    "deactivated; quota_exceeded; expired")
    quota_bytes: int | None
    expires_at: str | None
    ipv6_pool_id: int | None
    delegated_prefix: str | None
    last_handshake: str | None
    bytes_received: int
    bytes_sent: int
    endpoint: str | None
    created_at: str | None
    updated_at: str | None


class ClientCreated(ClientOut):
    private_key: str | None
    config: str
    qr_code: str | None = Field(description="PNG data URL; null when the config is too large for a QR code")


class ClientList(BaseModel):
    clients: list[ClientOut]
    pagination: Pagination


class ImportResult(BaseModel):
    server: ServerOut
    clients_imported: int
    details: dict[str, Any] = Field(default_factory=dict)
