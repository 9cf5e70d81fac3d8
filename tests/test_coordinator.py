"""Tests of the Thor coordinator: polling, failures, repairs and recovery.

One coordinator polls a whole account: the chargebox list at every poll, the running
charges only while a configured connector is occupied (or a command awaits them).
"""

import asyncio
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
from homeassistant.const import CONF_API_KEY, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.thor.const import DOMAIN
from custom_components.thor.thor_api import (
    DEFAULT_MAX_BACKOFF,
    DEFAULT_RATE_LIMIT_BACKOFF,
    Chargebox,
    ThorAccessDeniedError,
    ThorAuthenticationError,
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

from .conftest import (
    API_KEY,
    CHARGEBOX_ID,
    account_entry,
    async_poll,
    async_setup_entry,
    entity_state,
)

OCCUPIED = "binary_sensor.garage_connector_2_occupied"
CONNECTED = "binary_sensor.garage_connected"
ENERGY = "sensor.garage_connector_2_session_energy"

OTHER_ID = "Zq8RkP2mLw5vXy3T"
"""A second chargebox of the same Thor account."""


def _listed(client: MagicMock) -> Chargebox:
    """Return the chargebox the mocked list answers (connector 2 occupied)."""
    return client.list_chargeboxes.return_value[0]


def _idle(chargebox: Chargebox) -> Chargebox:
    """Return a chargebox with no occupied or reserved connector."""
    return replace(
        chargebox, occupied_connectors=frozenset(), reserved_connectors=frozenset()
    )


def _other(chargebox: Chargebox, alias: str = "Carport") -> Chargebox:
    """Return another, idle chargebox of the account."""
    return replace(_idle(chargebox), id=OTHER_ID, alias=alias)


@pytest.mark.usefixtures("init_integration")
@pytest.mark.parametrize("failing", ["list_chargeboxes", "running_charges"])
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
    failing: str,
    error: ThorError,
    translation_key: str,
) -> None:
    """A failed poll makes the entities unavailable until a poll succeeds again.

    While a connector is occupied a poll reads the list and the running charges:
    either failing fails the poll.
    """
    coordinator = mock_config_entry.runtime_data.coordinator
    getattr(mock_thor_client, failing).side_effect = error
    caplog.set_level(logging.INFO, logger="custom_components.thor")

    for _ in range(3):
        await async_poll(hass, freezer, 30)
        assert entity_state(hass, OCCUPIED) == STATE_UNAVAILABLE
        assert entity_state(hass, CONNECTED) == STATE_UNAVAILABLE
    assert coordinator.last_exception.translation_key == translation_key
    assert coordinator.last_exception.translation_domain == DOMAIN
    # The message is the translated one, placeholders filled in.
    assert str(error) in str(coordinator.last_exception)
    assert "Garage" in str(coordinator.last_exception)
    assert "{" not in str(coordinator.last_exception)
    assert not issue_registry.issues
    # One line when it goes, however many polls fail.
    assert caplog.text.count("Error fetching Thor") == 1

    getattr(mock_thor_client, failing).side_effect = None
    await async_poll(hass, freezer, 30)
    assert entity_state(hass, OCCUPIED) == "on"
    assert entity_state(hass, CONNECTED) == "on"
    assert caplog.text.count("data recovered") == 1


