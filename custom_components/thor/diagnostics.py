"""Diagnostics of the Thor integration."""

from dataclasses import asdict, is_dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.const import CONF_API_KEY, CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant

from .const import CONF_BASE_URL
from .runtime import ThorConfigEntry

TO_REDACT = {
    CONF_API_KEY,
    CONF_WEBHOOK_ID,
    CONF_BASE_URL,
    "coordinates",
    "id_tag",
    "terminal_id",
    "token",
    "transaction",
    "user",
    "users",
}


def _plain(value: Any) -> Any:
    """Return `value` as JSON-like data the redaction can walk through."""
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _data(data: Any) -> Any:
    """Return a reading, redacted; a running charge's `id` is its transaction number."""
    plain = async_redact_data(_plain(data), TO_REDACT)
    for charge in plain.get("charges", {}).values():
        if charge.get("id") is not None:
            charge["id"] = REDACTED
    return plain


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: ThorConfigEntry
) -> dict[str, Any]:
    """Return diagnostics for an account entry and each of its chargeboxes."""
    runtime = entry.runtime_data
    coordinator = runtime.coordinator
    return {
        "entry": {
            "title": entry.title,
            "version": entry.version,
            "data": async_redact_data(dict(entry.data), TO_REDACT),
            "options": async_redact_data(dict(entry.options), TO_REDACT),
            "chargeboxes": [
                {"title": subentry.title, **subentry.data}
                for subentry in entry.subentries.values()
            ],
        },
        "coordinator": {
            "last_update_success": coordinator.last_update_success,
            "update_interval": (
                coordinator.update_interval.total_seconds()
                if coordinator.update_interval
                else None
            ),
            "listed_chargeboxes": len(coordinator.data.chargeboxes),
        },
        "push": {
            "enabled": runtime.push.enabled,
            "healthy": coordinator.push_healthy,
            "notifications_received": coordinator.push_watch.received,
            "notifications_refused": runtime.push.rejected,
            "last_notification": None
            if coordinator.push_watch.last is None
            else coordinator.push_watch.last.isoformat(),
        },
        "chargeboxes": {
            controller.chargebox_id: {
                "data": None
                if (reading := controller.reading) is None
                else _data(
                    {"chargebox": reading.chargebox, "charges": reading.charges}
                ),
                "charge_control": async_redact_data(
                    controller.as_diagnostics(), TO_REDACT
                ),
                "energy": runtime.energy.as_diagnostics(controller.chargebox_id),
            }
            for controller in runtime.controllers.values()
        },
    }
