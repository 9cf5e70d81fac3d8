"""Base entities of the Thor integration."""

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, override

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN, THOR_URL
from .coordinator import ThorDataUpdateCoordinator
from .data import ThorData
from .runtime import ThorConfigEntry
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
    """An entity of one Thor chargebox of an account.

    It writes its state only when what it shows changed: polls of an idle charger
    leave the state machine, and so the recorder, alone. It listens to its
    chargebox (or connector) only: a notification about another costs it nothing.
    """

    _attr_has_entity_name = True
    _polls_only = False
    """True when what the entity shows changes only with a poll (or with a signal of
    its own): confirmation reads and notifications then cost it nothing."""

    def __init__(
        self,
        coordinator: ThorDataUpdateCoordinator,
        chargebox_id: str,
        description: EntityDescription,
        *,
        context: str | tuple[str, int] | None = None,
    ) -> None:
        """Initialize the entity and its device.

        It listens to `context` (its chargebox by default); with `polls_only` (what it
        shows changes only with a poll), to polls only.
        """
        super().__init__(
            coordinator, context=None if self._polls_only else context or chargebox_id
        )
        self.chargebox_id = chargebox_id
        self.entity_description = description
        reading = coordinator.data.get(chargebox_id)
        self._attr_unique_id = f"{chargebox_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            configuration_url=THOR_URL,
            identifiers={(DOMAIN, chargebox_id)},
            manufacturer=MANUFACTURER,
            model=None if reading is None else device_model(reading.chargebox.type),
            name=coordinator.name_of(chargebox_id),
            serial_number=chargebox_id,
        )
        self._written: tuple[Any, ...] | None = None

    @property
    def reading(self) -> ThorData | None:
        """Return the chargebox's last reading, None if Thor did not list it."""
        return self.coordinator.data.get(self.chargebox_id)

    @property
    @override
    def available(self) -> bool:
        """Return whether the last poll worked and listed the chargebox."""
        return super().available and self.reading is not None

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
        chargebox_id: str,
        description: EntityDescription,
        connector: int,
    ) -> None:
        """Initialize the entity; name it after its connector on multi-connector boxes.

        It listens to its connector (and to its chargebox as a whole).
        """
        super().__init__(
            coordinator, chargebox_id, description, context=(chargebox_id, connector)
        )
        self.connector = connector
        self._attr_unique_id = f"{chargebox_id}_{connector}_{description.key}"
        reading = coordinator.data.get(chargebox_id)
        if reading is not None and len(reading.chargebox.connectors) > 1:
            self._attr_translation_key = f"connector_{description.translation_key}"
            self._attr_translation_placeholders = {"connector": str(connector)}

    @property
    def connector_data(self) -> Connector | None:
        """Return the connector as last read, None if the box no longer has it."""
        reading = self.reading
        return None if reading is None else reading.connector(self.connector)

    @property
    @override
    def available(self) -> bool:
        """Return whether the connector was read."""
        return super().available and self.connector_data is not None


@callback
def async_setup_chargebox_entities(
    entry: ThorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    chargebox_entities: Callable[[str], Iterable[Entity]],
    connector_entities: Callable[[str, int], Iterable[Entity]],
) -> None:
    """Add each configured chargebox's entities (by chargebox id) to its subentry.

    Connector entities are added for the connectors the box has, and later for those
    it reports at a later poll.
    """
    coordinator = entry.runtime_data.coordinator
    for subentry_id, controller in entry.runtime_data.controllers.items():
        chargebox_id = controller.chargebox_id
        async_add_entities(
            chargebox_entities(chargebox_id), config_subentry_id=subentry_id
        )
        entry.async_on_unload(
            _async_add_connector_listener(
                coordinator,
                chargebox_id,
                partial(
                    _add_connector_entities,
                    async_add_entities,
                    partial(connector_entities, chargebox_id),
                    subentry_id,
                ),
            )
        )


@callback
def _add_connector_entities(
    async_add_entities: AddConfigEntryEntitiesCallback,
    connector_entities: Callable[[int], Iterable[Entity]],
    subentry_id: str,
    connectors: list[int],
) -> None:
    """Add the entities of new connectors of a chargebox."""
    async_add_entities(
        [
            entity
            for connector in connectors
            for entity in connector_entities(connector)
        ],
        config_subentry_id=subentry_id,
    )


@callback
def _async_add_connector_listener(
    coordinator: ThorDataUpdateCoordinator,
    chargebox_id: str,
    add_connectors: Callable[[list[int]], None],
) -> CALLBACK_TYPE:
    """Call `add_connectors` now and whenever the chargebox reports new connectors."""
    known: set[int] = set()

    @callback
    def _check_connectors() -> None:
        data = coordinator.data
        if data is None or (reading := data.get(chargebox_id)) is None:
            return
        numbers = {connector.number for connector in reading.chargebox.connectors}
        if new := numbers - known:
            known.update(new)
            add_connectors(sorted(new))

    _check_connectors()
    return coordinator.async_add_listener(_check_connectors, chargebox_id)
