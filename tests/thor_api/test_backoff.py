"""Rate-limit back-off: bounded waits, clock jumps, and silence while it lasts."""

from collections.abc import Awaitable, Callable
import math
from typing import Any

from aiohttp import ClientSession
from freezegun.api import FrozenDateTimeFactory
import pytest

from custom_components.thor.thor_api import (
    DEFAULT_MAX_BACKOFF,
    DEFAULT_MIN_BACKOFF,
    DEFAULT_RATE_LIMIT_BACKOFF,
    ThorBackoff,
    ThorClient,
    ThorRateLimitError,
    ThorServerError,
)

from .conftest import API_KEY, FakeClock, Handler, ScriptedServer, reply

type StartServer = Callable[[Handler], Awaitable[ScriptedServer]]
type Call = Callable[[ThorClient], Awaitable[Any]]

# Every kind of request the client sends; none may go out during a back-off.
CALLS: dict[str, Call] = {
    "list": lambda client: client.list_chargeboxes(),
    "get": lambda client: client.get_chargebox("cb"),
    "running": lambda client: client.running_charges(),
    "start": lambda client: client.start_charge("cb", 1),
    "stop": lambda client: client.stop_charge("cb", 1, "tag"),
}


def rate_limited(retry_after: str | None) -> Handler:
    """Return a handler that always answers 429 TooManyRequests."""
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    return reply(
        429,
        '{"message": "TooManyRequests"}',
        content_type="application/json",
        headers=headers,
    )


def make_client(
    session: ClientSession, server: ScriptedServer, backoff: ThorBackoff
) -> ThorClient:
    """Return a client of a scripted server using `backoff`."""
    return ThorClient(
        session=session, api_key=API_KEY, base_url=server.base_url, backoff=backoff
    )


# --- ThorBackoff on its own --------------------------------------------------------


def test_defaults() -> None:
    backoff = ThorBackoff()

    assert (DEFAULT_MIN_BACKOFF, DEFAULT_MAX_BACKOFF, DEFAULT_RATE_LIMIT_BACKOFF) == (
        30.0,
        300.0,
        60.0,
    )
    assert backoff.min_delay == DEFAULT_MIN_BACKOFF
    assert backoff.max_delay == DEFAULT_MAX_BACKOFF
    assert backoff.default_delay == DEFAULT_RATE_LIMIT_BACKOFF
    assert backoff.remaining() == 0.0


def test_default_clock_is_monotonic_time(freezer: FrozenDateTimeFactory) -> None:
    """The default clock follows `time.monotonic`, even when a test tool moves it."""
    backoff = ThorBackoff()
    backoff.hold(None)

    freezer.tick(DEFAULT_RATE_LIMIT_BACKOFF - 1)
    assert backoff.remaining() == pytest.approx(1)
    freezer.tick(1)
    assert backoff.remaining() == 0.0


@pytest.mark.parametrize(
    ("retry_after", "wait"),
    [
        pytest.param(None, 60.0, id="absent-default"),
        pytest.param(0.0, 30.0, id="zero-floor"),
        pytest.param(-5.0, 30.0, id="negative-floor"),
        pytest.param(29.9, 30.0, id="below-floor"),
        pytest.param(45.5, 45.5, id="within"),
        pytest.param(300.0, 300.0, id="ceiling"),
        pytest.param(301.0, 300.0, id="above-ceiling"),
        pytest.param(1e9, 300.0, id="1e9"),
        pytest.param(1e308, 300.0, id="1e308"),
        pytest.param(math.inf, 300.0, id="inf"),
        pytest.param(math.nan, 60.0, id="nan-default"),
    ],
)
def test_hold_bounds_the_wait(retry_after: float | None, wait: float) -> None:
    clock = FakeClock()
    backoff = ThorBackoff(clock=clock)

    assert backoff.hold(retry_after) == wait
    assert backoff.remaining() == wait
    clock.advance(wait - 0.5)
    assert backoff.remaining() == 0.5
    clock.advance(0.5)
    assert backoff.remaining() == 0.0


def test_custom_bounds() -> None:
    clock = FakeClock()
    backoff = ThorBackoff(min_delay=1, max_delay=10, default_delay=5, clock=clock)

    assert backoff.hold(None) == 5
    assert backoff.hold(100) == 10
    clock.advance(10)
    assert backoff.hold(0) == 1


def test_a_shorter_hold_never_shortens_a_longer_one() -> None:
    clock = FakeClock()
    backoff = ThorBackoff(clock=clock)
    backoff.hold(200)
    clock.advance(10)

    assert backoff.hold(0) == 190
    assert backoff.remaining() == 190


def test_a_longer_hold_extends_a_shorter_one() -> None:
    clock = FakeClock()
    backoff = ThorBackoff(clock=clock)
    backoff.hold(30)
    clock.advance(10)

    assert backoff.hold(100) == 100
    assert backoff.remaining() == 100


def test_clock_going_backwards_never_waits_longer_than_max_delay() -> None:
    clock = FakeClock(now=1_000_000.0)
    backoff = ThorBackoff(clock=clock)
    backoff.hold(60)

    clock.advance(-86_400)

    assert backoff.remaining() == DEFAULT_MAX_BACKOFF
    clock.advance(DEFAULT_MAX_BACKOFF - 1)
    assert backoff.remaining() == 1
    clock.advance(1)
    assert backoff.remaining() == 0.0


def test_an_expired_hold_is_dropped() -> None:
    """Once over, a hold cannot come back when the clock later jumps backwards."""
    clock = FakeClock(now=1_000_000.0)
    backoff = ThorBackoff(clock=clock)
    backoff.hold(60)

    clock.advance(86_400)
    assert backoff.remaining() == 0.0
    clock.advance(-86_400)

    assert backoff.remaining() == 0.0


