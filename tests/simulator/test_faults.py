"""Injected faults."""

import asyncio
import json
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
import pytest

from thor_simulator import Faults, SimulatedChargebox, ThorSimulator
from thor_simulator.faults import parse_fault

from .conftest import API_KEY, Api

EMPTY_COUNTS = {
    "total": 0,
    "by_path": {},
    "by_target": {},
    "by_endpoint": {},
    "by_status": {},
}


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


@pytest.mark.parametrize(
    "value", ["0", "-5", "1e9", "1e308", "Wed, 21 Oct 2015 07:28:00 GMT", ""]
)
async def test_retry_after_header_on_injected_429(api: Api, value: str) -> None:
    status, faults = await api.admin(
        "POST",
        "/faults",
        json={"status": 429, "retry_after_seconds": 30, "retry_after_header": value},
    )
    assert (status, faults["retry_after_header"]) == (200, value)
    status, body, response = await api.call("GET", "/charges/running")
    assert (status, body) == (429, {"message": "TooManyRequests"})
    assert response.headers["Retry-After"] == value


async def test_retry_after_header_on_the_start_throttle(
    api: Api, box: SimulatedChargebox
) -> None:
    api.sim.faults.set(retry_after_header="1e9")
    start = {"chargebox": box.id, "connector": 1}
    status, _, response = await api.call("POST", "/charges/start", json=start)
    assert status == 200
    assert "Retry-After" not in response.headers
    status, body, response = await api.call("POST", "/charges/start", json=start)
    assert (status, body) == (429, {"message": "TooManyRequests"})
    assert response.headers["Retry-After"] == "1e9"
    # Only 429s carry it.
    response = (await api.call("GET", "/chargeboxes/nope"))[2]
    assert response.status == 404
    assert "Retry-After" not in response.headers
    api.sim.faults.set(retry_after=False)
    response = (await api.call("POST", "/charges/start", json=start))[2]
    assert response.status == 429
    assert "Retry-After" not in response.headers


@pytest.mark.parametrize(
    ("status", "raw", "content_type", "body"),
    [
        (
            403,
            '{"message": "bad key te\\/st"}',
            "application/json",
            {"message": "bad key te/st"},
        ),
        (
            500,
            "Internal error while checking APIKeyNotFound",
            "text/plain",
            "Internal error while checking APIKeyNotFound",
        ),
        (502, "", "text/plain", None),
        (429, "[]", "application/json", []),
    ],
)
async def test_error_raw_body(
    api: Api, status: int, raw: str, content_type: str, body: Any
) -> None:
    code, faults = await api.admin(
        "POST",
        "/faults",
        json={"status": status, "error_raw_body": raw, "error_body": "json_code"},
    )
    assert (code, faults["error_raw_body"]) == (200, raw)
    async with api.session.get(
        api.sim.base_url + "/chargeboxes", headers={"X-Api-Key": API_KEY}
    ) as response:
        assert response.status == status
        assert response.content_type == content_type
        text = await response.text()
    assert text == raw
    assert (await api.call("GET", "/chargeboxes"))[1] == body
    if status == 429:
        assert response.headers["Retry-After"] == "1"


async def test_error_raw_body_echoes_secrets(api: Api, box: SimulatedChargebox) -> None:
    api.sim.add_key("third-key")
    api.sim.faults.set(
        status=400, error_raw_body='{"message": "key {api_key}, tag {id_tag}"}'
    )
    stop = {"chargebox": box.id, "connector": 1, "id_tag": "secret-tag"}
    assert (await api.call("POST", "/charges/stop", json=stop, key="third-key"))[
        :2
    ] == (400, {"message": "key third-key, tag secret-tag"})
    # An invalid key is not echoed: the account's (first) key is.
    assert (await api.call("GET", "/chargeboxes", key="wrong"))[:2] == (
        400,
        {"message": f"key {API_KEY}, tag {{id_tag}}"},
    )
    api.sim.revoke_key(API_KEY)
    api.sim.revoke_key("third-key")
    assert (await api.call("POST", "/charges/stop", data="[1]", key=None))[1] == {
        "message": "key , tag {id_tag}"
    }


