"""Sensors of the Thor integration.

The descriptions below decide which sensors a new chargebox shows: enabled are only
those a user looks at daily (the running charge, power, energy, the last session's
energy and cost); the details of a charge and the connector's fixed ratings start
disabled (the ratings also diagnostic). The registry keeps what a user chose, so
existing installs keep theirs. README's Entities table lists the same (a test
compares them).
"""

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final, override

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
    UnitOfTime,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import ThorDataUpdateCoordinator
from .data import ThorData
from .energy import ThorEnergyTracker, energy_signal, kwh
from .entity import ThorConnectorEntity, ThorEntity, async_setup_chargebox_entities
from .ledger import LastSession
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
    of_the_charge: bool = False
    """Shows the running charge, which changes between polls; otherwise it shows
    the connector as the chargebox list describes it, which only polls change."""


@dataclass(frozen=True, kw_only=True)
class ThorMeterSensorEntityDescription(SensorEntityDescription):
    """Describes a sensor of the energy tracker, of a chargebox or of a connector."""

    value_fn: Callable[[ThorEnergyTracker, str, int], SensorValue]
    """Called with the tracker, the chargebox id and the connector (0: the box)."""
    multi_connector_only: bool = False
    """Only on chargeboxes with several connectors (the box has the total)."""


def _last[T](
    value_fn: Callable[[LastSession], T],
) -> Callable[[ThorEnergyTracker, str, int], T | None]:
    """Return a value of a connector's last session, None before the first."""

    def _value(
        tracker: ThorEnergyTracker, chargebox_id: str, connector: int
    ) -> T | None:
        session = tracker.last_session(chargebox_id, connector)
        return None if session is None else value_fn(session)

    return _value


def _total(
    tracker: ThorEnergyTracker, chargebox_id: str, connector: int
) -> float | None:
    """Return the kWh delivered by a chargebox (connector 0) or one connector."""
    return kwh(tracker.total(chargebox_id, connector or None))


def _current(phase: str) -> Callable[[ThorEnergyTracker, str, int], float | None]:
    """Return the measured current of a phase of a connector."""

    def _value(
        tracker: ThorEnergyTracker, chargebox_id: str, connector: int
    ) -> float | None:
        return tracker.current(chargebox_id, connector, phase)

    return _value


STARTED_BY_OPTIONS: Final = ["api", "local", "remote"]
"""Thor's charge modes: API (Home Assistant), RFID card at the box, Thor app."""

CHARGEBOX_METER_SENSORS: tuple[ThorMeterSensorEntityDescription, ...] = (
    ThorMeterSensorEntityDescription(
        key="energy_delivered",
        translation_key="energy_delivered",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=_total,
    ),
)

