"""The id_tags of the charges Home Assistant started, kept across restarts.

Thor returns an `id_tag` for every API start and needs it again to stop the charge, but
running charges show `id_tag: null` for API starts: the start's answer is the only place
it exists. Each account entry keeps its records in one `Store` (`thor.<entry_id>`) as a
flat list, one record per chargebox and connector.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, override

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN

STORAGE_VERSION: Final = 2
"""2: a flat list of records; 1 nested them by chargebox under one entry per box."""


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
        if isinstance(transaction, bool) or not isinstance(transaction, int):
            transaction = None
        return cls(
            id_tag=id_tag,
            transaction=transaction,
            confirmed=data.get("confirmed") is True,
            requested=requested or dt_util.utcnow(),
            stop_requested=data.get("stop_requested") is True,
        )


def _connector(value: Any) -> int | None:
    """Return a stored connector number, None when it is damaged."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 1 else None
    if isinstance(value, str) and value.isdigit():
        return int(value) or None
    return None


class _ChargeStore(Store[dict[str, Any]]):
    """The storage file, migrated from the nested layout of version 1."""

    @override
    async def _async_migrate_func(
        self, old_major_version: int, old_minor_version: int, old_data: dict[str, Any]
    ) -> dict[str, Any]:
        """Flatten {"charges": {chargebox: {connector: record}}} into a list."""
        charges = old_data.get("charges") if isinstance(old_data, dict) else None
        flat: list[dict[str, Any]] = []
        if old_major_version == 1 and isinstance(charges, dict):
            for chargebox_id, records in charges.items():
                if not isinstance(records, dict):
                    continue
                flat.extend(
                    {**record, "chargebox": chargebox_id, "connector": connector}
                    for connector, record in records.items()
                    if isinstance(record, dict)
                )
        elif isinstance(charges, list):
            flat = charges
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

    async def async_load(self) -> None:
        """Read the stored records; damaged ones are left out."""
        stored = await self._store.async_load()
        charges = stored.get("charges") if isinstance(stored, dict) else None
        self._records = {}
        for item in charges if isinstance(charges, list) else []:
            if not isinstance(item, dict):
                continue
            chargebox_id = item.get("chargebox")
            connector = _connector(item.get("connector"))
            record = ChargeRecord.from_dict(item)
            if isinstance(chargebox_id, str) and connector and record is not None:
                self._records.setdefault(chargebox_id, {})[connector] = record

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

    async def async_remove(self) -> None:
        """Delete the storage file."""
        self._records = {}
        await self._store.async_remove()
