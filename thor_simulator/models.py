"""Simulated chargeboxes, connectors, charges and reservations.

Times are kept in seconds (floats, on the simulator's clock) and converted to Thor's
epoch milliseconds only when rendered as JSON.
"""

from collections import Counter
from dataclasses import dataclass, field
from typing import Any


def epoch_ms(seconds: float) -> int:
    """Return epoch milliseconds for a time in seconds."""
    return int(seconds * 1000)


@dataclass(kw_only=True)
class SimulatedConnector:
    """One connector of a simulated chargebox (1-based number = list index + 1)."""

    power: int = 22000
    """Rated power, W."""
    type: str = "type_2"
    format: str = "SOCKET"
    max_amperage: int = 32
    power_type: str = "AC_3_PHASE"
    terminal_id: str = ""
    token: str = ""

    def to_api(self) -> dict[str, Any]:
        """Return the connector as Thor renders it."""
        return {
            "power": self.power,
            "type": self.type,
            "format": self.format,
            "max_amperage": self.max_amperage,
            "power_type": self.power_type,
            "terminal_id": self.terminal_id,
            "token": self.token,
        }


@dataclass
class SimulatedChargebox:
    """A chargebox of the simulated Thor account; every field may be changed live."""

    id: str
    alias: str
    active: bool = True
    connected: bool = True
    public: bool = False
    reservable: bool = True
    payment_free: bool = True
    """False: its payment type is not Free, API starts answer 402 ChargeboxNotFree."""
    reject_starts: bool = False
    """True: the box refuses remote starts (Thor answers 200, no charge ever appears)."""
    price_per_kwh: float = 0.35
    """Price of a kWh when the box is not free (`payment_free` False)."""
    start_fee: float = 0.0
    """Fixed amount charged at the start of a paid charge."""
    currency: str = "eur"
    """Currency of paid charges, lower case as Thor writes it."""
    payment_method: str = "stripe"
    """Payment method of paid charges (RFID and app starts)."""
    vehicle: str = "car"
    ocpp_version: str = "1.6"
    ocpp_msg: str = "json"
    timezone: str = "Europe/Rome"
    latitude: float = 45.4642
    longitude: float = 9.19
    connectors: list[SimulatedConnector] = field(default_factory=list)
    last_heartbeat: int = 0
    """Epoch ms of the last heartbeat; follows the clock while connected."""

    def to_api(self, occupied: list[int], reserved: list[int]) -> dict[str, Any]:
        """Return the chargebox as Thor's get-chargebox endpoint renders it."""
        return {
            "active": self.active,
            "alias": self.alias,
            "connected": self.connected,
            "public": self.public,
            "reservable": self.reservable,
            "connectors": [connector.to_api() for connector in self.connectors],
            "coordinates": {"latitude": self.latitude, "longitude": self.longitude},
            "id": self.id,
            "last_heartbeat": self.last_heartbeat,
            "timezone": self.timezone,
            "type": {
                "vehicle": self.vehicle,
                "msg": self.ocpp_msg,
                "version": self.ocpp_version,
            },
            "occupied_connectors": occupied,
            "reserved_connectors": reserved,
        }


# Fields of SimulatedChargebox that may be changed through the admin API, and the
# JSON types they accept.
CHARGEBOX_SCALARS: dict[str, tuple[type, ...]] = {
    "alias": (str,),
    "active": (bool,),
    "connected": (bool,),
    "public": (bool,),
    "reservable": (bool,),
    "payment_free": (bool,),
    "reject_starts": (bool,),
    "price_per_kwh": (int, float),
    "start_fee": (int, float),
    "currency": (str,),
    "payment_method": (str,),
    "vehicle": (str,),
    "ocpp_version": (str,),
    "ocpp_msg": (str,),
    "timezone": (str,),
    "latitude": (int, float),
    "longitude": (int, float),
    "last_heartbeat": (int,),
}


@dataclass(kw_only=True)
class PendingStart:
    """An API start forwarded to the box; the charge appears at `due`."""

    chargebox: str
    connector: int
    id_tag: str
    transaction: int
    requested: float
    due: float

    def to_dict(self) -> dict[str, Any]:
        """Return the pending start for the admin state."""
        return {
            "chargebox": self.chargebox,
            "connector": self.connector,
            "id_tag": self.id_tag,
            "transaction": self.transaction,
            "requested": epoch_ms(self.requested),
            "due": epoch_ms(self.due),
        }


@dataclass(kw_only=True)
class Pricing:
    """What a paid charge costs, fixed when it starts."""

    price_per_kwh: float
    start_fee: float
    currency: str
    method: str
    transaction: str
    """The payment provider's transaction id."""

    def amount(self, energy_wh: int) -> float:
        """Return the amount due for `energy_wh`, rounded to cents."""
        return round(self.start_fee + self.price_per_kwh * energy_wh / 1000, 2)


