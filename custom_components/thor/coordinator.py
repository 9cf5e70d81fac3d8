"""Data update coordinator of the Thor integration: one per Thor account.

It is the only writer of what Home Assistant knows of the account's chargeboxes, and
every observation enters through it:
- polls (`_async_update_data`): one request whatever the number of chargeboxes, the
  chargebox list with each box's occupied and reserved connectors, plus the running
  charges, concurrently, while something needs them (a configured connector is
  occupied, or a watcher such as a command awaiting confirmation asks for them);
- confirmation reads (`async_confirmation_read`): one chargebox's running charges,
  read after a command;
- notifications (`async_apply_notification`): Thor's push, applied by the rules of
  `observations.py`.
Polls tell every listener; a confirmation read or a notification tells only the
listeners of the chargebox it concerns (listeners registered with that chargebox id
as their context), so that its cost does not grow with the number of chargeboxes.
"""

import asyncio
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any, override

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .const import LOGGER, SCAN_INTERVAL_CHARGING, SCAN_INTERVAL_IDLE
from .data import ThorAccountData, ThorData, chargebox_name
from .errors import MIN_RETRY_WAIT, FailureKind, IssueScope, classify
from .issues import ThorIssues
from .ledger import charge_key
from .observations import NotificationRules, PushWatch
from .thor_api import (
    Chargebox,
    Notification,
    RunningCharge,
    ThorChargeboxNotFoundError,
    ThorClient,
    ThorError,
)

PUSH_IDLE_INTERVAL = timedelta(minutes=5)
"""Idle poll interval while Thor's notifications arrive."""


def _gathered[T](result: T | BaseException) -> T:
    """Return a result of `asyncio.gather(..., return_exceptions=True)`, or raise it."""
    if isinstance(result, BaseException):
        raise result
    return result


class ChargeboxCoordinator[T](DataUpdateCoordinator[T]):
    """A coordinator whose listeners may follow one chargebox only.

    A listener registered with a chargebox id as its context hears every poll, and
    the updates of that chargebox alone (`async_update_chargebox`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Initialize the coordinator with no chargebox listener yet."""
        self._box_listeners: dict[str, dict[int | None, dict[int, CALLBACK_TYPE]]] = {}
        """By chargebox, then connector (None: the whole chargebox), then id."""
        self._box_listener_id = 0
        super().__init__(*args, **kwargs)

    @override
    def async_add_listener(
        self, update_callback: CALLBACK_TYPE, context: Any = None
    ) -> Callable[[], None]:
        """Listen for updates.

        With a chargebox id as context, for that box's only; with (chargebox id,
        connector), for those of the box as a whole or of that connector.
        """
        remove = super().async_add_listener(update_callback, context)
        if isinstance(context, str):
            place: tuple[str, int | None] = (context, None)
        elif isinstance(context, tuple):
            place = context
        else:
            return remove
        listeners = self._box_listeners.setdefault(place[0], {}).setdefault(
            place[1], {}
        )
        self._box_listener_id += 1
        key = self._box_listener_id
        listeners[key] = update_callback

        @callback
        def _remove() -> None:
            listeners.pop(key, None)
            remove()

        return _remove

    @callback
    def async_update_chargebox(
        self, chargebox_id: str, connector: int | None = None
    ) -> None:
        """Tell the listeners of one chargebox, or of one of its connectors."""
        by_connector = self._box_listeners.get(chargebox_id, {})
        groups = (
            by_connector.values()
            if connector is None
            else (by_connector.get(None, {}), by_connector.get(connector, {}))
        )
        for update_callback in [cb for group in groups for cb in group.values()]:
            try:
                update_callback()
            except Exception:
                self.logger.exception(
                    "Unexpected error updating a listener of %s", chargebox_id
                )


