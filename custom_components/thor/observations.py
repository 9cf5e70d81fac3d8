"""The rules that turn Thor's notifications into what Home Assistant shows.

A notification is an untrusted observation: anyone who learns the webhook address can
post one, Thor does not promise their order, and it may send one twice. So a
notification may confirm or hurry what polls show, never replace what Home Assistant
knows for sure, and never push a meter beyond what the chargebox could deliver:

- Only chargeboxes and connectors the account has are heard.
- A stop seen for a transaction wins over a later start of the same transaction, and
  a start of a transaction older than the one running never replaces it.
- A stop ends only the charge it names (a stop without a transaction number ends only
  a charge that has none either).
- Energy counts only for the charge running on the connector that Thor's API itself
  showed, as that charge's own energy: an import-register reading counts as its
  growth since the charge's first register reading. It never exceeds what the
  connector's rated power allows for the time elapsed since the charge began (with a
  margin); more is ignored with a debug line.

`NotificationRules.apply` is pure: it takes a reading and a notification and returns
the reading to show, or None to show nothing new. `PushWatch` notices when polls see
what no notification told, so that polling can return to its pace.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
import math
from typing import Final

from .const import LOGGER
from .data import Measurement, Notice, NoticeKind, ThorData
from .ledger import charge_key
from .thor_api import (
    Connector,
    MetersNotification,
    Notification,
    RunningCharge,
    StartNotification,
    StopNotification,
)

DEFAULT_MAX_POWER: Final = 350_000.0
"""W assumed for a connector whose rated power Thor does not give: the fastest
chargers sold; it still bounds what a notification can claim."""
ENERGY_MARGIN: Final = 1.1
"""Rated power times elapsed time, plus this share, bounds a charge's energy."""
ENERGY_SLACK: Final = 100.0
"""Wh allowed on top, for clocks a little apart and meters that round up."""
POWER_MARGIN: Final = 1.25
"""A measured power above the rated power times this is not believed."""
MAX_CURRENT: Final = 1000.0
"""A; a larger current from a notification is not believed."""
ENDED_MEMORY: Final = 256
"""Transactions remembered as ended per chargebox (a replayed start of an older
one is then still refused)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class _Register:
    """The first register reading of a charge, and its energy then."""

    charge: str | None
    """The charge's ledger key."""
    register: float
    energy: float


