"""Tests of the Thor diagnostics."""

import json
from unittest.mock import MagicMock

from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, SERVICE_TURN_ON
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from .conftest import API_KEY


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
    assert diagnostics == snapshot

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
    charge_control = diagnostics["charge_control"]
    assert charge_control["pending_commands"] == {"1": "start"}
    assert charge_control["stored_charges"]["1"]["id_tag"] == "**REDACTED**"
    assert "api-tag-0123456789ab" not in json.dumps(diagnostics)
