"""Every documented Thor error, end to end against the simulator over loopback HTTP."""

from collections.abc import Awaitable, Callable
import logging
from typing import Any

from aiohttp import ClientSession
import pytest

from custom_components.thor.thor_api import (
    DEFAULT_MIN_BACKOFF,
    DEFAULT_RATE_LIMIT_BACKOFF,
    ThorAccessDeniedError,
    ThorAlreadyInTransactionError,
    ThorAuthenticationError,
    ThorBackoff,
    ThorBadRequestError,
    ThorChargeboxNotActiveError,
    ThorChargeboxNotFoundError,
    ThorClient,
    ThorConnectionError,
    ThorError,
    ThorInvalidConnectorError,
    ThorNotInTransactionError,
    ThorPaymentRequiredError,
    ThorRateLimitError,
    ThorResponseError,
    ThorRestApiDisabledError,
    ThorServerError,
    ThorSourceIPError,
    ThorTimeoutError,
    ThorTransactionError,
    ThorWrongTransactionError,
)
from thor_simulator import ThorSimulator

from .conftest import API_KEY, PREFIX, START_RATE_LIMIT, FakeClock

type Call = Callable[[ThorClient], Awaitable[Any]]

# One call of every endpoint the client offers; all fail the same way on account errors.
CALLS: dict[str, Call] = {
    "list": lambda client: client.list_chargeboxes(),
    "get": lambda client: client.get_chargebox("garage"),
    "running": lambda client: client.running_charges(),
    "running-one": lambda client: client.running_charges("garage"),
    "start": lambda client: client.start_charge("garage", 1),
    "stop": lambda client: client.stop_charge("garage", 1, "tag"),
}
ERROR_BODIES = ["json_message", "json_error", "json_code", "text", "empty"]


async def raises(call: Awaitable[Any], cls: type[ThorError]) -> ThorError:
    """Await `call`, assert it raises exactly `cls`, and return the error."""
    with pytest.raises(ThorError) as err:
        await call
    assert type(err.value) is cls, repr(err.value)
    return err.value


# --- account errors (403) --------------------------------------------------------


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
async def test_unknown_key(
    session: ClientSession, sim: ThorSimulator, call: Call
) -> None:
    client = ThorClient(session=session, api_key="not-the-key", base_url=sim.base_url)

    err = await raises(call(client), ThorAuthenticationError)

    assert (err.status, err.code) == (403, "APIKeyNotFound")


async def test_revoked_key(client: ThorClient, sim: ThorSimulator) -> None:
    """A key regenerated in the dashboard stops working at once."""
    assert len(await client.list_chargeboxes()) == 2

    sim.revoke_key(API_KEY)
    err = await raises(client.list_chargeboxes(), ThorAuthenticationError)

    assert (err.status, err.code) == (403, "APIKeyNotFound")
    sim.api_keys.add(API_KEY)
    assert len(await client.list_chargeboxes()) == 2


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
async def test_rest_api_disabled(
    client: ThorClient, sim: ThorSimulator, call: Call
) -> None:
    sim.rest_enabled = False

    err = await raises(call(client), ThorRestApiDisabledError)

    assert isinstance(err, ThorAccessDeniedError)
    assert (err.status, err.code) == (403, "RestAPINotEnabled")


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
async def test_wrong_source_ip(
    client: ThorClient, sim: ThorSimulator, call: Call
) -> None:
    sim.allowed_source_ip = "192.0.2.10"

    err = await raises(call(client), ThorSourceIPError)

    assert isinstance(err, ThorAccessDeniedError)
    assert (err.status, err.code) == (403, "InvalidSourceIPAddr")


async def test_matching_source_ip_is_accepted(
    client: ThorClient, sim: ThorSimulator
) -> None:
    sim.allowed_source_ip = "127.0.0.1"

    assert len(await client.list_chargeboxes()) == 2


# --- chargebox errors ------------------------------------------------------------


async def test_chargebox_not_active(client: ThorClient, sim: ThorSimulator) -> None:
    sim.chargeboxes["garage"].active = False

    err = await raises(client.start_charge("garage", 1), ThorChargeboxNotActiveError)

    assert isinstance(err, ThorAccessDeniedError)
    assert (err.status, err.code) == (403, "ChargeboxNotActive")