class NotificationRules:
    """Apply notifications to a chargebox's reading, remembering what orders them."""

    def __init__(self) -> None:
        """Start with nothing known: the first poll teaches the rest."""
        self._ended: dict[str, dict[int, None]] = {}
        """Per chargebox, the transactions known to have ended (oldest first)."""
        self._polled: dict[tuple[str, int], str | None] = {}
        """The charge Thor's API last showed on each connector."""
        self._registers: dict[tuple[str, int], _Register] = {}
        self._first_seen: dict[tuple[str, int], tuple[str, datetime]] = {}

    # --------------------------------------------------------------- learning

    def observe(
        self, chargebox_id: str, previous: ThorData | None, reading: ThorData
    ) -> None:
        """Learn from a reading Thor's API gave: the charges it shows, those gone."""
        connectors = {connector.number for connector in reading.chargebox.connectors}
        for connector in connectors | reading.charges.keys():
            place = (chargebox_id, connector)
            if (charge := reading.charges.get(connector)) is not None:
                self._polled[place] = charge_key(charge)
            elif not reading.is_occupied(connector):
                self._polled.pop(place, None)
                self._registers.pop(place, None)
                self._first_seen.pop(place, None)
        if previous is None:
            return
        running = {charge.id for charge in reading.charges.values()}
        self._remember_ended(
            chargebox_id,
            (
                charge.id
                for charge in previous.charges.values()
                if charge.id is not None and charge.id not in running
            ),
        )

    def _remember_ended(self, chargebox_id: str, transactions: Iterable[int]) -> None:
        ended = self._ended.setdefault(chargebox_id, {})
        for transaction in transactions:
            ended.pop(transaction, None)
            ended[transaction] = None
        while len(ended) > ENDED_MEMORY:
            del ended[next(iter(ended))]

    def has_ended(self, chargebox_id: str, transaction: int | None) -> bool:
        """Return whether a transaction is known to have ended."""
        return transaction is not None and transaction in self._ended.get(
            chargebox_id, {}
        )

    # --------------------------------------------------------------- applying

    def apply(
        self, reading: ThorData, notification: Notification, now: datetime
    ) -> ThorData | None:
        """Return the reading a notification makes, None when it changes nothing."""
        connector = reading.connector(notification.connector)
        if connector is None:
            LOGGER.debug(
                "Ignoring a notification for connector %s, which the chargebox "
                "does not have",
                notification.connector,
            )
            return None
        if isinstance(notification, StartNotification):
            return self._start(reading, notification, now)
        if isinstance(notification, StopNotification):
            return self._stop(reading, notification, connector, now)
        return self._meters(reading, notification, connector, now)

    def _start(
        self, reading: ThorData, start: StartNotification, now: datetime
    ) -> ThorData | None:
        number = start.connector
        if not start.accepted:
            return _notified(
                reading, notice=Notice(kind=NoticeKind.START_REJECTED, connector=number)
            )
        transaction = start.transaction
        if self.has_ended(start.chargebox, transaction):
            LOGGER.debug("Ignoring a start notification of a charge that ended")
            return None
        current = reading.charges.get(number)
        notice = Notice(
            kind=NoticeKind.STARTED,
            connector=number,
            # Running charges show a card's id_tag (§2.3c): nothing to keep for it.
            id_tag=None if start.mode == "local" else start.id_tag,
            transaction=transaction,
        )
        if current is not None:
            if (
                current.id is not None
                and transaction is not None
                and current.id > transaction
            ):
                LOGGER.debug("Ignoring a start notification older than the charge")
                return None
            if transaction is None or current.id is None or current.id == transaction:
                # The charge shown: the notification only tells the controller.
                return _notified(reading, notice=notice)
        charge = RunningCharge(
            id=transaction,
            chargebox=start.chargebox,
            connector=number,
            date_started=now,
            energy=0.0,
            # Thor shows the id_tag of card starts only (§2.3c).
            id_tag=start.id_tag if start.mode == "local" else None,
            user=None,
            type=start.mode,
            payment=None,
        )
        return _charge_changed(reading, number, charge, notice=notice)

    def _stop(
        self,
        reading: ThorData,
        stop: StopNotification,
        connector: Connector,
        now: datetime,
    ) -> ThorData | None:
        number = stop.connector
        if stop.rejected:
            return _notified(
                reading, notice=Notice(kind=NoticeKind.STOP_REJECTED, connector=number)
            )
        if not stop.accepted:
            return None  # Only the connector was unlocked.
        transaction = stop.transaction
        if transaction is not None:
            self._remember_ended(stop.chargebox, (transaction,))
        current = reading.charges.get(number)
        if current is None:
            if transaction is None or number not in (
                reading.chargebox.occupied_connectors
            ):
                return None  # Nothing shown that this stop could end.
        elif current.id != transaction and (
            transaction is None or (current.id is not None and current.id > transaction)
        ):
            LOGGER.debug("Ignoring a stop notification of another charge")
            return None
        ended: dict[int, RunningCharge] = {}
        if current is not None:
            energy = current.energy
            if stop.energy is not None and current.id == transaction:
                energy = self._plausible(
                    stop.chargebox, current, connector, stop.energy, now
                )
            ended[number] = replace(current, energy=energy)
        return _charge_changed(reading, number, None, ended=ended)

    def _meters(
        self,
        reading: ThorData,
        meters: MetersNotification,
        connector: Connector,
        now: datetime,
    ) -> ThorData | None:
        number = meters.connector
        if (current := reading.charges.get(number)) is None:
            return None  # A late meter value of a charge that ended.
        charge = current
        energy = self._energy(meters, current)
        if energy is not None:
            charge = replace(
                current,
                energy=self._plausible(
                    meters.chargebox, current, connector, energy, now
                ),
            )
        measurements = reading.measurements
        if (measurement := _measurement(meters, connector, now)) is not None:
            measurements = {**measurements, number: measurement}
        if charge is current and measurements is reading.measurements:
            return None
        return _notified(
            reading,
            charges={**reading.charges, number: charge},
            measurements=measurements,
        )

    def _energy(
        self, meters: MetersNotification, current: RunningCharge
    ) -> float | None:
        """Return the charge's energy a meter-values notification tells (Wh)."""
        if meters.energy is not None:
            return meters.energy
        if meters.register is None:
            return None
        place = (meters.chargebox, meters.connector)
        key = charge_key(current)
        base = self._registers.get(place)
        if base is None or base.charge != key or meters.register < base.register:
            # The first register reading of this charge: its energy so far is what
            # Thor's API last said, and only the register's growth adds to it.
            base = self._registers[place] = _Register(
                charge=key, register=meters.register, energy=current.energy or 0.0
            )
        return base.energy + meters.register - base.register

    def _plausible(
        self,
        chargebox_id: str,
        current: RunningCharge,
        connector: Connector,
        energy: float,
        now: datetime,
    ) -> float | None:
        """Return the charge's energy to show: a notification's, when believable."""
        shown = current.energy
        if energy <= (shown or 0.0):
            return shown  # A reading never takes energy back.
        place = (chargebox_id, connector.number)
        if (key := charge_key(current)) is None or self._polled.get(place) != key:
            LOGGER.debug(
                "Ignoring the energy of a notification for a charge Thor's API has "
                "not shown"
            )
            return shown
        seen = self._first_seen.get(place)
        if seen is None or seen[0] != key:
            seen = self._first_seen[place] = (key, now)
        started = current.date_started or seen[1]
        hours = max(0.0, (now - started) / timedelta(hours=1))
        limit = _rated(connector) * hours * ENERGY_MARGIN + ENERGY_SLACK
        if energy > limit:
            LOGGER.debug(
                "Ignoring %.0f Wh from a notification: connector %s could have "
                "delivered at most %.0f Wh since the charge began",
                energy,
                connector.number,
                limit,
            )
            return shown
        return energy


