"""Parse the notifications Thor POSTs to an integrator's webhook (API doc §3).

Three kinds are understood: the start (§3.1), stop (§3.2) and meter-values (§3.4)
notifications. Anything else, and any body that is not a well-formed notification of
one of those kinds, raises `ThorNotificationError`, whose message says why in a few
words and never repeats the body or an id tag (it may end up in a log).

The bodies come from the network, unauthenticated (§6 #16), so parsing is defensive:
the size is capped, the JSON must be an object, and the fields that identify the charge
(`type`, `chargebox`, `connector`, `accepted`) must be valid. Descriptive fields are
parsed tolerantly: a value of the wrong type becomes None, unknown fields are ignored.
Units are explicit: energy in Wh, power in W, current in A, voltage in V, durations
in seconds. The payment block (§3.5) is ignored.
"""

from collections.abc import Mapping
from dataclasses import dataclass
import json
import math
from typing import Any, Final

from .const import MAX_TEXT_LENGTH
from .validation import parse_connector, parse_transaction_id

MAX_NOTIFICATION_BYTES: Final = 65536
"""Largest body accepted, in bytes of UTF-8."""

MAX_NOTIFICATION_DEPTH: Final = 32
"""Deepest nesting of JSON arrays and objects accepted (a notification needs 3)."""

MAX_CHARGEBOX_LENGTH: Final = 255
"""Longest chargebox id accepted."""

MEASURAND_ENERGY_REGISTER: Final = "Energy.Active.Import.Register"
MEASURAND_POWER: Final = "Power.Active.Import"
MEASURAND_CURRENT: Final = "Current.Import"
MEASURAND_VOLTAGE: Final = "Voltage"

_KIND_START: Final = "start"
_KIND_STOP: Final = "stop_transaction"
_KIND_METERS: Final = "meters"

# Stop `time` has no documented unit (§6 #6): a charge longer than ten days is taken to
# be a duration in milliseconds.
_MAX_DURATION_SECONDS: Final = 10 * 24 * 3600

# Unit multipliers to Wh and W; a missing unit is OCPP's default (Wh, W).
_ENERGY_UNITS: Final[Mapping[str | None, float]] = {None: 1.0, "wh": 1.0, "kwh": 1000.0}
_POWER_UNITS: Final[Mapping[str | None, float]] = {None: 1.0, "w": 1.0, "kw": 1000.0}
_CURRENT_UNITS: Final[Mapping[str | None, float]] = {None: 1.0, "a": 1.0}
_VOLTAGE_UNITS: Final[Mapping[str | None, float]] = {None: 1.0, "v": 1.0}


class ThorNotificationError(ValueError):
    """The body is not a valid Thor notification."""


