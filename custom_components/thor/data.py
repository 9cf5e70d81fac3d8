"""What Home Assistant knows of an account's chargeboxes: the coordinator's data.

The coordinator is the only writer (polls, confirmation reads, notifications); the
entities, the command controllers and the energy tracker only read it.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from .thor_api import Chargebox, Connector, RunningCharge


def chargebox_name(
    chargebox_id: str, title: str | None, reading: ThorData | None
) -> str:
    """Return the name a chargebox goes by in messages and on its device.

    The one rule: Thor's name for it (its alias) once read, else the title of its
    subentry, else its id.
    """
    if reading is not None:
        return reading.chargebox.name
    return title or chargebox_id


@dataclass(frozen=True, kw_only=True, slots=True)
class Measurement:
    """What Thor's meter values last said of a connector's supply (push)."""

    power: float | None
    """Active power, W; None when the notification had none."""
    currents: Mapping[str, float]
    """Current per phase (`L1`, `L2`, `L3`), A."""
    time: datetime
    """When it arrived: the tracker decides how long it stays valid."""


class NoticeKind(StrEnum):
    """What a notification told the command controller of a connector."""

    STARTED = "started"
    """A charge started (its id_tag and transaction are in the notice)."""
    START_REJECTED = "start_rejected"
    """The chargebox refused to start a charge."""
    STOP_REJECTED = "stop_rejected"
    """The chargebox refused to stop a charge."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Notice:
    """A notification the coordinator accepted, for the command controller.

    Carried by the reading it produced only; polls and confirmation reads have none.
    """

    kind: NoticeKind
    connector: int
    id_tag: str | None = None
    transaction: int | None = None


@dataclass(frozen=True, kw_only=True)
class ThorData:
    """One reading of a chargebox: the box and its running charges by connector."""

    chargebox: Chargebox
    charges: dict[int, RunningCharge]
    measurements: Mapping[int, Measurement] = field(default_factory=dict)
    """Thor's latest meter values per connector that is charging (push)."""
    ended: Mapping[int, RunningCharge] = field(default_factory=dict)
    """Charges a stop notification ended with this reading, with their last energy
    (Wh); empty for every other reading."""
    notice: Notice | None = None
    """The notification that made this reading, when it concerns a command."""
    polled: bool = True
    """True when Thor's API gave this reading (poll or read); False when only a
    notification changed it."""

    def connector(self, number: int) -> Connector | None:
        """Return the connector with that number, None if the box has none such."""
        return next(
            (
                connector
                for connector in self.chargebox.connectors
                if connector.number == number
            ),
            None,
        )

    def is_occupied(self, number: int) -> bool:
        """Return whether a transaction runs on the connector."""
        return number in self.chargebox.occupied_connectors or number in self.charges

    @property
    def any_occupied(self) -> bool:
        """Return whether a transaction runs on any connector."""
        return bool(self.chargebox.occupied_connectors or self.charges)


@dataclass(frozen=True, kw_only=True)
class ThorAccountData:
    """One reading of an account: every chargebox Thor listed, by id."""

    chargeboxes: Mapping[str, ThorData]

    def get(self, chargebox_id: str) -> ThorData | None:
        """Return the reading of a chargebox, None if Thor did not list it."""
        return self.chargeboxes.get(chargebox_id)
