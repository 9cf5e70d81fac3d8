"""Actions of the Thor integration.

`start_charge` and `stop_charge` command a connector; `get_charge_history` reads the
finished charges, `reserve_connector` reserves a connector until an expiry and
`get_reservations` lists the reservations. Every action names its target the same
way: a chargebox's device, or the account's config entry (then every configured
chargebox where the action reads, the only one where it commands).
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_CONFIG_ENTRY_ID, ATTR_DEVICE_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    service as service_helper,
)
from homeassistant.util import dt as dt_util

from .charge_control import ThorChargeController
from .const import DOMAIN
from .data import ThorAccountData
from .entries import chargebox_subentries
from .errors import FailureContext, async_request_failed, failure_of
from .history import async_charges_ended, currency_of, local_time, read_range
from .runtime import ThorConfigEntry
from .thor_api import (
    FinishedCharge,
    Reservation,
    ThorAlreadyInTransactionError,
    ThorAlreadyReservedError,
    ThorError,
    ThorInvalidConnectorError,
    ThorNotReservableError,
    parse_connector,
)
from .vol import vol

ATTR_CONNECTOR: Final = "connector"
ATTR_START: Final = "start"
ATTR_END: Final = "end"
ATTR_EXPIRY: Final = "expiry"
ATTR_DURATION: Final = "duration"

SERVICE_START_CHARGE: Final = "start_charge"
SERVICE_STOP_CHARGE: Final = "stop_charge"
SERVICE_GET_CHARGE_HISTORY: Final = "get_charge_history"
SERVICE_RESERVE_CONNECTOR: Final = "reserve_connector"
SERVICE_GET_RESERVATIONS: Final = "get_reservations"

MAX_CONNECTOR: Final = 2**31 - 1
"""Largest connector number read, far above any chargebox's: a larger one is refused
as a value (past 4300 digits Python cannot even print it in a message)."""
DEFAULT_HISTORY_DAYS: Final = 30
"""Days before `end` that `get_charge_history` reads when no `start` is given."""
MAX_HISTORY_DAYS: Final = 366
"""Longest history range, days from `start` to `end` inclusive."""
FIRST_HISTORY_DATE: Final = date(2000, 1, 1)
"""Earliest history date: before any charge Thor recorded, far from `date.min`."""
MAX_HISTORY_CHARGES: Final = 500
"""Most charges one `get_charge_history` response holds (newest first)."""
MAX_RESERVATION: Final = timedelta(hours=24)
"""Longest reservation accepted (Thor documents no limit: our assumption)."""
_MAX_RESERVATION_HOURS: Final = str(int(MAX_RESERVATION.total_seconds() // 3600))

_TARGET: Final = {
    vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
    vol.Optional(ATTR_DEVICE_ID): cv.string,
}

SERVICE_SCHEMA: Final = vol.Schema(
    {
        **_TARGET,
        # Checked by `_connector` so that a wrong value gets a translated message.
        vol.Optional(ATTR_CONNECTOR, default=1): cv.match_all,
    }
)
# `cv.date` passes a datetime through: `_local_date` reads it.
HISTORY_SCHEMA: Final = vol.Schema(
    {
        **_TARGET,
        vol.Optional(ATTR_START): cv.date,
        vol.Optional(ATTR_END): cv.date,
    }
)
RESERVE_SCHEMA: Final = vol.Schema(
    {
        **_TARGET,
        vol.Optional(ATTR_CONNECTOR, default=1): cv.match_all,
        vol.Optional(ATTR_EXPIRY): cv.datetime,
        # Read by `_reservation_duration`: `cv.time_period` raises OverflowError on
        # huge values, and a wrong one gets a translated message.
        vol.Optional(ATTR_DURATION): cv.match_all,
    }
)
RESERVATIONS_SCHEMA: Final = vol.Schema(_TARGET)


def _error(key: str, **placeholders: str) -> ServiceValidationError:
    """Build a translated error about the target or the input of an action."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


def _unable(key: str, placeholders: Mapping[str, str]) -> HomeAssistantError:
    """Build a translated error about a chargebox Home Assistant cannot command now."""
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=dict(placeholders),
    )


def _shown(value: Any) -> str:
    """Return a value given to an action as a message quotes it (50 characters)."""
    try:
        text = str(value)
    except ValueError:  # An integer too long for Python to print.
        text = "…"
    return text[:50]


def _connector(value: Any) -> int:
    """Return the connector number of an action: a whole number from 1.

    1, "1" and 2.0 are accepted; 0, 1.5, "1.5", true and "one" are not. Whether the
    chargebox has it is checked later.
    """
    number = parse_connector(value)
    if number is None or number > MAX_CONNECTOR:
        raise _error("invalid_connector_value", value=_shown(value))
    return number


