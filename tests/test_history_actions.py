"""The thor.get_charge_history, thor.reserve_connector and thor.get_reservations
actions, against the simulator (Home Assistant's time zone is US/Pacific in tests).
"""

from datetime import UTC, date, datetime, timedelta
import json
import math
from pathlib import Path
from typing import Any
from unittest.mock import call, patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import DOMAIN as HA_DOMAIN, HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import yaml

from custom_components.thor.const import DOMAIN
from custom_components.thor.thor_api import FinishedCharge, FinishedChargePayment
from custom_components.thor.vol import vol
from thor_simulator import ThorSimulator

from .conftest import (
    account_entry,
    async_next_idle_poll,
    async_setup_entry,
    entity_state,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)  # 05:00 PDT on 10 March
HISTORY = "/latest/integration/charges/finished"
RESERVE_NOW = "POST /charges/reservenow"
RESERVED_2 = "binary_sensor.garage_connector_2_reserved"
SOURCE = Path(__file__).parents[1] / "custom_components" / "thor"


@pytest.fixture(autouse=True)
def frozen(freezer: FrozenDateTimeFactory) -> FrozenDateTimeFactory:
    """Freeze time at NOW (the simulator follows it)."""
    freezer.move_to(NOW)
    return freezer


@pytest.fixture
def garage(simulator: ThorSimulator) -> str:
    """Return the id of the simulator's two-connector chargebox "Garage"."""
    return next(iter(simulator.chargeboxes))


async def _action(
    hass: HomeAssistant, service: str, data: dict[str, Any]
) -> dict[str, Any]:
    """Call an action of the integration and return its response."""
    response = await hass.services.async_call(
        DOMAIN, service, data, blocking=True, return_response=True
    )
    assert response is not None
    return dict(response)


def _device_id(hass: HomeAssistant, entry: MockConfigEntry, chargebox_id: str) -> str:
    device = dr.async_get(hass).async_get_device_by_identifier(
        (DOMAIN, chargebox_id), entry.entry_id
    )
    assert device is not None
    return device.id


def _finished_queries(simulator: ThorSimulator) -> list[str]:
    return sorted(
        target
        for target, count in simulator.request_counts.by_target.items()
        for _ in range(count)
        if target.startswith(HISTORY)
    )


def _reserve_requests(simulator: ThorSimulator) -> int:
    return simulator.request_counts.by_endpoint.get(RESERVE_NOW, 0)


def _charge(
    simulator: ThorSimulator,
    chargebox_id: str,
    ended: datetime,
    *,
    minutes: float = 60,
    connector: int = 1,
    **kwargs: Any,
) -> dict[str, Any]:
    return simulator.add_finished_charge(
        chargebox_id,
        connector,
        started=ended - timedelta(minutes=minutes),
        finished=ended,
        **kwargs,
    )


# ------------------------------------------------------------------- history


async def test_history_of_a_device(
    hass: HomeAssistant, simulator: ThorSimulator, garage: str
) -> None:
    """Charges ending within the local dates, newest first, without id_tags."""
    assert hass.config.time_zone == "US/Pacific"
    entry = await async_setup_entry(
        hass, account_entry((garage, "Garage"), base_url=simulator.base_url)
    )
    device_id = _device_id(hass, entry, garage)
    # 9 March 03:00 PDT.
    newest = _charge(
        simulator,
        garage,
        datetime(2026, 3, 9, 10, tzinfo=UTC),
        minutes=90,
        connector=2,
        energy=12345,
        id_tag="card-secret",
    )
    # 28 February 23:00 PST: 1 March in UTC, not in local time.
    _charge(simulator, garage, datetime(2026, 3, 1, 7, tzinfo=UTC), mode="remote")
    # 1 March 10:00 PST.
    first_march = _charge(
        simulator, garage, datetime(2026, 3, 1, 18, tzinfo=UTC), mode="api"
    )
    simulator.reset_requests()

    response = await _action(
        hass,
        "get_charge_history",
        {"device_id": device_id, "start": "2026-03-01", "end": "2026-03-10"},
    )

    assert response == {
        "charges": [
            {
                "chargebox": garage,
                "chargebox_name": "Garage",
                "connector": 2,
                "transaction": newest["id"],
                "started": "2026-03-09T01:30:00-07:00",
                "ended": "2026-03-09T03:00:00-07:00",
                "energy_kwh": 12.345,
                "duration_minutes": 90.0,
                "cost": None,
                "currency": None,
                "started_by": "local",
            },
            {
                "chargebox": garage,
                "chargebox_name": "Garage",
                "connector": 1,
                "transaction": first_march["id"],
                "started": "2026-03-01T09:00:00-08:00",
                "ended": "2026-03-01T10:00:00-08:00",
                "energy_kwh": 22.0,
                "duration_minutes": 60.0,
                "cost": None,
                "currency": None,
                "started_by": "api",
            },
        ],
        "count": 2,
        "truncated": False,
    }
    assert "card-secret" not in json.dumps(response)
    # One day more on each side, for this chargebox only.
    assert _finished_queries(simulator) == [
        f"{HISTORY}?from=20260228&to=20260311&chargebox={garage}"
    ]

    response = await _action(
        hass,
        "get_charge_history",
        {"device_id": device_id, "start": "2026-02-28", "end": "2026-02-28"},
    )
    assert [c["started_by"] for c in response["charges"]] == ["remote"]


