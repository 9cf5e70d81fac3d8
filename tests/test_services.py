"""Tests of the thor.start_charge and thor.stop_charge actions, against the simulator."""

from collections.abc import Generator
import math
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import Platform
from homeassistant.core import DOMAIN as HA_DOMAIN, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.thor.const import DOMAIN
from thor_simulator import ThorSimulator

from .conftest import (
    account_entry,
    async_poll,
    async_setup_entry,
    entity_state,
    subentry_id,
)

START = ("POST", "/latest/integration/charges/start")
STOP = ("POST", "/latest/integration/charges/stop")
SWITCH_1 = "switch.garage_connector_1_charging"


@pytest.fixture(autouse=True)
def only_switches() -> Generator[None]:
    """Set up the switch platform only."""
    with patch("custom_components.thor.PLATFORMS", [Platform.SWITCH]):
        yield


async def _action(
    hass: HomeAssistant, service: str, data: dict[str, Any]
) -> dict[str, Any] | None:
    """Call an action of the integration and return its response."""
    return await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=True
    )


async def test_start_and_stop_by_config_entry(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Start returns the id_tag, stop the id_tag and transaction it used."""
    entry = await async_setup_entry(hass, sim_config_entry)
    (chargebox_id,) = simulator.chargeboxes

    started = await _action(
        hass, "start_charge", {"config_entry_id": entry.entry_id, "connector": 2}
    )
    (charge,) = simulator.running(chargebox_id)
    assert charge["connector"] == 2
    assert started == {
        "id_tag": simulator.app_tag(chargebox_id, 2),
        "transaction": None,
    }
    assert entity_state(hass, "switch.garage_connector_2_charging") == "on"

    await async_poll(hass, freezer, 2)
    response = await _action(
        hass, "stop_charge", {"config_entry_id": entry.entry_id, "connector": 2}
    )
    assert response == {"id_tag": started["id_tag"], "transaction": charge["id"]}
    assert simulator.running(chargebox_id) == []
    assert entity_state(hass, "switch.garage_connector_2_charging") == "off"


async def test_start_and_stop_by_device(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """The chargebox can be named by its device; the connector defaults to 1."""
    await async_setup_entry(hass, sim_config_entry)
    (chargebox_id,) = simulator.chargeboxes
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, chargebox_id), sim_config_entry.entry_id
    )
    assert device is not None

    await hass.services.async_call(
        DOMAIN, "start_charge", {"device_id": device.id}, blocking=True
    )
    (charge,) = simulator.running(chargebox_id)
    assert charge["connector"] == 1
    id_tag = simulator.app_tag(chargebox_id, 1)
    assert entity_state(hass, SWITCH_1) == "on"

    response = await _action(hass, "stop_charge", {"device_id": device.id})
    # Stopped before a poll showed the charge: its transaction is not known yet.
    assert response == {"id_tag": id_tag, "transaction": None}
    assert simulator.running(chargebox_id) == []


async def test_repeated_start_returns_the_same_charge(
    hass: HomeAssistant, simulator: ThorSimulator, sim_config_entry: MockConfigEntry
) -> None:
    """A start repeated while the first awaits confirmation sends nothing new."""
    entry = await async_setup_entry(hass, sim_config_entry)
    data = {"config_entry_id": entry.entry_id}
    first = await _action(hass, "start_charge", data)
    second = await _action(hass, "start_charge", data)
    assert first == second
    assert simulator.requests.count(START) == 1

    first = await _action(hass, "stop_charge", data)
    second = await _action(hass, "stop_charge", data)
    assert first == second
    assert simulator.requests.count(STOP) == 1


async def test_refusals_before_sending(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Impossible requests are refused with the reason, without asking Thor."""
    entry = await async_setup_entry(hass, sim_config_entry)
    data = {"config_entry_id": entry.entry_id}

    with pytest.raises(ServiceValidationError) as err:
        await _action(hass, "start_charge", {**data, "connector": 3})
    assert err.value.translation_key == "invalid_connector"
    assert err.value.translation_placeholders["connector"] == "3"
    assert err.value.translation_placeholders["count"] == "2"

    with pytest.raises(ServiceValidationError) as err:
        await _action(hass, "stop_charge", data)
    assert err.value.translation_key == "not_charging"
    assert err.value.translation_placeholders["connector"] == "1"

    await _action(hass, "start_charge", data)
    await async_poll(hass, freezer, 2)
    with pytest.raises(ServiceValidationError) as err:
        await _action(hass, "start_charge", data)
    assert err.value.translation_key == "already_charging"
    assert err.value.translation_placeholders["chargebox"] == "Garage"
    assert simulator.requests.count(START) == 1
    assert simulator.requests.count(STOP) == 0


async def test_refusals_from_thor(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Thor's refusals reach the caller with cause and fix."""
    entry = await async_setup_entry(hass, sim_config_entry)
    (chargebox_id,) = simulator.chargeboxes
    box = simulator.chargeboxes[chargebox_id]
    data = {"config_entry_id": entry.entry_id}

    box.payment_free = False
    with pytest.raises(HomeAssistantError) as err:
        await _action(hass, "start_charge", data)
    assert err.value.translation_key == "payment_required"

    box.payment_free = True
    box.active = False
    with pytest.raises(HomeAssistantError) as err:
        await _action(hass, "start_charge", data)
    assert err.value.translation_key == "chargebox_not_active"

    box.active = True
    simulator.start_rate_limit = 30
    await _action(hass, "start_charge", data)
    await _action(hass, "stop_charge", data)
    with pytest.raises(HomeAssistantError) as err:
        await _action(hass, "start_charge", data)
    assert err.value.translation_key == "rate_limited"
    assert err.value.translation_placeholders["retry_after"] == "30"

    # Everything the entry sends waits for the rate limit, a reload included.
    freezer.tick(31)
    box.connected = False
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    with pytest.raises(HomeAssistantError) as err:
        await _action(hass, "start_charge", {**data, "connector": 2})
    assert err.value.translation_key == "chargebox_offline"
    assert simulator.requests.count(START) == 4


@pytest.mark.parametrize(
    ("data", "domain", "key", "placeholders"),
    [
        ({}, DOMAIN, "service_target_required", {}),
        (
            {"config_entry_id": "x", "device_id": "y"},
            DOMAIN,
            "service_target_required",
            {},
        ),
        # Home Assistant's own message for an entry.
        (
            {"config_entry_id": "missing"},
            HA_DOMAIN,
            "service_config_entry_not_found",
            {"domain": DOMAIN, "entry_id": "missing"},
        ),
        (
            {"device_id": "missing"},
            DOMAIN,
            "service_device_not_found",
            {"device_id": "missing"},
        ),
    ],
)
async def test_target_errors(
    hass: HomeAssistant,
    *,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    data: dict[str, str],
    domain: str,
    key: str,
    placeholders: dict[str, str],
) -> None:
    """An action names exactly one existing Thor chargebox."""
    await async_setup_entry(hass, sim_config_entry)
    for service in ("start_charge", "stop_charge"):
        with pytest.raises(ServiceValidationError) as err:
            await _action(hass, service, data)
        assert (err.value.translation_domain, err.value.translation_key) == (
            domain,
            key,
        )
        assert (err.value.translation_placeholders or {}) == placeholders
    assert simulator.requests.count(START) == 0
    assert simulator.requests.count(STOP) == 0


async def test_entry_of_several_chargeboxes_is_ambiguous(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    device_registry: dr.DeviceRegistry,
) -> None:
    """On an account with two chargeboxes the entry alone is refused; devices work."""
    (garage_id,) = simulator.chargeboxes
    shed_id = simulator.add_chargebox(alias="Shed", connectors=1).id
    entry = await async_setup_entry(
        hass,
        account_entry(
            (garage_id, "Garage"), (shed_id, "Shed"), base_url=simulator.base_url
        ),
    )
    for service in ("start_charge", "stop_charge"):
        with pytest.raises(ServiceValidationError) as err:
            await _action(hass, service, {"config_entry_id": entry.entry_id})
        assert err.value.translation_key == "service_entry_ambiguous"
        assert err.value.translation_placeholders == {
            "entry": entry.title,
            "count": "2",
        }
    assert simulator.requests.count(START) == 0

    for chargebox_id, switch in (
        (shed_id, "switch.shed_charging"),
        (garage_id, SWITCH_1),
    ):
        device = device_registry.async_get_device_by_identifier(
            (DOMAIN, chargebox_id), entry.entry_id
        )
        assert device is not None
        assert device.config_subentry_id == subentry_id(entry, chargebox_id)
        started = await _action(hass, "start_charge", {"device_id": device.id})
        assert started is not None
        (charge,) = simulator.running(chargebox_id)
        assert charge["connector"] == 1
        assert entity_state(hass, switch) == "on"
        stopped = await _action(hass, "stop_charge", {"device_id": device.id})
        assert stopped is not None
        assert stopped["id_tag"] == started["id_tag"]
        assert simulator.running(chargebox_id) == []
        assert entity_state(hass, switch) == "off"
    # Each start reached its own chargebox only.
    assert [charge["chargebox"] for charge in simulator.finished] == [
        shed_id,
        garage_id,
    ]


async def test_target_of_another_integration(
    hass: HomeAssistant,
    sim_config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Entries and devices of other integrations are refused."""
    await async_setup_entry(hass, sim_config_entry)
    other = MockConfigEntry(domain="demo", title="Other")
    other.add_to_hass(hass)
    device = device_registry.async_get_or_create(
        config_entry_id=other.entry_id, identifiers={("demo", "lamp")}
    )
    with pytest.raises(ServiceValidationError) as err:
        await _action(hass, "start_charge", {"config_entry_id": other.entry_id})
    assert (err.value.translation_domain, err.value.translation_key) == (
        HA_DOMAIN,
        "service_config_entry_wrong_domain",
    )
    with pytest.raises(ServiceValidationError) as err:
        await _action(hass, "start_charge", {"device_id": device.id})
    assert err.value.translation_key == "service_device_not_found"


async def test_entry_not_loaded(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """An unloaded entry cannot send commands, named by itself or by its device."""
    entry = await async_setup_entry(hass, sim_config_entry)
    (chargebox_id,) = simulator.chargeboxes
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, chargebox_id), entry.entry_id
    )
    assert device is not None
    assert await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await _action(hass, "start_charge", {"config_entry_id": entry.entry_id})
    assert (err.value.translation_domain, err.value.translation_key) == (
        HA_DOMAIN,
        "service_config_entry_not_loaded",
    )
    assert err.value.translation_placeholders == {
        "domain": DOMAIN,
        "entry_title": entry.title,
    }
    with pytest.raises(ServiceValidationError) as err:
        await _action(hass, "start_charge", {"device_id": device.id})
    assert (err.value.translation_domain, err.value.translation_key) == (
        DOMAIN,
        "service_entry_not_loaded",
    )
    assert err.value.translation_placeholders == {"entry": entry.title}
    assert simulator.requests.count(START) == 0


@pytest.mark.parametrize(
    ("connector", "shown"),
    [
        (0, "0"),
        (-1, "-1"),
        ("0", "0"),
        (1.5, "1.5"),
        ("1.5", "1.5"),
        (True, "True"),
        ("one", "one"),
        (math.nan, "nan"),
        (math.inf, "inf"),
        ("-inf", "-inf"),
        (1e300, "1e+300"),
        (2**31, "2147483648"),
        # Too long for Python to print.
        pytest.param(10**5000, "…", id="10**5000"),
        ([1], "[1]"),
        ({"number": 1}, "{'number': 1}"),
        (None, "None"),
    ],
)
async def test_invalid_connector_value(
    hass: HomeAssistant,
    *,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
    connector: object,
    shown: str,
) -> None:
    """Connector numbers are whole numbers from 1; anything else is refused as such."""
    entry = await async_setup_entry(hass, sim_config_entry)
    for service in ("start_charge", "stop_charge"):
        with pytest.raises(ServiceValidationError) as err:
            await _action(
                hass,
                service,
                {"config_entry_id": entry.entry_id, "connector": connector},
            )
        assert err.value.translation_key == "invalid_connector_value"
        assert err.value.translation_placeholders == {"value": shown}
    assert simulator.requests.count(START) == 0
    assert simulator.requests.count(STOP) == 0


async def test_connector_numbers_accepted(
    hass: HomeAssistant, simulator: ThorSimulator, sim_config_entry: MockConfigEntry
) -> None:
    """A number given as text or as a whole float names that connector."""
    entry = await async_setup_entry(hass, sim_config_entry)
    (chargebox_id,) = simulator.chargeboxes
    for connector in (" 2 ", 2.0):
        await _action(
            hass,
            "start_charge",
            {"config_entry_id": entry.entry_id, "connector": connector},
        )
        assert [charge["connector"] for charge in simulator.running(chargebox_id)] == [
            2
        ]
        await _action(
            hass, "stop_charge", {"config_entry_id": entry.entry_id, "connector": 2}
        )
        assert simulator.running(chargebox_id) == []
