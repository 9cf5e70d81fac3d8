"""Tests of the charge controller with a mocked Thor client: refusals and the id_tags."""

from collections.abc import Generator
from dataclasses import replace
from datetime import timedelta
from typing import Any
from unittest.mock import MagicMock, call, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import (
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)

from custom_components.thor.charge_control import EVENT_COMMAND_FAILED
from custom_components.thor.const import DOMAIN, SCAN_INTERVAL_CHARGING
from custom_components.thor.store import storage_key
from custom_components.thor.thor_api import (
    RunningCharge,
    ThorAccessDeniedError,
    ThorAlreadyInTransactionError,
    ThorAuthenticationError,
    ThorChargeboxNotActiveError,
    ThorChargeboxNotFoundError,
    ThorConnectionError,
    ThorError,
    ThorInvalidConnectorError,
    ThorNotInTransactionError,
    ThorPaymentRequiredError,
    ThorRateLimitError,
    ThorRestApiDisabledError,
    ThorServerError,
    ThorSourceIPError,
    ThorTimeoutError,
    ThorWrongTransactionError,
)

from .conftest import (
    CHARGEBOX_ID,
    async_poll,
    async_setup_entry,
    async_switch,
    entity_state,
    put_stored_id_tags,
    stored_id_tags,
)

SWITCH_1 = "switch.garage_connector_1_charging"
SWITCH_2 = "switch.garage_connector_2_charging"
ID_TAG = "q8w7e6r5t4y3u2i1o0pa"
CARD = "04A1B2C3D4E5F6"
"""The RFID card of the charge running on connector 2 in tests/fixtures."""


def _app_charge(connector: int, transaction: int) -> RunningCharge:
    """Return a running charge as Thor shows API and app starts: no id_tag."""
    return RunningCharge(
        id=transaction,
        chargebox=CHARGEBOX_ID,
        connector=connector,
        date_started=dt_util.utcnow(),
        energy=1500,
        id_tag=None,
        user=None,
        type="remote",
        payment=None,
    )


def _record(
    connector: Any = 1,
    id_tag: str = ID_TAG,
    transaction: int | None = None,
    *,
    confirmed: bool = False,
    age: timedelta = timedelta(minutes=1),
    chargebox: str = CHARGEBOX_ID,
) -> dict[str, Any]:
    """Return one stored id_tag record, as the current (version 2) store keeps it."""
    return {
        "chargebox": chargebox,
        "connector": connector,
        "id_tag": id_tag,
        "transaction": transaction,
        "confirmed": confirmed,
        "requested": (dt_util.utcnow() - age).isoformat(),
        "stop_requested": False,
    }


def _reads(client: MagicMock) -> int:
    """Return how many reads of this chargebox's running charges were sent."""
    return sum(
        1
        for sent in client.running_charges.await_args_list
        if sent.args == (CHARGEBOX_ID,)
    )


@pytest.fixture(autouse=True)
def only_switches() -> Generator[None]:
    """Set up the switch platform only."""
    with patch("custom_components.thor.PLATFORMS", [Platform.SWITCH]):
        yield


@pytest.fixture
def mock_thor_client(mock_thor_client: MagicMock) -> MagicMock:
    """Answer starts with an id_tag."""
    mock_thor_client.start_charge.return_value = ID_TAG
    return mock_thor_client