async def test_history_default_range(
    hass: HomeAssistant, simulator: ThorSimulator, garage: str
) -> None:
    """Without dates: the 30 days up to today (local), both included."""
    entry = await async_setup_entry(
        hass, account_entry((garage, "Garage"), base_url=simulator.base_url)
    )
    _charge(simulator, garage, datetime(2026, 2, 8, 12, tzinfo=UTC))  # 8 Feb PST
    _charge(simulator, garage, datetime(2026, 2, 7, 12, tzinfo=UTC))  # 7 Feb PST
    _charge(simulator, garage, NOW - timedelta(minutes=5))  # today
    simulator.reset_requests()

    response = await _action(
        hass, "get_charge_history", {"config_entry_id": entry.entry_id}
    )

    assert [c["ended"][:10] for c in response["charges"]] == [
        "2026-03-10",
        "2026-02-08",
    ]
    # 31 days and the margin: one request.
    assert _finished_queries(simulator) == [f"{HISTORY}?from=20260207&to=20260311"]


async def test_history_of_an_account(
    hass: HomeAssistant, simulator: ThorSimulator, garage: str
) -> None:
    """The entry reads the whole account once and keeps the configured boxes."""
    shed = simulator.add_chargebox(alias="Shed", connectors=1).id
    other = simulator.add_chargebox(alias="Not configured").id
    entry = await async_setup_entry(
        hass,
        account_entry((garage, "Garage"), (shed, "Shed"), base_url=simulator.base_url),
    )
    _charge(simulator, garage, NOW - timedelta(hours=3))
    _charge(simulator, other, NOW - timedelta(hours=2))
    _charge(simulator, shed, NOW - timedelta(hours=1))
    simulator.reset_requests()

    response = await _action(
        hass,
        "get_charge_history",
        {"config_entry_id": entry.entry_id, "start": "2026-03-10"},
    )

    assert [(c["chargebox"], c["chargebox_name"]) for c in response["charges"]] == [
        (shed, "Shed"),
        (garage, "Garage"),
    ]
    assert response["count"] == 2
    assert _finished_queries(simulator) == [f"{HISTORY}?from=20260309&to=20260311"]


async def test_history_cost_of_a_paid_chargebox(
    hass: HomeAssistant, simulator: ThorSimulator, garage: str
) -> None:
    """A paid charge has its cost and its currency (upper case)."""
    box = simulator.chargeboxes[garage]
    box.payment_free = False
    box.price_per_kwh = 0.5
    box.start_fee = 1.0
    entry = await async_setup_entry(
        hass, account_entry((garage, "Garage"), base_url=simulator.base_url)
    )
    _charge(simulator, garage, NOW - timedelta(hours=1), energy=10_000)

    response = await _action(
        hass, "get_charge_history", {"config_entry_id": entry.entry_id}
    )

    (charge,) = response["charges"]
    assert (charge["energy_kwh"], charge["cost"], charge["currency"]) == (
        10.0,
        6.0,
        "EUR",
    )


async def test_history_is_capped(
    hass: HomeAssistant, simulator: ThorSimulator, garage: str
) -> None:
    """At most 500 charges, the newest, and `truncated` says some were left out."""
    entry = await async_setup_entry(
        hass, account_entry((garage, "Garage"), base_url=simulator.base_url)
    )
    ids = [
        _charge(simulator, garage, NOW - timedelta(hours=1 + n), minutes=30)["id"]
        for n in range(501)
    ]

    response = await _action(
        hass, "get_charge_history", {"config_entry_id": entry.entry_id}
    )

    assert (response["count"], response["truncated"]) == (500, True)
    assert [c["transaction"] for c in response["charges"]] == ids[:500]


