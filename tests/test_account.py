"""One entry per Thor account: the upgrade from one entry per chargebox, and the cost
of polling an account, against the simulator."""

import asyncio
from dataclasses import replace
from typing import Any
from unittest.mock import MagicMock
from urllib.parse import urlsplit

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryDisabler, ConfigEntryState
from homeassistant.const import CONF_API_KEY, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.thor.charge_control import EVENT_COMMAND_FAILED
from custom_components.thor.const import (
    CONF_BASE_URL,
    CONF_CHARGEBOX_ID,
    CONF_ENVIRONMENT,
    DOMAIN,
    SUBENTRY_TYPE_CHARGEBOX,
)
from custom_components.thor.store import STORAGE_VERSION, storage_key
from custom_components.thor.thor_api import Chargebox, RunningCharge
from thor_simulator import ThorSimulator

from .conftest import (
    API_KEY,
    CHARGEBOX_ID,
    account_entry,
    async_next_idle_poll,
    async_poll,
    async_setup_entry,
    async_switch,
    entity_state,
    put_stored_id_tags,
)

OTHER_KEY = "other-account-key-0123456789"
SWITCH_1 = "switch.garage_connector_1_charging"
OCCUPIED_1 = "binary_sensor.garage_connector_1_occupied"


def _v1_entry(
    simulator: ThorSimulator, chargebox_id: str, title: str, api_key: str = API_KEY
) -> MockConfigEntry:
    """Return an entry as version 1 wrote it: one chargebox, its id as unique id."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=title,
        version=1,
        unique_id=chargebox_id,
        data={
            CONF_API_KEY: api_key,
            CONF_ENVIRONMENT: "production",
            CONF_CHARGEBOX_ID: chargebox_id,
            CONF_BASE_URL: simulator.base_url,
        },
    )


def _v1_registry(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    entities: dict[str, str],
    *,
    disabled: bool = False,
) -> dr.DeviceEntry:
    """Register a version-1 entry's device and entities (unique id to entity id)."""
    chargebox_id = entry.data[CONF_CHARGEBOX_ID]
    device = dr.async_get(hass).async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={(DOMAIN, chargebox_id)},
        manufacturer="Thor",
        name=entry.title,
        serial_number=chargebox_id,
    )
    registry = er.async_get(hass)
    for unique_id, entity_id in entities.items():
        domain, object_id = entity_id.split(".")
        registry.async_get_or_create(
            domain,
            DOMAIN,
            unique_id,
            config_entry=entry,
            device_id=device.id,
            suggested_object_id=object_id,
            disabled_by=er.RegistryEntryDisabler.CONFIG_ENTRY if disabled else None,
        )
    return device


def _v1_storage(
    hass_storage: dict[str, Any], entry: MockConfigEntry, records: dict[int, str]
) -> None:
    """Store id_tags as version 1 did: nested by chargebox, in the entry's store."""
    put_stored_id_tags(
        hass_storage,
        entry,
        {
            "charges": {
                entry.data[CONF_CHARGEBOX_ID]: {
                    str(connector): {
                        "id_tag": id_tag,
                        "transaction": None,
                        "confirmed": True,
                        "requested": "2026-11-01T10:00:00+00:00",
                        "stop_requested": False,
                    }
                    for connector, id_tag in records.items()
                }
            }
        },
        version=1,
    )


