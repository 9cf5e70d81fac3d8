"""Push notifications the simulator POSTs as Thor does (thor-api.md §3)."""

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from datetime import timedelta
import json
import time
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from freezegun.api import FrozenDateTimeFactory
import pytest

from thor_simulator import SimulatedChargebox, SimulatorError, ThorSimulator
from thor_simulator.cli import banner, build_simulator, parse_args
from thor_simulator.notifications import (
    NotificationSettings,
    check_notification_url,
    render,
)

from .conftest import API_KEY, T0, Api


@dataclass
class Receiver:
    """A small HTTP server on loopback recording what is POSTed to it."""

    url: str = ""
    texts: list[str] = field(default_factory=list)
    status: int = 200
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def bodies(self) -> list[Any]:
        return [json.loads(text) for text in self.texts]

    async def wait_for(self, count: int) -> None:
        """Wait (5 s at most) until `count` notifications arrived."""
        async with asyncio.timeout(5):
            while len(self.texts) < count:
                self.arrived.clear()
                await self.arrived.wait()

    @property
    def types(self) -> list[str]:
        return [body["type"] for body in self.bodies]

    async def handle(self, request: web.Request) -> web.Response:
        assert request.method == "POST"
        assert request.content_type == "application/json"
        self.texts.append(await request.text())
        self.arrived.set()
        return web.Response(status=self.status)


@pytest.fixture
async def receiver() -> AsyncGenerator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/api/webhook/thor", rec.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    rec.url = f"http://127.0.0.1:{port}/api/webhook/thor"
    yield rec
    await runner.cleanup()


@pytest.fixture
async def nsim(receiver: Receiver) -> AsyncGenerator[ThorSimulator]:
    """A simulator on a frozen clock, notifying `receiver`, without background task."""
    sim = ThorSimulator(
        api_key=API_KEY,
        seed=7,
        clock=lambda: T0,
        notification_url=receiver.url,
        notification_loop_interval=0,
    )
    yield sim
    await sim.stop()


@pytest.fixture
def nbox(nsim: ThorSimulator) -> SimulatedChargebox:
    return nsim.add_chargebox(alias="Garage", connectors=2, chargebox_id="BOX1")


def meters_22kw(energy: int) -> list[dict[str, Any]]:
    """The meters of a 22 kW three-phase charge that delivered `energy` Wh."""
    return [
        {
            "measurand": "Energy.Active.Import.Register",
            "uom": "Wh",
            "value": float(energy),
            "phase": None,
        },
        *(
            {
                "measurand": "Power.Active.Import",
                "uom": "W",
                "phase": phase,
                "value": 7333.3,
            }
            for phase in ("L1", "L2", "L3")
        ),
        *(
            {"measurand": "Current.Import", "uom": "A", "phase": phase, "value": 31.88}
            for phase in ("L1", "L2", "L3")
        ),
    ]


# ------------------------------------------------------------------ kinds


async def test_nothing_without_url(sim: ThorSimulator, box: SimulatedChargebox) -> None:
    assert sim.notification_url is None
    sim.start_rfid_charge(box.id, 1, "card")
    sim.advance(60)
    sim.end_charge(box.id, 1)
    assert await sim.async_send_notifications() == []
    assert sim.notifier.queued == 0
    assert sim.notifier.counters.sent == 0
    await sim.stop()


async def test_rfid_charge_start_meters_stop(
    nsim: ThorSimulator, nbox: SimulatedChargebox, receiver: Receiver
) -> None:
    transaction = nsim.start_rfid_charge(nbox.id, 2, "0012847382")
    start = {
        "type": "start",
        "accepted": True,
        "chargebox": "BOX1",
        "connector": 2,
        "id": "0012847382",
        "transaction_id": transaction,
        "mode": "local",
    }
    assert await nsim.async_send_notifications() == [start]
    assert receiver.bodies == [start]
    nsim.advance(5)
    meters = {
        "type": "meters",
        "chargebox": "BOX1",
        "connector": 2,
        "idTag": "0012847382",
        "time": "00:00:05",
        "kwh": 30,
        "meters": meters_22kw(30),
    }
    assert await nsim.async_send_notifications() == [meters]
    nsim.advance(3600)
    nsim.end_charge(nbox.id, 2)
    sent = await nsim.async_send_notifications()
    assert sent == [
        {
            "type": "stop_transaction",
            "accepted": True,
            "unlocked": False,
            "chargebox": "BOX1",
            "connector": 2,
            "idTag": "0012847382",
            "transaction_id": transaction,
            "kwh": 22030,
            "time": 3605,
        }
    ]
    assert receiver.bodies == [start, meters, *sent]
    counters = nsim.notifier.counters.to_dict()
    assert counters == {
        "sent": 3,
        "failed": 0,
        "dropped": 0,
        "duplicated": 0,
        "last_status": 200,
        "last_error": None,
    }