async def test_history_range_limits(
    hass: HomeAssistant, simulator: ThorSimulator, garage: str
) -> None:
    """Wrong ranges are refused before Thor is asked; 366 days are read in pieces."""
    entry = await async_setup_entry(
        hass, account_entry((garage, "Garage"), base_url=simulator.base_url)
    )
    simulator.reset_requests()
    target = {"config_entry_id": entry.entry_id}
    for dates, key, placeholders in (
        (
            {"start": "2026-03-02", "end": "2026-03-01"},
            "history_range_invalid",
            {"start": "2026-03-02", "end": "2026-03-01"},
        ),
        (
            {"start": "2025-03-01", "end": "2026-03-02"},
            "history_range_too_long",
            {"days": "367", "max_days": "366"},
        ),
        # No charge has ended after today.
        (
            {"start": "2026-03-11"},
            "history_date_out_of_range",
            {"date": "2026-03-11", "first": "2000-01-01", "last": "2026-03-10"},
        ),
    ):
        with pytest.raises(ServiceValidationError) as err:
            await _action(hass, "get_charge_history", {**target, **dates})
        assert err.value.translation_key == key
        assert err.value.translation_placeholders == placeholders
    assert _finished_queries(simulator) == []

    _charge(simulator, garage, datetime(2025, 3, 2, 20, tzinfo=UTC))  # 2 Mar PST
    _charge(simulator, garage, datetime(2025, 3, 1, 20, tzinfo=UTC))  # 1 Mar PST
    response = await _action(
        hass,
        "get_charge_history",
        {**target, "start": "2025-03-02", "end": "2026-03-02"},
    )
    assert response["count"] == 1
    # 368 days with the margin, asked for 33 days at a time.
    assert _finished_queries(simulator) == [
        f"{HISTORY}?from=20250301&to=20250402",
        f"{HISTORY}?from=20250403&to=20250505",
        f"{HISTORY}?from=20250506&to=20250607",
        f"{HISTORY}?from=20250608&to=20250710",
        f"{HISTORY}?from=20250711&to=20250812",
        f"{HISTORY}?from=20250813&to=20250914",
        f"{HISTORY}?from=20250915&to=20251017",
        f"{HISTORY}?from=20251018&to=20251119",
        f"{HISTORY}?from=20251120&to=20251222",
        f"{HISTORY}?from=20251223&to=20260124",
        f"{HISTORY}?from=20260125&to=20260226",
        f"{HISTORY}?from=20260227&to=20260303",
    ]


@pytest.mark.parametrize(
    ("dates", "refused"),
    [
        ({"end": "0001-01-01"}, "0001-01-01"),
        ({"start": "0001-01-01", "end": "0001-01-02"}, "0001-01-01"),
        ({"end": "9999-12-31"}, "9999-12-31"),
        ({"start": "9999-12-30", "end": "9999-12-31"}, "9999-12-30"),
        ({"start": "2026-03-01", "end": "9999-12-30"}, "9999-12-30"),
        ({"start": datetime(1, 1, 1, tzinfo=UTC)}, "0001-01-01"),
        ({"end": datetime(9999, 12, 31, 23, tzinfo=UTC)}, "9999-12-31"),
    ],
)
async def test_history_dates_out_of_range(
    hass: HomeAssistant,
    *,
    simulator: ThorSimulator,
    garage: str,
    dates: dict[str, Any],
    refused: str,
) -> None:
    """Dates no charge can have ended on are refused before Thor is asked."""
    entry = await async_setup_entry(
        hass, account_entry((garage, "Garage"), base_url=simulator.base_url)
    )
    simulator.reset_requests()
    with pytest.raises(ServiceValidationError) as err:
        await _action(
            hass, "get_charge_history", {"config_entry_id": entry.entry_id, **dates}
        )
    assert err.value.translation_key == "history_date_out_of_range"
    placeholders = err.value.translation_placeholders or {}
    assert placeholders["date"] == refused
    assert (placeholders["first"], placeholders["last"]) == ("2000-01-01", "2026-03-10")
    assert _finished_queries(simulator) == []


