"""ClickUp webhooks: registering one for a trigger, removing it, reading its health, and what a
signed delivery means.

``POST /team/{team_id}/webhook`` with the endpoint, the events and the narrowest scope the
trigger names (``list_id``, else ``space_id``, else the whole Workspace) answers the webhook
with its ``secret``; each delivery carries ``X-Signature``, the hex HMAC-SHA256 of the raw
body with that secret. ClickUp marks a webhook ``failing`` after failed deliveries and
``suspended`` after 100 (or at once on a 410), and sends it nothing more — the hub registers
it again (see ``hub.engine.subscriptions``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from integrations.base import Context, IntegrationError

EVENTS = ("taskCreated", "taskUpdated", "taskStatusUpdated")
UNHEALTHY = frozenset({"failing", "suspended"})
TRIGGER_EVENTS = {
    "new_task": frozenset({"taskCreated"}),
    "task_updated": frozenset({"taskUpdated", "taskStatusUpdated"}),
}


@dataclass(frozen=True)
class Registration:
    webhook_id: str
    secret: str


def scope_of(config: Mapping[str, Any]) -> dict[str, str]:
    """The Workspace and the narrowest place the trigger watches."""
    scope = {"team_id": str(config.get("workspace") or "").strip()}
    for key, field in (("list", "list_id"), ("space", "space_id")):
        value = str(config.get(key) or "").strip()
        if value:
            scope[field] = value
            break
    return scope


def register(ctx: Context, endpoint: str) -> Registration:
    scope = scope_of(ctx.config)
    team_id = scope.pop("team_id")
    if not team_id:
        raise IntegrationError("Choose the ClickUp Workspace to watch.", permanent=True)
    body: dict[str, Any] = {"endpoint": endpoint, "events": list(EVENTS)}
    body.update({key: int(value) if value.isdigit() else value for key, value in scope.items()})
    answer = ctx.client().post(f"team/{team_id}/webhook", body)
    hook = answer.get("webhook") or {}
    webhook_id = str(answer.get("id") or hook.get("id") or "")
    secret = str(hook.get("secret") or "")
    if not webhook_id or not secret:
        raise IntegrationError("ClickUp did not return the webhook and its secret.")
    return Registration(webhook_id, secret)


def delete(ctx: Context, webhook_id: str) -> None:
    """Remove the webhook; one ClickUp no longer has is as good as removed."""
    try:
        ctx.client().request("DELETE", f"webhook/{webhook_id}")
    except IntegrationError as error:
        if not error.permanent:
            raise


@dataclass(frozen=True)
class Health:
    status: str  # active, failing, suspended
    endpoint: str


def health(ctx: Context, team_id: str) -> dict[str, Health]:
    """Each webhook of the Workspace by id: its health status and where it delivers."""
    hooks = ctx.client().get(f"team/{team_id}/webhook").get("webhooks") or []
    return {
        str(h.get("id")): Health(
            str((h.get("health") or {}).get("status") or "active"), str(h.get("endpoint") or "")
        )
        for h in hooks
    }


def signed(secret: str, body: bytes, signature: str) -> bool:
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.strip().lower().encode())


def _history(delivery: Mapping[str, Any]) -> list[dict[str, Any]]:
    items = delivery.get("history_items")
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def status_name(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("status")
    return str(value or "").strip().lower()


def matches(trigger: str, config: Mapping[str, Any], delivery: Mapping[str, Any]) -> bool:
    if delivery.get("event") not in TRIGGER_EVENTS.get(trigger, ()):
        return False
    wanted = status_name(config.get("status_changed_to"))
    if trigger != "task_updated" or not wanted:
        return True
    return any(
        i.get("field") == "status" and status_name(i.get("after")) == wanted
        for i in _history(delivery)
    )


def item_id(delivery: Mapping[str, Any]) -> str:
    """The delivery's identity for deduping: its first history item's id, which ClickUp
    repeats when it retries (and in the taskUpdated and taskStatusUpdated deliveries of one
    change); else the event, task and time."""
    history = _history(delivery)
    if history and history[0].get("id"):
        return f"h{history[0]['id']}"
    date = history[0].get("date") if history else delivery.get("date", "")
    return f"{delivery.get('event')}:{delivery.get('task_id')}:{date}"


def event_data(delivery: Mapping[str, Any]) -> dict[str, Any]:
    """What the delivery says, kept until the run fetches the task (``resolved`` False)."""
    change = next((i for i in _history(delivery) if i.get("field") == "status"), None)
    first = _history(delivery)[:1]
    return {
        "resolved": False,
        "event": str(delivery.get("event") or ""),
        "task_id": str(delivery.get("task_id") or ""),
        "changed_field": str(first[0].get("field") or "") if first else "",
        "previous_status": status_name(change.get("before")) if change else "",
    }