CONNECTOR_METER_SENSORS: tuple[ThorMeterSensorEntityDescription, ...] = (
    ThorMeterSensorEntityDescription(
        key="energy_delivered",
        translation_key="energy_delivered",
        device_class=SensorDeviceClass.ENERGY,
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        multi_connector_only=True,
        value_fn=_total,
    ),
    ThorMeterSensorEntityDescription(
        key="charging_power",
        translation_key="charging_power",
        device_class=SensorDeviceClass.POWER,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfPower.WATT,
        suggested_display_precision=0,
        value_fn=lambda tracker, chargebox_id, connector: tracker.power(
            chargebox_id, connector
        ),
    ),
    *(
        ThorMeterSensorEntityDescription(
            key=f"current_{phase.lower()}",
            translation_key=f"current_{phase.lower()}",
            device_class=SensorDeviceClass.CURRENT,
            state_class=SensorStateClass.MEASUREMENT,
            native_unit_of_measurement=UnitOfElectricCurrent.AMPERE,
            suggested_display_precision=1,
            # Only Thor's meter values (push) give it; it changes every few seconds.
            entity_registry_enabled_default=False,
            value_fn=_current(phase),
        )
        for phase in ("L1", "L2", "L3")
    ),
    ThorMeterSensorEntityDescription(
        key="last_session_energy",
        translation_key="last_session_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=_last(lambda session: kwh(session.energy)),
    ),
    ThorMeterSensorEntityDescription(
        key="last_session_start",
        translation_key="last_session_start",
        entity_registry_enabled_default=False,
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_last(lambda session: session.started),
    ),
    ThorMeterSensorEntityDescription(
        key="last_session_end",
        translation_key="last_session_end",
        entity_registry_enabled_default=False,
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=_last(lambda session: session.ended),
    ),
    ThorMeterSensorEntityDescription(
        key="last_session_duration",
        translation_key="last_session_duration",
        entity_registry_enabled_default=False,
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=0,
        value_fn=_last(lambda session: session.duration),
    ),
    ThorMeterSensorEntityDescription(
        key="last_session_cost",
        translation_key="last_session_cost",
        device_class=SensorDeviceClass.MONETARY,
        suggested_display_precision=2,
        value_fn=_last(lambda session: session.cost),
    ),
    ThorMeterSensorEntityDescription(
        key="last_session_started_by",
        translation_key="last_session_started_by",
        entity_registry_enabled_default=False,
        device_class=SensorDeviceClass.ENUM,
        options=STARTED_BY_OPTIONS,
        value_fn=_last(lambda session: _option(session.started_by)),
    ),
)

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
        of_the_charge=True,
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
        entity_registry_enabled_default=False,
        of_the_charge=True,
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
        entity_registry_enabled_default=False,
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
        entity_registry_enabled_default=False,
        device_class=SensorDeviceClass.ENUM,
        entity_category=EntityCategory.DIAGNOSTIC,
        options=_options(ConnectorType),
        value_fn=lambda _, connector: _option(connector.type),
    ),
    ThorConnectorSensorEntityDescription(
        key="plug_format",
        translation_key="plug_format",
        entity_registry_enabled_default=False,
        device_class=SensorDeviceClass.ENUM,
        entity_category=EntityCategory.DIAGNOSTIC,
        options=_options(ConnectorFormat),
        value_fn=lambda _, connector: _option(connector.format),
    ),
    ThorConnectorSensorEntityDescription(
        key="power_type",
        translation_key="power_type",
        entity_registry_enabled_default=False,
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
    tracker = entry.runtime_data.energy

    def _chargebox_sensors(chargebox_id: str) -> list[SensorEntity]:
        return [
            *(
                ThorSensorEntity(coordinator, chargebox_id, description)
                for description in CHARGEBOX_SENSORS
            ),
            *(
                ThorMeterSensorEntity(tracker, chargebox_id, description)
                for description in CHARGEBOX_METER_SENSORS
            ),
        ]

    def _connector_sensors(chargebox_id: str, connector: int) -> list[SensorEntity]:
        reading = coordinator.data.get(chargebox_id)
        several = reading is not None and len(reading.chargebox.connectors) > 1
        return [
            *(
                ThorConnectorSensorEntity(
                    coordinator, chargebox_id, description, connector
                )
                for description in CONNECTOR_SENSORS
            ),
            *(
                ThorConnectorMeterSensorEntity(
                    tracker, chargebox_id, description, connector
                )
                for description in CONNECTOR_METER_SENSORS
                if several or not description.multi_connector_only
            ),
        ]

    async_setup_chargebox_entities(
        entry,
        async_add_entities,
        _chargebox_sensors,
        _connector_sensors,
    )


class _OpenOptionsSensor(SensorEntity):
    """An enum sensor that also accepts a value Thor added after this release."""

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


class _FollowsMeters(ThorEntity):
    """An entity that shows the energy tracker: it changes between polls too.

    The tracker's signal tells it when; the coordinator, only of polls (availability).
    """

    tracker: ThorEnergyTracker
    _polls_only = True
    _connector_number = 0
    """Its connector; 0 for the chargebox as a whole (any change concerns it)."""

    @override
    async def async_added_to_hass(self) -> None:
        """Also follow the meters, which change between polls."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                energy_signal(
                    self.coordinator.config_entry.entry_id, self.chargebox_id
                ),
                self._handle_meters,
            )
        )

    @callback
    def _handle_meters(self, connectors: Collection[int] | None) -> None:
        """Show the meters again, when what changed concerns this sensor."""
        if (
            connectors is None
            or not self._connector_number
            or self._connector_number in connectors
        ):
            self._handle_coordinator_update()


class ThorSensorEntity(ThorEntity, SensorEntity):
    """A sensor of a chargebox, as the chargebox list describes it."""

    entity_description: ThorSensorEntityDescription
    _polls_only = True

    @property
    @override
    def native_value(self) -> SensorValue:
        """Return the state of the sensor."""
        if (reading := self.reading) is None:
            return None
        return self.entity_description.value_fn(reading)


class ThorConnectorSensorEntity(ThorConnectorEntity, _OpenOptionsSensor):
    """A sensor of a connector."""

    entity_description: ThorConnectorSensorEntityDescription

    def __init__(
        self,
        coordinator: ThorDataUpdateCoordinator,
        chargebox_id: str,
        description: ThorConnectorSensorEntityDescription,
        connector: int,
    ) -> None:
        """Initialize the sensor: it follows the charge, or only polls."""
        self._polls_only = not description.of_the_charge
        super().__init__(coordinator, chargebox_id, description, connector)

    @property
    @override
    def native_value(self) -> SensorValue:
        """Return the state of the sensor."""
        if (connector := self.connector_data) is None:
            return None
        if (reading := self.reading) is None:
            return None
        return self.entity_description.value_fn(reading, connector)


class ThorMeterSensorEntity(_FollowsMeters, SensorEntity):
    """A sensor of a chargebox's energy meter."""

    entity_description: ThorMeterSensorEntityDescription

    def __init__(
        self,
        tracker: ThorEnergyTracker,
        chargebox_id: str,
        description: ThorMeterSensorEntityDescription,
    ) -> None:
        """Initialize the sensor."""
        super().__init__(tracker.coordinator, chargebox_id, description)
        self.tracker = tracker

    @property
    @override
    def native_value(self) -> SensorValue:
        """Return the state of the sensor."""
        return self.entity_description.value_fn(
            self.tracker, self.chargebox_id, self._connector_number
        )


class ThorConnectorMeterSensorEntity(
    _FollowsMeters, ThorConnectorEntity, _OpenOptionsSensor
):
    """A sensor of a connector's energy meter, power or last session."""

    entity_description: ThorMeterSensorEntityDescription

    def __init__(
        self,
        tracker: ThorEnergyTracker,
        chargebox_id: str,
        description: ThorMeterSensorEntityDescription,
        connector: int,
    ) -> None:
        """Initialize the sensor."""
        super().__init__(tracker.coordinator, chargebox_id, description, connector)
        self.tracker = tracker
        self._connector_number = connector

    @property
    @override
    def native_value(self) -> SensorValue:
        """Return the state of the sensor."""
        return self.entity_description.value_fn(
            self.tracker, self.chargebox_id, self.connector
        )

    @property
    @override
    def native_unit_of_measurement(self) -> str | None:
        """Return the unit; a cost is in the currency Thor charged in."""
        if self.entity_description.device_class is not SensorDeviceClass.MONETARY:
            return super().native_unit_of_measurement
        session = self.tracker.last_session(self.chargebox_id, self.connector)
        if session is not None and session.currency:
            return session.currency
        return self.hass.config.currency