def _rated(connector: Connector) -> float:
    """Return the connector's rated power (W), or the largest one sold."""
    return float(connector.power) if connector.power else DEFAULT_MAX_POWER


def _measurement(
    meters: MetersNotification, connector: Connector, now: datetime
) -> Measurement | None:
    """Return the believable power and currents of meter values, None for none."""
    power = meters.power
    if power is not None and not 0 <= power <= _rated(connector) * POWER_MARGIN:
        LOGGER.debug("Ignoring a measured power of %.0f W", power)
        power = None
    currents = {
        phase.split("-")[0].upper(): value
        for phase, value in meters.currents.items()
        # "L1-N" and "L1" are the same phase for a current.
        if math.isfinite(value) and 0 <= value <= MAX_CURRENT
    }
    if power is None and not currents:
        return None
    return Measurement(power=power, currents=currents, time=now)


def _charge_changed(
    reading: ThorData,
    number: int,
    charge: RunningCharge | None,
    *,
    notice: Notice | None = None,
    ended: dict[int, RunningCharge] | None = None,
) -> ThorData:
    """Return the reading with a new charge on a connector, or none.

    The connector's meter values belonged to the charge before: they go.
    """
    charges = {key: value for key, value in reading.charges.items() if key != number}
    occupied = reading.chargebox.occupied_connectors - {number}
    if charge is not None:
        charges[number] = charge
        occupied |= {number}
    return _notified(
        reading,
        charges=charges,
        occupied=occupied,
        measurements={
            key: value for key, value in reading.measurements.items() if key != number
        },
        notice=notice,
        ended=ended,
    )


