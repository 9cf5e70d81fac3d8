"""Tests of the Thor diagnostics."""

import json

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