async def test_api_start_and_stop_at_their_due_time(
    nsim: ThorSimulator, nbox: SimulatedChargebox, receiver: Receiver
) -> None:
    await nsim.start()
    async with aiohttp.ClientSession() as session:
        api = Api(nsim, session)
        status, body, _ = await api.call(
            "POST", "/charges/start", json={"chargebox": "BOX1", "connector": 1}
        )
        assert status == 200
        id_tag = body["id_tag"]
        assert await nsim.async_send_notifications() == []
        nsim.advance(2.9)
        assert await nsim.async_send_notifications() == []
        nsim.advance(0.1)
        assert await nsim.async_send_notifications() == [
            {
                "type": "start",
                "accepted": True,
                "chargebox": "BOX1",
                "connector": 1,
                "id": id_tag,
                "transaction_id": 1001,
                "mode": "api",
            }
        ]
        nsim.advance(1)
        status, _, _ = await api.call(
            "POST",
            "/charges/stop",
            json={"chargebox": "BOX1", "connector": 1, "id_tag": id_tag},
        )
        assert status == 200
        assert await nsim.async_send_notifications() == []
        nsim.advance(3)
        (stop,) = await nsim.async_send_notifications()
    assert stop["type"] == "stop_transaction"
    assert (stop["idTag"], stop["transaction_id"]) == (id_tag, 1001)
    assert (stop["time"], stop["kwh"]) == (4, int(22000 * 4 / 3600))
    assert receiver.types == ["start", "stop_transaction"]


async def test_rejected_api_start(
    nsim: ThorSimulator, nbox: SimulatedChargebox
) -> None:
    nbox.reject_starts = True
    id_tag = nsim.api_start({"chargebox": "BOX1", "connector": 2})
    assert await nsim.async_send_notifications() == []
    nsim.advance(3)
    assert await nsim.async_send_notifications() == [
        {
            "type": "start",
            "accepted": False,
            "chargebox": "BOX1",
            "connector": 2,
            "id": id_tag,
            "transaction_id": 0,
            "mode": "api",
        }
    ]
    # Polling still never shows the charge.
    assert nsim.running() == []
    assert nsim.pending_starts() == []
    nsim.advance(10)
    assert await nsim.async_send_notifications() == []


async def test_start_on_disconnected_box_is_never_notified(
    nsim: ThorSimulator, nbox: SimulatedChargebox
) -> None:
    nbox.connected = False
    nsim.api_start({"chargebox": "BOX1", "connector": 1})
    nsim.advance(10)
    assert await nsim.async_send_notifications() == []


async def test_app_charge_uses_the_hidden_tag(
    nsim: ThorSimulator, nbox: SimulatedChargebox
) -> None:
    transaction = nsim.start_app_charge(nbox.id, 1, power=7400)
    tag = nsim.app_tag(nbox.id, 1)
    (start,) = await nsim.async_send_notifications()
    assert (start["mode"], start["id"], start["transaction_id"]) == (
        "remote",
        tag,
        transaction,
    )
    nsim.advance(5)
    (meters,) = await nsim.async_send_notifications()
    assert meters["idTag"] == tag
    powers = [m["value"] for m in meters["meters"] if m["uom"] == "W"]
    assert powers == [2466.7, 2466.7, 2466.7]


async def test_single_phase_meters(nsim: ThorSimulator) -> None:
    bike = nsim.add_chargebox(
        alias="Bike", power=3700, power_type="AC_1_PHASE", chargebox_id="BIKE"
    )
    nsim.start_rfid_charge(bike.id, 1, "card")
    nsim.advance(90)
    _, meters = await nsim.async_send_notifications()
    assert meters["time"] == "00:01:30"
    assert meters["kwh"] == 92
    assert meters["meters"] == [
        {
            "measurand": "Energy.Active.Import.Register",
            "uom": "Wh",
            "value": 92.0,
            "phase": None,
        },
        {
            "measurand": "Power.Active.Import",
            "uom": "W",
            "phase": "L1",
            "value": 3700.0,
        },
        {"measurand": "Current.Import", "uom": "A", "phase": "L1", "value": 16.09},
    ]


