"""Energy and sessions of an account's chargeboxes.

The lifetime meters, the last session of each connector, the charging power estimate
and the session events.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
import math
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN, LOGGER
from .coordinator import ThorDataUpdateCoordinator
from .data import ThorAccountData, ThorData
from .thor_api import FinishedCharge, RunningCharge, ThorClient, ThorError
from .thor_api.notifications import MetersNotification

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


def session_signal(entry_id: str) -> str:
    """Return the dispatcher signal of an account entry's session events."""
    return f"{DOMAIN}_{entry_id}_session"


def energy_signal(entry_id: str) -> str:
    """Return the dispatcher signal sent when meters or last sessions changed."""
    return f"{DOMAIN}_{entry_id}_energy"


# ---------------------------------------------------------------------------------
# The tracker
# ---------------------------------------------------------------------------------

STORAGE_VERSION: Final = 1
SAVE_DELAY: Final = 10
"""Seconds a change waits before it is written (a burst of readings is one write)."""
FINISHED_RETRY: Final = timedelta(seconds=60)
"""Least time between two reads of the finished charges while a charge's end waits."""
SETTLE_TIMEOUT: Final = timedelta(minutes=10)
"""After this, a charge that Thor does not list as finished is reported as last seen;
the daily reconciliation still counts what it delivered after that."""
CREATED_MARGIN: Final = timedelta(seconds=5)
"""A charge that started this much before its meter was created was running then."""
RECONCILE_RETRY: Final = timedelta(minutes=15)
"""Wait before a failed reconciliation is tried again."""
RECONCILE_AFTER_MIDNIGHT: Final = timedelta(minutes=15)
"""The daily reconciliation starts with the first poll this long after local midnight:
yesterday is then over in every time zone near ours."""
MAX_RANGE_DAYS: Final = 31
"""Days asked in one read of the finished charges (Thor documents no limit)."""
KEEP_DAYS: Final = 3
"""Days a settled charge is remembered after the last reconciled day: long enough
that no later read of the finished charges can count it again."""
MEASURED_VALID: Final = timedelta(minutes=2)
"""How long Thor's meter values are taken as the connector's power and currents."""
MIN_POWER_INTERVAL: Final = timedelta(seconds=20)
"""Shortest time over which the charging power is estimated: the quick reads after a
command come 1.5 s apart, and Thor's energy moves in steps."""


_EPOCH: Final = datetime.min.replace(tzinfo=UTC)


def storage_key(entry_id: str) -> str:
    """Return the storage key of an account entry's energy meters."""
    return f"{DOMAIN}.{entry_id}.energy"


async def async_remove_energy(hass: HomeAssistant, entry_id: str) -> None:
    """Delete the stored meters of a removed account entry."""
    await Store[dict[str, Any]](
        hass, STORAGE_VERSION, storage_key(entry_id)
    ).async_remove()


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    parsed = dt_util.parse_datetime(value)
    return None if parsed is None or parsed.tzinfo is None else parsed


def _number(value: Any) -> float:
    """Return a stored non-negative number; anything else is 0."""
    if (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    ):
        return float(value)
    return 0.0


def charge_key(charge: RunningCharge | FinishedCharge) -> str | None:
    """Return what identifies a charge across the running and finished lists.

    The transaction number; without one, the connector and start time. None when
    neither is known (such a charge cannot be told apart from another: not counted).
    """
    if charge.id is not None:
        return f"t{charge.id}"
    if charge.date_started is not None:
        started = int(charge.date_started.timestamp() * 1000)
        return f"c{charge.connector}@{started}"
    return None


