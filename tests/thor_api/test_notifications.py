"""Parsing of the notifications Thor POSTs to a webhook (API doc §3.1, §3.2, §3.4)."""

from collections.abc import Callable
import contextlib
import json
import math
import random
from typing import Any

import pytest

from custom_components.thor.thor_api import notifications
from custom_components.thor.thor_api.notifications import (
    MAX_NOTIFICATION_BYTES,
    MetersNotification,
    MeterValue,
    StartNotification,
    StopNotification,
    ThorNotificationError,
    parse_notification,
)

# The two start examples of §3.1, verbatim: the second `type` key is the mode.
START_LOCAL = (
    '{ "type": "start", "accepted": true,  "chargebox": "EaJ7cU9NJ3YkTNgy", '
    '"connector": 2,\n  "id": "0012847382",           "transaction_id": 52, '
    '"type": "local" }'
)
START_API_REJECTED = (
    '{ "type": "start", "accepted": false, "chargebox": "XPHiIU27EFMViHat", '
    '"connector": 1,\n  "id": "172osiu83hys82shy28j", "transaction_id": 0,  '
    '"type": "api" }'
)
# §3.4, with the truncated second entry completed as a power value.
METERS_EXAMPLE = """{
  "type": "meters",
  "chargebox": "EaJ7cU9NJ3YkTNgy",
  "connector": 2,
  "meters": [
    { "measurand": "Energy.Active.Import.Register", "uom": "Wh", "value": 24.5, "phase": "L1-N" },
    { "measurand": "Power.Active.Import", "uom": "W", "value": 3680 }
  ]
}"""
PAYMENT = {
    "type": "consume-based",
    "options": {
        "theshold_hour": 1,
        "unit": "kwh",
        "currency": "eur",
        "amount": 0.5,
        "start_charge": 0,
        "minimum_threshold": 0,
    },
}


def body(**fields: Any) -> str:
    return json.dumps(fields)


def stop(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "stop_transaction",
        "accepted": True,
        "unlocked": False,
        "chargebox": "EaJ7cU9NJ3YkTNgy",
        "idTag": "0012847382",
        "connector": 2,
        "transaction_id": 52,
        "kwh": 7350,
        "time": 5400,
        "payment": PAYMENT,
    }
    data.update(overrides)
    return data


def meters(*entries: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "type": "meters",
        "chargebox": "EaJ7cU9NJ3YkTNgy",
        "connector": 2,
        "idTag": "0012847382",
        "time": "00:15:00",
        "meters": list(entries),
    }
    data.update(overrides)
    return data


def meter(
    measurand: str, value: Any, uom: str | None = None, phase: str | None = None
) -> dict[str, Any]:
    entry: dict[str, Any] = {"measurand": measurand, "value": value}
    if uom is not None:
        entry["uom"] = uom
    if phase is not None:
        entry["phase"] = phase
    return entry


def parse_meters(*entries: dict[str, Any], **overrides: Any) -> MetersNotification:
    result = parse_notification(body(**meters(*entries, **overrides)))
    assert isinstance(result, MetersNotification)
    return result


# --- start (§3.1) ---------------------------------------------------------------


def test_documented_local_start_takes_the_second_type_as_mode() -> None:
    assert parse_notification(START_LOCAL) == StartNotification(
        chargebox="EaJ7cU9NJ3YkTNgy",
        connector=2,
        accepted=True,
        id_tag="0012847382",
        transaction=52,
        mode="local",
    )


def test_documented_rejected_api_start_has_no_transaction() -> None:
    assert parse_notification(START_API_REJECTED.encode()) == StartNotification(
        chargebox="XPHiIU27EFMViHat",
        connector=1,
        accepted=False,
        id_tag="172osiu83hys82shy28j",
        transaction=None,
        mode="api",
    )


