"""Shared fixtures.

`custom_components.thor` is imported before Home Assistant starts so that the test plugin's
own `custom_components` package does not shadow ours.
"""

from collections.abc import AsyncGenerator, Generator
from datetime import timedelta
import json
from pathlib import Path
import time
from typing import Any
from unittest.mock import AsyncMock, MagicMock, PropertyMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.switch.const import DOMAIN as SWITCH_DOMAIN
from homeassistant.config_entries import RELOAD_AFTER_UPDATE_DELAY, ConfigSubentryData
from homeassistant.const import (
    ATTR_ENTITY_ID,
    CONF_API_KEY,
    CONF_WEBHOOK_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.dispatcher import async_dispatcher_connect
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from syrupy.assertion import SnapshotAssertion

import custom_components.thor  # noqa: F401
from custom_components.thor.const import (
    CONF_BASE_URL,
    CONF_CHARGEBOX_ID,
    CONF_ENVIRONMENT,
    CONF_PUSH,
    DOMAIN,
    SCAN_INTERVAL_IDLE,
    SUBENTRY_TYPE_CHARGEBOX,
)
from custom_components.thor.energy import SessionEvent, session_signal
from custom_components.thor.store import STORAGE_VERSION, storage_key
from custom_components.thor.thor_api import Chargebox, ThorBackoff
from custom_components.thor.thor_api.models import parse_running_charges
from thor_simulator import ThorSimulator

API_KEY = "test-api-key-0123456789"


async def async_setup_entry(
    hass: HomeAssistant, entry: MockConfigEntry
) -> MockConfigEntry:
    """Add a config entry, set it up and check that it loaded."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def async_poll(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float
) -> None:
    """Move time forward and let what is due (polls, confirmations) run."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def async_next_idle_poll(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory
) -> None:
    """Move time past the idle poll interval, so that exactly the next poll runs."""
    await async_poll(hass, freezer, SCAN_INTERVAL_IDLE.total_seconds() + 1)


async def async_poll_steps(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    seconds: float,
    step: float = 0.5,
) -> None:
    """Move time forward in steps, so that every quick read (1.5 s apart) is due once."""
    for _ in range(int(seconds / step)):
        await async_poll(hass, freezer, step)


async def async_switch(hass: HomeAssistant, entity_id: str, *, on: bool) -> None:
    """Turn a switch on or off, as the UI does."""
    await hass.services.async_call(
        SWITCH_DOMAIN,
        SERVICE_TURN_ON if on else SERVICE_TURN_OFF,
        {ATTR_ENTITY_ID: entity_id},
        blocking=True,
    )


async def async_enable_entities(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, *entity_ids: str
) -> None:
    """Enable entities that start disabled, as a user does.

    Home Assistant reloads the entry 30 s later, which creates them. For a test that
    needs these entities but not all of `entity_registry_enabled_by_default`.
    """
    registry = er.async_get(hass)
    for entity_id in entity_ids:
        assert registry.async_get(entity_id) is not None, entity_id
        registry.async_update_entity(entity_id, disabled_by=None)
    await async_poll(hass, freezer, RELOAD_AFTER_UPDATE_DELAY + 1)
    for entity_id in entity_ids:
        assert hass.states.get(entity_id) is not None, entity_id


def entity_state(hass: HomeAssistant, entity_id: str) -> str:
    """Return the state of an entity that must exist."""
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current.state


def first_chargebox(simulator: ThorSimulator) -> str:
    """Return the id of the simulator's first chargebox (the Garage)."""
    return next(iter(simulator.chargeboxes))


def state_number(hass: HomeAssistant, entity_id: str) -> float:
    """Return an entity's state as a number (kWh, W, ...)."""
    return float(entity_state(hass, entity_id))


def session_events(hass: HomeAssistant, entry: MockConfigEntry) -> list[SessionEvent]:
    """Collect the session events an entry sends (charging started, stopped)."""
    events: list[SessionEvent] = []

    @callback
    def _collect(event: SessionEvent) -> None:
        events.append(event)

    entry.async_on_unload(
        async_dispatcher_connect(hass, session_signal(entry.entry_id), _collect)
    )
    return events


