"""The charge history and reservations: against the simulator and odd answers."""

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta

from aiohttp import ClientSession
import pytest

from custom_components.thor.thor_api import (
    Reservation,
    ThorAlreadyInTransactionError,
    ThorAlreadyReservedError,
    ThorBadRequestError,
    ThorChargeboxNotActiveError,
    ThorClient,
    ThorInvalidConnectorError,
    ThorNotReservableError,
    ThorRangeTooLargeError,
    ThorResponseError,
)
from custom_components.thor.thor_api.models import (
    parse_finished_charges,
    parse_reservations,
)
from thor_simulator import ThorSimulator

from .conftest import API_KEY, SIM_EPOCH, Handler, ScriptedServer, reply

NOW = datetime.fromtimestamp(SIM_EPOCH, UTC)  # 2026-03-01 12:00 UTC

type Start = Callable[[Handler], Awaitable[ScriptedServer]]


def _client(session: ClientSession, server: ScriptedServer) -> ThorClient:
    return ThorClient(session=session, api_key=API_KEY, base_url=server.base_url)


# ------------------------------------------------------------------- history


async def test_finished_charges_with_payment(
    client: ThorClient, sim: ThorSimulator
) -> None:
    sim.chargeboxes["street"].payment_free = False
    sim.chargeboxes["street"].start_fee = 0.5
    sim.add_finished_charge(
        "garage", 2, started=NOW - timedelta(hours=3), finished=NOW - timedelta(hours=2)
    )
    sim.add_finished_charge(
        "street",
        1,
        started=NOW - timedelta(hours=2),
        finished=NOW - timedelta(hours=1),
        energy=10_000,
        mode="api",
    )

    charges = await client.finished_charges(date(2026, 3, 1), date(2026, 3, 1))
    only_street = await client.finished_charges(
        date(2026, 2, 1), date(2026, 3, 1), "street"
    )

    assert [(c.chargebox, c.connector, c.id) for c in charges] == [
        ("garage", 2, 1001),
        ("street", 1, 1002),
    ]
    garage, street = charges
    assert garage.energy == 22000
    assert garage.payment is None
    assert garage.type == "local"
    assert garage.date_finished == NOW - timedelta(hours=2)
    assert street.id_tag is None
    assert street.payment is not None
    assert (street.payment.currency, street.payment.price, street.payment.success) == (
        "eur",
        4.0,
        True,
    )
    assert only_street == [street]
    assert await client.finished_charges(date(2026, 2, 1), date(2026, 2, 28)) == []


async def test_finished_charges_range_refused(client: ThorClient) -> None:
    with pytest.raises(ThorRangeTooLargeError) as err:
        await client.finished_charges(date(2025, 1, 1), date(2026, 3, 1))
    assert err.value.status == 400
    assert isinstance(err.value, ThorBadRequestError)
    with pytest.raises(ValueError, match="end date"):
        await client.finished_charges(date(2026, 3, 2), date(2026, 3, 1))


# -------------------------------------------------------------- reservations


async def test_reserve_then_list(client: ThorClient, sim: ThorSimulator) -> None:
    expiry = NOW + timedelta(minutes=30, seconds=0.5)

    reservation = await client.reserve_now("garage", 2, expiry)

    assert reservation is not None
    assert (reservation.chargebox, reservation.connector) == ("garage", 2)
    assert reservation.expiry_date == NOW + timedelta(minutes=30, seconds=0.5)
    assert reservation.date_accepted == NOW
    assert reservation.status == 1
    assert reservation.id_tag
    assert (reservation.payment_method, reservation.payment_transaction) == (None, None)
    assert await client.reservations() == [reservation]
    assert await client.reservations("garage") == [reservation]
    assert await client.reservations("street") == []
    assert (await client.get_chargebox("garage")).reserved_connectors == {2}
    sim.advance(1801)
    assert await client.reservations() == []


async def test_reserve_refusals(client: ThorClient, sim: ThorSimulator) -> None:
    later = NOW + timedelta(hours=1)
    sim.start_rfid_charge("garage", 1, "card")
    with pytest.raises(ThorAlreadyInTransactionError):
        await client.reserve_now("garage", 1, later)
    await client.reserve_now("garage", 2, later)
    with pytest.raises(ThorAlreadyReservedError) as reserved:
        await client.reserve_now("garage", 2, later)
    assert reserved.value.code == "AlreadyReserved"
    with pytest.raises(ThorInvalidConnectorError):
        await client.reserve_now("street", 2, later)
    with pytest.raises(ThorBadRequestError):
        await client.reserve_now("street", 1, NOW - timedelta(minutes=1))
    sim.chargeboxes["street"].reservable = False
    with pytest.raises(ThorNotReservableError) as refused:
        await client.reserve_now("street", 1, later)
    assert refused.value.code == "ChargeboxNotReservable"
    sim.chargeboxes["street"].active = False
    with pytest.raises(ThorChargeboxNotActiveError):
        await client.reserve_now("street", 1, later)


