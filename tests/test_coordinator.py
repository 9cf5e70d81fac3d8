"""Tests of the Thor coordinator: polling, failures, repairs and recovery."""

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from functools import partial
import logging
import time
from typing import Any
from unittest.mock import MagicMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_API_KEY, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
)

from custom_components.thor.const import DOMAIN
from custom_components.thor.thor_api import (
    DEFAULT_MAX_BACKOFF,
    DEFAULT_RATE_LIMIT_BACKOFF,
    ThorAccessDeniedError,
    ThorAuthenticationError,
    ThorChargeboxNotActiveError,
    ThorChargeboxNotFoundError,
    ThorClient,
    ThorConnectionError,
    ThorError,
    ThorRateLimitError,
    ThorResponseError,
    ThorRestApiDisabledError,
    ThorServerError,
    ThorSourceIPError,
    ThorTimeoutError,
)
from custom_components.thor.thor_api.models import RunningCharge
from thor_simulator import ThorSimulator

from .conftest import API_KEY, async_poll

OCCUPIED = "binary_sensor.garage_connector_2_occupied"
CONNECTED = "binary_sensor.garage_connected"
ENERGY = "sensor.garage_connector_2_session_energy"


@pytest.mark.usefixtures("init_integration")
@pytest.mark.parametrize(
    ("error", "translation_key"),
    [
        (
            ThorConnectionError("Error talking to Thor: ClientOSError"),
            "communication_error",
        ),
        (ThorTimeoutError("Timeout after 15 s talking to Thor"), "communication_error"),
        (ThorServerError("Thor answered HTTP 500", status=500), "server_error"),
        (ThorResponseError("body that is not JSON", status=200), "invalid_response"),
        (ThorAccessDeniedError("Thor answered HTTP 403", status=403), "access_denied"),
        (ThorError("Thor answered HTTP 418", status=418), "request_failed"),
    ],
)
async def test_failure_and_recovery(
    hass: HomeAssistant,
    *,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
    issue_registry: ir.IssueRegistry,
    caplog: pytest.LogCaptureFixture,
    error: ThorError,
    translation_key: str,
) -> None:
    """A failed poll makes the entities unavailable until a poll succeeds again."""
    coordinator = mock_config_entry.runtime_data.coordinator
    mock_thor_client.get_chargebox.side_effect = error
    caplog.set_level(logging.INFO, logger="custom_components.thor")

    for _ in range(3):
        await async_poll(hass, freezer, 30)
        assert hass.states.get(OCCUPIED).state == STATE_UNAVAILABLE
        assert hass.states.get(CONNECTED).state == STATE_UNAVAILABLE
    assert coordinator.last_exception.translation_key == translation_key
    assert coordinator.last_exception.translation_domain == DOMAIN
    # The message is the translated one, placeholders filled in.
    assert str(error) in str(coordinator.last_exception)
    assert "{" not in str(coordinator.last_exception)
    assert not issue_registry.issues
    # One line when it goes, however many polls fail.
    assert caplog.text.count("Error fetching Thor") == 1

    mock_thor_client.get_chargebox.side_effect = None
    await async_poll(hass, freezer, 30)
    assert hass.states.get(OCCUPIED).state == "on"
    assert hass.states.get(CONNECTED).state == "on"
    assert caplog.text.count("data recovered") == 1


@pytest.mark.usefixtures("init_integration")
@pytest.mark.parametrize(
    ("error", "issue"),
    [
        (
            ThorRestApiDisabledError("RestAPINotEnabled", status=403),
            "rest_api_disabled",
        ),
        (ThorSourceIPError("InvalidSourceIPAddr", status=403), "source_ip_refused"),
        (
            ThorChargeboxNotActiveError("ChargeboxNotActive", status=403),
            "chargebox_not_active",
        ),
        (
            ThorChargeboxNotFoundError("ChargeboxNotFound", status=404),
            "chargebox_not_found",
        ),
    ],
)
async def test_repair_issue(
    hass: HomeAssistant,
    *,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
    issue_registry: ir.IssueRegistry,
    error: ThorError,
    issue: str,
) -> None:
    """Dashboard problems raise a repair issue that goes away when they are fixed."""
    coordinator = mock_config_entry.runtime_data.coordinator
    mock_thor_client.running_charges.side_effect = error

    await async_poll(hass, freezer, 30)
    assert hass.states.get(OCCUPIED).state == STATE_UNAVAILABLE
    assert coordinator.last_exception.translation_key == issue
    assert "Thor" in str(coordinator.last_exception)
    repair = issue_registry.async_get_issue(
        DOMAIN, f"{issue}_{mock_config_entry.entry_id}"
    )
    assert repair is not None
    assert repair.translation_key == issue
    assert repair.severity is ir.IssueSeverity.ERROR
    assert not repair.is_fixable
    assert repair.translation_placeholders == {
        "title": "Garage",
        "chargebox_id": "EaJ7cU9NJ3YkTNgy",
    }
    assert len(issue_registry.issues) == 1

    # Still failing: the issue stays, and only once.
    await async_poll(hass, freezer, 60)
    assert len(issue_registry.issues) == 1

    mock_thor_client.running_charges.side_effect = None
    await async_poll(hass, freezer, 60)
    assert hass.states.get(OCCUPIED).state == "on"
    assert not issue_registry.issues


