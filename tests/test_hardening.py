"""Regression tests of faults and bad input that used to hurt (the hardening issue).

Each test names the numbered item of the issue it guards. The client-level halves of
these items (Retry-After parsing, redaction, trusted codes, URL and key validation, deep
JSON, bounded strings) are tested in tests/thor_api/.
"""

import asyncio
from dataclasses import replace
import itertools
import logging
from typing import Any
from unittest.mock import MagicMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_API_KEY, STATE_OFF, STATE_ON, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)

from custom_components.thor.charge_control import (
    CONFIRM_FAST_PERIOD,
    CONFIRM_INTERVAL,
    CONFIRM_SLOW_INTERVAL,
    CONFIRM_WINDOW,
    EVENT_COMMAND_FAILED,
)
from custom_components.thor.const import CONF_ENVIRONMENT, DOMAIN
from custom_components.thor.diagnostics import async_get_config_entry_diagnostics
from custom_components.thor.errors import classify
from custom_components.thor.thor_api import (
    DEFAULT_MAX_BACKOFF,
    DEFAULT_MIN_BACKOFF,
    DEFAULT_RATE_LIMIT_BACKOFF,
    PRODUCTION_BASE_URL,
    Chargebox,
    RunningCharge,
    ThorAccessDeniedError,
    ThorNotInTransactionError,
    ThorRateLimitError,
    ThorResponseError,
    ThorServerError,
    ThorTimeoutError,
)
from thor_simulator import ThorSimulator

from .conftest import (
    API_KEY,
    CHARGEBOX_ID,
    async_next_idle_poll,
    async_poll,
    async_poll_steps,
    async_setup_entry,
    async_switch,
    entity_state,
    load_json_fixture,
    stored_id_tags,
)

SWITCH_1 = "switch.garage_connector_1_charging"
SWITCH_2 = "switch.garage_connector_2_charging"
CONNECTED = "binary_sensor.garage_connected"
ID_TAG = "q8w7e6r5t4y3u2i1o0pa"
STEP = 0.5
"""Seconds time moves per step where quick reads (every 1.5 s) must all happen."""
POLL = "GET /chargeboxes?onlyactive"
"""A poll: the chargebox list."""
READ_ONE_BOX = "GET /charges/running?chargebox"
"""A quick read: the running charges of one chargebox."""


def _requests(simulator: ThorSimulator) -> int:
    """Return how many API requests the simulator received."""
    return len(simulator.requests)


def _charge(connector: int, transaction: int = 2001) -> RunningCharge:
    """Return a running charge as Thor shows API starts: no id_tag."""
    return RunningCharge(
        id=transaction,
        chargebox=CHARGEBOX_ID,
        connector=connector,
        date_started=dt_util.utcnow(),
        energy=100,
        id_tag=None,
        user=None,
        type="remote",
        payment=None,
    )


def _show(
    client: MagicMock,
    *,
    occupied: set[int],
    charges: list[RunningCharge],
) -> None:
    """Make the mocked client answer these occupied connectors and running charges."""
    box: Chargebox = Chargebox.from_dict(load_json_fixture("chargebox.json"))
    client.list_chargeboxes.return_value = [
        replace(box, occupied_connectors=frozenset(occupied))
    ]
    client.running_charges.return_value = charges


async def _start_and_confirm(
    hass: HomeAssistant, client: MagicMock, freezer: FrozenDateTimeFactory
) -> None:
    """Turn connector 1 on and let Thor show the charge (transaction 2001)."""
    await async_switch(hass, SWITCH_1, on=True)
    _show(client, occupied={1}, charges=[_charge(1)])
    await async_poll(hass, freezer, 30)


@pytest.fixture
def idle_client(mock_thor_client: MagicMock) -> MagicMock:
    """Answer an idle chargebox and starts with an id_tag."""
    _show(mock_thor_client, occupied=set(), charges=[])
    mock_thor_client.start_charge.return_value = ID_TAG
    return mock_thor_client


@pytest.fixture
async def idle_entry(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, idle_client: MagicMock
) -> MockConfigEntry:
    """Return the loaded entry of an idle chargebox (the mocked `idle_client`)."""
    await async_setup_entry(hass, mock_config_entry)
    return mock_config_entry


# ------------------------------------------------------- 1 and 2: rate-limit bounds


