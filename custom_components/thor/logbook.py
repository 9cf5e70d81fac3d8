"""Describe Thor events in the logbook: commands the chargebox did not carry out.

Logbook messages are English only: Home Assistant does not translate them.
"""

from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol

from homeassistant.components.logbook.const import (
    LOGBOOK_ENTRY_ENTITY_ID,
    LOGBOOK_ENTRY_MESSAGE,
    LOGBOOK_ENTRY_NAME,
)
from homeassistant.components.switch.const import DOMAIN as SWITCH_DOMAIN
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr, entity_registry as er

from .charge_control import EVENT_COMMAND_FAILED, ChargeCommand, FailureReason
from .const import DOMAIN

_COMMANDS: Final[dict[str, str]] = {
    ChargeCommand.START: "start charging",
    ChargeCommand.STOP: "stop charging",
}

_REASONS: Final[dict[str, str]] = {
    FailureReason.NOT_CONFIRMED: (
        "Thor accepted it, but the chargebox did not confirm it in time"
    ),
    FailureReason.NO_ANSWER: "Thor did not answer; the charge may have started anyway",
    FailureReason.STOP_FAILED: (
        "the stop was refused once the charge began; the charge goes on"
    ),
    FailureReason.REJECTED: "the chargebox rejected it",
    FailureReason.RATE_LIMITED: "Thor is throttling commands",
}


class _LogbookEvent(Protocol):
    """What the logbook hands to a describe callback (an event or a stored row)."""

    @property
    def data(self) -> Mapping[str, Any]:
        """Return the event data."""


def describe_failure(data: Mapping[str, Any]) -> str:
    """Return a readable message for the data of a `thor_command_failed` event."""
    command = data.get("command")
    action = _COMMANDS.get(str(command), f"run the {command} command")
    reason = data.get("reason")
    why = _REASONS.get(str(reason), f"failed ({reason})")
    if isinstance(retry_after := data.get("retry_after"), int):
        why = f"{why}; try again in {retry_after} s"
    return f"could not {action} on connector {data.get('connector')}: {why}"


@callback
def async_describe_events(
    hass: HomeAssistant,
    async_describe_event: Callable[
        [str, str, Callable[[_LogbookEvent], dict[str, str]]], None
    ],
) -> None:
    """Describe `thor_command_failed` in the logbook."""
    device_registry = dr.async_get(hass)
    entity_registry = er.async_get(hass)

    @callback
    def async_describe_command_failed(event: _LogbookEvent) -> dict[str, str]:
        """Name the chargebox, say what failed and link the connector's switch."""
        data = event.data
        chargebox = str(data.get("chargebox"))
        device = (
            device_registry.async_get_device_by_identifier(
                (DOMAIN, chargebox), entry_id
            )
            if isinstance(entry_id := data.get("config_entry_id"), str)
            else None
        )
        name = (device.name_by_user or device.name) if device is not None else None
        description = {
            LOGBOOK_ENTRY_NAME: name or chargebox,
            LOGBOOK_ENTRY_MESSAGE: describe_failure(data),
        }
        if entity_id := entity_registry.async_get_entity_id(
            SWITCH_DOMAIN, DOMAIN, f"{chargebox}_{data.get('connector')}_charging"
        ):
            description[LOGBOOK_ENTRY_ENTITY_ID] = entity_id
        return description

    async_describe_event(DOMAIN, EVENT_COMMAND_FAILED, async_describe_command_failed)
