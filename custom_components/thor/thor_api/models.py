"""Typed models of Thor's responses, parsed tolerantly where the docs are vague.

Units are explicit: power in W, energy in Wh, current in A, times as aware UTC datetimes.
Enum-typed fields hold the known `StrEnum` member, or the raw string Thor sent when the
value is unknown. Missing optional fields become None. Free text is cut to
`MAX_TEXT_LENGTH` characters (it may become a Home Assistant state); ids are kept whole.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
import math
from typing import Any

from .const import (
    MAX_TEXT_LENGTH,
    ConnectorFormat,
    ConnectorType,
    PowerType,
    Vehicle,
)
from .exceptions import ThorResponseError
from .validation import parse_connector, parse_transaction_id

type JSONObject = Mapping[str, Any]

# Below this, a connector power is taken to be in kW (the docs say "Wh"; see §6.3).
_KW_THRESHOLD = 1000
# Epoch values below this are seconds, not milliseconds (1e11 ms is 1973, 1e11 s is 5138).
_SECONDS_THRESHOLD = 100_000_000_000


def _enum[E: StrEnum](enum: type[E], value: Any) -> E | str | None:
    """Return the enum member for `value`, the raw string if unknown, None if absent."""
    if value is None or value == "":
        return None
    try:
        return enum(value)
    except ValueError:
        return _text(value)


def _str(value: Any) -> str | None:
    """Return a string kept whole (an identifier), or None when the field is absent."""
    if value is None:
        return None
    return str(value)


def _text(value: Any) -> str | None:
    """Return free text cut to MAX_TEXT_LENGTH, or None when the field is absent."""
    text = _str(value)
    return None if text is None else text[:MAX_TEXT_LENGTH]


def _bool(value: Any) -> bool | None:
    """Return a bool from a JSON boolean, 0/1 or "true"/"false"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "false", "0"):
        return value.strip().lower() in ("true", "1")
    return None


