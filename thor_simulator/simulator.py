"""State and behaviour of the simulated Thor cloud.

All state is computed lazily from `now()` (the clock plus an offset moved by
`advance()`): a start that is due, a stop that is due and a reservation that expired
take effect the next time anything looks at the state.
"""

import asyncio
from collections.abc import Callable
import contextlib
from datetime import datetime
import logging
import math
import random
import string
import time
from typing import Any, TypeIs

from aiohttp import web

from .app import ADMIN_PREFIX, API_PREFIX, build_app
from .errors import ApiError, SimulatorError, UnknownChargeboxError
from .faults import Faults
from .models import (
    Charge,
    PendingStart,
    Pricing,
    RequestCounts,
    Reservation,
    SimulatedChargebox,
    SimulatedConnector,
    epoch_ms,
)
from .notifications import (
    Notifier,
    check_notification_url,
    meters_body,
    rejected_start_body,
    start_body,
    stop_body,
)

FIRST_TRANSACTION = 1001
CHARGE_MODES = ("local", "remote", "api")
"""How a charge was started: RFID card, Thor app, integration API."""

_ALNUM = string.ascii_letters + string.digits
_LOWER_ALNUM = string.ascii_lowercase + string.digits

# Keyword arguments of add_chargebox that set a field of every connector.
_CONNECTOR_ATTRS = {
    "connector_type": "type",
    "connector_format": "format",
    "max_amperage": "max_amperage",
    "power_type": "power_type",
}

type Key = tuple[str, int]

LOGGER = logging.getLogger(__package__)
NOTIFICATION_LOOP_INTERVAL = 0.2
"""Real seconds between two runs of the background notification sender."""


