"""Successful round trips against the simulator: read, start, follow, stop."""

from datetime import UTC, datetime

import pytest

from custom_components.thor.thor_api import (
    ConnectorFormat,
    ConnectorType,
    PowerType,
    ThorChargeboxNotFoundError,
    ThorClient,
    ThorWrongTransactionError,
    Vehicle,
)
from thor_simulator import ThorSimulator

from .conftest import PREFIX, SIM_EPOCH, START_DELAY, START_RATE_LIMIT, STOP_DELAY


async def test_list_chargeboxes(client: ThorClient, sim: ThorSimulator) -> None:
    sim.chargeboxes["street"].active = False

    active = await client.list_chargeboxes()
    every = await client.list_chargeboxes(only_active=False)

    assert [box.id for box in active] == ["garage"]
    assert sorted(box.id for box in every) == ["garage", "street"]
    street = next(box for box in every if box.id == "street")
    assert street.active is False
    assert street.name == "Street"


async def test_get_chargebox(client: ThorClient, sim: ThorSimulator) -> None:
    simulated = sim.chargeboxes["garage"]
    simulated.connectors[1].power = 50000
    simulated.connectors[1].type = "ccs"
    simulated.connectors[1].format = "CABLE"
    simulated.connectors[1].power_type = "DC"
    simulated.connectors[1].max_amperage = 125

    box = await client.get_chargebox("garage")

    assert box.id == "garage"
    assert box.name == "Garage"
    assert (box.active, box.connected, box.public, box.reservable) == (
        True,
        True,
        False,
        True,
    )
    assert box.coordinates is not None
    assert box.coordinates.latitude == simulated.latitude
    assert box.timezone == "Europe/Rome"
    assert box.type.vehicle is Vehicle.CAR
    assert (box.type.msg, box.type.version) == ("json", "1.6")
    assert box.last_heartbeat == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert box.occupied_connectors == frozenset()
    assert box.reserved_connectors == frozenset()
    first, second = box.connectors
    assert (first.number, first.power, first.max_amperage) == (1, 22000, 32)
    assert first.type is ConnectorType.TYPE_2
    assert first.format is ConnectorFormat.SOCKET
    assert first.power_type is PowerType.AC_3_PHASE
    assert first.terminal_id == simulated.connectors[0].terminal_id
    assert first.token == simulated.connectors[0].token
    assert (second.number, second.power, second.max_amperage) == (2, 50000, 125)
    assert second.type is ConnectorType.CCS
    assert second.format is ConnectorFormat.CABLE
    assert second.power_type is PowerType.DC


async def test_offline_chargebox(client: ThorClient, sim: ThorSimulator) -> None:
    sim.chargeboxes["street"].connected = False

    box = await client.get_chargebox("street")

    assert box.connected is False
    assert box.connectors[0].power == 7400


async def test_api_start_then_stop(client: ThorClient, sim: ThorSimulator) -> None:
    """The whole remote-charge workflow as the integration drives it."""
    id_tag = await client.start_charge("garage", 1)

    assert isinstance(id_tag, str)
    assert id_tag
    # Forwarded only: the charge is not there until the box has started it.
    assert await client.running_charges() == []
    assert (await client.get_chargebox("garage")).occupied_connectors == frozenset()

    sim.advance(START_DELAY - 1)
    assert await client.running_charges() == []

    sim.advance(1)
    (charge,) = await client.running_charges()
    assert (charge.chargebox, charge.connector) == ("garage", 1)
    assert charge.id_tag is None  # Thor hides the tag of API starts
    assert charge.id is not None
    assert charge.date_started == datetime.fromtimestamp(
        SIM_EPOCH + START_DELAY, tz=UTC
    )
    assert charge.energy == 0
    assert (await client.get_chargebox("garage")).occupied_connectors == {1}

    sim.advance(3600)
    (charge,) = await client.running_charges("garage")
    assert charge.energy == 22000

    await client.stop_charge("garage", 1, id_tag, charge.id)
    # Stopping is forwarded too: the charge ends once the box has stopped it.
    assert len(await client.running_charges()) == 1
    sim.advance(STOP_DELAY)
    assert await client.running_charges() == []
    assert (await client.get_chargebox("garage")).occupied_connectors == frozenset()


async def test_stop_with_id_tag_only(client: ThorClient, sim: ThorSimulator) -> None:
    id_tag = await client.start_charge("street", 1)
    sim.advance(START_DELAY)

    await client.stop_charge("street", 1, id_tag)
    sim.advance(STOP_DELAY)

    assert await client.running_charges() == []


async def test_id_tag_is_needed_to_stop(client: ThorClient, sim: ThorSimulator) -> None:
    """Another start's id_tag does not stop the charge."""
    first = await client.start_charge("garage", 1)
    second = await client.start_charge("garage", 2)
    sim.advance(START_DELAY)
    assert first != second

    with pytest.raises(ThorWrongTransactionError):
        await client.stop_charge("garage", 1, second)
    await client.stop_charge("garage", 2, second)
    sim.advance(STOP_DELAY)

    assert [c.connector for c in await client.running_charges()] == [1]