@pytest.mark.parametrize(
    ("error", "error_type", "key"),
    [
        (
            ThorInvalidConnectorError("HTTP 400", code="ConnectorNotValid"),
            ServiceValidationError,
            "invalid_connector",
        ),
        (
            ThorAlreadyInTransactionError("HTTP 400", code="AlreadyInTransaction"),
            ServiceValidationError,
            "already_charging",
        ),
        (
            ThorPaymentRequiredError("HTTP 402", code="ChargeboxNotFree"),
            HomeAssistantError,
            "payment_required",
        ),
        (
            ThorChargeboxNotActiveError("HTTP 403", code="ChargeboxNotActive"),
            HomeAssistantError,
            "chargebox_not_active",
        ),
        (
            ThorRateLimitError("HTTP 429", retry_after=42.2),
            HomeAssistantError,
            "rate_limited",
        ),
        (
            ThorRestApiDisabledError("HTTP 403", code="RestAPINotEnabled"),
            HomeAssistantError,
            "rest_api_disabled",
        ),
        (
            ThorSourceIPError("HTTP 403", code="InvalidSourceIPAddr"),
            HomeAssistantError,
            "source_ip_refused",
        ),
        (
            ThorChargeboxNotFoundError("HTTP 404", code="ChargeboxNotFound"),
            HomeAssistantError,
            "chargebox_not_found",
        ),
        (
            ThorAccessDeniedError("Thor answered HTTP 403"),
            HomeAssistantError,
            "access_denied",
        ),
        (
            ThorError("Thor answered HTTP 418"),
            HomeAssistantError,
            "request_failed",
        ),
    ],
)
async def test_start_refusals(
    hass: HomeAssistant,
    *,
    init_integration: MockConfigEntry,
    mock_thor_client: MagicMock,
    hass_storage: dict[str, Any],
    error: ThorError,
    error_type: type[HomeAssistantError],
    key: str,
) -> None:
    """Every refusal of a start says why and what to do; the switch stays off."""
    mock_thor_client.start_charge.side_effect = error
    with pytest.raises(error_type) as err:
        await async_switch(hass, SWITCH_1, on=True)
    assert type(err.value) is error_type
    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == key
    # Every placeholder of the message was given, and it names the chargebox.
    assert "{" not in str(err.value)
    assert err.value.translation_placeholders["chargebox"] == "Garage"
    assert err.value.translation_placeholders["chargebox_id"] == CHARGEBOX_ID
    assert entity_state(hass, SWITCH_1) == STATE_OFF
    assert storage_key(init_integration.entry_id) not in hass_storage


async def test_rate_limited_start_names_the_wait(
    hass: HomeAssistant, init_integration: MockConfigEntry, mock_thor_client: MagicMock
) -> None:
    """A throttled start says how long Thor asked to wait, rounded up.

    Automations learn it too: `thor_command_failed` with reason `rate_limited`.
    """
    events = async_capture_events(hass, EVENT_COMMAND_FAILED)
    mock_thor_client.start_charge.side_effect = ThorRateLimitError(
        "HTTP 429", retry_after=42.2
    )
    with pytest.raises(HomeAssistantError) as err:
        await async_switch(hass, SWITCH_1, on=True)
    assert err.value.translation_placeholders["retry_after"] == "43"
    await hass.async_block_till_done()
    (event,) = events
    assert event.data["reason"] == "rate_limited"
    assert event.data["command"] == "start"
    assert event.data["connector"] == 1
    assert event.data["retry_after"] == 43


async def test_refused_key_starts_reauth(
    hass: HomeAssistant, init_integration: MockConfigEntry, mock_thor_client: MagicMock
) -> None:
    """A refused API key says so and asks the user for a new one."""
    mock_thor_client.start_charge.side_effect = ThorAuthenticationError(
        "HTTP 403", code="APIKeyNotFound"
    )
    with pytest.raises(HomeAssistantError) as err:
        await async_switch(hass, SWITCH_1, on=True)
    assert err.value.translation_key == "authentication_failed"
    await hass.async_block_till_done()
    (flow,) = hass.config_entries.flow.async_progress()
    assert flow["context"]["source"] == SOURCE_REAUTH
    assert flow["context"]["entry_id"] == init_integration.entry_id


async def test_stop_card_charge_with_card_id_tag(
    hass: HomeAssistant, init_integration: MockConfigEntry, mock_thor_client: MagicMock
) -> None:
    """A charge started with an RFID card is stopped with the card's id_tag."""
    assert entity_state(hass, SWITCH_2) == STATE_ON
    await async_switch(hass, SWITCH_2, on=False)
    mock_thor_client.stop_charge.assert_awaited_once_with(CHARGEBOX_ID, 2, CARD, 1001)
    assert entity_state(hass, SWITCH_2) == STATE_OFF


