"""The simulated Thor integration API over HTTP."""

import pytest

from thor_simulator import SimulatedChargebox, ThorSimulator

from .conftest import API_KEY, T0, Api

START = "/charges/start"
STOP = "/charges/stop"


async def start(api: Api, box: SimulatedChargebox, connector: int = 1) -> str:
    status, body, _ = await api.call(
        "POST", START, json={"chargebox": box.id, "connector": connector}
    )
    assert status == 200, body
    tag = body["id_tag"]
    assert isinstance(tag, str)
    return tag


# ------------------------------------------------------------------ access


@pytest.mark.parametrize("key", [None, "", "wrong"])
async def test_missing_or_unknown_key(api: Api, key: str | None) -> None:
    status, body, _ = await api.call("GET", "/chargeboxes", key=key)
    assert (status, body) == (403, {"message": "APIKeyNotFound"})


async def test_key_rotation(api: Api) -> None:
    api.sim.add_key("new-key")
    api.sim.revoke_key(API_KEY)
    assert (await api.call("GET", "/chargeboxes"))[0] == 403
    assert (await api.call("GET", "/chargeboxes", key="new-key"))[0] == 200


async def test_rest_disabled_checked_after_key(api: Api) -> None:
    api.sim.rest_enabled = False
    status, body, _ = await api.call("GET", "/chargeboxes")
    assert (status, body) == (403, {"message": "RestAPINotEnabled"})
    status, body, _ = await api.call("GET", "/chargeboxes", key="wrong")
    assert body == {"message": "APIKeyNotFound"}


async def test_source_ip(api: Api) -> None:
    api.sim.allowed_source_ip = "203.0.113.9"
    status, body, _ = await api.call("GET", "/chargeboxes")
    assert (status, body) == (403, {"message": "InvalidSourceIPAddr"})
    api.sim.allowed_source_ip = "127.0.0.1"
    assert (await api.call("GET", "/chargeboxes"))[0] == 200


async def test_unknown_path_and_method(api: Api) -> None:
    assert (await api.call("GET", "/nothing", key=None))[1] == {
        "message": "APIKeyNotFound"
    }
    assert (await api.call("GET", "/nothing"))[:2] == (404, {"message": "NotFound"})
    status, body, _ = await api.call("DELETE", "/charges/start")
    assert (status, body) == (405, {"message": "MethodNotAllowed"})


async def test_requests_are_logged(api: Api, box: SimulatedChargebox) -> None:
    await api.call("GET", f"/chargeboxes/{box.id}", key=None)
    await api.admin("GET", "/state")
    assert api.sim.requests == [("GET", f"/latest/integration/chargeboxes/{box.id}")]


