"""Data update coordinator of the Thor integration: one per Thor account.

A poll costs one request whatever the number of chargeboxes: the chargebox list, which
has every box with its occupied and reserved connectors. The account's running charges
(energy, start time) are read with it, concurrently, only while something needs them: a
configured connector is occupied, or a watcher (the charge controllers, for a command
awaiting confirmation or a stored id_tag) asks for them.
"""

import asyncio
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from datetime import timedelta
from typing import override

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .const import (
    DASHBOARD_HELP_URL,
    DOMAIN,
    LOGGER,
    SCAN_INTERVAL_CHARGING,
    SCAN_INTERVAL_IDLE,
)
from .data import ThorAccountData, ThorData
from .errors import (
    ACCOUNT_ISSUE_KEYS,
    CHARGEBOX_ISSUE_KEYS,
    MIN_RETRY_WAIT,
    FailureKind,
    classify,
)
from .thor_api import (
    Chargebox,
    RunningCharge,
    ThorChargeboxNotFoundError,
    ThorClient,
    ThorError,
)


def issue_id(entry_id: str, key: str, chargebox_id: str | None = None) -> str:
    """Return the id of a repair issue of an account entry or of one of its boxes."""
    if chargebox_id is None:
        return f"{key}_{entry_id}"
    return f"{key}_{entry_id}_{chargebox_id}"


@callback
def async_delete_issues(
    hass: HomeAssistant, entry_id: str, chargebox_ids: Collection[str] = ()
) -> None:
    """Remove the repair issues of an account entry and of the given chargeboxes."""
    for key in ACCOUNT_ISSUE_KEYS:
        ir.async_delete_issue(hass, DOMAIN, issue_id(entry_id, key))
    for chargebox_id in chargebox_ids:
        for key in CHARGEBOX_ISSUE_KEYS:
            ir.async_delete_issue(hass, DOMAIN, issue_id(entry_id, key, chargebox_id))


def _gathered[T](result: T | BaseException) -> T:
    """Return a result of `asyncio.gather(..., return_exceptions=True)`, or raise it."""
    if isinstance(result, BaseException):
        raise result
    return result