async def test_stop_retries_without_transaction(
    hass: HomeAssistant, init_integration: MockConfigEntry, mock_thor_client: MagicMock
) -> None:
    """A transaction number Thor does not accept is left out on a second try."""
    mock_thor_client.stop_charge.side_effect = [
        ThorWrongTransactionError("HTTP 400", code="WrongTransaction"),
        None,
    ]
    await async_switch(hass, SWITCH_2, on=False)
    assert mock_thor_client.stop_charge.await_args_list == [
        call(CHARGEBOX_ID, 2, CARD, 1001),
        call(CHARGEBOX_ID, 2, CARD),
    ]
    assert entity_state(hass, SWITCH_2) == STATE_OFF


@pytest.mark.parametrize(
    ("error", "error_type", "key", "attempts"),
    [
        (
            ThorWrongTransactionError("HTTP 400", code="WrongTransaction"),
            HomeAssistantError,
            "wrong_transaction",
            2,
        ),
        (
            ThorNotInTransactionError("HTTP 400", code="NotInTransaction"),
            ServiceValidationError,
            "not_charging",
            1,
        ),
        (
            ThorServerError("Thor answered HTTP 500 InternalServerError"),
            HomeAssistantError,
            "server_error",
            1,
        ),
        (
            ThorTimeoutError("Timeout after 15 s talking to Thor"),
            HomeAssistantError,
            "communication_error",
            1,
        ),
    ],
)
async def test_stop_refusals(
    hass: HomeAssistant,
    *,
    init_integration: MockConfigEntry,
    mock_thor_client: MagicMock,
    error: ThorError,
    error_type: type[HomeAssistantError],
    key: str,
    attempts: int,
) -> None:
    """Every refusal of a stop says why; the switch keeps showing the charge."""
    mock_thor_client.stop_charge.side_effect = error
    with pytest.raises(error_type) as err:
        await async_switch(hass, SWITCH_2, on=False)
    assert type(err.value) is error_type
    assert err.value.translation_key == key
    assert "{" not in str(err.value)
    assert mock_thor_client.stop_charge.await_count == attempts
    assert entity_state(hass, SWITCH_2) == STATE_ON


@pytest.mark.parametrize(
    ("service", "entity_id"),
    [(SERVICE_TURN_ON, SWITCH_1), (SERVICE_TURN_OFF, SWITCH_2)],
)
async def test_offline_chargebox_refuses_before_sending(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
    service: str,
    entity_id: str,
) -> None:
    """A chargebox that is not connected gets no command; the switch stays usable."""
    (chargebox,) = mock_thor_client.list_chargeboxes.return_value
    mock_thor_client.list_chargeboxes.return_value = [
        replace(chargebox, connected=False)
    ]
    await async_setup_entry(hass, mock_config_entry)
    state = entity_state(hass, entity_id)
    assert state != STATE_UNAVAILABLE
    with pytest.raises(HomeAssistantError) as err:
        await async_switch(hass, entity_id, on=service == SERVICE_TURN_ON)
    assert err.value.translation_key == "chargebox_offline"
    assert err.value.translation_placeholders["chargebox"] == "Garage"
    assert "{" not in str(err.value)
    mock_thor_client.start_charge.assert_not_awaited()
    mock_thor_client.stop_charge.assert_not_awaited()
    assert entity_state(hass, entity_id) == state