async def test_unexpected_error_is_500(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(_chargebox: str | None = None) -> list[dict[str, object]]:
        raise RuntimeError("boom")

    monkeypatch.setattr(api.sim, "running", boom)
    status, body, _ = await api.call("GET", "/charges/running")
    assert (status, body) == (500, {"message": "InternalServerError"})


# ------------------------------------------------------------- chargeboxes


async def test_get_chargebox(api: Api, box: SimulatedChargebox) -> None:
    status, body, _ = await api.call("GET", f"/chargeboxes/{box.id}")
    assert status == 200
    assert body == {
        "active": True,
        "alias": "Garage",
        "connected": True,
        "public": False,
        "reservable": True,
        "connectors": [
            {
                "power": 22000,
                "type": "type_2",
                "format": "SOCKET",
                "max_amperage": 32,
                "power_type": "AC_3_PHASE",
                "terminal_id": c.terminal_id,
                "token": c.token,
            }
            for c in box.connectors
        ],
        "coordinates": {"latitude": box.latitude, "longitude": box.longitude},
        "id": box.id,
        "last_heartbeat": int(T0 * 1000),
        "timezone": "Europe/Rome",
        "type": {"vehicle": "car", "msg": "json", "version": "1.6"},
        "occupied_connectors": [],
        "reserved_connectors": [],
    }
    assert len(box.id) == 16
    assert box.id.isalnum()
    assert all(len(c.token) == 32 and c.terminal_id.isdigit() for c in box.connectors)


async def test_get_unknown_chargebox(api: Api) -> None:
    status, body, _ = await api.call("GET", "/chargeboxes/nope")
    assert (status, body) == (404, {"message": "ChargeboxNotFound"})


async def test_chargebox_id_is_percent_decoded(api: Api) -> None:
    api.sim.add_chargebox(alias="Odd", chargebox_id="a/b.c d")
    status, body, _ = await api.call("GET", "/chargeboxes/a%2Fb%2Ec%20d")
    assert status == 200
    assert body["id"] == "a/b.c d"


async def test_heartbeat_follows_the_clock_while_connected(
    api: Api, box: SimulatedChargebox
) -> None:
    api.sim.advance(30)
    body = (await api.call("GET", f"/chargeboxes/{box.id}"))[1]
    assert body["last_heartbeat"] == int((T0 + 30) * 1000)
    box.connected = False
    api.sim.advance(600)
    body = (await api.call("GET", f"/chargeboxes/{box.id}"))[1]
    assert body["connected"] is False
    assert body["last_heartbeat"] == int((T0 + 30) * 1000)


async def test_list_only_active_by_default(api: Api, box: SimulatedChargebox) -> None:
    other = api.sim.add_chargebox(alias="Off", active=False)
    ids = [b["id"] for b in (await api.call("GET", "/chargeboxes"))[1]]
    assert ids == [box.id]
    for value, expected in (
        ("false", [box.id, other.id]),
        ("0", [box.id, other.id]),
        ("TRUE", [box.id]),
        ("1", [box.id]),
    ):
        body = (await api.call("GET", "/chargeboxes", params={"onlyactive": value}))[1]
        assert [b["id"] for b in body] == expected


async def test_list_bad_onlyactive(api: Api) -> None:
    status, body, _ = await api.call(
        "GET", "/chargeboxes", params={"onlyactive": "maybe"}
    )
    assert (status, body) == (400, {"message": "BadRequest"})


async def test_list_empty(api: Api, box: SimulatedChargebox) -> None:
    box.active = False
    assert (await api.call("GET", "/chargeboxes"))[:2] == (200, [])


async def test_list_connector_type_filter(api: Api, box: SimulatedChargebox) -> None:
    bike = api.sim.add_chargebox(
        alias="Bikes", connector_type="schuko", vehicle="bicycle", power=3700
    )
    body = (await api.call("GET", "/chargeboxes", params={"type": "schuko"}))[1]
    assert [b["id"] for b in body] == [bike.id]
    assert body[0]["type"]["vehicle"] == "bicycle"
    assert body[0]["connectors"][0]["power"] == 3700
    body = (await api.call("GET", "/chargeboxes", params={"type": "type_2"}))[1]
    assert [b["id"] for b in body] == [box.id]


async def test_list_bounding_box(api: Api, box: SimulatedChargebox) -> None:
    far = api.sim.add_chargebox(alias="Rome", latitude=41.9, longitude=12.5)
    around_milan = {"cnelat": "46", "cnelng": "10", "cswlat": "45", "cswlng": "9"}
    body = (await api.call("GET", "/chargeboxes", params=around_milan))[1]
    assert [b["id"] for b in body] == [box.id]
    around_rome = {"cnelat": "41", "cnelng": "12", "cswlat": "42", "cswlng": "13"}
    body = (await api.call("GET", "/chargeboxes", params=around_rome))[1]
    assert [b["id"] for b in body] == [far.id]


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"cnelat": "46"}, "BadRequest"),
        ({"cnelat": "x", "cnelng": "1", "cswlat": "1", "cswlng": "1"}, "BadRequest"),
        (
            {"cnelat": "48", "cnelng": "10", "cswlat": "45", "cswlng": "9"},
            "BoundsTooBig",
        ),
        (
            {"cnelat": "46", "cnelng": "10", "cswlat": "45", "cswlng": "7"},
            "BoundsTooBig",
        ),
    ],
)
async def test_list_bad_bounding_box(
    api: Api, params: dict[str, str], code: str
) -> None:
    assert (await api.call("GET", "/chargeboxes", params=params))[:2] == (
        400,
        {"message": code},
    )


