"""The life of an entry: reloads keep id_tags and commands; unloads stop everything.

Also what a damaged id_tag store tells the user.
"""

import asyncio
from dataclasses import replace
from types import MappingProxyType
from typing import Any
from unittest.mock import MagicMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import STATE_OFF, STATE_ON
from homeassistant.core import Event, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.thor.charge_control import (
    CONFIRM_WINDOW,
    EVENT_COMMAND_FAILED,
)
from custom_components.thor.const import CONF_CHARGEBOX_ID, SUBENTRY_TYPE_CHARGEBOX
from custom_components.thor.store import storage_key
from custom_components.thor.thor_api import Chargebox, RunningCharge

from .conftest import (
    CHARGEBOX_ID,
    account_entry,
    async_poll,
    async_poll_steps,
    async_setup_entry,
    async_switch,
    entity_state,
    put_stored_id_tags,
    stored_id_tags,
    subentry_id,
)

OTHER_ID = "Carport0000000001"
SWITCH_1 = "switch.garage_connector_1_charging"
CARPORT_SWITCH = "switch.carport_charging"
ID_TAG = "q8w7e6r5t4y3u2i1o0pa"


def _idle(box: Chargebox) -> Chargebox:
    return replace(box, occupied_connectors=frozenset())


def _carport(garage: Chargebox) -> Chargebox:
    """A second, idle chargebox with one connector."""
    return replace(
        _idle(garage),
        id=OTHER_ID,
        alias="Carport",
        connectors=garage.connectors[:1],
        reserved_connectors=frozenset(),
    )


def _charge(chargebox: str, connector: int, transaction: int) -> RunningCharge:
    """A charge as Thor shows API and app starts: no id_tag."""
    return RunningCharge(
        id=transaction,
        chargebox=chargebox,
        connector=connector,
        date_started=dt_util.utcnow(),
        energy=100,
        id_tag=None,
        user=None,
        type="api",
        payment=None,
    )


@pytest.fixture
def idle_client(mock_thor_client: MagicMock) -> MagicMock:
    """Thor shows the garage idle and answers starts with an id_tag."""
    garage = mock_thor_client.list_chargeboxes.return_value[0]
    mock_thor_client.list_chargeboxes.return_value = [_idle(garage)]
    mock_thor_client.running_charges.return_value = []
    mock_thor_client.start_charge.return_value = ID_TAG
    return mock_thor_client


def _failed(hass: HomeAssistant) -> list[Event]:
    events: list[Event] = []
    hass.bus.async_listen(EVENT_COMMAND_FAILED, events.append)
    return events