async def test_start_that_the_box_rejects(
    client: ThorClient, sim: ThorSimulator
) -> None:
    """Thor answers 200 with an id_tag even when the box will not start."""
    sim.chargeboxes["garage"].reject_starts = True

    assert await client.start_charge("garage", 1)
    sim.advance(START_DELAY)

    assert await client.running_charges() == []


async def test_running_charges_of_one_chargebox(
    client: ThorClient, sim: ThorSimulator
) -> None:
    await client.start_charge("garage", 2)
    await client.start_charge("street", 1)
    sim.advance(START_DELAY)

    every = await client.running_charges()
    garage = await client.running_charges("garage")
    street = await client.running_charges("street")

    assert sorted((c.chargebox, c.connector) for c in every) == [
        ("garage", 2),
        ("street", 1),
    ]
    assert [(c.chargebox, c.connector) for c in garage] == [("garage", 2)]
    assert [(c.chargebox, c.connector) for c in street] == [("street", 1)]
    assert await client.running_charges("unknown-box") == []


async def test_rfid_charge_exposes_its_id_tag(
    client: ThorClient, sim: ThorSimulator
) -> None:
    """A card charge shows the card, which is also what stops it."""
    transaction = sim.start_rfid_charge("garage", 2, "04A2B3C4")

    (charge,) = await client.running_charges("garage")

    assert charge.id_tag == "04A2B3C4"
    assert charge.id == transaction
    assert charge.connector == 2
    assert charge.type == "local"

    assert charge.id_tag is not None
    await client.stop_charge("garage", 2, charge.id_tag, charge.id)
    sim.advance(STOP_DELAY)
    assert await client.running_charges() == []


async def test_app_charge_has_no_id_tag(client: ThorClient, sim: ThorSimulator) -> None:
    sim.start_app_charge("street", 1)

    (charge,) = await client.running_charges()

    assert charge.chargebox == "street"
    assert charge.id_tag is None
    assert charge.type == "remote"


async def test_charge_ended_at_the_box(client: ThorClient, sim: ThorSimulator) -> None:
    sim.start_rfid_charge("street", 1, "card")

    sim.end_charge("street", 1)

    assert await client.running_charges() == []


async def test_reserved_connector(client: ThorClient, sim: ThorSimulator) -> None:
    sim.reserve("garage", 2, minutes=15)

    assert (await client.get_chargebox("garage")).reserved_connectors == {2}
    sim.advance(15 * 60)
    assert (await client.get_chargebox("garage")).reserved_connectors == frozenset()


async def test_start_again_after_the_rate_limit(
    client: ThorClient, sim: ThorSimulator
) -> None:
    id_tag = await client.start_charge("street", 1)
    sim.advance(START_DELAY)
    await client.stop_charge("street", 1, id_tag)
    sim.advance(max(STOP_DELAY, START_RATE_LIMIT - START_DELAY))

    again = await client.start_charge("street", 1)
    sim.advance(START_DELAY)

    assert again != id_tag
    assert [c.connector for c in await client.running_charges("street")] == [1]


@pytest.mark.parametrize(
    "chargebox_id",
    ["../x", "..", ".", "a/b?c#d", "../../charges/start", "%2E%2E", "with space"],
)
async def test_odd_chargebox_ids_reach_the_chargebox(
    client: ThorClient, sim: ThorSimulator, chargebox_id: str
) -> None:
    """An id full of URL syntax is one path segment: Thor finds exactly that box."""
    sim.add_chargebox(alias="Odd", connectors=1, chargebox_id=chargebox_id)

    box = await client.get_chargebox(chargebox_id)
    id_tag = await client.start_charge(chargebox_id, 1)
    sim.advance(START_DELAY)
    (charge,) = await client.running_charges(chargebox_id)

    assert (box.id, box.name) == (chargebox_id, "Odd")
    assert id_tag
    assert charge.chargebox == chargebox_id
    assert sim.requests[0] == ("GET", f"{PREFIX}/chargeboxes/{chargebox_id}")


@pytest.mark.parametrize(
    "chargebox_id",
    ["../x", "..", "x/../garage", "../chargeboxes/garage", "garage/", "garage?x=1"],
)
async def test_odd_ids_never_reach_another_chargebox(
    client: ThorClient, sim: ThorSimulator, chargebox_id: str
) -> None:
    """An id that would climb the path is looked up literally, and not found."""
    with pytest.raises(ThorChargeboxNotFoundError) as err:
        await client.get_chargebox(chargebox_id)

    assert err.value.code == "ChargeboxNotFound"
    assert sim.requests == [("GET", f"{PREFIX}/chargeboxes/{chargebox_id}")]


async def test_request_paths(client: ThorClient, sim: ThorSimulator) -> None:
    await client.list_chargeboxes()
    await client.get_chargebox("garage")
    await client.running_charges("garage")

    assert sim.requests == [
        ("GET", f"{PREFIX}/chargeboxes"),
        ("GET", f"{PREFIX}/chargeboxes/garage"),
        ("GET", f"{PREFIX}/charges/running"),
    ]