def test_start_with_a_proper_mode_key() -> None:
    result = parse_notification(
        body(
            type="start",
            accepted="true",
            chargebox="box",
            connector="3",
            id="tag",
            transaction_id=7,
            mode="remote",
            payment=PAYMENT,
            unknown={"anything": [1, 2]},
        )
    )
    assert result == StartNotification(
        chargebox="box",
        connector=3,
        accepted=True,
        id_tag="tag",
        transaction=7,
        mode="remote",
    )


def test_mode_key_wins_over_a_second_type() -> None:
    text = '{"type": "start", "mode": "api", "accepted": true, "chargebox": "b", "connector": 1, "type": "local"}'
    result = parse_notification(text)
    assert isinstance(result, StartNotification)
    assert result.mode == "api"
    assert result.id_tag is None
    assert result.transaction is None


def test_start_accepts_camel_case_id_tag() -> None:
    result = parse_notification(
        body(type="start", accepted=True, chargebox="b", connector=1, idTag="abc")
    )
    assert isinstance(result, StartNotification)
    assert result.id_tag == "abc"


def test_the_first_type_is_the_kind() -> None:
    text = '{"type": "local", "accepted": true, "chargebox": "b", "connector": 1, "type": "start"}'
    with pytest.raises(ThorNotificationError, match="type"):
        parse_notification(text)


# --- stop (§3.2) ----------------------------------------------------------------


def test_accepted_stop() -> None:
    assert parse_notification(body(**stop())) == StopNotification(
        chargebox="EaJ7cU9NJ3YkTNgy",
        connector=2,
        accepted=True,
        unlocked=False,
        id_tag="0012847382",
        transaction=52,
        energy=7350.0,
        duration=5400.0,
        rejected=False,
    )


def test_rejected_remote_stop_in_the_msg_variant() -> None:
    data = stop(msg="stop", accepted=False, transaction_id=0, energy=1200, time=60)
    del data["kwh"]
    result = parse_notification(body(**data))
    assert isinstance(result, StopNotification)
    assert result.rejected is True
    assert result.accepted is False
    assert result.unlocked is False
    assert result.transaction is None
    assert result.energy == 1200.0
    assert result.duration == 60.0


def test_unlock_is_not_a_rejection() -> None:
    data = stop(
        msg="stop", accepted=False, unlocked=True, idTag="", transaction_id=0, energy=0
    )
    del data["kwh"]
    del data["time"]
    result = parse_notification(body(**data))
    assert result == StopNotification(
        chargebox="EaJ7cU9NJ3YkTNgy",
        connector=2,
        accepted=False,
        unlocked=True,
        id_tag=None,
        transaction=None,
        energy=0.0,
        duration=None,
        rejected=False,
    )


def test_stop_keeps_zero_energy_of_a_box_without_meter() -> None:
    result = parse_notification(body(**stop(kwh=0)))
    assert isinstance(result, StopNotification)
    assert result.energy == 0.0


def test_stop_prefers_kwh_over_energy() -> None:
    result = parse_notification(body(**stop(kwh=10, energy=20)))
    assert isinstance(result, StopNotification)
    assert result.energy == 10.0


@pytest.mark.parametrize(
    ("time", "seconds"),
    [
        (5400, 5400.0),
        ("5400", 5400.0),
        (10 * 24 * 3600, 864_000.0),
        (5_400_000, 5400.0),
        (864_001, 864.001),
        (-5, None),
        ("soon", None),
        (None, None),
    ],
)
def test_stop_duration_in_seconds_or_milliseconds(
    time: Any, seconds: float | None
) -> None:
    result = parse_notification(body(**stop(time=time)))
    assert isinstance(result, StopNotification)
    assert result.duration == seconds


def test_stop_accepts_either_id_tag_spelling() -> None:
    data = stop(id="0012847382")
    del data["idTag"]
    result = parse_notification(body(**data))
    assert isinstance(result, StopNotification)
    assert result.id_tag == "0012847382"


def test_stop_without_unlocked_is_not_an_unlock() -> None:
    data = stop(accepted=False)
    del data["unlocked"]
    result = parse_notification(body(**data))
    assert isinstance(result, StopNotification)
    assert result.unlocked is False
    assert result.rejected is True


