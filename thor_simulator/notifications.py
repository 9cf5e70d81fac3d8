"""Push notifications: the JSON bodies Thor POSTs to the operator's server.

Thor documents four kinds (thor-api.md §3): start (§3.1), stop (§3.2), meter values
(§3.4) and RFID authorization (§3.3, not simulated). `Notifier` keeps the queue of
notifications due, applies the notification faults and POSTs them with one aiohttp
session; the simulator decides what happens and when (`ThorSimulator._settle()`).
"""

from dataclasses import dataclass, field, fields
import ipaddress
import json
import logging
import random
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from .models import Charge, SimulatedConnector

LOGGER = logging.getLogger(__package__)

VOLTAGE = 230.0
"""Phase-to-neutral voltage used to turn a phase's power into its current, V."""
DC_VOLTAGE = 400.0
"""Voltage used for the current of a DC connector, V."""
SEND_TIMEOUT = 5.0
"""Total timeout of one POST, seconds (real time)."""
_EPSILON = 1e-6
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain"})


def check_notification_url(url: object) -> str | None:
    """Return `url` when it is None or an http(s) URL of a loopback host.

    Raise TypeError (not a string) or ValueError otherwise. The simulator only ever POSTs to loopback (127.0.0.0/8,
    ::1, localhost): it must not be turned into a client of arbitrary hosts.
    """
    if url is None:
        return None
    if not isinstance(url, str):
        raise TypeError("url must be a string or null")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on a bad port
    except ValueError as err:
        raise ValueError(f"Invalid notification URL {url!r}: {err}") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError("The notification URL must be http:// or https://")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError("The notification URL has no host")
    if host not in _LOOPBACK_NAMES:
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ValueError(
                f"The notification URL must point to a loopback host, not {host!r}"
            )
    return url