@pytest.mark.usefixtures("init_integration")
async def test_repair_issue_replaced(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Fixing one dashboard problem and hitting the next shows only the next."""
    entry_id = mock_config_entry.entry_id
    mock_thor_client.get_chargebox.side_effect = ThorRestApiDisabledError("x")
    await async_poll(hass, freezer, 30)
    assert set(issue_registry.issues) == {(DOMAIN, f"rest_api_disabled_{entry_id}")}

    mock_thor_client.get_chargebox.side_effect = ThorSourceIPError("x")
    await async_poll(hass, freezer, 60)
    assert set(issue_registry.issues) == {(DOMAIN, f"source_ip_refused_{entry_id}")}

    # A network error says nothing about the dashboard: the issue goes.
    mock_thor_client.get_chargebox.side_effect = ThorConnectionError("x")
    await async_poll(hass, freezer, 60)
    assert not issue_registry.issues


@pytest.mark.usefixtures("init_integration")
async def test_inactive_chargebox(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A box Thor reports as not active keeps its entities and gets a repair issue."""
    chargebox = mock_thor_client.get_chargebox.return_value
    mock_thor_client.get_chargebox.return_value = replace(chargebox, active=False)
    await async_poll(hass, freezer, 30)

    assert hass.states.get(OCCUPIED).state == "on"
    assert issue_registry.async_get_issue(
        DOMAIN, f"chargebox_not_active_{mock_config_entry.entry_id}"
    )

    mock_thor_client.get_chargebox.return_value = chargebox
    await async_poll(hass, freezer, 30)
    assert not issue_registry.issues


async def test_issue_of_earlier_setup_cleared(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
    issue_registry: ir.IssueRegistry,
) -> None:
    """An issue raised by a failed setup goes once the retried setup succeeds."""
    mock_thor_client.get_chargebox.side_effect = ThorSourceIPError("x", status=403)
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    assert len(issue_registry.issues) == 1

    mock_thor_client.get_chargebox.side_effect = None
    await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert not issue_registry.issues


@pytest.mark.usefixtures("init_integration")
async def test_authentication_failed(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
) -> None:
    """A key refused while running starts reauthentication."""
    mock_thor_client.get_chargebox.side_effect = ThorAuthenticationError(
        "APIKeyNotFound", status=403
    )
    await async_poll(hass, freezer, 30)

    assert hass.states.get(OCCUPIED).state == STATE_UNAVAILABLE
    coordinator = mock_config_entry.runtime_data.coordinator
    assert coordinator.last_exception.translation_key == "authentication_failed"
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert len(flows) == 1
    assert flows[0]["context"]["source"] == SOURCE_REAUTH


@pytest.mark.usefixtures("init_integration")
@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [(300.0, 300), (None, int(DEFAULT_RATE_LIMIT_BACKOFF))],
)
async def test_rate_limited(
    hass: HomeAssistant,
    *,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
    retry_after: float | None,
    expected: int,
) -> None:
    """A 429 waits for Retry-After (or the client's default) before the next poll."""
    coordinator = mock_config_entry.runtime_data.coordinator
    mock_thor_client.get_chargebox.side_effect = ThorRateLimitError(
        "TooManyRequests", status=429, retry_after=retry_after
    )
    await async_poll(hass, freezer, 30)
    assert coordinator.last_exception.translation_key == "rate_limited"
    assert f"{expected} s" in str(coordinator.last_exception)
    assert coordinator.last_exception.translation_placeholders["retry_after"] == str(
        expected
    )
    calls = mock_thor_client.get_chargebox.await_count

    mock_thor_client.get_chargebox.side_effect = None
    # The usual interval passes without a poll...
    # (the coordinator rounds its schedule to the second, hence the margins).
    await async_poll(hass, freezer, 30)
    await async_poll(hass, freezer, expected - 35)
    assert mock_thor_client.get_chargebox.await_count == calls
    assert hass.states.get(OCCUPIED).state == STATE_UNAVAILABLE
    # ...the poll comes when Thor said.
    await async_poll(hass, freezer, 10)
    assert mock_thor_client.get_chargebox.await_count == calls + 1
    assert hass.states.get(OCCUPIED).state == "on"


