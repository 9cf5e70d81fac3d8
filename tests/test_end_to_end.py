"""End to end against the simulator: the config flow, a real setup, polling over time."""

from datetime import timedelta

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_API_KEY, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.thor.const import (
    CONF_BASE_URL,
    CONF_CHARGEBOX_IDS,
    CONF_ENVIRONMENT,
    DOMAIN,
)
from thor_simulator import ThorSimulator

from .conftest import API_KEY, async_next_idle_poll

OCCUPIED_1 = "binary_sensor.garage_connector_1_occupied"
OCCUPIED_2 = "binary_sensor.garage_connector_2_occupied"
RESERVED_2 = "binary_sensor.garage_connector_2_reserved"
CONNECTED = "binary_sensor.garage_connected"
ENERGY_1 = "sensor.garage_connector_1_session_energy"


async def _add_through_flow(hass: HomeAssistant, simulator: ThorSimulator) -> str:
    """Add the simulator's chargebox as a user would; return the entry id."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_API_KEY: f"  {API_KEY} ",
            CONF_ENVIRONMENT: "production",
            "advanced": {CONF_BASE_URL: simulator.base_url},
        },
    )
    assert result["step_id"] == "chargebox"
    (chargebox_id,) = simulator.chargeboxes
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CHARGEBOX_IDS: [chargebox_id]}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    return result["result"].entry_id


async def test_flow_sets_up_a_working_device(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    freezer: FrozenDateTimeFactory,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """The flow creates a loaded entry whose device and entities follow the charger."""
    entry_id = await _add_through_flow(hass, simulator)
    entry = hass.config_entries.async_get_entry(entry_id)
    assert entry is not None
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data[CONF_API_KEY] == API_KEY

    (chargebox_id,) = simulator.chargeboxes
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, chargebox_id), entry_id
    )
    assert device is not None
    assert (device.name, device.manufacturer, device.serial_number) == (
        "Garage",
        "Thor",
        chargebox_id,
    )
    entities = er.async_entries_for_device(entity_registry, device.id)
    assert {e.entity_id for e in entities} >= {
        OCCUPIED_1,
        OCCUPIED_2,
        RESERVED_2,
        CONNECTED,
        ENERGY_1,
    }
    assert hass.states.get(CONNECTED).state == STATE_ON
    assert hass.states.get(OCCUPIED_1).state == STATE_OFF

    # A card starts a charge at the box; the next poll shows it, energy grows.
    simulator.start_rfid_charge(chargebox_id, 1, "04A1B2C3D4E5F6")
    simulator.reserve(chargebox_id, 2, minutes=30)
    await async_next_idle_poll(hass, freezer)
    assert hass.states.get(OCCUPIED_1).state == STATE_ON
    assert hass.states.get(OCCUPIED_2).state == STATE_OFF
    assert hass.states.get(RESERVED_2).state == STATE_ON
    first = float(hass.states.get(ENERGY_1).state)
    freezer.tick(timedelta(minutes=30))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert float(hass.states.get(ENERGY_1).state) > first

    # Thor goes down: everything becomes unavailable, then comes back by itself.
    simulator.faults.set(status=503)
    await async_next_idle_poll(hass, freezer)
    assert hass.states.get(OCCUPIED_1).state == STATE_UNAVAILABLE
    simulator.faults.clear()
    await async_next_idle_poll(hass, freezer)
    assert hass.states.get(OCCUPIED_1).state == STATE_ON

    # The charge ends at the box.
    simulator.end_charge(chargebox_id, 1)
    await async_next_idle_poll(hass, freezer)
    assert hass.states.get(OCCUPIED_1).state == STATE_OFF

    # The chargebox loses its connection to Thor: shown as disconnected, not unknown.
    simulator.chargeboxes[chargebox_id].connected = False
    await async_next_idle_poll(hass, freezer)
    assert hass.states.get(CONNECTED).state == STATE_OFF

    assert await hass.config_entries.async_unload(entry_id)
    assert hass.states.get(OCCUPIED_1).state == STATE_UNAVAILABLE


@pytest.mark.usefixtures("simulator")
async def test_second_flow_for_same_chargebox_aborts(
    hass: HomeAssistant, simulator: ThorSimulator
) -> None:
    """The same account is not set up twice: its chargeboxes are configured."""
    await _add_through_flow(hass, simulator)
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_API_KEY: API_KEY,
            CONF_ENVIRONMENT: "production",
            "advanced": {CONF_BASE_URL: simulator.base_url},
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "account_already_configured"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1
    for entry in hass.config_entries.async_entries(DOMAIN):
        assert await hass.config_entries.async_unload(entry.entry_id)
