"""The stored energy ledger: its stored form, read back whatever is stored."""

from datetime import UTC, date, datetime, timedelta
import json
from typing import Any

import pytest

from custom_components.thor.ledger import (
    KEEP_DAYS,
    ChargeboxMeter,
    LastSession,
    TrackedCharge,
    charge_key,
    load_meters,
    stored_meters,
)
from custom_components.thor.thor_api import FinishedCharge, FinishedChargePayment

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
BOX = "EaJ7cU9NJ3YkTNgy"


def _finished(**changes: Any) -> FinishedCharge:
    fields: dict[str, Any] = {
        "id": 7,
        "chargebox": BOX,
        "connector": 1,
        "date_started": NOW - timedelta(hours=1),
        "date_finished": NOW,
        "energy": 5000.0,
        "id_tag": None,
        "user": None,
        "type": "api",
        "payment": FinishedChargePayment(
            currency="eur",
            start=None,
            method=None,
            price=1.25,
            success=True,
            transaction=None,
        ),
    }
    return FinishedCharge(**{**fields, **changes})


def _meter() -> ChargeboxMeter:
    return ChargeboxMeter(created=NOW - timedelta(days=1), reconciled=NOW.date())


def test_a_meter_is_stored_and_read_back_unchanged() -> None:
    """What is stored (as JSON) reads back as the same meter."""
    meter = _meter()
    assert meter.settle(_finished(), NOW) is not None
    meter.charges["c2@1"] = TrackedCharge(
        connector=2, transaction=None, started=NOW, counted=120.5
    )
    stored = json.loads(json.dumps(stored_meters({BOX: meter})))
    meters, damaged = load_meters(stored, {BOX: "Garage"}, NOW)
    assert damaged == []
    assert meters[BOX] == meter
    assert meters[BOX].last[1] == LastSession(
        transaction=7,
        started=NOW - timedelta(hours=1),
        ended=NOW,
        energy=5000.0,
        cost=1.25,
        currency="EUR",
        started_by="api",
    )
    assert meters[BOX].total == 5000.0


@pytest.mark.parametrize(
    "stored",
    [
        None,
        [],
        "text",
        {"chargeboxes": None},
        {"chargeboxes": {BOX: None}},
        {"chargeboxes": {BOX: {"created": NOW.isoformat(), "reconciled": 5}}},
        {"chargeboxes": {BOX: {"created": "2026-03-10T12:00", "reconciled": "x"}}},
        {
            "chargeboxes": {
                BOX: {
                    "created": NOW.isoformat(),
                    "reconciled": "2026-03-10",
                    "totals": [1, 2],
                    "charges": {"t1": {"connector": "one"}, "t2": {"connector": 0}},
                    "last": {"1": {"energy": -5, "cost": True, "transaction": True}},
                }
            }
        },
    ],
)
def test_damaged_storage_never_raises(stored: Any) -> None:
    """Anything stored gives a usable meter: damaged parts are left out."""
    meters, _ = load_meters(stored, {BOX: "Garage"}, NOW)
    meter = meters[BOX]
    assert meter.total == 0
    assert meter.charges == {}
    assert all(session.energy == 0 for session in meter.last.values())
    assert all(session.transaction is None for session in meter.last.values())
    json.dumps(stored_meters(meters))


def test_a_new_meter_starts_now() -> None:
    """A chargebox with nothing stored starts at 0, reconciled today."""
    meters, damaged = load_meters({}, {BOX: "Garage"}, NOW)
    assert damaged == []
    assert meters[BOX].created == NOW
    assert meters[BOX].reconciled == date(2026, 3, 10)


def test_a_charge_without_transaction_or_start_is_not_counted() -> None:
    """Nothing tells such a record from another: it is left out."""
    meter = _meter()
    assert charge_key(_finished(id=None, date_started=None)) is None
    assert meter.settle(_finished(id=None, date_started=None), NOW) is None
    assert meter.total == 0


def test_an_older_charge_without_transaction_leaves_the_last_session() -> None:
    """Two charges without transaction are told apart by their start."""
    meter = _meter()
    newer = _finished(id=None, date_started=NOW - timedelta(minutes=30))
    older = _finished(
        id=None,
        date_started=NOW - timedelta(hours=3),
        date_finished=NOW - timedelta(hours=2),
        energy=900.0,
    )
    assert meter.settle(newer, NOW) is not None
    assert meter.settle(older, NOW) is not None
    assert meter.last[1].started == newer.date_started
    assert meter.total == 5900.0


def test_a_ledger_grown_by_charges_thor_never_listed_shrinks_when_read() -> None:
    """A year of charges an earlier release kept: the old ones go, the recent stay."""
    meter = _meter()
    for day in range(365):
        ended = NOW - timedelta(days=day)
        meter.charges[f"t{day}"] = TrackedCharge(
            connector=1, transaction=day, started=ended, counted=100, ended=ended
        )
    meters, _ = load_meters(stored_meters({BOX: meter}), {BOX: "Garage"}, NOW)
    assert sorted(meters[BOX].charges) == [f"t{day}" for day in range(KEEP_DAYS + 1)]


def test_a_record_dated_in_the_future_is_forgotten_in_time() -> None:
    """Thor's clock far ahead does not keep a charge in the ledger for years."""
    meter = _meter()
    assert meter.settle(_finished(date_finished=NOW + timedelta(days=3650)), NOW)
    meter.reconciled = NOW.date() + timedelta(days=KEEP_DAYS + 1)
    meter.prune()
    assert meter.charges == {}
    assert meter.total == 5000.0


def test_a_meter_dated_in_the_future_is_brought_back_to_now() -> None:
    """What a clock ahead stored is read as now: created, reconciled, ends."""
    later = NOW + timedelta(days=2)
    meter = ChargeboxMeter(created=later, reconciled=later.date())
    meter.charges["t1"] = TrackedCharge(
        connector=1, transaction=1, started=NOW, ended=later
    )
    meters, _ = load_meters(stored_meters({BOX: meter}), {BOX: "Garage"}, NOW)
    assert meters[BOX].created == NOW
    assert meters[BOX].reconciled <= NOW.date()
    assert meters[BOX].charges["t1"].ended == NOW
