"""Push at its trust boundary: Cloud's requests, plausibility, order, replays, logs.

A notification is an untrusted observation: it may confirm or hurry what polls show,
never replace what Home Assistant knows for sure, and never push a meter beyond what
the chargebox could deliver.
"""

import json
import logging
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components import webhook
from homeassistant.const import CONF_WEBHOOK_ID, STATE_OFF, STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.util.aiohttp import MockRequest
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.thor.const import CONF_PUSH
from thor_simulator import ThorSimulator

from .conftest import (
    PUSH_OPTIONS,
    WEBHOOK_ID,
    account_entry,
    async_next_idle_poll,
    async_notify,
    async_poll,
    async_setup_entry,
    async_switch,
    entity_state,
    first_chargebox,
    notification,
    session_events,
    state_number,
    stored_id_tags,
)

OCCUPIED_1 = "binary_sensor.garage_connector_1_occupied"
SWITCH_1 = "switch.garage_connector_1_charging"
TOTAL = "sensor.garage_energy_delivered"
CARD = "04A1B2C3D4E5F6"


async def _cloud_post(hass: HomeAssistant, body: bytes, method: str = "POST") -> int:
    """Hand a notification to the webhook exactly as Home Assistant Cloud does."""
    request = MockRequest(
        content=body,
        mock_source="cloud",
        method=method,
        headers={"Content-Type": "application/json"},
        remote=None,
    )
    response = await webhook.async_handle_webhook(hass, WEBHOOK_ID, request)
    await hass.async_block_till_done()
    return int(response.status)


def _logged(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    """Return what was logged at `level` or above, as Home Assistant would log it.

    Home Assistant sets aiohttp's access log to WARNING (bootstrap); the test client
    leaves it at INFO.
    """
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= level and record.name != "aiohttp.access"
    ]