async def test_meter_interval(nsim: ThorSimulator, nbox: SimulatedChargebox) -> None:
    nsim.configure_notifications(meter_interval=10)
    nsim.start_rfid_charge(nbox.id, 1, "a")
    nsim.start_rfid_charge(nbox.id, 2, "b")
    assert [b["type"] for b in await nsim.async_send_notifications()] == [
        "start",
        "start",
    ]
    nsim.advance(9)
    assert await nsim.async_send_notifications() == []
    nsim.advance(1)
    sent = await nsim.async_send_notifications()
    assert [(b["type"], b["connector"], b["time"]) for b in sent] == [
        ("meters", 1, "00:00:10"),
        ("meters", 2, "00:00:10"),
    ]
    # At most one per interval, also after a jump of the clock.
    nsim.advance(35)
    assert [b["time"] for b in await nsim.async_send_notifications()] == [
        "00:00:45",
        "00:00:45",
    ]
    assert await nsim.async_send_notifications() == []
    nsim.advance(5)
    assert await nsim.async_send_notifications() == []
    nsim.end_charge(nbox.id, 1)
    nsim.advance(5)
    sent = await nsim.async_send_notifications()
    assert [(b["type"], b["connector"]) for b in sent] == [
        ("stop_transaction", 1),
        ("meters", 2),
    ]


async def test_order_of_events_between_sends(
    nsim: ThorSimulator, nbox: SimulatedChargebox
) -> None:
    """Everything that happened since the last send goes out in time order."""
    nsim.stop_delay = 0
    nsim.start_rfid_charge(nbox.id, 1, "card")
    nsim.advance(2)
    id_tag = nsim.api_start({"chargebox": "BOX1", "connector": 2})
    nsim.advance(3)
    nsim.api_stop({"chargebox": "BOX1", "connector": 1, "id_tag": "card"})
    sent = await nsim.async_send_notifications()
    assert [(b["type"], b["connector"]) for b in sent] == [
        ("start", 1),
        ("start", 2),
        ("stop_transaction", 1),
    ]
    assert sent[1]["id"] == id_tag


async def test_payment_block_on_paid_box(nsim: ThorSimulator) -> None:
    paid = nsim.add_chargebox(
        alias="Paid", chargebox_id="PAID", payment_free=False, price_per_kwh=0.5
    )
    nsim.start_rfid_charge(paid.id, 1, "card")
    nsim.advance(5)
    nsim.end_charge(paid.id, 1)
    sent = await nsim.async_send_notifications()
    assert [b["type"] for b in sent] == ["start", "stop_transaction"]
    for body in sent:
        assert body["payment"] == {
            "type": "consume-based",
            "options": {
                "theshold_hour": 0,
                "unit": "kwh",
                "currency": "eur",
                "amount": 0.5,
                "start_charge": 0.0,
                "minimum_threshold": 0,
            },
        }


async def test_historic_charges_are_not_notified(
    nsim: ThorSimulator, nbox: SimulatedChargebox
) -> None:
    nsim.add_finished_charge(nbox.id, 1, started=T0 - 3600, finished=T0 - 60)
    assert await nsim.async_send_notifications() == []


async def test_follows_freezegun(
    receiver: Receiver, freezer: FrozenDateTimeFactory
) -> None:
    sim = ThorSimulator(
        api_key=API_KEY,
        start_delay=0,
        clock=lambda: time.time(),  # noqa: PLW0108
        notification_url=receiver.url,
        notification_loop_interval=0,
    )
    box = sim.add_chargebox(alias="Garage", chargebox_id="BOX1")
    sim.api_start({"chargebox": box.id, "connector": 1})
    assert [b["type"] for b in await sim.async_send_notifications()] == ["start"]
    freezer.tick(timedelta(seconds=4))
    assert await sim.async_send_notifications() == []
    freezer.tick(timedelta(seconds=1))
    assert [b["time"] for b in await sim.async_send_notifications()] == ["00:00:05"]
    await sim.stop()
    assert receiver.types == ["start", "meters"]


# -------------------------------------------------------- duplicate type key


def test_render_duplicate_type_key() -> None:
    body = {"type": "start", "accepted": True, "connector": 1, "mode": "api"}
    assert render(body) == json.dumps(body)
    assert (
        render(body, duplicate_type_key=True)
        == '{"type": "start", "accepted": true, "connector": 1, "type": "api"}'
    )
    # Other kinds have no mode key to misspell.
    stop = {"type": "stop_transaction", "kwh": 1}
    assert render(stop, duplicate_type_key=True) == json.dumps(stop)


