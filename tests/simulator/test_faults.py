"""Injected faults."""

import asyncio
import json
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
import pytest

from thor_simulator import Faults, SimulatedChargebox, ThorSimulator

from .conftest import API_KEY, Api


async def wait_for_requests(sim: ThorSimulator, count: int) -> None:
    """Yield to the loop until the server has received `count` API requests."""
    for _ in range(200):
        if len(sim.requests) >= count:
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the request never reached the simulator")


async def test_faults_do_not_apply_to_admin(api: Api) -> None:
    api.sim.faults.set(status=500)
    assert (await api.admin("GET", "/state"))[0] == 200
    assert (await api.call("GET", "/chargeboxes"))[0] == 500


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (500, "InternalServerError"),
        (502, "BadGateway"),
        (503, "ServiceUnavailable"),
        (504, "GatewayTimeout"),
        (599, "HTTP599"),
    ],
)
async def test_status(api: Api, status: int, code: str) -> None:
    api.sim.faults.set(status=status)
    assert (await api.call("GET", "/chargeboxes"))[:2] == (status, {"message": code})
    # Injected before the key check, like a failing proxy.
    assert (await api.call("GET", "/chargeboxes", key=None))[0] == status


async def test_status_with_code(api: Api) -> None:
    api.sim.faults.set(status=403, code="RestAPINotEnabled", error_body="json_error")
    assert (await api.call("GET", "/chargeboxes"))[:2] == (
        403,
        {"error": "RestAPINotEnabled"},
    )


async def test_injected_429(api: Api) -> None:
    api.sim.faults.set(status=429, retry_after_seconds=30)
    status, body, response = await api.call("GET", "/charges/running")
    assert (status, body) == (429, {"message": "TooManyRequests"})
    assert response.headers["Retry-After"] == "30"
    api.sim.faults.set(retry_after=False)
    response = (await api.call("GET", "/charges/running"))[2]
    assert "Retry-After" not in response.headers


@pytest.mark.parametrize(
    ("shape", "content_type", "body"),
    [
        ("json_message", "application/json", {"message": "ChargeboxNotFound"}),
        ("json_error", "application/json", {"error": "ChargeboxNotFound"}),
        (
            "json_code",
            "application/json",
            {
                "code": "ChargeboxNotFound",
                "message": "No chargebox with the given identifier was found.",
            },
        ),
        ("text", "text/plain", "ChargeboxNotFound"),
        ("empty", "application/octet-stream", None),
    ],
)
async def test_error_body_shapes(
    api: Api, shape: str, content_type: str, body: Any
) -> None:
    api.sim.faults.set(error_body=shape)
    status, data, response = await api.call("GET", "/chargeboxes/nope")
    assert (status, data) == (404, body)
    assert response.content_type == content_type


async def test_malformed_json(api: Api) -> None:
    api.sim.faults.set(malformed_json=True)
    async with api.session.get(
        api.sim.base_url + "/charges/running", headers={"X-Api-Key": API_KEY}
    ) as response:
        assert response.status == 200
        text = await response.text()
    with pytest.raises(ValueError, match=r"Unterminated|Expecting"):
        json.loads(text)


async def test_html_error(api: Api) -> None:
    api.sim.faults.set(html_error=True)
    status, body, response = await api.call("GET", "/charges/running")
    assert status == 502
    assert response.content_type == "text/html"
    assert "<title>502 Bad Gateway</title>" in body


async def test_drop_connection(api: Api, box: SimulatedChargebox) -> None:
    api.sim.faults.set(drop_connection=True)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.call("POST", "/charges/start", json={"chargebox": box.id})
    assert api.sim.pending_starts() == []


async def test_latency_still_answers(api: Api) -> None:
    api.sim.faults.set(latency=0.01)
    assert (await api.call("GET", "/chargeboxes"))[0] == 200


async def test_count_then_cleared(api: Api) -> None:
    api.sim.faults.set(status=503, count=2)
    statuses = [(await api.call("GET", "/chargeboxes"))[0] for _ in range(3)]
    assert statuses == [503, 503, 200]
    assert not api.sim.faults.active


