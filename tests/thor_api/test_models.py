"""Parsing of Thor's answers into models: tolerant where the docs are vague, strict on ids."""

from datetime import UTC, datetime
from typing import Any

import pytest

from custom_components.thor.thor_api import (
    Chargebox,
    ChargePayment,
    ConnectorFormat,
    ConnectorType,
    PowerType,
    RunningCharge,
    ThorResponseError,
    Vehicle,
)
from custom_components.thor.thor_api.models import parse_running_charges

# 2026-03-01 12:00:00 UTC
HEARTBEAT_S = 1_772_366_400
HEARTBEAT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def full_chargebox(**overrides: Any) -> dict[str, Any]:
    """Return a chargebox answer with every documented field set."""
    data: dict[str, Any] = {
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
                "terminal_id": "T-1",
                "token": "nayax-token",
            },
            {
                "power": 50000,
                "type": "ccs",
                "format": "CABLE",
                "max_amperage": 125,
                "power_type": "DC",
                "terminal_id": "T-2",
                "token": "nayax-token-2",
            },
        ],
        "coordinates": {"latitude": 45.4642, "longitude": 9.19},
        "id": "EaJ7cU9NJ3YkTNgy",
        "last_heartbeat": HEARTBEAT_S * 1000,
        "timezone": "Europe/Rome",
        "type": {"vehicle": "car", "msg": "json", "version": "1.6"},
        "occupied_connectors": [2],
        "reserved_connectors": [],
    }
    data.update(overrides)
    return data


def test_full_chargebox() -> None:
    """Every documented field lands in the model, with known enums as members."""
    box = Chargebox.from_dict(full_chargebox())

    assert box.id == "EaJ7cU9NJ3YkTNgy"
    assert box.name == "Garage"
    assert (box.active, box.connected, box.public, box.reservable) == (
        True,
        True,
        False,
        True,
    )
    assert box.coordinates is not None
    assert (box.coordinates.latitude, box.coordinates.longitude) == (45.4642, 9.19)
    assert box.last_heartbeat == HEARTBEAT
    assert box.timezone == "Europe/Rome"
    assert box.type.vehicle is Vehicle.CAR
    assert (box.type.msg, box.type.version) == ("json", "1.6")
    assert box.occupied_connectors == frozenset({2})
    assert box.reserved_connectors == frozenset()

    first, second = box.connectors
    assert first.number == 1
    assert first.type is ConnectorType.TYPE_2
    assert first.format is ConnectorFormat.SOCKET
    assert first.power_type is PowerType.AC_3_PHASE
    assert (first.power, first.max_amperage) == (22000, 32)
    assert (first.terminal_id, first.token) == ("T-1", "nayax-token")
    assert second.number == 2
    assert second.type is ConnectorType.CCS
    assert second.format is ConnectorFormat.CABLE
    assert second.power_type is PowerType.DC
    assert second.power == 50000


def test_minimal_chargebox_has_none_for_missing_fields() -> None:
    """Only id and connectors are required; everything else missing becomes None."""
    box = Chargebox.from_dict({"id": "cb", "connectors": [{}]})

    assert box.name == "cb"
    assert box.alias is None
    assert box.active is None
    assert box.connected is None
    assert box.public is None
    assert box.reservable is None
    assert box.coordinates is None
    assert box.last_heartbeat is None
    assert box.timezone is None
    assert box.type.vehicle is None
    assert box.type.msg is None
    assert box.type.version is None
    assert box.occupied_connectors == frozenset()
    assert box.reserved_connectors == frozenset()
    (connector,) = box.connectors
    assert connector.number == 1
    assert connector.type is None
    assert connector.format is None
    assert connector.power is None
    assert connector.max_amperage is None
    assert connector.power_type is None
    assert connector.terminal_id is None
    assert connector.token is None


def test_empty_alias_falls_back_to_id_as_name() -> None:
    box = Chargebox.from_dict({"id": "cb-7", "alias": "", "connectors": []})

    assert box.name == "cb-7"
    assert box.connectors == ()


def test_numeric_id_becomes_string() -> None:
    box = Chargebox.from_dict({"id": 17490, "connectors": []})

    assert box.id == "17490"