async def test_duplicate_type_key_on_the_wire(
    nsim: ThorSimulator, nbox: SimulatedChargebox, receiver: Receiver
) -> None:
    nsim.configure_notifications(duplicate_type_key=True)
    nsim.start_rfid_charge(nbox.id, 1, "0012847382")
    nsim.advance(5)
    (start, meters) = await nsim.async_send_notifications()
    # The returned body keeps the mode; the text sent has two "type" keys.
    assert start["mode"] == "local"
    pairs = json.loads(receiver.texts[0], object_pairs_hook=list)
    assert pairs == [
        ("type", "start"),
        ("accepted", True),
        ("chargebox", "BOX1"),
        ("connector", 1),
        ("id", "0012847382"),
        ("transaction_id", start["transaction_id"]),
        ("type", "local"),
    ]
    # A plain JSON parser keeps the last "type".
    assert receiver.bodies[0]["type"] == "local"
    assert receiver.bodies[1] == meters


# ------------------------------------------------------------------- faults


async def test_drop_next(
    nsim: ThorSimulator, nbox: SimulatedChargebox, receiver: Receiver
) -> None:
    nsim.configure_notifications(drop_next=2)
    nsim.start_rfid_charge(nbox.id, 1, "a")
    nsim.start_rfid_charge(nbox.id, 2, "b")
    nsim.end_charge(nbox.id, 1)
    sent = await nsim.async_send_notifications()
    assert [(b["type"], b["connector"]) for b in sent] == [("stop_transaction", 1)]
    assert receiver.types == ["stop_transaction"]
    assert nsim.notifier.settings.drop_next == 0
    assert nsim.notifier.counters.dropped == 2


async def _drops(receiver_url: str, seed: int) -> list[int]:
    sim = ThorSimulator(
        seed=seed,
        clock=lambda: T0,
        notification_url=receiver_url,
        notification_loop_interval=0,
        stop_delay=0,
    )
    box = sim.add_chargebox(alias="Garage", connectors=20)
    sim.configure_notifications(drop=0.5)
    for connector in range(1, 21):
        sim.start_rfid_charge(box.id, connector, f"card{connector}")
    sent = await sim.async_send_notifications()
    await sim.stop()
    assert sim.notifier.counters.dropped == 20 - len(sent)
    return [body["connector"] for body in sent]


async def test_drop_probability_is_seeded(receiver: Receiver) -> None:
    first = await _drops(receiver.url, 3)
    assert 0 < len(first) < 20
    assert await _drops(receiver.url, 3) == first


async def test_drop_all(nsim: ThorSimulator, nbox: SimulatedChargebox) -> None:
    nsim.configure_notifications(drop=1)
    nsim.start_rfid_charge(nbox.id, 1, "a")
    assert await nsim.async_send_notifications() == []
    assert nsim.notifier.counters.dropped == 1


async def test_duplicate(
    nsim: ThorSimulator, nbox: SimulatedChargebox, receiver: Receiver
) -> None:
    nsim.configure_notifications(duplicate=True)
    nsim.start_rfid_charge(nbox.id, 1, "a")
    sent = await nsim.async_send_notifications()
    assert len(sent) == 2
    assert sent[0] == sent[1]
    assert len(receiver.texts) == 2
    assert receiver.texts[0] == receiver.texts[1]
    counters = nsim.notifier.counters
    assert (counters.sent, counters.duplicated) == (2, 1)


async def test_delay(nsim: ThorSimulator, nbox: SimulatedChargebox) -> None:
    nsim.configure_notifications(delay=10, meter_interval=10)
    nsim.start_rfid_charge(nbox.id, 1, "a")
    nsim.advance(9)
    assert await nsim.async_send_notifications() == []
    assert nsim.notifier.queued == 1
    nsim.advance(1)
    assert [b["type"] for b in await nsim.async_send_notifications()] == ["start"]
    # The meter created now (10 s after the start) waits its own 10 s.
    assert nsim.notifier.queued == 1
    nsim.advance(10)
    sent = await nsim.async_send_notifications()
    assert [(b["type"], b["time"]) for b in sent] == [("meters", "00:00:10")]


