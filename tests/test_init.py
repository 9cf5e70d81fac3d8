"""Tests of setting up, unloading and reloading a Thor config entry."""

from unittest.mock import MagicMock, patch

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.thor import async_get_backoff
from custom_components.thor.const import (
    CONF_BASE_URL,
    CONF_CHARGEBOX_ID,
    CONF_ENVIRONMENT,
    DOMAIN,
    base_url_from,
)
from custom_components.thor.entity import device_model
from custom_components.thor.thor_api import (
    DEVELOPMENT_BASE_URL,
    PRODUCTION_BASE_URL,
    Chargebox,
    ChargeboxType,
    ThorAuthenticationError,
    ThorBackoff,
    ThorChargeboxNotFoundError,
    ThorConnectionError,
    ThorRestApiDisabledError,
)
from thor_simulator import ThorSimulator

from .conftest import API_KEY, CHARGEBOX_ID, load_json_fixture


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({CONF_ENVIRONMENT: "production"}, PRODUCTION_BASE_URL),
        ({CONF_ENVIRONMENT: "development"}, DEVELOPMENT_BASE_URL),
        ({}, PRODUCTION_BASE_URL),
        ({CONF_ENVIRONMENT: "staging"}, PRODUCTION_BASE_URL),
        (
            {CONF_ENVIRONMENT: "development", CONF_BASE_URL: "http://10.0.0.2:8765/x"},
            "http://10.0.0.2:8765/x",
        ),
        ({CONF_ENVIRONMENT: "development", CONF_BASE_URL: ""}, DEVELOPMENT_BASE_URL),
    ],
)
def test_base_url_from(data: dict[str, str], expected: str) -> None:
    """A custom base URL wins over the environment; production is the fallback."""
    assert base_url_from(data) == expected