async def test_upgrade_folds_entries_into_accounts(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    hass_storage: dict[str, Any],
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Entries of one key become one account entry; every id and id_tag survives."""
    garage_id = next(iter(simulator.chargeboxes))
    shed_id = simulator.add_chargebox(alias="Shed", connectors=1).id
    office_id = simulator.add_chargebox(alias="Office", connectors=1).id
    simulator.add_key(OTHER_KEY)
    garage = _v1_entry(simulator, garage_id, "Garage")
    shed = _v1_entry(simulator, shed_id, "Bike shed")
    office = _v1_entry(simulator, office_id, "Office", api_key=OTHER_KEY)
    for entry in (garage, shed, office):
        entry.add_to_hass(hass)
    garage_device = _v1_registry(
        hass,
        garage,
        {
            f"{garage_id}_1_charging": "switch.garage_connector_1_charging",
            f"{garage_id}_connected": "binary_sensor.garage_connected",
        },
    )
    shed_device = _v1_registry(
        hass,
        shed,
        {
            f"{shed_id}_1_charging": "switch.bike_shed_charging",
            f"{shed_id}_1_occupied": "binary_sensor.bike_shed_occupied",
        },
    )
    _v1_registry(hass, office, {f"{office_id}_1_charging": "switch.office_charging"})
    # A charge Home Assistant started on the shed before the upgrade: only the
    # shed entry's store knows its id_tag.
    id_tag = simulator.api_start({"chargebox": shed_id, "connector": 1})
    _v1_storage(hass_storage, shed, {1: id_tag})
    ir.async_create_issue(
        hass,
        DOMAIN,
        f"chargebox_not_found_{shed.entry_id}",
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key="chargebox_not_found",
    )

    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()

    entries = hass.config_entries.async_entries(DOMAIN)
    assert {entry.entry_id for entry in entries} == {garage.entry_id, office.entry_id}
    account = hass.config_entries.async_get_entry(garage.entry_id)
    assert account is not None
    assert account.state is ConfigEntryState.LOADED
    assert (account.version, account.unique_id) == (2, None)
    assert account.title == f"Thor ({urlsplit(simulator.base_url).hostname})"
    assert CONF_CHARGEBOX_ID not in account.data
    assert account.data[CONF_API_KEY] == API_KEY
    subentries = {sub.unique_id: sub for sub in account.subentries.values()}
    assert set(subentries) == {garage_id, shed_id}
    # The title the user saw (or gave) stays the chargebox's name.
    assert subentries[shed_id].title == "Bike shed"
    assert subentries[shed_id].subentry_type == SUBENTRY_TYPE_CHARGEBOX
    assert dict(subentries[shed_id].data) == {CONF_CHARGEBOX_ID: shed_id}
    other = hass.config_entries.async_get_entry(office.entry_id)
    assert other is not None
    assert other.version == 2
    assert [sub.unique_id for sub in other.subentries.values()] == [office_id]

    # Same device and entity ids, now on the account entry and its subentries.
    for device, chargebox_id in ((garage_device, garage_id), (shed_device, shed_id)):
        moved = device_registry.async_get(device.id)
        assert moved is not None
        assert moved.config_entry_id == garage.entry_id
        assert moved.config_subentry_id == subentries[chargebox_id].subentry_id
    switch = entity_registry.async_get("switch.bike_shed_charging")
    assert switch is not None
    assert switch.unique_id == f"{shed_id}_1_charging"
    assert switch.config_entry_id == garage.entry_id
    assert switch.config_subentry_id == subentries[shed_id].subentry_id
    assert switch.device_id == shed_device.id
    # The old entry's repair went with it, its store was folded into the account's.
    assert storage_key(shed.entry_id) not in hass_storage
    assert not ir.async_get(hass).async_get_issue(
        DOMAIN, f"chargebox_not_found_{shed.entry_id}"
    )

    # The charge started before the upgrade is on, and its stored id_tag stops it.
    assert entity_state(hass, "switch.bike_shed_charging") == STATE_ON
    await async_switch(hass, "switch.bike_shed_charging", on=False)
    await hass.async_block_till_done()
    assert simulator.running(shed_id) == []
    stored = hass_storage[storage_key(garage.entry_id)]
    assert stored["version"] == STORAGE_VERSION


async def test_upgrade_keeps_disabled_entry_disabled(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    entity_registry: er.EntityRegistry,
) -> None:
    """A disabled entry's entities stay disabled, but not by the enabled account entry."""
    garage_id = next(iter(simulator.chargeboxes))
    shed_id = simulator.add_chargebox(alias="Shed", connectors=1).id
    garage = _v1_entry(simulator, garage_id, "Garage")
    shed = _v1_entry(simulator, shed_id, "Shed")
    shed.disabled_by = ConfigEntryDisabler.USER
    garage.add_to_hass(hass)
    shed.add_to_hass(hass)
    _v1_registry(
        hass, garage, {f"{garage_id}_connected": "binary_sensor.garage_connected"}
    )
    _v1_registry(
        hass,
        shed,
        {f"{shed_id}_1_charging": "switch.shed_charging"},
        disabled=True,
    )

    assert await async_setup_component(hass, DOMAIN, {})
    await hass.async_block_till_done()

    (account,) = hass.config_entries.async_entries(DOMAIN)
    # The enabled entry becomes the account entry, whatever the order they came in.
    assert account.entry_id == garage.entry_id
    assert account.disabled_by is None
    switch = entity_registry.async_get("switch.shed_charging")
    assert switch is not None
    assert switch.config_entry_id == garage.entry_id
    assert switch.disabled_by is er.RegistryEntryDisabler.DEVICE


async def test_upgrade_of_current_entries_changes_nothing(
    hass: HomeAssistant, simulator: ThorSimulator
) -> None:
    """Account entries are left as they are at every start."""
    chargebox_id = next(iter(simulator.chargeboxes))
    entry = account_entry((chargebox_id, "Garage"), base_url=simulator.base_url)
    await async_setup_entry(hass, entry)
    assert entry.version == 2
    assert [sub.unique_id for sub in entry.subentries.values()] == [chargebox_id]


@pytest.mark.parametrize("count", [1, 5, 20])
async def test_poll_cost_does_not_grow_with_chargeboxes(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    freezer: FrozenDateTimeFactory,
    device_registry: dr.DeviceRegistry,
    count: int,
) -> None:
    """1 request per idle poll and 2 while charging, for 1, 5 or 20 chargeboxes."""
    for number in range(count):
        simulator.add_chargebox(alias=f"Box {number}", connectors=1)
    # The first box (the fixture's) is on the account but not configured.
    unconfigured, *configured = simulator.chargeboxes
    entry = account_entry(
        *((box, simulator.chargeboxes[box].alias) for box in configured),
        base_url=simulator.base_url,
    )
    await async_setup_entry(hass, entry)
    assert simulator.request_counts.total <= 2
    assert len(dr.async_entries_for_config_entry(device_registry, entry.entry_id)) == (
        count
    )
    assert not [
        device
        for device in device_registry.devices
        if (DOMAIN, unconfigured) in device.identifiers
    ]

    simulator.reset_requests()
    for _ in range(3):
        await async_next_idle_poll(hass, freezer)
    assert dict(simulator.request_counts.by_endpoint) == {
        "GET /chargeboxes?onlyactive": 3
    }

    # A card starts a charge on the last box: the running charges join the poll.
    simulator.start_rfid_charge(configured[-1], 1, "04A1B2C3D4E5F6")
    await async_next_idle_poll(hass, freezer)
    switch = f"switch.box_{count - 1}_charging"
    assert entity_state(hass, switch) == STATE_ON
    simulator.reset_requests()
    for _ in range(3):
        await async_poll(hass, freezer, 31)
    assert dict(simulator.request_counts.by_endpoint) == {
        "GET /chargeboxes?onlyactive": 3,
        "GET /charges/running": 3,
    }

    # Once the charge ended, polls are back to one request.
    simulator.end_charge(configured[-1], 1)
    await async_poll(hass, freezer, 31)
    assert entity_state(hass, switch) == STATE_OFF
    simulator.reset_requests()
    await async_next_idle_poll(hass, freezer)
    assert simulator.request_counts.total == 1


async def test_late_poll_answer_does_not_undo_a_confirmation(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A poll sent before a confirmation read but answered after it changes nothing."""
    free = replace(
        mock_thor_client.list_chargeboxes.return_value[0],
        occupied_connectors=frozenset(),
    )
    mock_thor_client.list_chargeboxes.return_value = [free]
    started = RunningCharge.from_dict(
        {"id": 1001, "chargebox": CHARGEBOX_ID, "connector": 1, "energy": 0}
    )
    # Only the confirmation read (one chargebox) sees the charge yet.
    mock_thor_client.running_charges.side_effect = lambda chargebox_id=None: (
        [started] if chargebox_id else []
    )
    mock_thor_client.start_charge.return_value = "tag-1"
    await async_setup_entry(hass, mock_config_entry)
    await async_switch(hass, SWITCH_1, on=True)

    gate = asyncio.Event()

    async def slow_list(**_kwargs: Any) -> list[Chargebox]:
        await gate.wait()
        return [free]

    mock_thor_client.list_chargeboxes.side_effect = slow_list
    coordinator = mock_config_entry.runtime_data.coordinator
    # Not a task Home Assistant waits for: it hangs until the gate opens.
    poll = asyncio.create_task(coordinator.async_refresh())
    await asyncio.sleep(0)  # The poll is sent, and waits for its answer.
    await async_poll(hass, freezer, 1.5)
    assert entity_state(hass, OCCUPIED_1) == STATE_ON

    gate.set()
    await poll
    await hass.async_block_till_done()
    assert entity_state(hass, OCCUPIED_1) == STATE_ON
    assert entity_state(hass, SWITCH_1) == STATE_ON


async def test_command_not_failed_while_thor_asks_for_silence(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A rate limit spanning the confirmation window delays the verdict, not fakes it."""
    free = replace(
        mock_thor_client.list_chargeboxes.return_value[0],
        occupied_connectors=frozenset(),
    )
    mock_thor_client.list_chargeboxes.return_value = [free]
    mock_thor_client.running_charges.return_value = []
    mock_thor_client.start_charge.return_value = "tag-1"
    failed = async_capture_events(hass, EVENT_COMMAND_FAILED)
    await async_setup_entry(hass, mock_config_entry)
    await async_switch(hass, SWITCH_1, on=True)
    mock_thor_client.backoff.hold(300)
    mock_thor_client.running_charges.reset_mock()

    await async_poll(hass, freezer, 125)
    assert entity_state(hass, SWITCH_1) == STATE_ON
    assert not failed
    assert mock_thor_client.running_charges.call_count == 0

    await async_poll(hass, freezer, 180)
    assert entity_state(hass, SWITCH_1) == STATE_OFF
    assert [event.data["reason"] for event in failed] == ["not_confirmed"]