def put_stored_id_tags(
    hass_storage: dict[str, Any],
    entry: MockConfigEntry,
    data: Any,
    version: int = STORAGE_VERSION,
) -> None:
    """Store id_tags for an entry as an earlier run (of that version) left them."""
    key = storage_key(entry.entry_id)
    hass_storage[key] = {
        "version": version,
        "minor_version": 1,
        "key": key,
        "data": data,
    }


def stored_id_tags(hass_storage: dict[str, Any], entry: MockConfigEntry) -> Any:
    """Return the id_tag records an entry has on disk."""
    return hass_storage[storage_key(entry.entry_id)]["data"]["charges"]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/thor in every test."""


@pytest.fixture(autouse=True)
def no_blueprint_install(request: pytest.FixtureRequest) -> Generator[None]:
    """Keep blueprints out of the harness's config directory.

    Setting up the integration installs its blueprints; only tests marked
    `install_blueprints` (with a config directory of their own) let it.
    """
    if request.node.get_closest_marker("install_blueprints"):
        yield
        return
    with patch("custom_components.thor.async_install_blueprints", AsyncMock()):
        yield


@pytest.fixture
async def simulator(socket_enabled: None) -> AsyncGenerator[ThorSimulator]:
    """Run a Thor simulator on loopback with no start/stop delays and no rate limit.

    `socket_enabled` lets it listen; pytest-socket still limits connections to
    127.0.0.1.
    """
    sim = ThorSimulator(
        api_key=API_KEY,
        seed=1,
        start_delay=0,
        stop_delay=0,
        start_rate_limit=0,
        # Looked up on each call, so the simulator follows `freezer` when a test uses it.
        clock=lambda: time.time(),  # noqa: PLW0108
    )
    sim.add_chargebox(alias="Garage", connectors=2)
    await sim.start(host="127.0.0.1", port=0)
    yield sim
    await sim.stop()


# ---------------------------------------------------------------- mocked client

CHARGEBOX_ID = "EaJ7cU9NJ3YkTNgy"
FIXTURES = Path(__file__).parent / "fixtures"


def load_json_fixture(name: str) -> Any:
    """Return a Thor JSON payload from tests/fixtures."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def chargebox_subentry(chargebox_id: str, title: str) -> ConfigSubentryData:
    """Return the subentry data of one chargebox of an account entry."""
    return ConfigSubentryData(
        data={CONF_CHARGEBOX_ID: chargebox_id},
        subentry_type=SUBENTRY_TYPE_CHARGEBOX,
        title=title,
        unique_id=chargebox_id,
    )


def account_entry(
    *chargeboxes: tuple[str, str],
    base_url: str | None = None,
    api_key: str = API_KEY,
    options: dict[str, Any] | None = None,
) -> MockConfigEntry:
    """Return an account entry with a subentry per (chargebox id, title)."""
    data = {CONF_API_KEY: api_key, CONF_ENVIRONMENT: "production"}
    if base_url is not None:
        data[CONF_BASE_URL] = base_url
    return MockConfigEntry(
        domain=DOMAIN,
        title="Thor",
        version=2,
        data=data,
        options=options or {},
        subentries_data=[chargebox_subentry(*box) for box in chargeboxes],
    )


def subentry_id(entry: MockConfigEntry, chargebox_id: str) -> str:
    """Return the id of the subentry of a chargebox."""
    return next(
        subentry.subentry_id
        for subentry in entry.subentries.values()
        if subentry.unique_id == chargebox_id
    )


@pytest.fixture
def mock_config_entry() -> MockConfigEntry:
    """Return an account entry with the chargebox in tests/fixtures/chargebox.json."""
    return account_entry((CHARGEBOX_ID, "Garage"))


@pytest.fixture
def chargebox_fixture() -> str:
    """Return the file name of the chargebox payload the mocked client answers."""
    return "chargebox.json"


@pytest.fixture
def running_charges_fixture() -> str:
    """Return the file name of the running-charges payload the mocked client answers."""
    return "running_charges.json"