@dataclass
class NotificationSettings:
    """Where notifications go, how often meters are sent, and their faults.

    Faults are applied when a notification is due, in this order: `drop_next`, then
    `drop` (probability), then `reorder`, then `duplicate`; `delay` moves the due
    time of each notification created while it is set.
    """

    url: str | None = None
    """Target of every notification (http(s), loopback hosts only); None: none sent."""
    enabled: bool = True
    """False: nothing is created nor sent (the queue is emptied)."""
    meter_interval: float = 5.0
    """Simulated seconds between two meter notifications of a running charge."""
    duplicate_type_key: bool = False
    """Render start notifications with Thor's documented bug: a second `"type"`
    key holding the mode instead of `"mode"`."""
    drop: float = 0.0
    """Probability (0..1) that a due notification is dropped (seeded RNG)."""
    drop_next: int = 0
    """Drop the next N due notifications (counts down)."""
    duplicate: bool = False
    """POST every notification twice."""
    delay: float = 0.0
    """Simulated seconds between an event and its notification."""
    reorder: bool = False
    """Hold each notification and send it right after the next one (pairs swap);
    one still held when `reorder` is turned off goes out with the next send."""

    def set(self, **changes: Any) -> None:
        """Validate then apply changes (ValueError/TypeError; nothing applied then)."""
        known = {f.name for f in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise TypeError(f"Unknown notification setting {name!r}")
            _validate(name, value)
        for name, value in changes.items():
            floats = ("meter_interval", "drop", "delay")
            setattr(self, name, float(value) if name in floats else value)

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as JSON."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _validate(name: str, value: Any) -> None:
    """Raise ValueError when `value` does not suit the setting `name`."""
    if name == "url":
        check_notification_url(value)
        return
    if name in ("enabled", "duplicate_type_key", "duplicate", "reorder"):
        ok = isinstance(value, bool)
    elif name == "meter_interval":
        ok = _number(value) and value > 0
    elif name == "drop":
        ok = _number(value) and 0 <= value <= 1
    elif name == "drop_next":
        ok = _integer(value) and value >= 0
    else:  # delay
        ok = _number(value) and value >= 0
    if not ok:
        raise ValueError(f"Invalid value for notification setting {name!r}: {value!r}")


@dataclass
class NotificationCounters:
    """What happened to the notifications so far."""

    sent: int = 0
    """POSTs answered with a 2xx status (each copy of a duplicate counts)."""
    failed: int = 0
    """POSTs answered with another status or not answered (error, timeout)."""
    dropped: int = 0
    """Notifications dropped by `drop` or `drop_next`."""
    duplicated: int = 0
    """Notifications POSTed twice by `duplicate`."""
    last_status: int | None = None
    """HTTP status of the last answer; None before any, or after a failed POST."""
    last_error: str | None = None
    """Why the last POST failed without an answer, None after an answer."""

    def to_dict(self) -> dict[str, Any]:
        """Return the counters as JSON."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(order=True)
class QueuedNotification:
    """A notification waiting for its due time (simulated seconds)."""

    due: float
    seq: int
    body: dict[str, Any] = field(compare=False)


def render(body: dict[str, Any], *, duplicate_type_key: bool = False) -> str:
    """Return the JSON text of a body.

    With `duplicate_type_key`, a start notification's `"mode"` key is written as a
    second `"type"` key, as in Thor's documented examples (json.dumps cannot).
    """
    if not duplicate_type_key or body.get("type") != "start" or "mode" not in body:
        return json.dumps(body)
    items = (
        f"{json.dumps('type' if key == 'mode' else key)}: {json.dumps(value)}"
        for key, value in body.items()
    )
    return "{" + ", ".join(items) + "}"


def payment_details(charge: Charge) -> dict[str, Any] | None:
    """Return the payment block (§3.5) of a paid charge, None for a free one."""
    pricing = charge.pricing
    if pricing is None:
        return None
    return {
        "type": "consume-based",
        "options": {
            "theshold_hour": 0,
            "unit": "kwh",
            "currency": pricing.currency,
            "amount": pricing.price_per_kwh,
            "start_charge": pricing.start_fee,
            "minimum_threshold": 0,
        },
    }


def _with_payment(body: dict[str, Any], charge: Charge) -> dict[str, Any]:
    payment = payment_details(charge)
    if payment is not None:
        body["payment"] = payment
    return body


def start_body(charge: Charge) -> dict[str, Any]:
    """Return the start notification of a charge that began (§3.1)."""
    return _with_payment(
        {
            "type": "start",
            "accepted": True,
            "chargebox": charge.chargebox,
            "connector": charge.connector,
            "id": charge.id_tag,
            "transaction_id": charge.id,
            "mode": charge.mode,
        },
        charge,
    )


def rejected_start_body(chargebox: str, connector: int, id_tag: str) -> dict[str, Any]:
    """Return the start notification of an API start the chargebox refused (§3.1)."""
    return {
        "type": "start",
        "accepted": False,
        "chargebox": chargebox,
        "connector": connector,
        "id": id_tag,
        "transaction_id": 0,
        "mode": "api",
    }


def stop_body(charge: Charge) -> dict[str, Any]:
    """Return the stop notification of a charge that ended (§3.2)."""
    end = charge.finished if charge.finished is not None else charge.started
    return _with_payment(
        {
            "type": "stop_transaction",
            "accepted": True,
            "unlocked": False,
            "chargebox": charge.chargebox,
            "connector": charge.connector,
            "idTag": charge.id_tag,
            "transaction_id": charge.id,
            "kwh": charge.energy(end),
            "time": max(0, int(end - charge.started)),
        },
        charge,
    )


def duration_text(seconds: float) -> str:
    """Return `HH:MM:SS` (hours may exceed 23)."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def meters_body(
    charge: Charge, connector: SimulatedConnector, now: float
) -> dict[str, Any]:
    """Return the meter-values notification of a running charge at `now` (§3.4).

    The charge's power is split evenly over the connector's phases (L1 for
    AC_1_PHASE, L1-L3 for AC_3_PHASE, no phase for DC); a phase's current is its
    power over 230 V (400 V for DC).
    """
    energy = charge.energy(now)
    phases: list[str | None]
    if connector.power_type == "AC_1_PHASE":
        phases = ["L1"]
    elif connector.power_type == "DC":
        phases = [None]
    else:
        phases = ["L1", "L2", "L3"]
    voltage = DC_VOLTAGE if connector.power_type == "DC" else VOLTAGE
    per_phase = charge.power / len(phases)
    meters: list[dict[str, Any]] = [
        {
            "measurand": "Energy.Active.Import.Register",
            "uom": "Wh",
            "value": float(energy),
            "phase": None,
        }
    ]
    meters.extend(
        {
            "measurand": "Power.Active.Import",
            "uom": "W",
            "phase": phase,
            "value": round(per_phase, 1),
        }
        for phase in phases
    )
    meters.extend(
        {
            "measurand": "Current.Import",
            "uom": "A",
            "phase": phase,
            "value": round(per_phase / voltage, 2),
        }
        for phase in phases
    )
    return _with_payment(
        {
            "type": "meters",
            "chargebox": charge.chargebox,
            "connector": charge.connector,
            "idTag": charge.id_tag,
            "time": duration_text(now - charge.started),
            "kwh": energy,
            "meters": meters,
        },
        charge,
    )


