"""The energy ledger of an account's chargeboxes: what was counted of which charge.

Pure data, no Home Assistant instance and no I/O: the meters of each chargebox and
connector, the charges counted into them, the last session of each connector, the
rules that count every charge exactly once, and the stored form of it all (read
without ever raising, whatever is stored).
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
import math
from typing import Any, Final, TypeIs

from homeassistant.util import dt as dt_util

from .thor_api import FinishedCharge, RunningCharge, parse_connector

CREATED_MARGIN: Final = timedelta(seconds=5)
"""A charge that started this much before its meter was created was running then."""
KEEP_DAYS: Final = 3
"""Days an ended charge is remembered before the last reconciled day: long enough
that no later read of the finished charges can list it (and count it) again."""
SETTLE_WINDOW: Final = timedelta(minutes=10)
"""How long after a charge ended its finished record is awaited; the daily
reconciliation still completes it after that."""

EPOCH: Final = datetime.min.replace(tzinfo=UTC)
"""Earlier than any time: what an unknown time sorts as."""


def charge_key(charge: RunningCharge | FinishedCharge) -> str | None:
    """Return the key a charge is stored under.

    The transaction number; without one, the connector and start time. None when
    neither is known (such a charge cannot be told apart from another: not counted).
    """
    if charge.id is not None:
        return f"t{charge.id}"
    if charge.date_started is not None:
        return f"c{charge.connector}@{_millis(charge.date_started)}"
    return None


def _millis(value: datetime) -> int:
    """Return a time to the millisecond, as Thor gives it."""
    return int(value.timestamp() * 1000)


def same_charge(
    transaction: int | None,
    started: datetime | None,
    other_transaction: int | None,
    other_started: datetime | None,
) -> bool:
    """Return whether two records of one connector are the same charge.

    By transaction when both have one; else by start time: Thor leaves the
    transaction out of some records, running or finished.
    """
    if transaction is not None and other_transaction is not None:
        return transaction == other_transaction
    return (
        started is not None
        and other_started is not None
        and _millis(started) == _millis(other_started)
    )


def local_date(value: datetime) -> date:
    """Return the local day of a time (the days of Thor's finished-charges reads)."""
    return dt_util.as_local(value).date()


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    parsed = dt_util.parse_datetime(value)
    return None if parsed is None or parsed.tzinfo is None else parsed


def _is_number(value: Any) -> TypeIs[int | float]:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _number(value: Any) -> float:
    """Return a stored non-negative number; anything else is 0."""
    return float(value) if _is_number(value) and value > 0 else 0.0


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _dict(value: Any) -> dict[Any, Any]:
    return value if isinstance(value, dict) else {}


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
            transaction=transaction
            if isinstance(transaction, int) and not isinstance(transaction, bool)
            else None,
            started=_parse_time(data.get("started")),
            ended=_parse_time(data.get("ended")),
            energy=_number(energy) if energy is not None else None,
            cost=float(cost) if _is_number(cost) else None,
            currency=_text(data.get("currency")),
            started_by=_text(data.get("started_by")),
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
    """True once its end was announced (or it was only ever history)."""

    def session(self, finished: FinishedCharge | None = None) -> LastSession:
        """Return the charge as a session: what is counted, or Thor's record."""
        payment = None if finished is None else finished.payment
        energy = None if finished is None else finished.energy
        return LastSession(
            transaction=self.transaction,
            started=self.started,
            ended=self.ended,
            energy=self.counted if energy is None else energy,
            cost=None if payment is None else payment.price,
            currency=None
            if payment is None or payment.currency is None
            else payment.currency.upper(),
            started_by=self.started_by,
        )

    def is_charge(self, charge: RunningCharge | FinishedCharge) -> bool:
        """Return whether a record of Thor's is this charge."""
        return charge.connector == self.connector and same_charge(
            self.transaction, self.started, charge.id, charge.date_started
        )

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
        if (connector := parse_connector(data.get("connector"))) is None:
            return None
        transaction = data.get("transaction")
        return cls(
            connector=connector,
            transaction=transaction
            if isinstance(transaction, int) and not isinstance(transaction, bool)
            else None,
            started=_parse_time(data.get("started")),
            counted=_number(data.get("counted")),
            started_by=_text(data.get("started_by")),
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
    fresh: bool = False
    """True until a reading showed the charges running when the meter was created:
    only those count from the energy they had then (`CREATED_MARGIN`), whatever the
    clock does later."""
    totals: dict[int, float] = field(default_factory=dict)
    """Wh delivered per connector since `created`."""
    charges: dict[str, TrackedCharge] = field(default_factory=dict)
    last: dict[int, LastSession] = field(default_factory=dict)

    @property
    def total(self) -> float:
        """Return the Wh delivered by all connectors."""
        return sum(self.totals.values())

    @property
    def horizon(self) -> date:
        """Return the first day whose ended charges the meter still remembers."""
        return self.reconciled - timedelta(days=KEEP_DAYS)

    def find(self, charge: RunningCharge | FinishedCharge) -> TrackedCharge | None:
        """Return the tracked charge a record of Thor's is, if any.

        Stored under the record's key, or under the other key of the same charge
        when only one of the lists gave its transaction.
        """
        key = charge_key(charge)
        if key is not None and (tracked := self.charges.get(key)) is not None:
            return tracked
        return next((t for t in self.charges.values() if t.is_charge(charge)), None)

    def track(self, charge: RunningCharge) -> tuple[TrackedCharge, bool] | None:
        """Return the tracked charge of a running one, tracking it if new.

        The flag is True for a charge that began now (to announce); a charge running
        when the meter was created counts only from the energy it has now. Only a
        fresh meter's first reading can show one: a later charge that seems to have
        started before the meter is a clock that stepped back, and counts in full.
        """
        if (tracked := self.find(charge)) is not None:
            return tracked, False
        if (key := charge_key(charge)) is None:
            return None
        tracked = TrackedCharge(
            connector=charge.connector,
            transaction=charge.id,
            started=charge.date_started,
            started_by=charge.type,
        )
        self.charges[key] = tracked
        if self.fresh and self._before_created(charge.date_started):
            tracked.counted = charge.energy or 0.0
            return tracked, False
        return tracked, True

    def _before_created(self, started: datetime | None) -> bool:
        return started is not None and started < self.created - CREATED_MARGIN

    def count(self, tracked: TrackedCharge, energy: float | None) -> bool:
        """Count what a charge delivered beyond what is counted of it (Wh).

        Return whether the meter grew: a reading never takes energy back, and a
        charge Thor listed as finished is complete. An ended charge's last session
        shows what is counted of it until Thor's record comes.
        """
        if tracked.settled or energy is None or energy <= tracked.counted:
            return False
        self.totals[tracked.connector] = (
            self.totals.get(tracked.connector, 0.0) + energy - tracked.counted
        )
        tracked.counted = energy
        if tracked.ended is not None:
            self._show(tracked, None)
        return True

    def end(self, tracked: TrackedCharge, when: datetime) -> LastSession:
        """End a charge with what is counted of it; return its session."""
        tracked.ended = when
        return self._show(tracked, None)

    def settle(
        self, charge: FinishedCharge, now: datetime
    ) -> tuple[TrackedCharge, LastSession] | None:
        """Count a finished record; return the charge it completed and its session.

        None when it adds nothing: already settled, not identifiable, or not this
        meter's to count (ended before it, or older than any charge remembered).
        """
        tracked = self.find(charge)
        if tracked is None:
            if not self._may_add(charge) or (key := charge_key(charge)) is None:
                return None
            # Began and ended between two readings, or while Home Assistant was
            # stopped: counted and shown as the last session, but never announced.
            tracked = TrackedCharge(
                connector=charge.connector,
                transaction=charge.id,
                started=charge.date_started,
                reported=True,
            )
            self.charges[key] = tracked
        elif tracked.settled:
            return None
        self.count(tracked, charge.energy)
        tracked.settled = True
        # A date after now is a clock (ours or Thor's) off: it must not keep the
        # charge in the ledger longer than its days.
        finished = charge.date_finished
        tracked.ended = (
            min(finished, now) if finished is not None else tracked.ended or now
        )
        tracked.started = charge.date_started or tracked.started
        tracked.started_by = charge.type or tracked.started_by
        return tracked, self._show(tracked, charge)

    def _may_add(self, charge: FinishedCharge) -> bool:
        """Return whether a finished record nobody tracked is this meter's to count."""
        finished = charge.date_finished
        return not (
            finished is None
            or finished < self.created
            # Older than any charge still remembered: counted before, if ours.
            or local_date(finished) < self.horizon
            or self._before_created(charge.date_started)
        )

    def _show(
        self, tracked: TrackedCharge, finished: FinishedCharge | None
    ) -> LastSession:
        """Make an ended charge its connector's last session, unless a newer one is."""
        session = tracked.session(finished)
        current = self.last.get(tracked.connector)
        if (
            current is None
            or same_charge(
                current.transaction,
                current.started,
                session.transaction,
                session.started,
            )
            or (current.ended or EPOCH) <= (session.ended or EPOCH)
        ):
            self.last[tracked.connector] = session
        return session

    def unsettled(self) -> Iterator[TrackedCharge]:
        """Yield the ended charges Thor has not listed as finished yet."""
        for tracked in self.charges.values():
            if tracked.ended is not None and not tracked.settled:
                yield tracked

    def waiting(self, now: datetime) -> list[datetime]:
        """Return when the charges whose finished record is awaited ended."""
        return [
            tracked.ended
            for tracked in self.unsettled()
            if tracked.ended is not None and now - tracked.ended < SETTLE_WINDOW
        ]

    def clamp(self, now: datetime) -> bool:
        """Bring back to now what a clock that was ahead dated in the future.

        A meter created "later" would refuse the records of charges that ended
        before it, a reconciled day to come would ask Thor for days to come and
        forget the days before it, and an end to come would keep a charge awaited.
        Return whether anything changed.
        """
        today = local_date(now)
        changed = False
        if self.created > now:
            self.created, changed = now, True
        if self.reconciled > today:
            self.reconciled, changed = today, True
        for tracked in self.charges.values():
            if tracked.ended is not None and tracked.ended > now:
                tracked.ended, changed = now, True
        return changed

    def prune(self) -> None:
        """Forget the ended charges no later read of finished charges can list.

        Settled or not: a charge Thor never lists as finished goes too, once the
        daily reads that could still complete it are past. It cannot come back as a
        new one: a record that old is not this meter's to count (`_may_add`).
        """
        horizon = self.horizon
        for key in [
            key
            for key, charge in self.charges.items()
            if charge.ended is not None and local_date(charge.ended) < horizon
        ]:
            del self.charges[key]

    def as_diagnostics(self) -> dict[str, Any]:
        """Return the meter for diagnostics, without transaction numbers."""
        return {
            "created": self.created.isoformat(),
            "reconciled": self.reconciled.isoformat(),
            "totals_wh": {str(c): wh for c, wh in sorted(self.totals.items())},
            "charges_remembered": len(self.charges),
            "charges_waiting_for_thor": sum(1 for _ in self.unsettled()),
            "last_sessions": {
                str(connector): {
                    **session.as_dict(),
                    "transaction": None
                    if session.transaction is None
                    else "**REDACTED**",
                }
                for connector, session in sorted(self.last.items())
            },
        }

    def as_dict(self) -> dict[str, Any]:
        """Return the meter as stored."""
        stored: dict[str, Any] = {
            "created": self.created.isoformat(),
            "reconciled": self.reconciled.isoformat(),
            "totals": {str(c): wh for c, wh in sorted(self.totals.items())},
            "charges": {key: c.as_dict() for key, c in self.charges.items()},
            "last": {str(c): s.as_dict() for c, s in sorted(self.last.items())},
        }
        if self.fresh:
            stored["fresh"] = True
        return stored

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
        meter = cls(
            created=created, reconciled=reconciled, fresh=data.get("fresh") is True
        )
        for connector, energy in _dict(data.get("totals")).items():
            if (number := parse_connector(connector)) is not None:
                meter.totals[number] = _number(energy)
        for key, stored in _dict(data.get("charges")).items():
            if (charge := TrackedCharge.from_dict(stored)) is not None:
                meter.charges[str(key)] = charge
        for connector, stored in _dict(data.get("last")).items():
            number = parse_connector(connector)
            if number is not None and (session := LastSession.from_dict(stored)):
                meter.last[number] = session
        return meter


def load_meters(
    stored: Any, chargebox_ids: Mapping[str, Any], now: datetime
) -> tuple[dict[str, ChargeboxMeter], list[str]]:
    """Return the meter of each chargebox from stored data, and the damaged ones.

    A chargebox without a usable meter gets a new one, at 0 from now.
    """
    boxes = _dict(_dict(stored).get("chargeboxes"))
    meters: dict[str, ChargeboxMeter] = {}
    damaged: list[str] = []
    for chargebox_id in chargebox_ids:
        meter = ChargeboxMeter.from_dict(boxes.get(chargebox_id))
        if meter is None:
            if chargebox_id in boxes:
                damaged.append(chargebox_id)
            meter = ChargeboxMeter(created=now, reconciled=local_date(now), fresh=True)
        meter.clamp(now)
        meter.prune()  # What an earlier release kept for ever goes at once.
        meters[chargebox_id] = meter
    return meters, damaged


def stored_meters(meters: Mapping[str, ChargeboxMeter]) -> dict[str, Any]:
    """Return the meters as stored."""
    return {
        "chargeboxes": {
            chargebox_id: meter.as_dict() for chargebox_id, meter in meters.items()
        }
    }
