"""Energy and sessions of an account's chargeboxes.

The tracker follows the coordinator's readings, counts every charge into the ledger
(`ledger.py`) exactly once, estimates the power (`power.py`), sends the session
events and stores the ledger. Sensors and intents ask it through its query methods.
"""

from collections.abc import Callable, Collection, Coroutine, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN, LOGGER
from .coordinator import ThorDataUpdateCoordinator
from .data import ThorAccountData, ThorData
from .ledger import (
    EPOCH,
    ChargeboxMeter,
    LastSession,
    TrackedCharge,
    load_meters,
    local_date,
    stored_meters,
)
from .power import ChargeboxPower
from .thor_api import (
    FINISHED_DATE_MARGIN,
    FinishedCharge,
    RunningCharge,
    ThorClient,
    ThorError,
)

EVENT_CHARGING_STARTED: Final = "charging_started"
EVENT_CHARGING_STOPPED: Final = "charging_stopped"


class SessionEventType(StrEnum):
    """What happened to a charge on a connector."""

    CHARGING_STARTED = EVENT_CHARGING_STARTED
    CHARGING_STOPPED = EVENT_CHARGING_STOPPED


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionEvent:
    """A charge began or ended on a connector (sent with `session_signal`)."""

    type: SessionEventType
    chargebox: str
    connector: int
    transaction: int | None
    started: datetime | None
    ended: datetime | None
    """None for `charging_started`."""
    energy: float | None
    """Energy of the session so far (started) or in all (stopped), kWh."""
    duration: float | None
    """Seconds from start to end; None for `charging_started`."""
    started_by: str | None
    """How Thor says the charge was started (`api`, `local`, `remote`, ...)."""


def session_signal(
    entry_id: str, chargebox_id: str | None = None, connector: int | None = None
) -> str:
    """Return the dispatcher signal of an account entry's session events.

    With a chargebox and a connector, of that connector's only: its event entity
    listens there, so that a session costs the same whatever the account's size.
    """
    if chargebox_id is None:
        return f"{DOMAIN}_{entry_id}_session"
    return f"{DOMAIN}_{entry_id}_{chargebox_id}_{connector}_session"


def energy_signal(entry_id: str, chargebox_id: str) -> str:
    """Return the signal sent when a chargebox's meters, sessions or power changed."""
    return f"{DOMAIN}_{entry_id}_{chargebox_id}_energy"


def kwh(energy: float | None) -> float | None:
    """Return Wh as kWh (3 decimals), None as None."""
    return None if energy is None else round(energy / 1000, 3)


STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 10
"""Seconds a change waits before it is written (a burst of readings is one write)."""
FINISHED_RETRY: Final = timedelta(seconds=60)
"""Least time between two reads of the finished charges while an ended charge's
record is awaited (`SETTLE_WINDOW`)."""
RECONCILE_RETRY: Final = timedelta(minutes=15)
"""Wait before a failed reconciliation is tried again."""
RECONCILE_AFTER_MIDNIGHT: Final = timedelta(minutes=15)
"""The daily reconciliation starts with the first reading this long after local
midnight: yesterday is then over in every time zone near ours."""

_NOTHING_KNOWN: Final = ChargeboxPower()
"""The power of a chargebox that is not configured: never updated, all idle."""


def storage_key(entry_id: str) -> str:
    """Return the storage key of an account entry's energy meters."""
    return f"{DOMAIN}.{entry_id}.energy"


async def async_remove_energy(hass: HomeAssistant, entry_id: str) -> None:
    """Delete the stored meters of a removed account entry."""
    await Store[dict[str, Any]](
        hass, STORAGE_VERSION, storage_key(entry_id)
    ).async_remove()


