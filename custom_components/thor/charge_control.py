"""Start and stop charges on one chargebox, and keep what is needed to stop them.

Thor returns an `id_tag` for every API start and needs it again to stop the charge, but
running charges show `id_tag: null` for API and app starts. The id_tag is therefore kept
in a `Store` (`thor.<entry_id>`), written before the start returns, and forgotten only
once the charge is confirmed gone: the connector free on the chargebox *and* absent from
running charges over `GONE_READINGS` readings (one inconsistent answer proves nothing), or
another charge running there. A start whose answer is lost has no id_tag to keep: the user
is told the charge may have started and must then be stopped outside Home Assistant.

A 200 from Thor only means "forwarded to the chargebox". After a command the switch
shows the requested state at once (pending) and the coordinator is polled at
`CONFIRM_POLLS`; a refresh that still shows the old state does not flip the switch back.
When `CONFIRM_WINDOW` passes without confirmation the switch shows the real state again,
one warning is logged and `thor_command_failed` is fired.

Commands on one connector are serialised by a lock, and the switch and the actions make
their decision under it: a stop issued while a start is in flight waits for the start's
answer and then stops that charge. If the chargebox has not begun it yet (Thor answers
`NotInTransaction`), the stop is remembered with the id_tag and sent as soon as the charge
shows up. A command that repeats the one in flight or awaiting confirmation sends nothing
and returns the result of the first one, so a double tap or a repeated voice command
starts one charge only. Connector numbers are checked before anything is allocated.
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import (
    CALLBACK_TYPE,
    Event,
    HomeAssistant,
    ServiceResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util

from .const import DOMAIN, LOGGER
from .errors import FailureKind, classify
from .thor_api import ThorError, ThorNotInTransactionError, ThorWrongTransactionError

if TYPE_CHECKING:
    from .coordinator import ThorConfigEntry, ThorData, ThorDataUpdateCoordinator

STORAGE_VERSION: Final = 1
EVENT_COMMAND_FAILED: Final = f"{DOMAIN}_command_failed"

CONFIRM_POLLS: Final = (2.0, 5.0, 10.0, 20.0, 40.0)
"""Seconds after a command at which the coordinator is refreshed."""
CONFIRM_WINDOW: Final = 120.0
"""Seconds a command may take to show up in running charges."""
UNCONFIRMED_TAG_TTL: Final = timedelta(minutes=15)
"""How long an id_tag whose charge never appeared is kept (a box may start late)."""
GONE_READINGS: Final = 2
"""Readings that must show a charge gone before its id_tag is forgotten."""

# Refusals that are the user's input or the connector's state, not a fault.
_VALIDATION_KEYS: Final = frozenset(
    {"invalid_connector", "already_charging", "not_charging"}
)
# After these Thor contradicted the last reading: read again.
_STALE_KEYS: Final = frozenset({"already_charging", "not_charging"})


def storage_key(entry_id: str) -> str:
    """Return the storage key of a config entry's id_tags."""
    return f"{DOMAIN}.{entry_id}"


async def async_remove_storage(hass: HomeAssistant, entry_id: str) -> None:
    """Delete the stored id_tags of a removed config entry."""
    await Store[dict[str, Any]](
        hass, STORAGE_VERSION, storage_key(entry_id)
    ).async_remove()


class ChargeCommand(StrEnum):
    """A command sent to a connector."""

    START = "start"
    STOP = "stop"