@pytest.mark.usefixtures("init_integration")
async def test_outage_log_names_the_account(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_thor_client: MagicMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The lines of an outage name the account as its entry is titled ("Thor")."""
    caplog.set_level(logging.INFO, logger="custom_components.thor")
    mock_thor_client.list_chargeboxes.side_effect = ThorConnectionError("down")
    await async_poll(hass, freezer, 30)
    mock_thor_client.list_chargeboxes.side_effect = None
    await async_poll(hass, freezer, 30)

    assert "Error fetching Thor data: " in caplog.text
    assert "Fetching Thor data recovered" in caplog.text


@pytest.mark.usefixtures("init_integration")
@pytest.mark.parametrize(
    ("error", "issue"),
    [
        (
            ThorRestApiDisabledError("RestAPINotEnabled", status=403),
            "rest_api_disabled",
        ),
        (ThorSourceIPError("InvalidSourceIPAddr", status=403), "source_ip_refused"),
    ],
)
async def test_account_repair_issue(
    hass: HomeAssistant,
    *,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
    issue_registry: ir.IssueRegistry,
    error: ThorError,
    issue: str,
) -> None:
    """Dashboard problems of the account raise one repair until they are fixed."""
    coordinator = mock_config_entry.runtime_data.coordinator
    mock_thor_client.list_chargeboxes.side_effect = error

    await async_poll(hass, freezer, 30)
    assert entity_state(hass, OCCUPIED) == STATE_UNAVAILABLE
    assert coordinator.last_exception.translation_key == issue
    assert "Garage" in str(coordinator.last_exception)
    repair = issue_registry.async_get_issue(
        DOMAIN, f"{issue}_{mock_config_entry.entry_id}"
    )
    assert repair is not None
    assert repair.translation_key == issue
    assert repair.severity is ir.IssueSeverity.ERROR
    assert not repair.is_fixable
    # About the account: named after its entry.
    assert repair.translation_placeholders["title"] == "Thor"
    assert len(issue_registry.issues) == 1

    # Still failing: the issue stays, and only once.
    await async_poll(hass, freezer, 60)
    assert len(issue_registry.issues) == 1

    mock_thor_client.list_chargeboxes.side_effect = None
    await async_poll(hass, freezer, 60)
    assert entity_state(hass, OCCUPIED) == "on"
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
    mock_thor_client.list_chargeboxes.side_effect = ThorRestApiDisabledError("x")
    await async_poll(hass, freezer, 30)
    assert set(issue_registry.issues) == {(DOMAIN, f"rest_api_disabled_{entry_id}")}

    mock_thor_client.list_chargeboxes.side_effect = ThorSourceIPError("x")
    await async_poll(hass, freezer, 60)
    assert set(issue_registry.issues) == {(DOMAIN, f"source_ip_refused_{entry_id}")}

    # A network error says nothing about the dashboard: the issue goes.
    mock_thor_client.list_chargeboxes.side_effect = ThorConnectionError("x")
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
    """A box Thor lists as not active keeps its entities and gets a repair issue."""
    chargebox = _listed(mock_thor_client)
    mock_thor_client.list_chargeboxes.return_value = [replace(chargebox, active=False)]
    await async_poll(hass, freezer, 30)

    assert entity_state(hass, OCCUPIED) == "on"
    assert set(issue_registry.issues) == {
        (
            DOMAIN,
            f"chargebox_not_active_{mock_config_entry.entry_id}_{CHARGEBOX_ID}",
        )
    }
    repair = issue_registry.async_get_issue(
        DOMAIN, f"chargebox_not_active_{mock_config_entry.entry_id}_{CHARGEBOX_ID}"
    )
    assert repair.translation_key == "chargebox_not_active"
    assert repair.severity is ir.IssueSeverity.ERROR
    assert repair.translation_placeholders == {
        "title": "Garage",
        "chargebox_id": CHARGEBOX_ID,
    }
    # The list is asked for every box, active or not.
    mock_thor_client.list_chargeboxes.assert_awaited_with(only_active=False)

    mock_thor_client.list_chargeboxes.return_value = [chargebox]
    await async_poll(hass, freezer, 30)
    assert not issue_registry.issues


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_chargebox_missing_from_list(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_thor_client: MagicMock,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A configured box Thor stops listing goes unavailable, with a repair of its own.

    The other chargeboxes of the account are not affected.
    """
    garage = _listed(mock_thor_client)
    carport = _other(garage)
    mock_thor_client.list_chargeboxes.return_value = [garage, carport]
    entry = await async_setup_entry(
        hass, account_entry((CHARGEBOX_ID, "Garage"), (OTHER_ID, "Carport"))
    )
    coordinator = entry.runtime_data.coordinator
    assert entity_state(hass, "binary_sensor.carport_connected") == "on"
    assert entity_state(hass, "binary_sensor.carport_connector_1_occupied") == "off"

    mock_thor_client.list_chargeboxes.return_value = [garage]
    await async_poll(hass, freezer, 30)
    assert coordinator.last_update_success
    for entity_id in (
        "binary_sensor.carport_connected",
        "binary_sensor.carport_connector_1_occupied",
        "sensor.carport_connector_1_rated_power",
        "switch.carport_connector_1_charging",
    ):
        assert entity_state(hass, entity_id) == STATE_UNAVAILABLE, entity_id
    assert entity_state(hass, CONNECTED) == "on"
    assert entity_state(hass, OCCUPIED) == "on"
    issue_id = f"chargebox_not_found_{entry.entry_id}_{OTHER_ID}"
    assert set(issue_registry.issues) == {(DOMAIN, issue_id)}
    repair = issue_registry.async_get_issue(DOMAIN, issue_id)
    assert repair.translation_key == "chargebox_not_found"
    assert repair.severity is ir.IssueSeverity.ERROR
    assert not repair.is_fixable
    assert repair.translation_placeholders == {
        "title": "Carport",
        "chargebox_id": OTHER_ID,
    }

    # Still missing: the issue stays, and only once.
    await async_poll(hass, freezer, 30)
    assert set(issue_registry.issues) == {(DOMAIN, issue_id)}

    mock_thor_client.list_chargeboxes.return_value = [garage, carport]
    await async_poll(hass, freezer, 30)
    assert entity_state(hass, "binary_sensor.carport_connected") == "on"
    assert entity_state(hass, "binary_sensor.carport_connector_1_occupied") == "off"
    assert not issue_registry.issues


async def test_chargebox_missing_at_setup(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_thor_client: MagicMock,
    issue_registry: ir.IssueRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """A box missing at setup does not keep the others from loading.

    It shows up as a device named after its subentry; its connectors get entities
    once Thor lists it again.
    """
    garage = _listed(mock_thor_client)
    entry = await async_setup_entry(
        hass, account_entry((CHARGEBOX_ID, "Garage"), (OTHER_ID, "Carport"))
    )
    assert entry.state is ConfigEntryState.LOADED
    assert entity_state(hass, OCCUPIED) == "on"
    assert entity_state(hass, "binary_sensor.carport_connected") == STATE_UNAVAILABLE
    assert hass.states.get("binary_sensor.carport_connector_1_occupied") is None
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, OTHER_ID), entry.entry_id
    )
    assert device is not None
    assert device.name == "Carport"
    assert set(issue_registry.issues) == {
        (DOMAIN, f"chargebox_not_found_{entry.entry_id}_{OTHER_ID}")
    }

    mock_thor_client.list_chargeboxes.return_value = [garage, _other(garage)]
    await async_poll(hass, freezer, 30)
    assert entity_state(hass, "binary_sensor.carport_connected") == "on"
    assert entity_state(hass, "binary_sensor.carport_connector_1_occupied") == "off"
    assert entity_state(hass, "binary_sensor.carport_connector_2_occupied") == "off"
    assert not issue_registry.issues
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, OTHER_ID), entry.entry_id
    )
    assert device.model == "Car chargebox, OCPP 1.6 JSON"