@pytest.mark.usefixtures("init_integration")
async def test_polling_interval(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
) -> None:
    """Every 30 s while a connector is occupied, every 60 s when none is."""
    coordinator = mock_config_entry.runtime_data.coordinator
    assert coordinator.update_interval == timedelta(seconds=30)

    chargebox = mock_thor_client.get_chargebox.return_value
    mock_thor_client.get_chargebox.return_value = replace(
        chargebox, occupied_connectors=frozenset()
    )
    mock_thor_client.running_charges.return_value = []
    await async_poll(hass, freezer, 30)
    assert hass.states.get(OCCUPIED).state == "off"
    assert coordinator.update_interval == timedelta(seconds=60)

    calls = mock_thor_client.get_chargebox.await_count
    await async_poll(hass, freezer, 30)
    assert mock_thor_client.get_chargebox.await_count == calls
    await async_poll(hass, freezer, 30)
    assert mock_thor_client.get_chargebox.await_count == calls + 1

    # Occupied as soon as Thor lists the connector, even before a charge shows.
    mock_thor_client.get_chargebox.return_value = chargebox
    await async_poll(hass, freezer, 60)
    assert coordinator.update_interval == timedelta(seconds=30)


@pytest.mark.usefixtures("init_integration")
async def test_running_charge_without_occupied_connector(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
) -> None:
    """A running charge alone marks its connector occupied; other boxes' are ignored."""
    coordinator = mock_config_entry.runtime_data.coordinator
    chargebox = mock_thor_client.get_chargebox.return_value
    mock_thor_client.get_chargebox.return_value = replace(
        chargebox, occupied_connectors=frozenset()
    )
    charge = mock_thor_client.running_charges.return_value[0]
    mock_thor_client.running_charges.return_value = [
        charge,
        replace(charge, chargebox="OtherBox", connector=1, energy=99999),
    ]
    await async_poll(hass, freezer, 30)

    assert hass.states.get(OCCUPIED).state == "on"
    assert hass.states.get("binary_sensor.garage_connector_1_occupied").state == "off"
    assert list(coordinator.data.charges) == [2]
    assert isinstance(coordinator.data.charges[2], RunningCharge)
    assert coordinator.update_interval == timedelta(seconds=30)


# -------------------------------------------------------------- simulator faults


async def _setup_simulated(
    hass: HomeAssistant, entry: MockConfigEntry, **client_options: Any
) -> None:
    """Set the simulator's entry up, the client built with `client_options`."""
    entry.add_to_hass(hass)
    with patch(
        "custom_components.thor.ThorClient", partial(ThorClient, **client_options)
    ):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED


