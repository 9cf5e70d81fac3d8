"""Tests of the Thor diagnostics."""

from dataclasses import replace
import json
from unittest.mock import MagicMock

from homeassistant.components.diagnostics import REDACTED
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_ON
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from .conftest import API_KEY, CHARGEBOX_ID, account_entry, async_setup_entry


async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """Diagnostics hold the entry and the last poll, without secrets."""
    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, init_integration
    )
    # When the meter was created and reconciled is the time the test runs.
    assert diagnostics == snapshot(exclude=props("created", "reconciled"))

    text = json.dumps(diagnostics)
    for secret in (
        API_KEY,
        "nayax-token-connector-1-secret",
        "40112233",
        "04A1B2C3D4E5F6",
        "thor-user-42",
        "45.4642",
        "pi_3NsecretPayment",
    ):
        assert secret not in text


async def test_diagnostics_show_pending_start_without_its_id_tag(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    mock_thor_client: MagicMock,
) -> None:
    """A start awaiting confirmation shows in diagnostics; its id_tag does not."""
    mock_thor_client.start_charge.return_value = "api-tag-0123456789ab"
    await hass.services.async_call(
        SWITCH_DOMAIN,
        SERVICE_TURN_ON,
        {ATTR_ENTITY_ID: "switch.garage_connector_1_charging"},
        blocking=True,
    )
    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, init_integration
    )
    charge_control = diagnostics["chargeboxes"][CHARGEBOX_ID]["charge_control"]
    assert charge_control["pending_commands"] == {"1": "start"}
    assert charge_control["stored_charges"]["1"]["id_tag"] == "**REDACTED**"
    assert "api-tag-0123456789ab" not in json.dumps(diagnostics)


async def test_diagnostics_of_an_account(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    mock_thor_client: MagicMock,
) -> None:
    """Every configured chargebox is there, also one Thor did not list.

    A custom base URL (it may name a host of the local network) is redacted;
    chargeboxes of the account that are not configured are only counted.
    """
    base_url = "http://192.168.1.20:8765/latest/integration"
    (garage,) = mock_thor_client.list_chargeboxes.return_value
    mock_thor_client.list_chargeboxes.return_value = [
        garage,
        replace(garage, id="NotConfiguredBox", alias="Neighbour"),
    ]
    entry = await async_setup_entry(
        hass,
        account_entry(
            (CHARGEBOX_ID, "Garage"), ("MissingBox", "Carport"), base_url=base_url
        ),
    )
    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    assert diagnostics["entry"]["data"]["base_url"] == REDACTED
    assert diagnostics["entry"]["chargeboxes"] == [
        {"chargebox_id": CHARGEBOX_ID, "title": "Garage"},
        {"chargebox_id": "MissingBox", "title": "Carport"},
    ]
    assert diagnostics["coordinator"]["listed_chargeboxes"] == 2
    assert set(diagnostics["chargeboxes"]) == {CHARGEBOX_ID, "MissingBox"}
    assert diagnostics["chargeboxes"]["MissingBox"]["data"] is None
    assert diagnostics["chargeboxes"][CHARGEBOX_ID]["data"]["chargebox"]["alias"] == (
        "Garage"
    )
    text = json.dumps(diagnostics)
    for secret in (API_KEY, "192.168.1.20", "Neighbour"):
        assert secret not in text