def _number(value: Any) -> float | None:
    """Return a finite number from a JSON number or numeric string, else None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str):
            number = float(value.strip())
        else:
            return None
    except OverflowError, ValueError:
        # An integer too large for a float is no usable number either.
        return None
    if not math.isfinite(number):
        return None
    return number


def _int(value: Any) -> int | None:
    """Return an integer from a JSON number or numeric string, else None."""
    number = _number(value)
    return None if number is None else int(number)


def _timestamp(value: Any) -> datetime | None:
    """Return an aware UTC datetime from epoch milliseconds (or seconds)."""
    number = _number(value)
    if number is None or number <= 0:
        return None
    seconds = number / 1000 if number >= _SECONDS_THRESHOLD else number
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except OverflowError, OSError, ValueError:
        return None


def _connector_numbers(value: Any) -> frozenset[int]:
    """Normalise `occupied_connectors`/`reserved_connectors` to connector numbers.

    Entries may be ints, numeric strings, or objects with a `connector`, `id` or
    `number` key; entries of another shape are ignored.
    """
    if not isinstance(value, list | tuple):
        return frozenset()
    numbers: set[int] = set()
    for entry in value:
        raw = entry
        if isinstance(entry, Mapping):
            raw = next(
                (entry[key] for key in ("connector", "id", "number") if key in entry),
                None,
            )
        if (number := parse_connector(raw)) is not None:
            numbers.add(number)
    return frozenset(numbers)


def _object(value: Any) -> JSONObject:
    """Return `value` if it is a JSON object, else an empty one."""
    return value if isinstance(value, Mapping) else {}


@dataclass(frozen=True, kw_only=True, slots=True)
class Connector:
    """One connector of a chargebox; `number` is 1-based, in Thor's order."""

    number: int
    type: ConnectorType | str | None
    format: ConnectorFormat | str | None
    power: int | None
    """Rated power, W."""
    max_amperage: int | None
    """Maximum current, A."""
    power_type: PowerType | str | None
    terminal_id: str | None
    token: str | None

    @classmethod
    def from_dict(cls, number: int, data: JSONObject) -> Connector:
        """Parse one entry of `connectors`."""
        power = _number(data.get("power"))
        if power is not None and 0 < power < _KW_THRESHOLD:
            power *= 1000
        return cls(
            number=number,
            type=_enum(ConnectorType, data.get("type")),
            format=_enum(ConnectorFormat, data.get("format")),
            power=None if power is None else round(power),
            max_amperage=_int(data.get("max_amperage")),
            power_type=_enum(PowerType, data.get("power_type")),
            terminal_id=_text(data.get("terminal_id")),
            token=_text(data.get("token")),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class ChargeboxType:
    """What a chargebox is: vehicle class and OCPP dialect."""

    vehicle: Vehicle | str | None
    msg: str | None
    """OCPP message format, `json` or `soap`."""
    version: str | None
    """OCPP version, `1.5` or `1.6`."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Coordinates:
    """Location of a chargebox."""

    latitude: float
    longitude: float


@dataclass(frozen=True, kw_only=True, slots=True)
class Chargebox:
    """A chargebox as returned by the get-chargebox and list endpoints."""

    id: str
    alias: str | None
    active: bool | None
    connected: bool | None
    public: bool | None
    reservable: bool | None
    connectors: tuple[Connector, ...]
    coordinates: Coordinates | None
    last_heartbeat: datetime | None
    timezone: str | None
    type: ChargeboxType
    occupied_connectors: frozenset[int]
    reserved_connectors: frozenset[int]
    has_connector_state: bool = True
    """False when the answer lacked `occupied_connectors` or `reserved_connectors`.

    The list endpoint's documentation is truncated before these fields: a caller
    relying on them can then read the chargebox on its own.
    """

    @property
    def name(self) -> str:
        """Return the alias, or the id when the chargebox has no alias."""
        return self.alias or self.id

    @classmethod
    def from_dict(cls, data: Any) -> Chargebox:
        """Parse a chargebox; a missing `id` or `connectors` is a response error."""
        if not isinstance(data, Mapping):
            raise ThorResponseError("Chargebox is not a JSON object")
        chargebox_id = data.get("id")
        if not isinstance(chargebox_id, str | int) or isinstance(chargebox_id, bool):
            raise ThorResponseError("Chargebox has no id")
        if str(chargebox_id) == "":
            raise ThorResponseError("Chargebox has an empty id")
        connectors = data.get("connectors")
        if not isinstance(connectors, list):
            raise ThorResponseError("Chargebox has no connectors list")
        coordinates = _object(data.get("coordinates"))
        latitude = _number(coordinates.get("latitude"))
        longitude = _number(coordinates.get("longitude"))
        box_type = _object(data.get("type"))
        return cls(
            id=str(chargebox_id),
            alias=_text(data.get("alias")),
            active=_bool(data.get("active")),
            connected=_bool(data.get("connected")),
            public=_bool(data.get("public")),
            reservable=_bool(data.get("reservable")),
            connectors=tuple(
                Connector.from_dict(index, _object(entry))
                for index, entry in enumerate(connectors, start=1)
            ),
            coordinates=(
                None
                if latitude is None or longitude is None
                else Coordinates(latitude=latitude, longitude=longitude)
            ),
            last_heartbeat=_timestamp(data.get("last_heartbeat")),
            timezone=_text(data.get("timezone")),
            type=ChargeboxType(
                vehicle=_enum(Vehicle, box_type.get("vehicle")),
                msg=_text(box_type.get("msg")),
                version=_text(box_type.get("version")),
            ),
            occupied_connectors=_connector_numbers(data.get("occupied_connectors")),
            reserved_connectors=_connector_numbers(data.get("reserved_connectors")),
            has_connector_state=(
                "occupied_connectors" in data and "reserved_connectors" in data
            ),
        )


def _charge_fields(data: Any) -> dict[str, Any] | None:
    """Return what running and finished charge items share, None without a place.

    A charge names its chargebox and connector, or it is of no use.
    """
    if not isinstance(data, Mapping):
        return None
    chargebox = data.get("chargebox")
    connector = parse_connector(data.get("connector"))
    if chargebox is None or connector is None:
        return None
    return {
        "id": parse_transaction_id(data.get("id")),
        "chargebox": str(chargebox),
        "connector": connector,
        "date_started": _timestamp(data.get("date_started")),
        "energy": _number(data.get("energy")),
        "id_tag": _str(data.get("id_tag")) or None,
        "user": _text(data.get("user")),
        "type": _text(data.get("type")),
    }


@dataclass(frozen=True, kw_only=True, slots=True)
class ChargePayment:
    """Payment of a running charge; None on the charge when it is free."""

    start: float | None
    method: str | None
    amount: float | None
    transaction: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class RunningCharge:
    """A charge in progress, from the running-charges endpoint."""

    id: int | None
    """Transaction number, sent as `transaction` when stopping."""
    chargebox: str
    connector: int
    date_started: datetime | None
    energy: float | None
    """Energy delivered so far, Wh."""
    id_tag: str | None
    """RFID value for card starts; None for API and app starts."""
    user: str | None
    type: str | None
    payment: ChargePayment | None

    @classmethod
    def from_dict(cls, data: Any) -> RunningCharge | None:
        """Parse one item; None when it names no chargebox or connector."""
        if (fields := _charge_fields(data)) is None:
            return None
        payment = data.get("payment")
        return cls(
            **fields,
            payment=(
                ChargePayment(
                    start=_number(payment.get("start")),
                    method=_text(payment.get("method")),
                    amount=_number(payment.get("amount")),
                    transaction=_text(payment.get("transaction")),
                )
                if isinstance(payment, Mapping)
                else None
            ),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class FinishedChargePayment:
    """Payment of a finished charge; None on the charge when it was free."""

    currency: str | None
    """Currency as Thor writes it (lower case, e.g. `eur`)."""
    start: float | None
    method: str | None
    price: float | None
    """Amount paid."""
    success: bool | None
    transaction: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class FinishedCharge:
    """A charge that ended, from the finished-charges (history) endpoint."""

    id: int | None
    """Transaction number; the same as the running charge's `id`."""
    chargebox: str
    connector: int
    date_started: datetime | None
    date_finished: datetime | None
    energy: float | None
    """Energy delivered, Wh."""
    id_tag: str | None
    user: str | None
    type: str | None
    """How it was started (`api`, `local`, `remote`, or what Thor sent)."""
    payment: FinishedChargePayment | None

    @classmethod
    def from_dict(cls, data: Any) -> FinishedCharge | None:
        """Parse one item; None when it names no chargebox or connector."""
        if (fields := _charge_fields(data)) is None:
            return None
        payment = data.get("payment")
        return cls(
            **fields,
            date_finished=_timestamp(data.get("date_finished")),
            payment=(
                FinishedChargePayment(
                    currency=_text(payment.get("currency")),
                    start=_number(payment.get("start")),
                    method=_text(payment.get("method")),
                    price=_number(payment.get("price")),
                    success=_bool(payment.get("success")),
                    transaction=_text(payment.get("transaction")),
                )
                if isinstance(payment, Mapping)
                else None
            ),
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class Reservation:
    """A reservation of a connector, from the reservations endpoint."""

    chargebox: str
    connector: int
    id_tag: str | None
    """The idTag bound to the reservation: the one that may charge on the connector."""
    date_accepted: datetime | None
    expiry_date: datetime | None
    user: str | None
    client: str | None
    """Thor client (operator) owning the chargebox."""
    status: int | None
    """Raw state; Thor documents no values."""
    payment_method: str | None
    payment_transaction: str | None

    @classmethod
    def from_dict(cls, data: Any) -> Reservation | None:
        """Parse one item; None when it names no chargebox or connector."""
        if not isinstance(data, Mapping):
            return None
        chargebox = data.get("chargebox")
        connector = parse_connector(data.get("connector"))
        if chargebox is None or chargebox == "" or connector is None:
            return None
        payment = data.get("payment")
        if not isinstance(payment, Mapping):
            payment = {}
        return cls(
            chargebox=chargebox,
            connector=connector,
            id_tag=_str(data.get("id_tag")) or None,
            date_accepted=_timestamp(data.get("date_accepted")),
            expiry_date=_timestamp(data.get("expiry_date")),
            user=_text(data.get("user")),
            client=_text(data.get("client")),
            status=_int(data.get("status")),
            payment_method=_text(payment.get("method")),
            payment_transaction=_text(payment.get("transaction")),
        )


def _items(data: Any, what: str) -> list[Any]:
    """Return the items of a `{"count", "items"}` answer (or of a bare list)."""
    if isinstance(data, Mapping):
        items = data.get("items")
        if items is None and "count" in data:
            items = []
    else:
        items = data
    if not isinstance(items, list):
        raise ThorResponseError(f"{what} have no items list")
    return items


def parse_running_charges(data: Any) -> list[RunningCharge]:
    """Parse the running-charges answer (`{"count", "items"}`, or a bare list)."""
    return [
        charge
        for item in _items(data, "Running charges")
        if (charge := RunningCharge.from_dict(item))
    ]


def parse_finished_charges(data: Any) -> list[FinishedCharge]:
    """Parse the finished-charges answer (`{"count", "items"}`, or a bare list)."""
    return [
        charge
        for item in _items(data, "Finished charges")
        if (charge := FinishedCharge.from_dict(item))
    ]


def parse_reservations(data: Any) -> list[Reservation]:
    """Parse the reservations answer (`{"count", "items"}`, or a bare list)."""
    return [
        reservation
        for item in _items(data, "Reservations")
        if (reservation := Reservation.from_dict(item))
    ]