async def test_error_raw_body_only_for_injected_status(api: Api) -> None:
    api.sim.faults.set(error_raw_body="raw")
    assert (await api.call("GET", "/chargeboxes/nope"))[:2] == (
        404,
        {"message": "ChargeboxNotFound"},
    )
    api.sim.faults.set(html_error=True)
    assert "502 Bad Gateway" in (await api.call("GET", "/chargeboxes"))[1]


async def test_omit_running(api: Api, box: SimulatedChargebox) -> None:
    api.sim.start_rfid_charge(box.id, 1, "card")
    status, _ = await api.admin(
        "POST",
        "/faults",
        json={"omit_running": True, "path": "/charges/running", "count": 1},
    )
    assert status == 200
    # The chargebox request does not match `path`: it neither shows nor counts.
    chargebox = (await api.call("GET", f"/chargeboxes/{box.id}"))[1]
    assert chargebox["occupied_connectors"] == [1]
    running = (await api.call("GET", "/charges/running"))[1]
    assert running == {"count": 0, "items": []}
    assert not api.sim.faults.active
    running = (await api.call("GET", "/charges/running"))[1]
    assert running["count"] == 1
    assert running["items"][0]["id_tag"] == "card"


async def test_omit_running_keeps_the_key_check(api: Api) -> None:
    api.sim.faults.set(omit_running=True)
    assert (await api.call("GET", "/charges/running", key="bad"))[:2] == (
        403,
        {"message": "APIKeyNotFound"},
    )
    # Other endpoints answer as usual.
    assert len((await api.call("GET", "/chargeboxes"))[1]) == 1


async def test_omit_list_connectors(api: Api, box: SimulatedChargebox) -> None:
    sim = api.sim
    other = sim.add_chargebox(alias="Off", active=False)
    sim.start_rfid_charge(box.id, 2, "card")
    sim.reserve(box.id, 1)
    status, faults = await api.admin(
        "POST", "/faults", json={"omit_list_connectors": True}
    )
    assert (status, faults["omit_list_connectors"]) == (200, True)
    for params in (None, {"onlyactive": "false"}):
        status, items, _ = await api.call("GET", "/chargeboxes", params=params)
        assert status == 200
        assert items
        for item in items:
            assert "occupied_connectors" not in item
            assert "reserved_connectors" not in item
            assert item["connectors"]  # everything else is still there
    assert [item["id"] for item in items] == [box.id, other.id]
    # The single read keeps them.
    single = (await api.call("GET", f"/chargeboxes/{box.id}"))[1]
    assert (single["occupied_connectors"], single["reserved_connectors"]) == ([2], [1])
    # The admin state is not an API answer: it keeps them too.
    state = (await api.admin("GET", "/state"))[1]
    assert state["chargeboxes"][0]["occupied_connectors"] == [2]
    assert sim.faults.active  # no count: it stays
    await api.admin("DELETE", "/faults")
    items = (await api.call("GET", "/chargeboxes"))[1]
    assert (items[0]["occupied_connectors"], items[0]["reserved_connectors"]) == (
        [2],
        [1],
    )


async def test_omit_list_connectors_with_count(
    api: Api, box: SimulatedChargebox
) -> None:
    api.sim.faults.set(omit_list_connectors=True, count=1)
    # Errors keep their shape (checked before the handler).
    assert (await api.call("GET", "/chargeboxes", key="bad"))[:2] == (
        403,
        {"message": "APIKeyNotFound"},
    )
    assert not api.sim.faults.active
    assert "occupied_connectors" in (await api.call("GET", "/chargeboxes"))[1][0]
    api.sim.faults.set(omit_list_connectors=True, path="/chargeboxes", count=1)
    assert "occupied_connectors" not in (await api.call("GET", "/chargeboxes"))[1][0]
    assert "occupied_connectors" in (await api.call("GET", "/chargeboxes"))[1][0]