def _loaded(entry: ThorConfigEntry) -> ThorConfigEntry:
    """Return a device's entry if it is loaded, else refuse the action."""
    if entry.state is not ConfigEntryState.LOADED:
        raise _error("service_entry_not_loaded", entry=entry.title)
    return entry


def _entry_of_chargebox(
    hass: HomeAssistant, chargebox_id: str
) -> ThorConfigEntry | None:
    """Return the account entry that has the chargebox as a subentry."""
    return next(
        (
            entry
            for entry in hass.config_entries.async_entries(DOMAIN)
            if chargebox_id in chargebox_subentries(entry)
        ),
        None,
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class _Target:
    """What an action acts on: a loaded account entry and some of its chargeboxes."""

    entry: ThorConfigEntry
    controllers: list[ThorChargeController]
    """The configured chargeboxes named, in the order of the entry's subentries."""
    by_device: bool
    """True when a device named the (one) chargebox, False for the whole entry."""

    @property
    def chargebox_ids(self) -> list[str]:
        """Return the ids of the chargeboxes named."""
        return [controller.chargebox_id for controller in self.controllers]

    def name(self, chargebox_id: str) -> str:
        """Return the name of a chargebox for responses and messages."""
        return self.entry.runtime_data.coordinator.name_of(chargebox_id)

    def single(self) -> ThorChargeController:
        """Return the one chargebox, refusing an entry with several (or none)."""
        if len(self.controllers) != 1:
            # An account with several chargeboxes: the entry alone does not say which.
            raise _error(
                "service_entry_ambiguous",
                entry=self.entry.title,
                count=str(len(self.controllers)),
            )
        return self.controllers[0]

    async def async_failed(
        self,
        err: ThorError,
        placeholders: Mapping[str, str],
        context: FailureContext | None = None,
    ) -> HomeAssistantError:
        """Return the message for a request Thor did not carry out."""
        return await async_request_failed(self.entry, err, placeholders, context)

    def placeholders(
        self, chargebox_id: str | None, connector: int | None = None
    ) -> dict[str, str]:
        """Return what the messages about a chargebox (or all of them) may use."""
        coordinator = self.entry.runtime_data.coordinator
        # None until the first poll succeeded, whatever the type says.
        data: ThorAccountData | None = coordinator.data
        reading = (
            None if data is None or chargebox_id is None else data.get(chargebox_id)
        )
        return {
            "chargebox": coordinator.name_of(chargebox_id),
            "chargebox_id": chargebox_id or ", ".join(self.chargebox_ids),
            "connector": "" if connector is None else str(connector),
            "count": str(0 if reading is None else len(reading.chargebox.connectors)),
        }


@callback
def _async_resolve(call: ServiceCall) -> _Target:
    """Return the loaded entry and the configured chargeboxes an action names."""
    hass = call.hass
    entry_id: str | None = call.data.get(ATTR_CONFIG_ENTRY_ID)
    device_id: str | None = call.data.get(ATTR_DEVICE_ID)
    if (entry_id is None) is (device_id is None):
        raise _error("service_target_required")
    if device_id is not None:
        # A chargebox's device is identified by the chargebox id, in any Thor entry.
        device = dr.async_get(hass).async_get(device_id)
        chargebox_id = next(
            (
                identifier
                for domain, identifier in (device.identifiers if device else ())
                if domain == DOMAIN
            ),
            None,
        )
        entry = (
            None if chargebox_id is None else _entry_of_chargebox(hass, chargebox_id)
        )
        if chargebox_id is None or entry is None:
            raise _error("service_device_not_found", device_id=device_id)
        controller = _loaded(entry).runtime_data.controller_of(chargebox_id)
        if controller is None:  # Removed since the entry was loaded.
            raise _error("service_device_not_found", device_id=device_id)
        return _Target(entry=entry, controllers=[controller], by_device=True)
    # Home Assistant's own messages for an entry missing, of another domain or not
    # loaded.
    found: ThorConfigEntry = service_helper.async_get_config_entry(
        hass, DOMAIN, entry_id
    )
    return _Target(
        entry=found,
        controllers=list(found.runtime_data.controllers.values()),
        by_device=False,
    )


@callback
def _async_get_controller(call: ServiceCall) -> ThorChargeController:
    """Return the controller of the one chargebox the action names."""
    return _async_resolve(call).single()


def _iso(when: datetime | None) -> str | None:
    """Return a time in Home Assistant's time zone as ISO 8601, None stays None."""
    return None if when is None else local_time(when).isoformat()


# ------------------------------------------------------------------- history


def _local_date(value: date) -> date:
    """Return a date given to an action as a local date.

    A datetime (from a Python caller) stands for its date in Home Assistant's time
    zone; a naive one is a wall time there.
    """
    if not isinstance(value, datetime):
        return value
    return (value if value.tzinfo is None else local_time(value)).date()


def _history_range(call: ServiceCall) -> tuple[date, date]:
    """Return the local dates the history covers.

    Dates no charge can have ended on, a reversed range and a too long one are refused.
    """
    today = dt_util.now().date()
    given = {
        name: _local_date(value)
        for name in (ATTR_START, ATTR_END)
        if (value := call.data.get(name)) is not None
    }
    for day in given.values():
        if not FIRST_HISTORY_DATE <= day <= today:
            raise _error(
                "history_date_out_of_range",
                date=day.isoformat(),
                first=FIRST_HISTORY_DATE.isoformat(),
                last=today.isoformat(),
            )
    end = given.get(ATTR_END, today)
    start = given.get(ATTR_START, end - timedelta(days=DEFAULT_HISTORY_DAYS))
    if end < start:
        raise _error(
            "history_range_invalid", start=start.isoformat(), end=end.isoformat()
        )
    if (days := (end - start).days + 1) > MAX_HISTORY_DAYS:
        raise _error(
            "history_range_too_long", days=str(days), max_days=str(MAX_HISTORY_DAYS)
        )
    return start, end


def _history_item(target: _Target, charge: FinishedCharge) -> dict[str, Any]:
    """Return a charge for the response; never its id_tag (it can stop charges)."""
    started, ended = charge.date_started, charge.date_finished
    payment = charge.payment
    return {
        "chargebox": charge.chargebox,
        "chargebox_name": target.name(charge.chargebox),
        "connector": charge.connector,
        "transaction": charge.id,
        "started": _iso(started),
        "ended": _iso(ended),
        "energy_kwh": None if charge.energy is None else round(charge.energy / 1000, 3),
        "duration_minutes": (
            None
            if started is None or ended is None
            else round((ended - started).total_seconds() / 60, 1)
        ),
        "cost": None if payment is None else payment.price,
        "currency": currency_of(payment),
        "started_by": charge.type,
    }


async def _async_charge_history(call: ServiceCall) -> ServiceResponse:
    """Return the charges that ended within the requested local dates, newest first."""
    start, end = _history_range(call)
    target = _async_resolve(call)
    wanted = set(target.chargebox_ids)
    # A device: that chargebox only. The entry: the whole account.
    only = target.chargebox_ids[0] if target.by_device else None
    try:
        ordered = await async_charges_ended(
            target.entry.runtime_data.client, start, end, wanted, only
        )
    except ThorError as err:
        first, last = read_range(start, end)
        raise await target.async_failed(
            err,
            {
                **target.placeholders(only),
                "start": first.isoformat(),
                "end": last.isoformat(),
            },
            FailureContext.HISTORY,
        ) from err
    return {
        "charges": [
            _history_item(target, charge) for charge in ordered[:MAX_HISTORY_CHARGES]
        ],
        "count": min(len(ordered), MAX_HISTORY_CHARGES),
        "truncated": len(ordered) > MAX_HISTORY_CHARGES,
    }


# -------------------------------------------------------------- reservations


def _reservation_item(target: _Target, reservation: Reservation) -> dict[str, Any]:
    """Return a reservation for a response, with the id_tag that may charge on it."""
    return {
        "chargebox": reservation.chargebox,
        "chargebox_name": target.name(reservation.chargebox),
        "connector": reservation.connector,
        "expiry": _iso(reservation.expiry_date),
        "accepted": _iso(reservation.date_accepted),
        "status": reservation.status,
        "user": reservation.user,
        "id_tag": reservation.id_tag,
    }


def _duration_text(duration: timedelta) -> str:
    """Return a duration as a message shows it: H:MM:SS."""
    seconds = round(duration.total_seconds())
    hours, rest = divmod(abs(seconds), 3600)
    return f"{'-' if seconds < 0 else ''}{hours}:{rest // 60:02}:{rest % 60:02}"


def _reservation_duration(value: Any) -> timedelta:
    """Return how long a reservation asked for lasts: more than 0, at most the limit."""
    duration: timedelta | None = None
    # True would be read as one second.
    if not isinstance(value, bool):
        try:
            duration = cv.time_period(value)
        except vol.Invalid, OverflowError:
            duration = None
    if duration is None or not timedelta(0) < duration <= MAX_RESERVATION:
        raise _error(
            "reservation_duration_invalid",
            duration=_shown(value) if duration is None else _duration_text(duration),
            max_hours=_MAX_RESERVATION_HOURS,
        )
    return duration


def _reservation_expiry(call: ServiceCall) -> datetime:
    """Return the aware expiry an action asks for, refusing one Thor should not get."""
    expiry: datetime | None = call.data.get(ATTR_EXPIRY)
    duration: Any = call.data.get(ATTR_DURATION)
    if (expiry is None) is (duration is None):
        raise _error("reservation_time_required")
    now = dt_util.utcnow()
    if expiry is None:
        return now + _reservation_duration(duration)
    if expiry.tzinfo is None:
        # A datetime selector sends local wall time.
        expiry = expiry.replace(tzinfo=dt_util.get_default_time_zone())
    if expiry <= now:
        raise _error("reservation_expiry_past", expiry=_iso(expiry) or "")
    if expiry > now + MAX_RESERVATION:
        raise _error(
            "reservation_too_long",
            expiry=_iso(expiry) or "",
            max_hours=_MAX_RESERVATION_HOURS,
        )
    return expiry


async def _async_reserve(call: ServiceCall) -> ServiceResponse:
    """Reserve a connector until its expiry (Thor has no way to cancel it)."""
    connector = _connector(call.data[ATTR_CONNECTOR])
    expiry = _reservation_expiry(call)
    target = _async_resolve(call)
    chargebox_id = target.single().chargebox_id
    coordinator = target.entry.runtime_data.coordinator
    placeholders = target.placeholders(chargebox_id, connector)
    data: ThorAccountData | None = coordinator.data
    reading = None if data is None else data.get(chargebox_id)
    if reading is None:
        raise _unable("chargebox_unavailable", placeholders)
    box = reading.chargebox
    # What the last reading shows Thor would refuse is refused as Thor would be.
    for refused, error_type in (
        (not 1 <= connector <= len(box.connectors), ThorInvalidConnectorError),
        (box.reservable is False, ThorNotReservableError),
        (reading.is_occupied(connector), ThorAlreadyInTransactionError),
        (connector in box.reserved_connectors, ThorAlreadyReservedError),
    ):
        if refused:
            failure = failure_of(error_type, FailureContext.RESERVATION)
            raise failure.exception(placeholders)
    if box.connected is False:
        raise _unable("chargebox_offline", placeholders)
    client = target.entry.runtime_data.client
    try:
        reservation = await client.reserve_now(chargebox_id, connector, expiry)
    except ThorError as err:
        raise await target.async_failed(
            err, placeholders, FailureContext.RESERVATION
        ) from err
    # The reserved binary sensor turns on with the next reading.
    await coordinator.async_request_refresh()
    if reservation is None:
        # Thor's answer is undocumented; it said nothing usable: what was sent.
        return {
            "reserved": True,
            "chargebox": chargebox_id,
            "chargebox_name": target.name(chargebox_id),
            "connector": connector,
            "expiry": _iso(expiry),
        }
    return _reservation_item(target, reservation)


async def _async_reservations(call: ServiceCall) -> ServiceResponse:
    """List the reservations of the chargebox, or of every configured one."""
    target = _async_resolve(call)
    wanted = set(target.chargebox_ids)
    only = target.chargebox_ids[0] if target.by_device else None
    try:
        reservations = await target.entry.runtime_data.client.reservations(only)
    except ThorError as err:
        raise await target.async_failed(err, target.placeholders(only)) from err
    listed = sorted(
        (r for r in reservations if r.chargebox in wanted),
        key=lambda r: (
            r.expiry_date is None,
            r.expiry_date or dt_util.utcnow(),
            r.chargebox,
            r.connector,
        ),
    )
    return {"reservations": [_reservation_item(target, r) for r in listed]}


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions."""

    async def _async_start_charge(call: ServiceCall) -> ServiceResponse:
        connector = _connector(call.data[ATTR_CONNECTOR])
        controller = _async_get_controller(call)
        result = await controller.async_start(connector)
        return None if result is None else result.as_response()

    async def _async_stop_charge(call: ServiceCall) -> ServiceResponse:
        connector = _connector(call.data[ATTR_CONNECTOR])
        controller = _async_get_controller(call)
        result = await controller.async_stop(connector)
        return None if result is None else result.as_response()

    for service, handler, schema, supports_response in (
        (
            SERVICE_START_CHARGE,
            _async_start_charge,
            SERVICE_SCHEMA,
            SupportsResponse.OPTIONAL,
        ),
        (
            SERVICE_STOP_CHARGE,
            _async_stop_charge,
            SERVICE_SCHEMA,
            SupportsResponse.OPTIONAL,
        ),
        (
            SERVICE_GET_CHARGE_HISTORY,
            _async_charge_history,
            HISTORY_SCHEMA,
            SupportsResponse.ONLY,
        ),
        (
            SERVICE_RESERVE_CONNECTOR,
            _async_reserve,
            RESERVE_SCHEMA,
            SupportsResponse.OPTIONAL,
        ),
        (
            SERVICE_GET_RESERVATIONS,
            _async_reservations,
            RESERVATIONS_SCHEMA,
            SupportsResponse.ONLY,
        ),
    ):
        hass.services.async_register(
            DOMAIN,
            service,
            handler,
            schema=schema,
            supports_response=supports_response,
        )
