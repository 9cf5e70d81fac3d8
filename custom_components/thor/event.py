"""Event entities of the Thor integration: one per connector.

Each tells when a charge started or stopped on its connector (the session events of
`energy.py`) and when a start or stop command failed (`thor_command_failed`, see
`charge_control.py`). Polls change nothing on it: its state is the time of the last
event.
"""

from typing import Any, Final, override

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .charge_control import EVENT_COMMAND_FAILED, ThorChargeController
from .energy import SessionEvent, SessionEventType, session_signal
from .entity import ThorConnectorEntity, async_setup_chargebox_entities
from .runtime import ThorConfigEntry

PARALLEL_UPDATES = 0

EVENT_COMMAND_FAILED_TYPE: Final = "command_failed"

CHARGING_EVENT = EventEntityDescription(
    key="charging",
    translation_key="charging",
    event_types=[
        SessionEventType.CHARGING_STARTED.value,
        SessionEventType.CHARGING_STOPPED.value,
        EVENT_COMMAND_FAILED_TYPE,
    ],
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ThorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up a charging event entity for each connector of each chargebox."""
    async_setup_chargebox_entities(
        entry,
        async_add_entities,
        lambda _chargebox_id: (),
        lambda chargebox_id, connector: (
            ThorChargingEvent(entry.runtime_data.by_chargebox[chargebox_id], connector),
        ),
    )


def session_attributes(event: SessionEvent) -> dict[str, Any]:
    """Return the attributes of a session event, leaving out what is unknown."""
    attributes: dict[str, Any] = {
        "started": None if event.started is None else event.started.isoformat(),
        "ended": None if event.ended is None else event.ended.isoformat(),
        "energy": None if event.energy is None else round(event.energy, 3),
        "duration": None if event.duration is None else round(event.duration),
        "transaction": event.transaction,
        "started_by": event.started_by,
    }
    return {key: value for key, value in attributes.items() if value is not None}


class ThorChargingEvent(ThorConnectorEntity, EventEntity):
    """Charges starting and stopping, and failed commands, on a connector."""

    entity_description: EventEntityDescription
    # Its events come by signal; the coordinator only tells its availability.
    _polls_only = True

    def __init__(self, controller: ThorChargeController, connector: int) -> None:
        """Initialize the event entity of one connector."""
        super().__init__(
            controller.coordinator, controller.chargebox_id, CHARGING_EVENT, connector
        )
        self._entry_id = controller.entry.entry_id

    @override
    async def async_added_to_hass(self) -> None:
        """Follow the session events and the failed commands of the connector."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                session_signal(self._entry_id, self.chargebox_id, self.connector),
                self._async_handle_session,
            )
        )
        self.async_on_remove(
            self.hass.bus.async_listen(
                EVENT_COMMAND_FAILED,
                self._async_handle_command_failed,
                event_filter=self._is_mine,
            )
        )

    @override
    def _shown(self) -> tuple[Any, ...]:
        """Return only the availability: polls never change an event's state.

        The base class writes the state on a poll only when this changed, so an idle
        poll writes nothing; events write their state themselves.
        """
        return (self.available,)

    @callback
    def _is_mine(self, data: dict[str, Any]) -> bool:
        """Return whether a failed command concerns this connector."""
        return (
            data.get("config_entry_id") == self._entry_id
            and data.get("chargebox") == self.chargebox_id
            and data.get("connector") == self.connector
        )

    @callback
    def _async_handle_session(self, event: SessionEvent) -> None:
        """Trigger `charging_started` or `charging_stopped` for this connector."""
        self._trigger_event(str(event.type), session_attributes(event))
        self.async_write_ha_state()

    @callback
    def _async_handle_command_failed(self, event: Event[dict[str, Any]]) -> None:
        """Trigger `command_failed` with the command and the reason."""
        attributes: dict[str, Any] = {
            key: str(value)
            for key in ("command", "reason")
            if (value := event.data.get(key)) is not None
        }
        if isinstance(retry_after := event.data.get("retry_after"), int):
            attributes["retry_after"] = retry_after
        self._trigger_event(EVENT_COMMAND_FAILED_TYPE, attributes)
        self.async_write_ha_state()