async def test_1_retry_after_zero_storm_is_one_request_per_floor(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A 429 storm with `Retry-After: 0` gets at most one request per back-off floor."""
    await async_setup_entry(hass, sim_config_entry)
    simulator.faults.set(status=429, retry_after_seconds=0)
    before = _requests(simulator)

    window = 10 * 60
    for _ in range(window):
        await async_poll(hass, freezer, 1)

    sent = _requests(simulator) - before
    assert 1 <= sent <= window // DEFAULT_MIN_BACKOFF + 1
    assert entity_state(hass, CONNECTED) == STATE_UNAVAILABLE
    # It recovers by itself once Thor stops refusing.
    simulator.faults.clear()
    await async_poll(hass, freezer, DEFAULT_MIN_BACKOFF + 1)
    assert entity_state(hass, CONNECTED) == STATE_ON


@pytest.mark.parametrize("retry_after", ["-5", "Wed, 21 Oct 2015 07:28:00 GMT"])
async def test_1_retry_after_in_the_past_waits_the_floor(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    retry_after: str,
) -> None:
    """A negative or past Retry-After means the floor, not an immediate new poll."""
    await async_setup_entry(hass, sim_config_entry)
    simulator.faults.set(status=429, retry_after_header=retry_after)
    coordinator = sim_config_entry.runtime_data.coordinator
    await coordinator.async_refresh()
    before = _requests(simulator)
    await async_poll(hass, freezer, DEFAULT_MIN_BACKOFF - 1)
    assert _requests(simulator) == before
    await async_poll(hass, freezer, 2)
    assert _requests(simulator) == before + 1


@pytest.mark.parametrize("retry_after", ["1e9", "1e308"])
async def test_2_huge_retry_after_recovers_by_itself(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    retry_after: str,
) -> None:
    """A huge Retry-After is capped: polling resumes by itself, without a reload."""
    await async_setup_entry(hass, sim_config_entry)
    simulator.faults.set(status=429, retry_after_header=retry_after, count=1)
    await async_poll(hass, freezer, 60)
    assert entity_state(hass, CONNECTED) == STATE_UNAVAILABLE
    message = str(sim_config_entry.runtime_data.coordinator.last_exception)
    assert f"{DEFAULT_MAX_BACKOFF:.0f} s" in message

    await async_poll(hass, freezer, DEFAULT_MAX_BACKOFF + 1)
    assert entity_state(hass, CONNECTED) == STATE_ON


# ------------------------------------------------- 3: an inconsistent poll keeps id_tags


async def test_3_one_inconsistent_poll_keeps_the_id_tag(
    hass: HomeAssistant,
    idle_entry: MockConfigEntry,
    idle_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Running charges leaving a charge out while the box is busy loses nothing."""
    await _start_and_confirm(hass, idle_client, freezer)
    assert entity_state(hass, SWITCH_1) == STATE_ON

    # One answer without the charge, the chargebox still busy: nothing is forgotten.
    _show(idle_client, occupied={1}, charges=[])
    for _ in range(3):
        await async_poll(hass, freezer, 30)
    _show(idle_client, occupied={1}, charges=[_charge(1)])
    await async_poll(hass, freezer, 30)

    await async_switch(hass, SWITCH_1, on=False)
    idle_client.stop_charge.assert_awaited_once_with(CHARGEBOX_ID, 1, ID_TAG, 2001)


async def test_3_id_tag_forgotten_only_after_two_readings_of_a_free_connector(
    hass: HomeAssistant,
    idle_entry: MockConfigEntry,
    idle_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """One reading of a free connector is not enough; two are."""
    await _start_and_confirm(hass, idle_client, freezer)
    controller = idle_entry.runtime_data.controller_of(CHARGEBOX_ID)

    # Idle polls come every 60 s once the connector reads free.
    _show(idle_client, occupied=set(), charges=[])
    await async_poll(hass, freezer, 30)
    assert controller.as_diagnostics()["stored_charges"]
    # The charge comes back (the free reading was the odd one): the count restarts.
    _show(idle_client, occupied={1}, charges=[_charge(1)])
    await async_poll(hass, freezer, 60)
    _show(idle_client, occupied=set(), charges=[])
    await async_poll(hass, freezer, 30)
    assert controller.as_diagnostics()["stored_charges"]
    await async_poll(hass, freezer, 60)
    assert not controller.as_diagnostics()["stored_charges"]


async def test_3_simulated_omitted_running_charge(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Against the simulator: a running-charges answer without the charge loses nothing."""
    await async_setup_entry(hass, sim_config_entry)
    await async_switch(hass, SWITCH_1, on=True)
    await async_poll(hass, freezer, 5)
    assert entity_state(hass, SWITCH_1) == STATE_ON

    simulator.faults.set(omit_running=True, path="/charges/running", count=1)
    await async_poll(hass, freezer, 30)
    await async_poll(hass, freezer, 30)
    await async_switch(hass, SWITCH_1, on=False)
    await async_poll(hass, freezer, 5)
    assert entity_state(hass, SWITCH_1) == STATE_OFF
    box = next(iter(simulator.chargeboxes))
    assert simulator.running(box) == []


async def test_3_quick_reads_without_the_charge_keep_its_id_tag(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Confirmation reads that leave a running charge out do not forget its id_tag.

    They read running charges only: a charge missing there while the chargebox is
    busy is the inconsistency above, however many quick reads in a row show it.
    """
    await async_setup_entry(hass, sim_config_entry)
    (chargebox_id,) = simulator.chargeboxes
    controller = sim_config_entry.runtime_data.controller_of(chargebox_id)
    await async_switch(hass, SWITCH_1, on=True)
    await async_poll(hass, freezer, 2)
    assert controller.pending(1) is None
    assert controller.as_diagnostics()["stored_charges"]["1"]["confirmed"] is True

    # A start on connector 2 is followed by quick reads; Thor's next two answers
    # about running charges leave both charges out.
    simulator.faults.set(omit_running=True, path="/charges/running", count=2)
    await async_switch(hass, SWITCH_2, on=True)
    await async_poll_steps(hass, freezer, 6)
    assert not simulator.faults.active
    assert controller.pending(2) is None
    assert "1" in controller.as_diagnostics()["stored_charges"]
    assert entity_state(hass, SWITCH_1) == STATE_ON

    await async_switch(hass, SWITCH_1, on=False)
    await async_poll(hass, freezer, 2)
    assert [charge["connector"] for charge in simulator.running(chargebox_id)] == [2]
    assert entity_state(hass, SWITCH_1) == STATE_OFF


async def test_3_quick_reads_without_the_charge_do_not_turn_it_off(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A charge a quick read leaves out still shows: the chargebox says it is busy.

    A switch turning off for a few seconds would run automations ("charge ended")
    for a charge that never stopped.
    """
    await async_setup_entry(hass, sim_config_entry)
    await async_switch(hass, SWITCH_1, on=True)
    await async_poll(hass, freezer, 2)
    assert entity_state(hass, SWITCH_1) == STATE_ON

    simulator.faults.set(omit_running=True, path="/charges/running", count=2)
    await async_switch(hass, SWITCH_2, on=True)
    for _ in range(int(6 / STEP)):
        await async_poll(hass, freezer, STEP)
        assert entity_state(hass, SWITCH_1) == STATE_ON


# --------------------------------------------- 4: a stop during an in-flight start


async def test_4_switch_off_during_a_start_action_stops_the_charge(
    hass: HomeAssistant,
    idle_entry: MockConfigEntry,
    idle_client: MagicMock,
) -> None:
    """`switch.turn_off` while `thor.start_charge` waits for Thor stops that charge."""
    answer = asyncio.Event()

    async def _slow_start(*_args: Any) -> str:
        await answer.wait()
        return ID_TAG

    idle_client.start_charge.side_effect = _slow_start
    start = hass.async_create_task(
        hass.services.async_call(
            DOMAIN,
            "start_charge",
            {"config_entry_id": idle_entry.entry_id, "connector": 1},
            blocking=True,
        )
    )
    await asyncio.sleep(0)
    stop = hass.async_create_task(async_switch(hass, SWITCH_1, on=False))
    await asyncio.sleep(0)
    answer.set()
    await start
    await stop

    idle_client.stop_charge.assert_awaited_once_with(CHARGEBOX_ID, 1, ID_TAG, None)
    assert entity_state(hass, SWITCH_1) == STATE_OFF


async def test_4_stop_before_the_box_began_is_sent_when_the_charge_shows_up(
    hass: HomeAssistant,
    idle_entry: MockConfigEntry,
    idle_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """A stop Thor refuses because the box has not begun yet is sent once it has."""
    await async_switch(hass, SWITCH_1, on=True)
    idle_client.stop_charge.side_effect = [
        ThorNotInTransactionError("HTTP 400", code="NotInTransaction"),
        None,
    ]
    await async_switch(hass, SWITCH_1, on=False)
    assert entity_state(hass, SWITCH_1) == STATE_OFF
    # Kept on disk: a restart before the charge shows up still stops it.
    (stored,) = stored_id_tags(hass_storage, idle_entry)
    assert (stored["chargebox"], stored["connector"]) == (CHARGEBOX_ID, 1)
    assert stored["stop_requested"] is True

    # The chargebox begins the charge late: Home Assistant stops it by itself.
    _show(idle_client, occupied={1}, charges=[_charge(1)])
    await async_poll(hass, freezer, 30)
    assert idle_client.stop_charge.await_count == 2
    assert idle_client.stop_charge.await_args.args[:3] == (CHARGEBOX_ID, 1, ID_TAG)
    assert entity_state(hass, SWITCH_1) == STATE_OFF


async def test_4_simulated_stop_before_the_box_began(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Against a Thor that refuses to stop a start the box has not begun: it ends."""
    simulator.start_delay = 5
    simulator.cancel_pending_on_stop = False
    await async_setup_entry(hass, sim_config_entry)
    (chargebox_id,) = simulator.chargeboxes
    await async_switch(hass, SWITCH_1, on=True)
    await async_switch(hass, SWITCH_1, on=False)
    assert entity_state(hass, SWITCH_1) == STATE_OFF

    for _ in range(10):
        await async_poll(hass, freezer, 1)
    # The charge began 5 s after the start, and Home Assistant stopped it.
    assert simulator.running(chargebox_id) == []
    assert [charge["connector"] for charge in simulator.finished] == [1]
    assert entity_state(hass, SWITCH_1) == STATE_OFF


async def test_4_stop_kept_quietly_when_the_charge_never_begins(
    hass: HomeAssistant,
    idle_entry: MockConfigEntry,
    idle_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The chargebox never begins: off was asked and is shown, nothing is reported."""
    events = async_capture_events(hass, EVENT_COMMAND_FAILED)
    await async_switch(hass, SWITCH_1, on=True)
    idle_client.stop_charge.side_effect = ThorNotInTransactionError(
        "HTTP 400", code="NotInTransaction"
    )
    await async_switch(hass, SWITCH_1, on=False)
    for _ in range(5):
        await async_poll(hass, freezer, 30)
    assert entity_state(hass, SWITCH_1) == STATE_OFF
    assert events == []
    assert not [
        record
        for record in caplog.records
        if record.levelno >= logging.WARNING
        and record.name.startswith("custom_components.thor")
    ]
    controller = idle_entry.runtime_data.controller_of(CHARGEBOX_ID)
    assert controller.as_diagnostics()["pending_commands"] == {}
    assert controller.as_diagnostics()["stored_charges"]["1"]["stop_requested"]


async def test_4_switch_leaves_a_connector_in_the_asked_state_alone(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, mock_thor_client: MagicMock
) -> None:
    """On while charging, or off while idle: the decision under the lock sends nothing."""
    await async_setup_entry(hass, mock_config_entry)
    assert entity_state(hass, SWITCH_2) == STATE_ON
    await async_switch(hass, SWITCH_2, on=True)
    await async_switch(hass, SWITCH_1, on=False)
    mock_thor_client.start_charge.assert_not_awaited()
    mock_thor_client.stop_charge.assert_not_awaited()


async def test_4_late_stop_that_thor_refuses_is_reported(
    hass: HomeAssistant,
    idle_entry: MockConfigEntry,
    idle_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A remembered stop refused once the charge shows up: a warning and an event."""
    events = async_capture_events(hass, EVENT_COMMAND_FAILED)
    await async_switch(hass, SWITCH_1, on=True)
    idle_client.stop_charge.side_effect = [
        ThorNotInTransactionError("HTTP 400", code="NotInTransaction"),
        ThorServerError("Thor answered HTTP 500", status=500),
    ]
    await async_switch(hass, SWITCH_1, on=False)
    _show(idle_client, occupied={1}, charges=[_charge(1)])
    await async_poll(hass, freezer, 30)

    assert [event.data["reason"] for event in events] == ["stop_failed"]
    assert "Could not stop the charge on connector 1" in caplog.text
    # Sent once: later polls do not repeat it.
    await async_poll(hass, freezer, 30)
    assert idle_client.stop_charge.await_count == 2
    assert entity_state(hass, SWITCH_1) == STATE_ON


# ------------------------------------------------------- 5: a start without answer


async def test_5_lost_start_answer_tells_the_truth(
    hass: HomeAssistant,
    idle_entry: MockConfigEntry,
    idle_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A start whose answer was lost says the charge may run, and fires an event."""
    events = async_capture_events(hass, EVENT_COMMAND_FAILED)
    idle_client.start_charge.side_effect = ThorTimeoutError("Timeout after 15 s")

    with pytest.raises(HomeAssistantError) as err:
        await async_switch(hass, SWITCH_1, on=True)
    assert err.value.translation_key == "start_unanswered"
    assert entity_state(hass, SWITCH_1) == STATE_OFF
    assert [event.data for event in events] == [
        {
            "config_entry_id": idle_entry.entry_id,
            "chargebox": CHARGEBOX_ID,
            "connector": 1,
            "command": "start",
            "reason": "no_answer",
        }
    ]
    assert "may have started" in caplog.text

    # Thor did start it: the switch shows it, and a stop explains why it cannot.
    _show(idle_client, occupied={1}, charges=[_charge(1)])
    await async_poll(hass, freezer, 2)
    assert entity_state(hass, SWITCH_1) == STATE_ON
    with pytest.raises(ServiceValidationError) as err:
        await async_switch(hass, SWITCH_1, on=False)
    assert err.value.translation_key == "stop_unanswered_start"
    idle_client.stop_charge.assert_not_awaited()


async def test_5_unanswered_start_is_forgotten_once_the_window_passed(
    hass: HomeAssistant,
    idle_entry: MockConfigEntry,
    idle_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Long after an unanswered start, a charge there is not blamed on it."""
    idle_client.start_charge.side_effect = ThorTimeoutError("Timeout after 15 s")
    for _ in range(2):
        with pytest.raises(HomeAssistantError):
            await async_switch(hass, SWITCH_1, on=True)
    controller = idle_entry.runtime_data.controller_of(CHARGEBOX_ID)
    assert list(controller.as_diagnostics()["unanswered_starts"]) == ["1"]

    for _ in range(17):
        await async_poll(hass, freezer, 60)
    assert controller.as_diagnostics()["unanswered_starts"] == {}
    _show(idle_client, occupied={1}, charges=[_charge(1)])
    await async_poll(hass, freezer, 60)
    with pytest.raises(ServiceValidationError) as err:
        await async_switch(hass, SWITCH_1, on=False)
    assert err.value.translation_key == "charge_started_elsewhere"


async def test_5_unanswered_start_reads_the_box_for_the_window(
    hass: HomeAssistant,
    idle_entry: MockConfigEntry,
    idle_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """After a start without answer this box is read quickly, then slowly, then not."""
    idle_client.start_charge.side_effect = ThorTimeoutError("Timeout after 15 s")
    with pytest.raises(HomeAssistantError):
        await async_switch(hass, SWITCH_1, on=True)

    def reads() -> int:
        return sum(
            1
            for sent in idle_client.running_charges.await_args_list
            if sent.args == (CHARGEBOX_ID,)
        )

    # When each read of the box was sent, in seconds after the start.
    sent_at: list[float] = []
    for step in range(1, int((CONFIRM_WINDOW + 300) / STEP) + 1):
        before = reads()
        await async_poll(hass, freezer, STEP)
        sent_at += [step * STEP] * (reads() - before)
    # async_poll runs timers up to 0.5 s early: a read planned every 1.5 s comes
    # at least as often, one planned every 10 s within a step of 10 s.
    fast = [at for at in sent_at if at <= CONFIRM_FAST_PERIOD]
    assert len(fast) >= CONFIRM_FAST_PERIOD / CONFIRM_INTERVAL
    slow = [at for at in sent_at if at > CONFIRM_FAST_PERIOD + CONFIRM_INTERVAL]
    assert 5 <= len(slow) <= 6
    assert all(
        abs(later - earlier - CONFIRM_SLOW_INTERVAL) <= STEP
        for earlier, later in itertools.pairwise(slow)
    )
    # None once the window is over.
    assert sent_at[-1] <= CONFIRM_WINDOW


async def test_5_malformed_start_answer_is_no_answer(
    hass: HomeAssistant, idle_entry: MockConfigEntry, idle_client: MagicMock
) -> None:
    """A 200 without an id_tag is a start that may have happened, too."""
    idle_client.start_charge.side_effect = ThorResponseError("no id_tag", status=200)
    with pytest.raises(HomeAssistantError) as err:
        await async_switch(hass, SWITCH_1, on=True)
    assert err.value.translation_key == "start_unanswered"


# ------------------------------------------------------------- 6: redaction


async def test_6_escaped_key_in_an_error_body_is_redacted(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A key echoed with JSON escapes reaches neither the failure nor the log."""
    await async_setup_entry(hass, sim_config_entry)
    escaped = "".join(f"\\u{ord(char):04x}" for char in API_KEY)
    simulator.faults.set(
        status=500, error_raw_body=f'{{"message": "bad key {escaped}"}}'
    )
    await sim_config_entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert entity_state(hass, CONNECTED) == STATE_UNAVAILABLE
    assert API_KEY not in str(sim_config_entry.runtime_data.coordinator.last_exception)
    assert API_KEY not in caplog.text


async def test_6_key_echoed_to_a_quick_read_stays_out_of_the_log(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A confirmation read failing with the key in its answer logs no key."""
    caplog.set_level(logging.DEBUG, logger="custom_components.thor")
    await async_setup_entry(hass, sim_config_entry)
    simulator.start_delay = 1000
    await async_switch(hass, SWITCH_1, on=True)
    simulator.faults.set(
        status=500,
        path="/charges/running",
        error_raw_body='{"message": "bad key {api_key}"}',
    )
    await async_poll_steps(hass, freezer, 5)
    assert simulator.request_counts.by_endpoint[READ_ONE_BOX] >= 3
    # The failure was logged, with Thor's answer, but not the key.
    assert "HTTP 500" in caplog.text
    assert API_KEY not in caplog.text


async def test_6_echoed_id_tag_stays_out_of_the_stop_message(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A stop error quoting the id_tag does not show it to the user."""
    await async_setup_entry(hass, sim_config_entry)
    result = await hass.services.async_call(
        DOMAIN,
        "start_charge",
        {"config_entry_id": sim_config_entry.entry_id, "connector": 1},
        blocking=True,
        return_response=True,
    )
    assert result is not None
    id_tag = str(result["id_tag"])
    await async_poll(hass, freezer, 5)
    simulator.faults.set(
        status=500,
        path="/charges/stop",
        error_raw_body='{"message": "cannot stop {id_tag}"}',
    )
    with pytest.raises(HomeAssistantError) as err:
        await async_switch(hass, SWITCH_1, on=False)
    assert err.value.translation_key == "server_error"
    assert id_tag not in str(err.value)


# --------------------------------------------------------- 7: codes are trusted


@pytest.mark.parametrize(
    ("status", "code"),
    [(500, "APIKeyNotFound"), (502, "RestAPINotEnabled"), (404, "APIKeyNotFound")],
)
async def test_7_code_with_the_wrong_status_does_not_decide(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    status: int,
    code: str,
) -> None:
    """A code quoted with a status Thor does not use for it starts no reauth, no repair."""
    await async_setup_entry(hass, sim_config_entry)
    simulator.faults.set(status=status, code=code)
    await sim_config_entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()
    assert entity_state(hass, CONNECTED) == STATE_UNAVAILABLE
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert not [
        issue
        for issue in ir.async_get(hass).issues.values()
        if issue.domain == DOMAIN and issue.translation_key != "chargebox_not_found"
    ]


async def test_7_text_mentioning_a_code_is_not_the_code(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
) -> None:
    """A 403 whose text only mentions a code is a plain refusal, not a bad key."""
    await async_setup_entry(hass, sim_config_entry)
    simulator.faults.set(
        status=403, error_raw_body="Proxy: upstream said APIKeyNotFound earlier"
    )
    coordinator = sim_config_entry.runtime_data.coordinator
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert coordinator.last_exception.translation_key == "access_denied"
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)


# ------------------------------------------------------ 8 and 10: the config flow


async def _user_step(hass: HomeAssistant, user_input: dict[str, Any]) -> Any:
    """Submit the first step of a new flow."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    return await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_API_KEY: API_KEY,
            CONF_ENVIRONMENT: "production",
            "advanced": {},
            **user_input,
        },
    )


@pytest.mark.parametrize(
    ("base_url", "error"),
    [
        ("https://xn--/", "invalid_url"),
        ("https://thor example.com/", "invalid_url"),
        ("https://" + "a" * 10_000 + ".com/", "invalid_url"),
        ("https://:secret@api.thor.tools/", "invalid_url"),
        ("https://user@api.thor.tools/", "invalid_url"),
        ("http://api.thor.tools/", "insecure_url"),
    ],
)
async def test_8_bad_base_urls_are_refused_in_the_form(
    hass: HomeAssistant, mock_thor_client: MagicMock, base_url: str, error: str
) -> None:
    """Every bad base URL gets a form error before any request; nothing crashes."""
    with patch("custom_components.thor.entries.ThorClient") as client_class:
        result = await _user_step(hass, {"advanced": {"base_url": base_url}})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"advanced": error}
    client_class.assert_not_called()


@pytest.mark.parametrize("api_key", ["abc\ndef", "abc\rdef", "abc\x00def", "a\u2028b"])
async def test_10_api_key_with_control_characters_is_refused(
    hass: HomeAssistant, api_key: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A key aiohttp cannot send gets a clear field error, no traceback, no request."""
    with patch("custom_components.thor.entries.ThorClient") as client_class:
        result = await _user_step(hass, {CONF_API_KEY: api_key})
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_API_KEY: "invalid_api_key"}
    client_class.assert_not_called()
    assert "Traceback" not in caplog.text


async def test_10_reauth_refuses_a_key_with_a_newline(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Reauthentication checks the new key the same way."""
    result = await init_integration.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_API_KEY: "new\nkey"}
    )
    assert result["errors"] == {CONF_API_KEY: "invalid_api_key"}


# ------------------------------------------------------------- 9: deep JSON


async def test_9_deeply_nested_json_is_a_malformed_answer(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """100,000 `[` read as an answer that could not be understood, not a crash."""
    aioclient_mock.get(
        f"{PRODUCTION_BASE_URL}/chargeboxes",
        params={"onlyactive": "false"},
        text="[" * 100_000,
    )
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    assert "Stack overflow" not in (mock_config_entry.reason or "")
    assert mock_config_entry.error_reason_translation_key == "invalid_response"
    # Reported like any bad answer: no "unexpected error" with a traceback.
    assert "Unexpected error" not in caplog.text
    assert not [
        record
        for record in caplog.records
        if record.levelno >= logging.WARNING and record.exc_info
    ]


# ---------------------------------------- 11: confirmation reads honour Retry-After


async def test_11_quick_reads_respect_a_429_on_a_read(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A quick read answered 429 (Retry-After 300 s) silences everything for 300 s."""
    await async_setup_entry(hass, sim_config_entry)
    simulator.start_delay = 1000
    await async_switch(hass, SWITCH_1, on=True)
    simulator.faults.set(status=429, retry_after_seconds=300)
    simulator.reset_requests()
    await async_poll_steps(hass, freezer, 299)
    # The first quick read got the 429; nothing was sent after it.
    assert simulator.request_counts.by_endpoint == {READ_ONE_BOX: 1}

    simulator.faults.clear()
    await async_poll_steps(hass, freezer, 60)
    assert simulator.request_counts.by_endpoint[POLL] >= 1


async def test_11_quick_reads_respect_a_429_on_a_command(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A stop answered 429 also silences the quick reads of the pending start."""
    await async_setup_entry(hass, sim_config_entry)
    simulator.start_delay = 1000
    await async_switch(hass, SWITCH_1, on=True)
    await async_poll(hass, freezer, 3)
    assert simulator.request_counts.by_endpoint[READ_ONE_BOX] >= 1

    simulator.faults.set(status=429, retry_after_seconds=60, path="/charges/stop")
    with pytest.raises(HomeAssistantError) as err:
        await async_switch(hass, SWITCH_1, on=False)
    assert err.value.translation_key == "rate_limited"
    simulator.faults.clear()
    simulator.reset_requests()
    await async_poll_steps(hass, freezer, 59)
    assert simulator.request_counts.total == 0
    # The start still awaits confirmation: its quick reads resume after the wait.
    await async_poll_steps(hass, freezer, 3)
    assert simulator.request_counts.by_endpoint[READ_ONE_BOX] >= 1


async def test_11_retry_after_zero_storm_during_a_confirmation(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Quick reads every 1.5 s do not turn a `Retry-After: 0` storm into a flood."""
    await async_setup_entry(hass, sim_config_entry)
    simulator.start_delay = 1000
    await async_switch(hass, SWITCH_1, on=True)
    simulator.faults.set(status=429, retry_after_seconds=0)
    simulator.reset_requests()
    window = 120
    bursts = 0
    for _ in range(int(window / STEP)):
        before = _requests(simulator)
        await async_poll(hass, freezer, STEP)
        bursts += _requests(simulator) > before
    # Something is sent at most once per back-off floor: a quick read, or a poll
    # (its two concurrent requests), or both when their waits end together.
    assert 1 <= bursts <= window // DEFAULT_MIN_BACKOFF + 1
    assert _requests(simulator) <= 3 * bursts


async def test_11_a_throttled_command_blocks_what_follows(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A start refused with 429 silences polls and commands, but the entities stay."""
    await async_setup_entry(hass, sim_config_entry)
    simulator.faults.set(status=429, retry_after_seconds=120, path="/charges/start")
    with pytest.raises(HomeAssistantError) as err:
        await async_switch(hass, SWITCH_1, on=True)
    assert err.value.translation_key == "rate_limited"
    simulator.faults.clear()
    before = _requests(simulator)

    await async_poll(hass, freezer, 60)
    assert entity_state(hass, CONNECTED) == STATE_ON
    with pytest.raises(HomeAssistantError) as err:
        await async_switch(hass, SWITCH_1, on=True)
    assert err.value.translation_key == "rate_limited"
    assert _requests(simulator) == before

    await async_next_idle_poll(hass, freezer)
    assert _requests(simulator) > before
    await async_switch(hass, SWITCH_1, on=True)
    assert entity_state(hass, SWITCH_1) == STATE_ON


# ----------------------------------------------- 12 and 13: connector numbers


@pytest.mark.parametrize("connector", [1.5, True, "1.5", "one", "", None, float("nan")])
async def test_12_connector_must_be_a_whole_number(
    hass: HomeAssistant,
    idle_entry: MockConfigEntry,
    idle_client: MagicMock,
    connector: Any,
) -> None:
    """1.5 or true is refused with a clear message, not read as connector 1."""
    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            DOMAIN,
            "start_charge",
            {"config_entry_id": idle_entry.entry_id, "connector": connector},
            blocking=True,
        )
    assert err.value.translation_key == "invalid_connector_value"
    idle_client.start_charge.assert_not_awaited()


@pytest.mark.parametrize(("connector", "number"), [("1", 1), (2.0, 2), (" 2 ", 2)])
async def test_12_whole_numbers_in_other_forms_are_accepted(
    hass: HomeAssistant,
    idle_entry: MockConfigEntry,
    idle_client: MagicMock,
    connector: Any,
    number: int,
) -> None:
    """The string "1" and 2.0 still name connectors 1 and 2."""
    await hass.services.async_call(
        DOMAIN,
        "start_charge",
        {"config_entry_id": idle_entry.entry_id, "connector": connector},
        blocking=True,
    )
    idle_client.start_charge.assert_awaited_once_with(CHARGEBOX_ID, number)


async def test_13_invalid_connectors_allocate_nothing(
    hass: HomeAssistant, idle_entry: MockConfigEntry, idle_client: MagicMock
) -> None:
    """2,000 calls with connectors the box lacks leave no lock behind."""
    controller = idle_entry.runtime_data.controller_of(CHARGEBOX_ID)
    for connector in range(3, 2003):
        with pytest.raises(ServiceValidationError):
            await controller.async_start(connector)
    # The leak was one lock per connector number ever passed.
    assert len(controller._locks) == 0
    idle_client.start_charge.assert_not_awaited()


# ---------------------------------------------------------------- 14


async def test_14_running_charge_transaction_is_redacted(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The running charge's `id` is its transaction number: redacted like the rest."""
    diagnostics = await async_get_config_entry_diagnostics(hass, init_integration)
    charges = diagnostics["chargeboxes"][CHARGEBOX_ID]["data"]["charges"]
    assert charges
    assert all(charge["id"] == "**REDACTED**" for charge in charges.values())


async def test_14_answer_about_another_chargebox_is_malformed(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
) -> None:
    """A chargebox answer carrying another id is not shown as this chargebox."""
    await async_setup_entry(hass, sim_config_entry)
    (chargebox_id,) = simulator.chargeboxes
    other = simulator.add_chargebox(alias="Other", connectors=1)
    real = simulator.chargebox_json
    asked: list[str] = []

    def _wrong_box(box_id: str) -> dict[str, Any]:
        # The list (read first) is right; the box read on its own is another one.
        asked.append(box_id)
        return real(other.id if asked.count(chargebox_id) > 1 else box_id)

    # A list without connector states makes the poll read the chargebox on its own.
    simulator.faults.set(omit_list_connectors=True)
    with patch.object(simulator, "chargebox_json", _wrong_box):
        coordinator = sim_config_entry.runtime_data.coordinator
        await coordinator.async_refresh()
        await hass.async_block_till_done()
    assert asked.count(chargebox_id) == 2
    assert coordinator.last_exception.translation_key == "invalid_response"
    reading = coordinator.data.get(chargebox_id)
    assert reading is not None
    assert reading.chargebox.id == chargebox_id
    assert entity_state(hass, CONNECTED) == STATE_UNAVAILABLE


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_14_long_connector_strings_are_bounded(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A 1,000-character plug type becomes a state Home Assistant accepts."""
    payload = load_json_fixture("chargebox.json")
    payload["connectors"][0]["type"] = "x" * 1000
    mock_thor_client.list_chargeboxes.return_value = [Chargebox.from_dict(payload)]
    await async_setup_entry(hass, mock_config_entry)
    plug = hass.states.get("sensor.garage_connector_1_type")
    assert plug is not None
    # Cut to what Home Assistant accepts, instead of "unknown" and a core error.
    assert plug.state == "x" * 255
    assert "is longer than 255" not in caplog.text


# ---------------------------------------------- one classification for all callers


@pytest.mark.parametrize(
    ("error", "poll_key", "form_error"),
    [
        (
            ThorAccessDeniedError("Thor answered HTTP 403", status=403),
            "access_denied",
            "access_denied",
        ),
        (
            ThorRateLimitError("Thor answered HTTP 429", status=429, retry_after=60.0),
            "rate_limited",
            "cannot_connect",
        ),
    ],
)
async def test_one_classification_for_polls_commands_and_the_form(
    hass: HomeAssistant,
    *,
    idle_entry: MockConfigEntry,
    idle_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    error: Exception,
    poll_key: str,
    form_error: str,
) -> None:
    """A failure means the same thing wherever it happens."""
    idle_client.start_charge.side_effect = error
    with pytest.raises(HomeAssistantError) as err:
        await async_switch(hass, SWITCH_1, on=True)
    assert err.value.translation_key == poll_key

    idle_client.list_chargeboxes.side_effect = error
    await async_poll(hass, freezer, 60)
    coordinator = idle_entry.runtime_data.coordinator
    assert coordinator.last_exception.translation_key == poll_key

    with patch("custom_components.thor.entries.ThorClient", return_value=idle_client):
        idle_client.get_chargebox.side_effect = error
        # Another account: the configured one would abort the flow before any request.
        result = await _user_step(hass, {CONF_API_KEY: "another-api-key-0123456789"})
        if result["step_id"] == "chargebox_manual":
            # The list is not the account's problem: the id is asked for, and read.
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"], {"chargebox_id": "AnotherChargebox"}
            )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": form_error}
    assert "Unexpected error" not in caplog.text


def test_same_wait_for_a_429_without_retry_after() -> None:
    """One default for a 429 without Retry-After, whoever reads it."""
    failure = classify(ThorRateLimitError("HTTP 429", status=429))
    assert failure.retry_after == DEFAULT_RATE_LIMIT_BACKOFF
    assert DEFAULT_MIN_BACKOFF <= DEFAULT_RATE_LIMIT_BACKOFF <= DEFAULT_MAX_BACKOFF