@pytest.mark.parametrize(
    "call",
    [
        lambda client: client.get_chargebox("nope"),
        lambda client: client.start_charge("nope", 1),
        lambda client: client.stop_charge("nope", 1, "tag"),
    ],
    ids=["get", "start", "stop"],
)
async def test_chargebox_not_found(client: ThorClient, call: Call) -> None:
    err = await raises(call(client), ThorChargeboxNotFoundError)

    assert (err.status, err.code) == (404, "ChargeboxNotFound")


async def test_chargebox_not_free(client: ThorClient, sim: ThorSimulator) -> None:
    sim.chargeboxes["garage"].payment_free = False

    err = await raises(client.start_charge("garage", 1), ThorPaymentRequiredError)

    assert (err.status, err.code) == (402, "ChargeboxNotFree")
    assert await client.running_charges() == []


async def test_connector_not_valid(client: ThorClient) -> None:
    """Connector 3 of a two-connector box passes the client's check; Thor refuses it."""
    err = await raises(client.start_charge("garage", 3), ThorInvalidConnectorError)

    assert isinstance(err, ThorBadRequestError)
    assert (err.status, err.code) == (400, "ConnectorNotValid")


# --- transaction errors ----------------------------------------------------------


async def test_already_in_transaction(client: ThorClient, sim: ThorSimulator) -> None:
    await client.start_charge("garage", 1)
    sim.advance(START_RATE_LIMIT)

    err = await raises(client.start_charge("garage", 1), ThorAlreadyInTransactionError)

    assert isinstance(err, ThorTransactionError)
    assert (err.status, err.code) == (400, "AlreadyInTransaction")


async def test_already_in_transaction_with_an_rfid_charge(
    client: ThorClient, sim: ThorSimulator
) -> None:
    sim.start_rfid_charge("street", 1, "04A2B3C4")

    err = await raises(client.start_charge("street", 1), ThorAlreadyInTransactionError)

    assert err.code == "AlreadyInTransaction"


async def test_not_in_transaction(client: ThorClient) -> None:
    err = await raises(
        client.stop_charge("garage", 2, "anything"), ThorNotInTransactionError
    )

    assert isinstance(err, ThorTransactionError)
    assert (err.status, err.code) == (400, "NotInTransaction")


async def test_wrong_id_tag(client: ThorClient, sim: ThorSimulator) -> None:
    sim.start_rfid_charge("garage", 1, "04A2B3C4")

    err = await raises(
        client.stop_charge("garage", 1, "someone-else"), ThorWrongTransactionError
    )

    assert isinstance(err, ThorTransactionError)
    assert (err.status, err.code) == (400, "WrongTransaction")
    assert len(await client.running_charges()) == 1


async def test_wrong_transaction_number(client: ThorClient, sim: ThorSimulator) -> None:
    transaction = sim.start_rfid_charge("garage", 1, "04A2B3C4")

    err = await raises(
        client.stop_charge("garage", 1, "04A2B3C4", transaction + 1),
        ThorWrongTransactionError,
    )

    assert (err.status, err.code) == (400, "WrongTransaction")


# --- rate limit ------------------------------------------------------------------


async def test_too_many_starts_with_retry_after(
    session: ClientSession, sim: ThorSimulator
) -> None:
    clock = FakeClock()
    client = ThorClient(
        session=session,
        api_key=API_KEY,
        base_url=sim.base_url,
        backoff=ThorBackoff(clock=clock),
    )
    id_tag = await client.start_charge("garage", 1)
    await client.stop_charge("garage", 1, id_tag)  # cancels the pending start
    sim.advance(10)

    err = await raises(client.start_charge("garage", 1), ThorRateLimitError)

    assert isinstance(err, ThorRateLimitError)
    assert (err.status, err.code) == (429, "TooManyRequests")
    # Thor asked for 20 s; the client waits at least DEFAULT_MIN_BACKOFF.
    assert err.requested_retry_after == START_RATE_LIMIT - 10
    assert err.retry_after == DEFAULT_MIN_BACKOFF
    # Nothing is sent while the back-off lasts, not even for another connector.
    requests = len(sim.requests)
    err = await raises(client.start_charge("garage", 2), ThorRateLimitError)
    assert err.status is None
    assert len(sim.requests) == requests
    clock.advance(DEFAULT_MIN_BACKOFF)
    sim.advance(DEFAULT_MIN_BACKOFF)
    assert await client.start_charge("garage", 2)
    assert await client.start_charge("garage", 1)


