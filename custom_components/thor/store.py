"""The id_tags of the charges Home Assistant started, and their whole life.

Thor returns an `id_tag` for every API start and needs it again to stop the charge, but
running charges show `id_tag: null` for API starts: the start's answer is the only place
it exists. Each account entry keeps its records in one `Store` (`thor.<entry_id>`) as a
flat list, one record per chargebox and connector, loaded once and kept across reloads
of the entry (`entries.py`), so that a start whose answer arrives during a reload is
kept too.

A record is forgotten only once its charge is confirmed gone: the connector free on
the chargebox *and* absent from running charges over `GONE_READINGS` readings of
Thor's API (one inconsistent answer proves nothing; a notification proves nothing at
all), or another charge running there.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, override

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN, LOGGER
from .data import ThorData
from .thor_api import parse_connector, parse_transaction_id

STORAGE_VERSION: Final = 2
"""2: a flat list of records; 1 nested them by chargebox under one entry per box."""
UNCONFIRMED_TAG_TTL: Final = timedelta(minutes=15)
"""How long an id_tag whose charge never appeared is kept (a box may start late)."""
GONE_READINGS: Final = 2
"""Readings that must show a charge gone before its id_tag is forgotten."""
ALL_CONNECTORS: Final = 0
"""In the lost marks: every connector of the chargebox (or every chargebox: "")."""


def storage_key(entry_id: str) -> str:
    """Return the storage key of a config entry's id_tags."""
    return f"{DOMAIN}.{entry_id}"


@dataclass(kw_only=True, slots=True)
class ChargeRecord:
    """The id_tag of a charge this integration started."""

    id_tag: str
    transaction: int | None = None
    confirmed: bool = False
    """True once running charges showed the charge."""
    requested: datetime
    stop_requested: bool = False
    """A stop was asked before the chargebox began the charge: send it when it does."""
    gone_readings: int = 0
    """Consecutive readings that showed no charge on the connector (not stored)."""

    def as_dict(self) -> dict[str, Any]:
        """Return the record as stored, without its place."""
        return {
            "id_tag": self.id_tag,
            "transaction": self.transaction,
            "confirmed": self.confirmed,
            "requested": self.requested.isoformat(),
            "stop_requested": self.stop_requested,
        }

    @classmethod
    def from_dict(cls, data: Any) -> ChargeRecord | None:
        """Return a stored record, None when it is damaged."""
        if not isinstance(data, dict):
            return None
        id_tag = data.get("id_tag")
        transaction = data.get("transaction")
        requested = dt_util.parse_datetime(str(data.get("requested")))
        if not isinstance(id_tag, str) or not id_tag:
            return None
        return cls(
            id_tag=id_tag,
            transaction=parse_transaction_id(transaction),
            confirmed=data.get("confirmed") is True,
            requested=requested or dt_util.utcnow(),
            stop_requested=data.get("stop_requested") is True,
        )


class _ChargeStore(Store[dict[str, Any]]):
    """The storage file, migrated from the nested layout of version 1."""

    @override
    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: dict[str, Any]
    ) -> dict[str, Any]:
        """Flatten {"charges": {chargebox: {connector: record}}} into a list.

        What cannot be read stays in the list, damaged, so that loading says which
        id_tags were lost.
        """
        charges = old_data.get("charges") if isinstance(old_data, dict) else None
        if old_major_version != 1 or not isinstance(charges, dict):
            return {"charges": charges}
        flat: list[Any] = []
        for chargebox_id, records in charges.items():
            if not isinstance(records, dict):
                flat.append({"chargebox": chargebox_id})
                continue
            flat.extend(
                {**record, "chargebox": chargebox_id, "connector": connector}
                if isinstance(record, dict)
                else {"chargebox": chargebox_id, "connector": connector}
                for connector, record in records.items()
            )
        return {"charges": flat}


