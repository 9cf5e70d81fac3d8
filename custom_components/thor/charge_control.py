"""The command state machine of one chargebox: start, stop, pending, confirm, expire.

Thor returns an `id_tag` for every API start and needs it again to stop the charge, but
running charges show `id_tag: null` for API and app starts. The id_tag is therefore kept
in the entry's store (`store.py`, which also decides when it is forgotten), written
before the start returns. A start whose answer is lost has no id_tag to keep: the user
is told the charge may have started and must then be stopped outside Home Assistant
(unless Thor's start notification brings the id_tag).

The controller outlives reloads of its entry (`entries.py` keeps it): a command whose
answer arrives during a reload, and the commands awaiting confirmation, carry over to
the reloaded entry. Detached (entry unloaded), it runs no timer and sends no read.

A 200 from Thor only means "forwarded to the chargebox". After a command the switch
shows the requested state at once (pending), and this chargebox's running charges alone
(one request) are read every `CONFIRM_INTERVAL` for `CONFIRM_FAST_PERIOD`, then every
`CONFIRM_SLOW_INTERVAL`: a chargebox that acts after d seconds is confirmed by d + 2 s
(d + 10 s past the first minute). A
reading that still shows the old state does not flip the switch back. When
`CONFIRM_WINDOW` passes without confirmation the switch shows the real state again, one
warning is logged and `thor_command_failed` is fired.

Commands on one connector are serialised by a lock, and the switch and the actions make
their decision under it: a stop issued while a start is in flight waits for the start's
answer and then stops that charge. If the chargebox has not begun it yet (Thor answers
`NotInTransaction`), the stop is remembered with the id_tag and sent as soon as the charge
shows up. A command that repeats the one in flight or awaiting confirmation sends nothing
and returns the result of the first one, so a double tap or a repeated voice command
starts one charge only. Connector numbers are checked before anything is allocated.
"""

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
import math
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry
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
from homeassistant.util import dt as dt_util

from .const import DOMAIN, LOGGER
from .coordinator import ThorDataUpdateCoordinator
from .data import Notice, NoticeKind, ThorData
from .errors import FailureKind, classify, failure_of
from .store import UNCONFIRMED_TAG_TTL, ChargeRecord, ThorChargeStore
from .thor_api import (
    ThorAlreadyInTransactionError,
    ThorClient,
    ThorError,
    ThorInvalidConnectorError,
    ThorNotInTransactionError,
    ThorWrongTransactionError,
)

EVENT_COMMAND_FAILED: Final = f"{DOMAIN}_command_failed"

