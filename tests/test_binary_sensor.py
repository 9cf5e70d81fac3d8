"""Tests of the Thor binary sensors."""

from dataclasses import replace
from datetime import timedelta
from unittest.mock import MagicMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.thor.thor_api import Connector
from thor_simulator import ThorSimulator

from .conftest import CHARGEBOX_ID, async_poll, snapshot_entities, subentry_id


@pytest.fixture(autouse=True)
def only_binary_sensors() -> None:
    """Set up the binary sensor platform only."""
    with patch("custom_components.thor.PLATFORMS", [Platform.BINARY_SENSOR]):
        yield


async def test_entities(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """The binary sensors of a two-connector chargebox, named per connector."""
    await snapshot_entities(hass, entity_registry, snapshot, init_integration.entry_id)


@pytest.mark.parametrize("chargebox_fixture", ["chargebox_single.json"])
@pytest.mark.parametrize("running_charges_fixture", ["running_charges_empty.json"])
@pytest.mark.usefixtures("init_integration")
async def test_single_connector_names(hass: HomeAssistant) -> None:
    """A one-connector box does not number its connector in the names."""
    state = hass.states.get("binary_sensor.carport_occupied")
    assert state.state == STATE_OFF
    assert state.attributes["friendly_name"] == "Carport Occupied"
    assert hass.states.get("binary_sensor.carport_reserved").state == STATE_OFF
    assert hass.states.get("binary_sensor.carport_connected").state == STATE_ON


@pytest.mark.usefixtures("init_integration")
async def test_offline_chargebox(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, mock_thor_client: MagicMock
) -> None:
    """An offline box shows as disconnected; its other entities stay available."""
    (chargebox,) = mock_thor_client.list_chargeboxes.return_value
    mock_thor_client.list_chargeboxes.return_value = [
        replace(chargebox, connected=False)
    ]
    await async_poll(hass, freezer, 60)

    assert hass.states.get("binary_sensor.garage_connected").state == STATE_OFF
    assert (
        hass.states.get("binary_sensor.garage_connector_2_occupied").state == STATE_ON
    )
    assert (
        hass.states.get("binary_sensor.garage_connector_1_reserved").state == STATE_ON
    )


async def test_connectors_added_and_removed(
    hass: HomeAssistant,
    *,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    mock_thor_client: MagicMock,
    entity_registry: er.EntityRegistry,
) -> None:
    """A connector reported later gets entities; one that goes becomes unavailable.

    The new entities belong to the chargebox's subentry, like the others.
    """
    (chargebox,) = mock_thor_client.list_chargeboxes.return_value
    third = replace(chargebox.connectors[0], number=3)
    mock_thor_client.list_chargeboxes.return_value = [
        replace(
            chargebox,
            connectors=(*chargebox.connectors, third),
            occupied_connectors=frozenset({3}),
        )
    ]
    mock_thor_client.running_charges.return_value = []
    await async_poll(hass, freezer, 60)

    assert (
        hass.states.get("binary_sensor.garage_connector_3_occupied").state == STATE_ON
    )
    assert (
        hass.states.get("binary_sensor.garage_connector_2_occupied").state == STATE_OFF
    )
    entry = entity_registry.async_get("binary_sensor.garage_connector_3_reserved")
    assert entry.unique_id == "EaJ7cU9NJ3YkTNgy_3_reserved"
    assert entry.config_subentry_id == subentry_id(init_integration, CHARGEBOX_ID)

    only_first: tuple[Connector, ...] = chargebox.connectors[:1]
    mock_thor_client.list_chargeboxes.return_value = [
        replace(chargebox, connectors=only_first, occupied_connectors=frozenset())
    ]
    await async_poll(hass, freezer, 60)
    assert (
        hass.states.get("binary_sensor.garage_connector_3_occupied").state
        == STATE_UNAVAILABLE
    )
    assert (
        hass.states.get("binary_sensor.garage_connector_2_reserved").state
        == STATE_UNAVAILABLE
    )
    assert (
        hass.states.get("binary_sensor.garage_connector_1_reserved").state == STATE_ON
    )


async def test_states_from_simulator(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
) -> None:
    """Charges, reservations and connectivity of the simulated box show up."""
    box = next(iter(simulator.chargeboxes.values()))
    sim_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(sim_config_entry.entry_id)
    await hass.async_block_till_done()

    assert hass.states.get("binary_sensor.garage_connected").state == STATE_ON
    for connector in (1, 2):
        for key in ("occupied", "reserved"):
            entity_id = f"binary_sensor.garage_connector_{connector}_{key}"
            assert hass.states.get(entity_id).state == STATE_OFF

    simulator.start_rfid_charge(box.id, 2, "04A1B2C3D4E5F6")
    simulator.reserve(box.id, 1, minutes=30)
    await async_poll(hass, freezer, 60)
    assert (
        hass.states.get("binary_sensor.garage_connector_2_occupied").state == STATE_ON
    )
    assert (
        hass.states.get("binary_sensor.garage_connector_1_reserved").state == STATE_ON
    )
    assert (
        hass.states.get("binary_sensor.garage_connector_1_occupied").state == STATE_OFF
    )

    simulator.end_charge(box.id, 2)
    box.connected = False
    await async_poll(hass, freezer, 60)
    assert (
        hass.states.get("binary_sensor.garage_connector_2_occupied").state == STATE_OFF
    )
    assert hass.states.get("binary_sensor.garage_connected").state == STATE_OFF

    # The reservation runs out.
    await async_poll(hass, freezer, 60)
    freezer.tick(timedelta(minutes=30))
    await async_poll(hass, freezer, 60)
    assert (
        hass.states.get("binary_sensor.garage_connector_1_reserved").state == STATE_OFF
    )

    assert await hass.config_entries.async_unload(sim_config_entry.entry_id)
