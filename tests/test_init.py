"""Tests of setting up, unloading and reloading a Thor config entry."""

from dataclasses import replace
from types import MappingProxyType
from typing import Any
from unittest.mock import MagicMock, patch

from homeassistant.config_entries import (
    SOURCE_REAUTH,
    ConfigEntryState,
    ConfigSubentry,
)
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.thor.const import (
    CONF_BASE_URL,
    CONF_CHARGEBOX_ID,
    CONF_ENVIRONMENT,
    DOMAIN,
    SUBENTRY_TYPE_CHARGEBOX,
    base_url_from,
)
from custom_components.thor.entity import device_model
from custom_components.thor.entries import async_get_backoff
from custom_components.thor.thor_api import (
    DEVELOPMENT_BASE_URL,
    PRODUCTION_BASE_URL,
    Chargebox,
    ChargeboxType,
    ThorAuthenticationError,
    ThorBackoff,
    ThorConnectionError,
    ThorRestApiDisabledError,
)
from thor_simulator import ThorSimulator

from .conftest import (
    API_KEY,
    CHARGEBOX_ID,
    account_entry,
    async_setup_entry,
    put_stored_id_tags,
    stored_id_tags,
    subentry_id,
)

OTHER_ID = "Zq8RkP2mLw5vXy3T"
"""A second chargebox of the same Thor account."""


def _carport(garage: Chargebox) -> Chargebox:
    """Return a second, idle chargebox of the account."""
    return replace(
        garage,
        id=OTHER_ID,
        alias="Carport",
        occupied_connectors=frozenset(),
        reserved_connectors=frozenset(),
    )


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


@pytest.mark.parametrize("chargebox_fixture", ["chargebox_single.json"])
@pytest.mark.parametrize("running_charges_fixture", ["running_charges_empty.json"])
async def test_client_built_from_entry(
    hass: HomeAssistant, mock_thor_client: MagicMock
) -> None:
    """The client gets the key, the custom base URL and Home Assistant's session.

    The first poll of an idle account is one request: the list of its chargeboxes.
    """
    entry = account_entry(
        (CHARGEBOX_ID, "Carport"),
        base_url="http://192.168.1.20:8765/latest/integration",
    )
    with patch(
        "custom_components.thor.entries.ThorClient", return_value=mock_thor_client
    ) as client_class:
        await async_setup_entry(hass, entry)

    assert entry.state is ConfigEntryState.LOADED
    client_class.assert_called_once_with(
        session=async_get_clientsession(hass),
        api_key=API_KEY,
        base_url="http://192.168.1.20:8765/latest/integration",
        # One back-off per entry, kept across setup retries and reloads.
        backoff=async_get_backoff(hass, entry.entry_id),
    )
    mock_thor_client.list_chargeboxes.assert_awaited_once_with(only_active=False)
    mock_thor_client.running_charges.assert_not_awaited()
    mock_thor_client.get_chargebox.assert_not_awaited()
    assert entry.runtime_data.client is mock_thor_client
    assert hass.states.get("binary_sensor.carport_connected").state == "on"


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
    mock_thor_client.list_chargeboxes.side_effect = error
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY


