"""Paid chargeboxes, the charge history, reservations made through the API."""

from datetime import UTC, datetime

import pytest

from thor_simulator import SimulatedChargebox, SimulatorError, ThorSimulator

from .conftest import T0, Api

BOX = "/chargeboxes/{id}"
T0_MS = int(T0 * 1000)
HOUR_MS = 3_600_000

# ------------------------------------------------------------------ payments


async def test_free_box_charges_have_no_payment(
    api: Api, box: SimulatedChargebox
) -> None:
    api.sim.start_rfid_charge(box.id, 1, "card")
    api.sim.advance(3600)
    assert (await api.call("GET", "/charges/running"))[1]["items"][0]["payment"] is None
    api.sim.end_charge(box.id, 1)
    body = (
        await api.call(
            "GET", "/charges/finished", params={"from": "20260101", "to": "20260101"}
        )
    )[1]
    assert body["items"][0]["payment"] is None


async def test_paid_box_running_and_finished_payment(
    api: Api, box: SimulatedChargebox
) -> None:
    status, data = await api.admin(
        "PATCH",
        BOX.format(id=box.id),
        json={
            "payment_free": False,
            "price_per_kwh": 0.5,
            "start_fee": 1,
            "currency": "usd",
            "payment_method": "nayax",
        },
    )
    assert status == 200
    assert (
        data["price_per_kwh"],
        data["start_fee"],
        data["currency"],
        data["payment_method"],
    ) == (0.5, 1, "usd", "nayax")
    # The API refuses starts on a paid box; RFID and app charges are paid.
    assert (
        await api.call(
            "POST", "/charges/start", json={"chargebox": box.id, "connector": 1}
        )
    )[:2] == (402, {"message": "ChargeboxNotFree"})
    status, data = await api.admin(
        "POST",
        BOX.format(id=box.id) + "/rfid_start",
        json={"connector": 1, "id_tag": "c"},
    )
    assert status == 200
    api.sim.advance(1800)  # 11 kWh at 22 kW
    (item,) = (await api.call("GET", "/charges/running"))[1]["items"]
    payment = item["payment"]
    assert item["energy"] == 11000
    assert payment == {
        "start": 1.0,
        "method": "nayax",
        "amount": 6.5,
        "transaction": payment["transaction"],
    }
    assert payment["transaction"].startswith("pi_")
    api.sim.end_charge(box.id, 1)
    (item,) = (
        await api.call(
            "GET", "/charges/finished", params={"from": "20260101", "to": "20260101"}
        )
    )[1]["items"]
    assert item["payment"] == {
        "currency": "usd",
        "start": 1.0,
        "method": "nayax",
        "price": 6.5,
        "success": True,
        "transaction": payment["transaction"],
        "nayaxID": None,
    }


async def test_paid_box_added_through_the_admin_api(api: Api) -> None:
    status, data = await api.admin(
        "POST",
        "/chargeboxes",
        json={"alias": "Paid", "payment_free": False, "price_per_kwh": 0.4},
    )
    assert status == 201
    assert (data["payment_free"], data["price_per_kwh"], data["currency"]) == (
        False,
        0.4,
        "eur",
    )
    state = (await api.admin("GET", "/state"))[1]
    assert state["chargeboxes"][1]["payment_method"] == "stripe"
    assert state["chargeboxes"][1]["start_fee"] == 0.0


@pytest.mark.parametrize(
    "body",
    [{"price_per_kwh": "0.3"}, {"start_fee": True}, {"currency": 1}],
)
async def test_bad_payment_settings(
    api: Api, box: SimulatedChargebox, body: dict[str, object]
) -> None:
    assert (await api.admin("PATCH", BOX.format(id=box.id), json=body))[0] == 400
    assert box.price_per_kwh == 0.35


async def test_fixed_energy_rate(api: Api, box: SimulatedChargebox) -> None:
    status, _ = await api.admin(
        "POST",
        BOX.format(id=box.id) + "/rfid_start",
        json={"connector": 1, "id_tag": "c", "power": 7000},
    )
    assert status == 200
    status, _ = await api.admin(
        "POST", BOX.format(id=box.id) + "/app_start", json={"connector": 2, "power": 0}
    )
    assert status == 200
    api.sim.advance(3600)
    items = (await api.call("GET", "/charges/running"))[1]["items"]
    assert [i["energy"] for i in items] == [7000, 0]
    status, _ = await api.admin(
        "POST",
        BOX.format(id=box.id) + "/rfid_start",
        json={"connector": 1, "id_tag": "c", "power": -1},
    )
    assert status == 400