# --- meters (§3.4) --------------------------------------------------------------


def test_documented_meters_example() -> None:
    result = parse_notification(METERS_EXAMPLE)
    assert isinstance(result, MetersNotification)
    assert result.chargebox == "EaJ7cU9NJ3YkTNgy"
    assert result.connector == 2
    assert result.id_tag is None
    assert result.values[0] == MeterValue(
        measurand="Energy.Active.Import.Register", value=24.5, uom="Wh", phase="L1-N"
    )
    # The register is the meter's lifetime reading, not the charge's energy.
    assert result.energy is None
    assert result.register == 24.5
    assert result.power == 3680.0


def test_three_phase_power_is_summed() -> None:
    result = parse_meters(
        meter("Power.Active.Import", 3680, "W", "L1"),
        meter("Power.Active.Import", 3600, "W", "L2"),
        meter("Power.Active.Import", "3700.5", "W", "L3"),
    )
    assert result.power == pytest.approx(10980.5)
    assert result.id_tag == "0012847382"


def test_a_total_power_wins_over_the_phases() -> None:
    result = parse_meters(
        meter("Power.Active.Import", 3680, "W", "L1"),
        meter("Power.Active.Import", 11, "kW"),
        meter("Power.Active.Import", 3600, "W", "L2"),
    )
    assert result.power == 11000.0


def test_power_in_kw_is_converted() -> None:
    result = parse_meters(
        meter("Power.Active.Import", 3.68, "kW", "L1"),
        meter("Power.Active.Import", 3.6, "kw", "L2"),
    )
    assert result.power == pytest.approx(7280.0)


def test_power_of_an_unknown_unit_is_left_out() -> None:
    result = parse_meters(
        meter("Power.Active.Import", 5, "hp"),
        meter("Power.Active.Export", 100, "W"),
    )
    assert result.power is None
    assert result.currents == {}
    assert result.voltage is None


def test_currents_per_phase() -> None:
    result = parse_meters(
        meter("Current.Import", 16, "A", "L1"),
        meter("Current.Import", 15.5, "A", "L2"),
        meter("Current.Import", 15.8, None, "L3"),
        meter("Current.Import", 47, "A"),
        meter("Current.Export", 1, "A", "L1"),
        meter("Current.Import", 1, "mA", "N"),
    )
    assert result.currents == {"L1": 16.0, "L2": 15.5, "L3": 15.8}


def test_voltage_is_the_total_or_the_mean_of_the_phases() -> None:
    assert parse_meters(
        meter("Voltage", 230, "V", "L1-N"), meter("Voltage", 234, "V", "L2-N")
    ).voltage == pytest.approx(232.0)
    assert parse_meters(
        meter("Voltage", 230, "V", "L1-N"), meter("Voltage", 400, "V")
    ).voltage == pytest.approx(400.0)


def test_kwh_is_the_charge_energy_and_the_register_stays_apart() -> None:
    result = parse_meters(meter("Energy.Active.Import.Register", 12.5, "kWh"), kwh=4200)
    assert result.energy == 4200.0
    assert result.register == 12500.0


@pytest.mark.parametrize(
    ("entries", "energy"),
    [
        ([meter("Energy.Active.Import.Register", 12.5, "kWh")], 12500.0),
        ([meter("Energy.Active.Import.Register", 12500, "Wh")], 12500.0),
        ([{"value": "12500"}], 12500.0),
        ([meter("Energy.Active.Import.Register", 12.5, "varh")], None),
        ([meter("Energy.Active.Import.Register", -3, "Wh")], None),
        ([], None),
    ],
)
def test_the_register_in_wh(entries: list[dict[str, Any]], energy: float) -> None:
    result = parse_meters(*entries)
    assert result.register == energy
    assert result.energy is None