def _add_carport(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    hass.config_entries.async_add_subentry(
        entry,
        ConfigSubentry(
            data=MappingProxyType({CONF_CHARGEBOX_ID: OTHER_ID}),
            subentry_type=SUBENTRY_TYPE_CHARGEBOX,
            title="Carport",
            unique_id=OTHER_ID,
        ),
    )


async def test_a_reload_during_a_start_keeps_its_id_tag(
    hass: HomeAssistant,
    *,
    mock_config_entry: MockConfigEntry,
    idle_client: MagicMock,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Options saved while Thor answers a start: the charge can still be stopped."""
    await async_setup_entry(hass, mock_config_entry)
    answer = asyncio.Event()

    sent = asyncio.Event()

    async def slow_start(*_args: Any) -> str:
        sent.set()
        await answer.wait()
        return ID_TAG

    idle_client.start_charge.side_effect = slow_start
    start = hass.async_create_task(async_switch(hass, SWITCH_1, on=True))
    await asyncio.wait_for(sent.wait(), 5)
    assert await hass.config_entries.async_reload(mock_config_entry.entry_id)
    answer.set()
    await start
    await hass.async_block_till_done()
    (record,) = stored_id_tags(hass_storage, mock_config_entry)
    assert record["id_tag"] == ID_TAG
    assert entity_state(hass, SWITCH_1) == STATE_ON  # Still awaiting Thor.

    # The chargebox begins the charge; the reloaded entry stops it with the id_tag.
    garage = idle_client.list_chargeboxes.return_value[0]
    idle_client.list_chargeboxes.return_value = [
        replace(garage, occupied_connectors=frozenset({1}))
    ]
    idle_client.running_charges.return_value = [_charge(CHARGEBOX_ID, 1, 77)]
    await async_poll_steps(hass, freezer, 3)
    assert entity_state(hass, SWITCH_1) == STATE_ON
    await async_switch(hass, SWITCH_1, on=False)
    idle_client.stop_charge.assert_awaited_once_with(CHARGEBOX_ID, 1, ID_TAG, 77)
    # A later save keeps it until the charge is gone.
    assert [r["id_tag"] for r in stored_id_tags(hass_storage, mock_config_entry)] == [
        ID_TAG
    ]


async def test_adding_a_chargebox_keeps_the_others_pending_commands(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    idle_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A start 5 s old stays pending through the reload, and still fails loudly."""
    garage = idle_client.list_chargeboxes.return_value[0]
    await async_setup_entry(hass, mock_config_entry)
    failed = _failed(hass)
    await async_switch(hass, SWITCH_1, on=True)
    await async_poll(hass, freezer, 5)
    idle_client.list_chargeboxes.return_value = [garage, _carport(garage)]
    _add_carport(hass, mock_config_entry)
    await hass.async_block_till_done()
    assert entity_state(hass, "switch.carport_charging") == STATE_OFF  # Reloaded.
    assert entity_state(hass, SWITCH_1) == STATE_ON
    # Thor never shows the charge: the command fails at its deadline, as before.
    await async_poll_steps(hass, freezer, CONFIRM_WINDOW, step=10)
    assert entity_state(hass, SWITCH_1) == STATE_OFF
    assert [event.data["reason"] for event in failed] == ["not_confirmed"]


async def test_a_removed_chargebox_stops_reading_at_once(
    hass: HomeAssistant,
    idle_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Its start in flight: no more reads, no failure for a box that is gone."""
    garage = idle_client.list_chargeboxes.return_value[0]
    idle_client.list_chargeboxes.return_value = [garage, _carport(garage)]
    entry = account_entry((CHARGEBOX_ID, "Garage"), (OTHER_ID, "Carport"))
    await async_setup_entry(hass, entry)
    failed = _failed(hass)
    await async_switch(hass, CARPORT_SWITCH, on=True)
    await async_poll(hass, freezer, 2)

    hass.config_entries.async_remove_subentry(entry, subentry_id(entry, OTHER_ID))
    await hass.async_block_till_done()
    reads = idle_client.running_charges.await_args_list.count(((OTHER_ID,), {}))
    await async_poll_steps(hass, freezer, 180, step=5)
    assert idle_client.running_charges.await_args_list.count(((OTHER_ID,), {})) == (
        reads
    )
    assert failed == []


@pytest.mark.parametrize(
    ("version", "data"),
    [
        (1, {"charges": {CHARGEBOX_ID: {"1": "damaged"}}}),
        (1, {"charges": "damaged"}),
        (2, {"charges": [{"chargebox": CHARGEBOX_ID, "connector": 1}]}),
    ],
)
async def test_a_damaged_store_is_named_and_the_refusal_says_the_id_tag_was_lost(
    hass: HomeAssistant,
    *,
    mock_config_entry: MockConfigEntry,
    idle_client: MagicMock,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    version: int,
    data: Any,
) -> None:
    """A charge started before the upgrade, its id_tag unreadable: say so."""
    put_stored_id_tags(hass_storage, mock_config_entry, data, version)
    garage = idle_client.list_chargeboxes.return_value[0]
    idle_client.list_chargeboxes.return_value = [
        replace(garage, occupied_connectors=frozenset({1}))
    ]
    idle_client.running_charges.return_value = [_charge(CHARGEBOX_ID, 1, 5)]
    await async_setup_entry(hass, mock_config_entry)
    assert storage_key(mock_config_entry.entry_id) in caplog.text
    assert "damaged" in caplog.text
    with pytest.raises(ServiceValidationError) as err:
        await async_switch(hass, SWITCH_1, on=False)
    assert err.value.translation_key == "id_tag_lost"


async def test_an_unreadable_store_file_is_named_too(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    idle_client: MagicMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A file Home Assistant cannot parse: the entry loads and says what was lost."""
    garage = idle_client.list_chargeboxes.return_value[0]
    idle_client.list_chargeboxes.return_value = [
        replace(garage, occupied_connectors=frozenset({1}))
    ]
    idle_client.running_charges.return_value = [_charge(CHARGEBOX_ID, 1, 5)]
    with patch(
        "custom_components.thor.store._ChargeStore.async_load",
        side_effect=HomeAssistantError("Error while loading"),
    ):
        await async_setup_entry(hass, mock_config_entry)
    assert storage_key(mock_config_entry.entry_id) in caplog.text
    with pytest.raises(ServiceValidationError) as err:
        await async_switch(hass, SWITCH_1, on=False)
    assert err.value.translation_key == "id_tag_lost"