# ------------------------------------------------------------------ start


async def test_start_then_charge_appears_after_delay(
    api: Api, box: SimulatedChargebox
) -> None:
    sim = api.sim
    tag = await start(api, box, 2)
    assert len(tag) == 20
    assert sim.running() == []
    assert (await api.call("GET", f"/chargeboxes/{box.id}"))[1][
        "occupied_connectors"
    ] == []
    sim.advance(2.9)
    assert sim.running() == []
    sim.advance(0.1)
    status, body, _ = await api.call("GET", "/charges/running")
    assert status == 200
    assert body == {
        "count": 1,
        "items": [
            {
                "chargebox": box.id,
                "connector": 2,
                "date_started": int((T0 + 3) * 1000),
                "energy": 0,
                "id": 1001,
                "id_tag": None,
                "payment": None,
                "type": "api",
                "user": None,
            }
        ],
    }
    assert (await api.call("GET", f"/chargeboxes/{box.id}"))[1][
        "occupied_connectors"
    ] == [2]
    sim.advance(1800)
    assert sim.running()[0]["energy"] == 11000  # 22 kW for half an hour


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"chargebox": "nope", "connector": 1}, 404, "ChargeboxNotFound"),
        ({"connector": 1}, 400, "BadRequest"),
        ({"chargebox": "BOX", "connector": 0}, 400, "ConnectorNotValid"),
        ({"chargebox": "BOX", "connector": 3}, 400, "ConnectorNotValid"),
        ({"chargebox": "BOX", "connector": "1"}, 400, "ConnectorNotValid"),
        ({"chargebox": "BOX", "connector": True}, 400, "ConnectorNotValid"),
        ({"chargebox": "BOX"}, 400, "ConnectorNotValid"),
    ],
)
async def test_start_errors(
    api: Api,
    box: SimulatedChargebox,
    body: dict[str, object],
    status: int,
    code: str,
) -> None:
    if body.get("chargebox") == "BOX":
        body["chargebox"] = box.id
    assert (await api.call("POST", START, json=body))[:2] == (status, {"message": code})
    assert api.sim.pending_starts() == []


async def test_start_inactive_and_not_free(api: Api, box: SimulatedChargebox) -> None:
    body = {"chargebox": box.id, "connector": 1}
    box.active = False
    assert (await api.call("POST", START, json=body))[:2] == (
        403,
        {"message": "ChargeboxNotActive"},
    )
    box.active = True
    box.payment_free = False
    assert (await api.call("POST", START, json=body))[:2] == (
        402,
        {"message": "ChargeboxNotFree"},
    )


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"text"'])
async def test_malformed_body(api: Api, raw: str) -> None:
    for path in (START, STOP):
        status, body, _ = await api.call("POST", path, data=raw, key=API_KEY)
        assert (status, body) == (400, {"message": "BadRequest"})


async def test_start_on_busy_connector(api: Api, box: SimulatedChargebox) -> None:
    api.sim.start_rate_limit = 0
    body = {"chargebox": box.id, "connector": 1}
    await start(api, box)
    # Still pending (start_delay not elapsed): already in transaction.
    assert (await api.call("POST", START, json=body))[:2] == (
        400,
        {"message": "AlreadyInTransaction"},
    )
    api.sim.advance(10)
    assert (await api.call("POST", START, json=body))[:2] == (
        400,
        {"message": "AlreadyInTransaction"},
    )
    # The other connector is free.
    await start(api, box, 2)