class ThorDataUpdateCoordinator(ChargeboxCoordinator[ThorAccountData]):
    """Polls an account, applies its notifications, and tells who must know."""

    config_entry: ConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        client: ThorClient,
        chargeboxes: Mapping[str, str],
        *,
        push: bool = False,
    ) -> None:
        """Initialize the coordinator of the configured chargeboxes (id to title).

        With `push`, Thor's notifications are expected: while they arrive, idle
        polls come every `PUSH_IDLE_INTERVAL`.
        """
        self.client = client
        self.chargeboxes = dict(chargeboxes)
        """The configured chargeboxes: id to the title of its subentry."""
        self.push_enabled = push
        self.push_watch = PushWatch()
        self._watchers: list[Callable[[], bool]] = []
        self._rules = NotificationRules()
        self._reads = 0
        """Reads of running charges started so far, to order their answers."""
        self._shown_read: dict[str, int] = {}
        """The read whose running charges each chargebox shows."""
        self.issues = ThorIssues(hass, entry, self.chargeboxes, self.name_of)
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

    # ------------------------------------------------------------------ polls

    @override
    async def _async_update_data(self) -> ThorAccountData:
        """Read the chargebox list, and the running charges when needed."""
        if (
            (wait := self.throttled_for())
            and self.data is not None
            and self.last_update_success
        ):
            # A throttled command asked Thor for silence, not a poll: keep showing
            # the last reading and read again once the wait is over.
            self.update_interval = timedelta(seconds=wait)
            return self.data
        read = self.next_read()
        try:
            data = self._keep_newer(await self._async_read(), read)
        except ThorError as err:
            raise self._failure(err) from err
        previous: ThorAccountData | None = self.data
        self.issues.async_set(None, None)
        for chargebox_id in self.chargeboxes:
            reading = data.get(chargebox_id)
            # Not a notification's reading, kept as newer than the poll.
            if reading is not None and reading.polled:
                self._rules.observe(
                    chargebox_id,
                    None if previous is None else previous.get(chargebox_id),
                    reading,
                )
            # Thor may still answer for a box switched off in the dashboard; starting
            # a charge on it would fail, so the repair shows up all the same.
            self.issues.async_set(
                chargebox_id,
                "chargebox_not_found"
                if reading is None
                else "chargebox_not_active"
                if reading.chargebox.active is False
                else None,
            )
        self._async_check_push(data)
        self.update_interval = self._interval(data)
        return data

    def throttled_for(self) -> float:
        """Return the seconds to wait before sending anything to Thor (0: none).

        The one rule for waiting out a rate limit: at least `MIN_RETRY_WAIT` while
        throttled, so that nothing spins on the last split second of the wait.
        """
        wait = self.client.backoff.remaining()
        return max(wait, MIN_RETRY_WAIT) if wait > 0 else 0.0

    def _interval(self, data: ThorAccountData | None) -> timedelta:
        """Return the poll interval for a reading: slower while notifications arrive."""
        if self._occupied(data):
            return SCAN_INTERVAL_CHARGING
        return PUSH_IDLE_INTERVAL if self.push_healthy else SCAN_INTERVAL_IDLE

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
                chargebox_id: self._polled(
                    chargebox_id, chargebox, by_box.get(chargebox_id, {})
                )
                for chargebox_id, chargebox in by_id.items()
            }
        )

    def _polled(
        self, chargebox_id: str, chargebox: Chargebox, charges: dict[int, RunningCharge]
    ) -> ThorData:
        """Return a reading Thor's API gave, keeping the measurements still valid.

        Meter values come only from notifications: they stay with their charge.
        """
        data: ThorAccountData | None = self.data
        shown = None if data is None else data.get(chargebox_id)
        measurements = {}
        if shown is not None:
            measurements = {
                connector: measurement
                for connector, measurement in shown.measurements.items()
                if (charge := charges.get(connector)) is not None
                and (before := shown.charges.get(connector)) is not None
                and charge_key(charge) == charge_key(before)
            }
        return ThorData(chargebox=chargebox, charges=charges, measurements=measurements)

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

        A poll and a confirmation read (or a notification) may overlap: the later
        one wins, whichever arrives last.
        """
        shown_data: ThorAccountData | None = self.data
        newer = {
            chargebox_id: shown
            for chargebox_id, shown_read in self._shown_read.items()
            if shown_read > read
            and shown_data is not None
            and (shown := shown_data.get(chargebox_id)) is not None
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
                    chargebox_id: replace(
                        shown,
                        chargebox=replace(
                            data.chargeboxes[chargebox_id].chargebox,
                            occupied_connectors=shown.chargebox.occupied_connectors,
                        ),
                        ended={},
                        notice=None,
                    )
                    for chargebox_id, shown in newer.items()
                },
            }
        )

    # --------------------------------------------------- confirmation reads

    async def async_confirmation_read(
        self, chargebox_id: str, awaited: Collection[int]
    ) -> None:
        """Read one chargebox's running charges (1 request) and show them.

        Read after a command to confirm it: until the next poll, the `awaited`
        connectors are occupied exactly when the running charges show them. The others
        keep what the chargebox list said, so that one answer leaving a charge out
        does not end it.
        """
        read = self.next_read()
        try:
            charges = await self.client.running_charges(chargebox_id)
        except ThorError as err:
            # The polls report failures; this read only hurries a confirmation.
            LOGGER.debug(
                "Reading the running charges of %s failed: %s",
                self.name_of(chargebox_id),
                classify(err).error,
            )
            return
        data: ThorAccountData | None = self.data
        if data is None or (reading := data.get(chargebox_id)) is None:
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
        updated = self._polled(
            chargebox_id,
            replace(reading.chargebox, occupied_connectors=frozenset(occupied)),
            mine,
        )
        self._rules.observe(chargebox_id, reading, updated)
        self._show(chargebox_id, updated)

    @callback
    def _show(
        self, chargebox_id: str, reading: ThorData, connector: int | None = None
    ) -> None:
        """Show a new reading of one chargebox (of one of its connectors, if given)."""
        data: ThorAccountData | None = self.data
        if data is None:
            return
        shown = data.get(chargebox_id)
        self.data = ThorAccountData(
            chargeboxes={**data.chargeboxes, chargebox_id: reading}
        )
        if shown is None or shown.any_occupied != reading.any_occupied:
            # Only a connector becoming busy or free changes the pace of polls.
            self.update_interval = self._interval(self.data)
        self.async_update_chargebox(chargebox_id, connector)

    # ---------------------------------------------------------- notifications

    @property
    def push_healthy(self) -> bool:
        """Return whether notifications arrive: one came, and none was missed since."""
        return self.push_enabled and self.push_watch.arriving

    @callback
    def async_apply_notification(self, notification: Notification) -> bool:
        """Apply a notification Thor sent; return False if it is for no chargebox here.

        Newer than every read sent before it: an older answer does not undo it.
        """
        chargebox_id = notification.chargebox
        if chargebox_id not in self.chargeboxes:
            LOGGER.debug(
                "Ignoring a notification for a chargebox not configured in %s",
                self.config_entry.title,
            )
            return False
        now = dt_util.utcnow()
        if self.push_watch.arrived(now):
            LOGGER.info(
                "Thor's notifications arrive again for %s", self.config_entry.title
            )
            self.issues.async_set_push_failing(False)
        data: ThorAccountData | None = self.data
        if data is None or (reading := data.get(chargebox_id)) is None:
            return True
        self.push_watch.note(reading, notification, self._rules, now)
        updated = self._rules.apply(reading, notification, now)
        if updated is not None:
            self._shown_read[chargebox_id] = self.next_read()
            self._show(chargebox_id, updated, notification.connector)
        return True

    @callback
    def _async_check_push(self, data: ThorAccountData) -> None:
        """After a poll: notice what polling saw and no notification told."""
        if not self.push_enabled:
            return
        running = {
            (chargebox_id, connector, charge.id)
            for chargebox_id in self.chargeboxes
            if (reading := data.get(chargebox_id)) is not None
            for connector, charge in reading.charges.items()
        }
        if (what := self.push_watch.missed(running, dt_util.utcnow())) is None:
            return
        LOGGER.warning(
            "Thor's notifications are not arriving for %s (no notification for %s); "
            "polling at the normal pace again",
            self.config_entry.title,
            what,
        )
        self.issues.async_set_push_failing(True)

    # ---------------------------------------------------------------- failures

    def _failure(self, err: ThorError) -> Exception:
        """Return the Home Assistant exception for a failed poll."""
        failure = classify(err)
        self.issues.async_set(
            None, failure.issue if failure.scope is IssueScope.ACCOUNT else None
        )
        placeholders = {
            "chargebox": self.name_of(None),
            "chargebox_id": ", ".join(self.chargeboxes),
            **failure.placeholders,
        }
        if failure.kind is FailureKind.AUTH:
            return ConfigEntryAuthFailed(
                translation_domain=self.config_entry.domain,
                translation_key=failure.key,
                translation_placeholders=placeholders,
            )
        return UpdateFailed(
            translation_domain=self.config_entry.domain,
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
        return chargebox_name(
            chargebox_id,
            self.chargeboxes.get(chargebox_id),
            None if data is None else data.get(chargebox_id),
        )
