"""Tests of the Thor sensors, and of entities writing state only on change."""

from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any
from unittest.mock import MagicMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.sensor import DATA_COMPONENT
from homeassistant.const import (
    EVENT_STATE_CHANGED,
    EVENT_STATE_REPORTED,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    Platform,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.thor.thor_api import ThorConnectionError
from thor_simulator import ThorSimulator

from .conftest import async_enable_entities, async_poll, snapshot_entities


@pytest.fixture(autouse=True)
def only_sensors() -> None:
    """Set up the sensor platform only."""
    with patch("custom_components.thor.PLATFORMS", [Platform.SENSOR]):
        yield


def _count_writes(hass: HomeAssistant) -> list[Event]:
    """Record every state write (changed or merely reported) of Thor entities."""
    writes: list[Event] = []

    @callback
    def _ours(event_data: Mapping[str, Any]) -> bool:
        return str(event_data["entity_id"]).startswith(
            ("sensor.garage", "binary_sensor.garage")
        )

    @callback
    def _record(event: Event) -> None:
        writes.append(event)

    hass.bus.async_listen(EVENT_STATE_CHANGED, _record, event_filter=_ours)
    hass.bus.async_listen(EVENT_STATE_REPORTED, _record, event_filter=_ours)
    return writes


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_entities(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Every sensor of a two-connector chargebox, one of them charging."""
    await snapshot_entities(hass, entity_registry, snapshot, init_integration.entry_id)


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "init_integration")
async def test_session_ends(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, mock_thor_client: MagicMock
) -> None:
    """Session sensors are in kWh while charging and unknown once the charge ends."""
    energy = hass.states.get("sensor.garage_connector_2_session_energy")
    assert energy.state == "12.345"
    assert energy.attributes["unit_of_measurement"] == "kWh"
    assert (
        hass.states.get("sensor.garage_connector_2_session_started").state
        == "2026-01-01T09:00:00+00:00"
    )
    assert hass.states.get("sensor.garage_connector_1_session_energy").state == (
        STATE_UNKNOWN
    )

    mock_thor_client.running_charges.return_value = []
    await async_poll(hass, freezer, 30)
    assert hass.states.get("sensor.garage_connector_2_session_energy").state == (
        STATE_UNKNOWN
    )
    assert hass.states.get("sensor.garage_connector_2_session_started").state == (
        STATE_UNKNOWN
    )


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "init_integration")
async def test_unknown_enum_value_kept(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, mock_thor_client: MagicMock
) -> None:
    """A connector type Thor adds later is shown as sent, not dropped."""
    (chargebox,) = mock_thor_client.list_chargeboxes.return_value
    connector = replace(chargebox.connectors[0], type="NACS", power_type=None)
    mock_thor_client.list_chargeboxes.return_value = [
        replace(chargebox, connectors=(connector, chargebox.connectors[1]))
    ]
    await async_poll(hass, freezer, 30)

    state = hass.states.get("sensor.garage_connector_1_type")
    assert state.state == "nacs"
    assert state.attributes["options"][-1] == "nacs"
    assert "type_2" in state.attributes["options"]
    assert hass.states.get("sensor.garage_connector_1_power_type").state == (
        STATE_UNKNOWN
    )
    assert hass.states.get("sensor.garage_connector_2_type").attributes["options"] == [
        "ccs",
        "chademo",
        "commando",
        "type_1",
        "type_2",
        "type_3a",
        "type_3c",
        "schuko",
    ]


@pytest.mark.parametrize("running_charges_fixture", ["running_charges_empty.json"])
@pytest.mark.usefixtures("init_integration")
async def test_no_write_without_change(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, mock_thor_client: MagicMock
) -> None:
    """Polls that change nothing an entity shows write no state.

    The heartbeat moves on every poll, so every poll reaches the entities.
    """
    rated_power = "sensor.garage_connector_1_rated_power"
    await async_enable_entities(hass, freezer, rated_power)
    writes = _count_writes(hass)
    (chargebox,) = mock_thor_client.list_chargeboxes.return_value
    for _ in range(20):
        chargebox = replace(
            chargebox,
            last_heartbeat=chargebox.last_heartbeat + timedelta(seconds=60),
        )
        mock_thor_client.list_chargeboxes.return_value = [chargebox]
        await async_poll(hass, freezer, 30)
    assert mock_thor_client.list_chargeboxes.await_count >= 20
    assert writes == []

    # A change is written, once, by the entity it concerns.
    mock_thor_client.list_chargeboxes.return_value = [
        replace(
            chargebox,
            connectors=(
                replace(chargebox.connectors[0], power=11000),
                chargebox.connectors[1],
            ),
        )
    ]
    await async_poll(hass, freezer, 30)
    await async_poll(hass, freezer, 30)
    assert [event.data["entity_id"] for event in writes] == [rated_power]
    assert hass.states.get(rated_power).state == "11000"


@pytest.mark.usefixtures("init_integration")
async def test_unavailable_written_once(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, mock_thor_client: MagicMock
) -> None:
    """An outage writes each entity once when it starts and once when it ends."""
    entity_count = len(hass.states.async_entity_ids("sensor"))
    writes = _count_writes(hass)
    mock_thor_client.list_chargeboxes.side_effect = ThorConnectionError("down")
    for _ in range(5):
        await async_poll(hass, freezer, 30)
    assert len(writes) == entity_count
    assert all(event.data["new_state"].state == STATE_UNAVAILABLE for event in writes)

    writes.clear()
    mock_thor_client.list_chargeboxes.side_effect = None
    for _ in range(5):
        await async_poll(hass, freezer, 30)
    assert len(writes) == entity_count
    assert all(event.data["new_state"].state != STATE_UNAVAILABLE for event in writes)


async def test_idle_simulator_writes_nothing(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
) -> None:
    """An idle charger polled 20 times adds nothing to the state machine."""
    with patch(
        "custom_components.thor.PLATFORMS", [Platform.BINARY_SENSOR, Platform.SENSOR]
    ):
        sim_config_entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(sim_config_entry.entry_id)
        await hass.async_block_till_done()
    writes = _count_writes(hass)
    polls = len(simulator.requests)

    for _ in range(20):
        await async_poll(hass, freezer, 60)
    # One request per idle poll: the chargebox list.
    assert (
        simulator.requests[polls:] == [("GET", "/latest/integration/chargeboxes")] * 20
    )
    assert writes == []

    assert await hass.config_entries.async_unload(sim_config_entry.entry_id)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_charging_on_simulator(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
) -> None:
    """A charge on the simulator shows its energy and start; the heartbeat follows."""
    box = next(iter(simulator.chargeboxes.values()))
    sim_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(sim_config_entry.entry_id)
    await hass.async_block_till_done()

    assert hass.states.get("sensor.garage_connector_1_rated_power").state == "22000"
    assert hass.states.get("sensor.garage_connector_1_maximum_current").state == "32"
    assert hass.states.get("sensor.garage_connector_1_type").state == "type_2"
    assert (
        hass.states.get("sensor.garage_connector_1_cable_or_socket").state == "socket"
    )
    assert hass.states.get("sensor.garage_connector_1_power_type").state == "ac_3_phase"
    heartbeat = hass.states.get("sensor.garage_last_heartbeat").state

    simulator.start_rfid_charge(box.id, 1, "04A1B2C3D4E5F6")
    await async_poll(hass, freezer, 60)
    started = hass.states.get("sensor.garage_connector_1_session_started").state
    assert started not in (STATE_UNKNOWN, STATE_UNAVAILABLE)
    assert hass.states.get("sensor.garage_connector_1_session_energy").state == "0.366"

    # 22 kW for 31 minutes.
    await async_poll(hass, freezer, 1800)
    assert hass.states.get("sensor.garage_connector_1_session_energy").state == "11.366"
    assert hass.states.get("sensor.garage_connector_1_session_started").state == started
    assert hass.states.get("sensor.garage_last_heartbeat").state != heartbeat

    assert await hass.config_entries.async_unload(sim_config_entry.entry_id)


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "init_integration")
async def test_connector_gone(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, mock_thor_client: MagicMock
) -> None:
    """The sensors of a connector the box no longer reports go unavailable."""
    (chargebox,) = mock_thor_client.list_chargeboxes.return_value
    mock_thor_client.list_chargeboxes.return_value = [
        replace(chargebox, connectors=chargebox.connectors[:1])
    ]
    await async_poll(hass, freezer, 30)

    assert hass.states.get("sensor.garage_connector_2_type").state == STATE_UNAVAILABLE
    entity = hass.data[DATA_COMPONENT].get_entity("sensor.garage_connector_2_type")
    assert entity.native_value is None
    assert hass.states.get("sensor.garage_connector_1_type").state == "type_2"