async def test_start_rate_limit(api: Api, box: SimulatedChargebox) -> None:
    sim = api.sim
    tag = await start(api, box)
    body = {"chargebox": box.id, "connector": 1}
    status, data, response = await api.call("POST", START, json=body)
    assert (status, data) == (429, {"message": "TooManyRequests"})
    assert response.headers["Retry-After"] == "5"
    sim.advance(1.5)
    response = (await api.call("POST", START, json=body))[2]
    assert response.headers["Retry-After"] == "4"
    # The throttle is per connector.
    await start(api, box, 2)
    # Once the window is over, the transaction check applies again.
    sim.advance(4)
    assert (await api.call("POST", START, json=body))[:2] == (
        400,
        {"message": "AlreadyInTransaction"},
    )
    assert tag != sim.app_tag(box.id, 2)


async def test_rate_limit_without_retry_after(
    api: Api, box: SimulatedChargebox
) -> None:
    api.sim.faults.set(retry_after=False)
    await start(api, box)
    status, _, response = await api.call(
        "POST", START, json={"chargebox": box.id, "connector": 1}
    )
    assert status == 429
    assert "Retry-After" not in response.headers


@pytest.mark.parametrize("attribute", ["connected", "reject_starts"])
async def test_start_accepted_but_nothing_happens(
    api: Api, box: SimulatedChargebox, attribute: str
) -> None:
    setattr(box, attribute, attribute == "reject_starts")
    tag = await start(api, box)
    api.sim.advance(60)
    assert api.sim.running() == []
    assert api.sim.pending_starts() == []
    status, body, _ = await api.call(
        "POST", STOP, json={"chargebox": box.id, "connector": 1, "id_tag": tag}
    )
    assert (status, body) == (400, {"message": "NotInTransaction"})


# ------------------------------------------------------------------- stop


async def test_stop_after_delay(api: Api, box: SimulatedChargebox) -> None:
    sim = api.sim
    tag = await start(api, box)
    sim.advance(3 + 3600)
    status, body, response = await api.call(
        "POST",
        STOP,
        json={"chargebox": box.id, "connector": 1, "id_tag": tag, "transaction": 1001},
    )
    assert (status, body) == (200, None)
    assert response.content_length in (0, None)
    assert [c["id"] for c in sim.running()] == [1001]
    # A second stop while stopping is accepted and changes nothing.
    assert (
        await api.call(
            "POST", STOP, json={"chargebox": box.id, "connector": 1, "id_tag": tag}
        )
    )[0] == 200
    sim.advance(3)
    assert sim.running() == []
    assert sim.finished == [
        {
            "chargebox": box.id,
            "connector": 1,
            "date_started": int((T0 + 3) * 1000),
            "date_finished": int((T0 + 3606) * 1000),
            "energy": 22018,  # 22 kW for 3603 s
            "id": 1001,
            "id_tag": None,
            "payment": None,
            "type": "api",
            "user": None,
        }
    ]
    body = (await api.call("GET", f"/chargeboxes/{box.id}"))[1]
    assert body["occupied_connectors"] == []


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            {"chargebox": "nope", "connector": 1, "id_tag": "t"},
            404,
            "ChargeboxNotFound",
        ),
        ({"chargebox": 5, "connector": 1, "id_tag": "t"}, 400, "BadRequest"),
        ({"chargebox": "BOX", "connector": 0, "id_tag": "t"}, 400, "ConnectorNotValid"),
        (
            {"chargebox": "BOX", "connector": "x", "id_tag": "t"},
            400,
            "ConnectorNotValid",
        ),
        ({"chargebox": "BOX", "connector": 1}, 400, "BadRequest"),
        ({"chargebox": "BOX", "connector": 1, "id_tag": 7}, 400, "BadRequest"),
        (
            {"chargebox": "BOX", "connector": 1, "id_tag": "t", "transaction": "1"},
            400,
            "BadRequest",
        ),
        ({"chargebox": "BOX", "connector": 1, "id_tag": "t"}, 400, "NotInTransaction"),
        ({"chargebox": "BOX", "connector": 9, "id_tag": "t"}, 400, "NotInTransaction"),
    ],
)
async def test_stop_errors(
    api: Api,
    box: SimulatedChargebox,
    body: dict[str, object],
    status: int,
    code: str,
) -> None:
    if body.get("chargebox") == "BOX":
        body["chargebox"] = box.id
    assert (await api.call("POST", STOP, json=body))[:2] == (status, {"message": code})


