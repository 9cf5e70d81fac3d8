"""Tests of the Thor event entities."""

from collections.abc import Generator
from dataclasses import replace
from datetime import UTC, datetime
import json
from unittest.mock import MagicMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.event import ATTR_EVENT_TYPE, ATTR_EVENT_TYPES
from homeassistant.const import (
    EVENT_STATE_CHANGED,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    Platform,
)
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_send
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.thor.charge_control import (
    EVENT_COMMAND_FAILED,
    ChargeCommand,
    FailureReason,
)
from custom_components.thor.energy import (
    SessionEvent,
    SessionEventType,
    session_signal,
)
from thor_simulator import ThorSimulator

from .conftest import CHARGEBOX_ID, async_poll, async_setup_entry, subentry_id

EVENT_1 = "event.garage_connector_1_charging_session"
EVENT_2 = "event.garage_connector_2_charging_session"
STARTED = datetime(2025, 3, 1, 18, 30, tzinfo=UTC)
ENDED = datetime(2025, 3, 1, 20, 45, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def only_events() -> Generator[None]:
    """Set up the event platform only."""
    with patch("custom_components.thor.PLATFORMS", [Platform.EVENT]):
        yield


def session_event(
    kind: SessionEventType,
    *,
    chargebox: str = CHARGEBOX_ID,
    connector: int = 1,
) -> SessionEvent:
    """Return a session event of a charge on a connector."""
    stopped = kind is SessionEventType.CHARGING_STOPPED
    return SessionEvent(
        type=kind,
        chargebox=chargebox,
        connector=connector,
        transaction=4711,
        started=STARTED,
        ended=ENDED if stopped else None,
        energy=12.34567 if stopped else 0.0,
        duration=8130.4 if stopped else None,
        started_by="api",
    )


@callback
def _count_writes(hass: HomeAssistant, entity_id: str) -> list[Event]:
    """Collect the state writes of an entity."""
    writes: list[Event] = []
    hass.bus.async_listen(
        EVENT_STATE_CHANGED,
        writes.append,
        event_filter=callback(lambda data: data["entity_id"] == entity_id),
    )
    return writes


def _send(hass: HomeAssistant, entry_id: str, event: SessionEvent) -> None:
    """Send a session event as the energy tracker does (to the account and connector)."""
    async_dispatcher_send(hass, session_signal(entry_id), event)
    async_dispatcher_send(
        hass, session_signal(entry_id, event.chargebox, event.connector), event
    )


async def test_entities(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Each connector of a two-connector box has its event entity, named after it."""
    for connector, entity_id in ((1, EVENT_1), (2, EVENT_2)):
        state = hass.states.get(entity_id)
        assert state is not None
        assert state.state == STATE_UNKNOWN
        assert state.attributes[ATTR_EVENT_TYPES] == [
            "charging_started",
            "charging_stopped",
            "command_failed",
        ]
        assert (
            state.attributes["friendly_name"]
            == f"Garage Connector {connector} charging session"
        )
        entry = entity_registry.async_get(entity_id)
        assert entry is not None
        assert entry.unique_id == f"{CHARGEBOX_ID}_{connector}_charging"
        assert entry.translation_key == "connector_charging"
        assert entry.config_subentry_id == subentry_id(init_integration, CHARGEBOX_ID)


@pytest.mark.parametrize("chargebox_fixture", ["chargebox_single.json"])
@pytest.mark.parametrize("running_charges_fixture", ["running_charges_empty.json"])
@pytest.mark.usefixtures("init_integration")
async def test_single_connector_name(
    hass: HomeAssistant, entity_registry: er.EntityRegistry
) -> None:
    """A one-connector box does not number its connector in the name."""
    state = hass.states.get("event.carport_charging_session")
    assert state is not None
    assert state.attributes["friendly_name"] == "Carport Charging session"
    entry = entity_registry.async_get("event.carport_charging_session")
    assert entry is not None
    assert entry.translation_key == "charging"


async def test_session_events(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A session event of its connector triggers the entity, with its attributes."""
    entry_id = init_integration.entry_id
    _send(hass, entry_id, session_event(SessionEventType.CHARGING_STARTED))
    await hass.async_block_till_done()

    state = hass.states.get(EVENT_1)
    assert state.state != STATE_UNKNOWN
    assert state.attributes[ATTR_EVENT_TYPE] == "charging_started"
    assert state.attributes["started"] == "2025-03-01T18:30:00+00:00"
    assert state.attributes["energy"] == 0.0
    assert state.attributes["transaction"] == 4711
    assert state.attributes["started_by"] == "api"
    assert "ended" not in state.attributes
    assert "duration" not in state.attributes
    assert hass.states.get(EVENT_2).state == STATE_UNKNOWN
    started_at = state.state

    _send(hass, entry_id, session_event(SessionEventType.CHARGING_STOPPED))
    await hass.async_block_till_done()
    state = hass.states.get(EVENT_1)
    assert state.state != started_at
    assert state.attributes[ATTR_EVENT_TYPE] == "charging_stopped"
    assert state.attributes["ended"] == "2025-03-01T20:45:30+00:00"
    assert state.attributes["energy"] == 12.346
    assert state.attributes["duration"] == 8130
    assert isinstance(state.attributes["duration"], int)
    # What the state machine holds can be stored and sent as JSON.
    json.dumps(dict(state.attributes))
    assert hass.states.get(EVENT_2).state == STATE_UNKNOWN


async def test_session_events_of_others_are_ignored(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Events of another connector, chargebox or entry leave the entity alone."""
    writes = _count_writes(hass, EVENT_1)
    entry_id = init_integration.entry_id
    started = SessionEventType.CHARGING_STARTED
    _send(hass, entry_id, session_event(started, connector=2))
    _send(hass, entry_id, session_event(started, chargebox="other"))
    _send(hass, "another_entry", session_event(started))
    await hass.async_block_till_done()

    assert not writes
    assert hass.states.get(EVENT_1).state == STATE_UNKNOWN
    assert hass.states.get(EVENT_2).attributes[ATTR_EVENT_TYPE] == "charging_started"


async def test_command_failed(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """`thor_command_failed` triggers `command_failed` on its connector only."""
    data = {
        "config_entry_id": init_integration.entry_id,
        "chargebox": CHARGEBOX_ID,
        "connector": 2,
        "command": "start",
        "reason": "not_confirmed",
    }
    hass.bus.async_fire(EVENT_COMMAND_FAILED, {**data, "connector": 1})
    hass.bus.async_fire(EVENT_COMMAND_FAILED, {**data, "chargebox": "other"})
    hass.bus.async_fire(EVENT_COMMAND_FAILED, {**data, "config_entry_id": "other"})
    await hass.async_block_till_done()
    assert hass.states.get(EVENT_2).state == STATE_UNKNOWN

    hass.bus.async_fire(EVENT_COMMAND_FAILED, data)
    await hass.async_block_till_done()
    state = hass.states.get(EVENT_2)
    assert state.attributes[ATTR_EVENT_TYPE] == "command_failed"
    assert state.attributes["command"] == "start"
    assert state.attributes["reason"] == "not_confirmed"
    assert hass.states.get(EVENT_1).attributes[ATTR_EVENT_TYPE] == "command_failed"


async def test_command_failed_from_the_controller(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The event the charge controller fires reaches the entity."""
    controller = init_integration.runtime_data.controller_of(CHARGEBOX_ID)
    assert controller is not None
    controller._fire_failed(2, ChargeCommand.STOP, FailureReason.STOP_FAILED)
    await hass.async_block_till_done()
    state = hass.states.get(EVENT_2)
    assert state.attributes[ATTR_EVENT_TYPE] == "command_failed"
    assert state.attributes["command"] == "stop"
    assert state.attributes["reason"] == "stop_failed"


async def test_command_throttled(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A start refused by Thor's throttle tells how long to wait, for automations."""
    controller = init_integration.runtime_data.controller_of(CHARGEBOX_ID)
    assert controller is not None
    controller._fire_failed(
        1, ChargeCommand.START, FailureReason.RATE_LIMITED, retry_after=30
    )
    await hass.async_block_till_done()
    state = hass.states.get(EVENT_1)
    assert state.attributes[ATTR_EVENT_TYPE] == "command_failed"
    assert state.attributes["reason"] == "rate_limited"
    assert state.attributes["retry_after"] == 30


async def test_idle_polls_write_nothing(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    init_integration: MockConfigEntry,
    mock_thor_client: MagicMock,
) -> None:
    """Polls write no state, before or after an event; availability still shows."""
    writes = _count_writes(hass, EVENT_1)
    for _ in range(5):
        await async_poll(hass, freezer, 60)
    assert not writes

    _send(
        hass,
        init_integration.entry_id,
        session_event(SessionEventType.CHARGING_STARTED),
    )
    await hass.async_block_till_done()
    assert len(writes) == 1
    triggered = hass.states.get(EVENT_1).state
    for _ in range(5):
        await async_poll(hass, freezer, 60)
    assert len(writes) == 1

    # A connector the box no longer reports makes the entity unavailable, once.
    (chargebox,) = mock_thor_client.list_chargeboxes.return_value
    mock_thor_client.list_chargeboxes.return_value = [
        replace(chargebox, connectors=chargebox.connectors[1:])
    ]
    await async_poll(hass, freezer, 60)
    await async_poll(hass, freezer, 60)
    assert len(writes) == 2
    assert hass.states.get(EVENT_1).state == STATE_UNAVAILABLE

    mock_thor_client.list_chargeboxes.return_value = [chargebox]
    await async_poll(hass, freezer, 60)
    await async_poll(hass, freezer, 60)
    assert len(writes) == 3
    assert hass.states.get(EVENT_1).state == triggered


async def test_idle_hour_on_simulator_writes_nothing(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
) -> None:
    """An hour of polls of an idle simulated charger writes no event state."""
    await async_setup_entry(hass, sim_config_entry)
    writes = _count_writes(hass, EVENT_1)
    polls = len(simulator.requests)

    for _ in range(60):
        await async_poll(hass, freezer, 60)
    assert len(simulator.requests) - polls >= 60
    assert writes == []
    assert hass.states.get(EVENT_1).state == STATE_UNKNOWN

    assert await hass.config_entries.async_unload(sim_config_entry.entry_id)
