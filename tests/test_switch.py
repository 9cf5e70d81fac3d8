"""Tests of the charging switches, against the Thor simulator."""

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from datetime import timedelta
import itertools
import logging
import time
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.homeassistant.exposed_entities import (
    async_expose_entity,
)
from homeassistant.const import (
    CONF_API_KEY,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import entity_registry as er, intent
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed_exact,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.thor.charge_control import CONFIRM_INTERVAL, EVENT_COMMAND_FAILED
from custom_components.thor.const import (
    CONF_BASE_URL,
    CONF_CHARGEBOX_ID,
    CONF_ENVIRONMENT,
    DOMAIN,
)
from custom_components.thor.store import storage_key
from thor_simulator import ThorSimulator

from .conftest import (
    API_KEY,
    account_entry,
    async_poll,
    async_poll_steps,
    async_setup_entry,
    async_switch,
    entity_state,
    put_stored_id_tags,
    snapshot_entities,
    subentry_id,
)

SWITCH_1 = "switch.garage_connector_1_charging"
SWITCH_2 = "switch.garage_connector_2_charging"
START = ("POST", "/latest/integration/charges/start")
STOP = ("POST", "/latest/integration/charges/stop")


STEP = 0.5
"""Seconds time moves per step, so that every quick read (1.5 s apart) happens."""
OCCUPIED_1 = "binary_sensor.garage_connector_1_occupied"


def _box_reads(simulator: ThorSimulator) -> int:
    """Return how many quick reads (running charges of one chargebox) were sent."""
    return simulator.request_counts.by_endpoint["GET /charges/running?chargebox"]


def _sent(simulator: ThorSimulator, request: tuple[str, str]) -> int:
    """Return how many times a request reached the simulator."""
    return simulator.requests.count(request)


@pytest.fixture(autouse=True)
def only_switches() -> Generator[None]:
    """Set up the switch platform only."""
    with patch("custom_components.thor.PLATFORMS", [Platform.SWITCH]):
        yield


async def test_entities(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """One charging switch per connector; on where a card charge runs."""
    await snapshot_entities(hass, entity_registry, snapshot, init_integration.entry_id)


type SimulatorFactory = Callable[..., Awaitable[tuple[ThorSimulator, MockConfigEntry]]]


@pytest.fixture
async def make_simulator(socket_enabled: None) -> AsyncGenerator[SimulatorFactory]:
    """Return a factory of started simulators with one chargebox and its entry."""
    started: list[ThorSimulator] = []

    async def _make(
        *,
        alias: str = "Garage",
        connectors: int = 2,
        start_delay: float = 0,
        stop_delay: float = 0,
    ) -> tuple[ThorSimulator, MockConfigEntry]:
        sim = ThorSimulator(
            api_key=API_KEY,
            start_delay=start_delay,
            stop_delay=stop_delay,
            start_rate_limit=0,
            # Looked up on each call, so the simulator follows `freezer`.
            clock=lambda: time.time(),  # noqa: PLW0108
        )
        box = sim.add_chargebox(alias=alias, connectors=connectors)
        await sim.start(host="127.0.0.1", port=0)
        started.append(sim)
        return sim, account_entry((box.id, alias), base_url=sim.base_url)

    yield _make
    for sim in started:
        await sim.stop()


@pytest.fixture
async def slow_simulator(
    make_simulator: SimulatorFactory,
) -> tuple[ThorSimulator, MockConfigEntry]:
    """Return a simulator whose chargebox takes 30 s to start and 15 s to stop."""
    return await make_simulator(start_delay=30, stop_delay=15)


async def test_switches_follow_running_charges(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """One switch per connector, on while a charge runs there, whoever started it."""
    await async_setup_entry(hass, sim_config_entry)
    (chargebox_id,) = simulator.chargeboxes
    assert entity_state(hass, SWITCH_1) == STATE_OFF
    assert entity_state(hass, SWITCH_2) == STATE_OFF
    entry = entity_registry.async_get(SWITCH_1)
    assert entry is not None
    assert entry.unique_id == f"{chargebox_id}_1_charging"
    assert entry.translation_key == "connector_charging"

    simulator.start_rfid_charge(chargebox_id, 2, "04A1B2C3D4")
    await async_poll(hass, freezer, 60)
    assert entity_state(hass, SWITCH_1) == STATE_OFF
    assert entity_state(hass, SWITCH_2) == STATE_ON


async def test_single_connector_switch_is_named_charging(
    hass: HomeAssistant,
    make_simulator: SimulatorFactory,
    freezer: FrozenDateTimeFactory,
) -> None:
    """On a one-connector chargebox the switch is just "Charging"."""
    sim, entry = await make_simulator(alias="Carport", connectors=1)
    await async_setup_entry(hass, entry)
    state = hass.states.get("switch.carport_charging")
    assert state is not None
    assert state.attributes["friendly_name"] == "Carport Charging"
    await async_switch(hass, "switch.carport_charging", on=True)
    await async_poll(hass, freezer, 2)
    assert entity_state(hass, "switch.carport_charging") == STATE_ON
    assert sim.running()[0]["connector"] == 1


async def test_start_and_stop_round_trip(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """Turning the switch on starts a charge, turning it off stops it."""
    entry = await async_setup_entry(hass, sim_config_entry)
    (chargebox_id,) = simulator.chargeboxes

    await async_switch(hass, SWITCH_1, on=True)
    assert entity_state(hass, SWITCH_1) == STATE_ON
    assert _sent(simulator, START) == 1
    (charge,) = simulator.running(chargebox_id)
    assert charge["connector"] == 1
    # The id_tag Thor returned is on disk, with the transaction once it shows up.
    key = f"{DOMAIN}.{entry.entry_id}"
    (stored,) = hass_storage[key]["data"]["charges"]
    assert (stored["chargebox"], stored["connector"]) == (chargebox_id, 1)
    assert stored["id_tag"] == simulator.app_tag(chargebox_id, 1)
    await async_poll(hass, freezer, 2)
    assert entity_state(hass, SWITCH_1) == STATE_ON
    (stored,) = hass_storage[key]["data"]["charges"]
    assert stored["transaction"] == charge["id"]

    await async_switch(hass, SWITCH_1, on=False)
    assert entity_state(hass, SWITCH_1) == STATE_OFF
    assert _sent(simulator, STOP) == 1
    assert simulator.running(chargebox_id) == []
    await async_poll(hass, freezer, 2)
    assert entity_state(hass, SWITCH_1) == STATE_OFF
    # One reading of a free connector is not proof enough to forget the id_tag...
    assert hass_storage[key]["data"]["charges"]
    # ...a second one is: the charge is gone, and so is its id_tag.
    await async_poll(hass, freezer, 60)
    assert hass_storage[key]["data"]["charges"] == []
    assert simulator.finished[0]["id"] == charge["id"]


async def test_turning_on_twice_sends_one_start(
    hass: HomeAssistant, simulator: ThorSimulator, sim_config_entry: MockConfigEntry
) -> None:
    """A double tap, or a switch already on, starts one charge only."""
    await async_setup_entry(hass, sim_config_entry)
    await asyncio.gather(
        async_switch(hass, SWITCH_1, on=True),
        async_switch(hass, SWITCH_1, on=True),
    )
    assert _sent(simulator, START) == 1
    await async_switch(hass, SWITCH_1, on=True)
    assert _sent(simulator, START) == 1
    assert entity_state(hass, SWITCH_1) == STATE_ON

    await async_switch(hass, SWITCH_1, on=False)
    await async_switch(hass, SWITCH_1, on=False)
    assert _sent(simulator, STOP) == 1
    assert entity_state(hass, SWITCH_1) == STATE_OFF


async def test_rejected_start_reverts_once(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A start the chargebox never carries out shows as on, then reverts with an event."""
    entry = await async_setup_entry(hass, sim_config_entry)
    (chargebox_id,) = simulator.chargeboxes
    simulator.chargeboxes[chargebox_id].reject_starts = True
    events = async_capture_events(hass, EVENT_COMMAND_FAILED)

    await async_switch(hass, SWITCH_1, on=True)
    assert entity_state(hass, SWITCH_1) == STATE_ON
    # Quick reads find no charge, but the switch does not flip back in the window
    # (async_poll runs timers up to 0.5 s early: the end of the window at 120 s
    # may come at 119.5 s).
    for _ in range(int(119 / STEP)):
        await async_poll(hass, freezer, STEP)
        assert entity_state(hass, SWITCH_1) == STATE_ON
    assert _box_reads(simulator) > 40
    assert events == []

    await async_poll(hass, freezer, 1)
    assert entity_state(hass, SWITCH_1) == STATE_OFF
    assert len(events) == 1
    assert events[0].data == {
        "config_entry_id": entry.entry_id,
        "chargebox": chargebox_id,
        "connector": 1,
        "command": "start",
        "reason": "not_confirmed",
    }
    warnings = [
        record
        for record in caplog.records
        if record.levelno == logging.WARNING
        and record.name.startswith("custom_components.thor")
    ]
    assert len(warnings) == 1
    assert "start command for connector 1 of Garage" in warnings[0].getMessage()

    # Back to normal polling: nothing more happens.
    await async_poll(hass, freezer, 300)
    assert entity_state(hass, SWITCH_1) == STATE_OFF
    assert len(events) == 1
    assert _sent(simulator, START) == 1


async def test_slow_chargebox_confirms_without_flip_back(
    hass: HomeAssistant,
    slow_simulator: tuple[ThorSimulator, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Refreshes that still show the old state inside the window do not flip back."""
    sim, entry = slow_simulator
    await async_setup_entry(hass, entry)
    events = async_capture_events(hass, EVENT_COMMAND_FAILED)

    await async_switch(hass, SWITCH_1, on=True)
    for seconds in (2, 3, 5, 10):
        await async_poll(hass, freezer, seconds)
        assert sim.running() == []
        assert entity_state(hass, SWITCH_1) == STATE_ON
    await async_poll(hass, freezer, 20)
    assert sim.running() != []
    assert entity_state(hass, SWITCH_1) == STATE_ON

    await async_switch(hass, SWITCH_1, on=False)
    assert entity_state(hass, SWITCH_1) == STATE_OFF
    for seconds in (2, 3, 5):
        await async_poll(hass, freezer, seconds)
        assert sim.running() != []
        assert entity_state(hass, SWITCH_1) == STATE_OFF
    await async_poll(hass, freezer, 10)
    assert sim.running() == []
    assert entity_state(hass, SWITCH_1) == STATE_OFF

    # The windows of both commands pass without any complaint.
    await async_poll(hass, freezer, 200)
    assert events == []
    assert entity_state(hass, SWITCH_1) == STATE_OFF


async def test_changing_mind_while_a_start_is_pending(
    hass: HomeAssistant,
    slow_simulator: tuple[ThorSimulator, MockConfigEntry],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Turning off before the charge shows up cancels it with the stored id_tag."""
    sim, entry = slow_simulator
    await async_setup_entry(hass, entry)
    events = async_capture_events(hass, EVENT_COMMAND_FAILED)

    await async_switch(hass, SWITCH_1, on=True)
    await async_poll(hass, freezer, 2)
    await async_switch(hass, SWITCH_1, on=False)
    assert entity_state(hass, SWITCH_1) == STATE_OFF
    assert sim.pending_starts() == []
    await async_poll(hass, freezer, 200)
    assert entity_state(hass, SWITCH_1) == STATE_OFF
    assert sim.running() == []
    assert events == []


async def test_app_started_charge_is_refused(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A charge started from the Thor app cannot be stopped here, and the user is told."""
    await async_setup_entry(hass, sim_config_entry)
    (chargebox_id,) = simulator.chargeboxes
    simulator.start_app_charge(chargebox_id, 1)
    await async_poll(hass, freezer, 60)
    assert entity_state(hass, SWITCH_1) == STATE_ON

    with pytest.raises(ServiceValidationError) as err:
        await async_switch(hass, SWITCH_1, on=False)
    assert err.value.translation_key == "charge_started_elsewhere"
    assert err.value.translation_placeholders["connector"] == "1"
    assert _sent(simulator, STOP) == 0
    assert entity_state(hass, SWITCH_1) == STATE_ON


async def test_card_charge_is_stopped(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A charge started with an RFID card stops with the card's id_tag."""
    await async_setup_entry(hass, sim_config_entry)
    (chargebox_id,) = simulator.chargeboxes
    transaction = simulator.start_rfid_charge(chargebox_id, 2, "04A1B2C3D4")
    await async_poll(hass, freezer, 60)
    assert entity_state(hass, SWITCH_2) == STATE_ON

    await async_switch(hass, SWITCH_2, on=False)
    await async_poll(hass, freezer, 2)
    assert entity_state(hass, SWITCH_2) == STATE_OFF
    assert simulator.finished[0]["id"] == transaction
    assert simulator.finished[0]["id_tag"] == "04A1B2C3D4"


async def test_id_tag_survives_reload(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A charge started before a reload is stopped after it."""
    entry = await async_setup_entry(hass, sim_config_entry)
    (chargebox_id,) = simulator.chargeboxes
    await async_switch(hass, SWITCH_1, on=True)
    await async_poll(hass, freezer, 2)

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entity_state(hass, SWITCH_1) == STATE_ON

    await async_switch(hass, SWITCH_1, on=False)
    await async_poll(hass, freezer, 2)
    assert entity_state(hass, SWITCH_1) == STATE_OFF
    assert simulator.running(chargebox_id) == []


async def test_id_tag_stored_before_the_upgrade_stops_its_charge(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """A charge started before the upgrade to account entries is stopped after it.

    Version 1 had one entry per chargebox and kept its id_tags nested by chargebox.
    """
    (chargebox_id,) = simulator.chargeboxes
    id_tag = simulator.api_start({"chargebox": chargebox_id, "connector": 1})
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Garage",
        unique_id=chargebox_id,
        version=1,
        data={
            CONF_API_KEY: API_KEY,
            CONF_ENVIRONMENT: "production",
            CONF_CHARGEBOX_ID: chargebox_id,
            CONF_BASE_URL: simulator.base_url,
        },
    )
    key = storage_key(entry.entry_id)
    put_stored_id_tags(
        hass_storage,
        entry,
        {
            "charges": {
                chargebox_id: {
                    "1": {
                        "id_tag": id_tag,
                        "transaction": None,
                        "confirmed": False,
                        "requested": "2026-01-01T10:00:00+00:00",
                    }
                }
            }
        },
        version=1,
    )
    await async_setup_entry(hass, entry)
    assert entry.version == 2
    assert subentry_id(entry, chargebox_id)
    assert entity_state(hass, SWITCH_1) == STATE_ON

    await async_switch(hass, SWITCH_1, on=False)
    # Thor accepted the stop: the id_tag was the right one.
    assert simulator.running(chargebox_id) == []
    assert [charge["connector"] for charge in simulator.finished] == [1]
    await async_poll(hass, freezer, 2)
    assert entity_state(hass, SWITCH_1) == STATE_OFF
    assert simulator.running(chargebox_id) == []
    await async_poll(hass, freezer, 60)
    assert hass_storage[key]["version"] == 2
    assert hass_storage[key]["data"] == {"charges": []}


async def test_unload_during_confirmation(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Unloading while a command awaits confirmation leaves nothing running."""
    entry = await async_setup_entry(hass, sim_config_entry)
    (chargebox_id,) = simulator.chargeboxes
    simulator.chargeboxes[chargebox_id].reject_starts = True
    events = async_capture_events(hass, EVENT_COMMAND_FAILED)
    await async_switch(hass, SWITCH_1, on=True)
    assert await hass.config_entries.async_unload(entry.entry_id)
    await async_poll(hass, freezer, 200)
    assert entity_state(hass, SWITCH_1) == STATE_UNAVAILABLE
    assert events == []


async def test_voice_turns_charging_on_and_off(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Asking the voice assistant to turn the switch on and off starts and stops."""
    assert await async_setup_component(hass, "homeassistant", {})
    assert await async_setup_component(hass, "intent", {})
    await async_setup_entry(hass, sim_config_entry)
    (chargebox_id,) = simulator.chargeboxes
    async_expose_entity(hass, "conversation", SWITCH_1, True)

    response = await intent.async_handle(
        hass,
        "test",
        intent.INTENT_TURN_ON,
        {"name": {"value": "Garage Connector 1 charging"}},
        assistant="conversation",
    )
    assert response.response_type is intent.IntentResponseType.ACTION_DONE
    await hass.async_block_till_done()
    assert entity_state(hass, SWITCH_1) == STATE_ON
    assert simulator.running(chargebox_id)[0]["connector"] == 1

    await async_poll(hass, freezer, 2)
    response = await intent.async_handle(
        hass,
        "test",
        intent.INTENT_TURN_OFF,
        {"name": {"value": "Garage Connector 1 charging"}},
        assistant="conversation",
    )
    assert response.response_type is intent.IntentResponseType.ACTION_DONE
    await hass.async_block_till_done()
    assert entity_state(hass, SWITCH_1) == STATE_OFF
    assert simulator.running(chargebox_id) == []
    assert _sent(simulator, START) == 1
    assert _sent(simulator, STOP) == 1


async def test_start_confirmed_by_the_last_poll(
    hass: HomeAssistant,
    make_simulator: SimulatorFactory,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A chargebox that starts just before the window ends still shows as charging."""
    sim, entry = await make_simulator(start_delay=110)
    await async_setup_entry(hass, entry)
    events = async_capture_events(hass, EVENT_COMMAND_FAILED)
    await async_switch(hass, SWITCH_1, on=True)
    for seconds in (2, 3, 5, 10, 20, 60):
        await async_poll(hass, freezer, seconds)
        assert sim.running() == []
        assert entity_state(hass, SWITCH_1) == STATE_ON
    await async_poll(hass, freezer, 20)
    assert sim.running() != []
    assert entity_state(hass, SWITCH_1) == STATE_ON
    await async_poll(hass, freezer, 300)
    assert entity_state(hass, SWITCH_1) == STATE_ON
    assert events == []


# ------------------------------------------------- confirmation by quick reads


@pytest.mark.parametrize("delay", [1, 3, 6, 11, 45])
async def test_chargebox_that_acts_late_is_confirmed_within_two_seconds(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    delay: float,
) -> None:
    """A start, and then a stop, are confirmed by d + 2 s when the box acts after d s.

    Until then the switch shows the requested state; once confirmed the occupied
    sensor agrees with it and the quick reads of the chargebox stop.
    """
    with patch(
        "custom_components.thor.PLATFORMS", [Platform.BINARY_SENSOR, Platform.SWITCH]
    ):
        await async_setup_entry(hass, sim_config_entry)
    (chargebox_id,) = simulator.chargeboxes
    controller = sim_config_entry.runtime_data.controller_of(chargebox_id)
    assert controller is not None
    simulator.start_delay = delay
    simulator.stop_delay = delay
    events = async_capture_events(hass, EVENT_COMMAND_FAILED)

    for on in (True, False):
        await async_switch(hass, SWITCH_1, on=on)
        elapsed = 0.0
        while controller.pending(1) is not None:
            assert elapsed < delay + 2, f"not confirmed {delay + 2} s after the command"
            # The old state read meanwhile does not flip the switch back.
            assert entity_state(hass, SWITCH_1) == (STATE_ON if on else STATE_OFF)
            await async_poll(hass, freezer, STEP)
            elapsed += STEP
        assert elapsed >= delay
        assert bool(simulator.running(chargebox_id)) is on
        assert entity_state(hass, OCCUPIED_1) == (STATE_ON if on else STATE_OFF)
        assert entity_state(hass, SWITCH_1) == (STATE_ON if on else STATE_OFF)

        # Confirmed: no more quick reads, whatever the polls do.
        reads = _box_reads(simulator)
        await async_poll_steps(hass, freezer, 150)
        assert _box_reads(simulator) == reads
        assert entity_state(hass, SWITCH_1) == (STATE_ON if on else STATE_OFF)
    assert events == []


@pytest.mark.parametrize("delay", [1.6, 10.6, 59.9])
async def test_confirmation_time_with_timers_run_on_time(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    delay: float,
) -> None:
    """The d + 2 s bound holds with the quick reads exactly 1.5 s apart.

    `async_poll` runs timers up to 0.5 s early, so under it the reads come every
    1.0 s; here each timer runs when due, and the box acts just after a read.
    """
    await async_setup_entry(hass, sim_config_entry)
    (chargebox_id,) = simulator.chargeboxes
    controller = sim_config_entry.runtime_data.controller_of(chargebox_id)
    assert controller is not None
    simulator.start_delay = delay
    await async_switch(hass, SWITCH_1, on=True)
    elapsed = 0.0
    while controller.pending(1) is not None:
        assert elapsed < delay + 2, f"not confirmed {delay + 2} s after the command"
        freezer.tick(timedelta(seconds=0.1))
        async_fire_time_changed_exact(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
        elapsed = round(elapsed + 0.1, 1)
    assert delay <= elapsed <= delay + CONFIRM_INTERVAL + 0.1
    assert entity_state(hass, SWITCH_1) == STATE_ON
    assert simulator.running(chargebox_id)


async def test_quick_reads_ease_off_after_a_minute(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Unconfirmed, the box is read every 1.5 s for 60 s, then every 10 s, up to 120 s."""
    await async_setup_entry(hass, sim_config_entry)
    (chargebox_id,) = simulator.chargeboxes
    simulator.chargeboxes[chargebox_id].reject_starts = True
    events = async_capture_events(hass, EVENT_COMMAND_FAILED)
    await async_switch(hass, SWITCH_1, on=True)

    # When each quick read was sent, in seconds after the command.
    sent_at: list[float] = []
    for step in range(1, int(300 / STEP) + 1):
        before = _box_reads(simulator)
        await async_poll(hass, freezer, STEP)
        sent_at += [step * STEP] * (_box_reads(simulator) - before)
    # async_poll runs timers up to 0.5 s early: a read planned every 1.5 s comes at
    # least as often, one planned every 10 s within a step of 10 s.
    fast = [at for at in sent_at if at <= 60]
    assert len(fast) >= 60 / 1.5
    slow = [at for at in sent_at if 60 + 1.5 < at < 120 - STEP]
    assert 5 <= len(slow) <= 6
    assert all(
        abs(later - earlier - 10) <= STEP for earlier, later in itertools.pairwise(slow)
    )
    # A last read at the end of the window, then none: the start is given up.
    assert 120 - STEP <= sent_at[-1] <= 120
    assert [event.data["reason"] for event in events] == ["not_confirmed"]
    assert entity_state(hass, SWITCH_1) == STATE_OFF
