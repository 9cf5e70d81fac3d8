"""The chargebox's energy meter is valid in the Energy dashboard, with statistics."""

from datetime import timedelta
from functools import partial
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.energy import data as energy_data
from homeassistant.components.energy.validate import async_validate
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
    get_start_time,
)

from thor_simulator import ThorSimulator

from .conftest import (
    async_next_idle_poll,
    async_setup_entry,
    first_chargebox,
    state_number,
)

TOTAL = "sensor.garage_energy_delivered"
CARD = "04A1B2C3D4E5F6"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    recorder_db_url: str, enable_custom_integrations: None
) -> None:
    """Prepare the recorder's database before Home Assistant starts."""


async def test_energy_dashboard_accepts_the_meter(
    recorder_mock: Any,
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The chargebox meter is a valid device consumption with compiled statistics."""
    assert await async_setup_component(hass, "energy", {})
    box = first_chargebox(simulator)
    await async_setup_entry(hass, sim_config_entry)
    manager = await energy_data.async_get_manager(hass)
    await manager.async_update({"device_consumption": [{"stat_consumption": TOTAL}]})
    simulator.start_rfid_charge(box, 1, CARD)
    for _ in range(70):
        await async_next_idle_poll(hass, freezer)
    simulator.end_charge(box, 1)
    await async_next_idle_poll(hass, freezer)
    await async_wait_recording_done(hass)
    do_adhoc_statistics(
        hass, start=get_start_time(dt_util.utcnow() - timedelta(minutes=5))
    )
    await async_wait_recording_done(hass)

    validation = await async_validate(hass)
    assert validation.as_dict()["device_consumption"] == [[]]
    stats = await hass.async_add_executor_job(
        partial(
            statistics_during_period,
            hass,
            dt_util.utcnow() - timedelta(hours=3),
            None,
            {TOTAL},
            "5minute",
            None,
            {"sum", "state"},
        )
    )
    assert stats[TOTAL]
    # The compiled period ended a little before the last reading.
    assert 20 < stats[TOTAL][-1]["state"] <= state_number(hass, TOTAL)