async def test_reorder(
    nsim: ThorSimulator, nbox: SimulatedChargebox, receiver: Receiver
) -> None:
    nsim.configure_notifications(reorder=True)
    nsim.start_rfid_charge(nbox.id, 1, "a")
    assert await nsim.async_send_notifications() == []
    assert nsim.notifier.queued == 1
    nsim.end_charge(nbox.id, 1)
    sent = await nsim.async_send_notifications()
    assert [b["type"] for b in sent] == ["stop_transaction", "start"]
    assert receiver.types == ["stop_transaction", "start"]
    # One held when reorder is turned off goes out with the next send.
    nsim.start_rfid_charge(nbox.id, 2, "b")
    assert await nsim.async_send_notifications() == []
    nsim.configure_notifications(reorder=False)
    assert [b["connector"] for b in await nsim.async_send_notifications()] == [2]


async def test_disabled_sends_and_queues_nothing(
    nsim: ThorSimulator, nbox: SimulatedChargebox, receiver: Receiver
) -> None:
    nsim.configure_notifications(delay=5)
    nsim.start_rfid_charge(nbox.id, 1, "a")
    assert nsim.notifier.queued == 1
    nsim.configure_notifications(enabled=False)
    assert nsim.notifier.queued == 0
    nsim.start_rfid_charge(nbox.id, 2, "b")
    nsim.advance(60)
    assert await nsim.async_send_notifications() == []
    assert nsim.notifier.queued == 0
    nsim.configure_notifications(enabled=True, delay=0)
    # Only what happens from now on: the meters of the two running charges.
    sent = await nsim.async_send_notifications()
    assert [(b["type"], b["connector"]) for b in sent] == [
        ("meters", 1),
        ("meters", 2),
    ]
    assert receiver.types == ["meters", "meters"]


async def test_removing_the_url_forgets_the_queue(
    nsim: ThorSimulator, nbox: SimulatedChargebox, receiver: Receiver
) -> None:
    nsim.configure_notifications(delay=5)
    nsim.start_rfid_charge(nbox.id, 1, "a")
    nsim.notification_url = None
    assert nsim.notifier.queued == 0
    nsim.notification_url = receiver.url
    nsim.advance(5)
    sent = await nsim.async_send_notifications()
    assert [b["type"] for b in sent] == []
    assert receiver.texts == []


async def test_errors_are_counted_never_raised(
    nsim: ThorSimulator, nbox: SimulatedChargebox, receiver: Receiver
) -> None:
    receiver.status = 500
    nsim.start_rfid_charge(nbox.id, 1, "a")
    assert len(await nsim.async_send_notifications()) == 1
    counters = nsim.notifier.counters
    assert (counters.sent, counters.failed, counters.last_status) == (0, 1, 500)
    # Nobody listening on that port.
    with socket_bound() as port:
        nsim.notification_url = f"http://127.0.0.1:{port}/hook"
        nsim.end_charge(nbox.id, 1)
        assert len(await nsim.async_send_notifications()) == 1
    assert (counters.failed, counters.last_status) == (2, None)
    assert counters.last_error is not None
    receiver.status = 200
    nsim.notification_url = receiver.url
    nsim.start_rfid_charge(nbox.id, 1, "b")
    await nsim.async_send_notifications()
    assert (counters.sent, counters.last_status, counters.last_error) == (1, 200, None)


