"""What a chargebox's device page shows: the entities enabled by default, the link.

The entity descriptions decide which entities a new chargebox shows; README's Entities
table documents the same, and a test here keeps the two in step.
"""

import json
from pathlib import Path
import re
from typing import Any

from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.thor.const import DOMAIN, THOR_URL
from thor_simulator import ThorSimulator

from .conftest import (
    CHARGEBOX_ID,
    account_entry,
    async_setup_entry,
    first_chargebox,
    subentry_id,
)

REPO = Path(__file__).parent.parent
README = REPO / "README.md"
TRANSLATIONS = REPO / "custom_components" / "thor" / "translations" / "en.json"

ENABLED_ON_A_TWO_CONNECTOR_BOX = sorted(
    [
        "binary_sensor.garage_connected",
        *(
            f"{domain}.garage_connector_{connector}_{name}"
            for connector in (1, 2)
            for domain, name in (
                ("binary_sensor", "occupied"),
                ("binary_sensor", "reserved"),
                ("event", "charging_session"),
                ("sensor", "charging_power_estimated"),
                ("sensor", "energy_delivered"),
                ("sensor", "last_session_cost"),
                ("sensor", "last_session_energy"),
                ("sensor", "session_energy"),
                ("switch", "charging"),
            )
        ),
        "sensor.garage_energy_delivered",
    ]
)
"""What a user looks at daily, per connector, and the box's meter and connectivity."""

KINDS = {
    "switch": "switch",
    "binary sensor": "binary_sensor",
    "sensor": "sensor",
    "event": "event",
}
"""README's "Kind" column: the entity domain."""


def _enabled(entity_registry: er.EntityRegistry, entry: MockConfigEntry) -> list[str]:
    """Return the entity ids of the entry that are enabled, sorted."""
    return sorted(
        entity.entity_id
        for entity in er.async_entries_for_config_entry(entity_registry, entry.entry_id)
        if entity.disabled_by is None
    )


