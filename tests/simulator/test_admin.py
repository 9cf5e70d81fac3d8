"""The simulator's admin API (`/_simulator`)."""

from unittest import mock

from aiohttp.test_utils import make_mocked_request
import pytest

from thor_simulator import SimulatedChargebox, ThorSimulator

from .conftest import API_KEY, T0, Api

BOX = "/chargeboxes/{id}"


async def test_state(api: Api, box: SimulatedChargebox) -> None:
    api.sim.start_rfid_charge(box.id, 1, "card")
    await api.call("GET", "/chargeboxes")
    status, state = await api.admin("GET", "/state")
    assert status == 200
    assert state["now"] == int(T0 * 1000)
    assert state["account"] == {
        "api_keys": [API_KEY],
        "rest_enabled": True,
        "allowed_source_ip": None,
    }
    assert state["settings"] == {
        "start_delay": 3.0,
        "stop_delay": 3.0,
        "start_rate_limit": 5.0,
        "cancel_pending_on_stop": True,
    }
    assert [b["id"] for b in state["chargeboxes"]] == [box.id]
    assert state["chargeboxes"][0]["payment_free"] is True
    assert state["chargeboxes"][0]["reject_starts"] is False
    assert state["chargeboxes"][0]["occupied_connectors"] == [1]
    assert [c["id_tag"] for c in state["running"]] == ["card"]
    assert state["finished"] == []
    assert state["reservations"] == []
    assert state["pending_starts"] == []
    assert state["faults"]["status"] is None
    assert state["requests"] == [["GET", "/latest/integration/chargeboxes"]]
    assert state["request_counts"] == {
        "total": 1,
        "by_path": {"/latest/integration/chargeboxes": 1},
        "by_target": {"/latest/integration/chargeboxes": 1},
        "by_endpoint": {"GET /chargeboxes": 1},
        "by_status": {"200": 1},
    }


async def test_pending_starts_in_state(api: Api, box: SimulatedChargebox) -> None:
    status, body, _ = await api.call(
        "POST", "/charges/start", json={"chargebox": box.id, "connector": 2}
    )
    assert status == 200
    state = (await api.admin("GET", "/state"))[1]
    assert state["pending_starts"] == [
        {
            "chargebox": box.id,
            "connector": 2,
            "id_tag": body["id_tag"],
            "transaction": 1001,
            "requested": int(T0 * 1000),
            "due": int((T0 + 3) * 1000),
        }
    ]


async def test_faults(api: Api) -> None:
    status, faults = await api.admin(
        "POST", "/faults", json={"status": 502, "count": 1}
    )
    assert status == 200
    assert (faults["status"], faults["count"]) == (502, 1)
    assert api.sim.faults.status == 502
    status, faults = await api.admin("DELETE", "/faults")
    assert (status, faults["status"]) == (200, None)
    assert not api.sim.faults.active


async def test_new_faults(api: Api) -> None:
    body = {
        "status": 429,
        "retry_after_header": "1e308",
        "error_raw_body": "slow down {api_key}",
        "omit_running": True,
    }
    status, faults = await api.admin("POST", "/faults", json=body)
    assert status == 200
    assert {name: faults[name] for name in body} == body
    status, text, response = await api.call("GET", "/charges/running")
    assert (status, text) == (429, f"slow down {API_KEY}")
    assert response.headers["Retry-After"] == "1e308"
    assert (await api.admin("DELETE", "/faults"))[1]["retry_after_header"] is None


@pytest.mark.parametrize(
    "body",
    [
        '{"nope": 1}',
        '{"status": "x"}',
        "not json",
        "[]",
        '{"retry_after_header": 0}',
        '{"retry_after_header": "0\\r\\nX: 1"}',
        '{"error_raw_body": {}}',
        '{"omit_running": 1}',
        '{"omit_list_connectors": "yes"}',
    ],
)
async def test_bad_faults(api: Api, body: str) -> None:
    status, data = await api.admin("POST", "/faults", data=body)
    assert status == 400
    assert isinstance(data["message"], str)
    assert not api.sim.faults.active


