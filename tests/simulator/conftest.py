"""Fixtures of the simulator's own tests (no Home Assistant instance needed)."""

from collections.abc import AsyncGenerator
from dataclasses import dataclass
import json
from typing import Any

import aiohttp
import pytest

from thor_simulator import SimulatedChargebox, ThorSimulator

API_KEY = "sim-test-key"
# 2026-01-01T00:00:00Z; the test clock stands still, only sim.advance() moves it.
T0 = 1_767_225_600.0


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the repository-wide fixture: these tests need no Home Assistant."""


@pytest.fixture(autouse=True)
def allow_loopback_sockets(socket_enabled: None) -> None:
    """Let the simulator listen (pytest-socket blocks socket creation by default)."""


@dataclass
class Api:
    """Small helper around an aiohttp session talking to a running simulator."""

    sim: ThorSimulator
    session: aiohttp.ClientSession

    async def call(
        self,
        method: str,
        path: str,
        *,
        key: str | None = API_KEY,
        json: Any = None,
        data: str | bytes | None = None,
        params: dict[str, str] | None = None,
    ) -> tuple[int, Any, aiohttp.ClientResponse]:
        """Call the API; return status, decoded body (JSON, text or None), response."""
        headers = {} if key is None else {"X-Api-Key": key}
        async with self.session.request(
            method,
            self.sim.base_url + path,
            headers=headers,
            json=json,
            data=data,
            params=params,
        ) as response:
            text = await response.text()
            return response.status, _decode(response, text), response

    async def admin(
        self, method: str, path: str, *, json: Any = None, data: str | None = None
    ) -> tuple[int, Any]:
        """Call the admin API; return status and decoded JSON body."""
        async with self.session.request(
            method, self.sim.admin_url + path, json=json, data=data
        ) as response:
            return response.status, await response.json()


def _decode(response: aiohttp.ClientResponse, text: str) -> Any:
    if not text:
        return None
    if response.content_type == "application/json":
        return json.loads(text)
    return text


@pytest.fixture
def sim() -> ThorSimulator:
    """A simulator on a frozen clock with the documented default delays."""
    return ThorSimulator(api_key=API_KEY, seed=7, clock=lambda: T0)


@pytest.fixture
def box(sim: ThorSimulator) -> SimulatedChargebox:
    """A two-connector chargebox."""
    return sim.add_chargebox(alias="Garage", connectors=2)


@pytest.fixture
async def api(sim: ThorSimulator, box: SimulatedChargebox) -> AsyncGenerator[Api]:
    """The simulator serving on loopback, and a client session."""
    await sim.start()
    async with aiohttp.ClientSession() as session:
        yield Api(sim, session)
    await sim.stop()