class ThorDataUpdateCoordinator(DataUpdateCoordinator[ThorAccountData]):
    """Polls the chargeboxes and, when needed, the running charges of an account."""

    config_entry: ConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        client: ThorClient,
        chargeboxes: Mapping[str, str],
    ) -> None:
        """Initialize the coordinator of the configured chargeboxes (id to title)."""
        self.client = client
        self.chargeboxes = dict(chargeboxes)
        """The configured chargeboxes: id to the title of its subentry."""
        self._watchers: list[Callable[[], bool]] = []
        self.push_healthy: Callable[[], bool] = lambda: False
        """Whether Thor's notifications arrive (set by the push receiver): idle polls
        then come every `idle_interval_push`."""
        self.idle_interval_push = SCAN_INTERVAL_IDLE
        self._reads = 0
        """Reads of running charges started so far, to order their answers."""
        self._shown_read: dict[str, int] = {}
        """The read whose running charges each chargebox shows."""
        # Not keys: the first poll clears issues left by an earlier setup attempt.
        self._issues: dict[str | None, str | None] = dict.fromkeys(
            [None, *self.chargeboxes], ""
        )
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=entry.title,
            update_interval=SCAN_INTERVAL_IDLE,
            # Listeners hear of every reading: the charge controllers count readings
            # before they forget an id_tag. Entities write only what changed.
            always_update=True,
        )

    @callback
    def async_add_charge_watcher(
        self, wants_charges: Callable[[], bool]
    ) -> CALLBACK_TYPE:
        """Read running charges at every poll while `wants_charges()` is True."""
        self._watchers.append(wants_charges)
        return lambda: self._watchers.remove(wants_charges)

    def _charges_needed(self) -> bool:
        """Return whether the next poll must read the running charges too."""
        return self._occupied(self.data) or any(
            wants() for wants in list(self._watchers)
        )

    def _occupied(self, data: ThorAccountData | None) -> bool:
        """Return whether a configured connector was occupied in a reading."""
        return data is not None and any(
            reading.any_occupied
            for chargebox_id in self.chargeboxes
            if (reading := data.get(chargebox_id)) is not None
        )

    @override
    async def _async_update_data(self) -> ThorAccountData:
        """Read the chargebox list, and the running charges when needed."""
        if (
            (wait := self.client.backoff.remaining()) > 0
            and self.data is not None
            and self.last_update_success
        ):
            # A throttled command asked Thor for silence, not a poll: keep showing
            # the last reading and read again once the wait is over.
            self.update_interval = timedelta(seconds=max(wait, MIN_RETRY_WAIT))
            return self.data
        read = self.next_read()
        try:
            data = self._keep_newer(await self._async_read(), read)
        except ThorError as err:
            raise self._failure(err) from err
        self._async_set_issue(None, None)
        for chargebox_id in self.chargeboxes:
            reading = data.get(chargebox_id)
            # Thor may still answer for a box switched off in the dashboard; starting
            # a charge on it would fail, so the repair shows up all the same.
            self._async_set_issue(
                chargebox_id,
                "chargebox_not_found"
                if reading is None
                else "chargebox_not_active"
                if reading.chargebox.active is False
                else None,
            )
        self.update_interval = self._interval(data)
        return data

    def _interval(self, data: ThorAccountData | None) -> timedelta:
        """Return the poll interval for a reading: slower while notifications arrive."""
        if self._occupied(data):
            return SCAN_INTERVAL_CHARGING
        return self.idle_interval_push if self.push_healthy() else SCAN_INTERVAL_IDLE

    async def _async_read(self) -> ThorAccountData:
        """Read the account: 1 request when idle, 2 (concurrent) when charging."""
        charges: list[RunningCharge] | None = None
        if self._charges_needed():
            listed, running = await asyncio.gather(
                self.client.list_chargeboxes(only_active=False),
                self.client.running_charges(),
                return_exceptions=True,
            )
            chargeboxes, charges = _gathered(listed), _gathered(running)
        else:
            chargeboxes = await self.client.list_chargeboxes(only_active=False)
        by_id = {chargebox.id: chargebox for chargebox in chargeboxes}
        await self._async_complete(by_id)
        if charges is None and any(
            by_id[chargebox_id].occupied_connectors
            for chargebox_id in self.chargeboxes
            if chargebox_id in by_id
        ):
            # A charge began since the last poll: read it now, not at the next poll.
            charges = await self.client.running_charges()
        by_box: dict[str, dict[int, RunningCharge]] = {}
        for charge in charges or ():
            by_box.setdefault(charge.chargebox, {})[charge.connector] = charge
        return ThorAccountData(
            chargeboxes={
                chargebox_id: ThorData(
                    chargebox=chargebox, charges=by_box.get(chargebox_id, {})
                )
                for chargebox_id, chargebox in by_id.items()
            }
        )

    async def _async_complete(self, by_id: dict[str, Chargebox]) -> None:
        """Read on its own each configured box the list gave without connector state."""
        incomplete = [
            chargebox_id
            for chargebox_id in self.chargeboxes
            if chargebox_id in by_id and not by_id[chargebox_id].has_connector_state
        ]
        if not incomplete:
            return
        LOGGER.debug(
            "The chargebox list has no occupied or reserved connectors for %s; "
            "reading them one by one",
            ", ".join(incomplete),
        )
        results = await asyncio.gather(
            *(self.client.get_chargebox(chargebox_id) for chargebox_id in incomplete),
            return_exceptions=True,
        )
        for chargebox_id, result in zip(incomplete, results, strict=True):
            if isinstance(result, ThorChargeboxNotFoundError):
                del by_id[chargebox_id]
            else:
                by_id[chargebox_id] = _gathered(result)

    def next_read(self) -> int:
        """Return the number of a read of running charges about to be sent."""
        self._reads += 1
        return self._reads

    def _keep_newer(self, data: ThorAccountData, read: int) -> ThorAccountData:
        """Keep what a read sent after this poll showed of a box's charges.

        A poll and a confirmation read may overlap: the answer of the later one
        wins, whichever arrives last.
        """
        newer = {
            chargebox_id: shown
            for chargebox_id, shown_read in self._shown_read.items()
            if shown_read > read
            and self.data is not None
            and (shown := self.data.get(chargebox_id)) is not None
            and chargebox_id in data.chargeboxes
        }
        for chargebox_id in data.chargeboxes:
            if chargebox_id not in newer:
                self._shown_read[chargebox_id] = read
        if not newer:
            return data
        return ThorAccountData(
            chargeboxes={
                **data.chargeboxes,
                **{
                    chargebox_id: ThorData(
                        chargebox=replace(
                            data.chargeboxes[chargebox_id].chargebox,
                            occupied_connectors=shown.chargebox.occupied_connectors,
                        ),
                        charges=shown.charges,
                    )
                    for chargebox_id, shown in newer.items()
                },
            }
        )

    @callback
    def async_set_running_charges(
        self,
        chargebox_id: str,
        charges: list[RunningCharge],
        read: int,
        awaited: Collection[int],
    ) -> None:
        """Show a newer reading of one chargebox's running charges.

        Read after a command to confirm it: until the next poll, the `awaited`
        connectors are occupied exactly when the running charges show them. The others
        keep what the chargebox list said, so that one answer leaving a charge out
        does not end it. `read` is the number `next_read` gave before it was sent.
        """
        if (data := self.data) is None or (reading := data.get(chargebox_id)) is None:
            return
        if self._shown_read.get(chargebox_id, 0) > read:
            return  # A poll sent after it has already answered.
        self._shown_read[chargebox_id] = read
        mine = {
            charge.connector: charge
            for charge in charges
            if charge.chargebox == chargebox_id
        }
        occupied = (reading.chargebox.occupied_connectors - set(awaited)) | (
            mine.keys() & set(awaited)
        )
        updated = ThorData(
            chargebox=replace(reading.chargebox, occupied_connectors=occupied),
            charges=mine,
        )
        self.data = ThorAccountData(
            chargeboxes={**data.chargeboxes, chargebox_id: updated}
        )
        self.async_update_listeners()

    @callback
    def async_push_charge(
        self, chargebox_id: str, connector: int, charge: RunningCharge | None
    ) -> None:
        """Show what a notification said of one connector: its charge, or none.

        Newer than every read sent before it: an older answer does not undo it.
        """
        if (data := self.data) is None or (reading := data.get(chargebox_id)) is None:
            return
        self._shown_read[chargebox_id] = self.next_read()
        charges = dict(reading.charges)
        occupied = set(reading.chargebox.occupied_connectors)
        if charge is None:
            charges.pop(connector, None)
            occupied.discard(connector)
        else:
            charges[connector] = charge
            occupied.add(connector)
        self.data = ThorAccountData(
            chargeboxes={
                **data.chargeboxes,
                chargebox_id: ThorData(
                    chargebox=replace(
                        reading.chargebox, occupied_connectors=frozenset(occupied)
                    ),
                    charges=charges,
                ),
            }
        )
        self.update_interval = self._interval(self.data)
        self.async_update_listeners()

    def _failure(self, err: ThorError) -> Exception:
        """Return the Home Assistant exception for a failed poll."""
        failure = classify(err)
        self._async_set_issue(
            None, failure.issue if failure.issue in ACCOUNT_ISSUE_KEYS else None
        )
        placeholders = {
            "chargebox": self.name_of(None),
            "chargebox_id": ", ".join(self.chargeboxes),
            **failure.placeholders,
        }
        if failure.kind is FailureKind.AUTH:
            return ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key=failure.key,
                translation_placeholders=placeholders,
            )
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key=failure.key,
            translation_placeholders=placeholders,
            retry_after=failure.retry_after,
        )

    def name_of(self, chargebox_id: str | None) -> str:
        """Return the name of a chargebox for messages, or of all of them for None."""
        if chargebox_id is None:
            return ", ".join(map(self.name_of, self.chargeboxes)) or (
                self.config_entry.title
            )
        # None until the first poll succeeded, whatever the type says.
        data: ThorAccountData | None = self.data
        if data is not None and (reading := data.get(chargebox_id)) is not None:
            return reading.chargebox.name
        return self.chargeboxes.get(chargebox_id) or chargebox_id

    @callback
    def _async_set_issue(self, chargebox_id: str | None, key: str | None) -> None:
        """Show the repair issue `key` (None for none) of the account or of a box."""
        if key == self._issues.get(chargebox_id):
            return
        self._issues[chargebox_id] = key
        entry_id = self.config_entry.entry_id
        keys = ACCOUNT_ISSUE_KEYS if chargebox_id is None else CHARGEBOX_ISSUE_KEYS
        for other in keys:
            if other != key:
                ir.async_delete_issue(
                    self.hass, DOMAIN, issue_id(entry_id, other, chargebox_id)
                )
        if key is None:
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id(entry_id, key, chargebox_id),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=key,
            translation_placeholders={
                "title": self.config_entry.title
                if chargebox_id is None
                else self.name_of(chargebox_id),
                "chargebox_id": chargebox_id or "",
            },
            learn_more_url=DASHBOARD_HELP_URL,
        )