class socket_bound:  # noqa: N801
    """A loopback port that is bound but not listening (connections are refused)."""

    def __enter__(self) -> int:
        import socket  # noqa: PLC0415

        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        return int(self._sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self._sock.close()


# ------------------------------------------------------------ background task


async def test_background_sender(
    receiver: Receiver, box: SimulatedChargebox, sim: ThorSimulator
) -> None:
    sim.notification_url = receiver.url
    await sim.start()
    try:
        sim.start_rfid_charge(box.id, 1, "card")
        await receiver.wait_for(1)
        assert receiver.types == ["start"]
        # Already sent by the task: nothing twice.
        assert await sim.async_send_notifications() == []
        sim.advance(5)
        await receiver.wait_for(2)
        await asyncio.sleep(0.5)
        assert receiver.types == ["start", "meters"]
    finally:
        await sim.stop()
    assert sim._notification_task is None


async def test_background_sender_under_test_server(
    receiver: Receiver, box: SimulatedChargebox, sim: ThorSimulator
) -> None:
    sim.notification_url = receiver.url
    server = TestServer(sim.make_app(), host="127.0.0.1")
    await server.start_server()
    try:
        sim.start_app_charge(box.id, 2)
        await receiver.wait_for(1)
        assert receiver.bodies[0]["mode"] == "remote"
    finally:
        await server.close()
    assert sim._notification_task is None


async def test_no_background_task_when_interval_is_zero(
    nsim: ThorSimulator, nbox: SimulatedChargebox, receiver: Receiver
) -> None:
    await nsim.start()
    nsim.start_rfid_charge(nbox.id, 1, "card")
    await asyncio.sleep(0.3)
    assert receiver.texts == []
    assert nsim._notification_task is None


# --------------------------------------------------------------- admin API


async def test_admin_get_and_set(api: Api, receiver: Receiver) -> None:
    status, settings = await api.admin("GET", "/notifications")
    assert status == 200
    assert settings == {
        "url": None,
        "enabled": True,
        "meter_interval": 5.0,
        "duplicate_type_key": False,
        "drop": 0.0,
        "drop_next": 0,
        "duplicate": False,
        "delay": 0.0,
        "reorder": False,
        "counters": {
            "sent": 0,
            "failed": 0,
            "dropped": 0,
            "duplicated": 0,
            "last_status": None,
            "last_error": None,
        },
        "queued": 0,
    }
    status, settings = await api.admin(
        "POST",
        "/notifications",
        json={"url": receiver.url, "meter_interval": 2, "duplicate_type_key": True},
    )
    assert status == 200
    assert (settings["url"], settings["meter_interval"]) == (receiver.url, 2.0)
    assert settings["duplicate_type_key"] is True
    assert api.sim.notification_url == receiver.url
    state = (await api.admin("GET", "/state"))[1]
    assert state["notifications"]["url"] == receiver.url
    assert state["notifications"]["counters"]["sent"] == 0
    status, settings = await api.admin("POST", "/notifications", json={"url": None})
    assert (status, settings["url"]) == (200, None)


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://127.0.0.1/hook"},
        {"url": "http://192.0.2.1:8123/api/webhook/x"},
        {"url": "http://example.com/hook"},
        {"url": "http://127.0.0.1:99999/hook"},
        {"url": "http:///hook"},
        {"url": 5},
        {"enabled": "yes"},
        {"meter_interval": 0},
        {"meter_interval": True},
        {"drop": 1.5},
        {"drop": -0.1},
        {"drop_next": -1},
        {"drop_next": 1.5},
        {"delay": -1},
        {"duplicate": 1},
        {"reorder": None},
        {"nope": 1},
        {"meter_interval": 3, "drop": 2},
    ],
)
async def test_admin_validation(api: Api, body: dict[str, Any]) -> None:
    status, answer = await api.admin("POST", "/notifications", json=body)
    assert status == 400
    assert answer["message"]
    # Nothing applied.
    assert api.sim.notifier.settings == NotificationSettings()


async def test_admin_refuses_non_object(api: Api) -> None:
    assert (await api.admin("POST", "/notifications", json=[1]))[0] == 400


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8123/api/webhook/abc",
        "https://localhost/hook",
        "http://[::1]:8123/hook",
        "http://127.1.2.3/",
    ],
)
def test_loopback_urls_accepted(url: str) -> None:
    assert check_notification_url(url) == url


def test_constructor_refuses_remote_url() -> None:
    with pytest.raises(ValueError, match="loopback"):
        ThorSimulator(notification_url="http://192.0.2.1/hook")
    sim = ThorSimulator()
    with pytest.raises(SimulatorError, match="http"):
        sim.notification_url = "file:///etc/passwd"


# --------------------------------------------------------------------- CLI


def test_cli_notification_url() -> None:
    args = parse_args(
        [
            "--notification-url",
            "http://127.0.0.1:8123/api/webhook/x",
            "--meter-interval",
            "2",
        ]
    )
    sim = build_simulator(args)
    assert sim.notification_url == "http://127.0.0.1:8123/api/webhook/x"
    assert sim.notifier.settings.meter_interval == 2.0
    sim._base_url = "http://127.0.0.1:1/latest/integration"
    sim._admin_url = "http://127.0.0.1:1/_simulator"
    assert "Notifications: http://127.0.0.1:8123/api/webhook/x" in banner(sim)
    default = build_simulator(parse_args([]))
    assert default.notification_url is None
    assert default.notifier.settings.meter_interval == 5.0


@pytest.mark.parametrize(
    "argv",
    [
        ["--notification-url", "http://example.com/hook"],
        ["--notification-url", "127.0.0.1:8123"],
        ["--meter-interval", "0"],
    ],
)
def test_cli_bad_notification_options(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        parse_args(argv)
    assert "error" in capsys.readouterr().err