@pytest.mark.parametrize(
    "settings",
    [
        {"min_delay": -1.0},
        {"min_delay": 10.0, "max_delay": 5.0, "default_delay": 7.0},
        {"default_delay": 1000.0},
        {"default_delay": 1.0},
        {"max_delay": math.inf},
        {"min_delay": math.nan},
    ],
)
def test_inconsistent_settings_are_refused(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="delay"):
        ThorBackoff(**settings)


# --- the client honours the back-off ---------------------------------------------


async def test_429_storm_sends_one_request_while_the_back_off_lasts(
    session: ClientSession, scripted_server: StartServer
) -> None:
    """`Retry-After: 0` must not turn into a request loop."""
    clock = FakeClock()
    server = await scripted_server(rate_limited("0"))
    client = make_client(session, server, ThorBackoff(clock=clock))

    with pytest.raises(ThorRateLimitError) as err:
        await client.list_chargeboxes()
    assert (err.value.status, err.value.code) == (429, "TooManyRequests")
    assert err.value.retry_after == DEFAULT_MIN_BACKOFF
    assert err.value.requested_retry_after == 0.0

    for second in range(1, int(DEFAULT_MIN_BACKOFF)):
        clock.advance(1)
        for call in CALLS.values():
            with pytest.raises(ThorRateLimitError) as err:
                await call(client)
            assert (err.value.status, err.value.code) == (None, None)
            assert err.value.retry_after == DEFAULT_MIN_BACKOFF - second
            assert err.value.requested_retry_after is None
    assert len(server.received) == 1

    clock.advance(1)
    with pytest.raises(ThorRateLimitError) as err:
        await client.list_chargeboxes()
    assert err.value.status == 429
    assert len(server.received) == 2


async def test_waiting_error_says_how_long(
    session: ClientSession, scripted_server: StartServer
) -> None:
    clock = FakeClock()
    server = await scripted_server(rate_limited("120"))
    client = make_client(session, server, ThorBackoff(clock=clock))
    with pytest.raises(ThorRateLimitError):
        await client.list_chargeboxes()
    clock.advance(0.5)

    with pytest.raises(ThorRateLimitError) as err:
        await client.list_chargeboxes()

    assert err.value.retry_after == 119.5
    assert "120 s left" in str(err.value)


@pytest.mark.parametrize(
    ("header", "wait"),
    [
        pytest.param("1e9", DEFAULT_MAX_BACKOFF, id="1e9"),
        pytest.param("1e308", DEFAULT_MAX_BACKOFF, id="1e308"),
        pytest.param("86400", DEFAULT_MAX_BACKOFF, id="a-day"),
        pytest.param("-4", DEFAULT_MIN_BACKOFF, id="negative"),
        pytest.param("-1e308", DEFAULT_MIN_BACKOFF, id="very-negative"),
        pytest.param("90", 90.0, id="within"),
        pytest.param("soon", DEFAULT_RATE_LIMIT_BACKOFF, id="junk"),
        pytest.param("inf", DEFAULT_RATE_LIMIT_BACKOFF, id="inf"),
        pytest.param(None, DEFAULT_RATE_LIMIT_BACKOFF, id="absent"),
    ],
)
async def test_requests_resume_after_the_bounded_wait(
    session: ClientSession,
    scripted_server: StartServer,
    header: str | None,
    wait: float,
) -> None:
    clock = FakeClock()
    server = await scripted_server(rate_limited(header))
    client = make_client(session, server, ThorBackoff(clock=clock))

    with pytest.raises(ThorRateLimitError) as err:
        await client.running_charges()
    assert err.value.retry_after == wait

    clock.advance(wait - 1)
    with pytest.raises(ThorRateLimitError) as err:
        await client.running_charges()
    assert err.value.status is None
    assert err.value.retry_after == 1
    assert len(server.received) == 1

    clock.advance(1)
    with pytest.raises(ThorRateLimitError) as err:
        await client.running_charges()
    assert err.value.status == 429
    assert len(server.received) == 2


async def test_one_back_off_is_shared_by_the_clients_of_an_account(
    session: ClientSession, scripted_server: StartServer
) -> None:
    """A 429 seen by one client silences every client of the same account."""
    clock = FakeClock()
    account = ThorBackoff(clock=clock)
    limited = await scripted_server(rate_limited("120"))
    healthy = await scripted_server(reply(200, json_body=[]))
    first = make_client(session, limited, account)
    second = make_client(session, healthy, account)
    other_account = ThorClient(
        session=session, api_key=API_KEY, base_url=healthy.base_url
    )
    assert await second.list_chargeboxes() == []

    with pytest.raises(ThorRateLimitError):
        await first.start_charge("cb", 1)
    for call in CALLS.values():
        with pytest.raises(ThorRateLimitError) as err:
            await call(second)
        assert err.value.status is None
        assert err.value.retry_after == 120
    assert len(healthy.received) == 1
    assert await other_account.list_chargeboxes() == []

    clock.advance(120)
    assert await second.list_chargeboxes() == []
    assert len(healthy.received) == 3
    assert len(limited.received) == 1


async def test_other_errors_do_not_start_a_back_off(
    session: ClientSession, scripted_server: StartServer
) -> None:
    server = await scripted_server(
        reply(503, "busy", content_type="text/plain", headers={"Retry-After": "120"})
    )
    backoff = ThorBackoff(clock=FakeClock())
    client = make_client(session, server, backoff)

    for _ in range(2):
        with pytest.raises(ThorServerError):
            await client.list_chargeboxes()

    assert backoff.remaining() == 0.0
    assert len(server.received) == 2