@pytest.mark.parametrize(
    ("dates", "queries"),
    [
        # 19:00 PDT on 9 March, 02:00 UTC on 10 March: the local day counts.
        (
            {"start": datetime(2026, 3, 10, 2, tzinfo=UTC)},
            ["from=20260308&to=20260311"],
        ),
        (
            {
                "start": datetime(2026, 3, 1, 12, tzinfo=UTC),
                "end": datetime(2026, 3, 10, 2, tzinfo=UTC),
            },
            ["from=20260228&to=20260310"],
        ),
        # A naive datetime is a wall time in Home Assistant's time zone.
        (
            {
                "start": datetime(2026, 3, 9, 0, 5),  # noqa: DTZ001
                "end": datetime(2026, 3, 9, 23, 30),  # noqa: DTZ001
            },
            ["from=20260308&to=20260310"],
        ),
        (
            {"end": datetime(2026, 3, 9, 23, 30)},  # noqa: DTZ001
            ["from=20260206&to=20260310"],
        ),
    ],
)
async def test_history_dates_from_a_python_caller(
    hass: HomeAssistant,
    *,
    simulator: ThorSimulator,
    garage: str,
    dates: dict[str, Any],
    queries: list[str],
) -> None:
    """A datetime given for a date stands for its date in Home Assistant's zone."""
    entry = await async_setup_entry(
        hass, account_entry((garage, "Garage"), base_url=simulator.base_url)
    )
    # 20:00 PDT on 9 March, 03:00 UTC on 10 March.
    _charge(simulator, garage, datetime(2026, 3, 10, 3, tzinfo=UTC))
    simulator.reset_requests()
    response = await _action(
        hass, "get_charge_history", {"config_entry_id": entry.entry_id, **dates}
    )
    assert [c["ended"] for c in response["charges"]] == ["2026-03-09T20:00:00-07:00"]
    assert _finished_queries(simulator) == [f"{HISTORY}?{query}" for query in queries]


@pytest.mark.parametrize("code", ["RangeTooLarge", "BadRequest"])
async def test_history_range_refused_by_thor(
    hass: HomeAssistant, simulator: ThorSimulator, garage: str, code: str
) -> None:
    """A 400 on the history read is about the range."""
    entry = await async_setup_entry(
        hass, account_entry((garage, "Garage"), base_url=simulator.base_url)
    )
    simulator.faults.set(status=400, code=code, path="/charges/finished")
    with pytest.raises(ServiceValidationError) as err:
        await _action(hass, "get_charge_history", {"config_entry_id": entry.entry_id})
    assert err.value.translation_key == "history_range_refused"
    placeholders = err.value.translation_placeholders or {}
    assert (placeholders["start"], placeholders["end"]) == ("2026-02-07", "2026-03-11")


@pytest.mark.parametrize(
    ("status", "key"),
    [
        (503, "server_error"),
        (403, "authentication_failed"),
        (404, "chargebox_not_found"),
    ],
)
async def test_history_other_failures(
    hass: HomeAssistant, simulator: ThorSimulator, garage: str, status: int, key: str
) -> None:
    """Other failures get the integration's usual messages."""
    entry = await async_setup_entry(
        hass, account_entry((garage, "Garage"), base_url=simulator.base_url)
    )
    device_id = _device_id(hass, entry, garage)
    code = {403: "APIKeyNotFound", 404: "ChargeboxNotFound"}.get(status)
    simulator.faults.set(status=status, code=code, path="/charges/finished")
    with pytest.raises(HomeAssistantError) as err:
        await _action(hass, "get_charge_history", {"device_id": device_id})
    assert not isinstance(err.value, ServiceValidationError)
    assert err.value.translation_key == key
    assert (err.value.translation_placeholders or {})["chargebox"] == "Garage"
    reauth = [
        flow
        for flow in hass.config_entries.flow.async_progress()
        if flow["context"].get("source") == "reauth"
    ]
    assert bool(reauth) == (key == "authentication_failed")


async def test_history_deduplicates_by_transaction(
    hass: HomeAssistant, simulator: ThorSimulator, garage: str
) -> None:
    """The same transaction read twice is one charge; odd items are kept or dropped."""
    entry = await async_setup_entry(
        hass, account_entry((garage, "Garage"), base_url=simulator.base_url)
    )
    ended = NOW - timedelta(hours=1)

    def charge(**changes: Any) -> FinishedCharge:
        fields: dict[str, Any] = {
            "id": 7,
            "chargebox": garage,
            "connector": 1,
            "date_started": ended - timedelta(minutes=10),
            "date_finished": ended,
            "energy": 1000.0,
            "id_tag": None,
            "user": None,
            "type": "local",
            "payment": FinishedChargePayment(
                currency=None,
                start=None,
                method=None,
                price=1.5,
                success=True,
                transaction=None,
            ),
        }
        return FinishedCharge(**{**fields, **changes})

    answer = [
        charge(),
        charge(),
        # Without a transaction number, without an end: kept once, by its start.
        charge(id=None, date_finished=None, energy=None),
        charge(id=None, date_finished=None, energy=None),
        # Without any time: left out.
        charge(id=8, date_started=None, date_finished=None),
        # Before year 1 in Home Assistant's time zone: left out.
        charge(id=9, date_started=None, date_finished=datetime(1, 1, 1, tzinfo=UTC)),
    ]
    with patch.object(
        entry.runtime_data.client, "finished_charges", return_value=answer
    ) as finished:
        response = await _action(
            hass,
            "get_charge_history",
            {"config_entry_id": entry.entry_id, "start": "2026-02-01"},
        )
    # Both pieces of the range answer the same: each charge is listed once.
    assert finished.await_args_list == [
        call(date(2026, 1, 31), date(2026, 3, 4), None),
        call(date(2026, 3, 5), date(2026, 3, 11), None),
    ]
    assert [
        (c["transaction"], c["ended"], c["energy_kwh"], c["duration_minutes"])
        for c in response["charges"]
    ] == [(7, "2026-03-10T04:00:00-07:00", 1.0, 10.0), (None, None, None, None)]
    assert [(c["cost"], c["currency"]) for c in response["charges"]] == [
        (1.5, None),
        (1.5, None),
    ]


