"""Edge cases of the energy meters: damaged storage, odd charges, Thor lagging behind."""

from dataclasses import replace
from datetime import datetime, timedelta
import logging
from typing import Any
from unittest.mock import MagicMock

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.thor.data import Measurement, ThorAccountData
from custom_components.thor.energy import (
    STORAGE_VERSION,
    SessionEventType,
    energy_signal,
    storage_key,
)
from custom_components.thor.ledger import KEEP_DAYS, SETTLE_WINDOW
from custom_components.thor.power import MEASURED_VALID
from custom_components.thor.thor_api import (
    FinishedCharge,
    FinishedChargePayment,
    RunningCharge,
    ThorServerError,
)

from .conftest import (
    CHARGEBOX_ID,
    account_entry,
    async_next_idle_poll,
    async_poll,
    async_setup_entry,
    entity_state,
    session_events,
    state_number,
)

TOTAL = "sensor.garage_energy_delivered"
TOTAL_1 = "sensor.garage_connector_1_energy_delivered"
LAST_ENERGY_1 = "sensor.garage_connector_1_last_session_energy"
LAST_COST_1 = "sensor.garage_connector_1_last_session_cost"
LAST_BY_1 = "sensor.garage_connector_1_last_session_started_by"
LAST_END_1 = "sensor.garage_connector_1_last_session_end"
POWER_1 = "sensor.garage_connector_1_charging_power_estimated"
CURRENT_L2 = "sensor.garage_connector_1_current_l2"


def _running(
    started: datetime, energy: float, *, charge_id: int | None = 7, kind: str = "api"
) -> RunningCharge:
    return RunningCharge(
        id=charge_id,
        chargebox=CHARGEBOX_ID,
        connector=1,
        date_started=started,
        energy=energy,
        id_tag=None,
        user=None,
        type=kind,
        payment=None,
    )


def _finished(
    started: datetime,
    ended: datetime,
    energy: float,
    *,
    charge_id: int | None = 7,
    kind: str = "api",
    payment: FinishedChargePayment | None = None,
) -> FinishedCharge:
    return FinishedCharge(
        id=charge_id,
        chargebox=CHARGEBOX_ID,
        connector=1,
        date_started=started,
        date_finished=ended,
        energy=energy,
        id_tag=None,
        user=None,
        type=kind,
        payment=payment,
    )


_CHF = FinishedChargePayment(
    currency="chf",
    start=0,
    method="stripe",
    price=2.5,
    success=True,
    transaction="pi_x",
)


def _charging(client: MagicMock, charges: list[RunningCharge]) -> None:
    """Make the mocked account show `charges` running (on connector 1)."""
    box = client.list_chargeboxes.return_value[0]
    occupied = frozenset({1}) if charges else frozenset()
    client.list_chargeboxes.return_value = [replace(box, occupied_connectors=occupied)]
    client.running_charges.return_value = charges


def _put_stored(
    hass_storage: dict[str, Any], entry: MockConfigEntry, chargeboxes: Any
) -> None:
    """Store energy meters for an entry as an earlier run left them."""
    hass_storage[storage_key(entry.entry_id)] = {
        "version": STORAGE_VERSION,
        "key": storage_key(entry.entry_id),
        "data": {"chargeboxes": chargeboxes},
    }


def _stored(hass_storage: dict[str, Any], entry: MockConfigEntry) -> Any:
    """Return the energy meters an entry has on disk, by chargebox."""
    return hass_storage[storage_key(entry.entry_id)]["data"]["chargeboxes"]


async def _notify(hass: HomeAssistant, entry: MockConfigEntry, **changes: Any) -> None:
    """Show a reading a notification made: the last one, with `changes`.

    As the coordinator does for Thor's notifications (meter values, a stop).
    """
    coordinator = entry.runtime_data.coordinator
    data: ThorAccountData = coordinator.data
    reading = replace(data.chargeboxes[CHARGEBOX_ID], polled=False, **changes)
    coordinator.async_set_updated_data(
        ThorAccountData(chargeboxes={**data.chargeboxes, CHARGEBOX_ID: reading})
    )
    await hass.async_block_till_done()