async def test_unconfigured_chargebox_ignored(
    hass: HomeAssistant,
    *,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
    issue_registry: ir.IssueRegistry,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """A box of the account that is not configured gets no device and no entities.

    Its charges cost nothing either: an idle configured box still polls once a minute
    without reading the running charges.
    """
    garage = _idle(_listed(mock_thor_client))
    busy = replace(
        _other(garage, alias="Neighbour"), occupied_connectors=frozenset({1})
    )
    mock_thor_client.list_chargeboxes.return_value = [garage, busy]
    mock_thor_client.running_charges.return_value = []
    entry = await async_setup_entry(hass, mock_config_entry)
    await async_poll(hass, freezer, 60)

    assert not device_registry.async_get_devices(identifiers={(DOMAIN, OTHER_ID)})
    registered = er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    assert registered
    assert all(entity.unique_id.startswith(f"{CHARGEBOX_ID}_") for entity in registered)
    assert not [
        entity_id
        for entity_id in hass.states.async_entity_ids()
        if "neighbour" in entity_id
    ]
    assert not issue_registry.issues
    mock_thor_client.running_charges.assert_not_awaited()
    assert entry.runtime_data.coordinator.update_interval == timedelta(seconds=60)


@pytest.mark.usefixtures("init_integration")
async def test_authentication_failed(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
) -> None:
    """A key refused while running starts reauthentication."""
    mock_thor_client.list_chargeboxes.side_effect = ThorAuthenticationError(
        "APIKeyNotFound", status=403
    )
    await async_poll(hass, freezer, 30)

    assert entity_state(hass, OCCUPIED) == STATE_UNAVAILABLE
    coordinator = mock_config_entry.runtime_data.coordinator
    assert coordinator.last_exception.translation_key == "authentication_failed"
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert len(flows) == 1
    assert flows[0]["context"]["source"] == SOURCE_REAUTH
    assert flows[0]["context"]["entry_id"] == mock_config_entry.entry_id


async def test_issue_of_earlier_setup_cleared(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
    issue_registry: ir.IssueRegistry,
) -> None:
    """An issue raised by a failed setup goes once the retried setup succeeds."""
    mock_thor_client.list_chargeboxes.side_effect = ThorSourceIPError("x", status=403)
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    assert set(issue_registry.issues) == {
        (DOMAIN, f"source_ip_refused_{mock_config_entry.entry_id}")
    }

    mock_thor_client.list_chargeboxes.side_effect = None
    await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert not issue_registry.issues


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
    mock_thor_client.list_chargeboxes.side_effect = ThorRateLimitError(
        "TooManyRequests", status=429, retry_after=retry_after
    )
    await async_poll(hass, freezer, 30)
    assert coordinator.last_exception.translation_key == "rate_limited"
    assert f"{expected} s" in str(coordinator.last_exception)
    assert coordinator.last_exception.translation_placeholders["retry_after"] == str(
        expected
    )
    calls = mock_thor_client.list_chargeboxes.await_count

    mock_thor_client.list_chargeboxes.side_effect = None
    # The usual interval passes without a poll...
    # (the coordinator rounds its schedule to the second, hence the margins).
    await async_poll(hass, freezer, 30)
    await async_poll(hass, freezer, expected - 35)
    assert mock_thor_client.list_chargeboxes.await_count == calls
    assert entity_state(hass, OCCUPIED) == STATE_UNAVAILABLE
    # ...the poll comes when Thor said.
    await async_poll(hass, freezer, 10)
    assert mock_thor_client.list_chargeboxes.await_count == calls + 1
    assert entity_state(hass, OCCUPIED) == "on"


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

    chargebox = _listed(mock_thor_client)
    mock_thor_client.list_chargeboxes.return_value = [
        replace(chargebox, occupied_connectors=frozenset())
    ]
    mock_thor_client.running_charges.return_value = []
    await async_poll(hass, freezer, 30)
    assert entity_state(hass, OCCUPIED) == "off"
    assert coordinator.update_interval == timedelta(seconds=60)

    calls = mock_thor_client.list_chargeboxes.await_count
    await async_poll(hass, freezer, 30)
    assert mock_thor_client.list_chargeboxes.await_count == calls
    await async_poll(hass, freezer, 30)
    assert mock_thor_client.list_chargeboxes.await_count == calls + 1

    # Occupied as soon as Thor lists the connector, even before a charge shows.
    mock_thor_client.list_chargeboxes.return_value = [chargebox]
    await async_poll(hass, freezer, 60)
    assert entity_state(hass, OCCUPIED) == "on"
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
    chargebox = _listed(mock_thor_client)
    mock_thor_client.list_chargeboxes.return_value = [
        replace(chargebox, occupied_connectors=frozenset())
    ]
    charge = mock_thor_client.running_charges.return_value[0]
    mock_thor_client.running_charges.return_value = [
        charge,
        replace(charge, chargebox=OTHER_ID, connector=1, energy=99999),
    ]
    await async_poll(hass, freezer, 30)

    assert entity_state(hass, OCCUPIED) == "on"
    assert entity_state(hass, "binary_sensor.garage_connector_1_occupied") == "off"
    assert entity_state(hass, ENERGY) == "12.345"
    reading = coordinator.data.get(CHARGEBOX_ID)
    assert list(reading.charges) == [2]
    assert isinstance(reading.charges[2], RunningCharge)
    # Thor did not list the other box: its charge is nowhere.
    assert coordinator.data.get(OTHER_ID) is None
    assert coordinator.update_interval == timedelta(seconds=30)


async def test_running_charges_read_only_when_needed(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
) -> None:
    """An idle account costs one request per poll: the list.

    A charge seen in the list has its running charge read in the same poll, right
    after; the polls that follow read both together until the charge is over.
    """
    chargebox = _listed(mock_thor_client)
    charges = mock_thor_client.running_charges.return_value
    mock_thor_client.list_chargeboxes.return_value = [_idle(chargebox)]
    mock_thor_client.running_charges.return_value = []
    entry = await async_setup_entry(hass, mock_config_entry)
    for _ in range(3):
        await async_poll(hass, freezer, 60)
    assert mock_thor_client.list_chargeboxes.await_count == 4
    mock_thor_client.list_chargeboxes.assert_awaited_with(only_active=False)
    mock_thor_client.running_charges.assert_not_awaited()
    mock_thor_client.get_chargebox.assert_not_awaited()

    order: list[str] = []
    listed = [chargebox]

    async def _list(**_kwargs: Any) -> list[Chargebox]:
        order.append("list sent")
        await asyncio.sleep(0)
        order.append("list answered")
        return listed

    async def _running(*_args: Any) -> list[RunningCharge]:
        order.append("running sent")
        await asyncio.sleep(0)
        order.append("running answered")
        return charges

    mock_thor_client.list_chargeboxes.side_effect = _list
    mock_thor_client.running_charges.side_effect = _running

    # A charge began: shown at once, with its energy.
    await async_poll(hass, freezer, 60)
    assert order == ["list sent", "list answered", "running sent", "running answered"]
    assert entity_state(hass, OCCUPIED) == "on"
    assert entity_state(hass, ENERGY) == "12.345"

    # While it runs, both are read concurrently: one round trip per poll.
    order.clear()
    await async_poll(hass, freezer, 30)
    assert order == ["list sent", "running sent", "list answered", "running answered"]
    # The account's charges in one request, whatever the number of boxes.
    mock_thor_client.running_charges.assert_awaited_with()

    # The charge ends: the poll that shows it still reads both, the next only the list.
    listed = [_idle(chargebox)]
    charges = []
    order.clear()
    await async_poll(hass, freezer, 30)
    assert entity_state(hass, OCCUPIED) == "off"
    assert order == ["list sent", "running sent", "list answered", "running answered"]
    order.clear()
    await async_poll(hass, freezer, 60)
    assert order == ["list sent", "list answered"]

    # A watcher (a command awaiting confirmation, a stored id_tag) asks for them.
    coordinator = entry.runtime_data.coordinator
    remove_watcher = coordinator.async_add_charge_watcher(lambda: True)
    order.clear()
    await async_poll(hass, freezer, 60)
    assert order == ["list sent", "running sent", "list answered", "running answered"]
    remove_watcher()
    order.clear()
    await async_poll(hass, freezer, 60)
    assert order == ["list sent", "list answered"]


async def test_list_without_connector_states(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
    issue_registry: ir.IssueRegistry,
) -> None:
    """A list without occupied and reserved connectors: configured boxes read alone.

    Thor's documentation of the list is truncated before those fields; the single read
    of a chargebox has them. Boxes that are not configured are not read.
    """
    chargebox = _listed(mock_thor_client)
    without_state = replace(_idle(chargebox), has_connector_state=False)
    mock_thor_client.list_chargeboxes.return_value = [
        without_state,
        replace(_other(chargebox), has_connector_state=False),
    ]
    mock_thor_client.get_chargebox.return_value = chargebox
    entry = await async_setup_entry(hass, mock_config_entry)

    mock_thor_client.get_chargebox.assert_awaited_once_with(CHARGEBOX_ID)
    assert entity_state(hass, OCCUPIED) == "on"
    assert entity_state(hass, "binary_sensor.garage_connector_1_reserved") == "on"
    assert entity_state(hass, ENERGY) == "12.345"

    await async_poll(hass, freezer, 30)
    assert mock_thor_client.get_chargebox.await_count == 2
    mock_thor_client.get_chargebox.assert_awaited_with(CHARGEBOX_ID)

    # Deleted between the list and the single read: not found, like a missing box.
    mock_thor_client.get_chargebox.side_effect = ThorChargeboxNotFoundError(
        "ChargeboxNotFound", status=404
    )
    await async_poll(hass, freezer, 30)
    assert entry.runtime_data.coordinator.last_update_success
    assert entity_state(hass, CONNECTED) == STATE_UNAVAILABLE
    assert set(issue_registry.issues) == {
        (DOMAIN, f"chargebox_not_found_{entry.entry_id}_{CHARGEBOX_ID}")
    }

    # Any other failure of the single read fails the poll.
    mock_thor_client.get_chargebox.side_effect = ThorConnectionError("down")
    await async_poll(hass, freezer, 60)
    assert not entry.runtime_data.coordinator.last_update_success
    assert entity_state(hass, CONNECTED) == STATE_UNAVAILABLE

    mock_thor_client.get_chargebox.side_effect = None
    await async_poll(hass, freezer, 60)
    assert entity_state(hass, CONNECTED) == "on"
    assert entity_state(hass, OCCUPIED) == "on"
    assert not issue_registry.issues


# -------------------------------------------------------------- simulator faults


async def _setup_simulated(
    hass: HomeAssistant, entry: MockConfigEntry, **client_options: Any
) -> None:
    """Set the simulator's entry up, the client built with `client_options`."""
    entry.add_to_hass(hass)
    with patch(
        "custom_components.thor.entries.ThorClient",
        partial(ThorClient, **client_options),
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
    """Every injected fault makes the entities unavailable; they come back after.

    A charge runs on connector 2, so that every poll also reads the running charges.
    """
    box = next(iter(simulator.chargeboxes.values()))
    simulator.start_rfid_charge(box.id, 2, "04A1B2C3D4E5F6")
    await _setup_simulated(hass, sim_config_entry, request_timeout=0.2)
    coordinator = sim_config_entry.runtime_data.coordinator
    # Read with the list at every poll: the charge's energy shows.
    assert entity_state(hass, "sensor.garage_connector_2_session_energy") not in (
        STATE_UNKNOWN,
        STATE_UNAVAILABLE,
    )

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
    assert entity_state(hass, CONNECTED) == "on"
    assert entity_state(hass, "binary_sensor.garage_connector_1_occupied") == "off"
    assert entity_state(hass, OCCUPIED) == "on"

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
    issue_id = f"{problem}_{sim_config_entry.entry_id}"
    if problem in ("chargebox_not_active", "chargebox_not_found"):
        # About one chargebox of the account.
        issue_id += f"_{next(iter(sim_config_entry.subentries.values())).unique_id}"
    assert set(issue_registry.issues) == {(DOMAIN, issue_id)}
    assert (entity_state(hass, CONNECTED) == STATE_UNAVAILABLE) is unavailable

    fix()
    await _refresh(hass, sim_config_entry)
    assert not issue_registry.issues
    assert entity_state(hass, CONNECTED) == "on"

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


async def test_simulator_requests_per_poll(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
) -> None:
    """One request per idle poll, two while charging, whatever the account holds."""
    box = next(iter(simulator.chargeboxes.values()))
    # Another box of the account, not configured in Home Assistant.
    simulator.add_chargebox(alias="Neighbour", connectors=1)
    await async_setup_entry(hass, sim_config_entry)
    listing = "GET /chargeboxes?onlyactive"

    simulator.reset_requests()
    for _ in range(5):
        await async_poll(hass, freezer, 60)
    assert simulator.request_counts.by_endpoint == {listing: 5}

    # The list shows the charge: its running charge is read in the same poll.
    simulator.start_rfid_charge(box.id, 1, "04A1B2C3D4E5F6")
    simulator.reset_requests()
    await async_poll(hass, freezer, 60)
    assert entity_state(hass, "binary_sensor.garage_connector_1_occupied") == "on"
    for _ in range(5):
        await async_poll(hass, freezer, 30)
    assert simulator.request_counts.by_endpoint == {
        listing: 6,
        "GET /charges/running": 6,
    }

    # A list without connector states: the configured box alone is read on its own.
    simulator.faults.set(omit_list_connectors=True)
    simulator.reset_requests()
    await async_poll(hass, freezer, 30)
    assert simulator.request_counts.by_endpoint == {
        listing: 1,
        "GET /chargeboxes/{chargebox_id}": 1,
        "GET /charges/running": 1,
    }
    assert (
        simulator.request_counts.by_path[f"/latest/integration/chargeboxes/{box.id}"]
        == 1
    )
    assert entity_state(hass, "binary_sensor.garage_connector_1_occupied") == "on"

    assert await hass.config_entries.async_unload(sim_config_entry.entry_id)
