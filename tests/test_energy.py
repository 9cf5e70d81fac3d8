"""The energy meters count every charge exactly once, the last session and the power."""

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from unittest.mock import MagicMock

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import CONF_WEBHOOK_ID, STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.thor.const import CONF_PUSH
from custom_components.thor.energy import (
    SessionEventType,
    storage_key,
)
from custom_components.thor.thor_api import FinishedCharge, RunningCharge
from thor_simulator import ThorSimulator

from .conftest import (
    async_next_idle_poll,
    async_poll,
    async_setup_entry,
    entity_state,
    first_chargebox,
    session_events,
    state_number,
)

TOTAL = "sensor.garage_energy_delivered"
TOTAL_1 = "sensor.garage_connector_1_energy_delivered"
TOTAL_2 = "sensor.garage_connector_2_energy_delivered"
POWER_1 = "sensor.garage_connector_1_charging_power_estimated"
LAST_ENERGY_1 = "sensor.garage_connector_1_last_session_energy"
LAST_START_1 = "sensor.garage_connector_1_last_session_start"
LAST_END_1 = "sensor.garage_connector_1_last_session_end"
LAST_DURATION_1 = "sensor.garage_connector_1_last_session_duration"
LAST_COST_1 = "sensor.garage_connector_1_last_session_cost"
LAST_BY_1 = "sensor.garage_connector_1_last_session_started_by"
CARD = "04A1B2C3D4E5F6"


def _finished_wh(simulator: ThorSimulator) -> list[int]:
    return [item["energy"] for item in simulator.finished]