async def test_request_counts(api: Api, box: SimulatedChargebox) -> None:
    await api.call("GET", "/chargeboxes")
    await api.call("GET", f"/chargeboxes/{box.id}")
    await api.call("GET", f"/chargeboxes/{box.id}")
    api.sim.faults.set(status=429, count=1)
    await api.call("GET", "/charges/running")
    # POST: aiohttp's client would retry a GET on a dropped connection.
    api.sim.faults.set(drop_connection=True, count=1)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.call("POST", "/charges/stop", json={})
    await api.call("GET", "/charges/running", key="bad")
    status, counts = await api.admin("GET", "/requests")
    assert status == 200
    assert counts == {
        "total": 6,
        "by_path": {
            "/latest/integration/chargeboxes": 1,
            f"/latest/integration/chargeboxes/{box.id}": 2,
            "/latest/integration/charges/running": 2,
            "/latest/integration/charges/stop": 1,
        },
        "by_target": {
            "/latest/integration/chargeboxes": 1,
            f"/latest/integration/chargeboxes/{box.id}": 2,
            "/latest/integration/charges/running": 2,
            "/latest/integration/charges/stop": 1,
        },
        "by_endpoint": {
            "GET /chargeboxes": 1,
            "GET /chargeboxes/{chargebox_id}": 2,
            "GET /charges/running": 2,
            "POST /charges/stop": 1,
        },
        # The dropped connection got no answer.
        "by_status": {"200": 3, "403": 1, "429": 1},
    }
    assert (await api.admin("GET", "/state"))[1]["request_counts"] == counts
    status, counts = await api.admin("POST", "/requests/reset")
    assert (status, counts) == (200, EMPTY_COUNTS)
    assert api.sim.requests == []
    assert api.sim.request_counts.total == 0


async def test_request_counts_tell_queries_and_ids_apart(api: Api) -> None:
    """A benchmark tells the list from single reads, and filtered polls from the rest."""
    sim = api.sim
    other = sim.add_chargebox(alias="Other", chargebox_id="OTHER-ID")
    box_id = next(iter(sim.chargeboxes))
    await api.call("GET", "/chargeboxes")
    await api.call("GET", "/chargeboxes", params={"onlyactive": "false"})
    await api.call("GET", f"/chargeboxes/{box_id}")
    await api.call("GET", f"/chargeboxes/{other.id}")
    await api.call("GET", "/charges/running")
    await api.call("GET", "/charges/running", params={"chargebox": box_id})
    await api.call("GET", "/charges/running", params={"chargebox": other.id})
    await api.call(
        "GET", "/charges/finished", params={"to": "20260101", "from": "20260101"}
    )
    await api.call("GET", "/nope")
    await api.call("DELETE", "/charges/running")
    counts = (await api.admin("GET", "/requests"))[1]
    assert counts["total"] == 10
    assert counts["by_path"] == {
        "/latest/integration/charges/finished": 1,
        "/latest/integration/charges/running": 4,
        "/latest/integration/chargeboxes": 2,
        f"/latest/integration/chargeboxes/{box_id}": 1,
        "/latest/integration/chargeboxes/OTHER-ID": 1,
        "/latest/integration/nope": 1,
    }
    assert counts["by_target"] == {
        "/latest/integration/charges/finished?to=20260101&from=20260101": 1,
        "/latest/integration/charges/running": 2,
        f"/latest/integration/charges/running?chargebox={box_id}": 1,
        "/latest/integration/charges/running?chargebox=OTHER-ID": 1,
        "/latest/integration/chargeboxes": 1,
        "/latest/integration/chargeboxes?onlyactive=false": 1,
        f"/latest/integration/chargeboxes/{box_id}": 1,
        "/latest/integration/chargeboxes/OTHER-ID": 1,
        "/latest/integration/nope": 1,
    }
    assert counts["by_endpoint"] == {
        "DELETE /charges/running": 1,
        "GET /chargeboxes": 1,
        "GET /chargeboxes/{chargebox_id}": 2,
        "GET /chargeboxes?onlyactive": 1,
        "GET /charges/finished?from&to": 1,
        "GET /charges/running": 1,
        "GET /charges/running?chargebox": 2,
        "GET /nope": 1,
    }
    assert counts["by_status"] == {"200": 8, "404": 1, "405": 1}


