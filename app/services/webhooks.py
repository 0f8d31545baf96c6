"""Signed webhooks fed by the change feed.

Design: a dispatcher *follows the change feed* once per webhook, from the
webhook's stored position (``Webhook.last_change_id``). That makes delivery
independent of the writing transactions and survives downtime of the receiver,
of the dispatcher, or of the whole service: nothing is lost, the dispatcher just
continues from where it stood. Each dispatch pass does two steps per webhook:

1. *fan-out* (one transaction): read the next events after the position, add a
   ``WebhookDelivery`` for each one the webhook subscribed to, and move the
   position, guarded by compare-and-set so two dispatchers (API process and
   ``matcher worker``) never fan out the same event twice;
2. *send*: deliveries go out strictly in order per webhook: only the oldest
   pending one is tried, and a failure blocks the ones behind it until a retry
   succeeds, so a receiver that was down gets everything, once, in order.
   A delivery is claimed with a lease (compare-and-set on ``attempts``) in a short
   transaction, POSTed with no transaction open (a slow receiver never holds
   database locks), and its outcome recorded in a second short transaction.
   Failures (non-2xx, timeouts, refused connections) retry with exponential
   backoff: ``base * 2**(attempt-1)`` seconds, capped. A crash mid-send lets the
   lease expire and the delivery is retried (at-least-once: receivers dedupe on
   ``X-Matcher-Delivery``).

Signature: ``X-Matcher-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, f"{t}.{body}")>``;
``verify_signature`` is the reference check for receivers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.db import rowcount
from app.domain.enums import ChangeKind, DeliveryStatus, EntityType
from app.errors import invalid, msg
from app.models import ChangeEvent, Webhook, WebhookDelivery
from app.models.base import table_of, utcnow
from app.services.changes import latest_change_id
from app.services.crud import apply_changes, get_scoped
from app.services.identity import Caller
from app.services.pagination import Page, paginate
from app.settings import WebhookSettings

log = logging.getLogger("app.webhooks")

EVENT_TYPES = ("run.published", "run.changed", "assignment.changed", "demand.changed", "duty_record.changed")
_ENTITY_EVENT = {
    EntityType.DEMAND: "demand.changed",
    EntityType.ASSIGNMENT: "assignment.changed",
    EntityType.DUTY_RECORD: "duty_record.changed",
    EntityType.OPTIMIZATION_RUN: "run.changed",
}
DELIVERY_STATUSES = tuple(DeliveryStatus)
SIGNATURE_HEADER = "X-Matcher-Signature"


# --------------------------------------------------------------------------- signing


def generate_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``X-Matcher-Signature`` value for ``body`` sent at ``timestamp``."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={_digest(secret, t, body)}"


def verify_signature(
    secret: str, header: str | None, body: bytes | str, tolerance_s: int = 300, now: float | None = None
) -> bool:
    """True if ``header`` is a valid signature of ``body`` by ``secret``, made within
    ``tolerance_s`` seconds of ``now`` (replay protection). Accepts several ``v1=``."""
    if not header:
        return False
    raw = body.encode() if isinstance(body, str) else body
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates:
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    expected = _digest(secret, timestamp, raw)
    return any(hmac.compare_digest(expected, c) for c in candidates)


# --------------------------------------------------------------------------- registration


def check_url(url: str) -> str:
    """Only absolute http(s) URLs with a host: anything else could never be delivered."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or any(ch.isspace() for ch in url):
        raise ValueError("must be an absolute http:// or https:// URL with a host")
    return url


def create_webhook(session: Session, caller: Caller, *, data: dict[str, Any]) -> Webhook:
    """Starts at the current end of the feed: a new webhook gets changes from now on."""
    hook = Webhook(
        district_id=caller.district_id,
        url=data["url"],
        description=data.get("description"),
        event_types=list(data["event_types"]),
        active=data.get("active", True),
        secret=data.get("secret") or generate_secret(),
        last_change_id=latest_change_id(session, district_id=caller.district_id),
    )
    session.add(hook)
    session.flush()
    return hook


def get_webhook(session: Session, caller: Caller, *, webhook_id: int) -> Webhook:
    return get_scoped(session, model=Webhook, obj_id=webhook_id, caller=caller, what="webhook")


def list_webhooks(
    session: Session, caller: Caller, *, active: bool | None, cursor: str | None, limit: int
) -> Page[Webhook]:
    stmt = select(Webhook).where(Webhook.district_id == caller.district_id)
    if active is not None:
        stmt = stmt.where(Webhook.active.is_(active))
    return paginate(session, stmt=stmt, id_column=Webhook.id, cursor=cursor, limit=limit)