async def _restart(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Stop the entry (as Home Assistant stopping does) and set it up again later."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_a_charge_is_counted_with_power_and_last_session(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Starting a charge shows power and growing energy; its end the last session."""
    box = first_chargebox(simulator)
    await async_setup_entry(hass, sim_config_entry)
    events = session_events(hass, sim_config_entry)
    assert state_number(hass, TOTAL) == 0
    assert state_number(hass, POWER_1) == 0
    assert entity_state(hass, LAST_ENERGY_1) == STATE_UNKNOWN

    simulator.start_rfid_charge(box, 1, CARD)
    await async_next_idle_poll(hass, freezer)
    # One reading of the charge: the power is not known yet.
    assert entity_state(hass, POWER_1) == STATE_UNKNOWN
    await async_poll(hass, freezer, 31)
    # 22 kW connector: the estimate follows the energy growth between readings.
    assert abs(state_number(hass, POWER_1) - 22000) < 800
    growing = state_number(hass, TOTAL)
    assert growing > 0
    await async_poll(hass, freezer, 30 * 60)
    assert state_number(hass, TOTAL) > growing
    assert state_number(hass, TOTAL_1) == state_number(hass, TOTAL)
    assert state_number(hass, TOTAL_2) == 0

    simulator.end_charge(box, 1)
    await async_poll(hass, freezer, 31)
    (energy,) = _finished_wh(simulator)
    assert abs(state_number(hass, TOTAL) - energy / 1000) < 0.001
    assert state_number(hass, POWER_1) == 0
    assert abs(state_number(hass, LAST_ENERGY_1) - energy / 1000) < 0.001
    (item,) = simulator.finished
    assert dt_util.parse_datetime(entity_state(hass, LAST_END_1)) == (
        dt_util.utc_from_timestamp(item["date_finished"] // 1000)
    )
    assert dt_util.parse_datetime(entity_state(hass, LAST_START_1)) == (
        dt_util.utc_from_timestamp(item["date_started"] // 1000)
    )
    duration_s = (item["date_finished"] - item["date_started"]) / 1000
    assert abs(float(entity_state(hass, LAST_DURATION_1)) - duration_s / 60) < 1
    assert entity_state(hass, LAST_BY_1) == "local"
    # Free chargebox: no payment, no cost.
    assert entity_state(hass, LAST_COST_1) == STATE_UNKNOWN
    assert [(e.type, e.connector) for e in events] == [
        (SessionEventType.CHARGING_STARTED, 1),
        (SessionEventType.CHARGING_STOPPED, 1),
    ]
    # Sent when the poll showed the end, with what was counted then (here all of
    # it: the charge ended right after a reading).
    stopped = events[-1]
    assert stopped.energy is not None
    assert abs(stopped.energy - energy / 1000) < 0.001
    assert stopped.duration is not None
    assert duration_s <= stopped.duration <= duration_s + 32  # Seen 31 s later.


async def test_restart_in_the_middle_of_a_charge(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """What was counted before the restart is not counted again; nothing is lost."""
    box = first_chargebox(simulator)
    await async_setup_entry(hass, sim_config_entry)
    simulator.start_rfid_charge(box, 1, CARD)
    await async_next_idle_poll(hass, freezer)
    await async_poll(hass, freezer, 20 * 60)
    before = state_number(hass, TOTAL)
    assert before > 0

    await _restart(hass, sim_config_entry)
    freezer.tick(timedelta(minutes=40))  # The charge goes on while HA is stopped.
    assert await hass.config_entries.async_setup(sim_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_number(hass, TOTAL) > before + 14  # 40 min at 22 kW
    assert entity_state(hass, POWER_1) == STATE_UNKNOWN  # One reading since.

    simulator.end_charge(box, 1)
    await async_next_idle_poll(hass, freezer)
    (energy,) = _finished_wh(simulator)
    assert abs(state_number(hass, TOTAL) - energy / 1000) < 0.001


async def test_charges_while_home_assistant_is_stopped(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A charge that began and ended while HA was stopped is counted at start-up."""
    box = first_chargebox(simulator)
    await async_setup_entry(hass, sim_config_entry)
    await _restart(hass, sim_config_entry)

    freezer.tick(timedelta(hours=2))
    simulator.start_rfid_charge(box, 2, CARD)
    freezer.tick(timedelta(minutes=45))
    simulator.end_charge(box, 2)
    freezer.tick(timedelta(days=2))  # and HA stays off for two days.
    simulator.start_rfid_charge(box, 1, CARD)
    freezer.tick(timedelta(minutes=10))
    simulator.end_charge(box, 1)
    freezer.tick(timedelta(hours=1))

    assert await hass.config_entries.async_setup(sim_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    events = session_events(hass, sim_config_entry)
    first, second = _finished_wh(simulator)
    assert abs(state_number(hass, TOTAL_2) - first / 1000) < 0.001
    assert abs(state_number(hass, TOTAL_1) - second / 1000) < 0.001
    assert abs(state_number(hass, TOTAL) - (first + second) / 1000) < 0.001
    assert abs(state_number(hass, LAST_ENERGY_1) - second / 1000) < 0.001

    # The daily reconciliation and more restarts count nothing twice.
    await async_poll(hass, freezer, 24 * 3600)
    await _restart(hass, sim_config_entry)
    assert await hass.config_entries.async_setup(sim_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert abs(state_number(hass, TOTAL) - (first + second) / 1000) < 0.001
    # History is not live: no events for charges that ended while HA was stopped.
    assert events == []


async def test_a_charge_ending_late_in_the_evening_is_found_at_once(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Ended at 23:40 local, already tomorrow in UTC: the reconciliation finds it."""
    box = first_chargebox(simulator)
    freezer.move_to(
        dt_util.as_utc(datetime(2026, 12, 8, 12, tzinfo=dt_util.DEFAULT_TIME_ZONE))
    )
    await async_setup_entry(hass, sim_config_entry)
    await _restart(hass, sim_config_entry)
    freezer.move_to(
        dt_util.as_utc(datetime(2026, 12, 9, 23, tzinfo=dt_util.DEFAULT_TIME_ZONE))
    )
    simulator.start_rfid_charge(box, 1, CARD)
    freezer.tick(timedelta(minutes=40))
    simulator.end_charge(box, 1)
    freezer.tick(timedelta(minutes=10))
    assert dt_util.now().date() != dt_util.utcnow().date()  # What the test is about.

    assert await hass.config_entries.async_setup(sim_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    (energy,) = _finished_wh(simulator)
    assert abs(state_number(hass, TOTAL) - energy / 1000) < 0.001


async def test_a_charge_spanning_midnight(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A charge from 23:30 to 00:45 is counted once, the daily read included."""
    freezer.move_to(
        dt_util.as_utc(
            datetime(2026, 11, 20, 23, 30, tzinfo=dt_util.get_default_time_zone())
        )
    )
    box = first_chargebox(simulator)
    await async_setup_entry(hass, sim_config_entry)
    simulator.start_rfid_charge(box, 1, CARD)
    for _ in range(75):  # Until 00:45, across the reconciliation at 00:15.
        await async_poll(hass, freezer, 60)
    simulator.end_charge(box, 1)
    await async_poll(hass, freezer, 31)
    await async_poll(hass, freezer, 24 * 3600)
    (energy,) = _finished_wh(simulator)
    assert abs(state_number(hass, TOTAL) - energy / 1000) < 0.001


async def test_a_failed_finished_read_is_retried(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Thor failing to list finished charges delays the count, never doubles it."""
    box = first_chargebox(simulator)
    await async_setup_entry(hass, sim_config_entry)
    simulator.start_rfid_charge(box, 1, CARD)
    await async_next_idle_poll(hass, freezer)
    await async_poll(hass, freezer, 10 * 60)
    seen = state_number(hass, TOTAL)
    simulator.faults.set(status=503, path="/charges/finished")
    freezer.tick(timedelta(minutes=5))  # Delivered after the last reading.
    simulator.end_charge(box, 1)
    await async_next_idle_poll(hass, freezer)
    assert (
        state_number(hass, TOTAL) == seen
    )  # The end is known, the last 5 minutes not yet.
    assert state_number(hass, LAST_ENERGY_1) == seen  # Shown as last seen meanwhile.
    simulator.faults.clear()
    await async_next_idle_poll(hass, freezer)
    (energy,) = _finished_wh(simulator)
    assert abs(state_number(hass, TOTAL) - energy / 1000) < 0.001
    assert abs(state_number(hass, LAST_ENERGY_1) - energy / 1000) < 0.001

    await _restart(hass, sim_config_entry)
    assert await hass.config_entries.async_setup(sim_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert abs(state_number(hass, TOTAL) - energy / 1000) < 0.001


async def test_failed_reconciliation_at_start_up_is_retried(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The start-up reconciliation is tried again a while after a failure."""
    box = first_chargebox(simulator)
    await async_setup_entry(hass, sim_config_entry)
    await _restart(hass, sim_config_entry)
    simulator.start_rfid_charge(box, 1, CARD)
    freezer.tick(timedelta(minutes=30))
    simulator.end_charge(box, 1)
    simulator.faults.set(status=500, path="/charges/finished")
    assert await hass.config_entries.async_setup(sim_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert state_number(hass, TOTAL) == 0
    simulator.faults.clear()
    await async_next_idle_poll(hass, freezer)
    assert state_number(hass, TOTAL) == 0  # Not hammering Thor: 15 minutes later.
    for _ in range(15):
        await async_next_idle_poll(hass, freezer)
    (energy,) = _finished_wh(simulator)
    assert abs(state_number(hass, TOTAL) - energy / 1000) < 0.001


async def test_paid_charge_has_a_cost_in_its_currency(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Thor's payment of the last session is its cost, in Thor's currency."""
    box = first_chargebox(simulator)
    simulator.chargeboxes[box].payment_free = False
    await async_setup_entry(hass, sim_config_entry)
    simulator.start_rfid_charge(box, 1, CARD)
    await async_next_idle_poll(hass, freezer)
    await async_poll(hass, freezer, 30 * 60)
    simulator.end_charge(box, 1)
    await async_next_idle_poll(hass, freezer)
    (item,) = simulator.finished
    payment = item["payment"]
    state = hass.states.get(LAST_COST_1)
    assert state is not None
    assert payment["price"] > 0
    assert abs(float(state.state) - payment["price"]) < 0.001
    assert state.attributes["unit_of_measurement"] == payment["currency"].upper()


async def test_energy_is_stored_and_removed_with_the_entry(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """The meters are kept in storage, and go when the entry is deleted."""
    box = first_chargebox(simulator)
    await async_setup_entry(hass, sim_config_entry)
    simulator.start_rfid_charge(box, 1, CARD)
    await async_next_idle_poll(hass, freezer)
    await _restart(hass, sim_config_entry)
    stored = hass_storage[storage_key(sim_config_entry.entry_id)]["data"]
    assert stored["chargeboxes"][box]["totals"]["1"] > 0
    assert await hass.config_entries.async_remove(sim_config_entry.entry_id)
    await hass.async_block_till_done()
    assert storage_key(sim_config_entry.entry_id) not in hass_storage


async def test_idle_polls_write_no_energy_state(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """While nothing charges, the new sensors write nothing (the recorder stays quiet)."""
    await async_setup_entry(hass, sim_config_entry)
    await async_next_idle_poll(hass, freezer)
    writes: list[Event] = []
    hass.bus.async_listen("state_changed", writes.append)
    for _ in range(60):
        await async_next_idle_poll(hass, freezer)
    assert writes == []


async def test_a_charge_seen_running_after_thor_listed_it_finished(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A late reading of a finished charge, or a lower energy, adds nothing."""
    started = dt_util.utcnow() - timedelta(hours=1)
    box = mock_thor_client.list_chargeboxes.return_value[0]
    mock_thor_client.list_chargeboxes.return_value = [
        replace(box, occupied_connectors=frozenset({1}))
    ]
    running = RunningCharge(
        id=77,
        chargebox=box.id,
        connector=1,
        date_started=started,
        energy=4000,
        id_tag=None,
        user=None,
        type="api",
        payment=None,
    )
    mock_thor_client.running_charges.return_value = [running]
    await async_setup_entry(hass, mock_config_entry)
    assert (
        state_number(hass, "sensor.garage_energy_delivered") == 0
    )  # Running since before.

    mock_thor_client.running_charges.return_value = [replace(running, energy=5000)]
    await async_poll(hass, freezer, 31)
    assert state_number(hass, "sensor.garage_energy_delivered") == 1.0

    # Thor lists it as finished with 6 kWh while the running list still shows it.
    mock_thor_client.finished_charges_between.return_value = [
        FinishedCharge(
            id=77,
            chargebox=box.id,
            connector=1,
            date_started=started,
            date_finished=dt_util.utcnow(),
            energy=6000,
            id_tag=None,
            user=None,
            type="api",
            payment=None,
        )
    ]
    mock_thor_client.list_chargeboxes.return_value = [box]
    mock_thor_client.running_charges.return_value = []
    await async_poll(hass, freezer, 31)
    assert state_number(hass, "sensor.garage_energy_delivered") == 2.0
    mock_thor_client.list_chargeboxes.return_value = [
        replace(box, occupied_connectors=frozenset({1}))
    ]
    mock_thor_client.running_charges.return_value = [replace(running, energy=7000)]
    await async_next_idle_poll(hass, freezer)
    mock_thor_client.list_chargeboxes.return_value = [box]
    mock_thor_client.running_charges.return_value = []
    await async_poll(hass, freezer, 24 * 3600)
    assert state_number(hass, "sensor.garage_energy_delivered") == 2.0


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_a_session_ends_when_the_stop_notification_arrives(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """With push on, the stop ends the session at once; Thor's record completes it.

    Idle polls are then 5 minutes apart: the finished record, late at first, is read
    again a minute later all the same.
    """
    box = first_chargebox(simulator)
    simulator.chargeboxes[box].payment_free = False
    webhook_id = "thor-webhook-energy-0123456789"
    sim_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        sim_config_entry, options={CONF_PUSH: True, CONF_WEBHOOK_ID: webhook_id}
    )
    await async_setup_entry(hass, sim_config_entry)
    client = await hass_client_no_auth()
    simulator.notification_url = str(client.make_url(f"/api/webhook/{webhook_id}"))
    events = session_events(hass, sim_config_entry)
    simulator.start_rfid_charge(box, 1, CARD)
    await simulator.async_send_notifications()
    await async_poll(hass, freezer, 31)
    await async_poll(hass, freezer, 20 * 60)
    counted = state_number(hass, TOTAL)
    assert counted > 7  # 20 minutes at 22 kW

    simulator.faults.set(status=503, path="/charges/finished", count=1)
    freezer.tick(timedelta(seconds=20))  # Delivered after the last reading.
    simulator.end_charge(box, 1)
    await simulator.async_send_notifications()
    await hass.async_block_till_done()
    assert [e.type for e in events] == [
        SessionEventType.CHARGING_STARTED,
        SessionEventType.CHARGING_STOPPED,
    ]
    # With what is known then: at least what polls counted (the stop's own energy
    # when the notification gives it).
    stopped = events[-1].energy
    assert stopped is not None
    assert stopped >= counted
    assert state_number(hass, LAST_ENERGY_1) == stopped
    assert entity_state(hass, LAST_COST_1) == STATE_UNKNOWN

    await async_poll(hass, freezer, 31)
    await async_poll(hass, freezer, 31)
    (item,) = simulator.finished
    assert state_number(hass, LAST_ENERGY_1) == item["energy"] / 1000
    assert state_number(hass, TOTAL) == item["energy"] / 1000
    assert float(entity_state(hass, LAST_COST_1)) == item["payment"]["price"]
    assert dt_util.parse_datetime(entity_state(hass, LAST_END_1)) == (
        dt_util.utc_from_timestamp(item["date_finished"] // 1000)
    )
    assert len(events) == 2