async def test_account(api: Api) -> None:
    status, account = await api.admin(
        "POST",
        "/account",
        json={
            "rest_enabled": False,
            "allowed_source_ip": "10.0.0.2",
            "revoke_key": API_KEY,
            "add_key": "other",
        },
    )
    assert status == 200
    assert account == {
        "api_keys": ["other"],
        "rest_enabled": False,
        "allowed_source_ip": "10.0.0.2",
    }
    assert (await api.call("GET", "/chargeboxes", key="other"))[1] == {
        "message": "RestAPINotEnabled"
    }
    await api.admin(
        "POST", "/account", json={"rest_enabled": True, "allowed_source_ip": None}
    )
    assert (await api.call("GET", "/chargeboxes", key="other"))[0] == 200


@pytest.mark.parametrize(
    "body",
    [
        {"rest_enabled": "no"},
        {"allowed_source_ip": 1},
        {"revoke_key": None},
        {"add_key": ""},
        {"other": 1},
    ],
)
async def test_bad_account(api: Api, body: dict[str, object]) -> None:
    assert (await api.admin("POST", "/account", json=body))[0] == 400
    assert api.sim.api_keys == {API_KEY}
    assert api.sim.rest_enabled


async def test_settings(api: Api, box: SimulatedChargebox) -> None:
    status, settings = await api.admin(
        "POST",
        "/settings",
        json={
            "start_delay": 0,
            "stop_delay": 1,
            "start_rate_limit": 0,
            "cancel_pending_on_stop": False,
        },
    )
    assert status == 200
    assert settings == {
        "start_delay": 0.0,
        "stop_delay": 1.0,
        "start_rate_limit": 0.0,
        "cancel_pending_on_stop": False,
    }
    await api.call("POST", "/charges/start", json={"chargebox": box.id, "connector": 1})
    assert len(api.sim.running()) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"start_delay": -1},
        {"stop_delay": "1"},
        {"other": 1},
        {"cancel_pending_on_stop": 1},
        {"start_delay": True},
    ],
)
async def test_bad_settings(api: Api, body: dict[str, object]) -> None:
    assert (await api.admin("POST", "/settings", json=body))[0] == 400
    assert api.sim.start_delay == 3.0


async def test_add_chargebox(api: Api) -> None:
    status, created = await api.admin(
        "POST",
        "/chargeboxes",
        json={
            "alias": "Bikes",
            "connectors": 3,
            "chargebox_id": "smartbit-17490adfa4f",
            "power": 3700,
            "connector_type": "schuko",
            "power_type": "AC_1_PHASE",
            "max_amperage": 16,
            "vehicle": "bicycle",
            "public": True,
        },
    )
    assert status == 201
    assert created["id"] == "smartbit-17490adfa4f"
    assert created["public"] is True
    assert len(created["connectors"]) == 3
    assert created["connectors"][0]["type"] == "schuko"
    body = (await api.call("GET", "/chargeboxes/smartbit-17490adfa4f"))[1]
    assert body["type"]["vehicle"] == "bicycle"


@pytest.mark.parametrize(
    "body",
    [
        {"connectors": 1},
        {"alias": "A", "connectors": 0},
        {"alias": "A", "connectors": "2"},
        {"alias": "A", "active": "yes"},
        {"alias": "A", "power": 1.5},
        {"alias": "A", "unknown": 1},
        {"alias": "A", "chargebox_id": "DUP"},
    ],
)
async def test_bad_add_chargebox(
    api: Api, box: SimulatedChargebox, body: dict[str, object]
) -> None:
    if body.get("chargebox_id") == "DUP":
        body["chargebox_id"] = box.id
    assert (await api.admin("POST", "/chargeboxes", json=body))[0] == 400
    assert list(api.sim.chargeboxes) == [box.id]


async def test_patch_chargebox(api: Api, box: SimulatedChargebox) -> None:
    status, data = await api.admin(
        "PATCH",
        BOX.format(id=box.id),
        json={
            "active": False,
            "payment_free": False,
            "reject_starts": True,
            "alias": "Renamed",
            "latitude": 45,
            "last_heartbeat": 5,
        },
    )
    assert status == 200
    assert (data["active"], data["payment_free"], data["reject_starts"]) == (
        False,
        False,
        True,
    )
    assert box.alias == "Renamed"
    assert box.latitude == 45


