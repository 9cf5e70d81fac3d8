"""Sensors of the Thor integration."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    EntityCategory,
    UnitOfElectricCurrent,
    UnitOfEnergy,
    UnitOfPower,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import ThorData
from .entity import ThorConnectorEntity, ThorEntity, async_setup_chargebox_entities
from .runtime import ThorConfigEntry
from .thor_api import Connector, ConnectorFormat, ConnectorType, PowerType

PARALLEL_UPDATES = 0

type SensorValue = str | int | float | datetime | None


def _option(value: StrEnum | str | None) -> str | None:
    """Return an enum value of Thor as a state: lower case, raw if unknown."""
    return None if value is None else str(value).lower()


def _options(enum: type[StrEnum]) -> list[str]:
    """Return the states of a Thor enum."""
    return [member.value.lower() for member in enum]


@dataclass(frozen=True, kw_only=True)
class ThorSensorEntityDescription(SensorEntityDescription):
    """Describes a sensor of a chargebox."""

    value_fn: Callable[[ThorData], SensorValue]


@dataclass(frozen=True, kw_only=True)
class ThorConnectorSensorEntityDescription(SensorEntityDescription):
    """Describes a sensor of a connector."""

    value_fn: Callable[[ThorData, Connector], SensorValue]


CHARGEBOX_SENSORS: tuple[ThorSensorEntityDescription, ...] = (
    ThorSensorEntityDescription(
        key="last_heartbeat",
        translation_key="last_heartbeat",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        # A connected box beats every few minutes: enabled, it fills the recorder.
        entity_registry_enabled_default=False,
        value_fn=lambda data: data.chargebox.last_heartbeat,
    ),
)

CONNECTOR_SENSORS: tuple[ThorConnectorSensorEntityDescription, ...] = (
    ThorConnectorSensorEntityDescription(
        key="session_energy",
        translation_key="session_energy",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.WATT_HOUR,
        suggested_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda data, connector: (
            charge.energy
            if (charge := data.charges.get(connector.number)) is not None
            else None
        ),
    ),
    ThorConnectorSensorEntityDescription(
        key="session_started",
        translation_key="session_started",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda data, connector: (
            charge.date_started
            if (charge := data.charges.get(connector.number)) is not None
            else None
        ),
    ),
    ThorConnectorSensorEntityDescription(
        key="rated_power",
        translation_key="rated_power",
        device_class=SensorDeviceClass.POWER,
        entity_category=EntityCategory.DIAGNOSTIC,
        native_unit_of_measurement=UnitOfPower.WATT,
        value_fn=lambda _, connector: connector.power,
    ),
    ThorConnectorSensorEntityDescription(
        key="max_current",
        translation_key="max_current",
        device_class=SensorDeviceClass.CURRENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
        value_fn=lambda _, connector: connector.max_amperage,
    ),
    ThorConnectorSensorEntityDescription(
        key="plug_type",
        translation_key="plug_type",
        device_class=SensorDeviceClass.ENUM,
        entity_category=EntityCategory.DIAGNOSTIC,
        options=_options(ConnectorType),
        value_fn=lambda _, connector: _option(connector.type),
    ),
    ThorConnectorSensorEntityDescription(
        key="plug_format",
        translation_key="plug_format",
        device_class=SensorDeviceClass.ENUM,
        entity_category=EntityCategory.DIAGNOSTIC,
        options=_options(ConnectorFormat),
        value_fn=lambda _, connector: _option(connector.format),
    ),
    ThorConnectorSensorEntityDescription(
        key="power_type",
        translation_key="power_type",
        device_class=SensorDeviceClass.ENUM,
        entity_category=EntityCategory.DIAGNOSTIC,
        options=_options(PowerType),
        value_fn=lambda _, connector: _option(connector.power_type),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ThorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Set up the sensors of each chargebox and of each of its connectors."""
    coordinator = entry.runtime_data.coordinator
    async_setup_chargebox_entities(
        entry,
        async_add_entities,
        lambda controller: (
            ThorSensorEntity(coordinator, controller.chargebox_id, description)
            for description in CHARGEBOX_SENSORS
        ),
        lambda controller, connector: (
            ThorConnectorSensorEntity(
                coordinator, controller.chargebox_id, description, connector
            )
            for description in CONNECTOR_SENSORS
        ),
    )


class ThorSensorEntity(ThorEntity, SensorEntity):
    """A sensor of a chargebox."""

    entity_description: ThorSensorEntityDescription

    @property
    @override
    def native_value(self) -> SensorValue:
        """Return the state of the sensor."""
        if (reading := self.reading) is None:
            return None
        return self.entity_description.value_fn(reading)


class ThorConnectorSensorEntity(ThorConnectorEntity, SensorEntity):
    """A sensor of a connector."""

    entity_description: ThorConnectorSensorEntityDescription

    @property
    @override
    def native_value(self) -> SensorValue:
        """Return the state of the sensor."""
        if (connector := self.connector_data) is None:
            return None
        if (reading := self.reading) is None:
            return None
        return self.entity_description.value_fn(reading, connector)

    @property
    @override
    def options(self) -> list[str] | None:
        """Return the known states, plus the current one when Thor sent a new value."""
        options = super().options
        if (
            options is not None
            and isinstance(value := self.native_value, str)
            and value not in options
        ):
            return [*options, value]
        return options