def test_malformed_meter_entries_are_skipped() -> None:
    result = parse_meters(
        "not an object",  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        meter("Power.Active.Import", "NaN", "W"),
        meter("Power.Active.Import", "inf", "W"),
        meter("Power.Active.Import", True, "W"),
        meter("Power.Active.Import", {"v": 1}, "W"),
        {"measurand": 5, "value": 1},
        {"measurand": "", "value": 1},
        {"measurand": "x" * 1000, "value": 1},
        {"measurand": "Power.Active.Import"},
        {"measurand": "Power.Active.Import", "value": 7, "uom": 3, "phase": ["L1"]},
    )
    assert result.values == (
        MeterValue(measurand="Power.Active.Import", value=7.0, uom=None, phase=None),
    )
    assert result.power == 7.0


def test_non_finite_json_constants_are_kept_out() -> None:
    text = (
        '{"type": "meters", "chargebox": "b", "connector": 1, "kwh": NaN, "meters": '
        '[{"measurand": "Power.Active.Import", "value": Infinity}, '
        '{"measurand": "Power.Active.Import", "value": 1e308, "uom": "kW"}]}'
    )
    result = parse_notification(text)
    assert isinstance(result, MetersNotification)
    assert result.energy is None
    assert len(result.values) == 1
    assert result.power is None


def test_integers_too_large_for_a_float_are_kept_out() -> None:
    huge = 10**400
    result = parse_meters(meter("Power.Active.Import", huge, "W"), kwh=huge)
    assert result.values == ()
    assert result.energy is None
    result_stop = parse_notification(body(**stop(kwh=huge, time=huge)))
    assert isinstance(result_stop, StopNotification)
    assert result_stop.energy is None
    assert result_stop.duration is None


def test_meters_may_be_absent() -> None:
    data = meters()
    del data["meters"]
    assert parse_meters(meters=None).values == ()
    result = parse_notification(body(**data))
    assert isinstance(result, MetersNotification)
    assert result.values == ()


# --- refused bodies -------------------------------------------------------------


VALID_START: dict[str, Any] = {
    "type": "start",
    "accepted": True,
    "chargebox": "box",
    "connector": 1,
    "id": "secret-tag-123",
    "transaction_id": 5,
    "mode": "api",
}