def _notified(
    reading: ThorData,
    *,
    charges: dict[int, RunningCharge] | None = None,
    occupied: frozenset[int] | None = None,
    measurements: Mapping[int, Measurement] | None = None,
    ended: dict[int, RunningCharge] | None = None,
    notice: Notice | None = None,
) -> ThorData:
    """Return the reading a notification made (only a notification, no poll)."""
    chargebox = reading.chargebox
    if occupied is not None:
        chargebox = replace(chargebox, occupied_connectors=frozenset(occupied))
    return ThorData(
        chargebox=chargebox,
        charges=reading.charges if charges is None else charges,
        measurements=reading.measurements if measurements is None else measurements,
        ended=ended or {},
        notice=notice,
        polled=False,
    )


PUSH_GRACE: Final = timedelta(seconds=60)
"""How long polling may see a charge (or see it gone) before a notification should
have told: past it, notifications are taken as not arriving."""
_FORGET: Final = timedelta(days=1)

type PushKey = tuple[str, int, int | None]
"""A charge, as notifications and polls both name it: chargebox, connector,
transaction."""


class PushWatch:
    """Whether Thor's notifications arrive, and what polling saw that none told.

    A charge polling shows running that no start or meter notification mentioned, or
    a charge a notification announced that polling shows gone without a stop
    notification: past `PUSH_GRACE`, notifications are not arriving.
    """

    def __init__(self) -> None:
        """Start with nothing received."""
        self.received = 0
        """Notifications received for the entry's chargeboxes."""
        self.last: datetime | None = None
        """When the last one arrived."""
        self._failing = False
        self._told: dict[PushKey, datetime] = {}
        """Charges start or meter notifications mentioned, and when."""
        self._told_stopped: set[PushKey] = set()
        self._untold: dict[PushKey, datetime] = {}
        """What polling saw that no notification told yet, since when."""

    @property
    def arriving(self) -> bool:
        """Return whether notifications arrive: one came, and none was missed since."""
        return self.last is not None and not self._failing

    def arrived(self, now: datetime) -> bool:
        """Count a notification; return True if they were taken as not arriving."""
        self.received += 1
        self.last = now
        was_failing, self._failing = self._failing, False
        return was_failing

    def note(
        self,
        reading: ThorData,
        notification: Notification,
        rules: NotificationRules,
        now: datetime,
    ) -> None:
        """Note the charge a notification tells of (not a replay of an ended one)."""
        box, connector = notification.chargebox, notification.connector
        current = reading.charges.get(connector)
        if isinstance(notification, MetersNotification):
            if current is not None:
                self._told[(box, connector, current.id)] = now
        elif isinstance(notification, StartNotification):
            if notification.accepted and not rules.has_ended(
                box, notification.transaction
            ):
                self._told[(box, connector, notification.transaction)] = now
        elif notification.accepted:
            transaction = notification.transaction
            if transaction is None and current is not None:
                transaction = current.id
            key = (box, connector, transaction)
            self._told.setdefault(key, now)
            self._told_stopped.add(key)

    def missed(self, running: set[PushKey], now: datetime) -> str | None:
        """After a poll: return what no notification told, when they stop arriving."""
        missed: str | None = None
        for key in running - self._told.keys():
            if now - self._untold.setdefault(key, now) >= PUSH_GRACE:
                missed = "a charge polling sees running"
        for key in self._told.keys() - running - self._told_stopped:
            if key[2] is not None and (
                now - self._untold.setdefault(key, now) >= PUSH_GRACE
            ):
                missed = "a charge polling sees ended"
        # Forget what neither side shows any more (a day at most).
        self._untold = {
            key: since
            for key, since in self._untold.items()
            if (key in running) != (key in self._told) and now - since < _FORGET
        }
        self._told = {k: t for k, t in self._told.items() if now - t < _FORGET}
        self._told_stopped &= self._told.keys()
        if missed is None or self._failing:
            return None
        self._failing = True
        return missed