async def test_too_many_starts_without_retry_after(
    client: ThorClient, sim: ThorSimulator
) -> None:
    sim.faults.set(retry_after=False)
    await client.start_charge("garage", 1)

    err = await raises(client.start_charge("garage", 1), ThorRateLimitError)

    assert isinstance(err, ThorRateLimitError)
    assert (err.status, err.code) == (429, "TooManyRequests")
    assert err.requested_retry_after is None
    assert err.retry_after == DEFAULT_RATE_LIMIT_BACKOFF


async def test_injected_429_on_a_read(
    session: ClientSession, sim: ThorSimulator
) -> None:
    clock = FakeClock()
    client = ThorClient(
        session=session,
        api_key=API_KEY,
        base_url=sim.base_url,
        backoff=ThorBackoff(clock=clock),
    )
    sim.faults.set(status=429, retry_after_seconds=45, count=1)

    err = await raises(client.running_charges(), ThorRateLimitError)

    assert isinstance(err, ThorRateLimitError)
    assert (err.retry_after, err.requested_retry_after) == (45, 45)
    clock.advance(45)
    assert await client.running_charges() == []


# --- server and transport failures -----------------------------------------------


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
async def test_internal_server_error(
    client: ThorClient, sim: ThorSimulator, call: Call
) -> None:
    sim.faults.set(status=500)

    err = await raises(call(client), ThorServerError)

    assert (err.status, err.code) == (500, "InternalServerError")


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_other_5xx(client: ThorClient, sim: ThorSimulator, status: int) -> None:
    sim.faults.set(status=status)

    err = await raises(client.list_chargeboxes(), ThorServerError)

    assert err.status == status
    assert err.code is None


async def test_html_error_page(client: ThorClient, sim: ThorSimulator) -> None:
    sim.faults.set(html_error=True)

    err = await raises(client.get_chargebox("garage"), ThorServerError)

    assert err.status == 502
    assert err.code is None
    assert "<" not in str(err)
    assert "nginx" not in str(err)
    assert str(err) == "Thor answered HTTP 502"


@pytest.mark.parametrize(
    "call",
    [
        CALLS["list"],
        CALLS["get"],
        CALLS["running"],
        CALLS["start"],
    ],
    ids=["list", "get", "running", "start"],
)
async def test_malformed_json(
    client: ThorClient, sim: ThorSimulator, call: Call
) -> None:
    sim.faults.set(malformed_json=True)

    err = await raises(call(client), ThorResponseError)

    assert err.status == 200
    assert err.code is None


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
async def test_dropped_connection(
    client: ThorClient, sim: ThorSimulator, call: Call
) -> None:
    sim.faults.set(drop_connection=True)

    err = await raises(call(client), ThorConnectionError)

    assert (err.status, err.code) == (None, None)


async def test_hang_is_a_timeout(session: ClientSession, sim: ThorSimulator) -> None:
    client = ThorClient(
        session=session, api_key=API_KEY, base_url=sim.base_url, request_timeout=0.2
    )
    sim.faults.set(hang=True, count=1)

    err = await raises(client.get_chargebox("garage"), ThorTimeoutError)

    assert isinstance(err, ThorConnectionError)
    assert (err.status, err.code) == (None, None)
    # The next request is answered normally.
    assert (await client.get_chargebox("garage")).id == "garage"


async def test_recovers_after_transient_faults(
    client: ThorClient, sim: ThorSimulator
) -> None:
    sim.faults.set(status=500, count=2)

    for _ in range(2):
        await raises(client.list_chargeboxes(), ThorServerError)

    assert len(await client.list_chargeboxes()) == 2


# --- start is never retried ------------------------------------------------------


def start_requests(sim: ThorSimulator) -> list[tuple[str, str]]:
    """Return the start requests the simulator received."""
    return [r for r in sim.requests if r == ("POST", f"{PREFIX}/charges/start")]


@pytest.mark.parametrize(
    ("fault", "cls"),
    [
        pytest.param({"status": 500}, ThorServerError, id="500"),
        pytest.param({"status": 503}, ThorServerError, id="503"),
        pytest.param({"html_error": True}, ThorServerError, id="html"),
        pytest.param({"drop_connection": True}, ThorConnectionError, id="dropped"),
        pytest.param({"malformed_json": True}, ThorResponseError, id="malformed"),
        pytest.param({"hang": True}, ThorTimeoutError, id="timeout"),
    ],
)
async def test_start_is_sent_exactly_once(
    session: ClientSession,
    sim: ThorSimulator,
    fault: dict[str, Any],
    cls: type[ThorError],
) -> None:
    """A failed start is not repeated: a retry could start a second charge."""
    client = ThorClient(
        session=session, api_key=API_KEY, base_url=sim.base_url, request_timeout=0.2
    )
    sim.faults.set(path="/charges/start", **fault)

    await raises(client.start_charge("garage", 1), cls)

    assert len(start_requests(sim)) == 1
    assert sim.requests == [("POST", f"{PREFIX}/charges/start")]