@dataclass(kw_only=True)
class Charge:
    """A charge (transaction), running until `finished` is set."""

    id: int
    chargebox: str
    connector: int
    id_tag: str
    """The OCPP idTag of the transaction, needed to stop it."""
    shown_tag: str | None
    """What Thor shows as `id_tag`: the card for RFID starts, None for API/app starts."""
    mode: str
    """How it was started: `api`, `local` (RFID card) or `remote` (Thor app)."""
    started: float
    power: int
    """Rate at which energy is delivered, W (the connector's power unless set)."""
    stop_due: float | None = None
    finished: float | None = None
    fixed_energy: int | None = None
    """Energy of a finished charge added to the history directly, Wh."""
    pricing: Pricing | None = None
    """None for a free charge."""

    def energy(self, now: float) -> int:
        """Return the energy delivered up to `now` (or the end), Wh."""
        if self.fixed_energy is not None and self.finished is not None:
            return self.fixed_energy
        end = now if self.finished is None else self.finished
        return max(0, int(self.power * (end - self.started) / 3600))

    def payment(self, now: float) -> dict[str, Any] | None:
        """Return the payment as Thor renders it: running and finished charges differ.

        Running charges have `{start, method, amount, transaction}`; finished ones
        `{currency, start, method, price, success, transaction, nayaxID}`.
        """
        pricing = self.pricing
        if pricing is None:
            return None
        amount = pricing.amount(self.energy(now))
        if self.finished is None:
            return {
                "start": pricing.start_fee,
                "method": pricing.method,
                "amount": amount,
                "transaction": pricing.transaction,
            }
        return {
            "currency": pricing.currency,
            "start": pricing.start_fee,
            "method": pricing.method,
            "price": amount,
            "success": True,
            "transaction": pricing.transaction,
            "nayaxID": None,
        }

    def to_api(self, now: float) -> dict[str, Any]:
        """Return the charge as the running/finished endpoints render it."""
        item: dict[str, Any] = {
            "chargebox": self.chargebox,
            "connector": self.connector,
            "date_started": epoch_ms(self.started),
            "energy": self.energy(now),
            "id": self.id,
            "id_tag": self.shown_tag,
            "payment": self.payment(now),
            "type": self.mode,
            "user": None,
        }
        if self.finished is not None:
            item["date_finished"] = epoch_ms(self.finished)
        return item


@dataclass(kw_only=True)
class Reservation:
    """A connector reserved until `expiry`."""

    chargebox: str
    connector: int
    id_tag: str
    accepted: float
    expiry: float
    user: str | None = "simulator-user"
    client: str = "simulator"
    status: int = 1
    payment_method: str | None = None
    payment_transaction: str | None = None
    """The Stripe token sent with the reservation, if any."""

    def to_api(self) -> dict[str, Any]:
        """Return the reservation as the reservations endpoint renders it."""
        payment = (
            None
            if self.payment_transaction is None
            else {
                "method": self.payment_method,
                "transaction": self.payment_transaction,
            }
        )
        return {
            "date_accepted": epoch_ms(self.accepted),
            "payment": payment,
            "user": self.user,
            "id_tag": self.id_tag,
            "expiry_date": epoch_ms(self.expiry),
            "client": self.client,
            "status": self.status,
            "chargebox": self.chargebox,
            "connector": self.connector,
        }


@dataclass
class RequestCounts:
    """API requests received (admin requests excluded), for load measurements."""

    total: int = 0
    by_path: Counter[str] = field(default_factory=Counter)
    """Requests per full, percent-decoded path (without the query string): the list
    `/latest/integration/chargeboxes` apart from each `.../chargeboxes/{id}`."""
    by_target: Counter[str] = field(default_factory=Counter)
    """Requests per path and query string as sent, e.g.
    `/latest/integration/charges/running?chargebox=ID`."""
    by_endpoint: Counter[str] = field(default_factory=Counter)
    """Requests per method, route and query parameter names, ids not spelled out:
    `GET /chargeboxes`, `GET /chargeboxes/{chargebox_id}`, `GET /charges/running`,
    `GET /charges/running?chargebox`, `POST /charges/start`, ..."""
    by_status: Counter[int] = field(default_factory=Counter)
    """Answers sent per HTTP status; dropped connections and hung requests have none."""

    def received(
        self, path: str, *, target: str | None = None, endpoint: str | None = None
    ) -> None:
        """Count a request as it arrives (`target` and `endpoint` default to `path`)."""
        self.total += 1
        self.by_path[path] += 1
        self.by_target[target or path] += 1
        self.by_endpoint[endpoint or path] += 1

    def answered(self, status: int) -> None:
        """Count an answer that was sent."""
        self.by_status[status] += 1

    def to_dict(self) -> dict[str, Any]:
        """Return the counts as JSON (status keys become strings)."""
        return {
            "total": self.total,
            "by_path": dict(sorted(self.by_path.items())),
            "by_target": dict(sorted(self.by_target.items())),
            "by_endpoint": dict(sorted(self.by_endpoint.items())),
            "by_status": {str(s): n for s, n in sorted(self.by_status.items())},
        }