async def test_reserve_refused_before_sending(client: ThorClient) -> None:
    with pytest.raises(ValueError, match="aware"):
        await client.reserve_now("garage", 1, datetime(2026, 3, 1, 13))  # noqa: DTZ001
    with pytest.raises(ValueError, match="connector"):
        await client.reserve_now("garage", 0, NOW)
    with pytest.raises(ValueError, match="chargebox"):
        await client.reserve_now(" ", 1, NOW)
    with pytest.raises(ValueError, match="chargebox"):
        await client.reservations("")


@pytest.mark.parametrize("body", ["", "  \n"])
async def test_reserve_empty_answer(
    session: ClientSession, scripted_server: Start, body: str
) -> None:
    server = await scripted_server(reply(200, body))
    expiry = datetime(2026, 3, 1, 13, 0, 0, 123456, tzinfo=UTC)

    assert await _client(session, server).reserve_now("box", 3, expiry) is None

    (received,) = server.received
    assert (received.method, received.path) == (
        "POST",
        "/latest/integration/charges/reservenow",
    )
    assert received.body == {
        "chargebox": "box",
        "connector": 3,
        "expiry_date": 1_772_370_000_123,
    }


ITEM = {
    "date_accepted": 1634305373064,
    "payment": {"method": "stripe", "transaction": "pi_1IRbAxF4cj9Jhreuipv"},
    "user": "test-12",
    "id_tag": "17c8430f387t7tim5m",
    "expiry_date": 1634326952000,
    "client": "test",
    "chargebox": "box",
    "connector": 1,
}


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (ITEM, "17c8430f387t7tim5m"),
        ({"count": 1, "items": [{**ITEM, "connector": 2}, ITEM]}, "17c8430f387t7tim5m"),
        ({"count": 1, "items": [{**ITEM, "connector": 2}]}, None),
        ({"result": "ok"}, None),
        ([ITEM], None),
        ("ok", None),
    ],
)
async def test_reserve_answer_shapes(
    session: ClientSession, scripted_server: Start, answer: object, expected: str | None
) -> None:
    server = await scripted_server(reply(json_body=answer))
    reservation = await _client(session, server).reserve_now(
        "box", 1, datetime(2026, 3, 1, 13, tzinfo=UTC)
    )
    assert (None if reservation is None else reservation.id_tag) == expected


async def test_reserve_answer_not_json(
    session: ClientSession, scripted_server: Start
) -> None:
    server = await scripted_server(reply(200, "<html>ok</html>"))
    with pytest.raises(ThorResponseError):
        await _client(session, server).reserve_now(
            "box", 1, datetime(2026, 3, 1, 13, tzinfo=UTC)
        )


async def test_reservations_of_the_documented_example(
    session: ClientSession, scripted_server: Start
) -> None:
    server = await scripted_server(
        reply(json_body={"count": 2, "items": [ITEM, {"connector": 1}]})
    )
    (reservation,) = await _client(session, server).reservations("box")
    assert server.received[0].query == {"chargebox": "box"}
    assert reservation == Reservation(
        chargebox="box",
        connector=1,
        id_tag="17c8430f387t7tim5m",
        date_accepted=datetime(2021, 10, 15, 13, 42, 53, 64000, tzinfo=UTC),
        expiry_date=datetime(2021, 10, 15, 19, 42, 32, tzinfo=UTC),
        user="test-12",
        client="test",
        status=None,
        payment_method="stripe",
        payment_transaction="pi_1IRbAxF4cj9Jhreuipv",
    )


def test_parse_reservations_tolerates_odd_items() -> None:
    parsed = parse_reservations(
        [
            {"chargebox": "a", "connector": "2", "status": "3", "payment": "x"},
            {"chargebox": "", "connector": 1},
            {"chargebox": "b"},
            "nonsense",
        ]
    )
    assert [(r.chargebox, r.connector, r.status, r.payment_method) for r in parsed] == [
        ("a", 2, 3, None)
    ]
    with pytest.raises(ThorResponseError):
        parse_reservations({"reservations": []})
    assert parse_reservations({"count": 0}) == []


def test_parse_finished_charges_tolerates_odd_items() -> None:
    parsed = parse_finished_charges(
        {
            "count": 4,
            "items": [
                {"chargebox": "a", "connector": "1", "energy": "12.5", "payment": 1},
                {"chargebox": "b"},
                {"connector": 1},
                [],
            ],
        }
    )
    assert [(c.chargebox, c.connector, c.energy, c.payment) for c in parsed] == [
        ("a", 1, 12.5, None)
    ]