# -------------------------------------------------------------- reservations


async def test_reserve_for_a_duration(
    hass: HomeAssistant, simulator: ThorSimulator, garage: str
) -> None:
    """The reservation is returned and the reserved sensor turns on at once."""
    entry = await async_setup_entry(
        hass, account_entry((garage, "Garage"), base_url=simulator.base_url)
    )
    assert entity_state(hass, RESERVED_2) == "off"

    response = await _action(
        hass,
        "reserve_connector",
        {
            "device_id": _device_id(hass, entry, garage),
            "connector": 2,
            "duration": {"minutes": 30},
        },
    )

    (reservation,) = simulator.reservations()
    assert response == {
        "chargebox": garage,
        "chargebox_name": "Garage",
        "connector": 2,
        "expiry": "2026-03-10T05:30:00-07:00",
        "accepted": "2026-03-10T05:00:00-07:00",
        "status": 1,
        "user": None,
        "id_tag": reservation["id_tag"],
    }
    assert reservation["expiry_date"] == int(
        (NOW + timedelta(minutes=30)).timestamp() * 1000
    )
    assert entity_state(hass, RESERVED_2) == "on"


async def test_reserve_until_an_expiry(
    hass: HomeAssistant, simulator: ThorSimulator, garage: str
) -> None:
    """A local wall time (the datetime selector) or an aware one; the entry's box."""
    entry = await async_setup_entry(
        hass, account_entry((garage, "Garage"), base_url=simulator.base_url)
    )
    response = await _action(
        hass,
        "reserve_connector",
        {"config_entry_id": entry.entry_id, "expiry": "2026-03-10 08:00:00"},
    )
    assert (response["connector"], response["expiry"]) == (
        1,
        "2026-03-10T08:00:00-07:00",
    )
    response = await _action(
        hass,
        "reserve_connector",
        {
            "config_entry_id": entry.entry_id,
            "connector": "2",
            "expiry": "2026-03-10T13:00:00+00:00",
        },
    )
    assert response["expiry"] == "2026-03-10T06:00:00-07:00"
    assert sorted(r["connector"] for r in simulator.reservations()) == [1, 2]


async def test_reserve_with_an_empty_answer(
    hass: HomeAssistant, simulator: ThorSimulator, garage: str
) -> None:
    """When Thor answers nothing usable, the response says what was asked."""
    entry = await async_setup_entry(
        hass, account_entry((garage, "Garage"), base_url=simulator.base_url)
    )
    with patch.object(
        entry.runtime_data.client, "reserve_now", return_value=None
    ) as reserve:
        response = await _action(
            hass,
            "reserve_connector",
            {"config_entry_id": entry.entry_id, "duration": "00:10:00"},
        )
    reserve.assert_awaited_once_with(garage, 1, NOW + timedelta(minutes=10))
    assert response == {
        "reserved": True,
        "chargebox": garage,
        "chargebox_name": "Garage",
        "connector": 1,
        "expiry": "2026-03-10T05:10:00-07:00",
    }