@pytest.mark.parametrize(
    "body",
    [{"id": "x"}, {"connectors": []}, {"active": 1}, {"latitude": True}, {"alias": 3}],
)
async def test_bad_patch(api: Api, box: SimulatedChargebox, body: object) -> None:
    assert (await api.admin("PATCH", BOX.format(id=box.id), json=body))[0] == 400
    assert box.active
    assert box.alias == "Garage"


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("PATCH", ""),
        ("POST", "/rfid_start"),
        ("POST", "/app_start"),
        ("POST", "/end_charge"),
        ("POST", "/reserve"),
    ],
)
async def test_unknown_chargebox(api: Api, method: str, suffix: str) -> None:
    status, data = await api.admin(
        method, BOX.format(id="nope") + suffix, json={"connector": 1}
    )
    assert (status, data) == (404, {"message": "No chargebox 'nope'"})


async def test_unknown_admin_path(api: Api) -> None:
    status, data = await api.admin("GET", "/nothing")
    assert (status, data) == (404, {"message": "Not Found"})


async def test_charge_controls(api: Api, box: SimulatedChargebox) -> None:
    url = BOX.format(id=box.id)
    status, data = await api.admin(
        "POST", url + "/rfid_start", json={"connector": 1, "id_tag": "card"}
    )
    assert (status, data) == (200, {"transaction": 1001})
    status, data = await api.admin("POST", url + "/app_start", json={"connector": 2})
    assert status == 200
    assert data["transaction"] == 1002
    assert data["id_tag"] == api.sim.app_tag(box.id, 2)
    status, data = await api.admin("POST", "/advance", json={"seconds": 3600})
    assert (status, data) == (200, {"now": int((T0 + 3600) * 1000)})
    status, data = await api.admin("POST", url + "/end_charge", json={"connector": 1})
    assert status == 200
    assert data["occupied_connectors"] == [2]
    assert api.sim.finished[0]["energy"] == 22000
    status, data = await api.admin(
        "POST", url + "/reserve", json={"connector": 1, "minutes": 1}
    )
    assert (status, data["reserved_connectors"]) == (200, [1])
    await api.admin("POST", url + "/reserve", json={"connector": 2})
    api.sim.advance(60)
    assert api.sim.reserved_connectors(box.id) == [2]


@pytest.mark.parametrize(
    ("suffix", "body"),
    [
        ("/rfid_start", {"connector": 1}),
        ("/rfid_start", {"connector": 1, "id_tag": ""}),
        ("/rfid_start", {"connector": 3, "id_tag": "card"}),
        ("/rfid_start", {"connector": "1", "id_tag": "card"}),
        ("/rfid_start", {"connector": 2, "id_tag": "card"}),  # busy
        ("/app_start", {"connector": 2}),  # busy
        ("/end_charge", {"connector": 1}),  # nothing to end
        ("/reserve", {"connector": 1, "minutes": 0}),
        ("/reserve", {"connector": 1, "minutes": "5"}),
        ("/reserve", {"connector": 0}),
    ],
)
async def test_bad_charge_controls(
    api: Api, box: SimulatedChargebox, suffix: str, body: dict[str, object]
) -> None:
    api.sim.start_rfid_charge(box.id, 2, "busy")
    status, data = await api.admin("POST", BOX.format(id=box.id) + suffix, json=body)
    assert status == 400
    assert isinstance(data["message"], str)
    assert len(api.sim.running()) == 1
    assert api.sim.reservations() == []


@pytest.mark.parametrize("body", [{}, {"seconds": -1}, {"seconds": "1"}, None])
async def test_bad_advance(api: Api, body: dict[str, object] | None) -> None:
    assert (await api.admin("POST", "/advance", json=body))[0] == 400
    assert api.sim.now() == T0


async def test_account_partial_update(api: Api) -> None:
    status, account = await api.admin("POST", "/account", json={"add_key": "second"})
    assert status == 200
    assert account["api_keys"] == sorted([API_KEY, "second"])
    assert account["rest_enabled"] is True


async def test_admin_refuses_remote_callers(sim: ThorSimulator) -> None:
    app = sim.make_app()
    app.freeze()
    transport = mock.Mock()
    transport.get_extra_info.return_value = ("192.0.2.10", 40000)
    request = make_mocked_request(
        "GET", "/_simulator/state", app=app, transport=transport
    )
    response = await app._handle(request)
    assert response.status == 403


async def test_other_paths_are_plain_404(api: Api) -> None:
    async with api.session.get(api.sim.base_url.split("/latest")[0] + "/") as response:
        assert response.status == 404
    assert api.sim.requests == []