class ThorChargeStore:
    """The stored id_tags of one account entry, by chargebox and connector."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Prepare the store; call `async_load` before use."""
        self._store = _ChargeStore(
            hass,
            STORAGE_VERSION,
            storage_key(entry_id),
            private=True,
            atomic_writes=True,
        )
        self._records: dict[str, dict[int, ChargeRecord]] = {}
        self._lost: set[tuple[str, int]] = set()
        """Where a damaged file lost id_tags: (chargebox, connector), with "" and
        `ALL_CONNECTORS` for anywhere."""
        self._placed: set[str] = set()
        """Chargeboxes whose lost marks were narrowed to their connectors."""

    async def async_load(self) -> None:
        """Read the stored records; damaged ones are left out, with a warning."""
        self._records = {}
        try:
            stored = await self._store.async_load()
        except HomeAssistantError:
            stored, damaged = None, True
        else:
            damaged = stored is not None and not isinstance(stored, dict)
        charges = stored.get("charges") if isinstance(stored, dict) else None
        if stored is not None and not isinstance(charges, list):
            damaged = True
        for item in charges if isinstance(charges, list) else []:
            chargebox_id = item.get("chargebox") if isinstance(item, dict) else None
            connector = parse_connector(
                item.get("connector") if isinstance(item, dict) else None
            )
            record = ChargeRecord.from_dict(item)
            if isinstance(chargebox_id, str) and connector and record is not None:
                self._records.setdefault(chargebox_id, {})[connector] = record
                continue
            damaged = True
            if isinstance(chargebox_id, str):
                self._lost.add((chargebox_id, connector or ALL_CONNECTORS))
            else:
                self._lost.add(("", ALL_CONNECTORS))
        if damaged:
            if not self._lost:
                self._lost.add(("", ALL_CONNECTORS))
            LOGGER.warning(
                "The stored id_tags of Thor (%s) are damaged: charges Home Assistant "
                "started before cannot be stopped from it; stop them from the Thor "
                "dashboard or at the chargebox",
                self._store.path,
            )

    def lost(self, chargebox_id: str, connector: int) -> bool:
        """Return whether a damaged file may have held the id_tag of a connector."""
        marks = {(chargebox_id, ALL_CONNECTORS), (chargebox_id, connector)}
        if chargebox_id not in self._placed:
            marks.add(("", ALL_CONNECTORS))
        return bool(self._lost & marks)

    def _place_lost(self, chargebox_id: str, reading: ThorData) -> None:
        """Narrow "lost anywhere" to the connectors charging at the first reading."""
        if chargebox_id in self._placed:
            return
        self._placed.add(chargebox_id)
        if self._lost & {("", ALL_CONNECTORS), (chargebox_id, ALL_CONNECTORS)}:
            self._lost.discard((chargebox_id, ALL_CONNECTORS))
            self._lost.update(
                (chargebox_id, connector.number)
                for connector in reading.chargebox.connectors
                if reading.is_occupied(connector.number)
            )

    def records(self, chargebox_id: str) -> dict[int, ChargeRecord]:
        """Return the records of a chargebox by connector, to read and change."""
        return self._records.setdefault(chargebox_id, {})

    @property
    def chargeboxes(self) -> set[str]:
        """Return the chargeboxes that have records."""
        return {box for box, records in self._records.items() if records}

    def forget(self, chargebox_ids: Iterable[str]) -> bool:
        """Drop the records of chargeboxes; return True if any existed."""
        found = False
        for chargebox_id in chargebox_ids:
            found |= bool(self._records.pop(chargebox_id, None))
        return found

    def adopt(self, other: ThorChargeStore) -> None:
        """Take over the records of another store (merging entries of one account)."""
        for chargebox_id, records in other._records.items():
            self.records(chargebox_id).update(records)

    async def async_save(self) -> None:
        """Write every record (before a start returns: it is the only copy)."""
        await self._store.async_save(
            {
                "charges": [
                    {**record.as_dict(), "chargebox": chargebox_id, "connector": number}
                    for chargebox_id, records in sorted(self._records.items())
                    for number, record in sorted(records.items())
                ]
            }
        )

    def learn_start(
        self,
        chargebox_id: str,
        connector: int,
        id_tag: str | None,
        transaction: int | None,
    ) -> bool:
        """Keep what a start notification tells; return True if a record changed.

        Thor's notification carries the id_tag that stops the charge, even of a start
        whose answer was lost or that was made from the Thor app: kept when Home
        Assistant has none for the connector. A record Home Assistant holds is never
        replaced: the notification may be a replay, or forged.
        """
        records = self.records(chargebox_id)
        record = records.get(connector)
        if record is None:
            if id_tag is None:
                return False
            records[connector] = ChargeRecord(
                id_tag=id_tag, transaction=transaction, requested=dt_util.utcnow()
            )
            return True
        if id_tag is not None and id_tag != record.id_tag:
            return False
        if transaction is None or record.transaction is not None:
            return False
        record.transaction = transaction
        return True

    def reconcile(
        self, chargebox_id: str, reading: ThorData, pending: Collection[int]
    ) -> bool:
        """Update the records from a reading of Thor's API; return True if changed.

        `pending` are the connectors with a command awaiting confirmation.
        """
        now = dt_util.utcnow()
        self._place_lost(chargebox_id, reading)
        records = self.records(chargebox_id)
        changed = False
        for connector, record in list(records.items()):
            charge = reading.charges.get(connector)
            if charge is None:
                if connector in reading.chargebox.occupied_connectors:
                    # Running charges left it out, but the chargebox is busy: the
                    # answers disagree, and the charge may well be running.
                    record.gone_readings = 0
                    continue
                record.gone_readings += 1
                forget = record.gone_readings >= GONE_READINGS and (
                    record.confirmed
                    or (
                        connector not in pending
                        and now - record.requested > UNCONFIRMED_TAG_TTL
                    )
                )
            elif (charge.id_tag is not None and charge.id_tag != record.id_tag) or (
                record.transaction is not None
                and charge.id is not None
                and charge.id != record.transaction
            ):
                # Another charge runs there now (a card, or a later start).
                forget = True
            else:
                forget = False
                record.gone_readings = 0
                transaction = record.transaction if charge.id is None else charge.id
                if not record.confirmed or record.transaction != transaction:
                    record.confirmed = True
                    record.transaction = transaction
                    changed = True
            if forget:
                LOGGER.debug("Forgetting the id_tag of connector %s", connector)
                del records[connector]
                changed = True
        for connector in {c.number for c in reading.chargebox.connectors}:
            if not reading.is_occupied(connector):
                # The charge whose id_tag was lost has ended.
                self._lost.discard((chargebox_id, connector))
        return changed

    async def async_remove(self) -> None:
        """Delete the storage file."""
        self._records = {}
        await self._store.async_remove()