class _FinishedReads:
    """Times the reads of an account's finished charges: one at a time.

    While finished records are awaited, a read soon, then about once a
    `FINISHED_RETRY` on a timer of its own (polls may be minutes apart while
    notifications arrive), never while Thor asked for silence.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        throttled_for: Callable[[], float],
        *,
        awaited: Callable[[], bool],
        read_awaited: Callable[[], Coroutine[Any, Any, None]],
    ) -> None:
        """Initialize with what tells whether records are awaited and reads them."""
        self._hass = hass
        self._entry = entry
        self._throttled_for = throttled_for
        self._awaited = awaited
        self._read_awaited = read_awaited
        self._reading = False
        self._last_read = -FINISHED_RETRY.total_seconds()
        """When the last read started (event loop time: the wall clock may jump)."""
        self._timer: CALLBACK_TYPE | None = None
        self._closed = False

    @callback
    def soon(self) -> None:
        """Read the awaited records now, or when the last read is a minute old."""
        if self._reading or self._timer is not None or self._closed:
            return
        wait = max(
            self._last_read + FINISHED_RETRY.total_seconds() - self._hass.loop.time(),
            self._throttled_for(),
        )
        if wait > 0:
            self._timer = async_call_later(self._hass, wait, self._on_timer)
        else:
            self.start(self._read_awaited, "read finished charges")

    @callback
    def _on_timer(self, _now: datetime) -> None:
        self._timer = None
        if self._awaited():
            self.soon()

    @callback
    def start(self, read: Callable[[], Coroutine[Any, Any, None]], name: str) -> None:
        """Start a read, unless one is under way."""
        if self._reading or self._closed:
            return
        self._reading = True
        self._last_read = self._hass.loop.time()
        # A task, not a background task: waiting for Home Assistant to settle (its
        # start-up, the tests) includes this one request.
        self._entry.async_create_task(
            self._hass, self._async_run(read), f"{DOMAIN} {name}"
        )

    async def _async_run(self, read: Callable[[], Coroutine[Any, Any, None]]) -> None:
        try:
            await read()
        finally:
            self._reading = False
        if self._awaited():
            self.soon()

    @callback
    def close(self) -> None:
        """Start no more reads (the entry unloads; one under way still ends)."""
        self._closed = True
        if self._timer is not None:
            self._timer()
            self._timer = None


class ThorEnergyTracker:
    """Counts the energy of every charge of an account's chargeboxes exactly once.

    Running charges are counted as they grow. A charge ends when a reading shows it
    over (a stop notification, a confirmation read, a poll): `charging_stopped` goes
    out then, with what is counted; Thor's finished record, read for the whole account
    soon after and about once a minute until it comes, adds what the last reading
    missed and completes the last session (energy, cost). Charges that
    began and ended while Home Assistant was stopped are found by reading the finished
    charges from the last reconciled day to today, at start-up and once a day. Each
    charge is known by its transaction: what was counted of it is stored, so no read,
    however it overlaps another, counts it twice.

    Energies are in Wh. Each chargebox's readings are followed by a listener of its
    own (context: the chargebox id) and change only that chargebox's meter.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        *,
        coordinator: ThorDataUpdateCoordinator,
        client: ThorClient,
    ) -> None:
        """Initialize the tracker of the coordinator's configured chargeboxes."""
        self.hass = hass
        self.entry = entry
        self.coordinator = coordinator
        self.client = client
        self._meters: dict[str, ChargeboxMeter] = {}
        self._power = {box: ChargeboxPower() for box in coordinator.chargeboxes}
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, storage_key(entry.entry_id)
        )
        self._changed_boxes: dict[str, set[int] | None] = {}
        """Chargeboxes whose meter changed since it was last stored and shown."""
        self._reads = _FinishedReads(
            hass,
            entry,
            coordinator.throttled_for,
            awaited=lambda: bool(self._awaited()),
            read_awaited=self._async_read_awaited,
        )
        self._next_reconcile = EPOCH
        """When a reading starts the next reconciliation; the first one starts one."""

    # ------------------------------------------------------------------ setup

    async def async_load(self) -> None:
        """Load the stored meters; a chargebox without one starts at 0 now."""
        stored = await self._store.async_load()
        self._meters, damaged = load_meters(
            stored, self.coordinator.chargeboxes, dt_util.utcnow()
        )
        for chargebox_id in damaged:
            LOGGER.warning(
                "The stored energy meter of %s is damaged; it starts again at 0",
                chargebox_id,
            )
        if stored != self._data():
            # A removed chargebox takes its meter with it; a new one is written now.
            await self._store.async_save(self._data())

    @callback
    def async_setup(self) -> None:
        """Follow each chargebox's readings (which also time the reconciliation)."""
        for chargebox_id in self._meters:
            self.entry.async_on_unload(
                self.coordinator.async_add_listener(
                    partial(self._on_update, chargebox_id), chargebox_id
                )
            )
        self.entry.async_on_unload(self.async_flush)
        self.entry.async_on_unload(self._reads.close)

    @callback
    def async_start(self) -> None:
        """Reconcile the charges that ended while Home Assistant was not running.

        The first poll normally has started it already.
        """
        if dt_util.utcnow() >= self._next_reconcile:
            self._start_reconcile()

    async def async_flush(self) -> None:
        """Write what is not stored yet (the entry unloads)."""
        await self._store.async_save(self._data())

    def _data(self) -> dict[str, Any]:
        return stored_meters(self._meters)

    def _touch(self, chargebox_id: str, connector: int | None = None) -> None:
        """Note that a chargebox's meter changed: of one connector, or of all."""
        if connector is None:
            self._changed_boxes[chargebox_id] = None
        elif (
            connectors := self._changed_boxes.setdefault(chargebox_id, set())
        ) is not None:
            connectors.add(connector)

    @callback
    def _commit(self) -> None:
        """Store the changed meters soon and tell their sensors."""
        if not self._changed_boxes:
            return
        self._store.async_delay_save(self._data, SAVE_DELAY)
        boxes, self._changed_boxes = self._changed_boxes, {}
        for chargebox_id, connectors in boxes.items():
            self._signal(chargebox_id, connectors)

    @callback
    def _signal(self, chargebox_id: str, connectors: Collection[int] | None) -> None:
        """Tell a chargebox's sensors which connectors changed (None: any)."""
        async_dispatcher_send(
            self.hass, energy_signal(self.entry.entry_id, chargebox_id), connectors
        )

    # ---------------------------------------------------------------- queries

    def total(self, chargebox_id: str, connector: int | None = None) -> float | None:
        """Return the Wh a chargebox (or one connector) delivered, None if unknown."""
        if (meter := self._meters.get(chargebox_id)) is None:
            return None
        return meter.total if connector is None else meter.totals.get(connector, 0.0)

    def last_session(self, chargebox_id: str, connector: int) -> LastSession | None:
        """Return the last charge that ended on a connector, None before the first."""
        meter = self._meters.get(chargebox_id)
        return None if meter is None else meter.last.get(connector)

    def last_sessions(self, chargebox_id: str) -> Mapping[int, LastSession]:
        """Return the last session of each connector of a chargebox."""
        meter = self._meters.get(chargebox_id)
        return {} if meter is None else dict(meter.last)

    def power(self, chargebox_id: str, connector: int) -> float | None:
        """Return the charging power of a connector (W), None while unknown.

        Measured while Thor's meter values are recent, else estimated.
        """
        power = self._power.get(chargebox_id, _NOTHING_KNOWN)
        return power.power(connector, dt_util.utcnow())

    def current(self, chargebox_id: str, connector: int, phase: str) -> float | None:
        """Return the measured current of a phase (A), None without meter values."""
        power = self._power.get(chargebox_id, _NOTHING_KNOWN)
        return power.current(connector, phase, dt_util.utcnow())

    def as_diagnostics(self, chargebox_id: str) -> dict[str, Any] | None:
        """Return a chargebox's meter and power, without transaction numbers."""
        if (meter := self._meters.get(chargebox_id)) is None:
            return None
        return {
            **meter.as_diagnostics(),
            "power_w": self._power[chargebox_id].as_diagnostics(dt_util.utcnow()),
        }

    # --------------------------------------------------------------- readings

    @callback
    def _on_update(self, chargebox_id: str) -> None:
        """Count what the latest reading of one chargebox shows."""
        data: ThorAccountData | None = self.coordinator.data
        if data is None or (reading := data.get(chargebox_id)) is None:
            return
        meter = self._meters[chargebox_id]
        now = dt_util.utcnow()
        if meter.clamp(now):
            self._touch(chargebox_id)
        for charge in reading.ended.values():
            # A stop notification: its energy is the charge's last.
            tracked = self._see_running(chargebox_id, meter, charge)
            if tracked is not None and tracked.ended is None and not tracked.settled:
                self._end(chargebox_id, meter, tracked, now)
        for charge in reading.charges.values():
            self._see_running(chargebox_id, meter, charge)
        self._see_ended(chargebox_id, meter, reading, now)
        if (
            meter.fresh
            and reading.polled
            and reading.charges.keys() >= reading.chargebox.occupied_connectors
        ):
            meter.fresh = False  # Every charge running at its creation is known.
            self._touch(chargebox_id)
        if powered := self._power[chargebox_id].update(reading, now):
            if chargebox_id in self._changed_boxes:
                for connector in powered:
                    self._touch(chargebox_id, connector)
            else:
                self._signal(chargebox_id, powered)  # Not stored: only the power.
        self._commit()
        if (
            now >= self._next_reconcile
            # Planned by a clock that was a day or more ahead.
            or self._next_reconcile - now > timedelta(days=1) + RECONCILE_AFTER_MIDNIGHT
        ):
            self._start_reconcile()
        elif meter.waiting(now):
            self._reads.soon()

    def _see_running(
        self, chargebox_id: str, meter: ChargeboxMeter, charge: RunningCharge
    ) -> TrackedCharge | None:
        """Count the growth of a running charge; announce it when it is new."""
        if (seen := meter.track(charge)) is None:
            return None
        tracked, new = seen
        if new:
            self._touch(chargebox_id, tracked.connector)
            self._send(
                SessionEventType.CHARGING_STARTED,
                chargebox_id,
                tracked.connector,
                replace(tracked.session(), energy=charge.energy),
            )
        # An ended charge a later reading still lists (Thor's running charges lag
        # behind its stop) stays ended; what it shows beyond is counted all the same.
        if meter.count(tracked, charge.energy):
            self._touch(chargebox_id, tracked.connector)
        return tracked

    def _see_ended(
        self,
        chargebox_id: str,
        meter: ChargeboxMeter,
        reading: ThorData,
        now: datetime,
    ) -> None:
        """End the charges a reading shows over: free connector, or another charge."""
        for tracked in list(meter.charges.values()):
            if tracked.settled:
                continue
            if tracked.ended is not None:
                if not tracked.reported:  # Stored by a release that announced later.
                    self._end(chargebox_id, meter, tracked, tracked.ended)
                continue
            current = reading.charges.get(tracked.connector)
            if current is not None and meter.find(current) is tracked:
                continue
            if current is None and reading.is_occupied(tracked.connector):
                continue  # Occupied, charges not read: nothing is known yet.
            self._end(chargebox_id, meter, tracked, now)

    @callback
    def _end(
        self,
        chargebox_id: str,
        meter: ChargeboxMeter,
        tracked: TrackedCharge,
        when: datetime,
    ) -> None:
        """End a charge with what is counted of it and announce it."""
        self._announce_end(chargebox_id, tracked, meter.end(tracked, when))
        self._touch(chargebox_id, tracked.connector)

    # ------------------------------------------------------- finished charges

    def _awaited(self) -> list[datetime]:
        """Return when the charges whose finished record is awaited ended."""
        now = dt_util.utcnow()
        return [end for meter in self._meters.values() for end in meter.waiting(now)]

    async def _async_read_awaited(self) -> None:
        """Read the finished charges since the day before the oldest awaited end."""
        if not (ends := self._awaited()):
            return
        try:
            await self._async_read_range(local_date(min(ends)))
        except ThorError as err:
            LOGGER.debug("Reading the finished charges failed: %s", err)

    @callback
    def _start_reconcile(self) -> None:
        """Start a reconciliation, unless a read is under way (a later reading will)."""
        self._reads.start(self.async_reconcile, "reconcile energy")

    async def async_reconcile(self) -> None:
        """Count the charges Thor lists as finished since the last reconciled day.

        Readings start the next one shortly after midnight, or a while after a
        failed read; nothing counted is counted again.
        """
        now = dt_util.now()
        today = now.date()
        self._next_reconcile = (
            dt_util.start_of_local_day(today + timedelta(days=1))
            + RECONCILE_AFTER_MIDNIGHT
        )
        if not self._meters:
            return
        first = min(meter.reconciled for meter in self._meters.values())
        try:
            await self._async_read_range(first)
        except ThorError as err:
            LOGGER.info(
                "Could not read the finished charges of %s (%s); trying again in "
                "%d minutes",
                self.entry.title,
                err,
                RECONCILE_RETRY.total_seconds() // 60,
            )
            self._next_reconcile = now + RECONCILE_RETRY
            return
        for chargebox_id, meter in self._meters.items():
            meter.reconciled = max(meter.reconciled, today)
            meter.prune()
            self._touch(chargebox_id)
        self._commit()

    async def _async_read_range(self, first: date) -> None:
        """Read the account's finished charges from `first` to today; count them.

        With a day of margin on each side: a charge that ended this evening may be
        tomorrow's for Thor.
        """
        today = dt_util.now().date()
        finished = await self.client.finished_charges_between(
            first - FINISHED_DATE_MARGIN, today + FINISHED_DATE_MARGIN
        )
        self._count_finished(finished)
        self._commit()

    def _count_finished(self, finished: list[FinishedCharge]) -> None:
        """Count what Thor's finished records add; report the ends they settle."""
        now = dt_util.utcnow()
        for charge in sorted(finished, key=lambda c: c.date_finished or EPOCH):
            meter = self._meters.get(charge.chargebox)
            if meter is None or (settled := meter.settle(charge, now)) is None:
                continue
            self._touch(charge.chargebox)
            self._announce_end(charge.chargebox, *settled)

    # ----------------------------------------------------------------- events

    @callback
    def _announce_end(
        self, chargebox_id: str, tracked: TrackedCharge, session: LastSession
    ) -> None:
        """Send `charging_stopped` for a charge, once."""
        if tracked.reported:
            return
        tracked.reported = True
        self._send(
            SessionEventType.CHARGING_STOPPED, chargebox_id, tracked.connector, session
        )

    @callback
    def _send(
        self,
        kind: SessionEventType,
        chargebox_id: str,
        connector: int,
        session: LastSession,
    ) -> None:
        """Send a session event of a connector."""
        event = SessionEvent(
            type=kind,
            chargebox=chargebox_id,
            connector=connector,
            transaction=session.transaction,
            started=session.started,
            ended=session.ended,
            energy=kwh(session.energy),
            duration=session.duration,
            started_by=session.started_by,
        )
        entry_id = self.entry.entry_id
        async_dispatcher_send(self.hass, session_signal(entry_id), event)
        async_dispatcher_send(
            self.hass, session_signal(entry_id, event.chargebox, event.connector), event
        )