def test_unknown_enum_values_are_kept_raw() -> None:
    """A value Thor adds later is shown as sent instead of failing the whole box."""
    box = Chargebox.from_dict(
        full_chargebox(
            connectors=[
                {
                    "type": "nacs",
                    "format": "WIRELESS",
                    "power_type": "AC_2_PHASE",
                },
                {"type": 7, "format": "", "power_type": None},
            ],
            type={"vehicle": "scooter", "msg": "protobuf", "version": "2.0.1"},
        )
    )

    first, second = box.connectors
    assert first.type == "nacs"
    assert not isinstance(first.type, ConnectorType)
    assert first.format == "WIRELESS"
    assert first.power_type == "AC_2_PHASE"
    assert second.type == "7"
    assert second.format is None
    assert second.power_type is None
    assert box.type.vehicle == "scooter"
    assert not isinstance(box.type.vehicle, Vehicle)
    assert (box.type.msg, box.type.version) == ("protobuf", "2.0.1")


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        pytest.param([1, 3], {1, 3}, id="ints"),
        pytest.param(["1", " 2 "], {1, 2}, id="numeric-strings"),
        pytest.param([1.0, 2], {1, 2}, id="floats"),
        pytest.param([{"connector": 2}], {2}, id="object-connector"),
        pytest.param([{"id": "3"}], {3}, id="object-id"),
        pytest.param([{"number": 4}], {4}, id="object-number"),
        pytest.param(
            [{"connector": 1, "id": 99}], {1}, id="connector-key-wins-over-id"
        ),
        pytest.param([1, 1, "1"], {1}, id="duplicates"),
        pytest.param(
            [
                None,
                True,
                "two",
                "",
                0,
                -1,
                [2],
                {"name": 2},
                {"connector": "x"},
                "nan",
                "inf",
                5,
            ],
            {5},
            id="junk-ignored",
        ),
        pytest.param(None, set(), id="null"),
        pytest.param("1,2", set(), id="not-a-list"),
        pytest.param({"connector": 1}, set(), id="object-not-list"),
    ],
)
def test_occupied_and_reserved_connector_shapes(
    entries: Any, expected: set[int]
) -> None:
    """Connector lists of any plausible shape become a set of connector numbers."""
    box = Chargebox.from_dict(
        full_chargebox(occupied_connectors=entries, reserved_connectors=entries)
    )

    assert box.occupied_connectors == expected
    assert box.reserved_connectors == expected


@pytest.mark.parametrize(
    ("power", "expected"),
    [
        pytest.param(22000, 22000, id="watts"),
        pytest.param(1000, 1000, id="threshold-is-watts"),
        pytest.param(22, 22000, id="kw"),
        pytest.param(7.4, 7400, id="fractional-kw"),
        pytest.param(999.9, 999900, id="just-below-threshold"),
        pytest.param("11000", 11000, id="numeric-string"),
        pytest.param("3.7", 3700, id="numeric-string-kw"),
        pytest.param(0, 0, id="zero"),
        pytest.param(None, None, id="null"),
        pytest.param("lots", None, id="junk-string"),
        pytest.param(True, None, id="bool"),
        pytest.param({"value": 22}, None, id="object"),
        pytest.param(float("nan"), None, id="nan"),
    ],
)
def test_connector_power_in_watts(power: Any, expected: int | None) -> None:
    """Power is always W; values below 1000 are taken to be kW."""
    box = Chargebox.from_dict({"id": "cb", "connectors": [{"power": power}]})

    assert box.connectors[0].power == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(HEARTBEAT_S * 1000, HEARTBEAT, id="milliseconds"),
        pytest.param(HEARTBEAT_S * 1000 + 250, HEARTBEAT.replace(microsecond=250_000)),
        pytest.param(HEARTBEAT_S, HEARTBEAT, id="seconds"),
        pytest.param(str(HEARTBEAT_S * 1000), HEARTBEAT, id="numeric-string"),
        pytest.param(0, None, id="zero"),
        pytest.param(-5, None, id="negative"),
        pytest.param(None, None, id="null"),
        pytest.param("yesterday", None, id="junk"),
        pytest.param(1e30, None, id="out-of-range"),
    ],
)
def test_last_heartbeat(value: Any, expected: datetime | None) -> None:
    """Epoch milliseconds (or seconds) become an aware UTC datetime."""
    box = Chargebox.from_dict({"id": "cb", "connectors": [], "last_heartbeat": value})

    assert box.last_heartbeat == expected
    if box.last_heartbeat is not None:
        assert box.last_heartbeat.tzinfo is UTC


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("true", True),
        (" FALSE ", False),
        ("1", True),
        ("0", False),
        ("yes", None),
        (None, None),
        ([], None),
    ],
)
def test_tolerant_booleans(value: Any, expected: bool | None) -> None:
    box = Chargebox.from_dict(
        {"id": "cb", "connectors": [], "active": value, "connected": value}
    )

    assert box.active is expected
    assert box.connected is expected