def update_webhook(
    session: Session, caller: Caller, *, webhook_id: int, changes: dict[str, Any], if_match: str | None
) -> Webhook:
    """PATCH; re-activating resumes from the stored position (nothing missed meanwhile is lost)."""
    hook = get_webhook(session, caller, webhook_id=webhook_id)
    if "event_types" in changes and changes["event_types"] is not None:
        changes["event_types"] = list(changes["event_types"])
    apply_changes(hook, changes, if_match)
    session.flush()
    return hook


def list_deliveries(
    session: Session, caller: Caller, *, webhook_id: int, status: str | None, cursor: str | None, limit: int
) -> Page[WebhookDelivery]:
    get_webhook(session, caller, webhook_id=webhook_id)
    stmt = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    if status is not None:
        if status not in DELIVERY_STATUSES:
            raise invalid("status", msg("one_of", values=", ".join(DELIVERY_STATUSES)))
        stmt = stmt.where(WebhookDelivery.status == status)
    return paginate(session, stmt=stmt, id_column=WebhookDelivery.id, cursor=cursor, limit=limit)


# --------------------------------------------------------------------------- dispatch


def event_types_of(change: ChangeEvent) -> list[str]:
    kinds = [_ENTITY_EVENT[change.entity_type]] if change.entity_type in _ENTITY_EVENT else []
    if change.entity_type == EntityType.OPTIMIZATION_RUN and change.change_kind == ChangeKind.PUBLISHED:
        kinds.append("run.published")
    return kinds


def _aware(value: datetime) -> datetime:
    """SQLite hands timestamps back naive; they were stored in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _change_payload(change: ChangeEvent) -> dict[str, Any]:
    return {
        "cursor": str(change.id),
        "entity_type": change.entity_type,
        "entity_id": change.entity_id,
        "change_kind": change.change_kind,
        "area_id": change.area_id,
        "state": change.state,
        "changed_at": _aware(change.created_at).isoformat(),
    }


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """The exact bytes POSTed (and signed); identical on every retry."""
    doc = {"id": delivery.id, "type": delivery.event_type, "data": delivery.payload}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


@dataclass
class DispatchResult:
    queued: int = 0  # deliveries created from change events
    delivered: int = 0
    failed_attempts: int = 0


def _fan_out(session_factory: sessionmaker[Session], webhook_id: int, now: datetime, cfg: WebhookSettings) -> int:
    with session_factory() as s:
        hook = s.get(Webhook, webhook_id)
        if hook is None or not hook.active:
            return 0
        start = hook.last_change_id
        events = list(
            s.scalars(
                select(ChangeEvent)
                .where(
                    ChangeEvent.district_id == hook.district_id,
                    ChangeEvent.id > start,
                )
                .order_by(ChangeEvent.id)
                .limit(cfg.batch_size)
            )
        )
        if not events:
            return 0
        table = table_of(Webhook)
        moved = s.execute(
            update(table)
            .where(table.c.id == webhook_id, table.c.last_change_id == start)
            .values(last_change_id=events[-1].id, updated_at=table.c.updated_at)
        )
        if rowcount(moved) != 1:  # another dispatcher fanned these out first
            s.rollback()
            return 0
        wanted = set(hook.event_types or ())
        queued = 0
        for change in events:
            for event_type in event_types_of(change):
                if event_type in wanted:
                    s.add(
                        WebhookDelivery(
                            webhook_id=webhook_id,
                            change_id=change.id,
                            event_type=event_type,
                            payload=_change_payload(change),
                            status=DeliveryStatus.PENDING,
                            attempts=0,
                            next_attempt_at=now,
                        )
                    )
                    queued += 1
        s.commit()
        return queued


@dataclass
class _Claim:
    delivery_id: int
    attempt: int
    url: str
    secret: str
    event_type: str
    body: bytes


def _claim_head(
    session_factory: sessionmaker[Session], webhook_id: int, now: datetime, cfg: WebhookSettings
) -> _Claim | None:
    with session_factory() as s:
        hook = s.get(Webhook, webhook_id)
        if hook is None or not hook.active:
            return None
        head = s.scalars(
            select(WebhookDelivery)
            .where(
                WebhookDelivery.webhook_id == webhook_id,
                WebhookDelivery.status == DeliveryStatus.PENDING,
            )
            .order_by(WebhookDelivery.id)
            .limit(1)
        ).first()
        if head is None or (head.next_attempt_at is not None and _aware(head.next_attempt_at) > now):
            return None
        table = table_of(WebhookDelivery)
        claimed = s.execute(
            update(table)
            .where(
                table.c.id == head.id,
                table.c.attempts == head.attempts,
                table.c.status == DeliveryStatus.PENDING,
            )
            .values(attempts=head.attempts + 1, next_attempt_at=now + timedelta(seconds=cfg.lease_s), updated_at=now)
        )
        if rowcount(claimed) != 1:
            s.rollback()
            return None
        s.commit()
        return _Claim(head.id, head.attempts + 1, hook.url, hook.secret, head.event_type, delivery_body(head))


def _post(client: httpx.Client, claim: _Claim) -> tuple[int | None, str | None]:
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "matcher-webhooks/1",
        "X-Matcher-Event": claim.event_type,
        "X-Matcher-Delivery": str(claim.delivery_id),
        "X-Matcher-Attempt": str(claim.attempt),
        SIGNATURE_HEADER: sign(claim.secret, claim.body),
    }
    try:
        response = client.post(claim.url, content=claim.body, headers=headers)
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:1000]
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, f"HTTP {response.status_code}: {response.text[:200]}"


def _record(
    session_factory: sessionmaker[Session],
    claim: _Claim,
    code: int | None,
    error: str | None,
    now: datetime,
    cfg: WebhookSettings,
) -> str:
    """Store the outcome; returns the delivery's new status (pending = will retry)."""
    ok = error is None
    status = DeliveryStatus.PENDING
    values: dict[str, Any] = {"last_status_code": code, "last_error": error, "updated_at": now}
    if ok:
        status = DeliveryStatus.DELIVERED
        values.update(status=status, delivered_at=now, next_attempt_at=None)
    elif cfg.max_attempts and claim.attempt >= cfg.max_attempts:
        status = DeliveryStatus.FAILED  # given up: the next delivery may go
        values.update(status=status, next_attempt_at=None)
    else:
        values.update(next_attempt_at=now + cfg.backoff(claim.attempt))
    table = table_of(WebhookDelivery)
    with session_factory() as s:
        s.execute(
            update(table)
            .where(
                table.c.id == claim.delivery_id,
                table.c.attempts == claim.attempt,
                table.c.status == DeliveryStatus.PENDING,
            )
            .values(**values)
        )
        s.commit()
    return status


