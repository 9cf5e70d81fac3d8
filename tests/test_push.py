"""Push: Thor's notifications through the entry's webhook, polling as the fallback."""

from datetime import timedelta
from enum import Enum
import json
import logging
import random
from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import CONF_WEBHOOK_ID, STATE_OFF, STATE_ON, STATE_UNKNOWN
from homeassistant.core import Event, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.thor.charge_control import EVENT_COMMAND_FAILED
from custom_components.thor.const import CONF_PUSH, DOMAIN
from custom_components.thor.coordinator import PUSH_IDLE_INTERVAL
from custom_components.thor.issues import issue_id
from custom_components.thor.thor_api.notifications import MAX_NOTIFICATION_BYTES
from thor_simulator import ThorSimulator

from .conftest import (
    WEBHOOK_ID,
    async_next_idle_poll,
    async_notify,
    async_poll,
    async_setup_entry,
    async_switch,
    entity_state,
    first_chargebox,
    notification,
    stored_id_tags,
)

SWITCH_1 = "switch.garage_connector_1_charging"
OCCUPIED_1 = "binary_sensor.garage_connector_1_occupied"
POWER_1 = "sensor.garage_connector_1_charging_power_estimated"
CURRENT_L2 = "sensor.garage_connector_1_current_l2"
EXTERNAL_URL = "https://home.example.com"


class _CloudConnectionState(Enum):
    CLOUD_CONNECTED = "connected"
    CLOUD_DISCONNECTED = "disconnected"


def _fake_cloud(
    *,
    created: AsyncMock,
    deleted: AsyncMock | None = None,
    listeners: list[Any] | None = None,
) -> SimpleNamespace:
    """Return a stand-in for Home Assistant Cloud's module, logged in.

    The real one needs requirements (camera, voice) the test harness does not install.
    """

    def listen(_hass: HomeAssistant, listener: Any) -> Any:
        if listeners is not None:
            listeners.append(listener)
        return lambda: None

    return SimpleNamespace(
        async_active_subscription=lambda _hass: True,
        async_is_logged_in=lambda _hass: True,
        async_get_or_create_cloudhook=created,
        async_delete_cloudhook=deleted or AsyncMock(),
        async_listen_connection_change=listen,
        CloudConnectionState=_CloudConnectionState,
        CloudNotAvailable=RuntimeError,
    )


def _our_log(caplog: pytest.LogCaptureFixture) -> str:
    """Return what this integration logged (Home Assistant's webhook component logs
    the id of every webhook it handles at debug level, whatever the integration)."""
    return "\n".join(
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.thor")
    )


async def test_start_is_confirmed_by_the_notification(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    push_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    hass_storage: dict[str, Any],
) -> None:
    """A start notification confirms the pending start with no poll."""
    simulator.start_delay = 30
    await async_setup_entry(hass, push_entry)
    client = await hass_client_no_auth()
    box = first_chargebox(simulator)
    await async_switch(hass, SWITCH_1, on=True)
    (pending,) = simulator.pending_starts()
    reads = len(simulator.requests)
    assert (
        await async_notify(
            client,
            notification(
                "start",
                box,
                id=pending["id_tag"],
                transaction_id=pending["transaction"],
            ),
        )
        == 200
    )
    await hass.async_block_till_done()
    runtime = push_entry.runtime_data
    assert runtime.controllers
    assert all(
        controller.pending(1) is None for controller in runtime.controllers.values()
    )
    assert entity_state(hass, SWITCH_1) == STATE_ON
    assert entity_state(hass, OCCUPIED_1) == STATE_ON
    assert len(simulator.requests) == reads  # Confirmed without a read.
    (record,) = stored_id_tags(hass_storage, push_entry)
    assert record["transaction"] == pending["transaction"]
    # Only Thor's API confirms the id_tag's charge: a notification may be forged.
    assert record["confirmed"] is False
    assert runtime.coordinator.push_healthy