async def test_cloudhook_notifications_are_handled_as_direct_ones(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    push_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Cloud's own request object (no content_length) carries start and stop."""
    await async_setup_entry(hass, push_entry)
    box = first_chargebox(simulator)
    transaction = simulator.start_rfid_charge(box, 1, CARD)
    body = notification("start", box, id=CARD, transaction_id=transaction, mode="local")
    assert await _cloud_post(hass, json.dumps(body).encode()) == 200
    assert entity_state(hass, OCCUPIED_1) == STATE_ON
    assert push_entry.runtime_data.coordinator.push_healthy
    stop = notification("stop", box, idTag=CARD, transaction_id=transaction)
    simulator.end_charge(box, 1)
    assert await _cloud_post(hass, json.dumps(stop).encode()) == 200
    assert entity_state(hass, OCCUPIED_1) == STATE_OFF
    # Anything else gets an answer, never an error in the log.
    assert await _cloud_post(hass, b"not json") == 400
    assert await _cloud_post(hass, b"{}", method="GET") == 405
    assert "Error processing webhook" not in caplog.text


async def test_notification_energy_is_bounded_by_what_the_box_can_deliver(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    push_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Huge energies, stops without a transaction and other connectors count nothing."""
    await async_setup_entry(hass, push_entry)
    client = await hass_client_no_auth()
    box = first_chargebox(simulator)
    transaction = simulator.start_rfid_charge(box, 1, CARD)
    await async_next_idle_poll(hass, freezer)
    await async_poll(hass, freezer, 10 * 60)  # 22 kW for ten minutes: about 3.7 kWh.
    shown = state_number(hass, TOTAL)
    assert 3 < shown < 4.5
    for body in (
        notification("meters", box, idTag=CARD, kwh=1_000_000_000),
        notification("stop", box, idTag=CARD, kwh=1_000_000_000),  # No transaction.
        notification("start", box, 99, id="x", transaction_id=transaction + 1),
        notification("meters", box, 99, kwh=5000),
        notification("meters", box, 2, kwh=5000),  # Nothing runs there.
    ):
        assert await async_notify(client, body) == 200
        await hass.async_block_till_done()
    assert state_number(hass, TOTAL) == shown
    assert entity_state(hass, OCCUPIED_1) == STATE_ON  # That stop named no charge.
    # A believable meter value counts (the connector is rated 22 kW).
    assert (
        await async_notify(
            client, notification("meters", box, idTag=CARD, kwh=shown * 1000 + 50)
        )
        == 200
    )
    await hass.async_block_till_done()
    assert state_number(hass, TOTAL) == pytest.approx(shown + 0.05)
    # Thor's own records still settle the charge exactly.
    simulator.end_charge(box, 1)
    await async_next_idle_poll(hass, freezer)
    await async_poll(hass, freezer, 61)
    (finished,) = simulator.finished
    assert state_number(hass, TOTAL) == pytest.approx(
        max(finished["energy"] / 1000, shown + 0.05), abs=0.001
    )
    assert state_number(hass, TOTAL) < 5


async def test_register_readings_count_only_their_growth(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    push_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Meter values without `kwh` (Thor's §3.4 example): the import register's growth."""
    await async_setup_entry(hass, push_entry)
    client = await hass_client_no_auth()
    box = first_chargebox(simulator)
    simulator.start_rfid_charge(box, 1, CARD, power=2400)
    await async_next_idle_poll(hass, freezer)
    await async_poll(hass, freezer, 31)
    before = state_number(hass, TOTAL)

    def register(wh: float) -> dict[str, Any]:
        return notification(
            "meters",
            box,
            idTag=CARD,
            meters=[
                {
                    "measurand": "Energy.Active.Import.Register",
                    "uom": "Wh",
                    "value": wh,
                }
            ],
        )

    assert await async_notify(client, register(3_456_589)) == 200
    await hass.async_block_till_done()
    assert (
        state_number(hass, TOTAL) == before
    )  # The lifetime reading is not the charge's.
    freezer.tick(600)  # 2.4 kW for ten minutes: 400 Wh.
    assert await async_notify(client, register(3_456_989)) == 200
    await hass.async_block_till_done()
    assert state_number(hass, TOTAL) == pytest.approx(before + 0.4, abs=0.001)


async def test_a_start_after_the_stop_of_its_transaction_changes_nothing(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    push_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Thor does not promise order: a stop seen for a transaction wins over its start."""
    await async_setup_entry(hass, push_entry)
    client = await hass_client_no_auth()
    box = first_chargebox(simulator)
    events = session_events(hass, push_entry)
    stop = notification("stop", box, idTag=CARD, transaction_id=4242, kwh=100)
    start = notification("start", box, id=CARD, transaction_id=4242, mode="local")
    assert await async_notify(client, stop) == 200
    assert await async_notify(client, start) == 200
    await hass.async_block_till_done()
    assert entity_state(hass, OCCUPIED_1) == STATE_OFF
    assert [event.type for event in events] == []


async def test_notifications_never_replace_or_forget_home_assistants_id_tag(
    hass: HomeAssistant,
    *,
    simulator: ThorSimulator,
    push_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A replayed old start and duplicate stops leave the charge stoppable from HA."""
    await async_setup_entry(hass, push_entry)
    client = await hass_client_no_auth()
    box = first_chargebox(simulator)
    await async_switch(hass, SWITCH_1, on=True)
    await async_poll(hass, freezer, 2)
    (record,) = stored_id_tags(hass_storage, push_entry)
    ours, transaction = record["id_tag"], record["transaction"]
    assert transaction is not None
    for body in (
        # An old start of another charge, replayed.
        notification("start", box, id="old-tag", transaction_id=transaction - 1),
        # Stops for the charge Thor still runs: zeros, and a duplicate of its own.
        notification("stop", box, idTag=ours, transaction_id=0),
        notification("stop", box, idTag=ours, transaction_id=0),
        notification("stop", box, idTag=ours, transaction_id=transaction),
        notification("stop", box, idTag=ours, transaction_id=transaction),
    ):
        assert await async_notify(client, body) == 200
        await hass.async_block_till_done()
    await async_next_idle_poll(hass, freezer)
    await async_next_idle_poll(hass, freezer)
    (record,) = stored_id_tags(hass_storage, push_entry)
    assert record["id_tag"] == ours
    assert entity_state(hass, SWITCH_1) == STATE_ON
    await async_switch(hass, SWITCH_1, on=False)
    await async_poll(hass, freezer, 2)
    assert simulator.running(box) == []
    assert entity_state(hass, SWITCH_1) == STATE_OFF


async def test_the_webhook_id_is_never_logged(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    push_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Wrong methods get 405 quietly; with push off the kept id answers quietly."""
    caplog.set_level(logging.INFO)
    await async_setup_entry(hass, push_entry)
    client = await hass_client_no_auth()
    for method in ("get", "put", "head"):
        response = await getattr(client, method)(f"/api/webhook/{WEBHOOK_ID}")
        assert response.status == 405
    assert not [
        message for message in _logged(caplog, logging.INFO) if WEBHOOK_ID in message
    ]
    # Push switched off: the id is kept (to switch it on again), Thor still posts.
    hass.config_entries.async_update_entry(
        push_entry, options={CONF_PUSH: False, CONF_WEBHOOK_ID: WEBHOOK_ID}
    )
    await hass.async_block_till_done()
    assert not push_entry.runtime_data.push.enabled
    box = first_chargebox(simulator)
    for _ in range(5):
        assert await async_notify(client, notification("meters", box, kwh=1)) == 200
    assert not [
        message for message in _logged(caplog, logging.INFO) if WEBHOOK_ID in message
    ]


async def test_a_transaction_above_64_bits_changes_nothing(
    hass: HomeAssistant,
    *,
    simulator: ThorSimulator,
    push_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Valid JSON, but no number storage can write: the id_tags stay saveable."""
    await async_setup_entry(hass, push_entry)
    client = await hass_client_no_auth()
    box = first_chargebox(simulator)
    body = notification("start", box, id="app-tag", transaction_id=2**64, mode="api")
    assert await async_notify(client, body) == 200
    await hass.async_block_till_done()
    await async_switch(hass, SWITCH_1, on=False)
    await async_switch(hass, "switch.garage_connector_2_charging", on=True)
    await async_poll(hass, freezer, 2)
    records = stored_id_tags(hass_storage, push_entry)
    assert {record["connector"] for record in records} >= {2}
    assert all(
        record["transaction"] is None or record["transaction"] < 2**63
        for record in records
    )


async def test_a_notification_tells_only_its_chargebox(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    hass_client_no_auth: ClientSessionGenerator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Another chargebox's entities and listeners are not woken by a notification."""
    other = simulator.add_chargebox(alias="Shed", connectors=1).id
    box = first_chargebox(simulator)
    entry = account_entry(
        (box, "Garage"),
        (other, "Shed"),
        base_url=simulator.base_url,
        options=PUSH_OPTIONS,
    )
    await async_setup_entry(hass, entry)
    client = await hass_client_no_auth()
    coordinator = entry.runtime_data.coordinator
    woken: list[str] = []
    coordinator.async_add_listener(lambda: woken.append("shed"), other)
    coordinator.async_add_listener(lambda: woken.append("garage"), box)
    transaction = simulator.start_rfid_charge(box, 1, CARD)
    body = notification("start", box, id=CARD, transaction_id=transaction)
    assert await async_notify(client, body) == 200
    await hass.async_block_till_done()
    assert woken == ["garage"]
    assert entity_state(hass, OCCUPIED_1) == STATE_ON
