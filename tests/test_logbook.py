"""Tests of the logbook descriptions of Thor events."""

from typing import Any
from unittest.mock import MagicMock

from homeassistant.components.logbook import DOMAIN as LOGBOOK_DOMAIN
from homeassistant.components.recorder import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import (
    RecorderInstanceGenerator,
    WebSocketGenerator,
)

from custom_components.thor.charge_control import EVENT_COMMAND_FAILED
from custom_components.thor.const import DOMAIN
from custom_components.thor.logbook import describe_failure

from .conftest import CHARGEBOX_ID, async_setup_entry


@pytest.fixture
async def mock_recorder_before_hass(
    async_setup_recorder_instance: RecorderInstanceGenerator,
) -> None:
    """Prepare the recorder's database before Home Assistant starts."""


def failure(**data: Any) -> dict[str, Any]:
    """Return the data of a `thor_command_failed` event."""
    return {
        "config_entry_id": "entry",
        "chargebox": CHARGEBOX_ID,
        "connector": 1,
        "command": "start",
        "reason": "not_confirmed",
        **data,
    }


class _Row:
    """What the logbook hands to a describe callback: something with `data`."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data


async def test_logbook_entry(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
) -> None:
    """A failed command shows in the logbook under the chargebox, on its switch."""
    assert await async_setup_component(hass, LOGBOOK_DOMAIN, {})
    await async_setup_entry(hass, mock_config_entry)
    start = dt_util.utcnow()

    hass.bus.async_fire(
        EVENT_COMMAND_FAILED,
        failure(config_entry_id=mock_config_entry.entry_id, connector=2),
    )
    await hass.async_block_till_done()
    await async_wait_recording_done(hass)

    client = await hass_ws_client(hass)
    await client.send_json_auto_id(
        {
            "type": "logbook/get_events",
            "start_time": start.isoformat(),
            "end_time": dt_util.utcnow().isoformat(),
        }
    )
    response = await client.receive_json()
    assert response["success"]
    entries = [entry for entry in response["result"] if entry.get("domain") == DOMAIN]
    assert len(entries) == 1
    (entry,) = entries
    assert entry["name"] == "Garage"
    assert entry["message"] == (
        "could not start charging on connector 2: Thor accepted it, "
        "but the chargebox did not confirm it in time"
    )
    assert entry["entity_id"] == "switch.garage_connector_2_charging"


async def test_describe_without_device_or_switch(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
    device_registry: dr.DeviceRegistry,
) -> None:
    """An unknown chargebox is named by its id; a renamed device by the user's name."""
    assert await async_setup_component(hass, LOGBOOK_DOMAIN, {})
    await async_setup_entry(hass, mock_config_entry)
    domain, describe = hass.data[LOGBOOK_DOMAIN].external_events[EVENT_COMMAND_FAILED]
    assert domain == DOMAIN

    entry_id = mock_config_entry.entry_id
    assert describe(_Row(failure(chargebox="unknown", config_entry_id=entry_id))) == {
        "name": "unknown",
        "message": "could not start charging on connector 1: Thor accepted it, "
        "but the chargebox did not confirm it in time",
    }

    # Without its entry the device is not looked up; the switch is still linked.
    data = failure(reason="no_answer")
    del data["config_entry_id"]
    assert describe(_Row(data)) == {
        "name": CHARGEBOX_ID,
        "message": "could not start charging on connector 1: Thor did not answer; "
        "the charge may have started anyway",
        "entity_id": "switch.garage_connector_1_charging",
    }

    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, CHARGEBOX_ID), mock_config_entry.entry_id
    )
    assert device is not None
    device_registry.async_update_device(device.id, name_by_user="Driveway")
    # No switch for connector 7: no entity to link.
    assert describe(
        _Row(failure(config_entry_id=entry_id, connector=7, command="stop"))
    ) == {
        "name": "Driveway",
        "message": "could not stop charging on connector 7: Thor accepted it, "
        "but the chargebox did not confirm it in time",
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"reason": "no_answer"},
            "could not start charging on connector 1: Thor did not answer; "
            "the charge may have started anyway",
        ),
        (
            {"command": "stop", "reason": "stop_failed"},
            "could not stop charging on connector 1: the stop was refused once "
            "the charge began; the charge goes on",
        ),
        (
            {"reason": "rate_limited", "retry_after": 30},
            "could not start charging on connector 1: Thor is throttling commands; "
            "try again in 30 s",
        ),
        (
            {"command": "pause", "reason": "surprise"},
            "could not run the pause command on connector 1: failed (surprise)",
        ),
    ],
)
def test_messages(data: dict[str, Any], message: str) -> None:
    """Each reason has a readable message; an unknown one is still shown."""
    assert describe_failure(failure(**data)) == message