PUSH_CONFIRM_WAIT: Final = 3.0
"""Seconds a command waits for Thor's notification before confirmation reads start."""
CONFIRM_INTERVAL: Final = 1.5
"""Seconds between reads of the running charges while a command awaits confirmation.

Under 2 s, so that a chargebox acting after d seconds is confirmed by d + 2 s even with
the time the read itself takes.
"""
CONFIRM_FAST_PERIOD: Final = 60.0
"""Seconds after a command during which `CONFIRM_INTERVAL` holds.

Chargeboxes usually act within seconds; a minute also covers a slow plug-in check.
"""
CONFIRM_SLOW_INTERVAL: Final = 10.0
"""Seconds between reads after `CONFIRM_FAST_PERIOD`, until `CONFIRM_WINDOW` ends."""
CONFIRM_WINDOW: Final = 120.0
"""Seconds a command may take to show up in running charges."""


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
    REJECTED = "rejected"
    """Thor's notification said the chargebox rejected the command."""
    RATE_LIMITED = "rate_limited"
    """Thor's throttle (429) refused it; `retry_after` says for how many seconds."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ChargeResult:
    """The id_tag of a charge and, when known, its transaction number."""

    id_tag: str
    transaction: int | None

    def as_response(self) -> ServiceResponse:
        """Return the result as an action response."""
        return {"id_tag": self.id_tag, "transaction": self.transaction}


@dataclass(kw_only=True, slots=True)
class _Pending:
    """A command Thor accepted that running charges do not show yet."""

    command: ChargeCommand
    result: ChargeResult
    sent_on: ThorData | None
    """The data shown when the command was sent: it cannot confirm the command."""
    deadline: datetime
    """When the command is given up if nothing confirmed it."""
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
        self, hass: HomeAssistant, *, store: ThorChargeStore, chargebox_id: str
    ) -> None:
        """Prepare the controller; `attach` it to a loaded entry before use."""
        self.hass = hass
        self.chargebox_id = chargebox_id
        self._store = store
        self._records = store.records(chargebox_id)
        self._pending: dict[int, _Pending] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._unanswered: dict[int, datetime] = {}
        """Connectors whose start got no answer, and when."""
        self._watch_since: datetime | None = None
        """When the current run of quick reads began; None when none runs."""
        self._watch_timer: CALLBACK_TYPE | None = None
        self._deferred_stops: set[int] = set()
        self._last_reading: ThorData | None = None
        self._attached = False

    @callback
    def attach(
        self,
        entry: ConfigEntry,
        coordinator: ThorDataUpdateCoordinator,
        client: ThorClient,
    ) -> None:
        """Follow a (re)loaded entry: its coordinator, its client, its lifetime.

        Called before the first poll, so that stored id_tags make it read the
        running charges. Commands still awaiting confirmation resume their deadline
        and their quick reads.
        """
        self.entry = entry
        self.coordinator = coordinator
        self.client = client
        self._records = self._store.records(self.chargebox_id)
        self._attached = True
        entry.async_on_unload(
            coordinator.async_add_listener(
                self._async_handle_coordinator_update, self.chargebox_id
            )
        )
        entry.async_on_unload(coordinator.async_add_charge_watcher(self._wants_charges))
        entry.async_on_unload(
            self.hass.bus.async_listen(
                EVENT_HOMEASSISTANT_STOP, self._async_cancel_pending
            )
        )
        entry.async_on_unload(self.detach)
        for connector, pending in self._pending.items():
            self._arm_deadline(connector, pending)
        if self._watching():
            self._watch()

    @callback
    def detach(self) -> None:
        """Stop every timer and read: the entry unloads (it may come back)."""
        self._attached = False
        for pending in self._pending.values():
            pending.cancel()
        if self._watch_timer is not None:
            self._watch_timer()
            self._watch_timer = None
        self._watch_since = None

    @callback
    def _refresh(self, connector: int) -> None:
        """Tell a connector's entities that what they show changed."""
        if self._attached:
            self.coordinator.async_update_chargebox(self.chargebox_id, connector)

    def _wants_charges(self) -> bool:
        """Return whether polls must read running charges for this chargebox."""
        return bool(self._records or self._pending or self._unanswered)

    @callback
    def _async_cancel_pending(self, _event: Event | None = None) -> None:
        """Home Assistant stops: forget the commands awaiting confirmation."""
        self.detach()
        self._pending.clear()

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
            "rate_limited_for": self.client.backoff.remaining(),
        }

    @property
    def reading(self) -> ThorData | None:
        """Return the last reading of the chargebox, None if Thor did not list it."""
        # None until the first poll succeeded, whatever the type says.
        data = self.coordinator.data
        return None if data is None else data.get(self.chargebox_id)

    def _current(self, connector: int) -> ThorData:
        """Return the last reading, refusing a command when there is none."""
        if (reading := self.reading) is None:
            raise self._error("chargebox_unavailable", connector)
        return reading

    def charging(self, connector: int) -> bool:
        """Return whether Thor shows a transaction on the connector."""
        reading = self.reading
        return reading is not None and reading.is_occupied(connector)

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
            if (done := self._preamble(connector, ChargeCommand.START, skip_if_on))[0]:
                return done[1]
            if connector not in self._pending and self.charging(connector):
                raise self._refused(ThorAlreadyInTransactionError, connector)
            try:
                id_tag = await self.client.start_charge(self.chargebox_id, connector)
            except ThorError as err:
                raise self._command_failed(err, connector, ChargeCommand.START) from err
            self._unanswered.pop(connector, None)
            self._records[connector] = ChargeRecord(
                id_tag=id_tag, requested=dt_util.utcnow()
            )
            # The id_tag is the only way to stop this charge: on disk before returning.
            await self._store.async_save()
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
            if (done := self._preamble(connector, ChargeCommand.STOP, skip_if_off))[0]:
                return done[1]
            charge = self._current(connector).charges.get(connector)
            record = self._records.get(connector)
            if charge is not None and charge.id_tag:
                id_tag, transaction = charge.id_tag, charge.id
            elif record is not None:
                id_tag, transaction = record.id_tag, record.transaction
            elif self.charging(connector):
                raise self._error(
                    "stop_unanswered_start"
                    if connector in self._unanswered
                    else "id_tag_lost"
                    if self._store.lost(self.chargebox_id, connector)
                    else "charge_started_elsewhere",
                    connector,
                    validation=True,
                )
            else:
                raise self._refused(ThorNotInTransactionError, connector)
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
                await self._store.async_save()
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

    def _preamble(
        self, connector: int, command: ChargeCommand, skip: bool
    ) -> tuple[bool, ChargeResult | None]:
        """Decide, under the connector's lock, whether a command must be sent.

        Return (True, result) when it must not: it repeats the command in flight or
        awaiting confirmation (its result is returned, so a double tap or a repeated
        voice command acts once), or `skip` (the switch) and the connector already
        shows what it asks. Refuse a command an offline chargebox could not receive.
        """
        pending = self._pending.get(connector)
        if pending is not None and pending.command is command:
            LOGGER.debug("%s on connector %s already sent", command, connector)
            return True, None if skip else pending.result
        if skip and self.is_on(connector) is (command is ChargeCommand.START):
            return True, None
        self._check_online(connector)
        return False, None

    async def _async_send_stop(
        self, connector: int, id_tag: str, transaction: int | None
    ) -> None:
        """Send a stop; retry without the transaction number if Thor refuses it."""
        client = self.client
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
                await self._store.async_save()
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
                    self._refresh(connector)
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
        return self.coordinator.name_of(self.chargebox_id)

    def _placeholders(self, connector: int) -> dict[str, str]:
        """Return what every message about a connector of this chargebox names."""
        return {
            "chargebox": self._name(),
            "chargebox_id": self.chargebox_id,
            "connector": str(connector),
            "count": str(
                0
                if (reading := self.reading) is None
                else len(reading.chargebox.connectors)
            ),
        }

    def _refused(
        self, error_type: type[ThorError], connector: int
    ) -> HomeAssistantError:
        """Refuse what the last reading shows Thor would refuse, as Thor would."""
        return failure_of(error_type).exception(self._placeholders(connector))

    def _error(
        self,
        key: str,
        connector: int,
        *,
        validation: bool = False,
        **placeholders: str,
    ) -> HomeAssistantError:
        """Build a translated error of this integration about a connector."""
        cls = ServiceValidationError if validation else HomeAssistantError
        return cls(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders={**self._placeholders(connector), **placeholders},
        )

    def _check_connector(self, connector: int) -> None:
        """Refuse a connector the chargebox does not have, before allocating anything."""
        # The actions have already refused anything that is not a whole number.
        if not 1 <= connector <= len(self._current(connector).chargebox.connectors):
            raise self._refused(ThorInvalidConnectorError, connector)

    def _check_online(self, connector: int) -> None:
        """Refuse a command an offline chargebox could not receive."""
        if self._current(connector).chargebox.connected is False:
            raise self._error("chargebox_offline", connector)

    def _command_failed(
        self, err: ThorError, connector: int, command: ChargeCommand
    ) -> HomeAssistantError:
        """Return the message for a command Thor did not carry out."""
        failure = classify(err)
        if failure.kind is FailureKind.AUTH:
            self.entry.async_start_reauth(self.hass)
        if failure.stale:
            self._read_soon(connector)
        if failure.retry_after is not None:
            # Automations (the solar blueprint) wait for the throttle instead of
            # sending commands Thor refuses.
            self._fire_failed(
                connector,
                command,
                FailureReason.RATE_LIMITED,
                retry_after=math.ceil(failure.retry_after),
            )
        if command is ChargeCommand.START and failure.kind in (
            FailureKind.TRANSIENT,
            FailureKind.MALFORMED,
        ):
            # Thor may have acted on the start before its answer was lost.
            self._start_unanswered(connector, failure.error)
            return self._error("start_unanswered", connector, error=failure.error)
        return failure.exception(self._placeholders(connector))

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
        self._watch()

    @callback
    def _fire_failed(
        self,
        connector: int,
        command: ChargeCommand,
        reason: FailureReason,
        *,
        retry_after: int | None = None,
    ) -> None:
        """Fire `thor_command_failed` for automations and the logbook."""
        data: dict[str, Any] = {
            "config_entry_id": self.entry.entry_id,
            "chargebox": self.chargebox_id,
            "connector": connector,
            "command": str(command),
            "reason": str(reason),
        }
        if retry_after is not None:
            data["retry_after"] = retry_after
        self.hass.bus.async_fire(EVENT_COMMAND_FAILED, data)

    @callback
    def _read_soon(self, connector: int) -> None:
        """Read the running charges now: Thor contradicted the reading of a connector."""
        if self._attached:
            self.entry.async_create_task(
                self.hass,
                self._async_read_charges(connector),
                f"{DOMAIN} read running charges",
            )

    async def _async_read_charges(self, connector: int | None = None) -> None:
        """Ask the coordinator to read this chargebox's running charges (1 request).

        They decide whether the connectors awaiting a command, and `connector`, are
        occupied.
        """
        await self.coordinator.async_confirmation_read(
            self.chargebox_id,
            awaited={*self._pending, *(() if connector is None else (connector,))},
        )

    def _watching(self) -> bool:
        """Return whether a command or an unanswered start awaits the chargebox."""
        now = dt_util.utcnow()
        return bool(self._pending) or any(
            (now - since).total_seconds() < CONFIRM_WINDOW
            for since in self._unanswered.values()
        )

    @callback
    def _watch(self) -> None:
        """Start a run of quick reads, until nothing awaits the chargebox.

        While Thor's notifications arrive, the first read waits a little longer:
        a notification usually confirms the command before it.
        """
        if not self._attached:
            return  # Resumed by `attach`.
        self._watch_since = dt_util.utcnow()
        self._schedule_read(
            PUSH_CONFIRM_WAIT if self.coordinator.push_healthy else CONFIRM_INTERVAL
        )

    @callback
    def _async_learn(self, notice: Notice) -> None:
        """Learn from a notification the coordinator accepted for this chargebox."""
        connector = notice.connector
        if notice.kind is NoticeKind.STARTED:
            if self._store.learn_start(
                self.chargebox_id, connector, notice.id_tag, notice.transaction
            ):
                self._unanswered.pop(connector, None)
                self._save_soon()
            return
        command = (
            ChargeCommand.START
            if notice.kind is NoticeKind.START_REJECTED
            else ChargeCommand.STOP
        )
        pending = self._pending.get(connector)
        if pending is None or pending.command is not command:
            return  # Not ours, or a duplicate: nothing to revert.
        pending.cancel()
        del self._pending[connector]
        record = self._records.get(connector)
        if command is ChargeCommand.START and record and not record.confirmed:
            del self._records[connector]  # No charge will ever use it.
            self._save_soon()
        LOGGER.warning(
            "The chargebox %s rejected the %s command for connector %s",
            self._name(),
            command,
            connector,
        )
        self._fire_failed(connector, command, FailureReason.REJECTED)
        self._refresh(connector)

    @callback
    def _save_soon(self) -> None:
        """Write the id_tags in the background."""
        self.hass.async_create_task(
            self._store.async_save(), f"{DOMAIN} save id_tags", eager_start=True
        )

    @callback
    def _schedule_read(self, delay: float) -> None:
        """Read the running charges in `delay` seconds (replacing a planned read)."""
        if self._watch_timer is not None:
            self._watch_timer()
            self._watch_timer = None
        if self._attached:
            self._watch_timer = async_call_later(self.hass, delay, self._read_now)

    @callback
    def _read_now(self, _now: datetime) -> None:
        """Run the planned quick read."""
        self._watch_timer = None
        self.entry.async_create_task(
            self.hass, self._async_quick_read(), f"{DOMAIN} confirmation read"
        )

    async def _async_quick_read(self) -> None:
        """Read the running charges and plan the next read while something awaits."""
        if not self._attached or not self._watching() or self._watch_since is None:
            self._watch_since = None
            return
        if wait := self.coordinator.throttled_for():
            # Thor asked for silence: the confirmation waits with everything else
            # (`throttled_for` keeps a floor: no busy loop on the last split second).
            self._schedule_read(wait)
            return
        await self._async_read_charges()
        if self._watch_timer is not None:
            return  # A new command planned its own reads meanwhile.
        if not self._watching():
            self._watch_since = None
            return
        elapsed = (dt_util.utcnow() - self._watch_since).total_seconds()
        self._schedule_read(
            CONFIRM_INTERVAL if elapsed < CONFIRM_FAST_PERIOD else CONFIRM_SLOW_INTERVAL
        )

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
            sent_on=self.reading,
            deadline=dt_util.utcnow() + timedelta(seconds=CONFIRM_WINDOW),
            awaiting_charge=awaiting_charge,
        )
        self._pending[connector] = pending
        self._arm_deadline(connector, pending)
        self._watch()
        self._refresh(connector)

    @callback
    def _arm_deadline(self, connector: int, pending: _Pending) -> None:
        """Give the command a last look at its deadline (when attached)."""
        if not self._attached:
            return
        delay = (pending.deadline - dt_util.utcnow()).total_seconds()
        pending.cancel_timers.append(
            async_call_later(
                self.hass, max(0.0, delay), partial(self._expire, connector, pending)
            )
        )

    @callback
    def _expire(self, connector: int, pending: _Pending, _now: datetime) -> None:
        """Give a command a last reading at the end of its window."""
        if not self._attached:
            return
        self.entry.async_create_task(
            self.hass,
            self._async_expire(connector, pending),
            f"{DOMAIN} {pending.command} confirmation deadline",
        )

    async def _async_expire(self, connector: int, pending: _Pending) -> None:
        """Read once more; give up on the command if it is still not confirmed."""
        if self._pending.get(connector) is pending and (
            wait := self.coordinator.throttled_for()
        ):
            # Thor asked for silence: the command is not failed before one last look.
            pending.cancel_timers.append(
                async_call_later(
                    self.hass,
                    wait,
                    partial(self._expire, connector, pending),
                )
            )
            return
        if self._pending.get(connector) is pending:
            await self._async_read_charges()
        if self._pending.get(connector) is not pending:
            return
        pending.cancel()
        del self._pending[connector]
        if pending.awaiting_charge:
            # The charge never began: off is what was asked, and what Thor shows.
            # The stored stop stays until the id_tag is forgotten.
            self._refresh(connector)
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
        self._refresh(connector)

    @callback
    def _async_confirm(self, connector: int) -> None:
        """End a pending command once the data shows the requested state."""
        pending = self._pending.get(connector)
        if (
            pending is not None
            and not pending.awaiting_charge
            and self.coordinator.last_update_success
            and (reading := self.reading) is not None
            and reading is not pending.sent_on
            and reading.is_occupied(connector) is pending.target
        ):
            LOGGER.debug(
                "Thor confirmed %s on connector %s", pending.command, connector
            )
            pending.cancel()
            del self._pending[connector]

    @callback
    def _async_handle_coordinator_update(self) -> None:
        """Learn from a new reading: notices, confirmations, the stored id_tags."""
        if (
            not self.coordinator.last_update_success
            or (reading := self.reading) is None
        ):
            return
        # Listeners also hear of pending-state changes: take each reading once.
        fresh = reading is not self._last_reading
        self._last_reading = reading
        if fresh and reading.notice is not None:
            self._async_learn(reading.notice)
        for connector in list(self._pending):
            self._async_confirm(connector)
        # Only Thor's API may make Home Assistant forget an id_tag: a notification
        # proves nothing (it may be a replay, or forged).
        if fresh and reading.polled:
            if self._store.reconcile(self.chargebox_id, reading, self._pending):
                self._save_soon()
            now = dt_util.utcnow()
            for connector, since in list(self._unanswered.items()):
                if not reading.is_occupied(connector) and now - since > (
                    UNCONFIRMED_TAG_TTL
                ):
                    del self._unanswered[connector]
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