async def _refresh(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Poll the simulator now, in real time (faults such as latency need a clock)."""
    await entry.runtime_data.coordinator.async_refresh()
    await hass.async_block_till_done()


@pytest.mark.parametrize(
    ("fault", "translation_key"),
    [
        ({"status": 500}, "server_error"),
        ({"status": 503, "error_body": "text"}, "server_error"),
        ({"html_error": True}, "server_error"),
        ({"malformed_json": True}, "invalid_response"),
        ({"malformed_json": True, "path": "/charges/running"}, "invalid_response"),
        ({"drop_connection": True}, "communication_error"),
        ({"hang": True}, "communication_error"),
        ({"status": 429, "retry_after_seconds": 5}, "rate_limited"),
        ({"status": 429, "retry_after": False}, "rate_limited"),
        ({"status": 403, "code": "Forbidden"}, "access_denied"),
        ({"status": 418, "error_body": "empty"}, "request_failed"),
    ],
)
async def test_simulator_fault_recovery(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    fault: dict[str, Any],
    translation_key: str,
) -> None:
    """Every injected fault makes the entities unavailable; they come back after."""
    await _setup_simulated(hass, sim_config_entry, request_timeout=0.2)
    coordinator = sim_config_entry.runtime_data.coordinator

    simulator.faults.set(**fault)
    await _refresh(hass, sim_config_entry)
    assert hass.states.get(CONNECTED).state == STATE_UNAVAILABLE
    assert coordinator.last_exception.translation_key == translation_key

    simulator.faults.clear()
    backoff = coordinator.client.backoff
    if fault.get("status") == 429:
        # Nothing is sent until the wait is over; then polling resumes by itself.
        await _refresh(hass, sim_config_entry)
        assert hass.states.get(CONNECTED).state == STATE_UNAVAILABLE
        backoff.clock = lambda: time.monotonic() + DEFAULT_MAX_BACKOFF + 1
    await _refresh(hass, sim_config_entry)
    assert hass.states.get(CONNECTED).state == "on"
    assert hass.states.get("binary_sensor.garage_connector_1_occupied").state == "off"

    assert await hass.config_entries.async_unload(sim_config_entry.entry_id)


async def test_simulator_slow_answer(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
) -> None:
    """A slow answer within the timeout is just a normal poll."""
    await _setup_simulated(hass, sim_config_entry, request_timeout=2)
    box = next(iter(simulator.chargeboxes.values()))
    simulator.faults.set(latency=0.05)
    simulator.start_rfid_charge(box.id, 1, "04A1B2C3D4E5F6")
    await _refresh(hass, sim_config_entry)
    assert hass.states.get("binary_sensor.garage_connector_1_occupied").state == "on"
    assert await hass.config_entries.async_unload(sim_config_entry.entry_id)


def _break_account(simulator: ThorSimulator, problem: str) -> Callable[[], None]:
    """Make the dashboard problem `problem` happen; return what fixes it."""
    box = next(iter(simulator.chargeboxes.values()))
    if problem == "rest_api_disabled":
        simulator.rest_enabled = False
        return lambda: setattr(simulator, "rest_enabled", True)
    if problem == "source_ip_refused":
        simulator.allowed_source_ip = "203.0.113.7"
        return lambda: setattr(simulator, "allowed_source_ip", None)
    if problem == "chargebox_not_active":
        box.active = False
        return lambda: setattr(box, "active", True)
    del simulator.chargeboxes[box.id]
    return lambda: simulator.chargeboxes.__setitem__(box.id, box)


@pytest.mark.parametrize(
    ("problem", "unavailable"),
    [
        ("rest_api_disabled", True),
        ("source_ip_refused", True),
        ("chargebox_not_active", False),
        ("chargebox_not_found", True),
    ],
)
async def test_simulator_dashboard_problems(
    hass: HomeAssistant,
    *,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    issue_registry: ir.IssueRegistry,
    problem: str,
    unavailable: bool,
) -> None:
    """Dashboard problems on the simulator raise their repair until fixed."""
    await _setup_simulated(hass, sim_config_entry)
    fix = _break_account(simulator, problem)

    await _refresh(hass, sim_config_entry)
    assert set(issue_registry.issues) == {
        (DOMAIN, f"{problem}_{sim_config_entry.entry_id}")
    }
    assert (hass.states.get(CONNECTED).state == STATE_UNAVAILABLE) is unavailable

    fix()
    await _refresh(hass, sim_config_entry)
    assert not issue_registry.issues
    assert hass.states.get(CONNECTED).state == "on"

    assert await hass.config_entries.async_unload(sim_config_entry.entry_id)


async def test_simulator_revoked_key(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
) -> None:
    """A regenerated key asks for reauthentication; the entry works again after."""
    await _setup_simulated(hass, sim_config_entry)
    simulator.revoke_key(API_KEY)

    await _refresh(hass, sim_config_entry)
    assert hass.states.get(CONNECTED).state == STATE_UNAVAILABLE
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]

    # What the reauthentication flow does with a valid key: store it and reload.
    simulator.add_key("new-key")
    hass.config_entries.async_update_entry(
        sim_config_entry, data={**sim_config_entry.data, CONF_API_KEY: "new-key"}
    )
    assert await hass.config_entries.async_reload(sim_config_entry.entry_id)
    await hass.async_block_till_done()
    assert hass.states.get(CONNECTED).state == "on"

    assert await hass.config_entries.async_unload(sim_config_entry.entry_id)