@pytest.mark.parametrize(
    "coordinates",
    [
        None,
        "45.1,9.2",
        {"latitude": 45.1},
        {"latitude": "north", "longitude": 9.2},
    ],
)
def test_incomplete_coordinates_are_none(coordinates: Any) -> None:
    box = Chargebox.from_dict(
        {"id": "cb", "connectors": [], "coordinates": coordinates}
    )

    assert box.coordinates is None


def test_string_coordinates_and_amperage_are_numbers() -> None:
    box = Chargebox.from_dict(
        {
            "id": "cb",
            "connectors": [{"max_amperage": "16"}],
            "coordinates": {"latitude": "45.5", "longitude": "9.25"},
        }
    )

    assert box.coordinates is not None
    assert (box.coordinates.latitude, box.coordinates.longitude) == (45.5, 9.25)
    assert box.connectors[0].max_amperage == 16


def test_junk_connector_entries_keep_their_position() -> None:
    """A connector entry that is not an object still counts for the numbering."""
    box = Chargebox.from_dict({"id": "cb", "connectors": ["junk", {"power": 7400}]})

    assert [c.number for c in box.connectors] == [1, 2]
    assert box.connectors[0].power is None
    assert box.connectors[1].power == 7400


@pytest.mark.parametrize(
    ("data", "match"),
    [
        pytest.param(["id", "cb"], "not a JSON object", id="array"),
        pytest.param(None, "not a JSON object", id="null"),
        pytest.param({"connectors": []}, "no id", id="missing-id"),
        pytest.param({"id": None, "connectors": []}, "no id", id="null-id"),
        pytest.param({"id": True, "connectors": []}, "no id", id="bool-id"),
        pytest.param({"id": {"x": 1}, "connectors": []}, "no id", id="object-id"),
        pytest.param({"id": "", "connectors": []}, "empty id", id="empty-id"),
        pytest.param({"id": "cb"}, "no connectors", id="missing-connectors"),
        pytest.param({"id": "cb", "connectors": None}, "no connectors", id="null"),
        pytest.param({"id": "cb", "connectors": {"1": {}}}, "no connectors", id="obj"),
    ],
)
def test_chargebox_without_id_or_connectors_is_an_error(data: Any, match: str) -> None:
    """A chargebox that cannot be identified or has no connector list is refused."""
    with pytest.raises(ThorResponseError, match=match):
        Chargebox.from_dict(data)


def running_item(**overrides: Any) -> dict[str, Any]:
    """Return one item of the running-charges answer."""
    item: dict[str, Any] = {
        "chargebox": "EaJ7cU9NJ3YkTNgy",
        "connector": 1,
        "date_started": HEARTBEAT_S * 1000,
        "energy": 1234,
        "id": 42,
        "id_tag": "04A2B3C4",
        "payment": None,
        "type": "charge",
        "user": "u-1",
    }
    item.update(overrides)
    return item


def test_running_charge_full() -> None:
    (charge,) = parse_running_charges({"count": 1, "items": [running_item()]})

    assert charge == RunningCharge(
        id=42,
        chargebox="EaJ7cU9NJ3YkTNgy",
        connector=1,
        date_started=HEARTBEAT,
        energy=1234,
        id_tag="04A2B3C4",
        user="u-1",
        type="charge",
        payment=None,
    )


def test_running_charge_payment() -> None:
    (charge,) = parse_running_charges(
        {
            "count": 1,
            "items": [
                running_item(
                    payment={
                        "start": 0.5,
                        "method": "stripe",
                        "amount": "3.25",
                        "transaction": 991,
                        "nayaxID": "n-1",
                    }
                )
            ],
        }
    )

    assert charge.payment == ChargePayment(
        start=0.5, method="stripe", amount=3.25, transaction="991"
    )


@pytest.mark.parametrize("id_tag", [None, ""])
def test_api_or_app_started_charge_has_no_id_tag(id_tag: str | None) -> None:
    (charge,) = parse_running_charges([running_item(id_tag=id_tag)])

    assert charge.id_tag is None


def test_running_charge_missing_optional_fields() -> None:
    (charge,) = parse_running_charges(
        {"items": [{"chargebox": "cb", "connector": "2"}]}
    )

    assert charge.chargebox == "cb"
    assert charge.connector == 2
    assert charge.id is None
    assert charge.date_started is None
    assert charge.energy is None
    assert charge.id_tag is None
    assert charge.user is None
    assert charge.type is None
    assert charge.payment is None