class Notifier:
    """The queue of notifications and the HTTP client that POSTs them."""

    def __init__(self, rng: random.Random, url: str | None = None) -> None:
        """Create a notifier drawing its `drop` chances from `rng`."""
        self.settings = NotificationSettings(url=check_notification_url(url))
        self.counters = NotificationCounters()
        self._rng = rng
        self._queue: list[QueuedNotification] = []
        self._held: QueuedNotification | None = None
        self._seq = 0
        self._meter_last: dict[int, float] = {}
        self._session: aiohttp.ClientSession | None = None

    @property
    def active(self) -> bool:
        """Whether notifications are created: a URL is set and sending is enabled."""
        return self.settings.enabled and self.settings.url is not None

    def configure(self, **changes: Any) -> None:
        """Change settings (validated, all or nothing); disabling empties the queue."""
        self.settings.set(**changes)
        if not self.active:
            self.clear_queue()

    def clear_queue(self) -> None:
        """Forget every notification not sent yet."""
        self._queue.clear()
        self._held = None

    @property
    def queued(self) -> int:
        """Number of notifications waiting (held by `reorder` included)."""
        return len(self._queue) + (self._held is not None)

    def emit(self, body: dict[str, Any], when: float) -> None:
        """Queue a notification for an event at `when` (nothing while inactive)."""
        if not self.active:
            return
        self._seq += 1
        self._queue.append(
            QueuedNotification(when + self.settings.delay, self._seq, body)
        )

    def meter_due(self, charge: Charge, now: float) -> bool:
        """Return whether a running charge's next meter notification is due at `now`.

        Marks it sent: at most one per `meter_interval` of simulated time.
        """
        if not self.active:
            return False
        last = self._meter_last.get(charge.id, charge.started)
        if now - last + _EPSILON < self.settings.meter_interval:
            return False
        self._meter_last[charge.id] = now
        return True

    def forget_meters(self, running: set[int]) -> None:
        """Drop the meter bookkeeping of charges that are no longer running."""
        for charge_id in set(self._meter_last) - running:
            del self._meter_last[charge_id]

    def take_due(self, now: float) -> list[QueuedNotification]:
        """Remove the notifications due at `now`; return those to POST, in order.

        Applies drop, drop_next and reorder; duplicates are handled by `post`.
        """
        if not self.active:
            self.clear_queue()
            return []
        due = sorted(item for item in self._queue if item.due <= now)
        self._queue = [item for item in self._queue if item.due > now]
        out: list[QueuedNotification] = []
        settings = self.settings
        if self._held is not None and not settings.reorder:
            out.append(self._held)
            self._held = None
        for item in due:
            if settings.drop_next > 0:
                settings.drop_next -= 1
                self.counters.dropped += 1
                continue
            if settings.drop > 0 and self._rng.random() < settings.drop:
                self.counters.dropped += 1
                continue
            if not settings.reorder:
                out.append(item)
            elif self._held is None:
                self._held = item
            else:
                out.extend((item, self._held))
                self._held = None
        return out

    async def post(self, item: QueuedNotification) -> None:
        """POST one notification (twice with `duplicate`); never raise."""
        url = self.settings.url
        if url is None:
            return
        text = render(item.body, duplicate_type_key=self.settings.duplicate_type_key)
        copies = 2 if self.settings.duplicate else 1
        if copies > 1:
            self.counters.duplicated += 1
        for _ in range(copies):
            await self._post_text(url, text)

    async def _post_text(self, url: str, text: str) -> None:
        counters = self.counters
        try:
            if self._session is None or self._session.closed:
                self._session = aiohttp.ClientSession(
                    timeout=aiohttp.ClientTimeout(total=SEND_TIMEOUT)
                )
            async with self._session.post(
                url, data=text, headers={"Content-Type": "application/json"}
            ) as response:
                await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError) as err:
            counters.failed += 1
            counters.last_status = None
            counters.last_error = f"{type(err).__name__}: {err}"
            LOGGER.debug("Notification to %s failed: %r", url, err)
            return
        counters.last_status = status
        counters.last_error = None
        if 200 <= status < 300:
            counters.sent += 1
        else:
            counters.failed += 1
            LOGGER.debug("Notification to %s answered %s", url, status)

    async def close(self) -> None:
        """Close the HTTP session (a later POST opens a new one)."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def to_dict(self) -> dict[str, Any]:
        """Return settings, counters and the queue length as JSON."""
        return {
            **self.settings.to_dict(),
            "counters": self.counters.to_dict(),
            "queued": self.queued,
        }


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