# ------------------------------------------------------------------- history


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"from": "20260102", "to": "20260101"}, "BadRequest"),
        ({"from": "20250101", "to": "20260102"}, "RangeTooLarge"),
        ({"from": "20260101"}, "BadRequest"),
    ],
)
async def test_finished_range_errors(
    api: Api, params: dict[str, str], code: str
) -> None:
    assert (await api.call("GET", "/charges/finished", params=params))[:2] == (
        400,
        {"message": code},
    )


async def test_finished_range_of_366_days(api: Api) -> None:
    status, body, _ = await api.call(
        "GET", "/charges/finished", params={"from": "20250101", "to": "20260101"}
    )
    assert (status, body) == (200, {"count": 0, "items": []})


async def test_add_finished_charge_through_the_admin_api(
    api: Api, box: SimulatedChargebox
) -> None:
    url = BOX.format(id=box.id) + "/finished_charge"
    status, item = await api.admin(
        "POST",
        url,
        json={
            "connector": 2,
            "started": T0_MS - 2 * HOUR_MS,
            "finished": T0_MS - HOUR_MS,
            "mode": "remote",
        },
    )
    assert status == 201
    assert item == {
        "chargebox": box.id,
        "connector": 2,
        "date_started": T0_MS - 2 * HOUR_MS,
        "date_finished": T0_MS - HOUR_MS,
        "energy": 22000,
        "id": 1001,
        "id_tag": None,
        "payment": None,
        "type": "remote",
        "user": None,
    }
    # An earlier one, with its own energy and card; the history stays ordered by end.
    status, item = await api.admin(
        "POST",
        url,
        json={
            "connector": 1,
            "started": T0_MS - 30 * HOUR_MS,
            "finished": T0_MS - 29 * HOUR_MS,
            "energy": 1234,
            "id_tag": "card",
        },
    )
    assert status == 201
    assert (item["id"], item["energy"], item["id_tag"], item["type"]) == (
        1002,
        1234,
        "card",
        "local",
    )
    body = (
        await api.call(
            "GET", "/charges/finished", params={"from": "20251230", "to": "20251231"}
        )
    )[1]
    assert [i["id"] for i in body["items"]] == [1002, 1001]
    body = (
        await api.call(
            "GET", "/charges/finished", params={"from": "20251231", "to": "20251231"}
        )
    )[1]
    assert [i["id"] for i in body["items"]] == [1001]
    state = (await api.admin("GET", "/state"))[1]
    assert [c["id"] for c in state["finished"]] == [1002, 1001]


@pytest.mark.parametrize(
    "body",
    [
        {"connector": 1, "started": T0_MS - 10, "finished": T0_MS - 20},
        {"connector": 1, "started": T0_MS - 10, "finished": T0_MS + 1000},
        {"connector": 3, "started": T0_MS - 20, "finished": T0_MS - 10},
        {"connector": 1, "started": "x", "finished": T0_MS - 10},
        {"connector": 1, "started": T0_MS - 20, "finished": T0_MS - 10, "mode": "x"},
        {"connector": 1, "started": T0_MS - 20, "finished": T0_MS, "energy": 1.5},
        {"connector": 1, "started": T0_MS - 20, "finished": T0_MS, "id_tag": ""},
        {"connector": 1, "started": T0_MS - 20, "finished": T0_MS, "what": 1},
    ],
)
async def test_bad_finished_charge(
    api: Api, box: SimulatedChargebox, body: dict[str, object]
) -> None:
    status, _ = await api.admin(
        "POST", BOX.format(id=box.id) + "/finished_charge", json=body
    )
    assert status == 400
    assert api.sim.finished == []