async def test_stop_wrong_transaction(api: Api, box: SimulatedChargebox) -> None:
    tag = await start(api, box)
    for phase in ("pending", "running"):
        for body in (
            {"chargebox": box.id, "connector": 1, "id_tag": "other"},
            {"chargebox": box.id, "connector": 1, "id_tag": tag, "transaction": 9},
        ):
            assert (await api.call("POST", STOP, json=body))[:2] == (
                400,
                {"message": "WrongTransaction"},
            ), phase
        api.sim.advance(3)
    assert len(api.sim.running()) == 1


async def test_stop_cancels_a_pending_start(api: Api, box: SimulatedChargebox) -> None:
    tag = await start(api, box)
    status, _, _ = await api.call(
        "POST",
        STOP,
        json={"chargebox": box.id, "connector": 1, "id_tag": tag, "transaction": 1001},
    )
    assert status == 200
    api.sim.advance(60)
    assert api.sim.running() == []
    assert api.sim.finished == []


async def test_stop_of_a_pending_start_can_be_refused(
    api: Api, box: SimulatedChargebox
) -> None:
    """With `cancel_pending_on_stop` off, the stop is refused and the charge begins."""
    api.sim.cancel_pending_on_stop = False
    tag = await start(api, box)
    body = {"chargebox": box.id, "connector": 1, "id_tag": tag}
    assert (await api.call("POST", STOP, json=body))[:2] == (
        400,
        {"message": "NotInTransaction"},
    )
    api.sim.advance(60)
    assert len(api.sim.running()) == 1
    assert (await api.call("POST", STOP, json=body))[0] == 200


async def test_rfid_charge_shows_its_tag_and_stops_with_it(
    api: Api, box: SimulatedChargebox
) -> None:
    transaction = api.sim.start_rfid_charge(box.id, 1, "0012847382")
    items = (await api.call("GET", "/charges/running"))[1]["items"]
    assert items[0]["id"] == transaction
    assert items[0]["id_tag"] == "0012847382"
    assert items[0]["type"] == "local"
    assert items[0]["date_started"] == int(T0 * 1000)
    status, _, _ = await api.call(
        "POST", STOP, json={"chargebox": box.id, "connector": 1, "id_tag": "0012847382"}
    )
    assert status == 200
    api.sim.advance(3)
    assert api.sim.finished[0]["id_tag"] == "0012847382"


async def test_app_charge_needs_the_hidden_tag(
    api: Api, box: SimulatedChargebox
) -> None:
    api.sim.start_app_charge(box.id, 2)
    item = api.sim.running()[0]
    assert (item["id_tag"], item["type"]) == (None, "remote")
    body = {"chargebox": box.id, "connector": 2, "id_tag": "guess"}
    assert (await api.call("POST", STOP, json=body))[0] == 400
    body["id_tag"] = api.sim.app_tag(box.id, 2)
    assert (await api.call("POST", STOP, json=body))[0] == 200


# --------------------------------------------------- running, finished, reservations


