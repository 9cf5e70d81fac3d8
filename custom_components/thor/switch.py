"""Charging switches of the Thor integration: one per connector."""

from typing import Any, override

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .charge_control import ThorChargeController
from .entity import ThorConnectorEntity, async_setup_chargebox_entities
from .runtime import ThorConfigEntry

PARALLEL_UPDATES = 1

CHARGING_SWITCH = SwitchEntityDescription(key="charging", translation_key="charging")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ThorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up a charging switch for each connector of each chargebox."""
    async_setup_chargebox_entities(
        entry,
        async_add_entities,
        lambda _chargebox_id: (),
        lambda chargebox_id, connector: (
            ThorChargingSwitch(
                entry.runtime_data.by_chargebox[chargebox_id], connector
            ),
        ),
    )


class ThorChargingSwitch(ThorConnectorEntity, SwitchEntity):
    """Starts and stops charging on a connector.

    On while a transaction runs. After a command it shows the requested state until
    Thor confirms it or the confirmation window passes (see `charge_control`). Turning
    it on while it is on, or off while it is off, sends nothing.
    """

    def __init__(self, controller: ThorChargeController, connector: int) -> None:
        """Initialize the switch of one connector."""
        super().__init__(
            controller.coordinator, controller.chargebox_id, CHARGING_SWITCH, connector
        )
        self._controller = controller

    @property
    @override
    def is_on(self) -> bool:
        """Return whether the connector charges, or is about to after a command."""
        return self._controller.is_on(self.connector)

    @override
    async def async_turn_on(self, **kwargs: Any) -> None:
        """Start charging, unless it is on or about to be (decided under the lock)."""
        await self._controller.async_start(self.connector, skip_if_on=True)

    @override
    async def async_turn_off(self, **kwargs: Any) -> None:
        """Stop charging, unless it is off or about to be (decided under the lock)."""
        await self._controller.async_stop(self.connector, skip_if_off=True)