class FailureReason(StrEnum):
    """Why `thor_command_failed` was fired."""

    NOT_CONFIRMED = "not_confirmed"
    """Thor accepted the command, but running charges never showed it."""
    NO_ANSWER = "no_answer"
    """A start got no usable answer: the charge may have started without an id_tag."""
    STOP_FAILED = "stop_failed"
    """A stop remembered until the charge showed up was refused when sent."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ChargeResult:
    """The id_tag of a charge and, when known, its transaction number."""

    id_tag: str
    transaction: int | None

    def as_response(self) -> ServiceResponse:
        """Return the result as an action response."""
        return {"id_tag": self.id_tag, "transaction": self.transaction}


@dataclass(kw_only=True, slots=True)
class _ChargeRecord:
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
        """Return the record as stored."""
        return {
            "id_tag": self.id_tag,
            "transaction": self.transaction,
            "confirmed": self.confirmed,
            "requested": self.requested.isoformat(),
            "stop_requested": self.stop_requested,
        }

    @classmethod
    def from_dict(cls, data: Any) -> _ChargeRecord | None:
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


@dataclass(kw_only=True, slots=True)
class _Pending:
    """A command Thor accepted that running charges do not show yet."""

    command: ChargeCommand
    result: ChargeResult
    sent_on: ThorData
    """The data shown when the command was sent: it cannot confirm the command."""
    awaiting_charge: bool = False
    """A stop kept until the charge begins: "not charging" does not confirm it."""
    cancel_timers: list[CALLBACK_TYPE] = field(default_factory=list)

    @property
    def target(self) -> bool:
        """Return the charging state the command asked for."""
        return self.command is ChargeCommand.START

    def cancel(self) -> None:
        """Cancel the confirmation polls and the deadline."""
        for cancel in self.cancel_timers:
            cancel()
        self.cancel_timers.clear()


class ThorChargeController:
    """Start and stop charges on the connectors of one chargebox."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ThorConfigEntry,
        coordinator: ThorDataUpdateCoordinator,
    ) -> None:
        """Prepare the controller; call `async_setup` before use."""
        self.hass = hass
        self.entry = entry
        self.coordinator = coordinator
        self._store = Store[dict[str, Any]](
            hass,
            STORAGE_VERSION,
            storage_key(entry.entry_id),
            private=True,
            atomic_writes=True,
        )
        self._stored: dict[str, Any] = {}
        self._records: dict[int, _ChargeRecord] = {}
        self._pending: dict[int, _Pending] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._unanswered: dict[int, datetime] = {}
        """Connectors whose start got no answer, and when."""
        self._refresh_timers: dict[int, list[CALLBACK_TYPE]] = {}
        """Quick refreshes after an unanswered start, by connector."""
        self._deferred_stops: set[int] = set()
        self._last_reading: ThorData | None = None

    @property
    def chargebox_id(self) -> str:
        """Return the id of the controlled chargebox."""
        return self.coordinator.chargebox_id

    async def async_setup(self) -> None:
        """Load the stored id_tags and follow the coordinator."""
        stored = await self._store.async_load()
        charges = stored.get("charges") if isinstance(stored, dict) else None
        self._stored = charges if isinstance(charges, dict) else {}
        mine = self._stored.get(self.chargebox_id)
        if isinstance(mine, dict):
            for key, value in mine.items():
                if (
                    key.isdigit()
                    and (record := _ChargeRecord.from_dict(value)) is not None
                ):
                    self._records[int(key)] = record
        self.entry.async_on_unload(
            self.coordinator.async_add_listener(self._async_handle_coordinator_update)
        )
        self.entry.async_on_unload(
            self.hass.bus.async_listen(
                EVENT_HOMEASSISTANT_STOP, self._async_cancel_pending
            )
        )
        self.entry.async_on_unload(self._async_cancel_pending)
        # Charges may have ended while Home Assistant was not running.
        self._async_handle_coordinator_update()

    @callback
    def _async_cancel_pending(self, _event: Event | None = None) -> None:
        """Forget the commands awaiting confirmation and cancel their timers."""
        for pending in self._pending.values():
            pending.cancel()
        self._pending.clear()
        for timers in self._refresh_timers.values():
            for cancel in timers:
                cancel()
        self._refresh_timers.clear()

    def as_diagnostics(self) -> dict[str, Any]:
        """Return the stored charges and the commands awaiting confirmation."""
        return {
            "stored_charges": {
                str(connector): record.as_dict()
                for connector, record in sorted(self._records.items())
            },
            "pending_commands": {
                str(connector): str(pending.command)
                for connector, pending in sorted(self._pending.items())
            },
            "unanswered_starts": {
                str(connector): since.isoformat()
                for connector, since in sorted(self._unanswered.items())
            },
            "rate_limited_for": self.coordinator.client.backoff.remaining(),
        }

    def charging(self, connector: int) -> bool:
        """Return whether Thor shows a transaction on the connector."""
        return self.coordinator.data.is_occupied(connector)

    def pending(self, connector: int) -> bool | None:
        """Return the state a command awaiting confirmation asked for, else None."""
        if (pending := self._pending.get(connector)) is None:
            return None
        return pending.target

    def is_on(self, connector: int) -> bool:
        """Return the state to show: the pending one, else the real one."""
        if (target := self.pending(connector)) is not None:
            return target
        return self.charging(connector)

    async def async_start(
        self, connector: int, *, skip_if_on: bool = False
    ) -> ChargeResult | None:
        """Start a charge; return its id_tag once it is stored.

        With `skip_if_on` (the switch) a connector that is on, or about to be, is left
        alone and None is returned; otherwise that is refused.
        """
        self._check_connector(connector)
        async with self._lock(connector):
            pending = self._pending.get(connector)
            if pending is not None and pending.command is ChargeCommand.START:
                LOGGER.debug("Start on connector %s already sent", connector)
                return None if skip_if_on else pending.result
            if skip_if_on and self.is_on(connector):
                return None
            self._check_online(connector)
            if pending is None and self.charging(connector):
                raise self._error("already_charging", connector, validation=True)
            try:
                id_tag = await self.coordinator.client.start_charge(
                    self.chargebox_id, connector
                )
            except ThorError as err:
                raise self._command_failed(err, connector, ChargeCommand.START) from err
            self._unanswered.pop(connector, None)
            self._records[connector] = _ChargeRecord(
                id_tag=id_tag, requested=dt_util.utcnow()
            )
            # The id_tag is the only way to stop this charge: on disk before returning.
            await self._async_save()
            result = ChargeResult(id_tag=id_tag, transaction=None)
            self._set_pending(connector, ChargeCommand.START, result)
            return result

    async def async_stop(
        self, connector: int, *, skip_if_off: bool = False
    ) -> ChargeResult | None:
        """Stop the connector's charge; return the id_tag and transaction used.

        With `skip_if_off` (the switch) a connector that is off, or about to be, is
        left alone and None is returned; otherwise that is refused.
        """
        self._check_connector(connector)
        async with self._lock(connector):
            pending = self._pending.get(connector)
            if pending is not None and pending.command is ChargeCommand.STOP:
                LOGGER.debug("Stop on connector %s already sent", connector)
                return None if skip_if_off else pending.result
            if skip_if_off and not self.is_on(connector):
                return None
            self._check_online(connector)
            charge = self.coordinator.data.charges.get(connector)
            record = self._records.get(connector)
            if charge is not None and charge.id_tag:
                id_tag, transaction = charge.id_tag, charge.id
            elif record is not None:
                id_tag, transaction = record.id_tag, record.transaction
            elif self.charging(connector):
                raise self._error(
                    "stop_unanswered_start"
                    if connector in self._unanswered
                    else "charge_started_elsewhere",
                    connector,
                    validation=True,
                )
            else:
                raise self._error("not_charging", connector, validation=True)
            try:
                await self._async_send_stop(connector, id_tag, transaction)
            except ThorNotInTransactionError as err:
                if record is None or record.confirmed or record.id_tag != id_tag:
                    raise self._command_failed(
                        err, connector, ChargeCommand.STOP
                    ) from err
                # Thor forwarded the start, but the chargebox has not begun the charge
                # yet: stop it as soon as it shows up, or it would run on.
                LOGGER.debug(
                    "Connector %s has not started yet; stopping it when it does",
                    connector,
                )
                record.stop_requested = True
                await self._async_save()
            except ThorError as err:
                raise self._command_failed(err, connector, ChargeCommand.STOP) from err
            result = ChargeResult(id_tag=id_tag, transaction=transaction)
            self._set_pending(
                connector,
                ChargeCommand.STOP,
                result,
                # Poll quickly for the charge to begin, so it is stopped at once.
                awaiting_charge=record is not None and record.stop_requested,
            )
            return result

    async def _async_send_stop(
        self, connector: int, id_tag: str, transaction: int | None
    ) -> None:
        """Send a stop; retry without the transaction number if Thor refuses it."""
        client = self.coordinator.client
        try:
            await client.stop_charge(self.chargebox_id, connector, id_tag, transaction)
        except ThorWrongTransactionError:
            if transaction is None:
                raise
            # The transaction number is an assumption (thor-api.md §6.13): the id_tag
            # alone identifies the charge.
            LOGGER.debug("Stop refused with transaction %s, retrying", transaction)
            await client.stop_charge(self.chargebox_id, connector, id_tag)

    async def _async_deferred_stop(self, connector: int) -> None:
        """Send the stop that was asked before the chargebox began the charge."""
        try:
            async with self._lock(connector):
                record = self._records.get(connector)
                if (
                    record is None
                    or not record.stop_requested
                    or not self.charging(connector)
                ):
                    return
                # Sent once: a refusal is reported, not retried on every poll.
                record.stop_requested = False
                await self._async_save()
                try:
                    await self._async_send_stop(
                        connector, record.id_tag, record.transaction
                    )
                except ThorError as err:
                    LOGGER.warning(
                        "Could not stop the charge on connector %s of %s that was "
                        "switched off while starting: %s",
                        connector,
                        self._name(),
                        classify(err).error,
                    )
                    self._fire_failed(
                        connector, ChargeCommand.STOP, FailureReason.STOP_FAILED
                    )
                    # The charge runs on: stop showing the "off" that was asked for.
                    if (pending := self._pending.pop(connector, None)) is not None:
                        pending.cancel()
                    self.coordinator.async_update_listeners()
                    return
                self._set_pending(
                    connector,
                    ChargeCommand.STOP,
                    ChargeResult(id_tag=record.id_tag, transaction=record.transaction),
                )
        finally:
            self._deferred_stops.discard(connector)

    def _lock(self, connector: int) -> asyncio.Lock:
        """Return the lock that serialises the connector's commands."""
        if (lock := self._locks.get(connector)) is None:
            lock = self._locks[connector] = asyncio.Lock()
        return lock

    def _name(self) -> str:
        """Return the chargebox name used in messages."""
        return self.coordinator.chargebox_name

    def _error(
        self,
        key: str,
        connector: int,
        *,
        validation: bool = False,
        **placeholders: str,
    ) -> HomeAssistantError:
        """Build a translated error about a connector of this chargebox."""
        cls = ServiceValidationError if validation else HomeAssistantError
        return cls(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders={
                "chargebox": self._name(),
                "chargebox_id": self.chargebox_id,
                "connector": str(connector),
                "count": str(len(self.coordinator.data.chargebox.connectors)),
                **placeholders,
            },
        )

    def _check_connector(self, connector: int) -> None:
        """Refuse a connector the chargebox does not have, before allocating anything."""
        # The actions have already refused anything that is not a whole number.
        if not 1 <= connector <= len(self.coordinator.data.chargebox.connectors):
            raise self._error("invalid_connector", connector, validation=True)

    def _check_online(self, connector: int) -> None:
        """Refuse a command an offline chargebox could not receive."""
        if self.coordinator.data.chargebox.connected is False:
            raise self._error("chargebox_offline", connector)

    def _command_failed(
        self, err: ThorError, connector: int, command: ChargeCommand
    ) -> HomeAssistantError:
        """Return the message for a command Thor did not carry out."""
        failure = classify(err)
        if failure.kind is FailureKind.AUTH:
            self.entry.async_start_reauth(self.hass)
        if failure.key in _STALE_KEYS:
            self._refresh_soon()
        if command is ChargeCommand.START and failure.kind in (
            FailureKind.TRANSIENT,
            FailureKind.MALFORMED,
        ):
            # Thor may have acted on the start before its answer was lost.
            self._start_unanswered(connector, failure.error)
            return self._error("start_unanswered", connector, error=failure.error)
        return self._error(
            failure.key,
            connector,
            validation=failure.key in _VALIDATION_KEYS,
            **failure.placeholders,
        )

    @callback
    def _start_unanswered(self, connector: int, error: str) -> None:
        """Report a start that may have begun a charge Home Assistant cannot stop."""
        self._unanswered[connector] = dt_util.utcnow()
        LOGGER.warning(
            "Thor gave no usable answer to the start on connector %s of %s (%s): the "
            "charge may have started, and without Thor's id_tag Home Assistant cannot "
            "stop it. If it did, stop it from the Thor dashboard or at the chargebox",
            connector,
            self._name(),
            error,
        )
        self._fire_failed(connector, ChargeCommand.START, FailureReason.NO_ANSWER)
        # Show a charge that did start as soon as Thor lists it.
        for cancel in self._refresh_timers.pop(connector, []):
            cancel()
        self._refresh_timers[connector] = self._at_confirm_polls(self._refresh_soon)

    @callback
    def _fire_failed(
        self, connector: int, command: ChargeCommand, reason: FailureReason
    ) -> None:
        """Fire `thor_command_failed` for automations and the logbook."""
        self.hass.bus.async_fire(
            EVENT_COMMAND_FAILED,
            {
                "config_entry_id": self.entry.entry_id,
                "chargebox": self.chargebox_id,
                "connector": connector,
                "command": str(command),
                "reason": str(reason),
            },
        )

    @callback
    def _refresh_soon(self, _now: datetime | None = None) -> None:
        """Ask the coordinator for a reading soon (debounced).

        After Thor contradicted the last reading, or after a start that may have begun
        a charge without an answer.
        """
        self.entry.async_create_task(
            self.hass,
            self.coordinator.async_request_refresh(),
            f"{DOMAIN} refresh",
        )

    def _at_confirm_polls(
        self, action: Callable[[datetime], None]
    ) -> list[CALLBACK_TYPE]:
        """Run `action` at each of `CONFIRM_POLLS`; return the cancel callbacks."""
        return [async_call_later(self.hass, delay, action) for delay in CONFIRM_POLLS]

    @callback
    def _set_pending(
        self,
        connector: int,
        command: ChargeCommand,
        result: ChargeResult,
        *,
        awaiting_charge: bool = False,
    ) -> None:
        """Show the requested state and poll quickly until Thor confirms it."""
        if (previous := self._pending.pop(connector, None)) is not None:
            previous.cancel()
        pending = _Pending(
            command=command,
            result=result,
            sent_on=self.coordinator.data,
            awaiting_charge=awaiting_charge,
        )
        self._pending[connector] = pending
        pending.cancel_timers.extend(
            self._at_confirm_polls(partial(self._poll, connector, pending, False))
        )
        pending.cancel_timers.append(
            async_call_later(
                self.hass,
                CONFIRM_WINDOW,
                partial(self._poll, connector, pending, True),
            )
        )
        self.coordinator.async_update_listeners()

    @callback
    def _poll(
        self, connector: int, pending: _Pending, final: bool, _now: datetime
    ) -> None:
        """Refresh the coordinator to see whether a command took effect."""
        self.entry.async_create_task(
            self.hass,
            self._async_poll(connector, pending, final),
            f"{DOMAIN} {pending.command} confirmation poll",
        )

    async def _async_poll(self, connector: int, pending: _Pending, final: bool) -> None:
        """Confirm the command from fresh data; at the deadline, give up on it."""
        await self.coordinator.async_refresh()
        if self._pending.get(connector) is not pending:
            return
        # Listeners hear only of changed data: a poll equal to the last one may
        # still be the first one after the command.
        self._async_confirm(connector)
        if not final or self._pending.get(connector) is not pending:
            return
        pending.cancel()
        del self._pending[connector]
        if pending.awaiting_charge:
            # The charge never began: off is what was asked, and what Thor shows.
            # The stored stop stays until the id_tag is forgotten.
            self.coordinator.async_update_listeners()
            return
        LOGGER.warning(
            "Thor accepted the %s command for connector %s of %s, but running "
            "charges did not confirm it within %d s; showing the real state again",
            pending.command,
            connector,
            self._name(),
            CONFIRM_WINDOW,
        )
        self._fire_failed(connector, pending.command, FailureReason.NOT_CONFIRMED)
        self.coordinator.async_update_listeners()

    @callback
    def _async_confirm(self, connector: int) -> None:
        """End a pending command once the data shows the requested state."""
        pending = self._pending.get(connector)
        if (
            pending is not None
            and not pending.awaiting_charge
            and self.coordinator.last_update_success
            and self.coordinator.data is not pending.sent_on
            and self.charging(connector) is pending.target
        ):
            LOGGER.debug(
                "Thor confirmed %s on connector %s", pending.command, connector
            )
            pending.cancel()
            del self._pending[connector]

    @callback
    def _async_handle_coordinator_update(self) -> None:
        """Confirm pending commands and keep the stored id_tags in step with Thor."""
        if not self.coordinator.last_update_success:
            return
        for connector in list(self._pending):
            self._async_confirm(connector)
        if self._reconcile():
            self.entry.async_create_task(
                self.hass, self._async_save(), f"{DOMAIN} save id_tags"
            )
        for connector, record in self._records.items():
            if (
                record.stop_requested
                and self.charging(connector)
                and connector not in self._deferred_stops
            ):
                self._deferred_stops.add(connector)
                self.entry.async_create_task(
                    self.hass,
                    self._async_deferred_stop(connector),
                    f"{DOMAIN} stop a charge switched off while starting",
                )

    def _reconcile(self) -> bool:
        """Update the stored records from a reading; return True if they changed."""
        data = self.coordinator.data
        # Listeners also hear of pending-state changes: count each reading once.
        fresh = data is not self._last_reading
        self._last_reading = data
        now = dt_util.utcnow()
        changed = False
        for connector, record in list(self._records.items()):
            charge = data.charges.get(connector)
            if charge is None:
                if connector in data.chargebox.occupied_connectors:
                    # Running charges left it out, but the chargebox is busy: the
                    # answers disagree, and the charge may well be running.
                    record.gone_readings = 0
                    continue
                if fresh:
                    record.gone_readings += 1
                forget = record.gone_readings >= GONE_READINGS and (
                    record.confirmed
                    or (
                        connector not in self._pending
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
                del self._records[connector]
                changed = True
        for connector, since in list(self._unanswered.items()):
            if not data.is_occupied(connector) and now - since > UNCONFIRMED_TAG_TTL:
                del self._unanswered[connector]
        return changed

    async def _async_save(self) -> None:
        """Write the id_tags of this chargebox, keeping other chargeboxes' ones."""
        if self._records:
            self._stored[self.chargebox_id] = {
                str(connector): record.as_dict()
                for connector, record in sorted(self._records.items())
            }
        else:
            self._stored.pop(self.chargebox_id, None)
        await self._store.async_save({"charges": dict(self._stored)})