@pytest.mark.parametrize(
    ("data", "key", "placeholders"),
    [
        ({}, "reservation_time_required", {}),
        (
            {"duration": {"minutes": 5}, "expiry": "2026-03-10 08:00:00"},
            "reservation_time_required",
            {},
        ),
        (
            {"expiry": "2026-03-10 04:59:00"},
            "reservation_expiry_past",
            {"expiry": "2026-03-10T04:59:00-07:00"},
        ),
        (
            {"expiry": "2026-03-11 05:01:00"},
            "reservation_too_long",
            {"expiry": "2026-03-11T05:01:00-07:00", "max_hours": "24"},
        ),
        # Expiries far off, in Home Assistant's time zone or in another one.
        (
            {"expiry": "0001-01-01 00:00:00"},
            "reservation_expiry_past",
            {"expiry": "0001-01-01T00:00:00-07:52:58"},
        ),
        (
            {"expiry": "0001-01-01T00:00:00+05:00"},
            "reservation_expiry_past",
            {"expiry": "0001-01-01T00:00:00+05:00"},
        ),
        (
            {"expiry": "9999-12-31 23:59:59"},
            "reservation_too_long",
            {"expiry": "9999-12-31T23:59:59-08:00", "max_hours": "24"},
        ),
        (
            {"expiry": "9999-12-31T23:00:00-05:00"},
            "reservation_too_long",
            {"expiry": "9999-12-31T23:00:00-05:00", "max_hours": "24"},
        ),
        (
            {"duration": {"minutes": 0}},
            "reservation_duration_invalid",
            {"duration": "0:00:00", "max_hours": "24"},
        ),
        (
            {"duration": "-00:05:00"},
            "reservation_duration_invalid",
            {"duration": "-0:05:00", "max_hours": "24"},
        ),
        (
            {"duration": {"hours": 24, "minutes": 1}},
            "reservation_duration_invalid",
            {"duration": "24:01:00", "max_hours": "24"},
        ),
        (
            {"duration": "99999999:00:00"},
            "reservation_duration_invalid",
            {"duration": "99999999:00:00", "max_hours": "24"},
        ),
        (
            {"duration": "-99999999999:00"},
            "reservation_duration_invalid",
            {"duration": "-99999999999:00", "max_hours": "24"},
        ),
        ({"duration": math.inf}, "reservation_duration_invalid", {"duration": "inf"}),
        ({"duration": "inf"}, "reservation_duration_invalid", {"duration": "inf"}),
        ({"duration": 1e30}, "reservation_duration_invalid", {"duration": "1e+30"}),
        (
            {"duration": {"days": 1e9}},
            "reservation_duration_invalid",
            {"max_hours": "24"},
        ),
        ({"duration": math.nan}, "reservation_duration_invalid", {"duration": "nan"}),
        ({"duration": True}, "reservation_duration_invalid", {"duration": "True"}),
        ({"duration": "soon"}, "reservation_duration_invalid", {"duration": "soon"}),
        ({"duration": [30]}, "reservation_duration_invalid", {"duration": "[30]"}),
        (
            {"duration": {"minutes": 5}, "connector": "one"},
            "invalid_connector_value",
            {"value": "one"},
        ),
        (
            {"duration": {"minutes": 5}, "connector": 3},
            "invalid_connector",
            {"chargebox": "Garage", "connector": "3", "count": "2"},
        ),
    ],
)
async def test_reserve_input_refused(
    hass: HomeAssistant,
    *,
    simulator: ThorSimulator,
    garage: str,
    data: dict[str, Any],
    key: str,
    placeholders: dict[str, str],
) -> None:
    """Wrong input is refused with a translated message, before Thor is asked."""
    entry = await async_setup_entry(
        hass, account_entry((garage, "Garage"), base_url=simulator.base_url)
    )
    with pytest.raises(ServiceValidationError) as err:
        await _action(
            hass, "reserve_connector", {"config_entry_id": entry.entry_id, **data}
        )
    assert err.value.translation_key == key
    got = err.value.translation_placeholders or {}
    assert {name: got[name] for name in placeholders} == placeholders
    assert _reserve_requests(simulator) == 0


async def test_reserve_refused_from_the_last_reading(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    garage: str,
    freezer: FrozenDateTimeFactory,
) -> None:
    """What the last reading shows is refused without asking Thor."""
    entry = await async_setup_entry(
        hass, account_entry((garage, "Garage"), base_url=simulator.base_url)
    )
    box = simulator.chargeboxes[garage]
    data = {"config_entry_id": entry.entry_id, "duration": {"minutes": 5}}

    async def refused(key: str, connector: int = 1) -> None:
        await async_next_idle_poll(hass, freezer)
        with pytest.raises(ServiceValidationError) as err:
            await _action(hass, "reserve_connector", {**data, "connector": connector})
        assert err.value.translation_key == key
        assert (err.value.translation_placeholders or {})["connector"] == str(connector)

    simulator.start_rfid_charge(garage, 1, "card")
    await refused("connector_occupied")
    simulator.reserve(garage, 2, minutes=60)
    await refused("connector_already_reserved", 2)
    box.reservable = False
    await refused("chargebox_not_reservable")
    assert _reserve_requests(simulator) == 0

    box.reservable = True
    simulator.end_charge(garage, 1)
    box.connected = False
    await async_next_idle_poll(hass, freezer)
    with pytest.raises(HomeAssistantError) as err:
        await _action(hass, "reserve_connector", data)
    assert err.value.translation_key == "chargebox_offline"
    assert _reserve_requests(simulator) == 0


