"""Base entities of the Thor integration."""

from collections.abc import Callable
from typing import Any, override

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import ThorDataUpdateCoordinator
from .thor_api import ChargeboxType, Connector, Vehicle

MANUFACTURER = "Thor"

_VEHICLES: dict[str, str] = {Vehicle.CAR: "Car", Vehicle.BICYCLE: "Bicycle"}


def device_model(box_type: ChargeboxType) -> str | None:
    """Return a model such as "Car chargebox, OCPP 1.6 JSON"."""
    parts: list[str] = []
    if box_type.vehicle is not None:
        vehicle = _VEHICLES.get(box_type.vehicle, str(box_type.vehicle))
        parts.append(f"{vehicle} chargebox")
    if box_type.version is not None or box_type.msg is not None:
        ocpp = " ".join(
            part
            for part in ("OCPP", box_type.version, (box_type.msg or "").upper())
            if part
        )
        parts.append(ocpp)
    return ", ".join(parts) or None


class ThorEntity(CoordinatorEntity[ThorDataUpdateCoordinator]):
    """An entity of one Thor chargebox.

    It writes its state only when what it shows changed: polls of an idle charger
    leave the state machine, and so the recorder, alone.
    """

    _attr_has_entity_name = True

    def __init__(
        self, coordinator: ThorDataUpdateCoordinator, description: EntityDescription
    ) -> None:
        """Initialize the entity and its device."""
        super().__init__(coordinator)
        self.entity_description = description
        chargebox = coordinator.data.chargebox
        self._attr_unique_id = f"{coordinator.chargebox_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, coordinator.chargebox_id)},
            manufacturer=MANUFACTURER,
            model=device_model(chargebox.type),
            name=chargebox.name,
            serial_number=coordinator.chargebox_id,
        )
        self._written: tuple[Any, ...] | None = None

    def _shown(self) -> tuple[Any, ...]:
        """Return what the state machine would get from this entity now."""
        if not self.available:
            return (False,)
        return (True, self.state, self.extra_state_attributes)

    @override
    async def async_added_to_hass(self) -> None:
        """Remember the state the platform is about to write."""
        await super().async_added_to_hass()
        self._written = self._shown()

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        """Write the state only when it changed."""
        if (shown := self._shown()) == self._written:
            return
        self._written = shown
        self.async_write_ha_state()


class ThorConnectorEntity(ThorEntity):
    """An entity of one connector of a chargebox."""

    def __init__(
        self,
        coordinator: ThorDataUpdateCoordinator,
        description: EntityDescription,
        connector: int,
    ) -> None:
        """Initialize the entity; name it after its connector on multi-connector boxes."""
        super().__init__(coordinator, description)
        self.connector = connector
        self._attr_unique_id = (
            f"{coordinator.chargebox_id}_{connector}_{description.key}"
        )
        if len(coordinator.data.chargebox.connectors) > 1:
            self._attr_translation_key = f"connector_{description.translation_key}"
            self._attr_translation_placeholders = {"connector": str(connector)}

    @property
    def connector_data(self) -> Connector | None:
        """Return the connector as last read, None if the box no longer has it."""
        return self.coordinator.data.connector(self.connector)

    @property
    @override
    def available(self) -> bool:
        """Return whether the connector was read."""
        return super().available and self.connector_data is not None


@callback
def async_add_connector_listener(
    coordinator: ThorDataUpdateCoordinator,
    add_connectors: Callable[[list[int]], None],
) -> CALLBACK_TYPE:
    """Call `add_connectors` now and whenever the chargebox reports new connectors."""
    known: set[int] = set()

    @callback
    def _check_connectors() -> None:
        numbers = {
            connector.number for connector in coordinator.data.chargebox.connectors
        }
        if new := numbers - known:
            known.update(new)
            add_connectors(sorted(new))

    _check_connectors()
    return coordinator.async_add_listener(_check_connectors)