@dataclass(kw_only=True)
class LastSession:
    """The last charge that ended on a connector."""

    transaction: int | None
    started: datetime | None
    ended: datetime | None
    energy: float | None
    """Wh."""
    cost: float | None
    currency: str | None
    started_by: str | None

    @property
    def duration(self) -> float | None:
        """Return the seconds the charge lasted."""
        if self.started is None or self.ended is None:
            return None
        return max(0.0, (self.ended - self.started).total_seconds())

    def as_dict(self) -> dict[str, Any]:
        """Return the session as stored."""
        return {
            "transaction": self.transaction,
            "started": _iso(self.started),
            "ended": _iso(self.ended),
            "energy": self.energy,
            "cost": self.cost,
            "currency": self.currency,
            "started_by": self.started_by,
        }

    @classmethod
    def from_dict(cls, data: Any) -> LastSession | None:
        """Return a stored session, None when damaged."""
        if not isinstance(data, dict):
            return None
        transaction = data.get("transaction")
        cost = data.get("cost")
        energy = data.get("energy")
        return cls(
            transaction=transaction if isinstance(transaction, int) else None,
            started=_parse_time(data.get("started")),
            ended=_parse_time(data.get("ended")),
            energy=_number(energy) if energy is not None else None,
            cost=float(cost)
            if isinstance(cost, int | float)
            and not isinstance(cost, bool)
            and math.isfinite(cost)
            else None,
            currency=data.get("currency")
            if isinstance(data.get("currency"), str)
            else None,
            started_by=data.get("started_by")
            if isinstance(data.get("started_by"), str)
            else None,
        )


@dataclass(kw_only=True)
class TrackedCharge:
    """A charge whose energy is (being) counted into its connector's meter."""

    connector: int
    transaction: int | None
    started: datetime | None
    counted: float = 0.0
    """Wh of this charge already in the meter."""
    started_by: str | None = None
    ended: datetime | None = None
    """When it ended (Thor's time once settled, else when it was seen gone)."""
    settled: bool = False
    """True once Thor's finished record was counted: nothing more comes from it."""
    reported: bool = False
    """True once its end was reported (event, last session)."""

    def as_dict(self) -> dict[str, Any]:
        """Return the charge as stored."""
        return {
            "connector": self.connector,
            "transaction": self.transaction,
            "started": _iso(self.started),
            "counted": self.counted,
            "started_by": self.started_by,
            "ended": _iso(self.ended),
            "settled": self.settled,
            "reported": self.reported,
        }

    @classmethod
    def from_dict(cls, data: Any) -> TrackedCharge | None:
        """Return a stored charge, None when damaged."""
        if not isinstance(data, dict):
            return None
        connector = data.get("connector")
        transaction = data.get("transaction")
        if not isinstance(connector, int) or isinstance(connector, bool):
            return None
        started_by = data.get("started_by")
        return cls(
            connector=connector,
            transaction=transaction
            if isinstance(transaction, int) and not isinstance(transaction, bool)
            else None,
            started=_parse_time(data.get("started")),
            counted=_number(data.get("counted")),
            started_by=started_by if isinstance(started_by, str) else None,
            ended=_parse_time(data.get("ended")),
            settled=data.get("settled") is True,
            reported=data.get("reported") is True,
        )