@pytest.fixture
def idle_client(mock_thor_client: MagicMock) -> MagicMock:
    """The mocked client with nothing running, nor finished."""
    _charging(mock_thor_client, [])
    mock_thor_client.finished_charges_between.return_value = []
    return mock_thor_client


async def test_damaged_storage_starts_again(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    idle_client: MagicMock,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A damaged meter starts at 0 with a warning; damaged parts of a good one go."""
    _put_stored(
        hass_storage, mock_config_entry, {CHARGEBOX_ID: {"created": "yesterday"}}
    )
    with caplog.at_level(logging.WARNING):
        await async_setup_entry(hass, mock_config_entry)
    assert "damaged" in caplog.text
    assert state_number(hass, TOTAL) == 0
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)

    created = (dt_util.utcnow() - timedelta(days=1)).isoformat()
    _put_stored(
        hass_storage,
        mock_config_entry,
        {
            CHARGEBOX_ID: {
                "created": created,
                "reconciled": dt_util.now().date().isoformat(),
                "totals": {"1": 1500, "0": 9, "x": 9, "2": "lots", "3": -4},
                "charges": {
                    "t1": {"connector": True},
                    "t2": "nope",
                    "t3": {"connector": 1, "transaction": 3, "counted": 1500},
                },
                "last": {
                    "1": {
                        "transaction": 3,
                        "started": created,
                        "ended": "not a time",
                        "energy": 1500,
                        "cost": float("nan"),
                        "currency": 5,
                    },
                    "2": "nope",
                    "y": {},
                },
            },
            "removed-box": {"created": created},
        },
    )
    await async_setup_entry(hass, mock_config_entry)
    assert state_number(hass, TOTAL) == 1.5
    assert state_number(hass, LAST_ENERGY_1) == 1.5
    assert entity_state(hass, LAST_COST_1) == STATE_UNKNOWN
    # The removed box went.
    assert list(_stored(hass_storage, mock_config_entry)) == [CHARGEBOX_ID]


async def test_charges_without_a_transaction_number(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    idle_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A charge without an id is known by its start; one without either is skipped."""
    await async_setup_entry(hass, mock_config_entry)
    started = dt_util.utcnow()
    _charging(idle_client, [_running(started, 1000, charge_id=None)])
    await async_next_idle_poll(hass, freezer)
    _charging(idle_client, [_running(started, 3000, charge_id=None)])
    await async_poll(hass, freezer, 31)
    assert state_number(hass, TOTAL) == 3.0
    idle_client.finished_charges_between.return_value = [
        _finished(started, dt_util.utcnow(), 3500, charge_id=None)
    ]
    _charging(idle_client, [])
    await async_poll(hass, freezer, 31)
    assert state_number(hass, TOTAL) == 3.5

    # No id and no start: it cannot be told from another charge, so it is not counted.
    _charging(
        idle_client,
        [replace(_running(started, 9000, charge_id=None), date_started=None)],
    )
    await async_next_idle_poll(hass, freezer)
    assert state_number(hass, TOTAL) == 3.5


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_thor_late_with_the_finished_record(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    idle_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Shown as last seen at once; the daily read adds what was missing."""
    await async_setup_entry(hass, mock_config_entry)
    events = session_events(hass, mock_config_entry)
    started = dt_util.utcnow()
    _charging(idle_client, [_running(started, 1000, kind="local")])
    await async_next_idle_poll(hass, freezer)
    _charging(idle_client, [_running(started, 4000, kind="local")])
    await async_poll(hass, freezer, 31)
    _charging(idle_client, [])
    idle_client.finished_charges_between.side_effect = ThorServerError(
        "Thor answered 500"
    )
    await async_poll(hass, freezer, 31)
    assert state_number(hass, LAST_ENERGY_1) == 4.0
    assert entity_state(hass, LAST_BY_1) == "local"
    assert [e.type for e in events] == [
        SessionEventType.CHARGING_STARTED,
        SessionEventType.CHARGING_STOPPED,
    ]
    assert events[-1].energy == 4.0
    reads = idle_client.finished_charges_between.call_count
    await async_poll(hass, freezer, 30)  # Not before a minute has passed.
    assert idle_client.finished_charges_between.call_count == reads
    idle_client.finished_charges_between.side_effect = None
    idle_client.finished_charges_between.return_value = []
    minutes = int(SETTLE_WINDOW.total_seconds() // 60)
    for _ in range(minutes + 1):
        await async_next_idle_poll(hass, freezer)
    # Read about once a minute while it is awaited, then no more until the daily
    # reconciliation.
    assert reads < idle_client.finished_charges_between.call_count <= reads + minutes
    reads = idle_client.finished_charges_between.call_count
    await async_next_idle_poll(hass, freezer)
    assert idle_client.finished_charges_between.call_count == reads
    assert state_number(hass, LAST_ENERGY_1) == 4.0

    ended = dt_util.utcnow() - timedelta(minutes=5)
    idle_client.finished_charges_between.return_value = [
        _finished(
            started,
            ended,
            4600,
            kind="local",
            payment=FinishedChargePayment(
                currency="chf",
                start=0,
                method="stripe",
                price=2.5,
                success=True,
                transaction="pi_x",
            ),
        )
    ]
    await async_poll(hass, freezer, 24 * 3600)
    assert state_number(hass, TOTAL) == 4.6
    assert state_number(hass, LAST_ENERGY_1) == 4.6
    cost = hass.states.get(LAST_COST_1)
    assert cost is not None
    assert (cost.state, cost.attributes["unit_of_measurement"]) == ("2.5", "CHF")
    assert len(events) == 2  # Reported once.


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_old_charges_are_forgotten(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    idle_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """Settled charges are remembered only while a history read could list them."""
    await async_setup_entry(hass, mock_config_entry)
    started = dt_util.utcnow() + timedelta(minutes=1)
    idle_client.finished_charges_between.return_value = [
        _finished(started, started + timedelta(hours=1), 5000, kind="remote")
    ]
    await async_poll(hass, freezer, 2 * 3600)
    await async_poll(hass, freezer, 24 * 3600)
    assert state_number(hass, TOTAL) == 5.0
    assert entity_state(hass, LAST_BY_1) == "remote"

    def remembered() -> int:
        return len(_stored(hass_storage, mock_config_entry)[CHARGEBOX_ID]["charges"])

    await async_poll(hass, freezer, 60)
    await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert remembered() == 1
    for _ in range(5):
        await async_poll(hass, freezer, 24 * 3600)
    await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert remembered() == 0
    assert (
        state_number(hass, TOTAL) == 5.0
    )  # Still listed by Thor, no longer remembered:
    # but older than any read asks for, so it is not counted again.


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_a_new_way_to_start_is_shown_as_is(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    idle_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A charge type Thor adds later is a state of its own, not an error."""
    await async_setup_entry(hass, mock_config_entry)
    started = dt_util.utcnow() + timedelta(seconds=1)
    idle_client.finished_charges_between.return_value = [
        _finished(started, started + timedelta(minutes=30), 2000, kind="Voucher")
    ]
    await async_poll(hass, freezer, 24 * 3600)
    state = hass.states.get(LAST_BY_1)
    assert state is not None
    assert state.state == "voucher"
    assert "voucher" in state.attributes["options"]


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_meter_values_are_the_power_and_currents_while_recent(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    idle_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Thor's meter values in a reading are shown; once old, the estimate again."""
    await async_setup_entry(hass, mock_config_entry)
    started = dt_util.utcnow()
    _charging(idle_client, [_running(started, 1000)])
    await async_next_idle_poll(hass, freezer)
    _charging(idle_client, [_running(started, 1100)])
    await async_poll(hass, freezer, 36)
    assert state_number(hass, POWER_1) == 10000  # 100 Wh in 36 s
    assert entity_state(hass, CURRENT_L2) == STATE_UNKNOWN

    measured = Measurement(
        power=11040.04, currents={"L1": 16.0, "L2": 15.9}, time=dt_util.utcnow()
    )
    await _notify(hass, mock_config_entry, measurements={1: measured})
    assert state_number(hass, POWER_1) == 11040.0
    assert state_number(hass, CURRENT_L2) == 15.9

    # A poll between them does not replace them with an estimate.
    freezer.tick(timedelta(seconds=30))
    await _notify(
        hass,
        mock_config_entry,
        charges={1: _running(started, 1200)},
        measurements={1: measured},
    )
    assert state_number(hass, POWER_1) == 11040.0

    freezer.tick(MEASURED_VALID - timedelta(seconds=30))
    await _notify(
        hass,
        mock_config_entry,
        charges={1: _running(started, 1450)},  # 10 kW for 90 s
        measurements={1: measured},
    )
    assert state_number(hass, POWER_1) == 10000
    assert entity_state(hass, CURRENT_L2) == STATE_UNKNOWN
    # An energy lower than before (Thor's meter restarting) is the next base.
    freezer.tick(timedelta(seconds=30))
    await _notify(hass, mock_config_entry, charges={1: _running(started, 1400)})
    assert state_number(hass, POWER_1) == 10000


async def test_a_stop_notification_counts_the_last_energy(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    idle_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The energy a stop gives counts at once, for a charge seen or not seen running."""
    await async_setup_entry(hass, mock_config_entry)
    events = session_events(hass, mock_config_entry)
    started = dt_util.utcnow()
    _charging(idle_client, [_running(started, 1000)])
    await async_next_idle_poll(hass, freezer)
    assert state_number(hass, TOTAL) == 1.0

    box = idle_client.list_chargeboxes.return_value[0]
    free = replace(box, occupied_connectors=frozenset())
    await _notify(
        hass,
        mock_config_entry,
        chargebox=free,
        charges={},
        ended={1: _running(started, 3400)},
    )
    assert state_number(hass, TOTAL) == 3.4
    assert state_number(hass, POWER_1) == 0

    # Began and ended between two readings: known from its stop only.
    later = dt_util.utcnow()
    await _notify(hass, mock_config_entry, ended={1: _running(later, 800, charge_id=8)})
    assert state_number(hass, TOTAL) == 4.2
    assert [(e.type, e.transaction) for e in events][-2:] == [
        (SessionEventType.CHARGING_STARTED, 8),
        (SessionEventType.CHARGING_STOPPED, 8),
    ]


async def test_a_change_signals_its_chargebox_only(
    hass: HomeAssistant, idle_client: MagicMock, freezer: FrozenDateTimeFactory
) -> None:
    """A charge on one chargebox makes only that chargebox's meter sensors look."""
    other = "Xq7Tq0mP2sLr9vBn"
    (box,) = idle_client.list_chargeboxes.return_value
    carport = replace(box, id=other, alias="Carport")
    idle_client.list_chargeboxes.return_value = [box, carport]
    entry = await async_setup_entry(
        hass, account_entry((CHARGEBOX_ID, "Garage"), (other, "Carport"))
    )
    signals: dict[str, int] = {CHARGEBOX_ID: 0, other: 0}

    def _listen(chargebox_id: str) -> None:
        @callback
        def _count(_connectors: Any) -> None:
            signals[chargebox_id] += 1

        entry.async_on_unload(
            async_dispatcher_connect(
                hass, energy_signal(entry.entry_id, chargebox_id), _count
            )
        )

    _listen(CHARGEBOX_ID)
    _listen(other)
    started = dt_util.utcnow()
    _charging(idle_client, [_running(started, 1000)])
    idle_client.list_chargeboxes.return_value.append(carport)
    await async_next_idle_poll(hass, freezer)
    assert state_number(hass, TOTAL) == 1.0
    assert state_number(hass, "sensor.carport_energy_delivered") == 0
    assert signals[CHARGEBOX_ID] > 0
    assert signals[other] == 0


@pytest.mark.parametrize("ids", [(7, None), (None, 7)])
async def test_a_charge_listed_without_its_transaction_counts_once(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    idle_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    ids: tuple[int | None, int | None],
) -> None:
    """One list gives the transaction, the other not: known by its start, once."""
    running_id, finished_id = ids
    await async_setup_entry(hass, mock_config_entry)
    started = dt_util.utcnow()
    _charging(idle_client, [_running(started, 1000, charge_id=running_id)])
    await async_next_idle_poll(hass, freezer)
    _charging(idle_client, [_running(started, 1700, charge_id=running_id)])
    await async_poll(hass, freezer, 31)
    assert state_number(hass, TOTAL) == 1.7

    idle_client.finished_charges_between.return_value = [
        _finished(started, dt_util.utcnow(), 1874, charge_id=finished_id)
    ]
    _charging(idle_client, [])
    await async_poll(hass, freezer, 31)
    assert state_number(hass, TOTAL) == 1.874
    assert state_number(hass, LAST_ENERGY_1) == 1.874

    # Every later read lists it again: the daily reconciliation, a restart.
    await async_poll(hass, freezer, 24 * 3600)
    await hass.config_entries.async_reload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert state_number(hass, TOTAL) == 1.874
    assert state_number(hass, LAST_ENERGY_1) == 1.874


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_a_stop_ends_the_session_at_once(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    idle_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A reading ending a charge fires `charging_stopped` and shows the session."""
    await async_setup_entry(hass, mock_config_entry)
    events = session_events(hass, mock_config_entry)
    started = dt_util.utcnow()
    _charging(idle_client, [_running(started, 1000, kind="local")])
    await async_next_idle_poll(hass, freezer)
    box = idle_client.list_chargeboxes.return_value[0]
    _charging(idle_client, [])
    await _notify(
        hass,
        mock_config_entry,
        chargebox=replace(box, occupied_connectors=frozenset()),
        charges={},
        ended={1: _running(started, 4200, kind="local")},
    )
    assert [e.type for e in events] == [
        SessionEventType.CHARGING_STARTED,
        SessionEventType.CHARGING_STOPPED,
    ]
    assert events[-1].energy == 4.2
    assert state_number(hass, LAST_ENERGY_1) == 4.2
    assert entity_state(hass, LAST_BY_1) == "local"

    # Thor lists it a little later, with what it cost.
    idle_client.finished_charges_between.return_value = [
        _finished(started, dt_util.utcnow(), 4250, kind="local", payment=_CHF)
    ]
    await async_next_idle_poll(hass, freezer)
    assert state_number(hass, LAST_ENERGY_1) == 4.25
    assert state_number(hass, TOTAL) == 4.25
    assert float(entity_state(hass, LAST_COST_1)) == 2.5
    assert len(events) == 2
    reads = idle_client.finished_charges_between.await_count
    for _ in range(3):
        await async_next_idle_poll(hass, freezer)
    assert idle_client.finished_charges_between.await_count == reads


async def test_a_stop_after_the_poll_that_saw_the_end(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    idle_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A stop arriving after a poll ended the charge adds its energy, once."""
    await async_setup_entry(hass, mock_config_entry)
    events = session_events(hass, mock_config_entry)
    started = dt_util.utcnow()
    _charging(idle_client, [_running(started, 1000)])
    await async_next_idle_poll(hass, freezer)
    _charging(idle_client, [])
    await async_poll(hass, freezer, 31)
    assert state_number(hass, LAST_ENERGY_1) == 1.0
    await _notify(hass, mock_config_entry, ended={1: _running(started, 1300)})
    assert state_number(hass, TOTAL) == 1.3
    assert state_number(hass, LAST_ENERGY_1) == 1.3
    assert [e.type for e in events] == [
        SessionEventType.CHARGING_STARTED,
        SessionEventType.CHARGING_STOPPED,
    ]


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_an_end_stored_unannounced_is_shown(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    idle_client: MagicMock,
    hass_storage: dict[str, Any],
) -> None:
    """A charge an earlier release saw end, not yet announced, is shown at once."""
    ended = (dt_util.utcnow() - timedelta(minutes=3)).replace(microsecond=0)
    started = ended - timedelta(hours=1)
    _put_stored(
        hass_storage,
        mock_config_entry,
        {
            CHARGEBOX_ID: {
                "created": (started - timedelta(days=1)).isoformat(),
                "reconciled": dt_util.now().date().isoformat(),
                "totals": {"1": 2500},
                "charges": {
                    "t5": {
                        "connector": 1,
                        "transaction": 5,
                        "started": started.isoformat(),
                        "counted": 2500,
                        "ended": ended.isoformat(),
                        "settled": False,
                        "reported": False,
                    }
                },
            }
        },
    )
    await async_setup_entry(hass, mock_config_entry)
    assert state_number(hass, LAST_ENERGY_1) == 2.5
    assert dt_util.parse_datetime(entity_state(hass, LAST_END_1)) == ended
    assert state_number(hass, TOTAL) == 2.5


async def test_charges_thor_never_lists_as_finished_are_forgotten(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    idle_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """Four charges a day that Thor never lists: the stored ledger stays small."""
    await async_setup_entry(hass, mock_config_entry)
    transaction = 0
    for _ in range(10):
        for _ in range(4):
            transaction += 1
            started = dt_util.utcnow()
            _charging(idle_client, [_running(started, 1000, charge_id=transaction)])
            await async_next_idle_poll(hass, freezer)
            _charging(idle_client, [_running(started, 3000, charge_id=transaction)])
            await async_poll(hass, freezer, 31)
            _charging(idle_client, [])
            await async_poll(hass, freezer, 31)
        await async_poll(hass, freezer, 24 * 3600)  # and the daily reconciliation
    assert state_number(hass, TOTAL) == 120.0
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    stored = _stored(hass_storage, mock_config_entry)
    assert len(stored[CHARGEBOX_ID]["charges"]) <= 4 * (KEEP_DAYS + 2)


async def test_a_clock_stepping_back_stops_no_charge_from_counting(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    idle_client: MagicMock,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A charge after the clock stepped back 2 hours counts from its first reading."""
    await async_setup_entry(hass, mock_config_entry)
    coordinator = mock_config_entry.runtime_data.coordinator
    await async_next_idle_poll(hass, freezer)
    freezer.move_to(dt_util.utcnow() - timedelta(hours=2))
    # The event loop's clock moved back too: polls are asked for, not awaited.
    await coordinator.async_refresh()
    started = dt_util.utcnow() + timedelta(seconds=10)
    freezer.tick(timedelta(seconds=40))
    _charging(idle_client, [_running(started, 500)])
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert state_number(hass, TOTAL) == 0.5
    _charging(idle_client, [_running(started, 1500)])
    freezer.tick(timedelta(seconds=30))
    await coordinator.async_refresh()
    await hass.async_block_till_done()
    assert state_number(hass, TOTAL) == 1.5


async def test_a_meter_stored_in_the_future_counts_later_charges(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    idle_client: MagicMock,
    freezer: FrozenDateTimeFactory,
    hass_storage: dict[str, Any],
) -> None:
    """A meter created and reconciled "tomorrow" (a clock ahead) misses no charge."""
    tomorrow = dt_util.utcnow() + timedelta(days=1)
    _put_stored(
        hass_storage,
        mock_config_entry,
        {
            CHARGEBOX_ID: {
                "created": tomorrow.isoformat(),
                "reconciled": dt_util.as_local(tomorrow).date().isoformat(),
                "totals": {"1": 1000},
            }
        },
    )
    await async_setup_entry(hass, mock_config_entry)
    assert state_number(hass, TOTAL) == 1.0
    # A charge began and ended between two polls: only Thor's history has it.
    short = dt_util.utcnow() + timedelta(seconds=5)
    await async_poll(hass, freezer, 40)
    idle_client.finished_charges_between.return_value = [
        _finished(short, short + timedelta(seconds=30), 300, charge_id=6)
    ]
    started = dt_util.utcnow()
    _charging(idle_client, [_running(started, 500)])
    await async_next_idle_poll(hass, freezer)
    assert state_number(hass, TOTAL) == 1.5
    _charging(idle_client, [_running(started, 2000)])
    await async_poll(hass, freezer, 31)
    _charging(idle_client, [])
    idle_client.finished_charges_between.return_value.append(
        _finished(started, dt_util.utcnow(), 2100)
    )
    await async_poll(hass, freezer, 31)
    await async_poll(hass, freezer, 24 * 3600)  # and the daily reconciliation
    assert state_number(hass, TOTAL) == 3.4
    for call in idle_client.finished_charges_between.await_args_list:
        assert call.args[0] <= call.args[1]  # Ranges Thor can answer.
