"""Fixtures of the Thor client tests: a session, scripted HTTP servers, the simulator.

These tests need no Home Assistant instance, so the project-wide autouse fixture that
enables custom integrations (and with it starts `hass`) is replaced by a no-op here.
"""

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass, field
import json
from typing import Any

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
import pytest

from custom_components.thor.thor_api import ThorClient
from thor_simulator import ThorSimulator

API_KEY = "tk_live_9f8e7d6c5b4a39281706"
PREFIX = "/latest/integration"

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the project fixture: the client tests run without `hass`."""


@pytest.fixture(autouse=True)
def loopback_sockets(socket_enabled: None) -> None:
    """Let the tests open sockets; connections stay limited to 127.0.0.1."""


@pytest.fixture
async def session() -> AsyncGenerator[ClientSession]:
    """An aiohttp session the tests own and close."""
    async with ClientSession() as client_session:
        yield client_session


@dataclass
class Received:
    """One request a scripted server received."""

    method: str
    raw_path: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class ScriptedServer:
    """A loopback HTTP server answering every request with `handler`."""

    handler: Handler
    base_url: str = ""
    received: list[Received] = field(default_factory=list)
    server: TestServer | None = None
    release: asyncio.Event = field(default_factory=asyncio.Event)
    """Set at teardown: handlers that hang wait on it so the server can close."""

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        self.received.append(
            Received(
                method=request.method,
                raw_path=request.raw_path.partition("?")[0],
                path=request.path,
                query=dict(request.query),
                headers=dict(request.headers),
                body=body,
            )
        )
        return await self.handler(request)

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        self.server = TestServer(app, host="127.0.0.1")
        await self.server.start_server()
        self.base_url = str(self.server.make_url(PREFIX))


@pytest.fixture
async def scripted_server() -> AsyncGenerator[
    Callable[[Handler], Awaitable[ScriptedServer]]
]:
    """Factory of scripted servers, all closed at the end of the test."""
    servers: list[ScriptedServer] = []

    async def start(handler: Handler) -> ScriptedServer:
        server = ScriptedServer(handler)
        await server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.release.set()
        assert server.server is not None
        await server.server.close()


def reply(
    status: int = 200,
    body: str | bytes | None = None,
    *,
    json_body: Any = None,
    content_type: str | None = None,
    headers: dict[str, str] | None = None,
) -> Handler:
    """Return a handler that always answers the same thing."""

    async def handler(_request: web.Request) -> web.StreamResponse:
        if json_body is not None:
            return web.json_response(json_body, status=status, headers=headers)
        response = web.Response(status=status, headers=headers)
        if body is not None:
            response.body = body.encode() if isinstance(body, str) else body
        if content_type is not None:
            response.content_type = content_type
        return response

    return handler


# 2026-03-01 12:00:00 UTC; the simulated clock only moves with `sim.advance()`.
SIM_EPOCH = 1_772_366_400.0
START_DELAY = 20.0
STOP_DELAY = 10.0
START_RATE_LIMIT = 30.0


@pytest.fixture
async def sim() -> AsyncGenerator[ThorSimulator]:
    """A simulated Thor account with a two-connector and a one-connector chargebox.

    Starts take START_DELAY and stops STOP_DELAY simulated seconds; a connector accepts
    one start every START_RATE_LIMIT seconds. Move time with `sim.advance()`.
    """
    simulator = ThorSimulator(
        api_key=API_KEY,
        seed=7,
        start_delay=START_DELAY,
        stop_delay=STOP_DELAY,
        start_rate_limit=START_RATE_LIMIT,
        clock=lambda: SIM_EPOCH,
    )
    simulator.add_chargebox(alias="Garage", connectors=2, chargebox_id="garage")
    simulator.add_chargebox(
        alias="Street", connectors=1, chargebox_id="street", power=7400
    )
    await simulator.start(host="127.0.0.1", port=0)
    yield simulator
    await simulator.stop()


@pytest.fixture
def client(session: ClientSession, sim: ThorSimulator) -> ThorClient:
    """A client of the simulated account."""
    return ThorClient(session=session, api_key=API_KEY, base_url=sim.base_url)


@dataclass
class FakeClock:
    """A monotonic clock that only moves when told to."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock (backwards with a negative value)."""
        self.now += seconds