async def test_chargebox_missing_from_the_reading_refuses_commands(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_thor_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A chargebox Thor stopped listing gets no command, and the user is told why."""
    mock_thor_client.list_chargeboxes.return_value = []
    await async_poll(hass, freezer, SCAN_INTERVAL_CHARGING.total_seconds())
    assert entity_state(hass, SWITCH_1) == STATE_UNAVAILABLE
    for service in ("start_charge", "stop_charge"):
        with pytest.raises(HomeAssistantError) as err:
            await hass.services.async_call(
                DOMAIN,
                service,
                {"config_entry_id": init_integration.entry_id, "connector": 2},
                blocking=True,
            )
        assert err.value.translation_key == "chargebox_unavailable"
        assert err.value.translation_placeholders["chargebox_id"] == CHARGEBOX_ID
    mock_thor_client.start_charge.assert_not_awaited()
    mock_thor_client.stop_charge.assert_not_awaited()


async def test_app_started_charge_cannot_be_stopped(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, mock_thor_client: MagicMock
) -> None:
    """A charge started from the Thor app has no known id_tag: the user is told why."""
    mock_thor_client.running_charges.return_value = [_app_charge(1, 1002)]
    await async_setup_entry(hass, mock_config_entry)
    assert entity_state(hass, SWITCH_1) == STATE_ON
    with pytest.raises(ServiceValidationError) as err:
        await async_switch(hass, SWITCH_1, on=False)
    assert err.value.translation_key == "charge_started_elsewhere"
    assert err.value.translation_placeholders["chargebox"] == "Garage"
    assert err.value.translation_placeholders["connector"] == "1"
    mock_thor_client.stop_charge.assert_not_awaited()
    assert entity_state(hass, SWITCH_1) == STATE_ON


@pytest.mark.parametrize(
    ("entity_id", "on", "error", "key", "running"),
    [
        (
            SWITCH_1,
            True,
            ThorAlreadyInTransactionError("HTTP 400", code="AlreadyInTransaction"),
            "already_charging",
            [_app_charge(1, 1002)],
        ),
        (
            SWITCH_2,
            False,
            ThorNotInTransactionError("HTTP 400", code="NotInTransaction"),
            "not_charging",
            [],
        ),
    ],
)
async def test_thor_contradicting_the_reading_reads_the_box_again(
    hass: HomeAssistant,
    *,
    init_integration: MockConfigEntry,
    mock_thor_client: MagicMock,
    entity_id: str,
    on: bool,
    error: ThorError,
    key: str,
    running: list[RunningCharge],
) -> None:
    """A refusal that contradicts the reading reads this box's charges once, at once."""
    assert entity_state(hass, entity_id) == (STATE_OFF if on else STATE_ON)
    mock_thor_client.start_charge.side_effect = error
    mock_thor_client.stop_charge.side_effect = error
    mock_thor_client.running_charges.return_value = running
    with pytest.raises(ServiceValidationError) as err:
        await async_switch(hass, entity_id, on=on)
    assert err.value.translation_key == key
    await hass.async_block_till_done()
    assert _reads(mock_thor_client) == 1
    # The switch shows what Thor said, without waiting for the next poll.
    assert entity_state(hass, entity_id) == (STATE_ON if on else STATE_OFF)


async def test_id_tag_survives_restart(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
    hass_storage: dict[str, Any],
) -> None:
    """After a restart the stored id_tag stops the charge Home Assistant started."""
    put_stored_id_tags(hass_storage, mock_config_entry, {"charges": [_record()]})
    mock_thor_client.running_charges.return_value = [_app_charge(1, 1002)]
    await async_setup_entry(hass, mock_config_entry)
    # Running charges showed the charge: its transaction number is kept too.
    (record,) = stored_id_tags(hass_storage, mock_config_entry)
    assert record["chargebox"] == CHARGEBOX_ID
    assert record["connector"] == 1
    assert record["id_tag"] == ID_TAG
    assert record["transaction"] == 1002
    assert record["confirmed"] is True
    assert entity_state(hass, SWITCH_1) == STATE_ON

    await async_switch(hass, SWITCH_1, on=False)
    mock_thor_client.stop_charge.assert_awaited_once_with(CHARGEBOX_ID, 1, ID_TAG, 1002)
    assert entity_state(hass, SWITCH_1) == STATE_OFF


async def test_id_tag_stored_before_the_upgrade_stops_its_charge(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
    hass_storage: dict[str, Any],
) -> None:
    """An id_tag kept in the version-1 layout (nested by chargebox) still stops it."""
    v1_record = {
        key: value
        for key, value in _record().items()
        if key not in ("chargebox", "connector", "stop_requested")
    }
    put_stored_id_tags(
        hass_storage,
        mock_config_entry,
        {"charges": {CHARGEBOX_ID: {"1": v1_record}}},
        version=1,
    )
    mock_thor_client.running_charges.return_value = [_app_charge(1, 1002)]
    await async_setup_entry(hass, mock_config_entry)
    assert entity_state(hass, SWITCH_1) == STATE_ON
    # Written back in the current layout once the running charge confirmed it.
    assert hass_storage[storage_key(mock_config_entry.entry_id)]["version"] == 2
    (record,) = stored_id_tags(hass_storage, mock_config_entry)
    assert (record["chargebox"], record["connector"]) == (CHARGEBOX_ID, 1)
    assert (record["id_tag"], record["transaction"]) == (ID_TAG, 1002)

    await async_switch(hass, SWITCH_1, on=False)
    mock_thor_client.stop_charge.assert_awaited_once_with(CHARGEBOX_ID, 1, ID_TAG, 1002)
    assert entity_state(hass, SWITCH_1) == STATE_OFF


async def test_stored_id_tags_follow_running_charges(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Id_tags of charges replaced, or never started over two readings, are dropped."""
    put_stored_id_tags(
        hass_storage,
        mock_config_entry,
        {
            "charges": [
                # Never started, long ago.
                _record(1, age=timedelta(minutes=20)),
                # A card charge runs there now.
                _record(2),
                # Damaged records are left out.
                {**_record(3), "id_tag": ""},
                "damaged",
                _record("five"),
                _record(0),
                {**_record(4), "chargebox": None},
                # A chargebox whose subentry was deleted takes its id_tags with it.
                _record(1, "someone-elses-tag", chargebox="another-chargebox"),
            ]
        },
    )
    await async_setup_entry(hass, mock_config_entry)
    # Replaced at once; never started only after a second reading of a free connector.
    assert [
        (record["chargebox"], record["connector"])
        for record in stored_id_tags(hass_storage, mock_config_entry)
    ] == [(CHARGEBOX_ID, 1)]
    await async_poll(hass, freezer, SCAN_INTERVAL_CHARGING.total_seconds())
    assert stored_id_tags(hass_storage, mock_config_entry) == []
    # The card charge is still stopped with the card's id_tag.
    await async_switch(hass, SWITCH_2, on=False)
    mock_thor_client.stop_charge.assert_awaited_once_with(CHARGEBOX_ID, 2, CARD, 1001)


async def test_id_tag_of_an_earlier_charge_is_dropped(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
    hass_storage: dict[str, Any],
) -> None:
    """An id_tag whose charge ended is not used for the charge running now."""
    put_stored_id_tags(
        hass_storage,
        mock_config_entry,
        {"charges": [_record(transaction=999, confirmed=True)]},
    )
    mock_thor_client.running_charges.return_value = [_app_charge(1, 1002)]
    await async_setup_entry(hass, mock_config_entry)
    assert stored_id_tags(hass_storage, mock_config_entry) == []
    with pytest.raises(ServiceValidationError) as err:
        await async_switch(hass, SWITCH_1, on=False)
    assert err.value.translation_key == "charge_started_elsewhere"
    mock_thor_client.stop_charge.assert_not_awaited()


@pytest.mark.parametrize(
    ("version", "data"),
    [
        (2, None),
        (2, []),
        (2, {"charges": "damaged"}),
        (2, {"charges": {CHARGEBOX_ID: {"1": "damaged"}}}),
        (1, None),
        (1, {"charges": "damaged"}),
        (1, {"charges": {CHARGEBOX_ID: "damaged", "other": {"1": "damaged"}}}),
    ],
)
async def test_damaged_storage_is_ignored(
    hass: HomeAssistant,
    *,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
    hass_storage: dict[str, Any],
    version: int,
    data: Any,
) -> None:
    """Unreadable stored id_tags do not keep the chargebox from loading."""
    put_stored_id_tags(hass_storage, mock_config_entry, data, version)
    await async_setup_entry(hass, mock_config_entry)
    await async_switch(hass, SWITCH_1, on=True)
    assert entity_state(hass, SWITCH_1) == STATE_ON
    (record,) = stored_id_tags(hass_storage, mock_config_entry)
    assert (record["chargebox"], record["connector"]) == (CHARGEBOX_ID, 1)
    assert record["id_tag"] == ID_TAG


async def test_stop_before_thor_shows_the_charge(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
    hass_storage: dict[str, Any],
) -> None:
    """A stop sent with the stored id_tag only is not retried when Thor refuses it."""
    put_stored_id_tags(hass_storage, mock_config_entry, {"charges": [_record()]})
    await async_setup_entry(hass, mock_config_entry)
    # The recent id_tag is kept: the chargebox may still start the charge.
    (record,) = stored_id_tags(hass_storage, mock_config_entry)
    assert record["id_tag"] == ID_TAG
    assert entity_state(hass, SWITCH_1) == STATE_OFF
    mock_thor_client.stop_charge.side_effect = ThorWrongTransactionError(
        "HTTP 400", code="WrongTransaction"
    )
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            DOMAIN,
            "stop_charge",
            {"config_entry_id": mock_config_entry.entry_id},
            blocking=True,
        )
    assert err.value.translation_key == "wrong_transaction"
    mock_thor_client.stop_charge.assert_awaited_once_with(CHARGEBOX_ID, 1, ID_TAG, None)


async def test_removing_the_entry_forgets_its_id_tags(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    """Deleting the entry deletes its stored id_tags."""
    await async_switch(hass, SWITCH_1, on=True)
    assert storage_key(init_integration.entry_id) in hass_storage
    await hass.config_entries.async_remove(init_integration.entry_id)
    await hass.async_block_till_done()
    assert storage_key(init_integration.entry_id) not in hass_storage


async def test_failed_poll_does_not_end_a_pending_start(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mock_thor_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """While Thor cannot be read the switch is unavailable; then the start shows."""
    events = async_capture_events(hass, EVENT_COMMAND_FAILED)
    await async_switch(hass, SWITCH_1, on=True)
    mock_thor_client.list_chargeboxes.side_effect = ThorConnectionError("offline")
    mock_thor_client.running_charges.side_effect = ThorConnectionError("offline")
    for _ in range(int(SCAN_INTERVAL_CHARGING.total_seconds())):
        await async_poll(hass, freezer, 1)
    assert entity_state(hass, SWITCH_1) == STATE_UNAVAILABLE
    # The confirmation reads went on meanwhile, and failed quietly.
    assert _reads(mock_thor_client) >= 15

    mock_thor_client.list_chargeboxes.side_effect = None
    mock_thor_client.running_charges.side_effect = None
    mock_thor_client.running_charges.return_value = [_app_charge(1, 1002)]
    # The next poll (not a quick read: the entry stays unavailable until a poll works).
    await async_poll(hass, freezer, SCAN_INTERVAL_CHARGING.total_seconds())
    assert entity_state(hass, SWITCH_1) == STATE_ON
    await async_poll(hass, freezer, 200)
    assert entity_state(hass, SWITCH_1) == STATE_ON
    assert events == []


async def test_unchanged_poll_confirms_a_stop(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_thor_client: MagicMock,
    hass_storage: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A stop of a charge Thor never showed is confirmed by the next reading, silently."""
    put_stored_id_tags(hass_storage, mock_config_entry, {"charges": [_record()]})
    await async_setup_entry(hass, mock_config_entry)
    events = async_capture_events(hass, EVENT_COMMAND_FAILED)
    await hass.services.async_call(
        DOMAIN,
        "stop_charge",
        {"config_entry_id": mock_config_entry.entry_id},
        blocking=True,
    )
    assert entity_state(hass, SWITCH_1) == STATE_OFF
    await async_poll(hass, freezer, 2)
    assert entity_state(hass, SWITCH_1) == STATE_OFF
    # Confirmed by the first read: no more reads of the chargebox.
    assert _reads(mock_thor_client) == 1
    await async_poll(hass, freezer, 200)
    assert _reads(mock_thor_client) == 1
    assert entity_state(hass, SWITCH_1) == STATE_OFF
    assert events == []