async def test_rejected_start_is_reverted_at_once(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    push_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """A start the chargebox rejects is shown off at once, with thor_command_failed."""
    simulator.start_delay = 30
    await async_setup_entry(hass, push_entry)
    client = await hass_client_no_auth()
    failed: list[Event] = []
    hass.bus.async_listen(EVENT_COMMAND_FAILED, failed.append)
    await async_switch(hass, SWITCH_1, on=True)
    assert entity_state(hass, SWITCH_1) == STATE_ON
    (pending,) = simulator.pending_starts()
    body = notification(
        "start",
        first_chargebox(simulator),
        accepted=False,
        id=pending["id_tag"],
        transaction_id=0,
    )
    assert await async_notify(client, body) == 200
    assert await async_notify(client, body) == 200  # A duplicate changes nothing more.
    await hass.async_block_till_done()
    assert entity_state(hass, SWITCH_1) == STATE_OFF
    assert [(e.data["command"], e.data["reason"]) for e in failed] == [
        ("start", "rejected")
    ]


async def test_app_start_becomes_stoppable(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    push_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The id_tag a start notification carries stops a charge started in the app."""
    await async_setup_entry(hass, push_entry)
    client = await hass_client_no_auth()
    box = first_chargebox(simulator)
    transaction = simulator.start_app_charge(box, 1)
    tag = simulator.app_tag(box, 1)
    assert (
        await async_notify(
            client,
            notification(
                "start", box, id=tag, transaction_id=transaction, mode="remote"
            ),
        )
        == 200
    )
    await hass.async_block_till_done()
    assert entity_state(hass, SWITCH_1) == STATE_ON
    await async_switch(hass, SWITCH_1, on=False)
    await async_poll(hass, freezer, 2)
    assert simulator.occupied_connectors(box) == []


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_stop_and_meter_values(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    push_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Meter values give the measured power and currents; a stop frees the connector."""
    await async_setup_entry(hass, push_entry)
    client = await hass_client_no_auth()
    box = first_chargebox(simulator)
    transaction = simulator.start_rfid_charge(box, 1, "04A1B2C3D4E5F6")
    await async_next_idle_poll(hass, freezer)
    assert entity_state(hass, OCCUPIED_1) == STATE_ON
    meters = notification(
        "meters",
        box,
        idTag="04A1B2C3D4E5F6",
        kwh=1200,
        meters=[
            {"measurand": "Power.Active.Import", "uom": "W", "phase": p, "value": 3680}
            for p in ("L1", "L2", "L3")
        ]
        + [{"measurand": "Current.Import", "uom": "A", "phase": "L2-N", "value": 16.0}],
    )
    assert await async_notify(client, meters) == 200
    await hass.async_block_till_done()
    assert float(entity_state(hass, POWER_1)) == 11040
    assert float(entity_state(hass, CURRENT_L2)) == 16.0
    # A poll does not replace the measured power with an estimate.
    await async_poll(hass, freezer, 31)
    assert float(entity_state(hass, POWER_1)) == 11040

    assert (
        await async_notify(
            client,
            notification(
                "stop",
                box,
                idTag="04A1B2C3D4E5F6",
                transaction_id=transaction,
                kwh=5000,
                time=600,
            ),
        )
        == 200
    )
    await hass.async_block_till_done()
    assert entity_state(hass, OCCUPIED_1) == STATE_OFF
    assert float(entity_state(hass, POWER_1)) == 0
    assert entity_state(hass, CURRENT_L2) == STATE_UNKNOWN


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        json.dumps({"type": "start"}),
        json.dumps({"type": "unknown", "chargebox": "x", "connector": 1}),
        json.dumps(notification("meters", "x", "one", meters=None)),
        b"\xff\xfe",
        "{" * 5000,
    ],
)
@pytest.mark.usefixtures("simulator")
async def test_invalid_bodies_are_refused(
    hass: HomeAssistant,
    push_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    body: str | bytes,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Anything but a notification gets 400, changes nothing, logs no secret."""
    await async_setup_entry(hass, push_entry)
    client = await hass_client_no_auth()
    with caplog.at_level(logging.DEBUG):
        assert await async_notify(client, body) == 400
    assert not push_entry.runtime_data.coordinator.push_healthy
    assert WEBHOOK_ID not in _our_log(caplog)


async def test_huge_and_foreign_bodies(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    push_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A huge body is refused; a chargebox not in the entry is ignored."""
    await async_setup_entry(hass, push_entry)
    client = await hass_client_no_auth()
    huge = json.dumps({"type": "meters", "pad": "x" * (MAX_NOTIFICATION_BYTES + 10)})
    assert await async_notify(client, huge) in (400, 413)
    with caplog.at_level(logging.DEBUG):
        assert (
            await async_notify(
                client,
                notification("start", "someone-else", id="tag", transaction_id=5),
            )
            == 200
        )
    await hass.async_block_till_done()
    assert entity_state(hass, OCCUPIED_1) == STATE_OFF
    assert not push_entry.runtime_data.coordinator.push_healthy
    assert "not configured" in _our_log(caplog)
    assert WEBHOOK_ID not in _our_log(caplog)
    # Another id than the entry's: Home Assistant's webhook answers, nothing changes.
    await async_notify(client, {"type": "start"}, webhook_id="guess")


async def test_polling_slows_and_comes_back_with_a_repair(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    push_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Idle polls every 5 minutes while notifications arrive; a missed one ends that."""
    await async_setup_entry(hass, push_entry)
    client = await hass_client_no_auth()
    box = first_chargebox(simulator)
    coordinator = push_entry.runtime_data.coordinator
    transaction = simulator.start_rfid_charge(box, 2, "card")
    assert (
        await async_notify(
            client,
            notification(
                "start", box, 2, id="card", transaction_id=transaction, mode="local"
            ),
        )
        == 200
    )
    simulator.end_charge(box, 2)
    assert (
        await async_notify(
            client,
            notification(
                "stop",
                box,
                2,
                idTag="card",
                transaction_id=transaction,
                kwh=0,
                time=5,
                unlocked=None,
            ),
        )
        == 200
    )
    await async_next_idle_poll(hass, freezer)
    assert push_entry.runtime_data.coordinator.push_healthy
    assert coordinator.update_interval == PUSH_IDLE_INTERVAL

    # A card starts a charge and no notification comes: polling sees it.
    simulator.start_rfid_charge(box, 1, "card")
    await async_poll(hass, freezer, PUSH_IDLE_INTERVAL.total_seconds() + 1)
    for _ in range(3):
        await async_poll(hass, freezer, 31)
    issue_registry = ir.async_get(hass)
    issue = issue_registry.async_get_issue(
        DOMAIN, issue_id(push_entry.entry_id, "push_not_arriving")
    )
    assert issue is not None
    assert issue.translation_key == "push_not_arriving"
    assert not push_entry.runtime_data.coordinator.push_healthy
    simulator.end_charge(box, 1)
    await async_poll(hass, freezer, 31)
    assert coordinator.update_interval == timedelta(seconds=60)

    # Notifications again: the issue goes.
    transaction = simulator.start_rfid_charge(box, 2, "card")
    assert (
        await async_notify(
            client,
            notification(
                "start", box, 2, id="card", transaction_id=transaction, mode="local"
            ),
        )
        == 200
    )
    assert (
        issue_registry.async_get_issue(
            DOMAIN, issue_id(push_entry.entry_id, "push_not_arriving")
        )
        is None
    )


async def test_options_flow_shows_the_address(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    sim_config_entry: MockConfigEntry,
) -> None:
    """Push on: the external URL (or a cloudhook) is shown; no address: an error."""
    await async_setup_entry(hass, sim_config_entry)
    result = await hass.config_entries.options.async_init(sim_config_entry.entry_id)
    assert result["step_id"] == "init"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_PUSH: True}
    )
    assert result["errors"] == {"base": "push_no_url"}

    hass.config.external_url = EXTERNAL_URL
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_PUSH: True}
    )
    assert result["step_id"] == "push"
    url = result["description_placeholders"]["url"]
    assert url.startswith(f"{EXTERNAL_URL}/api/webhook/")
    result = await hass.config_entries.options.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    webhook_id = sim_config_entry.options[CONF_WEBHOOK_ID]
    assert url.endswith(webhook_id)
    assert sim_config_entry.runtime_data.push.enabled

    # Through Home Assistant Cloud: a cloudhook; switched off, the id is kept.
    with patch(
        "custom_components.thor.push._cloud_api",
        return_value=_fake_cloud(
            created=AsyncMock(return_value="https://hooks.nabu.casa/abc")
        ),
    ):
        result = await hass.config_entries.options.async_init(sim_config_entry.entry_id)
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_PUSH: True}
        )
    assert result["description_placeholders"]["url"] == "https://hooks.nabu.casa/abc"
    result = await hass.config_entries.options.async_init(sim_config_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_PUSH: False}
    )
    await hass.async_block_till_done()
    assert sim_config_entry.options == {CONF_PUSH: False, CONF_WEBHOOK_ID: webhook_id}
    assert not sim_config_entry.runtime_data.push.enabled


async def test_simulator_notifications_end_to_end(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    push_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The simulator's own notifications: a start, its meter values, a stop."""
    simulator.start_delay = 5
    simulator.stop_delay = 3
    await async_setup_entry(hass, push_entry)
    client = await hass_client_no_auth()
    simulator.notification_url = str(client.make_url(f"/api/webhook/{WEBHOOK_ID}"))
    simulator.configure_notifications(meter_interval=5)
    runtime = push_entry.runtime_data
    (controller,) = runtime.controllers.values()

    await async_switch(hass, SWITCH_1, on=True)
    freezer.tick(timedelta(seconds=5))
    sent = await simulator.async_send_notifications()
    await hass.async_block_till_done()
    assert [body["type"] for body in sent] == ["start"]
    assert controller.pending(1) is None  # Confirmed by the notification.
    assert entity_state(hass, OCCUPIED_1) == STATE_ON

    freezer.tick(timedelta(seconds=5))
    sent = await simulator.async_send_notifications()
    await hass.async_block_till_done()
    assert [body["type"] for body in sent] == ["meters"]
    assert abs(float(entity_state(hass, POWER_1)) - 22000) < 1  # Measured.

    await async_switch(hass, SWITCH_1, on=False)
    freezer.tick(timedelta(seconds=3))
    sent = await simulator.async_send_notifications()
    await hass.async_block_till_done()
    assert "stop_transaction" in [body["type"] for body in sent]
    assert controller.pending(1) is None
    assert entity_state(hass, OCCUPIED_1) == STATE_OFF
    assert runtime.coordinator.push_healthy


async def test_simulator_rejects_a_start(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    push_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A chargebox that rejects the start: reverted as soon as Thor says so."""
    simulator.start_delay = 4
    box = first_chargebox(simulator)
    simulator.chargeboxes[box].reject_starts = True
    await async_setup_entry(hass, push_entry)
    client = await hass_client_no_auth()
    simulator.notification_url = str(client.make_url(f"/api/webhook/{WEBHOOK_ID}"))
    failed: list[Event] = []
    hass.bus.async_listen(EVENT_COMMAND_FAILED, failed.append)
    await async_switch(hass, SWITCH_1, on=True)
    freezer.tick(timedelta(seconds=4))
    await simulator.async_send_notifications()
    await hass.async_block_till_done()
    assert entity_state(hass, SWITCH_1) == STATE_OFF
    assert [e.data["reason"] for e in failed] == ["rejected"]


async def test_cloudhook_follows_cloud_and_the_entry(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    push_entry: MockConfigEntry,
) -> None:
    """With Cloud: the cloudhook is re-created when Cloud connects, deleted with the entry."""
    listeners: list[Any] = []
    created = AsyncMock(return_value="https://hooks.nabu.casa/abc")
    deleted = AsyncMock()
    fake = _fake_cloud(created=created, deleted=deleted, listeners=listeners)
    with patch("custom_components.thor.push._cloud_api", return_value=fake):
        await async_setup_entry(hass, push_entry)
        (listener,) = listeners
        await listener(fake.CloudConnectionState.CLOUD_DISCONNECTED)
        created.assert_not_awaited()
        await listener(fake.CloudConnectionState.CLOUD_CONNECTED)
        created.assert_awaited_once_with(hass, WEBHOOK_ID)
        assert await hass.config_entries.async_remove(push_entry.entry_id)
        await hass.async_block_till_done()
        deleted.assert_awaited_once_with(hass, WEBHOOK_ID)


async def test_notifications_that_change_nothing(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    push_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An unlock, a stop replayed for an older charge, late meters change nothing."""
    await async_setup_entry(hass, push_entry)
    client = await hass_client_no_auth()
    box = first_chargebox(simulator)
    transaction = simulator.start_rfid_charge(box, 1, "card")
    await async_next_idle_poll(hass, freezer)
    assert entity_state(hass, OCCUPIED_1) == STATE_ON
    stop = notification("stop", box, idTag="card", kwh=100, time=60, unlocked=None)
    for body in (
        {**stop, "accepted": False, "unlocked": True, "idTag": "", "transaction_id": 0},
        {**stop, "accepted": True, "transaction_id": transaction - 1},
        notification(
            "meters",
            box,
            2,
            kwh=5,
            meters=[{"measurand": "Power.Active.Import", "value": 7}],
        ),
    ):
        assert await async_notify(client, body) == 200
    await hass.async_block_till_done()
    assert entity_state(hass, OCCUPIED_1) == STATE_ON
    assert entity_state(hass, "binary_sensor.garage_connector_2_occupied") == STATE_OFF


async def test_a_missing_stop_notification_is_noticed(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    push_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A charge announced by a notification that polling sees ended, with no stop."""
    await async_setup_entry(hass, push_entry)
    client = await hass_client_no_auth()
    box = first_chargebox(simulator)
    transaction = simulator.start_rfid_charge(box, 1, "card")
    assert (
        await async_notify(
            client,
            notification(
                "start", box, id="card", transaction_id=transaction, mode="local"
            ),
        )
        == 200
    )
    await async_poll(hass, freezer, 31)
    simulator.end_charge(box, 1)  # No stop notification follows.
    await async_poll(hass, freezer, 31)
    assert push_entry.runtime_data.coordinator.push_healthy
    # The next (slow) idle poll, more than a minute later, notices it.
    await async_poll(hass, freezer, PUSH_IDLE_INTERVAL.total_seconds() + 1)
    assert not push_entry.runtime_data.coordinator.push_healthy
    assert ir.async_get(hass).async_get_issue(
        DOMAIN, issue_id(push_entry.entry_id, "push_not_arriving")
    )


async def test_rejected_stop_is_reverted_at_once(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    push_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A stop the chargebox rejects: the switch shows on again at once."""
    simulator.stop_delay = 30
    await async_setup_entry(hass, push_entry)
    client = await hass_client_no_auth()
    box = first_chargebox(simulator)
    transaction = simulator.start_rfid_charge(box, 1, "card")
    await async_next_idle_poll(hass, freezer)
    failed: list[Event] = []
    hass.bus.async_listen(EVENT_COMMAND_FAILED, failed.append)
    await async_switch(hass, SWITCH_1, on=False)
    assert entity_state(hass, SWITCH_1) == STATE_OFF
    assert (
        await async_notify(
            client,
            notification(
                "stop",
                box,
                msg="stop",
                accepted=False,
                idTag="card",
                transaction_id=transaction,
                energy=0,
                time=0,
            ),
        )
        == 200
    )
    await hass.async_block_till_done()
    assert entity_state(hass, SWITCH_1) == STATE_ON
    assert [(e.data["command"], e.data["reason"]) for e in failed] == [
        ("stop", "rejected")
    ]


async def test_simulator_stops_sending(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    push_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The simulator stops notifying: polling comes back and the repair shows."""
    await async_setup_entry(hass, push_entry)
    client = await hass_client_no_auth()
    simulator.notification_url = str(client.make_url(f"/api/webhook/{WEBHOOK_ID}"))
    box = first_chargebox(simulator)
    coordinator = push_entry.runtime_data.coordinator
    simulator.start_rfid_charge(box, 2, "card")
    await simulator.async_send_notifications()
    simulator.end_charge(box, 2)
    await simulator.async_send_notifications()
    await async_next_idle_poll(hass, freezer)
    assert coordinator.update_interval == PUSH_IDLE_INTERVAL

    simulator.configure_notifications(enabled=False)
    simulator.start_rfid_charge(box, 1, "card")
    await async_poll(hass, freezer, PUSH_IDLE_INTERVAL.total_seconds() + 1)
    for _ in range(3):
        await async_poll(hass, freezer, 31)
    assert ir.async_get(hass).async_get_issue(
        DOMAIN, issue_id(push_entry.entry_id, "push_not_arriving")
    )
    simulator.end_charge(box, 1)
    await async_poll(hass, freezer, 31)
    assert coordinator.update_interval == timedelta(seconds=60)


async def test_replayed_start_changes_nothing(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    push_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A start notification replayed an hour after its charge ended is ignored."""
    await async_setup_entry(hass, push_entry)
    client = await hass_client_no_auth()
    box = first_chargebox(simulator)
    transaction = simulator.start_rfid_charge(box, 1, "card")
    start = notification(
        "start", box, id="card", transaction_id=transaction, mode="local"
    )
    assert await async_notify(client, start) == 200
    await async_next_idle_poll(hass, freezer)
    simulator.end_charge(box, 1)
    await async_next_idle_poll(hass, freezer)
    assert entity_state(hass, OCCUPIED_1) == STATE_OFF
    freezer.tick(timedelta(hours=1))
    assert await async_notify(client, start) == 200
    await hass.async_block_till_done()
    assert entity_state(hass, OCCUPIED_1) == STATE_OFF


async def test_webhook_fuzz(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    push_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Random bodies: no exception, nothing changes, no secret in the log."""
    await async_setup_entry(hass, push_entry)
    client = await hass_client_no_auth()
    box = first_chargebox(simulator)
    rng = random.Random(20261121)  # noqa: S311 - a seeded fuzz, not a secret
    scalars: list[Any] = [None, True, False, 0, -1, 2**70, 1.5, "", "x" * 300, "1"]

    def value(depth: int = 0) -> Any:
        kind = rng.randrange(4 if depth < 3 else 2)
        if kind == 0:
            return rng.choice(scalars)
        if kind == 1:
            return rng.choice([box, "other", "start", "meters", "stop_transaction"])
        if kind == 2:
            return [value(depth + 1) for _ in range(rng.randrange(3))]
        return {rng.choice(FIELDS): value(depth + 1) for _ in range(rng.randrange(4))}

    before = {s.entity_id: s.state for s in hass.states.async_all()}
    statuses: set[int] = set()
    with caplog.at_level(logging.DEBUG):
        for _ in range(300):
            body = {rng.choice(FIELDS): value() for _ in range(rng.randrange(8))}
            # Mostly wrong types in otherwise plausible notifications of other boxes,
            # or of this box without a valid connector.
            body.setdefault("type", rng.choice(["start", "meters", "stop_transaction"]))
            if rng.random() < 0.5:
                body["chargebox"] = rng.choice(["other", 5, None])
            else:
                body["chargebox"] = box
                body["connector"] = rng.choice([0, -1, "one", None, 1.5, 99])
            statuses.add(await async_notify(client, body))
    await hass.async_block_till_done()
    assert statuses <= {200, 400}
    assert {s.entity_id: s.state for s in hass.states.async_all()} == before
    ours = [r for r in caplog.records if r.name.startswith("custom_components.thor")]
    assert not [r for r in ours if r.levelno >= logging.ERROR]
    assert WEBHOOK_ID not in _our_log(caplog)


FIELDS = [
    "type",
    "accepted",
    "chargebox",
    "connector",
    "id",
    "idTag",
    "transaction_id",
    "mode",
    "kwh",
    "time",
    "meters",
    "msg",
    "unlocked",
    "payment",
]