def dispatch_once(
    session_factory: sessionmaker[Session],
    now: datetime | None = None,
    config: WebhookSettings | None = None,
    client: httpx.Client | None = None,
) -> DispatchResult:
    """One pass over every active webhook: fan out new change events, then send what is due.

    ``now`` drives scheduling (due times, backoff), so tests can step through time
    without sleeping; the signature timestamp is always the real clock.
    """
    cfg = config or WebhookSettings()
    now = now or utcnow()
    result = DispatchResult()
    with session_factory() as s:
        hook_ids = list(s.scalars(select(Webhook.id).where(Webhook.active.is_(True)).order_by(Webhook.id)))
    own_client = client is None
    client = client or httpx.Client(timeout=cfg.timeout_s, follow_redirects=False)
    try:
        for hook_id in hook_ids:
            for _ in range(10):  # catch up in batches, but leave time for the other webhooks
                queued = _fan_out(session_factory, hook_id, now, cfg)
                result.queued += queued
                if queued < cfg.batch_size:
                    break
            for _ in range(cfg.batch_size):
                claim = _claim_head(session_factory, hook_id, now, cfg)
                if claim is None:
                    break
                code, error = _post(client, claim)
                status = _record(session_factory, claim, code, error, now, cfg)
                if status == DeliveryStatus.DELIVERED:
                    result.delivered += 1
                    continue
                result.failed_attempts += 1
                log.info(
                    "webhook %s delivery %s attempt %s failed (%s): %s",
                    hook_id,
                    claim.delivery_id,
                    claim.attempt,
                    status,
                    error,
                )
                if status == DeliveryStatus.PENDING:
                    break  # in order: the rest waits behind the one being retried
    finally:
        if own_client:
            client.close()
    return result


def start_dispatcher(url: str, config: WebhookSettings | None = None) -> Callable[[], None]:
    """Run ``dispatch_once`` in a daemon thread every ``interval_s``; returns ``stop()``.

    Safe to run in several processes at once (API and ``matcher worker``): the
    compare-and-set guards above make each event go out once per webhook. With
    ``MATCHER_WEBHOOK_ENABLED=false`` nothing is started and ``stop()`` does nothing.
    """
    from app.db import get_sessionmaker

    cfg = config or WebhookSettings()
    if not cfg.enabled:
        return lambda: None
    factory = get_sessionmaker(url)
    stopping = threading.Event()

    def _loop() -> None:
        with httpx.Client(timeout=cfg.timeout_s, follow_redirects=False) as client:
            while not stopping.is_set():
                try:
                    dispatch_once(factory, config=cfg, client=client)
                except Exception:  # noqa: BLE001 - the loop must survive a bad pass (DB restart, ...)
                    log.exception("webhook dispatch pass failed")
                stopping.wait(cfg.interval_s)

    thread = threading.Thread(target=_loop, name="webhook-dispatcher", daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        thread.join(timeout=cfg.timeout_s + 5)

    return stop