@pytest.fixture
def mock_thor_client(
    chargebox_fixture: str, running_charges_fixture: str
) -> Generator[MagicMock]:
    """Patch the ThorClient the integration builds; return the mocked instance."""
    with patch(
        "custom_components.thor.entries.ThorClient", autospec=True
    ) as client_class:
        client = client_class.return_value
        # A real back-off: the coordinator asks it before every poll.
        client.backoff = ThorBackoff()
        chargebox = Chargebox.from_dict(load_json_fixture(chargebox_fixture))
        client.get_chargebox.return_value = chargebox
        client.list_chargeboxes.return_value = [chargebox]
        client.running_charges.return_value = parse_running_charges(
            load_json_fixture(running_charges_fixture)
        )
        client.finished_charges.return_value = []
        client.finished_charges_between.return_value = []
        yield client


@pytest.fixture
async def init_integration(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, mock_thor_client: MagicMock
) -> MockConfigEntry:
    """Set up the integration with the mocked client."""
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    return mock_config_entry


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create the entities that are disabled by default as enabled."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield


# ------------------------------------------------------------------- simulator


@pytest.fixture
def sim_config_entry(simulator: ThorSimulator) -> MockConfigEntry:
    """Return an account entry for the simulator's chargebox, through its base URL."""
    chargebox_id = next(iter(simulator.chargeboxes))
    return account_entry((chargebox_id, "Garage"), base_url=simulator.base_url)


REGISTRY_FIELDS = (
    "domain",
    "platform",
    "entity_id",
    "unique_id",
    "translation_key",
    "has_entity_name",
    "original_name",
    "original_device_class",
    "original_icon",
    "entity_category",
    "disabled_by",
    "hidden_by",
    "capabilities",
    "supported_features",
    "unit_of_measurement",
    "options",
)
"""What the integration decides of a registry entry.

Snapshots hold these only: the other fields belong to Home Assistant, which adds some
in most releases (the suite runs on the oldest and the newest supported one).
"""


async def snapshot_entities(
    hass: HomeAssistant,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    config_entry_id: str,
) -> None:
    """Compare each entity of the entry (registry entry and state) with the snapshot."""
    entries = er.async_entries_for_config_entry(entity_registry, config_entry_id)
    assert entries
    for entry in entries:
        fields = {field: getattr(entry, field) for field in REGISTRY_FIELDS}
        fields["options"] = {key: dict(value) for key, value in entry.options.items()}
        assert fields == snapshot(name=f"{entry.entity_id}-entry")
        state = hass.states.get(entry.entity_id)
        assert state is not None, f"no state for {entry.entity_id}"
        assert state == snapshot(name=f"{entry.entity_id}-state")


WEBHOOK_ID = "thor-webhook-0123456789abcdef"


PUSH_OPTIONS = {CONF_PUSH: True, CONF_WEBHOOK_ID: WEBHOOK_ID}
"""The options of an account entry with push switched on."""


@pytest.fixture
def push_entry(simulator: ThorSimulator) -> MockConfigEntry:
    """An account entry for the simulator's chargebox with push switched on."""
    return account_entry(
        (next(iter(simulator.chargeboxes)), "Garage"),
        base_url=simulator.base_url,
        options=PUSH_OPTIONS,
    )


def notification(
    kind: str, chargebox: str, connector: int = 1, **fields: Any
) -> dict[str, Any]:
    """Return the body of a Thor notification: "start", "stop" or "meters".

    Accepted, with the fields Thor always sends; `fields` add or override (a value of
    None leaves the field out).
    """
    base: dict[str, Any] = {
        "start": {"type": "start", "accepted": True, "mode": "api"},
        "stop": {"type": "stop_transaction", "accepted": True, "unlocked": False},
        "meters": {"type": "meters", "meters": []},
    }[kind]
    body = {**base, "chargebox": chargebox, "connector": connector, **fields}
    return {key: value for key, value in body.items() if value is not None}


async def async_notify(
    client: Any, body: dict[str, Any] | str | bytes, webhook_id: str = WEBHOOK_ID
) -> int:
    """POST a notification to the webhook as Thor does; return the HTTP status."""
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    response = await client.post(f"/api/webhook/{webhook_id}", data=data)
    return int(response.status)