class ThorSimulator:
    """A Thor cloud account with chargeboxes, served over HTTP on loopback."""

    def __init__(
        self,
        *,
        api_key: str = "sim-api-key",
        seed: int = 0,
        start_delay: float = 3.0,
        stop_delay: float = 3.0,
        start_rate_limit: float = 5.0,
        cancel_pending_on_stop: bool = True,
        clock: Callable[[], float] | None = None,
        notification_url: str | None = None,
        notification_loop_interval: float = NOTIFICATION_LOOP_INTERVAL,
    ) -> None:
        """Create an account with one valid API key and no chargeboxes.

        `notification_url` (http(s), loopback only) receives Thor's push
        notifications; they are POSTed by a background task every
        `notification_loop_interval` real seconds while the app is served (0: no
        task, only `async_send_notifications()` sends).
        """
        if notification_loop_interval < 0:
            raise ValueError("notification_loop_interval must be >= 0")
        self.api_keys: set[str] = {api_key}
        self.rest_enabled = True
        self.allowed_source_ip: str | None = None
        self.chargeboxes: dict[str, SimulatedChargebox] = {}
        self.faults = Faults()
        self.start_delay = start_delay
        self.stop_delay = stop_delay
        self.start_rate_limit = start_rate_limit
        # Thor's docs do not say what a stop does to a start the chargebox has not
        # begun: cancel it, or answer NotInTransaction and let the charge begin.
        self.cancel_pending_on_stop = cancel_pending_on_stop
        self.requests: list[tuple[str, str]] = []
        self.request_counts = RequestCounts()
        self._clock = clock or time.time
        self._offset = 0.0
        self._rng = random.Random(seed)
        self.notifier = Notifier(self._rng, notification_url)
        self.notification_loop_interval = notification_loop_interval
        self._notification_task: asyncio.Task[None] | None = None
        self._send_lock = asyncio.Lock()
        self._rejected: list[PendingStart] = []
        self._next_transaction = FIRST_TRANSACTION
        self._pending: dict[Key, PendingStart] = {}
        self._charges: dict[Key, Charge] = {}
        self._finished: list[Charge] = []
        self._reservations: dict[Key, Reservation] = {}
        self._last_start: dict[Key, float] = {}
        self._runner: web.AppRunner | None = None
        self._closing = asyncio.Event()
        self._base_url: str | None = None
        self._admin_url: str | None = None

    # ----------------------------------------------------------------- clock

    def now(self) -> float:
        """Return the simulated time, epoch seconds."""
        return self._clock() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the simulated clock forward."""
        if seconds < 0:
            raise ValueError("The clock only moves forward")
        self._settle()
        self._offset += seconds
        self._settle()

    # -------------------------------------------------------------- accounts

    def add_key(self, key: str) -> None:
        """Make `key` a valid API key."""
        self.api_keys.add(key)

    def revoke_key(self, key: str) -> None:
        """Make `key` invalid (as if it had been regenerated in the dashboard)."""
        self.api_keys.discard(key)

    def reset_requests(self) -> None:
        """Forget the API requests received so far: the log and the counts."""
        self.requests.clear()
        self.request_counts = RequestCounts()

    # ----------------------------------------------------------- chargeboxes

    def random_string(self, length: int, alphabet: str = _ALNUM) -> str:
        """Return a seeded random string."""
        return "".join(self._rng.choice(alphabet) for _ in range(length))

    def add_chargebox(
        self,
        *,
        alias: str,
        connectors: int = 1,
        chargebox_id: str | None = None,
        power: int = 22000,
        **attrs: Any,
    ) -> SimulatedChargebox:
        """Add a chargebox with `connectors` identical connectors.

        `attrs` set SimulatedChargebox fields (active, connected, vehicle, ...) or,
        for every connector, `connector_type`, `connector_format`, `max_amperage`
        and `power_type`.
        """
        if connectors < 1:
            raise ValueError("A chargebox has at least one connector")
        box_id = chargebox_id if chargebox_id is not None else self.random_string(16)
        if box_id in self.chargeboxes:
            raise ValueError(f"Chargebox {box_id} already exists")
        connector_attrs = {
            _CONNECTOR_ATTRS[name]: attrs.pop(name)
            for name in list(attrs)
            if name in _CONNECTOR_ATTRS
        }
        box = SimulatedChargebox(id=box_id, alias=alias, **attrs)
        box.connectors = [
            SimulatedConnector(
                power=power,
                terminal_id=self.random_string(8, string.digits),
                token=self.random_string(32),
                **connector_attrs,
            )
            for _ in range(connectors)
        ]
        box.last_heartbeat = epoch_ms(self.now())
        self.chargeboxes[box_id] = box
        return box

    def _box(self, chargebox_id: str) -> SimulatedChargebox:
        """Return a chargebox or raise UnknownChargeboxError."""
        box = self.chargeboxes.get(chargebox_id)
        if box is None:
            raise UnknownChargeboxError(f"No chargebox {chargebox_id!r}")
        return box

    def _connector(self, chargebox_id: str, connector: int) -> Key:
        """Return the key of a valid connector or raise SimulatorError."""
        box = self._box(chargebox_id)
        if not _is_int(connector) or not 1 <= connector <= len(box.connectors):
            raise SimulatorError(
                f"Chargebox {chargebox_id!r} has no connector {connector!r}"
            )
        return (chargebox_id, connector)

    # ------------------------------------------------------------ lazy state

    def _settle(self) -> None:
        """Apply every start, stop and expiry that is due, in time order."""
        now = self.now()
        for key, pending in sorted(self._pending.items(), key=lambda kv: kv[1].due):
            if pending.due <= now:
                del self._pending[key]
                box = self.chargeboxes.get(key[0])
                if box is None or key[1] > len(box.connectors):
                    continue
                charge = Charge(
                    id=pending.transaction,
                    chargebox=key[0],
                    connector=key[1],
                    id_tag=pending.id_tag,
                    shown_tag=None,
                    mode="api",
                    started=pending.due,
                    power=box.connectors[key[1] - 1].power,
                )
                self._charges[key] = charge
                self.notifier.emit(start_body(charge), pending.due)
        for rejected in [r for r in self._rejected if r.due <= now]:
            self._rejected.remove(rejected)
            self.notifier.emit(
                rejected_start_body(
                    rejected.chargebox, rejected.connector, rejected.id_tag
                ),
                rejected.due,
            )
        due = [
            (key, charge)
            for key, charge in self._charges.items()
            if charge.stop_due is not None and charge.stop_due <= now
        ]
        for key, charge in sorted(due, key=lambda kv: kv[1].stop_due or 0.0):
            self._finish(key, charge, charge.stop_due or now)
        for key, reservation in list(self._reservations.items()):
            if reservation.expiry <= now:
                del self._reservations[key]
        for box in self.chargeboxes.values():
            if box.connected:
                box.last_heartbeat = epoch_ms(now)

    def _finish(self, key: Key, charge: Charge, when: float) -> None:
        """End a running charge at `when`."""
        del self._charges[key]
        charge.finished = when
        self._finished.append(charge)
        self.notifier.emit(stop_body(charge), when)

    def _take_transaction(self) -> int:
        """Return the next transaction number."""
        number = self._next_transaction
        self._next_transaction += 1
        return number

    def occupied_connectors(self, chargebox_id: str) -> list[int]:
        """Return the connectors of a chargebox with a running charge."""
        self._settle()
        return sorted(c for b, c in self._charges if b == chargebox_id)

    def reserved_connectors(self, chargebox_id: str) -> list[int]:
        """Return the connectors of a chargebox reserved right now."""
        self._settle()
        return sorted(c for b, c in self._reservations if b == chargebox_id)

    def chargebox_json(self, chargebox_id: str) -> dict[str, Any]:
        """Return a chargebox as the API renders it."""
        box = self._box(chargebox_id)
        return box.to_api(
            self.occupied_connectors(chargebox_id),
            self.reserved_connectors(chargebox_id),
        )

    def running(self, chargebox_id: str | None = None) -> list[dict[str, Any]]:
        """Return the running charges as the API renders them."""
        self._settle()
        now = self.now()
        return [
            charge.to_api(now)
            for charge in sorted(self._charges.values(), key=lambda c: c.id)
            if chargebox_id is None or charge.chargebox == chargebox_id
        ]

    @property
    def finished(self) -> list[dict[str, Any]]:
        """Return the finished charges as the API renders them, oldest end first."""
        self._settle()
        now = self.now()
        return [charge.to_api(now) for charge in self._finished]

    def reservations(self, chargebox_id: str | None = None) -> list[dict[str, Any]]:
        """Return the reservations that have not expired."""
        self._settle()
        return [
            reservation.to_api()
            for reservation in self._reservations.values()
            if chargebox_id is None or reservation.chargebox == chargebox_id
        ]

    def pending_starts(self) -> list[dict[str, Any]]:
        """Return the API starts whose charge has not appeared yet."""
        self._settle()
        return [pending.to_dict() for pending in self._pending.values()]

    # ------------------------------------------------------- test controls

    def _check_free(self, key: Key) -> None:
        """Raise SimulatorError when the connector has a charge or a pending start."""
        if key in self._charges or key in self._pending:
            raise SimulatorError(f"Connector {key[1]} of {key[0]!r} is busy")

    def _pricing(self, box: SimulatedChargebox) -> Pricing | None:
        """Return the pricing of a new charge on a box, None when the box is free."""
        if box.payment_free:
            return None
        return Pricing(
            price_per_kwh=float(box.price_per_kwh),
            start_fee=float(box.start_fee),
            currency=box.currency,
            method=box.payment_method,
            transaction="pi_" + self.random_string(24),
        )

    @staticmethod
    def _check_power(power: int | None) -> None:
        """Refuse an energy rate that is not a whole number of W >= 0."""
        if power is not None and (not _is_int(power) or power < 0):
            raise SimulatorError("power must be an integer number of W >= 0")

    def _start_now(
        self,
        key: Key,
        *,
        id_tag: str,
        shown_tag: str | None,
        mode: str,
        power: int | None = None,
    ) -> int:
        """Start a charge at once and return its transaction number.

        A paid box (`payment_free` False) gives the charge a payment.
        """
        self._check_power(power)
        self._settle()
        self._check_free(key)
        box = self.chargeboxes[key[0]]
        charge = Charge(
            id=self._take_transaction(),
            chargebox=key[0],
            connector=key[1],
            id_tag=id_tag,
            shown_tag=shown_tag,
            mode=mode,
            started=self.now(),
            power=box.connectors[key[1] - 1].power if power is None else power,
            pricing=self._pricing(box),
        )
        self._charges[key] = charge
        self.notifier.emit(start_body(charge), charge.started)
        return charge.id

    def start_rfid_charge(
        self,
        chargebox_id: str,
        connector: int,
        id_tag: str,
        *,
        power: int | None = None,
    ) -> int:
        """Start a charge with an RFID card at the box (mode local); return its id.

        `power` (W) is the rate energy grows at, the connector's power by default.
        """
        key = self._connector(chargebox_id, connector)
        if not isinstance(id_tag, str) or not id_tag:
            raise SimulatorError("The RFID id_tag must be a non-empty string")
        return self._start_now(
            key, id_tag=id_tag, shown_tag=id_tag, mode="local", power=power
        )

    def start_app_charge(
        self, chargebox_id: str, connector: int, *, power: int | None = None
    ) -> int:
        """Start a charge from the Thor app (mode remote); return its id.

        Running charges show `id_tag` null; the tag that stops it is `app_tag()`.
        `power` (W) is the rate energy grows at, the connector's power by default.
        """
        key = self._connector(chargebox_id, connector)
        return self._start_now(
            key,
            id_tag=self.random_string(20, _LOWER_ALNUM),
            shown_tag=None,
            mode="remote",
            power=power,
        )

    def add_finished_charge(
        self,
        chargebox_id: str,
        connector: int,
        *,
        started: float | datetime,
        finished: float | datetime,
        energy: int | None = None,
        mode: str = "local",
        id_tag: str | None = None,
    ) -> dict[str, Any]:
        """Put a charge that already ended into the history; return it as rendered.

        For charges that happened while nobody was polling. Times are epoch seconds
        (or aware datetimes); `energy` (Wh) defaults to the connector's power over the
        duration. It gets the next transaction number and, on a paid box, a payment.
        `id_tag` is the RFID card shown for `local` charges (a seeded one by default);
        `remote` and `api` charges show none.
        """
        key = self._connector(chargebox_id, connector)
        start = started.timestamp() if isinstance(started, datetime) else started
        end = finished.timestamp() if isinstance(finished, datetime) else finished
        if not _is_number(start) or not _is_number(end):
            raise SimulatorError("started and finished must be numbers")
        if end <= start:
            raise SimulatorError("finished must be after started")
        self._settle()
        if end > self.now():
            raise SimulatorError("finished must not be in the future")
        if mode not in CHARGE_MODES:
            raise SimulatorError(f"mode must be one of {', '.join(CHARGE_MODES)}")
        if energy is not None and (not _is_int(energy) or energy < 0):
            raise SimulatorError("energy must be an integer number of Wh >= 0")
        if id_tag is not None and (not isinstance(id_tag, str) or not id_tag):
            raise SimulatorError("id_tag must be a non-empty string")
        box = self.chargeboxes[chargebox_id]
        power = box.connectors[connector - 1].power
        tag = id_tag or self.random_string(
            10 if mode == "local" else 20,
            string.digits if mode == "local" else _LOWER_ALNUM,
        )
        charge = Charge(
            id=self._take_transaction(),
            chargebox=key[0],
            connector=key[1],
            id_tag=tag,
            shown_tag=tag if mode == "local" else None,
            mode=mode,
            started=float(start),
            power=power,
            finished=float(end),
            fixed_energy=(
                max(0, int(power * (end - start) / 3600)) if energy is None else energy
            ),
            pricing=self._pricing(box),
        )
        self._finished.append(charge)
        # Kept in the order the charges ended, as the ones that end live are.
        self._finished.sort(key=lambda c: c.finished or 0.0)
        return charge.to_api(self.now())

    def app_tag(self, chargebox_id: str, connector: int) -> str:
        """Return the hidden id_tag of the charge (or pending start) on a connector."""
        key = self._connector(chargebox_id, connector)
        self._settle()
        if key in self._charges:
            return self._charges[key].id_tag
        if key in self._pending:
            return self._pending[key].id_tag
        raise SimulatorError(f"No charge on connector {connector} of {chargebox_id!r}")

    def end_charge(self, chargebox_id: str, connector: int) -> None:
        """End the charge at the box (unplug): at once, or cancel a pending start."""
        key = self._connector(chargebox_id, connector)
        self._settle()
        if key in self._charges:
            self._finish(key, self._charges[key], self.now())
        elif key in self._pending:
            del self._pending[key]
        else:
            raise SimulatorError(
                f"No charge on connector {connector} of {chargebox_id!r}"
            )

    def reserve(
        self, chargebox_id: str, connector: int, *, minutes: float = 15
    ) -> None:
        """Reserve a connector for `minutes` (replacing its reservation)."""
        key = self._connector(chargebox_id, connector)
        if not _is_number(minutes) or minutes <= 0:
            raise SimulatorError("A reservation lasts a positive number of minutes")
        self._settle()
        now = self.now()
        self._reservations[key] = Reservation(
            chargebox=chargebox_id,
            connector=connector,
            id_tag=self.random_string(18, _LOWER_ALNUM),
            accepted=now,
            expiry=now + minutes * 60,
        )

    # -------------------------------------------------------- notifications

    @property
    def notification_url(self) -> str | None:
        """Return the URL Thor's push notifications are POSTed to (None: none)."""
        return self.notifier.settings.url

    @notification_url.setter
    def notification_url(self, url: str | None) -> None:
        """Set the notification URL: http(s) on a loopback host, or None."""
        try:
            self.notifier.configure(url=check_notification_url(url))
        except (TypeError, ValueError) as err:
            raise SimulatorError(str(err)) from None

    def configure_notifications(self, **changes: Any) -> dict[str, Any]:
        """Change notification settings and faults; return settings and counters.

        Names are the fields of `NotificationSettings` (url, enabled,
        meter_interval, duplicate_type_key, drop, drop_next, duplicate, delay,
        reorder); a bad one raises SimulatorError and changes nothing.
        """
        try:
            self.notifier.configure(**changes)
        except (TypeError, ValueError) as err:
            raise SimulatorError(str(err)) from None
        return self.notifier.to_dict()

    def _queue_meters(self) -> None:
        """Queue a meter notification for each running charge whose one is due."""
        now = self.now()
        for charge in sorted(self._charges.values(), key=lambda c: c.id):
            if self.notifier.meter_due(charge, now):
                box = self.chargeboxes.get(charge.chargebox)
                if box is None or charge.connector > len(box.connectors):
                    continue
                connector = box.connectors[charge.connector - 1]
                self.notifier.emit(meters_body(charge, connector, now), now)
        self.notifier.forget_meters({charge.id for charge in self._charges.values()})

    async def async_send_notifications(self) -> list[dict[str, Any]]:
        """Settle the state and POST every notification due now, in order.

        Return the bodies POSTed (a duplicated one twice; a start rendered with
        `duplicate_type_key` still shows `mode` here). Never raises on HTTP
        errors: they are counted. The background sender calls the same, so nothing
        is sent twice.
        """
        async with self._send_lock:
            self._settle()
            self._queue_meters()
            sent: list[dict[str, Any]] = []
            for item in self.notifier.take_due(self.now()):
                await self.notifier.post(item)
                sent.extend(
                    [item.body] * (2 if self.notifier.settings.duplicate else 1)
                )
            return sent

    async def _notification_loop(self) -> None:
        """Send the notifications due, every `notification_loop_interval` seconds."""
        while True:
            await asyncio.sleep(self.notification_loop_interval)
            if not self.notifier.active:
                continue
            try:
                await self.async_send_notifications()
            except Exception:
                LOGGER.debug("Sending notifications failed", exc_info=True)

    async def _start_notification_loop(self, _app: web.Application) -> None:
        """Start the background sender (aiohttp on_startup)."""
        if self.notification_loop_interval <= 0:
            return
        task = self._notification_task
        if task is None or task.done():
            self._notification_task = asyncio.create_task(
                self._notification_loop(), name="thor-simulator-notifications"
            )

    async def _stop_notification_loop(self, _app: web.Application | None) -> None:
        """Stop the background sender and close its session (aiohttp on_cleanup)."""
        task, self._notification_task = self._notification_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.notifier.close()

    # ------------------------------------------------------------- API logic

    def check_access(self, api_key: str | None, remote: str | None) -> None:
        """Raise the 403 Thor gives for a bad key, a disabled API or a wrong IP."""
        if not api_key or api_key not in self.api_keys:
            raise ApiError(403, "APIKeyNotFound")
        if not self.rest_enabled:
            raise ApiError(403, "RestAPINotEnabled")
        if self.allowed_source_ip is not None and remote != self.allowed_source_ip:
            raise ApiError(403, "InvalidSourceIPAddr")

    def _api_box(self, body: dict[str, Any]) -> SimulatedChargebox:
        """Return the chargebox named by a request body (400/404 otherwise)."""
        chargebox_id = body.get("chargebox")
        if not isinstance(chargebox_id, str):
            raise ApiError(400, "BadRequest", detail="chargebox must be a string")
        box = self.chargeboxes.get(chargebox_id)
        if box is None:
            raise ApiError(404, "ChargeboxNotFound")
        return box

    def api_start(self, body: dict[str, Any]) -> str:
        """Handle `POST charges/start` and return the id_tag Thor generated.

        A box that is disconnected or refuses remote starts still gets a 200 (Thor
        only forwards the command), but no charge appears.
        """
        box = self._api_box(body)
        if not box.active:
            raise ApiError(403, "ChargeboxNotActive")
        if not box.payment_free:
            raise ApiError(402, "ChargeboxNotFree")
        connector = body.get("connector")
        if not _is_int(connector) or not 1 <= connector <= len(box.connectors):
            raise ApiError(400, "ConnectorNotValid")
        key = (box.id, connector)
        self._settle()
        now = self.now()
        last = self._last_start.get(key)
        if self.start_rate_limit > 0 and last is not None:
            remaining = last + self.start_rate_limit - now
            if remaining > 0:
                # error_response() drops the header when faults.retry_after is off.
                retry_after = str(max(1, math.ceil(remaining)))
                raise ApiError(
                    429, "TooManyRequests", headers={"Retry-After": retry_after}
                )
        if key in self._charges or key in self._pending:
            raise ApiError(400, "AlreadyInTransaction")
        self._last_start[key] = now
        id_tag = self.random_string(20, _LOWER_ALNUM)
        if box.connected and not box.reject_starts:
            self._pending[key] = PendingStart(
                chargebox=box.id,
                connector=connector,
                id_tag=id_tag,
                transaction=self._take_transaction(),
                requested=now,
                due=now + self.start_delay,
            )
            self._settle()
        elif box.connected:
            # The box refuses: Thor notifies `accepted: false` when the start would
            # have begun; polling never shows a charge.
            self._rejected.append(
                PendingStart(
                    chargebox=box.id,
                    connector=connector,
                    id_tag=id_tag,
                    transaction=0,
                    requested=now,
                    due=now + self.start_delay,
                )
            )
            self._settle()
        return id_tag

    def api_stop(self, body: dict[str, Any]) -> None:
        """Handle `POST charges/stop`.

        The charge ends `stop_delay` seconds later; a start still pending is
        cancelled at once (its charge never appears), or with
        `cancel_pending_on_stop` off refused as NotInTransaction (it begins later). A second stop of a charge that
        is already stopping is accepted and changes nothing.
        """
        box = self._api_box(body)
        connector = body.get("connector")
        if not _is_int(connector) or connector <= 0:
            raise ApiError(400, "ConnectorNotValid")
        id_tag = body.get("id_tag")
        if not isinstance(id_tag, str) or not id_tag:
            raise ApiError(400, "BadRequest", detail="id_tag must be a string")
        transaction = body.get("transaction")
        if transaction is not None and not _is_int(transaction):
            raise ApiError(400, "BadRequest", detail="transaction must be an integer")
        key = (box.id, connector)
        self._settle()
        charge = self._charges.get(key)
        pending = self._pending.get(key)
        if charge is not None:
            if id_tag != charge.id_tag or transaction not in (None, charge.id):
                raise ApiError(400, "WrongTransaction")
            if charge.stop_due is None:
                charge.stop_due = self.now() + self.stop_delay
                self._settle()
        elif pending is not None and self.cancel_pending_on_stop:
            if id_tag != pending.id_tag or transaction not in (
                None,
                pending.transaction,
            ):
                raise ApiError(400, "WrongTransaction")
            del self._pending[key]
        else:
            raise ApiError(400, "NotInTransaction")

    def api_reserve(self, body: dict[str, Any]) -> dict[str, Any]:
        """Handle `POST charges/reservenow`; return the reservation as listed.

        Thor documents neither the answer nor the errors of reservenow: we assume it
        answers the reservation as `GET reservations` renders one item, and refuses
        with 404 ChargeboxNotFound, 403 ChargeboxNotActive, 400 ConnectorNotValid,
        400 BadRequest (expiry_date missing, not an integer, not in the future),
        400 ChargeboxNotReservable, 400 AlreadyInTransaction and 400 AlreadyReserved,
        in that order. A reservation does not replace another one.
        """
        box = self._api_box(body)
        if not box.active:
            raise ApiError(403, "ChargeboxNotActive")
        connector = body.get("connector")
        if not _is_int(connector) or not 1 <= connector <= len(box.connectors):
            raise ApiError(400, "ConnectorNotValid")
        expiry = body.get("expiry_date")
        if not _is_int(expiry):
            raise ApiError(400, "BadRequest", detail="expiry_date must be an integer")
        for name in ("user", "stripe_token"):
            if body.get(name) is not None and not isinstance(body[name], str):
                raise ApiError(400, "BadRequest", detail=f"{name} must be a string")
        self._settle()
        now = self.now()
        if expiry <= epoch_ms(now):
            raise ApiError(
                400, "BadRequest", detail="expiry_date must be in the future"
            )
        if not box.reservable:
            raise ApiError(400, "ChargeboxNotReservable")
        key = (box.id, connector)
        if key in self._charges or key in self._pending:
            raise ApiError(400, "AlreadyInTransaction")
        if key in self._reservations:
            raise ApiError(400, "AlreadyReserved")
        token = body.get("stripe_token")
        reservation = Reservation(
            chargebox=box.id,
            connector=connector,
            id_tag=self.random_string(18, _LOWER_ALNUM),
            accepted=now,
            expiry=expiry / 1000,
            user=body.get("user"),
            payment_method=None if token is None else "stripe",
            payment_transaction=token,
        )
        self._reservations[key] = reservation
        return reservation.to_api()

    # ---------------------------------------------------------------- server

    def make_app(self) -> web.Application:
        """Return the aiohttp application serving the API and the admin API.

        It can also be served by another runner (e.g. aiohttp's TestServer); its
        shutdown releases hung requests. Its startup starts the background
        notification sender, its cleanup stops it.
        """
        if self._runner is None:
            self._closing = asyncio.Event()
        app = build_app(self)
        app.on_startup.append(self._start_notification_loop)
        app.on_cleanup.append(self._stop_notification_loop)
        return app

    @property
    def base_url(self) -> str:
        """Return the API base URL (after `start()`)."""
        if self._base_url is None:
            raise RuntimeError("The simulator is not started")
        return self._base_url

    @property
    def admin_url(self) -> str:
        """Return the admin API URL (after `start()`)."""
        if self._admin_url is None:
            raise RuntimeError("The simulator is not started")
        return self._admin_url

    @property
    def closing(self) -> asyncio.Event:
        """Return the event set when the server stops (releases hung requests)."""
        return self._closing

    async def start(
        self, host: str = "127.0.0.1", port: int = 0, *, access_log: bool = False
    ) -> str:
        """Serve on `host:port` (0 = any free port) and return the base URL."""
        if self._runner is not None:
            raise RuntimeError("The simulator is already started")
        options: dict[str, Any] = {} if access_log else {"access_log": None}
        runner = web.AppRunner(
            self.make_app(), handle_signals=False, shutdown_timeout=1.0, **options
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        bound = runner.addresses[0]
        url_host = "127.0.0.1" if host in ("", "0.0.0.0") else host  # noqa: S104
        if ":" in url_host:
            url_host = f"[{url_host}]"
        origin = f"http://{url_host}:{bound[1]}"
        self._base_url = origin + API_PREFIX
        self._admin_url = origin + ADMIN_PREFIX
        return self._base_url

    async def stop(self) -> None:
        """Stop serving (idempotent); hung requests are dropped."""
        self._closing.set()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        await self._stop_notification_loop(None)
        self._base_url = self._admin_url = None


def _is_int(value: object) -> TypeIs[int]:
    """Return whether a JSON value is an integer (not a boolean)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> TypeIs[int | float]:
    """Return whether a JSON value is a number (not a boolean)."""
    return isinstance(value, int | float) and not isinstance(value, bool)