# --- error body shapes -----------------------------------------------------------


@pytest.mark.parametrize("error_body", ERROR_BODIES)
@pytest.mark.parametrize(
    ("call", "cls", "status", "code"),
    [
        pytest.param(
            lambda client: client.get_chargebox("nope"),
            ThorChargeboxNotFoundError,
            404,
            "ChargeboxNotFound",
            id="404",
        ),
        pytest.param(
            lambda client: client.start_charge("garage", 3),
            ThorInvalidConnectorError,
            400,
            "ConnectorNotValid",
            id="400",
        ),
        pytest.param(
            lambda client: client.stop_charge("garage", 1, "tag"),
            ThorNotInTransactionError,
            400,
            "NotInTransaction",
            id="400-stop",
        ),
        pytest.param(
            CALLS["start"], ThorPaymentRequiredError, 402, "ChargeboxNotFree", id="402"
        ),
        pytest.param(
            CALLS["start"],
            ThorChargeboxNotActiveError,
            403,
            "ChargeboxNotActive",
            id="403",
        ),
    ],
)
async def test_error_body_shapes(
    client: ThorClient,
    sim: ThorSimulator,
    *,
    error_body: str,
    call: Call,
    cls: type[ThorError],
    status: int,
    code: str,
) -> None:
    """The identifier is read from every body shape; an empty body falls back on the status."""
    sim.faults.set(error_body=error_body)
    garage = sim.chargeboxes["garage"]
    garage.payment_free = code != "ChargeboxNotFree"
    garage.active = code != "ChargeboxNotActive"

    if error_body == "empty":
        fallback = {
            400: ThorBadRequestError,
            402: ThorPaymentRequiredError,
            403: ThorAccessDeniedError,
            404: ThorChargeboxNotFoundError,
        }[status]
        err = await raises(call(client), fallback)
        assert (err.status, err.code) == (status, None)
    else:
        err = await raises(call(client), cls)
        assert (err.status, err.code) == (status, code)


# --- secrets ---------------------------------------------------------------------


async def test_key_never_in_errors_or_logs(
    session: ClientSession, sim: ThorSimulator, caplog: pytest.LogCaptureFixture
) -> None:
    """Walk through successes and every kind of failure; the key shows up nowhere."""
    caplog.set_level(logging.DEBUG)
    client = ThorClient(
        session=session, api_key=API_KEY, base_url=sim.base_url, request_timeout=0.2
    )
    errors: list[ThorError] = []

    async def collect(call: Awaitable[Any]) -> None:
        try:
            await call
        except ThorError as err:
            errors.append(err)

    id_tag = await client.start_charge("garage", 1)
    sim.advance(START_RATE_LIMIT)
    await client.running_charges("garage")
    await collect(client.start_charge("garage", 1))
    await collect(client.stop_charge("garage", 2, id_tag))
    await collect(client.get_chargebox("nope"))
    for error_body in ERROR_BODIES:
        sim.faults.set(error_body=error_body, status=500, count=1)
        await collect(client.list_chargeboxes())
    for fault in ("html_error", "malformed_json", "drop_connection", "hang"):
        sim.faults.set(**{fault: True})
        await collect(client.get_chargebox("garage"))
        sim.faults.clear()
    sim.revoke_key(API_KEY)
    await collect(client.list_chargeboxes())

    assert [type(e) for e in errors] == [
        ThorAlreadyInTransactionError,
        ThorNotInTransactionError,
        ThorChargeboxNotFoundError,
        *[ThorServerError] * len(ERROR_BODIES),
        ThorServerError,
        ThorResponseError,
        ThorConnectionError,
        ThorTimeoutError,
        ThorAuthenticationError,
    ]
    for err in errors:
        assert API_KEY not in str(err)
        assert API_KEY not in repr(err)
    assert API_KEY not in repr(client)
    assert caplog.records
    for record in caplog.records:
        assert API_KEY not in record.getMessage()
        assert API_KEY not in repr(record.args)
        assert API_KEY not in (record.exc_text or "")