def start_with(**overrides: Any) -> str:
    data = {**VALID_START, **overrides}
    return json.dumps({key: value for key, value in data.items() if value is not ...})


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        pytest.param(b'{"type": "start"\xff}', "UTF-8", id="not-utf8"),
        pytest.param("\ud800", "UTF-8", id="lone-surrogate"),
        pytest.param("{", "JSON", id="invalid-json"),
        pytest.param("", "JSON", id="empty"),
        pytest.param('{"connector": ' + "9" * 5000 + "}", "JSON", id="huge-int"),
        pytest.param("[]", "object", id="list"),
        pytest.param('"start"', "object", id="string"),
        pytest.param("null", "object", id="null"),
        pytest.param(start_with(type=...), "type", id="no-type"),
        pytest.param(start_with(type="authorize"), "type", id="unknown-type"),
        pytest.param(start_with(type=None), "type", id="null-type"),
        pytest.param(start_with(type=["start"]), "type", id="list-type"),
        pytest.param(
            json.dumps({"msg": "rfid", "id": "secret-tag-123", "chargebox": "b"}),
            "RFID",
            id="rfid-authorize",
        ),
        pytest.param(start_with(msg="rfid"), "RFID", id="rfid-start"),
        pytest.param(start_with(chargebox=...), "chargebox", id="no-chargebox"),
        pytest.param(start_with(chargebox=""), "chargebox", id="empty-chargebox"),
        pytest.param(start_with(chargebox="  "), "chargebox", id="blank-chargebox"),
        pytest.param(start_with(chargebox=12), "chargebox", id="int-chargebox"),
        pytest.param(start_with(chargebox="b" * 256), "chargebox", id="long-chargebox"),
        pytest.param(start_with(connector=...), "connector", id="no-connector"),
        pytest.param(start_with(connector=0), "connector", id="connector-0"),
        pytest.param(start_with(connector=-1), "connector", id="negative-connector"),
        pytest.param(start_with(connector=1.5), "connector", id="fraction-connector"),
        pytest.param(start_with(connector=True), "connector", id="bool-connector"),
        pytest.param(start_with(connector="one"), "connector", id="text-connector"),
        pytest.param(start_with(connector=[1]), "connector", id="list-connector"),
        pytest.param(start_with(accepted=...), "accepted", id="no-accepted"),
        pytest.param(start_with(accepted=1), "accepted", id="int-accepted"),
        pytest.param(start_with(accepted="yes"), "accepted", id="yes-accepted"),
        pytest.param(start_with(accepted=None), "accepted", id="null-accepted"),
        pytest.param(body(**stop(unlocked="maybe")), "unlocked", id="bad-unlocked"),
        pytest.param(body(**meters(meters={"a": 1})), "meters", id="meters-object"),
        pytest.param(body(**meters(meters="[]")), "meters", id="meters-string"),
        pytest.param(
            '{"type": "start", "x": ' + "[" * 40 + "]" * 40 + "}",
            "deep",
            id="deep-nesting",
        ),
        pytest.param(
            start_with(padding="x" * MAX_NOTIFICATION_BYTES), "large", id="too-large"
        ),
        pytest.param(
            start_with(padding="é" * (MAX_NOTIFICATION_BYTES // 2)),
            "large",
            id="too-large-in-utf8",
        ),
        pytest.param(
            start_with(padding="x" * MAX_NOTIFICATION_BYTES).encode(),
            "large",
            id="too-large-bytes",
        ),
    ],
)
def test_invalid_bodies_are_refused(text: bytes | str, reason: str) -> None:
    with pytest.raises(ThorNotificationError, match=reason) as caught:
        parse_notification(text)
    assert "secret-tag-123" not in str(caught.value)
    # No chained exception carries the body (JSONDecodeError keeps it in `doc`).
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__


def test_a_body_at_the_size_limit_is_accepted() -> None:
    text = start_with(padding="")
    text = start_with(padding="x" * (MAX_NOTIFICATION_BYTES - len(text)))
    assert len(text.encode()) == MAX_NOTIFICATION_BYTES
    assert isinstance(parse_notification(text), StartNotification)
    assert isinstance(parse_notification(text.encode()), StartNotification)


def test_a_utf8_bom_and_bytearray_are_accepted() -> None:
    data = START_LOCAL.encode()
    assert isinstance(parse_notification(b"\xef\xbb\xbf" + data), StartNotification)
    assert isinstance(parse_notification(bytearray(data)), StartNotification)  # type: ignore[arg-type]
    assert isinstance(parse_notification("\ufeff" + START_LOCAL), StartNotification)


def test_other_body_types_are_refused() -> None:
    with pytest.raises(ThorNotificationError, match="bytes or text"):
        parse_notification(None)  # type: ignore[arg-type]


def test_recursion_in_the_decoder_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Python's decoder raises RecursionError when it runs out of stack."""

    def exhausted(*args: Any, **kwargs: Any) -> Any:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(json, "loads", exhausted)
    with pytest.raises(ThorNotificationError, match="deep"):
        parse_notification(START_LOCAL)


def test_nesting_at_the_limit_is_accepted() -> None:
    depth = notifications.MAX_NOTIFICATION_DEPTH - 1
    text = start_with(x=...)[:-1] + ', "x": ' + "[" * depth + "]" * depth + "}"
    assert isinstance(parse_notification(text), StartNotification)


# --- fuzz -----------------------------------------------------------------------

FUZZ_SEED = 20260301
FUZZ_ROUNDS = 4000


def random_tag(rng: random.Random) -> str:
    return f"idtag-{rng.getrandbits(48):012x}"