@dataclass(kw_only=True)
class ChargeboxMeter:
    """The energy meters, counted charges and last sessions of one chargebox."""

    created: datetime
    """When the meter started at 0: charges that ended before are not counted."""
    reconciled: date
    """The last day whose finished charges were read (local date)."""
    totals: dict[int, float] = field(default_factory=dict)
    """Wh delivered per connector since `created`."""
    charges: dict[str, TrackedCharge] = field(default_factory=dict)
    last: dict[int, LastSession] = field(default_factory=dict)

    @property
    def total(self) -> float:
        """Return the Wh delivered by all connectors."""
        return sum(self.totals.values())

    def count(self, tracked: TrackedCharge, energy: float) -> bool:
        """Count what a charge delivered beyond what is counted of it (Wh).

        Return whether the meter grew: a reading never takes energy back.
        """
        if energy <= tracked.counted:
            return False
        self.totals[tracked.connector] = (
            self.totals.get(tracked.connector, 0.0) + energy - tracked.counted
        )
        tracked.counted = energy
        return True

    def as_dict(self) -> dict[str, Any]:
        """Return the meter as stored."""
        return {
            "created": self.created.isoformat(),
            "reconciled": self.reconciled.isoformat(),
            "totals": {str(c): wh for c, wh in sorted(self.totals.items())},
            "charges": {key: c.as_dict() for key, c in self.charges.items()},
            "last": {str(c): s.as_dict() for c, s in sorted(self.last.items())},
        }

    @classmethod
    def from_dict(cls, data: Any) -> ChargeboxMeter | None:
        """Return a stored meter, None when damaged beyond use."""
        if not isinstance(data, dict):
            return None
        created = _parse_time(data.get("created"))
        try:
            reconciled = date.fromisoformat(str(data.get("reconciled")))
        except ValueError:
            reconciled = None
        if created is None or reconciled is None:
            return None
        meter = cls(created=created, reconciled=reconciled)
        for connector, energy in _dict(data.get("totals")).items():
            if (number := _connector(connector)) is not None:
                meter.totals[number] = _number(energy)
        for key, stored in _dict(data.get("charges")).items():
            if (charge := TrackedCharge.from_dict(stored)) is not None:
                meter.charges[str(key)] = charge
        for connector, stored in _dict(data.get("last")).items():
            number = _connector(connector)
            if number is not None and (session := LastSession.from_dict(stored)):
                meter.last[number] = session
        return meter


