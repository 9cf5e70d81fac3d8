"""Binary sensors of the Thor integration."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import override

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.components.binary_sensor.const import BinarySensorDeviceClass
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import ThorConfigEntry, ThorData
from .entity import ThorConnectorEntity, ThorEntity, async_add_connector_listener

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class ThorBinarySensorEntityDescription(BinarySensorEntityDescription):
    """Describes a binary sensor of a chargebox."""

    is_on_fn: Callable[[ThorData], bool | None]


@dataclass(frozen=True, kw_only=True)
class ThorConnectorBinarySensorEntityDescription(BinarySensorEntityDescription):
    """Describes a binary sensor of a connector."""

    is_on_fn: Callable[[ThorData, int], bool | None]


CHARGEBOX_BINARY_SENSORS: tuple[ThorBinarySensorEntityDescription, ...] = (
    ThorBinarySensorEntityDescription(
        key="connected",
        translation_key="connected",
        device_class=BinarySensorDeviceClass.CONNECTIVITY,
        entity_category=EntityCategory.DIAGNOSTIC,
        is_on_fn=lambda data: data.chargebox.connected,
    ),
)

CONNECTOR_BINARY_SENSORS: tuple[ThorConnectorBinarySensorEntityDescription, ...] = (
    ThorConnectorBinarySensorEntityDescription(
        key="occupied",
        translation_key="occupied",
        is_on_fn=lambda data, connector: data.is_occupied(connector),
    ),
    ThorConnectorBinarySensorEntityDescription(
        key="reserved",
        translation_key="reserved",
        is_on_fn=lambda data, connector: (
            connector in data.chargebox.reserved_connectors
        ),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ThorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the binary sensors of a chargebox and of each of its connectors."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        ThorBinarySensorEntity(coordinator, description)
        for description in CHARGEBOX_BINARY_SENSORS
    )

    @callback
    def _add_connectors(connectors: list[int]) -> None:
        async_add_entities(
            ThorConnectorBinarySensorEntity(coordinator, description, connector)
            for connector in connectors
            for description in CONNECTOR_BINARY_SENSORS
        )

    entry.async_on_unload(async_add_connector_listener(coordinator, _add_connectors))


class ThorBinarySensorEntity(ThorEntity, BinarySensorEntity):
    """A binary sensor of a chargebox."""

    entity_description: ThorBinarySensorEntityDescription

    @property
    @override
    def is_on(self) -> bool | None:
        """Return the state of the binary sensor."""
        return self.entity_description.is_on_fn(self.coordinator.data)


class ThorConnectorBinarySensorEntity(ThorConnectorEntity, BinarySensorEntity):
    """A binary sensor of a connector."""

    entity_description: ThorConnectorBinarySensorEntityDescription

    @property
    @override
    def is_on(self) -> bool | None:
        """Return the state of the binary sensor."""
        return self.entity_description.is_on_fn(self.coordinator.data, self.connector)