def random_scalar(rng: random.Random) -> Any:
    makers: list[Callable[[], Any]] = [
        lambda: None,
        lambda: rng.random() < 0.5,
        lambda: rng.randint(-(2**70), 2**70),
        lambda: rng.randint(-3, 5),
        lambda: rng.uniform(-1e6, 1e6),
        lambda: rng.choice([1e308, -1e308, 5e-324, 0.0, -0.0]),
        lambda: rng.choice([10**400, -(10**400)]),
        lambda: rng.choice(["", " ", "0", "1", "2.0", "true", "false", "nan"]),
        lambda: rng.choice(["inf", "-1", "1e999", "start", "meters", "W", "kW"]),
        lambda: (
            "".join(
                chr(rng.randrange(0x110000 if rng.random() < 0.2 else 128))
                for _ in range(rng.randrange(12))
            )
            .encode("utf-8", "surrogatepass")
            .decode("utf-8", "replace")
        ),
        lambda: "x" * rng.choice([255, 256, 5000]),
    ]
    return rng.choice(makers)()


def random_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 4 or roll < 0.6:
        return random_scalar(rng)
    if roll < 0.8:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {
        rng.choice(["type", "id", "idTag", "value", "k", ""]): random_value(
            rng, depth + 1
        )
        for _ in range(rng.randrange(4))
    }


def valid_body(rng: random.Random, tag: str) -> dict[str, Any]:
    kind = rng.choice(["start", "stop", "meters"])
    if kind == "start":
        return {**VALID_START, "id": tag, "mode": rng.choice(["local", "api"])}
    if kind == "stop":
        return stop(idTag=tag, msg=rng.choice(["stop", None]))
    return meters(
        meter("Power.Active.Import", rng.uniform(0, 7400), "W", "L1"),
        meter("Power.Active.Import", rng.uniform(0, 7.4), "kW", "L2"),
        meter("Current.Import", rng.uniform(0, 32), "A", "L3"),
        meter("Voltage", rng.uniform(200, 250), "V", "L1-N"),
        meter("Energy.Active.Import.Register", rng.uniform(0, 99), "kWh"),
        idTag=tag,
    )


def mutated_body(rng: random.Random, tag: str) -> bytes:
    data = valid_body(rng, tag)
    for _ in range(rng.randint(1, 3)):
        key = rng.choice([*data, "kwh", "energy", "time", "unlocked", "msg", "payment"])
        if rng.random() < 0.2:
            data.pop(key, None)
        else:
            data[key] = random_value(rng)
    if "meters" in data and isinstance(data["meters"], list) and rng.random() < 0.5:
        data["meters"].append(random_value(rng))
    text = json.dumps(data)
    if rng.random() < 0.2:
        # Duplicate a key, as Thor's start example does.
        text = text[:-1] + f', "type": {json.dumps(random_scalar(rng))}}}'
    return text.encode()


def deep_body(rng: random.Random, tag: str) -> bytes:
    depth = rng.choice([30, 33, 100, 1000, 20000, 40000])
    opener, closer = rng.choice([("[", "]"), ('{"a":', "}")])
    inner = opener * depth + json.dumps(tag) + closer * depth
    if rng.random() < 0.5:
        return inner.encode()
    return (start_with(id=tag)[:-1] + ', "deep": ' + inner + "}").encode()


def huge_body(rng: random.Random, tag: str) -> bytes:
    size = rng.choice([MAX_NOTIFICATION_BYTES - 200, MAX_NOTIFICATION_BYTES, 100_000])
    data = valid_body(rng, tag)
    key = rng.choice(["chargebox", "id", "idTag", "mode", "padding", "type"])
    data[key] = tag + "y" * size
    return json.dumps(data).encode()


def not_utf8_body(rng: random.Random, tag: str) -> bytes:
    raw = bytearray(json.dumps(valid_body(rng, tag)).encode())
    for _ in range(rng.randint(1, 4)):
        raw[rng.randrange(len(raw))] = rng.choice([0x80, 0xC0, 0xFE, 0xFF, 0xED])
    return bytes(raw)


def random_bytes_body(rng: random.Random, tag: str) -> bytes:
    return tag.encode() + rng.randbytes(rng.randrange(200))


