"""The simulator's Python API (no HTTP)."""

import pytest

from thor_simulator import (
    SimulatedChargebox,
    SimulatorError,
    ThorSimulator,
    UnknownChargeboxError,
)

from .conftest import T0


def test_clock(sim: ThorSimulator) -> None:
    assert sim.now() == T0
    sim.advance(1.5)
    assert sim.now() == T0 + 1.5
    with pytest.raises(ValueError, match="forward"):
        sim.advance(-1)


def test_default_clock_is_wall_time() -> None:
    sim = ThorSimulator()
    before = sim.now()
    sim.advance(100)
    assert sim.now() >= before + 100


def test_add_chargebox_checks(sim: ThorSimulator, box: SimulatedChargebox) -> None:
    with pytest.raises(ValueError, match="at least one connector"):
        sim.add_chargebox(alias="None", connectors=0)
    with pytest.raises(ValueError, match="already exists"):
        sim.add_chargebox(alias="Dup", chargebox_id=box.id)
    with pytest.raises(TypeError):
        sim.add_chargebox(alias="Bad", colour="red")


def test_unknown_chargebox(sim: ThorSimulator) -> None:
    with pytest.raises(UnknownChargeboxError, match="No chargebox 'nope'") as exc:
        sim.end_charge("nope", 1)
    assert isinstance(exc.value, KeyError)
    assert str(UnknownChargeboxError()) == ""


def test_app_tag_of_pending_start_and_cancel(
    sim: ThorSimulator, box: SimulatedChargebox
) -> None:
    tag = sim.api_start({"chargebox": box.id, "connector": 1})
    assert sim.app_tag(box.id, 1) == tag
    sim.end_charge(box.id, 1)
    assert sim.pending_starts() == []
    with pytest.raises(SimulatorError, match="No charge"):
        sim.app_tag(box.id, 1)
    sim.advance(10)
    assert sim.running() == []


def test_pending_start_of_removed_chargebox(
    sim: ThorSimulator, box: SimulatedChargebox
) -> None:
    sim.api_start({"chargebox": box.id, "connector": 2})
    del sim.chargeboxes[box.id]
    sim.advance(10)
    assert sim.running() == []
    assert sim.pending_starts() == []


def test_energy_uses_connector_power(sim: ThorSimulator) -> None:
    bike = sim.add_chargebox(alias="Bike", power=3700)
    sim.start_rfid_charge(bike.id, 1, "card")
    sim.advance(3600)
    assert sim.running()[0]["energy"] == 3700


async def test_start_twice_and_base_url(sim: ThorSimulator) -> None:
    with pytest.raises(RuntimeError, match="not started"):
        _ = sim.base_url
    url = await sim.start()
    assert url == sim.base_url
    assert url.startswith("http://127.0.0.1:")
    assert url.endswith("/latest/integration")
    assert sim.admin_url == url.removesuffix("/latest/integration") + "/_simulator"
    with pytest.raises(RuntimeError, match="already started"):
        await sim.start()
    await sim.stop()
    await sim.stop()
    # It can serve again after a stop.
    await sim.start(host="0.0.0.0", access_log=True)  # noqa: S104
    assert sim.base_url.startswith("http://127.0.0.1:")
    await sim.stop()


async def test_ipv6_url(sim: ThorSimulator) -> None:
    try:
        url = await sim.start(host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    assert url.startswith("http://[::1]:")
    await sim.stop()
