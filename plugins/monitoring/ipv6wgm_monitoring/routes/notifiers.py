"""/monitoring/notifiers: where alerts go besides the channel and the log (admins only).

URLs and webhook secrets are encrypted at rest and never shown again: a list shows the URL's
scheme, host and path only, and the generated secret appears once, in the creation answer.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any
from urllib.parse import urlsplit

from quart import Blueprint
from quart_schema import document_response, validate_request
from tortoise.exceptions import IntegrityError

from ipv6wgm.api import Envelope, MessageEnvelope, PageQuery, conflict, invalid, iso, not_found, ok, paginate
from ipv6wgm.runtime import current
from ipv6wgm.security.rbac import require
from ipv6wgm_monitoring.models import Notifier
from ipv6wgm_monitoring.notify import SECRET_AAD, URL_AAD, DeliveryFailed, deliver, record
from ipv6wgm_monitoring.schemas import (
    DeliveryResult,
    NotifierCreate,
    NotifierCreated,
    NotifierList,
    NotifierOut,
    NotifierUpdate,
)

bp = Blueprint("monitoring_notifiers", __name__)


def notifier_out(n: Notifier) -> dict[str, Any]:
    return {"id": n.id, "name": n.name, "kind": n.kind, "url": n.url_hint, "min_level": n.min_level,
            "enabled": n.enabled, "has_secret": bool(n.secret_enc), "last_attempt_at": iso(n.last_attempt_at),
            "last_status": n.last_status, "last_error": n.last_error, "created_at": iso(n.created_at),
            "updated_at": iso(n.updated_at)}


def check_url(kind: str, url: str) -> str:
    """The URL's redacted form; 422 if the target cannot work."""
    if kind == "webhook":
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise invalid("url", "a webhook URL is http:// or https:// with a host")
        if parts.username or parts.password:
            raise invalid("url", "credentials in a webhook URL are not supported: use the HMAC secret")
        try:
            port = parts.port
        except ValueError:
            raise invalid("url", "invalid port") from None
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        return f"{parts.scheme}://{host}{f':{port}' if port else ''}{parts.path}"[:255]
    import apprise

    if apprise.Apprise.instantiate(url) is None:
        raise invalid("url", "apprise does not accept this URL (see the apprise documentation for its forms)")
    return f"{urlsplit(url).scheme}://…"


async def _notifier(notifier_id: int) -> Notifier:
    notifier = await Notifier.filter(id=notifier_id).first()
    if notifier is None:
        raise not_found("notifier")
    return notifier


@bp.get("/notifiers")
@require("monitoring.notifiers")
@document_response(Envelope[NotifierList])
async def list_notifiers():
    """Every alert target with the outcome of its last delivery."""
    rows, page = await paginate(Notifier.all().order_by("id"), PageQuery(size=100))
    return ok({"notifiers": [notifier_out(n) for n in rows], "pagination": page})


@bp.post("/notifiers")
@require("monitoring.notifiers")
@validate_request(NotifierCreate)
@document_response(Envelope[NotifierCreated], 201)
async def create_notifier(data: NotifierCreate):
    """Add a webhook (JSON POST signed with HMAC-SHA256; the secret is generated when not given
    and shown only here) or an apprise target (e-mail, chat). 409 if the name is taken."""
    hint = check_url(data.kind, data.url)
    if data.kind != "webhook" and data.secret is not None:
        raise invalid("secret", "only webhooks are signed")
    secret = (data.secret or secrets.token_urlsafe(32)) if data.kind == "webhook" else None
    box = current().secrets
    try:
        notifier = await Notifier.create(
            name=data.name, kind=data.kind, url_enc=box.encrypt(data.url, aad=URL_AAD), url_hint=hint,
            secret_enc=box.encrypt(secret, aad=SECRET_AAD) if secret else None, min_level=data.min_level,
            enabled=data.enabled)
    except IntegrityError:
        raise conflict(f"a notifier named {data.name!r} exists", field="name") from None
    return ok({**notifier_out(notifier), "secret": secret}, "notifier created", 201)


@bp.get("/notifiers/<int:notifier_id>")
@require("monitoring.notifiers")
@document_response(Envelope[NotifierOut])
async def get_notifier(notifier_id: int):
    """One target (URL redacted)."""
    return ok(notifier_out(await _notifier(notifier_id)))


@bp.put("/notifiers/<int:notifier_id>")
@require("monitoring.notifiers")
@validate_request(NotifierUpdate)
@document_response(Envelope[NotifierOut])
async def update_notifier(notifier_id: int, data: NotifierUpdate):
    """Change name, URL, secret (webhooks), minimum level or enabled."""
    notifier = await _notifier(notifier_id)
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if v is not None}
    box = current().secrets
    if "url" in changes:
        url = changes.pop("url")
        changes.update(url_hint=check_url(notifier.kind, url), url_enc=box.encrypt(url, aad=URL_AAD))
    if "secret" in changes:
        if notifier.kind != "webhook":
            raise invalid("secret", "only webhooks are signed")
        changes["secret_enc"] = box.encrypt(changes.pop("secret"), aad=SECRET_AAD)
    if "name" in changes and await Notifier.filter(name=changes["name"]).exclude(id=notifier_id).exists():
        raise conflict(f"a notifier named {changes['name']!r} exists", field="name")
    if changes:
        try:
            await Notifier.filter(id=notifier_id).update(**changes)
        except IntegrityError:
            raise conflict(f"a notifier named {changes.get('name')!r} exists", field="name") from None
    return ok(notifier_out(await _notifier(notifier_id)), "notifier updated")


@bp.delete("/notifiers/<int:notifier_id>")
@require("monitoring.notifiers")
@document_response(MessageEnvelope)
async def delete_notifier(notifier_id: int):
    """Remove a target; queued deliveries to it are dropped."""
    await _notifier(notifier_id)
    await Notifier.filter(id=notifier_id).delete()
    return ok(None, "notifier deleted")


@bp.post("/notifiers/<int:notifier_id>/test")
@require("monitoring.notifiers")
@document_response(Envelope[DeliveryResult])
async def test_notifier(notifier_id: int):
    """Send one ``test`` notification now (one attempt, no retry) and say how it went."""
    notifier = await _notifier(notifier_id)
    body = {"event": "test", "alert": None}
    try:
        await deliver(notifier, "test", body, uuid.uuid4().hex)
    except DeliveryFailed as exc:
        await record(notifier_id, str(exc))
        return ok({"delivered": False, "error": str(exc)})
    await record(notifier_id, None)
    return ok({"delivered": True, "error": None})