@dataclass(frozen=True, kw_only=True, slots=True)
class StartNotification:
    """A charge started, or the chargebox refused to start it (§3.1)."""

    chargebox: str
    connector: int
    accepted: bool
    id_tag: str | None
    """The RFID value, or the id tag Thor generated (API and app starts)."""
    transaction: int | None
    """Thor's transaction number; None when 0 (refused) or absent."""
    mode: str | None
    """How the charge was started: `local`, `remote`, `api` (raw string)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class StopNotification:
    """A charge stopped, a stop was refused, or the connector was unlocked (§3.2)."""

    chargebox: str
    connector: int
    accepted: bool
    unlocked: bool
    id_tag: str | None
    transaction: int | None
    """Thor's transaction number; None when 0 (refused stop, unlock) or absent."""
    energy: float | None
    """Energy of the transaction, Wh; 0 may mean the box has no meter."""
    duration: float | None
    """Duration of the transaction, seconds."""
    rejected: bool
    """The chargebox refused to stop the charge (not accepted, not an unlock)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class MeterValue:
    """One sampled value of a meter-values notification, as Thor sent it."""

    measurand: str
    """OCPP measurand, e.g. `Power.Active.Import` (raw string)."""
    value: float
    uom: str | None
    """Unit of measure, e.g. `W`, `kWh` (raw string)."""
    phase: str | None
    """Phase, e.g. `L1`, `L1-N` (raw string); None for a total."""


@dataclass(frozen=True, kw_only=True, slots=True)
class MetersNotification:
    """Values a chargebox reported while a charge runs (§3.4)."""

    chargebox: str
    connector: int
    id_tag: str | None
    energy: float | None
    """Energy of the transaction so far, Wh (`kwh`); None when not sent."""
    register: float | None
    """The meter's import register, Wh: a lifetime reading, not the charge's energy
    (only its growth since the charge's first reading is)."""
    values: tuple[MeterValue, ...]

    @property
    def power(self) -> float | None:
        """Active power drawn, W: the total, else the sum over the phases."""
        return _total(self.values, MEASURAND_POWER, _POWER_UNITS)

    @property
    def currents(self) -> dict[str, float]:
        """Current drawn per phase, A (values without a phase are left out)."""
        return {
            phase: value
            for phase, value in _by_phase(
                self.values, MEASURAND_CURRENT, _CURRENT_UNITS
            ).items()
            if phase is not None
        }

    @property
    def voltage(self) -> float | None:
        """Voltage, V: the value without phase, else the mean over the phases."""
        values = _by_phase(self.values, MEASURAND_VOLTAGE, _VOLTAGE_UNITS)
        if None in values:
            return values[None]
        if not values:
            return None
        return sum(values.values()) / len(values)


type Notification = StartNotification | StopNotification | MetersNotification


def _by_phase(
    values: tuple[MeterValue, ...],
    measurand: str,
    units: Mapping[str | None, float],
) -> dict[str | None, float]:
    """Return the values of `measurand` by phase, converted; unknown units skipped.

    When a phase appears twice the last value wins.
    """
    result: dict[str | None, float] = {}
    for meter in values:
        if meter.measurand != measurand:
            continue
        factor = units.get(None if meter.uom is None else meter.uom.strip().lower())
        if factor is None:
            continue
        converted = meter.value * factor
        if math.isfinite(converted):
            result[meter.phase] = converted
    return result


def _total(
    values: tuple[MeterValue, ...],
    measurand: str,
    units: Mapping[str | None, float],
) -> float | None:
    """Return the value without phase of `measurand`, else the sum over the phases."""
    by_phase = _by_phase(values, measurand, units)
    if None in by_phase:
        return by_phase[None]
    if not by_phase:
        return None
    total = math.fsum(by_phase.values())
    return total if math.isfinite(total) else None


class _JSONObject(dict[str, Any]):
    """A decoded JSON object that remembers the values of every `type` key, in order.

    Python's json keeps only the last of duplicate keys; Thor's documented start
    example has two `type` keys (the second one is the mode).
    """

    __slots__ = ("types",)

    types: tuple[Any, ...]


def _object_pairs(pairs: list[tuple[str, Any]]) -> _JSONObject:
    """Build a decoded object, keeping the `type` values (json `object_pairs_hook`)."""
    result = _JSONObject(pairs)
    result.types = tuple(value for key, value in pairs if key == "type")
    return result


def _decode(body: object) -> _JSONObject:
    """Return the top-level JSON object of `body`, or raise ThorNotificationError.

    `body` is typed `object` because a webhook may hand over anything at run time.
    """
    if isinstance(body, str):
        # A character takes at least one byte, so this refuses huge strings cheaply.
        if len(body) > MAX_NOTIFICATION_BYTES:
            raise ThorNotificationError("Notification body too large")
        try:
            size = len(body.encode("utf-8"))
        except UnicodeEncodeError:
            raise ThorNotificationError("Notification body is not UTF-8") from None
        if size > MAX_NOTIFICATION_BYTES:
            raise ThorNotificationError("Notification body too large")
        text = body.removeprefix("\ufeff")
    elif isinstance(body, bytes | bytearray):
        if len(body) > MAX_NOTIFICATION_BYTES:
            raise ThorNotificationError("Notification body too large")
        try:
            text = bytes(body).decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ThorNotificationError("Notification body is not UTF-8") from None
    else:
        raise ThorNotificationError("Notification body is not bytes or text")
    try:
        data = json.loads(text, object_pairs_hook=_object_pairs)
    except RecursionError:
        raise ThorNotificationError("Notification body is nested too deeply") from None
    except ValueError:
        # JSONDecodeError, and integers too long to convert (sys.int_info).
        raise ThorNotificationError("Notification body is not valid JSON") from None
    if not isinstance(data, _JSONObject):
        raise ThorNotificationError("Notification body is not a JSON object")
    if _too_deep(data):
        raise ThorNotificationError("Notification body is nested too deeply")
    return data


def _too_deep(data: Any) -> bool:
    """Return whether arrays and objects nest deeper than MAX_NOTIFICATION_DEPTH.

    Walked with an explicit stack: recursion is what this guards against.
    """
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > MAX_NOTIFICATION_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _finite(value: Any) -> float | None:
    """Return a finite number from a JSON number or numeric string, else None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str) and len(value) <= 64:
            number = float(value.strip())
        else:
            return None
    except OverflowError, ValueError:
        return None
    return number if math.isfinite(number) else None


def _strict_bool(value: Any) -> bool | None:
    """Return a JSON boolean or the string "true"/"false", else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "false"):
            return lowered == "true"
    return None