async def test_setup_auth_failed(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, mock_thor_client: MagicMock
) -> None:
    """A refused key at setup starts the reauthentication flow."""
    mock_thor_client.list_chargeboxes.side_effect = ThorAuthenticationError(
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


async def test_remove_after_failed_setup_clears_issues(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Repair issues do not outlive the entry they are about, even one never loaded."""
    mock_thor_client.list_chargeboxes.side_effect = ThorRestApiDisabledError(
        "RestAPINotEnabled", status=403
    )
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    assert issue_registry.async_get_issue(
        DOMAIN, f"rest_api_disabled_{mock_config_entry.entry_id}"
    )

    await hass.config_entries.async_remove(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert not issue_registry.issues


async def _account_with_issues(
    hass: HomeAssistant, client: MagicMock, issue_registry: ir.IssueRegistry
) -> MockConfigEntry:
    """Set up an account whose second chargebox is missing and whose REST API is off.

    Return the entry, with a repair issue about the account and one about the box.
    """
    entry = await async_setup_entry(
        hass, account_entry((CHARGEBOX_ID, "Garage"), (OTHER_ID, "Carport"))
    )
    client.list_chargeboxes.side_effect = ThorRestApiDisabledError(
        "RestAPINotEnabled", status=403
    )
    await entry.runtime_data.coordinator.async_refresh()
    assert set(issue_registry.issues) == {
        (DOMAIN, f"chargebox_not_found_{entry.entry_id}_{OTHER_ID}"),
        (DOMAIN, f"rest_api_disabled_{entry.entry_id}"),
    }
    return entry


@pytest.mark.parametrize("remove", [False, True])
async def test_unload_and_remove_clear_issues(
    hass: HomeAssistant,
    mock_thor_client: MagicMock,
    issue_registry: ir.IssueRegistry,
    remove: bool,
) -> None:
    """Unloading or deleting the entry removes its account and chargebox issues.

    Nothing polls the account any more, so nothing would ever clear them.
    """
    entry = await _account_with_issues(hass, mock_thor_client, issue_registry)

    if remove:
        assert await hass.config_entries.async_remove(entry.entry_id)
    else:
        assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert not issue_registry.issues


async def test_device(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """One device per chargebox, named after its alias, with its id as serial.

    The device and its entities belong to the chargebox's subentry.
    """
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, CHARGEBOX_ID), init_integration.entry_id
    )
    assert device is not None
    assert device.name == "Garage"
    assert device.manufacturer == "Thor"
    assert device.model == "Car chargebox, OCPP 1.6 JSON"
    assert device.serial_number == CHARGEBOX_ID
    subentry = subentry_id(init_integration, CHARGEBOX_ID)
    assert device.config_entry_id == init_integration.entry_id
    assert device.config_subentry_id == subentry
    assert (
        len(
            dr.async_entries_for_config_entry(
                device_registry, init_integration.entry_id
            )
        )
        == 1
    )
    entities = er.async_entries_for_device(entity_registry, device.id)
    assert entities
    assert {entity.config_subentry_id for entity in entities} == {subentry}


async def test_devices_of_an_account(
    hass: HomeAssistant,
    mock_thor_client: MagicMock,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Each chargebox of an account has its device and entities, in its subentry."""
    garage = mock_thor_client.list_chargeboxes.return_value[0]
    mock_thor_client.list_chargeboxes.return_value = [garage, _carport(garage)]
    entry = await async_setup_entry(
        hass, account_entry((CHARGEBOX_ID, "Garage"), (OTHER_ID, "Carport"))
    )

    devices = dr.async_entries_for_config_entry(device_registry, entry.entry_id)
    assert sorted(device.name for device in devices) == ["Carport", "Garage"]
    for chargebox_id in (CHARGEBOX_ID, OTHER_ID):
        device = device_registry.async_get_device_by_identifier(
            (DOMAIN, chargebox_id), entry.entry_id
        )
        subentry = subentry_id(entry, chargebox_id)
        assert device.config_entry_id == entry.entry_id
        assert device.config_subentry_id == subentry
        entities = er.async_entries_for_device(entity_registry, device.id)
        assert {entity.config_subentry_id for entity in entities} == {subentry}
        assert all(
            entity.unique_id.startswith(f"{chargebox_id}_") for entity in entities
        )
    assert hass.states.get("binary_sensor.garage_connector_2_occupied").state == "on"
    assert hass.states.get("binary_sensor.carport_connector_2_occupied").state == "off"


async def test_chargebox_added(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_thor_client: MagicMock,
    device_registry: dr.DeviceRegistry,
) -> None:
    """A chargebox subentry added to a loaded entry reloads it: the box shows up."""
    garage = mock_thor_client.list_chargeboxes.return_value[0]
    mock_thor_client.list_chargeboxes.return_value = [garage, _carport(garage)]
    coordinator = init_integration.runtime_data.coordinator
    assert hass.states.get("binary_sensor.carport_connected") is None

    hass.config_entries.async_add_subentry(
        init_integration,
        ConfigSubentry(
            data=MappingProxyType({CONF_CHARGEBOX_ID: OTHER_ID}),
            subentry_type=SUBENTRY_TYPE_CHARGEBOX,
            title="Carport",
            unique_id=OTHER_ID,
        ),
    )
    await hass.async_block_till_done()

    assert init_integration.state is ConfigEntryState.LOADED
    assert init_integration.runtime_data.coordinator is not coordinator
    assert hass.states.get("binary_sensor.carport_connected").state == "on"
    assert hass.states.get("binary_sensor.garage_connector_2_occupied").state == "on"
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, OTHER_ID), init_integration.entry_id
    )
    assert device.config_subentry_id == subentry_id(init_integration, OTHER_ID)


