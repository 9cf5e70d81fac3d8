"""Shared fixtures.

`custom_components.thor` is imported before Home Assistant starts so that the test plugin's
own `custom_components` package does not shadow ours.
"""

from collections.abc import AsyncGenerator

import pytest

import custom_components.thor  # noqa: F401
from thor_simulator import ThorSimulator

API_KEY = "test-api-key-0123456789"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load custom_components/thor in every test."""


@pytest.fixture
async def simulator() -> AsyncGenerator[ThorSimulator]:
    """Run a Thor simulator on loopback with no start/stop delays and no rate limit."""
    sim = ThorSimulator(
        api_key=API_KEY, seed=1, start_delay=0, stop_delay=0, start_rate_limit=0
    )
    sim.add_chargebox(alias="Garage", connectors=2)
    await sim.start(host="127.0.0.1", port=0)
    yield sim
    await sim.stop()