async def test_reserve_refused_by_thor(
    hass: HomeAssistant, simulator: ThorSimulator, garage: str
) -> None:
    """Thor's refusals (the last reading was stale) are translated too."""
    entry = await async_setup_entry(
        hass, account_entry((garage, "Garage"), base_url=simulator.base_url)
    )
    box = simulator.chargeboxes[garage]
    data = {"config_entry_id": entry.entry_id, "duration": {"minutes": 5}}

    coordinator = entry.runtime_data.coordinator
    # Each refusal makes Home Assistant read again, so the next one would be
    # refused without asking Thor: read back the state each step starts from.
    box.reservable = False
    with pytest.raises(ServiceValidationError) as err:
        await _action(hass, "reserve_connector", data)
    assert err.value.translation_key == "chargebox_not_reservable"
    assert coordinator.data.chargeboxes[garage].chargebox.reservable is False
    box.reservable = True
    await coordinator.async_refresh()

    simulator.start_rfid_charge(garage, 1, "card")
    with pytest.raises(ServiceValidationError) as err:
        await _action(hass, "reserve_connector", data)
    assert err.value.translation_key == "connector_occupied"
    simulator.end_charge(garage, 1)
    await coordinator.async_refresh()

    simulator.reserve(garage, 2, minutes=60)
    with pytest.raises(ServiceValidationError) as err:
        await _action(hass, "reserve_connector", {**data, "connector": 2})
    assert err.value.translation_key == "connector_already_reserved"
    assert _reserve_requests(simulator) == 3

    simulator.faults.set(status=503, path="/charges/reservenow")
    with pytest.raises(HomeAssistantError) as err:
        await _action(hass, "reserve_connector", data)
    assert not isinstance(err.value, ServiceValidationError)
    assert err.value.translation_key == "server_error"
    assert (err.value.translation_placeholders or {})["chargebox"] == "Garage"


async def test_reserve_needs_one_chargebox(
    hass: HomeAssistant, simulator: ThorSimulator, garage: str
) -> None:
    """An account entry with several chargeboxes does not say which to reserve."""
    shed = simulator.add_chargebox(alias="Shed", connectors=1).id
    entry = await async_setup_entry(
        hass,
        account_entry((garage, "Garage"), (shed, "Shed"), base_url=simulator.base_url),
    )
    with pytest.raises(ServiceValidationError) as err:
        await _action(
            hass,
            "reserve_connector",
            {"config_entry_id": entry.entry_id, "duration": {"minutes": 5}},
        )
    assert err.value.translation_key == "service_entry_ambiguous"
    assert _reserve_requests(simulator) == 0