async def test_running_filter(api: Api, box: SimulatedChargebox) -> None:
    other = api.sim.add_chargebox(alias="Other")
    api.sim.start_rfid_charge(box.id, 1, "a")
    api.sim.start_rfid_charge(other.id, 1, "b")
    body = (await api.call("GET", "/charges/running", params={"chargebox": other.id}))[
        1
    ]
    assert body["count"] == 1
    assert body["items"][0]["chargebox"] == other.id
    body = (await api.call("GET", "/charges/running", params={"chargebox": box.id}))[1]
    assert [(i["chargebox"], i["id_tag"]) for i in body["items"]] == [(box.id, "a")]
    body = (await api.call("GET", "/charges/running", params={"chargebox": "nope"}))[1]
    assert body == {"count": 0, "items": []}
    assert (await api.call("GET", "/charges/running"))[1]["count"] == 2


async def test_finished_by_date(api: Api, box: SimulatedChargebox) -> None:
    sim = api.sim
    other = sim.add_chargebox(alias="Other")
    sim.start_rfid_charge(box.id, 1, "a")
    sim.end_charge(box.id, 1)  # 2026-01-01
    sim.advance(86400)
    sim.start_rfid_charge(other.id, 1, "b")
    sim.advance(60)
    sim.end_charge(other.id, 1)  # 2026-01-02

    async def ids(**params: str) -> list[str]:
        status, body, _ = await api.call("GET", "/charges/finished", params=params)
        assert status == 200
        assert body["count"] == len(body["items"])
        return [item["chargebox"] for item in body["items"]]

    assert await ids(**{"from": "20260101", "to": "20260102"}) == [box.id, other.id]
    assert await ids(**{"from": "20260101", "to": "20260101"}) == [box.id]
    assert await ids(**{"from": "20260102", "to": "20260131"}) == [other.id]
    assert await ids(**{"from": "20251201", "to": "20251231"}) == []
    assert await ids(**{"from": "20260101", "to": "20260102", "chargebox": box.id}) == [
        box.id
    ]


@pytest.mark.parametrize(
    "params",
    [{}, {"from": "20260101"}, {"to": "20260101"}, {"from": "2026-01-01", "to": "x"}],
)
async def test_finished_needs_dates(api: Api, params: dict[str, str]) -> None:
    assert (await api.call("GET", "/charges/finished", params=params))[:2] == (
        400,
        {"message": "BadRequest"},
    )


async def test_reservations(api: Api, box: SimulatedChargebox) -> None:
    sim = api.sim
    other = sim.add_chargebox(alias="Other")
    sim.reserve(box.id, 2, minutes=10)
    sim.reserve(other.id, 1, minutes=30)
    body = (await api.call("GET", "/reservations"))[1]
    assert body["count"] == 2
    item = body["items"][0]
    assert item == {
        "date_accepted": int(T0 * 1000),
        "payment": None,
        "user": "simulator-user",
        "id_tag": item["id_tag"],
        "expiry_date": int((T0 + 600) * 1000),
        "client": "simulator",
        "status": 1,
        "chargebox": box.id,
        "connector": 2,
    }
    assert (await api.call("GET", f"/chargeboxes/{box.id}"))[1][
        "reserved_connectors"
    ] == [2]
    body = (await api.call("GET", "/reservations", params={"chargebox": other.id}))[1]
    assert [i["chargebox"] for i in body["items"]] == [other.id]
    sim.advance(600)
    assert (await api.call("GET", f"/chargeboxes/{box.id}"))[1][
        "reserved_connectors"
    ] == []
    assert (await api.call("GET", "/reservations"))[1]["count"] == 1


async def test_seeded_ids_are_reproducible() -> None:
    def run() -> tuple[str, str, str]:
        sim = ThorSimulator(seed=42, clock=lambda: T0)
        box = sim.add_chargebox(alias="A")
        sim.start_app_charge(box.id, 1)
        return box.id, box.connectors[0].token, sim.app_tag(box.id, 1)

    assert run() == run()
    assert run()[0] != ThorSimulator(seed=43).add_chargebox(alias="A").id
