"""Charging power and currents of a chargebox's connectors.

Measured while Thor's meter values (push, in the coordinator's readings) are recent;
otherwise the power is estimated from the growth of the charge's energy between
readings, and the currents are unknown.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from .data import Measurement, ThorData
from .ledger import charge_key

MEASURED_VALID: Final = timedelta(minutes=2)
"""How long Thor's meter values are taken as the connector's power and currents."""
MIN_POWER_INTERVAL: Final = timedelta(seconds=20)
"""Shortest time over which the charging power is estimated: the quick reads after a
command come 1.5 s apart, and Thor's energy moves in steps."""


@dataclass(kw_only=True, slots=True)
class _Sample:
    """A charge's energy at a time: the base of the next estimate."""

    key: str
    energy: float
    time: datetime


class ChargeboxPower:
    """The power and currents of one chargebox's connectors."""

    def __init__(self) -> None:
        """Start with nothing known."""
        self._estimates: dict[int, float | None] = {}
        """W per connector: 0 when free, None until a charge's second reading."""
        self._samples: dict[int, _Sample] = {}
        self._measurements: Mapping[int, Measurement] = {}

    def update(self, reading: ThorData, now: datetime) -> set[int]:
        """Take in a reading of the chargebox; return the connectors that changed."""
        estimates, measurements = dict(self._estimates), self._measurements
        self._measurements = reading.measurements
        for connector in {c.number for c in reading.chargebox.connectors}:
            if not reading.is_occupied(connector):
                self._estimates[connector] = 0.0
                self._samples.pop(connector, None)
        for connector, charge in reading.charges.items():
            if charge.energy is not None and (key := charge_key(charge)) is not None:
                self._sample(connector, key, charge.energy, now)
        return {
            connector
            for before, after in (
                (estimates, self._estimates),
                (measurements, self._measurements),
            )
            for connector in before.keys() | after.keys()
            if before.get(connector) != after.get(connector)
        }

    def _sample(self, connector: int, key: str, energy: float, now: datetime) -> None:
        """Estimate the power from the energy growth since an older reading."""
        base = self._samples.get(connector)
        if base is None or base.key != key or energy < base.energy:
            self._samples[connector] = _Sample(key=key, energy=energy, time=now)
            if base is None or base.key != key:
                self._estimates[connector] = None  # Unknown until a second reading.
            return
        elapsed = now - base.time
        if elapsed < MIN_POWER_INTERVAL:
            return
        if self._measured(connector, now) is None:
            # Measured meanwhile: the estimate restarts from here when it is not.
            self._estimates[connector] = round(
                (energy - base.energy) * 3600 / elapsed.total_seconds(), 1
            )
        self._samples[connector] = _Sample(key=key, energy=energy, time=now)

    def _measured(self, connector: int, now: datetime) -> Measurement | None:
        """Return Thor's meter values of a connector while they are recent."""
        measurement = self._measurements.get(connector)
        if measurement is None or now - measurement.time >= MEASURED_VALID:
            return None
        return measurement

    def power(self, connector: int, now: datetime) -> float | None:
        """Return the charging power (W), None while unknown."""
        measurement = self._measured(connector, now)
        if measurement is not None and measurement.power is not None:
            return round(measurement.power, 1)
        return self._estimates.get(connector, 0.0)

    def current(self, connector: int, phase: str, now: datetime) -> float | None:
        """Return the current of a phase (A), None without recent meter values."""
        measurement = self._measured(connector, now)
        return None if measurement is None else measurement.currents.get(phase)

    def as_diagnostics(self, now: datetime) -> dict[str, float | None]:
        """Return the power of each connector known (W)."""
        connectors = sorted(self._estimates.keys() | self._measurements.keys())
        return {str(c): self.power(c, now) for c in connectors}