async def test_path_filter(api: Api, box: SimulatedChargebox) -> None:
    api.sim.faults.set(status=500, path="/charges/", count=1, error_body="text")
    assert (await api.call("GET", "/chargeboxes/nope"))[:2] == (
        404,
        {"message": "ChargeboxNotFound"},
    )
    assert (await api.call("GET", "/charges/running"))[:2] == (
        500,
        "InternalServerError",
    )
    assert (await api.call("GET", "/charges/running"))[0] == 200


async def test_hang_times_out_and_stop_releases_it(
    sim: ThorSimulator, box: SimulatedChargebox
) -> None:
    await sim.start()
    sim.faults.set(hang=True)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.1):
                await session.get(
                    sim.base_url + "/chargeboxes", headers={"X-Api-Key": API_KEY}
                )
        pending = asyncio.ensure_future(
            session.get(sim.base_url + "/chargeboxes", headers={"X-Api-Key": API_KEY})
        )
        await wait_for_requests(sim, 2)
        await sim.stop()
        with pytest.raises(aiohttp.ClientError):
            await pending
    await sim.stop()  # idempotent


async def test_long_latency_is_cut_by_stop(
    sim: ThorSimulator, box: SimulatedChargebox
) -> None:
    await sim.start()
    sim.faults.set(latency=60)
    async with aiohttp.ClientSession() as session:
        pending = asyncio.ensure_future(
            session.get(sim.base_url + "/chargeboxes", headers={"X-Api-Key": API_KEY})
        )
        await wait_for_requests(sim, 1)
        await sim.stop()
        with pytest.raises(aiohttp.ClientError):
            await pending


def test_set_and_clear() -> None:
    faults = Faults()
    assert Faults().active is False
    faults.set(latency=1, status=502, count=3, path="/charges", error_body="text")
    assert faults.active is True
    assert faults.latency == 1.0
    assert isinstance(faults.latency, float)
    assert faults.to_dict()["status"] == 502
    faults.clear()
    assert faults == Faults()


def test_take_counts_down_matching_requests_only() -> None:
    faults = Faults(status=500, count=2, path="/start")
    assert faults.take("/latest/integration/chargeboxes") == Faults()
    assert faults.take("/latest/integration/charges/start").status == 500
    assert faults.count == 1
    assert faults.take("/latest/integration/charges/start").count == 1
    assert faults == Faults()


def test_set_unknown_fault() -> None:
    with pytest.raises(TypeError, match="Unknown fault"):
        Faults().set(explode=True)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("hang", 1),
        ("path", 3),
        ("code", False),
        ("latency", -1),
        ("latency", True),
        ("status", 99),
        ("status", 600),
        ("status", "500"),
        ("error_body", "xml"),
        ("count", 0),
        ("count", 1.5),
        ("retry_after_seconds", -1),
        ("retry_after", "yes"),
    ],
)
def test_set_rejects_bad_values(name: str, value: object) -> None:
    faults = Faults()
    with pytest.raises(ValueError, match="Invalid value"):
        faults.set(**{name: value})
    assert faults == Faults()


def test_set_is_all_or_nothing() -> None:
    faults = Faults()
    with pytest.raises(ValueError, match="Invalid value"):
        faults.set(hang=True, status=42)
    assert faults == Faults()


async def test_hang_under_another_runner(
    sim: ThorSimulator, box: SimulatedChargebox
) -> None:
    """make_app() served by aiohttp's TestServer: its shutdown releases hung requests."""
    server = TestServer(sim.make_app())
    await server.start_server()
    sim.faults.set(hang=True, path="/charges/running")
    async with aiohttp.ClientSession() as session:
        async with session.get(
            server.make_url("/latest/integration/chargeboxes"),
            headers={"X-Api-Key": API_KEY},
        ) as response:
            assert response.status == 200
        pending = asyncio.ensure_future(
            session.get(
                server.make_url("/latest/integration/charges/running"),
                headers={"X-Api-Key": API_KEY},
            )
        )
        await wait_for_requests(sim, 2)
        await server.close()
        with pytest.raises(aiohttp.ClientError):
            await pending