async def test_request_counts_skip_hung_requests(
    sim: ThorSimulator, box: SimulatedChargebox
) -> None:
    await sim.start()
    sim.faults.set(hang=True)
    async with aiohttp.ClientSession() as session:
        pending = asyncio.ensure_future(
            session.get(sim.base_url + "/chargeboxes", headers={"X-Api-Key": API_KEY})
        )
        await wait_for_requests(sim, 1)
        await sim.stop()
        with pytest.raises(aiohttp.ClientError):
            await pending
    assert sim.request_counts.total == 1
    assert not sim.request_counts.by_status


def test_reset_requests(sim: ThorSimulator) -> None:
    sim.requests.append(("GET", "/x"))
    sim.request_counts.received("/x")
    sim.request_counts.answered(200)
    assert sim.request_counts.to_dict() == {
        "total": 1,
        "by_path": {"/x": 1},
        "by_target": {"/x": 1},
        "by_endpoint": {"/x": 1},
        "by_status": {"200": 1},
    }
    sim.reset_requests()
    assert sim.requests == []
    assert sim.request_counts.to_dict() == EMPTY_COUNTS


def test_new_faults_set_directly() -> None:
    faults = Faults()
    faults.set(
        retry_after_header="1e9",
        error_raw_body="{}",
        omit_running=True,
        omit_list_connectors=True,
    )
    assert faults.active
    data = faults.to_dict()
    assert (data["retry_after_header"], data["error_raw_body"]) == ("1e9", "{}")
    assert data["omit_running"] is True
    assert data["omit_list_connectors"] is True
    faults.clear()
    assert (faults.retry_after_header, faults.error_raw_body) == (None, None)
    assert faults.omit_running is False
    assert faults.omit_list_connectors is False


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("retry_after_header", 5),
        ("retry_after_header", "1\r\nX-Evil: 1"),
        ("retry_after_header", "1\n"),
        ("error_raw_body", 1),
        ("omit_running", "yes"),
        ("omit_list_connectors", 1),
        ("omit_list_connectors", "true"),
    ],
)
def test_new_faults_reject_bad_values(name: str, value: object) -> None:
    faults = Faults()
    with pytest.raises(ValueError, match="Invalid value"):
        faults.set(**{name: value})
    assert faults == Faults()


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("status=429", ("status", 429)),
        ("retry_after_header=1e9", ("retry_after_header", "1e9")),
        ("retry_after_header=", ("retry_after_header", "")),
        (
            'error_raw_body={"message": "{api_key}"}',
            ("error_raw_body", '{"message": "{api_key}"}'),
        ),
        ("omit_running=TRUE", ("omit_running", True)),
        ("omit_list_connectors=true", ("omit_list_connectors", True)),
        ("omit_list_connectors=False", ("omit_list_connectors", False)),
        ("hang=false", ("hang", False)),
        ("latency=0.5", ("latency", 0.5)),
        ("path=/charges/running", ("path", "/charges/running")),
        ("code=a=b", ("code", "a=b")),
    ],
)
def test_parse_fault(spec: str, parsed: tuple[str, object]) -> None:
    assert parse_fault(spec) == parsed


@pytest.mark.parametrize(
    ("spec", "error"),
    [
        ("status", ValueError),
        ("status=x", ValueError),
        ("status=42", ValueError),
        ("omit_running=yes", ValueError),
        ("omit_list_connectors=1", ValueError),
        ("latency=soon", ValueError),
        ("error_body=xml", ValueError),
        ("explode=1", TypeError),
    ],
)
def test_parse_fault_errors(spec: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_fault(spec)