async def test_a_new_two_connector_chargebox(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """A new two-connector chargebox shows 20 entities; the others start disabled."""
    entities = er.async_entries_for_config_entry(
        entity_registry, init_integration.entry_id
    )
    assert len(entities) == 47
    assert _enabled(entity_registry, init_integration) == (
        ENABLED_ON_A_TWO_CONNECTOR_BOX
    )
    for entity in entities:
        state = hass.states.get(entity.entity_id)
        if entity.disabled_by is None:
            assert state is not None, entity.entity_id
        else:
            assert entity.disabled_by is er.RegistryEntryDisabler.INTEGRATION
            assert state is None, entity.entity_id


@pytest.mark.parametrize("chargebox_fixture", ["chargebox_single.json"])
async def test_a_new_one_connector_chargebox(
    init_integration: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """A one-connector chargebox shows 10: no connector meter besides the box's."""
    assert _enabled(entity_registry, init_integration) == sorted(
        [
            "binary_sensor.carport_connected",
            "binary_sensor.carport_occupied",
            "binary_sensor.carport_reserved",
            "event.carport_charging_session",
            "sensor.carport_charging_power_estimated",
            "sensor.carport_energy_delivered",
            "sensor.carport_last_session_cost",
            "sensor.carport_last_session_energy",
            "sensor.carport_session_energy",
            "switch.carport_charging",
        ]
    )


async def test_an_existing_install_keeps_its_entities(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: Any,
    entity_registry: er.EntityRegistry,
) -> None:
    """Entities enabled before this release stay enabled; user choices stay too."""
    mock_config_entry.add_to_hass(hass)
    subentry = subentry_id(mock_config_entry, CHARGEBOX_ID)
    registered: dict[str, er.RegistryEntryDisabler | None] = {
        # Enabled by default in the previous release, disabled by default now.
        "sensor.garage_connector_1_last_session_start": None,
        "sensor.garage_connector_1_rated_power": None,
        "sensor.garage_connector_2_session_started": None,
        # Enabled by default, disabled by the user.
        "sensor.garage_connector_1_session_energy": er.RegistryEntryDisabler.USER,
    }
    for entity_id, disabled_by in registered.items():
        domain, object_id = entity_id.split(".")
        key = object_id.removeprefix("garage_connector_")
        connector, _, key = key.partition("_")
        entity_registry.async_get_or_create(
            domain,
            DOMAIN,
            f"{CHARGEBOX_ID}_{connector}_{key}",
            config_entry=mock_config_entry,
            config_subentry_id=subentry,
            suggested_object_id=object_id,
            disabled_by=disabled_by,
        )

    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    for entity_id, disabled_by in registered.items():
        entity = entity_registry.async_get(entity_id)
        assert entity is not None, entity_id
        assert entity.disabled_by is disabled_by, entity_id
        assert (hass.states.get(entity_id) is None) is (disabled_by is not None)
    assert hass.states.get("sensor.garage_connector_1_rated_power").state == "22000"
    # The others of the same kinds start disabled, as on a new install.
    for entity_id in (
        "sensor.garage_connector_2_last_session_start",
        "sensor.garage_connector_2_rated_power",
        "sensor.garage_connector_1_session_started",
    ):
        entity = entity_registry.async_get(entity_id)
        assert entity is not None, entity_id
        assert entity.disabled_by is er.RegistryEntryDisabler.INTEGRATION


def _readme_table() -> dict[str, tuple[str, bool, bool]]:
    """Return README's Entities table: name -> (domain, enabled, diagnostic)."""
    readme = README.read_text(encoding="utf-8")
    section = readme.split("\n## Entities\n", 1)[1].split("\n## ", 1)[0]
    rows = [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in section.splitlines()
        if line.startswith("|")
    ]
    assert rows[0][:4] == ["Entity", "Kind", "Per", "Default"]
    table: dict[str, tuple[str, bool, bool]] = {}
    for names, kind, _per, default, *_notes in rows[2:]:
        flags = {flag.strip() for flag in default.split(",")}
        assert flags <= {"enabled", "disabled", "diagnostic"}, default
        assert len(flags & {"enabled", "disabled"}) == 1, default
        for name in names.split(", "):
            assert name not in table, f"{name} twice in README's table"
            table[name] = (KINDS[kind], "enabled" in flags, "diagnostic" in flags)
    return table


async def test_readme_lists_every_entity_with_its_default(
    init_integration: MockConfigEntry, entity_registry: er.EntityRegistry
) -> None:
    """README's Entities table names every entity with its default and category."""
    names = json.loads(TRANSLATIONS.read_text(encoding="utf-8"))["entity"]
    shown: dict[str, tuple[str, bool, bool]] = {}
    for entity in er.async_entries_for_config_entry(
        entity_registry, init_integration.entry_id
    ):
        assert entity.translation_key is not None
        # Named after its connector on a multi-connector box: "connector_<key>".
        key = re.sub(r"^connector_", "", entity.translation_key)
        name = names[entity.domain][key]["name"]
        facts = (
            entity.domain,
            entity.disabled_by is None,
            entity.entity_category is EntityCategory.DIAGNOSTIC,
        )
        assert shown.setdefault(name, facts) == facts, name
    assert _readme_table() == shown


async def test_each_chargebox_links_to_thor(
    hass: HomeAssistant, simulator: ThorSimulator, device_registry: dr.DeviceRegistry
) -> None:
    """Each chargebox's device links to Thor (the device page's "Visit" link)."""
    garage = first_chargebox(simulator)
    bike_shed = simulator.add_chargebox(alias="Bike shed").id
    entry = await async_setup_entry(
        hass,
        account_entry(
            (garage, "Garage"), (bike_shed, "Bike shed"), base_url=simulator.base_url
        ),
    )

    devices = dr.async_entries_for_config_entry(device_registry, entry.entry_id)
    assert {device.name: device.configuration_url for device in devices} == {
        "Garage": THOR_URL,
        "Bike shed": THOR_URL,
    }