async def test_load_unload(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """The entry loads, its entities exist, and unloading releases them."""
    coordinator = init_integration.runtime_data.coordinator
    assert init_integration.state is ConfigEntryState.LOADED
    assert hass.states.get("binary_sensor.garage_connector_2_occupied").state == "on"

    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()

    assert init_integration.state is ConfigEntryState.NOT_LOADED
    assert (
        hass.states.get("binary_sensor.garage_connector_2_occupied").state
        == "unavailable"
    )
    assert not coordinator._listeners


async def test_client_built_from_entry(hass: HomeAssistant) -> None:
    """The client gets the key, the custom base URL and Home Assistant's session."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Garage",
        unique_id=CHARGEBOX_ID,
        data={
            CONF_API_KEY: API_KEY,
            CONF_ENVIRONMENT: "development",
            CONF_CHARGEBOX_ID: CHARGEBOX_ID,
            CONF_BASE_URL: "http://192.168.1.20:8765/latest/integration",
        },
    )
    entry.add_to_hass(hass)
    with patch("custom_components.thor.ThorClient", autospec=True) as client_class:
        client = client_class.return_value
        client.backoff = ThorBackoff()
        client.get_chargebox.return_value = Chargebox.from_dict(
            load_json_fixture("chargebox_single.json")
        )
        client.running_charges.return_value = []
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    client_class.assert_called_once_with(
        session=async_get_clientsession(hass),
        api_key=API_KEY,
        base_url="http://192.168.1.20:8765/latest/integration",
        # One back-off per entry, kept across setup retries and reloads.
        backoff=async_get_backoff(hass, entry.entry_id),
    )
    client.get_chargebox.assert_awaited_with(CHARGEBOX_ID)
    client.running_charges.assert_awaited_with(CHARGEBOX_ID)
    assert entry.runtime_data.client is client


async def test_reload(hass: HomeAssistant, init_integration: MockConfigEntry) -> None:
    """Reloading sets the entry up again with the same entities."""
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()

    assert init_integration.state is ConfigEntryState.LOADED
    assert hass.states.get("binary_sensor.garage_connector_2_occupied").state == "on"


@pytest.mark.parametrize(
    "error",
    [
        ThorConnectionError("boom"),
        ThorRestApiDisabledError("disabled", status=403),
    ],
)
async def test_setup_not_ready(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
    error: Exception,
) -> None:
    """A first poll that fails leaves the entry to be retried."""
    mock_thor_client.get_chargebox.side_effect = error
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_setup_auth_failed(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, mock_thor_client: MagicMock
) -> None:
    """A refused key at setup starts the reauthentication flow."""
    mock_thor_client.get_chargebox.side_effect = ThorAuthenticationError(
        "APIKeyNotFound", status=403
    )
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress()
    assert len(flows) == 1
    assert flows[0]["context"]["source"] == SOURCE_REAUTH
    assert flows[0]["context"]["entry_id"] == mock_config_entry.entry_id


async def test_unload_and_remove_clear_issues(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Repair issues do not outlive the entry they are about."""
    mock_thor_client.get_chargebox.side_effect = ThorChargeboxNotFoundError(
        "ChargeboxNotFound", status=404
    )
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    assert issue_registry.async_get_issue(
        DOMAIN, f"chargebox_not_found_{mock_config_entry.entry_id}"
    )

    await hass.config_entries.async_remove(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert not issue_registry.issues


async def test_unload_clears_issue(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_thor_client: MagicMock,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Unloading a loaded entry removes its repair issues."""
    coordinator = init_integration.runtime_data.coordinator
    mock_thor_client.get_chargebox.side_effect = ThorRestApiDisabledError(
        "RestAPINotEnabled", status=403
    )
    await coordinator.async_refresh()
    assert len(issue_registry.issues) == 1

    assert await hass.config_entries.async_unload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert not issue_registry.issues


async def test_device(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """One device per chargebox, named after its alias, with its id as serial."""
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, CHARGEBOX_ID), init_integration.entry_id
    )
    assert device is not None
    assert device.name == "Garage"
    assert device.manufacturer == "Thor"
    assert device.model == "Car chargebox, OCPP 1.6 JSON"
    assert device.serial_number == CHARGEBOX_ID
    assert (
        len(
            dr.async_entries_for_config_entry(
                device_registry, init_integration.entry_id
            )
        )
        == 1
    )


async def test_simulator_setup_and_unload(
    hass: HomeAssistant, simulator: ThorSimulator, sim_config_entry: MockConfigEntry
) -> None:
    """Against the simulator the entry loads, shows the chargebox and unloads."""
    sim_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(sim_config_entry.entry_id)
    await hass.async_block_till_done()

    assert sim_config_entry.state is ConfigEntryState.LOADED
    assert hass.states.get("binary_sensor.garage_connected").state == "on"
    assert hass.states.get("binary_sensor.garage_connector_1_occupied").state == "off"
    assert hass.states.get("sensor.garage_connector_2_rated_power").state == "22000"

    assert await hass.config_entries.async_unload(sim_config_entry.entry_id)
    await hass.async_block_till_done()
    assert sim_config_entry.state is ConfigEntryState.NOT_LOADED


@pytest.mark.parametrize(
    ("box_type", "model"),
    [
        (
            ChargeboxType(vehicle="car", msg="json", version="1.6"),
            "Car chargebox, OCPP 1.6 JSON",
        ),
        (
            ChargeboxType(vehicle="bicycle", msg="soap", version="1.5"),
            "Bicycle chargebox, OCPP 1.5 SOAP",
        ),
        (ChargeboxType(vehicle="scooter", msg=None, version=None), "scooter chargebox"),
        (ChargeboxType(vehicle=None, msg=None, version="1.6"), "OCPP 1.6"),
        (ChargeboxType(vehicle=None, msg=None, version=None), None),
    ],
)
def test_device_model(box_type: ChargeboxType, model: str | None) -> None:
    """The device model names the vehicle class and the OCPP dialect it knows."""
    assert device_model(box_type) == model


async def test_unload_failure_keeps_issues(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_thor_client: MagicMock,
    issue_registry: ir.IssueRegistry,
) -> None:
    """When a platform refuses to unload, the entry and its issues stay."""
    mock_thor_client.get_chargebox.side_effect = ThorRestApiDisabledError("x")
    await init_integration.runtime_data.coordinator.async_refresh()
    with patch.object(
        hass.config_entries, "async_unload_platforms", return_value=False
    ):
        assert not await hass.config_entries.async_unload(init_integration.entry_id)
    assert len(issue_registry.issues) == 1


@pytest.mark.parametrize(
    ("data", "state", "reason_key"),
    [
        ({CONF_API_KEY: "key\nwith a line break"}, ConfigEntryState.SETUP_ERROR, None),
        (
            {CONF_BASE_URL: "https://thor example.com/latest/integration"},
            ConfigEntryState.SETUP_ERROR,
            "invalid_base_url",
        ),
    ],
)
async def test_stored_settings_the_client_refuses(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    data: dict[str, str],
    state: ConfigEntryState,
    reason_key: str | None,
) -> None:
    """Settings stored before today's checks fail setup clearly, never with a crash."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, data={**mock_config_entry.data, **data}
    )
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is state
    if reason_key is None:
        # A key that cannot be sent asks for a new one.
        (flow,) = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        assert flow["context"]["source"] == SOURCE_REAUTH
    else:
        assert mock_config_entry.error_reason_translation_key == reason_key


async def test_back_off_outlives_setup_retries_and_goes_with_the_entry(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """A rate limit seen before a reload still holds after it; removal forgets it."""
    backoff = async_get_backoff(hass, init_integration.entry_id)
    assert isinstance(backoff, ThorBackoff)
    backoff.hold(120)
    assert await hass.config_entries.async_reload(init_integration.entry_id)
    await hass.async_block_till_done()
    assert async_get_backoff(hass, init_integration.entry_id) is backoff
    assert backoff.remaining() > 0

    assert await hass.config_entries.async_remove(init_integration.entry_id)
    assert async_get_backoff(hass, init_integration.entry_id) is not backoff