async def test_reserve_a_chargebox_thor_no_longer_lists(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    garage: str,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Without a reading of the chargebox nothing is sent."""
    entry = await async_setup_entry(
        hass, account_entry((garage, "Garage"), base_url=simulator.base_url)
    )
    del simulator.chargeboxes[garage]
    await async_next_idle_poll(hass, freezer)
    with pytest.raises(HomeAssistantError) as err:
        await _action(
            hass,
            "reserve_connector",
            {"config_entry_id": entry.entry_id, "duration": {"minutes": 5}},
        )
    assert err.value.translation_key == "chargebox_unavailable"
    assert _reserve_requests(simulator) == 0


async def test_get_reservations(
    hass: HomeAssistant, simulator: ThorSimulator, garage: str
) -> None:
    """The reservations of a device, or of the configured boxes of the account."""
    shed = simulator.add_chargebox(alias="Shed", connectors=1).id
    other = simulator.add_chargebox(alias="Not configured").id
    entry = await async_setup_entry(
        hass,
        account_entry((garage, "Garage"), (shed, "Shed"), base_url=simulator.base_url),
    )
    simulator.reserve(garage, 2, minutes=60)
    simulator.reserve(shed, 1, minutes=30)
    simulator.reserve(other, 1, minutes=10)
    tags = {
        (r["chargebox"], r["connector"]): r["id_tag"] for r in simulator.reservations()
    }

    response = await _action(
        hass, "get_reservations", {"config_entry_id": entry.entry_id}
    )

    assert response == {
        "reservations": [
            {
                "chargebox": shed,
                "chargebox_name": "Shed",
                "connector": 1,
                "expiry": "2026-03-10T05:30:00-07:00",
                "accepted": "2026-03-10T05:00:00-07:00",
                "status": 1,
                "user": "simulator-user",
                "id_tag": tags[shed, 1],
            },
            {
                "chargebox": garage,
                "chargebox_name": "Garage",
                "connector": 2,
                "expiry": "2026-03-10T06:00:00-07:00",
                "accepted": "2026-03-10T05:00:00-07:00",
                "status": 1,
                "user": "simulator-user",
                "id_tag": tags[garage, 2],
            },
        ]
    }
    simulator.reset_requests()
    response = await _action(
        hass, "get_reservations", {"device_id": _device_id(hass, entry, garage)}
    )
    assert [r["chargebox"] for r in response["reservations"]] == [garage]
    assert simulator.request_counts.by_endpoint == {"GET /reservations?chargebox": 1}

    simulator.faults.set(status=503, path="/reservations")
    with pytest.raises(HomeAssistantError) as err:
        await _action(hass, "get_reservations", {"config_entry_id": entry.entry_id})
    assert err.value.translation_key == "server_error"
    assert (err.value.translation_placeholders or {})["chargebox"] == "Garage, Shed"


@pytest.mark.parametrize(
    "service", ["get_charge_history", "reserve_connector", "get_reservations"]
)
async def test_target_errors(
    hass: HomeAssistant, simulator: ThorSimulator, garage: str, service: str
) -> None:
    """Every action names its target as start and stop do."""
    entry = await async_setup_entry(
        hass, account_entry((garage, "Garage"), base_url=simulator.base_url)
    )
    extra = {"duration": {"minutes": 5}} if service == "reserve_connector" else {}
    for data, domain, key in (
        ({}, DOMAIN, "service_target_required"),
        ({"device_id": "missing"}, DOMAIN, "service_device_not_found"),
        ({"config_entry_id": "missing"}, HA_DOMAIN, "service_config_entry_not_found"),
    ):
        with pytest.raises(ServiceValidationError) as err:
            await _action(hass, service, {**data, **extra})
        assert (err.value.translation_domain, err.value.translation_key) == (
            domain,
            key,
        )
    # A chargebox removed from the loaded entry (its device not yet).
    device_id = _device_id(hass, entry, garage)
    controllers = entry.runtime_data.by_chargebox
    removed = dict(controllers)
    controllers.clear()
    with pytest.raises(ServiceValidationError) as err:
        await _action(hass, service, {"device_id": device_id, **extra})
    assert err.value.translation_key == "service_device_not_found"
    controllers.update(removed)
    assert await hass.config_entries.async_unload(entry.entry_id)
    with pytest.raises(ServiceValidationError) as err:
        await _action(hass, service, {"config_entry_id": entry.entry_id, **extra})
    assert (err.value.translation_domain, err.value.translation_key) == (
        HA_DOMAIN,
        "service_config_entry_not_loaded",
    )
    with pytest.raises(ServiceValidationError) as err:
        await _action(hass, service, {"device_id": device_id, **extra})
    assert (err.value.translation_domain, err.value.translation_key) == (
        DOMAIN,
        "service_entry_not_loaded",
    )


@pytest.mark.parametrize(
    ("service", "data"),
    [
        ("get_charge_history", {"start": 20260301}),
        ("get_charge_history", {"start": "last week"}),
        ("get_charge_history", {"end": math.nan}),
        ("get_charge_history", {"end": ["2026-03-01"]}),
        ("get_charge_history", {"days": 7}),
        ("reserve_connector", {"expiry": "soon"}),
        ("reserve_connector", {"expiry": math.inf}),
        ("reserve_connector", {"expiry": 10**30}),
        ("reserve_connector", {"expiry": ["2026-03-10 08:00:00"]}),
        ("get_reservations", {"config_entry_id": ["x"]}),
        ("get_reservations", {"device_id": {"id": "x"}}),
        pytest.param(
            "start_charge", {"config_entry_id": 10**5000}, id="start_charge-10**5000"
        ),
    ],
)
async def test_wrong_types_are_refused_by_the_schema(
    hass: HomeAssistant,
    simulator: ThorSimulator,
    garage: str,
    service: str,
    data: dict[str, Any],
) -> None:
    """What no field can hold is refused by Home Assistant's schema check."""
    await async_setup_entry(
        hass, account_entry((garage, "Garage"), base_url=simulator.base_url)
    )
    simulator.reset_requests()
    with pytest.raises(vol.Invalid):
        await _action(hass, service, data)
    assert simulator.request_counts.total == 0


def test_every_action_field_is_translated() -> None:
    """services.yaml, the translations and the icons name the same actions and fields."""
    services = yaml.safe_load((SOURCE / "services.yaml").read_text(encoding="utf-8"))
    icons = json.loads((SOURCE / "icons.json").read_text(encoding="utf-8"))
    assert set(icons["services"]) == set(services)
    for language in ("en", "it"):
        translated = json.loads(
            (SOURCE / "translations" / f"{language}.json").read_text(encoding="utf-8")
        )["services"]
        assert set(translated) == set(services)
        for name, service in services.items():
            assert set(translated[name]["fields"]) == set(service["fields"]), name