async def test_chargebox_added_while_setting_up(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
) -> None:
    """A chargebox added while the entry sets up (no listener yet) shows up too."""
    garage = mock_thor_client.list_chargeboxes.return_value[0]
    mock_thor_client.list_chargeboxes.return_value = [garage, _carport(garage)]
    mock_config_entry.add_to_hass(hass)

    async def _add_meanwhile() -> None:
        # Between the unload of a reload and the new listener: as quick "Add
        # chargebox" flows do.
        if OTHER_ID not in {s.unique_id for s in mock_config_entry.subentries.values()}:
            hass.config_entries.async_add_subentry(
                mock_config_entry,
                ConfigSubentry(
                    data=MappingProxyType({CONF_CHARGEBOX_ID: OTHER_ID}),
                    subentry_type=SUBENTRY_TYPE_CHARGEBOX,
                    title="Carport",
                    unique_id=OTHER_ID,
                ),
            )

    with patch(
        "custom_components.thor.ThorEnergyTracker.async_load",
        side_effect=_add_meanwhile,
    ):
        assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
        await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert hass.states.get("binary_sensor.carport_connected").state == "on"


async def test_chargebox_removed(
    hass: HomeAssistant,
    *,
    mock_thor_client: MagicMock,
    hass_storage: dict[str, Any],
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Deleting a chargebox subentry reloads the entry without that box.

    Its device, its entities, its repair issues and its stored id_tags go; the other
    chargebox keeps all of its own.
    """
    entry = account_entry((CHARGEBOX_ID, "Garage"), (OTHER_ID, "Carport"))
    put_stored_id_tags(
        hass_storage,
        entry,
        {
            "charges": [
                # The charge of the running-charges fixture, started from here.
                {
                    "chargebox": CHARGEBOX_ID,
                    "connector": 2,
                    "id_tag": "04A1B2C3D4E5F6",
                    "transaction": 1001,
                    "confirmed": True,
                    "requested": "2026-01-01T09:00:00+00:00",
                    "stop_requested": False,
                },
                {
                    "chargebox": OTHER_ID,
                    "connector": 1,
                    "id_tag": "api-tag-of-the-carport",
                    "transaction": None,
                    "confirmed": False,
                    "requested": "2026-01-01T09:00:00+00:00",
                    "stop_requested": False,
                },
            ]
        },
    )
    # Thor no longer lists the carport: the user deletes it from the entry.
    await async_setup_entry(hass, entry)
    issue = (DOMAIN, f"chargebox_not_found_{entry.entry_id}_{OTHER_ID}")
    assert set(issue_registry.issues) == {issue}
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, OTHER_ID), entry.entry_id
    )
    assert device is not None
    assert er.async_entries_for_device(entity_registry, device.id)
    coordinator = entry.runtime_data.coordinator

    hass.config_entries.async_remove_subentry(entry, subentry_id(entry, OTHER_ID))
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.coordinator is not coordinator
    assert list(entry.runtime_data.coordinator.chargeboxes) == [CHARGEBOX_ID]
    assert device_registry.async_get(device.id) is None
    assert not er.async_entries_for_device(entity_registry, device.id)
    assert all(
        entity.unique_id.startswith(f"{CHARGEBOX_ID}_")
        for entity in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
    )
    assert hass.states.get("binary_sensor.carport_connected") is None
    assert not issue_registry.issues
    stored = stored_id_tags(hass_storage, entry)
    assert [(charge["chargebox"], charge["connector"]) for charge in stored] == [
        (CHARGEBOX_ID, 2)
    ]
    assert hass.states.get("binary_sensor.garage_connector_2_occupied").state == "on"


async def test_entry_change_without_new_chargeboxes_does_not_reload(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Only a change of the configured chargeboxes reloads the entry."""
    coordinator = init_integration.runtime_data.coordinator
    hass.config_entries.async_update_entry(init_integration, title="Thor at home")
    hass.config_entries.async_update_subentry(
        init_integration,
        init_integration.subentries[subentry_id(init_integration, CHARGEBOX_ID)],
        title="Garage box",
    )
    await hass.async_block_till_done()

    assert init_integration.state is ConfigEntryState.LOADED
    assert init_integration.runtime_data.coordinator is coordinator


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
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
    mock_thor_client: MagicMock,
    issue_registry: ir.IssueRegistry,
) -> None:
    """When a platform refuses to unload, the entry and its issues stay."""
    entry = await _account_with_issues(hass, mock_thor_client, issue_registry)
    with patch.object(
        hass.config_entries, "async_unload_platforms", return_value=False
    ):
        assert not await hass.config_entries.async_unload(entry.entry_id)
    assert len(issue_registry.issues) == 2
    # The entry stays loaded for good (FAILED_UNLOAD): stop its polling, or its timer
    # outlives the test (Home Assistant 2026.9 reports it).
    await entry.runtime_data.coordinator.async_shutdown()


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