def _short_text(value: Any) -> str | None:
    """Return a non-empty string cut to MAX_TEXT_LENGTH, else None."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value[:MAX_TEXT_LENGTH]


def _kind(data: _JSONObject) -> str:
    """Return the notification kind: the first `type` of the top-level object."""
    if not data.types:
        if data.get("msg") == "rfid":
            raise ThorNotificationError("RFID authorization requests are not supported")
        raise ThorNotificationError("Notification has no type")
    kind = data.types[0]
    if isinstance(kind, str):
        kind = kind.strip().lower()
        if kind in (_KIND_START, _KIND_STOP, _KIND_METERS):
            if data.get("msg") == "rfid":
                raise ThorNotificationError(
                    "RFID authorization requests are not supported"
                )
            return kind
    raise ThorNotificationError("Notification type is not supported")


def _chargebox(data: Mapping[str, Any]) -> str:
    value = data.get("chargebox")
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > MAX_CHARGEBOX_LENGTH
    ):
        raise ThorNotificationError("Notification has no valid chargebox")
    return value


def _connector(data: Mapping[str, Any]) -> int:
    number = parse_connector(data.get("connector"))
    if number is None:
        raise ThorNotificationError("Notification has no valid connector")
    return number


def _required_bool(data: Mapping[str, Any], key: str) -> bool:
    value = _strict_bool(data.get(key))
    if value is None:
        raise ThorNotificationError(f"Notification field {key} is not a boolean")
    return value


def _optional_bool(data: Mapping[str, Any], key: str) -> bool:
    """Return a boolean field, False when absent or null."""
    if data.get(key) is None:
        return False
    return _required_bool(data, key)


def _id_tag(data: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    """Return the first id tag found under `keys`; "" and wrong types are None."""
    for key in keys:
        value = data.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str) and value:
            return value
    return None


def _transaction(data: Mapping[str, Any]) -> int | None:
    return parse_transaction_id(data.get("transaction_id"))


def _non_negative(value: Any) -> float | None:
    number = _finite(value)
    return number if number is not None and number >= 0 else None


def _duration(value: Any) -> float | None:
    """Return a duration in seconds from seconds or milliseconds (§6 #6)."""
    number = _non_negative(value)
    if number is not None and number > _MAX_DURATION_SECONDS:
        return number / 1000
    return number


def _meter_values(raw: Any) -> tuple[MeterValue, ...]:
    """Parse `meters`, skipping malformed entries; a non-list is an error."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ThorNotificationError("Notification meters are not a list")
    values: list[MeterValue] = []
    for entry in raw:
        if not isinstance(entry, Mapping):
            continue
        # OCPP 1.6: a sampled value without measurand is the import register.
        measurand = entry.get("measurand", MEASURAND_ENERGY_REGISTER)
        if measurand is None:
            measurand = MEASURAND_ENERGY_REGISTER
        value = _finite(entry.get("value"))
        if (
            not isinstance(measurand, str)
            or not measurand.strip()
            or len(measurand) > MAX_TEXT_LENGTH
            or value is None
        ):
            continue
        values.append(
            MeterValue(
                measurand=measurand,
                value=value,
                uom=_short_text(entry.get("uom")),
                phase=_short_text(entry.get("phase")),
            )
        )
    return tuple(values)


def _start(data: _JSONObject) -> StartNotification:
    mode = data.get("mode")
    if mode is None:
        # §3.1: the documented example sends the mode as a second `type` key.
        mode = next((value for value in data.types[1:] if value is not None), None)
    return StartNotification(
        chargebox=_chargebox(data),
        connector=_connector(data),
        accepted=_required_bool(data, "accepted"),
        id_tag=_id_tag(data, ("id", "idTag", "id_tag")),
        transaction=_transaction(data),
        mode=_short_text(mode),
    )


def _stop(data: _JSONObject) -> StopNotification:
    chargebox = _chargebox(data)
    connector = _connector(data)
    accepted = _required_bool(data, "accepted")
    unlocked = _optional_bool(data, "unlocked")
    energy = _non_negative(data.get("kwh"))
    if energy is None:
        energy = _non_negative(data.get("energy"))
    return StopNotification(
        chargebox=chargebox,
        connector=connector,
        accepted=accepted,
        unlocked=unlocked,
        id_tag=_id_tag(data, ("idTag", "id", "id_tag")),
        transaction=_transaction(data),
        energy=energy,
        duration=_duration(data.get("time")),
        rejected=not accepted and not unlocked,
    )


def _meters(data: _JSONObject) -> MetersNotification:
    chargebox = _chargebox(data)
    connector = _connector(data)
    values = _meter_values(data.get("meters"))
    register = _total(values, MEASURAND_ENERGY_REGISTER, _ENERGY_UNITS)
    return MetersNotification(
        chargebox=chargebox,
        connector=connector,
        id_tag=_id_tag(data, ("idTag", "id", "id_tag")),
        energy=_non_negative(data.get("kwh")),
        register=None if register is None or register < 0 else register,
        values=values,
    )


def parse_notification(body: bytes | str) -> Notification:
    """Parse the body of a notification Thor POSTed to the webhook.

    Raises:
        ThorNotificationError: the body is too large, not UTF-8 JSON, not an object,
            of an unknown kind, or lacks a valid chargebox, connector or `accepted`.
    """
    data = _decode(body)
    kind = _kind(data)
    if kind == _KIND_START:
        return _start(data)
    if kind == _KIND_STOP:
        return _stop(data)
    return _meters(data)