async def test_add_finished_charge_in_process() -> None:
    sim = ThorSimulator(seed=1, clock=lambda: T0)
    paid = sim.add_chargebox(alias="Paid", payment_free=False, power=11000)
    item = sim.add_finished_charge(
        paid.id,
        1,
        started=datetime(2025, 12, 31, 10, tzinfo=UTC),
        finished=datetime(2025, 12, 31, 12, tzinfo=UTC),
        mode="api",
    )
    assert item["energy"] == 22000
    assert item["id_tag"] is None
    assert item["payment"]["price"] == 7.7
    assert item["payment"]["currency"] == "eur"
    with pytest.raises(SimulatorError, match="future"):
        sim.add_finished_charge(paid.id, 1, started=T0 - 10, finished=T0 + 10)
    with pytest.raises(SimulatorError, match="numbers"):
        sim.add_finished_charge(paid.id, 1, started="x", finished=T0)  # type: ignore[arg-type]


# -------------------------------------------------------------- reservations


async def _reserve(api: Api, **body: object) -> tuple[int, object]:
    status, data, _ = await api.call("POST", "/charges/reservenow", json=body)
    return status, data


async def test_reserve_now(api: Api, box: SimulatedChargebox) -> None:
    expiry = T0_MS + HOUR_MS
    status, data = await _reserve(
        api,
        chargebox=box.id,
        connector=2,
        expiry_date=expiry,
        user="u-1",
        stripe_token="pi_abc",
    )
    assert status == 200
    assert isinstance(data, dict)
    assert data == {
        "date_accepted": T0_MS,
        "payment": {"method": "stripe", "transaction": "pi_abc"},
        "user": "u-1",
        "id_tag": data["id_tag"],
        "expiry_date": expiry,
        "client": "simulator",
        "status": 1,
        "chargebox": box.id,
        "connector": 2,
    }
    assert (await api.call("GET", "/reservations"))[1]["items"] == [data]
    chargebox = (await api.call("GET", f"/chargeboxes/{box.id}"))[1]
    assert chargebox["reserved_connectors"] == [2]
    # Without payment or user; then the first one expires.
    status, data = await _reserve(
        api, chargebox=box.id, connector=1, expiry_date=T0_MS + 60_000
    )
    assert status == 200
    assert isinstance(data, dict)
    assert (data["payment"], data["user"]) == (None, None)
    api.sim.advance(60)
    chargebox = (await api.call("GET", f"/chargeboxes/{box.id}"))[1]
    assert chargebox["reserved_connectors"] == [2]
    api.sim.advance(3540)
    chargebox = (await api.call("GET", f"/chargeboxes/{box.id}"))[1]
    assert chargebox["reserved_connectors"] == []


async def test_reserve_now_refusals(api: Api, box: SimulatedChargebox) -> None:
    later = T0_MS + HOUR_MS
    good = {"chargebox": box.id, "connector": 1, "expiry_date": later}
    cases: list[tuple[dict[str, object], int, str]] = [
        ({**good, "chargebox": "nope"}, 404, "ChargeboxNotFound"),
        ({**good, "chargebox": 1}, 400, "BadRequest"),
        ({**good, "connector": 3}, 400, "ConnectorNotValid"),
        ({**good, "connector": 0}, 400, "ConnectorNotValid"),
        ({**good, "expiry_date": T0_MS}, 400, "BadRequest"),
        ({**good, "expiry_date": "soon"}, 400, "BadRequest"),
        ({**good, "expiry_date": float(later)}, 400, "BadRequest"),
        ({**good, "user": 5}, 400, "BadRequest"),
    ]
    for body, status, code in cases:
        assert await _reserve(api, **body) == (status, {"message": code}), body
    box.reservable = False
    assert await _reserve(api, **good) == (400, {"message": "ChargeboxNotReservable"})
    box.reservable = True
    box.active = False
    assert await _reserve(api, **good) == (403, {"message": "ChargeboxNotActive"})
    box.active = True
    api.sim.start_rfid_charge(box.id, 1, "card")
    assert await _reserve(api, **good) == (400, {"message": "AlreadyInTransaction"})
    assert (await _reserve(api, **{**good, "connector": 2}))[0] == 200
    assert await _reserve(api, **{**good, "connector": 2}) == (
        400,
        {"message": "AlreadyReserved"},
    )
    assert (await api.call("GET", "/reservations"))[1]["count"] == 1
    assert (
        api.sim.request_counts.by_endpoint["POST /charges/reservenow"] == len(cases) + 5
    )
