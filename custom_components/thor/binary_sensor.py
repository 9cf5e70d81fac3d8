"""Binary sensors of the Thor integration."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import override

from homeassistant.components.binary_sensor import (
    BinarySensorDeviceClass,
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .data import ThorData
from .entity import ThorConnectorEntity, ThorEntity, async_setup_chargebox_entities
from .runtime import ThorConfigEntry

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
    """Set up the binary sensors of each chargebox and of each of its connectors."""
    coordinator = entry.runtime_data.coordinator
    async_setup_chargebox_entities(
        entry,
        async_add_entities,
        lambda chargebox_id: (
            ThorBinarySensorEntity(coordinator, chargebox_id, description)
            for description in CHARGEBOX_BINARY_SENSORS
        ),
        lambda chargebox_id, connector: (
            ThorConnectorBinarySensorEntity(
                coordinator, chargebox_id, description, connector
            )
            for description in CONNECTOR_BINARY_SENSORS
        ),
    )


class ThorBinarySensorEntity(ThorEntity, BinarySensorEntity):
    """A binary sensor of a chargebox, as the chargebox list describes it."""

    entity_description: ThorBinarySensorEntityDescription
    _polls_only = True

    @property
    @override
    def is_on(self) -> bool | None:
        """Return the state of the binary sensor."""
        if (reading := self.reading) is None:
            return None
        return self.entity_description.is_on_fn(reading)


class ThorConnectorBinarySensorEntity(ThorConnectorEntity, BinarySensorEntity):
    """A binary sensor of a connector."""

    entity_description: ThorConnectorBinarySensorEntityDescription

    @property
    @override
    def is_on(self) -> bool | None:
        """Return the state of the binary sensor."""
        if (reading := self.reading) is None:
            return None
        return self.entity_description.is_on_fn(reading, self.connector)