def _dict(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


def _connector(value: Any) -> int | None:
    try:
        number = int(value)
    except TypeError, ValueError:
        return None
    return number if number >= 1 else None


@dataclass(kw_only=True, slots=True)
class _PowerSample:
    key: str
    energy: float
    time: datetime


class ThorEnergyTracker:
    """Counts the energy of every charge of an account's chargeboxes exactly once.

    Running charges are counted as they grow; when one ends, Thor's finished record
    (read once for the whole account) adds what the last reading missed. Charges that
    began and ended while Home Assistant was stopped are found by reading the finished
    charges from the last reconciled day to today, at start-up and once a day. Each
    charge is known by its transaction: what was counted of it is stored, so no read,
    however it overlaps another, counts it twice.
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
        self.meters: dict[str, ChargeboxMeter] = {}
        self._store: Store[dict[str, Any]] = Store(
            hass, STORAGE_VERSION, storage_key(entry.entry_id)
        )
        self._power: dict[tuple[str, int], float | None] = {}
        self._measured: dict[tuple[str, int], datetime] = {}
        """When Thor's meter values last gave a connector's power."""
        self._currents: dict[tuple[str, int], dict[str, float]] = {}
        self._samples: dict[tuple[str, int], _PowerSample] = {}
        self._reading_finished = False
        self._last_finished_read: datetime | None = None
        self._reconciling = False
        self._next_reconcile = _EPOCH
        """When a poll starts the next reconciliation; the first poll starts one."""

    # ------------------------------------------------------------------ setup

    async def async_load(self) -> None:
        """Load the stored meters; a chargebox without one starts at 0 now."""
        stored = await self._store.async_load()
        boxes = _dict(_dict(stored).get("chargeboxes"))
        now = dt_util.utcnow()
        today = dt_util.now().date()
        for chargebox_id in self.coordinator.chargeboxes:
            meter = ChargeboxMeter.from_dict(boxes.get(chargebox_id))
            if meter is None:
                if chargebox_id in boxes:
                    LOGGER.warning(
                        "The stored energy meter of %s is damaged; it starts again at 0",
                        chargebox_id,
                    )
                meter = ChargeboxMeter(created=now, reconciled=today)
            self.meters[chargebox_id] = meter
        if boxes.keys() - self.meters.keys() or not stored:
            # A removed chargebox takes its meter with it; a new one is written now.
            await self._store.async_save(self._data())

    @callback
    def async_setup(self) -> None:
        """Follow the readings (which also time the daily reconciliation)."""
        for chargebox_id in self.meters:
            # Confirmation reads and notifications tell only their chargebox.
            self.entry.async_on_unload(
                self.coordinator.async_add_listener(self._on_update, chargebox_id)
            )
        self.entry.async_on_unload(self.async_flush)

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
        return {
            "chargeboxes": {
                chargebox_id: meter.as_dict()
                for chargebox_id, meter in self.meters.items()
            }
        }

    @callback
    def _changed(self) -> None:
        """Store the meters soon and tell the entities."""
        self._store.async_delay_save(self._data, SAVE_DELAY)
        async_dispatcher_send(self.hass, energy_signal(self.entry.entry_id))

    def as_diagnostics(self, chargebox_id: str) -> dict[str, Any] | None:
        """Return a chargebox's meter without transaction numbers."""
        if (meter := self.meters.get(chargebox_id)) is None:
            return None
        charges = list(meter.charges.values())
        return {
            "created": meter.created.isoformat(),
            "reconciled": meter.reconciled.isoformat(),
            "totals_wh": {str(c): wh for c, wh in sorted(meter.totals.items())},
            "charges_remembered": len(charges),
            "charges_waiting_for_thor": sum(
                1 for c in charges if c.ended is not None and not c.settled
            ),
            "last_sessions": {
                str(connector): {
                    **session.as_dict(),
                    "transaction": None
                    if session.transaction is None
                    else "**REDACTED**",
                }
                for connector, session in sorted(meter.last.items())
            },
            "power_w": {
                str(connector): power
                for (box, connector), power in sorted(self._power.items())
                if box == chargebox_id
            },
        }

    # --------------------------------------------------------------- readings

    def power(self, chargebox_id: str, connector: int) -> float | None:
        """Return the charging power of a connector (W), None if unknown.

        Measured when Thor's meter values arrive (push), else estimated.
        """
        return self._power.get((chargebox_id, connector), 0.0)

    def measured(self, chargebox_id: str, connector: int) -> bool:
        """Return whether the power shown is measured (recent meter values)."""
        when = self._measured.get((chargebox_id, connector))
        return when is not None and dt_util.utcnow() - when < MEASURED_VALID

    def current(self, chargebox_id: str, connector: int, phase: str) -> float | None:
        """Return the measured current of a phase (A), None without meter values."""
        if not self.measured(chargebox_id, connector):
            return None
        return self._currents.get((chargebox_id, connector), {}).get(phase)

    def has_ended(self, chargebox_id: str, transaction: int | None) -> bool:
        """Return whether a charge (by transaction) is known to have ended."""
        meter = self.meters.get(chargebox_id)
        tracked = (
            None
            if meter is None or transaction is None
            else meter.charges.get(f"t{transaction}")
        )
        return tracked is not None and tracked.ended is not None

    @callback
    def push_meters(
        self, chargebox_id: str, connector: int, meters: MetersNotification
    ) -> None:
        """Show the power and currents of Thor's meter values (push)."""
        place = (chargebox_id, connector)
        if meters.power is not None:
            self._power[place] = round(meters.power, 1)
            self._measured[place] = dt_util.utcnow()
        if meters.currents:
            # "L1-N" and "L1" are the same phase for a current.
            self._currents[place] = {
                phase.split("-")[0].upper(): value
                for phase, value in meters.currents.items()
            }
            self._measured.setdefault(place, dt_util.utcnow())
        async_dispatcher_send(self.hass, energy_signal(self.entry.entry_id))

    @callback
    def push_energy(
        self, chargebox_id: str, charge: RunningCharge, energy: float
    ) -> None:
        """Count the energy a stop notification gives for a running charge (Wh)."""
        meter = self.meters.get(chargebox_id)
        key = charge_key(charge)
        tracked = None if meter is None or key is None else meter.charges.get(key)
        if meter is None or tracked is None or tracked.settled:
            return
        if meter.count(tracked, energy):
            self._changed()

    @callback
    def _on_update(self) -> None:
        """Count what the latest reading shows."""
        data: ThorAccountData | None = self.coordinator.data
        if data is None:
            return
        now = dt_util.utcnow()
        changed = False
        waiting = False
        for chargebox_id, meter in self.meters.items():
            if (reading := data.get(chargebox_id)) is None:
                continue
            changed |= self._count_running(chargebox_id, meter, reading, now)
            changed |= self._see_ended(chargebox_id, meter, reading, now)
            changed |= self._report_overdue(chargebox_id, meter, now)
            waiting |= any(
                charge.ended is not None
                and not charge.settled
                and now - charge.ended < SETTLE_TIMEOUT
                for charge in meter.charges.values()
            )
        if changed:
            self._changed()
        if now >= self._next_reconcile:
            self._start_reconcile()
        elif waiting:
            self._read_finished_soon(now)

    def _count_running(
        self,
        chargebox_id: str,
        meter: ChargeboxMeter,
        reading: ThorData,
        now: datetime,
    ) -> bool:
        """Count the growth of the running charges; report the new ones."""
        changed = False
        for connector, charge in reading.charges.items():
            if (key := charge_key(charge)) is None:
                continue
            tracked = meter.charges.get(key)
            if tracked is None:
                tracked = TrackedCharge(
                    connector=connector,
                    transaction=charge.id,
                    started=charge.date_started,
                    started_by=charge.type,
                )
                meter.charges[key] = tracked
                changed = True
                if (
                    charge.date_started is not None
                    and charge.date_started < meter.created - CREATED_MARGIN
                ):
                    # Running when the meter was created: only what comes after counts.
                    tracked.counted = charge.energy or 0.0
                else:
                    self._send(
                        SessionEvent(
                            type=SessionEventType.CHARGING_STARTED,
                            chargebox=chargebox_id,
                            connector=connector,
                            transaction=charge.id,
                            started=charge.date_started,
                            ended=None,
                            energy=kwh(charge.energy),
                            duration=None,
                            started_by=charge.type,
                        )
                    )
            if tracked.settled:
                continue  # A late reading of a charge Thor already listed as finished.
            if tracked.ended is not None and not tracked.reported:
                tracked.ended = None  # A reading that had left it out.
            energy = charge.energy
            if energy is not None and meter.count(tracked, energy):
                changed = True
            if energy is not None:
                self._sample(chargebox_id, connector, key, energy, now)
        return changed

    def _sample(
        self, chargebox_id: str, connector: int, key: str, energy: float, now: datetime
    ) -> None:
        """Estimate the power from the energy growth since an older reading."""
        place = (chargebox_id, connector)
        base = self._samples.get(place)
        if base is None or base.key != key or energy < base.energy:
            self._samples[place] = _PowerSample(key=key, energy=energy, time=now)
            if base is None or base.key != key:
                self._power[place] = None  # Unknown until a second reading.
            return
        elapsed = now - base.time
        if elapsed < MIN_POWER_INTERVAL:
            return
        if self.measured(chargebox_id, connector):
            # Thor's meter values give the power: the estimate does not overwrite it.
            self._samples[place] = _PowerSample(key=key, energy=energy, time=now)
            return
        self._power[place] = round(
            (energy - base.energy) * 3600 / elapsed.total_seconds(), 1
        )
        self._samples[place] = _PowerSample(key=key, energy=energy, time=now)

    def _see_ended(
        self,
        chargebox_id: str,
        meter: ChargeboxMeter,
        reading: ThorData,
        now: datetime,
    ) -> bool:
        """Note the charges a reading shows over: free connector, or another charge."""
        changed = False
        for key, tracked in meter.charges.items():
            if tracked.ended is not None or tracked.settled:
                continue
            current = reading.charges.get(tracked.connector)
            if current is not None and charge_key(current) == key:
                continue
            if current is None and reading.is_occupied(tracked.connector):
                continue  # Occupied, charges not read: nothing is known yet.
            tracked.ended = now
            changed = True
        for connector in {c.number for c in reading.chargebox.connectors}:
            place = (chargebox_id, connector)
            if not reading.is_occupied(connector):
                # Not stored, so not a change: the entities read it on this update.
                self._power[place] = 0.0
                self._samples.pop(place, None)
                self._measured.pop(place, None)
                self._currents.pop(place, None)
        return changed

    def _report_overdue(
        self, chargebox_id: str, meter: ChargeboxMeter, now: datetime
    ) -> bool:
        """Report as last seen the ended charges Thor has not listed as finished."""
        changed = False
        for tracked in meter.charges.values():
            if (
                tracked.ended is not None
                and not tracked.reported
                and now - tracked.ended >= SETTLE_TIMEOUT
            ):
                LOGGER.debug(
                    "Thor does not list charge %s of %s as finished; reporting it "
                    "as last seen",
                    tracked.transaction,
                    chargebox_id,
                )
                self._report(chargebox_id, meter, tracked, None)
                changed = True
        return changed

    # ------------------------------------------------------- finished charges

    @callback
    def _read_finished_soon(self, now: datetime) -> None:
        """Read the finished charges, at most once a minute, for charges that ended."""
        if (
            self._reading_finished
            or self._reconciling
            or (
                self._last_finished_read is not None
                and now - self._last_finished_read < FINISHED_RETRY
            )
        ):
            return
        if self.client.backoff.remaining() > 0:
            return
        self._reading_finished = True
        self._last_finished_read = now
        self.entry.async_create_task(
            self.hass, self._async_read_finished(), f"{DOMAIN} read finished charges"
        )

    async def _async_read_finished(self) -> None:
        """Read the finished charges since the day before the oldest waiting end."""
        try:
            ends = [
                charge.ended
                for meter in self.meters.values()
                for charge in meter.charges.values()
                if charge.ended is not None and not charge.settled
            ]
            if not ends:
                return
            today = dt_util.now().date()
            first = dt_util.as_local(min(ends)).date() - timedelta(days=1)
            try:
                await self._async_read_range(first, today)
            except ThorError as err:
                LOGGER.debug("Reading the finished charges failed: %s", err)
        finally:
            self._reading_finished = False

    @callback
    def _start_reconcile(self) -> None:
        """Start a reconciliation, unless one is under way."""
        if self._reconciling:
            return
        self._reconciling = True
        # A task, not a background task: waiting for Home Assistant to settle (its
        # start-up, the tests) includes this one request.
        self.entry.async_create_task(
            self.hass, self.async_reconcile(), f"{DOMAIN} reconcile energy"
        )

    async def async_reconcile(self) -> None:
        """Count the charges Thor lists as finished since the last reconciled day.

        Polls start the next one shortly after midnight, or a while after a failed
        read; nothing counted is counted again.
        """
        try:
            await self._async_reconcile()
        finally:
            self._reconciling = False

    async def _async_reconcile(self) -> None:
        now = dt_util.now()
        today = now.date()
        self._next_reconcile = (
            dt_util.start_of_local_day(today + timedelta(days=1))
            + RECONCILE_AFTER_MIDNIGHT
        )
        if not self.meters:
            return
        # A day of margin: Thor's time zone for the dates is not documented.
        first = min(meter.reconciled for meter in self.meters.values()) - timedelta(
            days=1
        )
        try:
            await self._async_read_range(first, today)
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
        for meter in self.meters.values():
            meter.reconciled = max(meter.reconciled, today)
            _prune(meter)
        self._next_reconcile = (
            dt_util.start_of_local_day(today + timedelta(days=1))
            + RECONCILE_AFTER_MIDNIGHT
        )
        self._changed()

    async def _async_read_range(self, first: date, last: date) -> None:
        """Read the account's finished charges of [first, last] and count them."""
        day = first
        while day <= last:
            end = min(last, day + timedelta(days=MAX_RANGE_DAYS - 1))
            finished = await self.client.finished_charges(day, end)
            if self._count_finished(finished):
                self._changed()
            day = end + timedelta(days=1)

    def _count_finished(self, finished: list[FinishedCharge]) -> bool:
        """Count what Thor's finished records add; report the ends they settle."""
        changed = False
        for charge in sorted(
            finished, key=lambda c: c.date_finished or datetime.min.replace(tzinfo=UTC)
        ):
            meter = self.meters.get(charge.chargebox)
            if meter is None or (key := charge_key(charge)) is None:
                continue
            tracked = meter.charges.get(key)
            if tracked is None:
                if (
                    charge.date_finished is None
                    or charge.date_finished < meter.created
                    # Older than any charge still remembered: counted before, if ours.
                    or dt_util.as_local(charge.date_finished).date() < _horizon(meter)
                    or (
                        charge.date_started is not None
                        and charge.date_started < meter.created - CREATED_MARGIN
                    )
                ):
                    continue  # Before the meter (or undated): not ours to count.
                # Began and ended between two readings, or while Home Assistant was
                # stopped: counted, shown as the last session, but no live event.
                tracked = TrackedCharge(
                    connector=charge.connector,
                    transaction=charge.id,
                    started=charge.date_started,
                    started_by=charge.type,
                    reported=True,
                )
                meter.charges[key] = tracked
            if tracked.settled:
                continue
            meter.count(tracked, charge.energy or 0.0)
            tracked.settled = True
            tracked.ended = charge.date_finished or tracked.ended
            tracked.started = charge.date_started or tracked.started
            tracked.started_by = charge.type or tracked.started_by
            self._report(charge.chargebox, meter, tracked, charge)
            changed = True
        return changed

    # ---------------------------------------------------------------- reports

    def _report(
        self,
        chargebox_id: str,
        meter: ChargeboxMeter,
        tracked: TrackedCharge,
        finished: FinishedCharge | None,
    ) -> None:
        """Make a charge that ended the last session (if newest) and announce it."""
        payment = None if finished is None else finished.payment
        session = LastSession(
            transaction=tracked.transaction,
            started=tracked.started,
            ended=tracked.ended,
            energy=tracked.counted if finished is None else finished.energy,
            cost=None if payment is None else payment.price,
            currency=None
            if payment is None or payment.currency is None
            else payment.currency.upper(),
            started_by=tracked.started_by,
        )
        current = meter.last.get(tracked.connector)
        if (
            current is None
            or current.transaction == session.transaction
            or (current.ended or _EPOCH) <= (session.ended or _EPOCH)
        ):
            meter.last[tracked.connector] = session
        if tracked.reported:
            return
        tracked.reported = True
        self._send(
            SessionEvent(
                type=SessionEventType.CHARGING_STOPPED,
                chargebox=chargebox_id,
                connector=tracked.connector,
                transaction=tracked.transaction,
                started=session.started,
                ended=session.ended,
                energy=kwh(session.energy),
                duration=session.duration,
                started_by=session.started_by,
            )
        )

    @callback
    def _send(self, event: SessionEvent) -> None:
        async_dispatcher_send(self.hass, session_signal(self.entry.entry_id), event)


def kwh(energy: float | None) -> float | None:
    """Return Wh as kWh (3 decimals), None as None."""
    return None if energy is None else round(energy / 1000, 3)


def _horizon(meter: ChargeboxMeter) -> date:
    """Return the first day whose settled charges a meter still remembers."""
    return meter.reconciled - timedelta(days=KEEP_DAYS)


def _prune(meter: ChargeboxMeter) -> None:
    """Forget settled charges no later read of finished charges can list again."""
    horizon = _horizon(meter)
    for key in [
        key
        for key, charge in meter.charges.items()
        if charge.settled
        and charge.ended is not None
        and dt_util.as_local(charge.ended).date() < horizon
    ]:
        del meter.charges[key]