def test_running_items_without_chargebox_or_connector_are_skipped() -> None:
    charges = parse_running_charges(
        {
            "count": 5,
            "items": [
                "junk",
                None,
                running_item(chargebox=None),
                running_item(connector="first"),
                running_item(connector=2),
            ],
        }
    )

    assert [(c.chargebox, c.connector) for c in charges] == [("EaJ7cU9NJ3YkTNgy", 2)]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({"count": 0, "items": []}, id="empty"),
        pytest.param({"count": 0}, id="count-without-items"),
        pytest.param({"count": 0, "items": None}, id="null-items"),
        pytest.param([], id="bare-list"),
    ],
)
def test_no_running_charges(data: Any) -> None:
    assert parse_running_charges(data) == []


@pytest.mark.parametrize(
    "data",
    [
        pytest.param({}, id="empty-object"),
        pytest.param({"items": {"a": 1}}, id="items-object"),
        pytest.param("charges", id="string"),
        pytest.param(None, id="null"),
    ],
)
def test_running_charges_without_items_list_is_an_error(data: Any) -> None:
    with pytest.raises(ThorResponseError):
        parse_running_charges(data)


# --- free text is bounded --------------------------------------------------------

LONG = "x" * 1000
BOUND = 255


def test_free_text_of_a_chargebox_is_bounded() -> None:
    """Home Assistant refuses states and attributes longer than 255 characters."""
    box = Chargebox.from_dict(
        full_chargebox(
            alias="A" + LONG,
            timezone="T" + LONG,
            type={"vehicle": "V" + LONG, "msg": "M" + LONG, "version": "9" + LONG},
            connectors=[
                {
                    "type": "t" + LONG,
                    "format": "f" + LONG,
                    "power_type": "p" + LONG,
                    "terminal_id": "i" + LONG,
                    "token": "k" + LONG,
                },
                {"type": {"nested": LONG}, "terminal_id": 10**400},
            ],
        )
    )

    texts = {
        "alias": box.alias,
        "name": box.name,
        "timezone": box.timezone,
        "vehicle": box.type.vehicle,
        "msg": box.type.msg,
        "version": box.type.version,
        "type": box.connectors[0].type,
        "format": box.connectors[0].format,
        "power_type": box.connectors[0].power_type,
        "terminal_id": box.connectors[0].terminal_id,
        "token": box.connectors[0].token,
        "object-type": box.connectors[1].type,
    }
    for name, text in texts.items():
        assert isinstance(text, str), name
        assert len(text) == BOUND, name
    assert box.alias == ("A" + LONG)[:BOUND]
    assert box.connectors[0].token == ("k" + LONG)[:BOUND]
    assert box.connectors[1].terminal_id is not None
    assert len(box.connectors[1].terminal_id) <= BOUND


def test_free_text_at_the_bound_is_kept_whole() -> None:
    alias = "a" * BOUND
    box = Chargebox.from_dict(full_chargebox(alias=alias))

    assert box.alias == alias


def test_identities_are_never_truncated() -> None:
    """Ids are sent back to Thor: a shortened one would name another chargebox."""
    box = Chargebox.from_dict(full_chargebox(id="c" + LONG, alias=None))
    (charge,) = parse_running_charges(
        [running_item(chargebox="c" + LONG, id_tag="r" + LONG)]
    )

    assert box.id == "c" + LONG
    assert box.name == "c" + LONG
    assert charge.chargebox == "c" + LONG
    assert charge.id_tag == "r" + LONG


def test_free_text_of_a_running_charge_is_bounded() -> None:
    (charge,) = parse_running_charges(
        [
            running_item(
                type="t" + LONG,
                user="u" + LONG,
                payment={"method": "m" + LONG, "transaction": "x" + LONG},
            )
        ]
    )

    assert charge.type == ("t" + LONG)[:BOUND]
    assert charge.user == ("u" + LONG)[:BOUND]
    assert charge.payment is not None
    assert charge.payment.method == ("m" + LONG)[:BOUND]
    assert charge.payment.transaction == ("x" + LONG)[:BOUND]


@pytest.mark.parametrize("value", [2**63, 10**400, "99999999999999999999999"])
def test_a_transaction_storage_cannot_write_is_no_transaction(value: Any) -> None:
    """Home Assistant's storage writes 64-bit integers: a larger one is refused."""
    (charge,) = parse_running_charges({"count": 1, "items": [running_item(id=value)]})
    assert charge.id is None