def truncated_body(rng: random.Random, tag: str) -> bytes:
    text = json.dumps(valid_body(rng, tag)).encode()
    return text[: rng.randrange(len(text) + 1)]


def flipped_body(rng: random.Random, tag: str) -> bytes:
    raw = bytearray(json.dumps(valid_body(rng, tag)).encode())
    for _ in range(rng.randint(1, 5)):
        raw[rng.randrange(len(raw))] = rng.choice(b'{}[]",:0123456789 tfn\\')
    return bytes(raw)


def random_json_body(rng: random.Random, tag: str) -> bytes:
    value = random_value(rng)
    if isinstance(value, dict) and rng.random() < 0.5:
        value["idTag"] = tag
        value["type"] = rng.choice(["start", "stop_transaction", "meters"])
    return json.dumps(value).encode()


GENERATORS: list[Callable[[random.Random, str], bytes]] = [
    mutated_body,
    mutated_body,
    mutated_body,
    random_json_body,
    deep_body,
    huge_body,
    not_utf8_body,
    random_bytes_body,
    truncated_body,
    flipped_body,
]


def check_result(result: Any) -> None:
    """A parsed notification holds only values of its declared types."""
    assert isinstance(result, StartNotification | StopNotification | MetersNotification)
    assert isinstance(result.chargebox, str)
    assert 0 < len(result.chargebox) <= 255
    assert type(result.connector) is int
    assert result.connector >= 1
    assert result.id_tag is None or isinstance(result.id_tag, str)
    if isinstance(result, StartNotification | StopNotification):
        assert type(result.accepted) is bool
        assert result.transaction is None or result.transaction >= 1
    if isinstance(result, StopNotification):
        assert result.rejected == (not result.accepted and not result.unlocked)
        for number in (result.energy, result.duration):
            assert number is None or (math.isfinite(number) and number >= 0)
    if isinstance(result, MetersNotification):
        assert all(math.isfinite(value.value) for value in result.values)
        for number in (result.energy, result.power, result.voltage):
            assert number is None or math.isfinite(number)
        assert all(math.isfinite(value) for value in result.currents.values())


def parse_or_error(body: bytes | str) -> Any:
    """Return the parsed notification, or the ThorNotificationError raised."""
    try:
        return parse_notification(body)
    except ThorNotificationError as err:
        return err


def test_fuzz_parse_returns_a_notification_or_refuses() -> None:
    rng = random.Random(FUZZ_SEED)  # noqa: S311 (reproducible test data)
    parsed = refused = 0
    for _ in range(FUZZ_ROUNDS):
        tag = random_tag(rng)
        raw = rng.choice(GENERATORS)(rng, tag)
        inputs: list[bytes | str] = [raw]
        with contextlib.suppress(UnicodeDecodeError):
            inputs.append(raw.decode("utf-8"))
        for candidate in inputs:
            # Any other exception escapes and fails the test.
            outcome = parse_or_error(candidate)
            if isinstance(outcome, ThorNotificationError):
                refused += 1
                assert tag not in str(outcome)
                assert tag not in repr(outcome)
                assert outcome.__cause__ is None
                assert outcome.__context__ is None or outcome.__suppress_context__
            else:
                parsed += 1
                check_result(outcome)
    # The generators reach both outcomes often.
    assert parsed > FUZZ_ROUNDS // 10
    assert refused > FUZZ_ROUNDS // 10


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2**63 - 1, 2**63 - 1),
        (2**63, None),
        (2**70, None),
        ("99999999999999999999", None),
        (10**400, None),
        (0, None),
        (-4, None),
        (52.0, 52),
        ("52", 52),
    ],
)
def test_transaction_numbers_storage_cannot_write_are_refused(
    value: Any, expected: int | None
) -> None:
    """A transaction above 64 bits would make every later save of the id_tags fail."""
    result = parse_notification(start_with(transaction_id=value))
    assert isinstance(result, StartNotification)
    assert result.transaction == expected
