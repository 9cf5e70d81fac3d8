"""Push: Thor's start, stop and meter-value notifications through a webhook.

Thor POSTs a notification to the address the operator enters in the Thor dashboard
(Development page: Start charge, Stop charge, Meter Values). Each account entry with
push switched on (its options) has a webhook with a random id kept in the entry; its
address is a Home Assistant Cloud cloudhook when Cloud is logged in, else the
instance's external URL. The webhook id is the only secret a notification carries
(Thor documents no signature): it is never logged, and diagnostics redact it.

A notification never sends a command. It confirms or reverts a pending command at
once, records charges started or stopped elsewhere, keeps the id_tag of a charge
whose start answer was lost, and brings measured power. Polling stays the fallback:
slower while notifications arrive, back to its pace (with a repair issue) when
polling sees what no notification said.
"""

from collections.abc import Callable
import contextlib
from dataclasses import replace
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web
from homeassistant.components import webhook
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.util import dt as dt_util

from .const import CONF_PUSH, DOMAIN, LOGGER
from .coordinator import issue_id
from .thor_api import RunningCharge
from .thor_api.notifications import (
    MAX_NOTIFICATION_BYTES,
    MetersNotification,
    Notification,
    StartNotification,
    StopNotification,
    ThorNotificationError,
    parse_notification,
)

if TYPE_CHECKING:
    from .runtime import ThorRuntimeData

ISSUE_PUSH_NOT_ARRIVING: Final = "push_not_arriving"
PUSH_GRACE: Final = timedelta(seconds=60)
"""How long polling may see a charge (or confirm a command) before a notification
should have told: past it, notifications are taken as not arriving."""
PUSH_IDLE_INTERVAL: Final = timedelta(minutes=5)
"""Idle poll interval while notifications arrive."""
_FORGET: Final = timedelta(days=1)

type _Key = tuple[str, int, int | None]
"""A charge: chargebox, connector, transaction."""


def push_enabled(entry: ConfigEntry) -> bool:
    """Return whether the entry has push switched on (and a webhook id)."""
    return bool(entry.options.get(CONF_PUSH)) and bool(
        entry.options.get(CONF_WEBHOOK_ID)
    )


class PushUnavailableError(Exception):
    """No address Thor could reach: neither Home Assistant Cloud nor an external URL."""


def _cloud_api(hass: HomeAssistant) -> Any:
    """Return Home Assistant Cloud's module, None when Cloud is not set up.

    Imported only then: its requirements are installed only with it.
    """
    if "cloud" not in hass.config.components:
        return None
    from homeassistant.components import cloud  # noqa: PLC0415

    return cloud


def _cloud(hass: HomeAssistant) -> Any:
    """Return Cloud's module when it can give a cloudhook (logged in), else None."""
    cloud = _cloud_api(hass)
    if (
        cloud is not None
        and cloud.async_active_subscription(hass)
        and cloud.async_is_logged_in(hass)
    ):
        return cloud
    return None


async def async_webhook_url(hass: HomeAssistant, webhook_id: str) -> str:
    """Return the address to give Thor: a cloudhook, else the external URL.

    The cloudhook is created when there is none yet (Cloud keeps one per webhook id).
    """
    if (cloud := _cloud(hass)) is not None:
        url: str = await cloud.async_get_or_create_cloudhook(hass, webhook_id)
        return url
    try:
        return webhook.async_generate_url(
            hass, webhook_id, allow_internal=False, prefer_external=True
        )
    except NoURLAvailableError as err:
        raise PushUnavailableError from err


async def async_delete_cloudhook(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Delete the cloudhook of a removed entry's webhook, when Cloud has one."""
    webhook_id = entry.options.get(CONF_WEBHOOK_ID)
    if not webhook_id or (cloud := _cloud(hass)) is None:
        return
    with contextlib.suppress(cloud.CloudNotAvailable, ValueError):
        await cloud.async_delete_cloudhook(hass, webhook_id)


class ThorPush:
    """Receives an account's notifications and keeps track of whether they arrive."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Prepare the receiver of an entry (registered by `async_setup`)."""
        self.hass = hass
        self.entry = entry
        self.enabled = push_enabled(entry)
        self.last_notification: datetime | None = None
        self.received = 0
        self.rejected = 0
        self._failing = False
        self._told: dict[_Key, datetime] = {}
        """Charges start or meter notifications mentioned, and when."""
        self._told_stopped: set[_Key] = set()
        self._untold: dict[_Key, datetime] = {}
        """What polling saw that no notification told yet, since when."""
        self._runtime: Callable[[], ThorRuntimeData] | None = None

    @property
    def healthy(self) -> bool:
        """Return whether notifications arrive: one came, and none was missed since."""
        return self.enabled and self.last_notification is not None and not self._failing

    @callback
    def async_setup(self, runtime: Callable[[], ThorRuntimeData]) -> None:
        """Register the webhook (when push is on)."""
        self._runtime = runtime
        if not self.enabled:
            return
        webhook_id: str = self.entry.options[CONF_WEBHOOK_ID]
        webhook.async_register(
            self.hass,
            DOMAIN,
            f"Thor {self.entry.title}",
            webhook_id,
            self._async_handle_webhook,
            allowed_methods=["POST"],
        )
        self.entry.async_on_unload(
            lambda: webhook.async_unregister(self.hass, webhook_id)
        )
        self.entry.async_on_unload(self._async_clear_issue)
        cloud = _cloud_api(self.hass)
        if cloud is not None and cloud.async_active_subscription(self.hass):
            # Logged in later, or again: the cloudhook Thor was given must exist.
            self.entry.async_on_unload(
                cloud.async_listen_connection_change(
                    self.hass, self._async_cloud_connection
                )
            )

    async def _async_cloud_connection(self, state: Any) -> None:
        """Make sure the cloudhook exists once Cloud is connected."""
        cloud = _cloud(self.hass)
        if cloud is not None and state is cloud.CloudConnectionState.CLOUD_CONNECTED:
            await cloud.async_get_or_create_cloudhook(
                self.hass, self.entry.options[CONF_WEBHOOK_ID]
            )

    # ------------------------------------------------------------- receiving

    async def _async_handle_webhook(
        self, hass: HomeAssistant, webhook_id: str, request: web.Request
    ) -> web.Response:
        """Answer Thor quickly: 200 for a notification, 400 for anything else."""
        if (
            request.content_length is not None
            and request.content_length > MAX_NOTIFICATION_BYTES
        ):
            self.rejected += 1
            return web.Response(status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        body = await request.content.read(MAX_NOTIFICATION_BYTES + 1)
        try:
            notification = parse_notification(body)
        except ThorNotificationError as err:
            self.rejected += 1
            # Never the body: it may hold id_tags.
            LOGGER.debug(
                "Ignoring an invalid notification for %s: %s", self.entry.title, err
            )
            return web.Response(status=HTTPStatus.BAD_REQUEST)
        self.handle(notification)
        return web.Response(status=HTTPStatus.OK)

    @callback
    def handle(self, notification: Notification) -> None:
        """Apply a notification to the chargebox it is about."""
        if self._runtime is None:
            return
        runtime = self._runtime()
        controller = runtime.controller_of(notification.chargebox)
        if controller is None:
            LOGGER.debug(
                "Ignoring a notification for a chargebox not configured in %s",
                self.entry.title,
            )
            return
        self.received += 1
        self.last_notification = dt_util.utcnow()
        if self._failing:
            LOGGER.info("Thor's notifications arrive again for %s", self.entry.title)
            self._failing = False
            self._async_clear_issue()
        coordinator = runtime.coordinator
        box, connector = notification.chargebox, notification.connector
        reading = coordinator.data.get(box) if coordinator.data else None
        current = None if reading is None else reading.charges.get(connector)
        if isinstance(notification, StartNotification):
            if not notification.accepted:
                controller.async_push_rejected(connector, start=True)
                return
            self._told[(box, connector, notification.transaction)] = dt_util.utcnow()
            if current is not None and current.id == notification.transaction:
                charge = current
            else:
                charge = RunningCharge(
                    id=notification.transaction,
                    chargebox=box,
                    connector=connector,
                    date_started=dt_util.utcnow(),
                    energy=0.0,
                    # Thor shows the id_tag of card starts only (§2.3c).
                    id_tag=notification.id_tag
                    if notification.mode == "local"
                    else None,
                    user=None,
                    type=notification.mode,
                    payment=None,
                )
            controller.async_push_started(
                connector, notification.id_tag, notification.transaction
            )
            coordinator.async_push_charge(box, connector, charge)
        elif isinstance(notification, StopNotification):
            if notification.rejected:
                controller.async_push_rejected(connector, start=False)
                return
            if notification.unlocked and not notification.accepted:
                return  # Only the connector was unlocked.
            key = (
                box,
                connector,
                notification.transaction
                if notification.transaction is not None or current is None
                else current.id,
            )
            self._told.setdefault(key, dt_util.utcnow())
            self._told_stopped.add(key)
            if (
                current is not None
                and notification.transaction is not None
                and current.id is not None
                and current.id != notification.transaction
            ):
                return  # A stop of an older charge, replayed late.
            coordinator.async_push_charge(box, connector, None)
        elif isinstance(notification, MetersNotification):
            if current is not None:
                self._told[(box, connector, current.id)] = dt_util.utcnow()
            if current is None:
                return  # A late meter value of a charge that ended: nothing to show.
            if notification.energy is not None and notification.energy >= (
                current.energy or 0.0
            ):
                coordinator.async_push_charge(
                    box, connector, replace(current, energy=notification.energy)
                )

    # --------------------------------------------------------------- health

    @callback
    def async_check(self) -> None:
        """After each reading: notice what polling saw and no notification told.

        A charge polling shows running that no start or meter notification mentioned,
        or a charge a notification announced that polling shows gone without a stop
        notification: past `PUSH_GRACE`, notifications are not arriving.
        """
        if not self.enabled or self._runtime is None:
            return
        runtime = self._runtime()
        data = runtime.coordinator.data
        now = dt_util.utcnow()
        running: set[_Key] = set()
        for controller in runtime.controllers.values():
            reading = None if data is None else data.get(controller.chargebox_id)
            if reading is None:
                continue
            for connector, charge in reading.charges.items():
                running.add((controller.chargebox_id, connector, charge.id))
        for key in running - self._told.keys():
            if now - self._untold.setdefault(key, now) >= PUSH_GRACE:
                self.async_missed("a charge polling sees running")
        for key in self._told.keys() - running - self._told_stopped:
            if key[2] is None:
                continue
            if now - self._untold.setdefault(key, now) >= PUSH_GRACE:
                self.async_missed("a charge polling sees ended")
        # Forget what neither side shows any more (a day at most).
        self._untold = {
            key: since
            for key, since in self._untold.items()
            if (key in running) != (key in self._told) and now - since < _FORGET
        }
        self._told = {k: t for k, t in self._told.items() if now - t < _FORGET}
        self._told_stopped &= self._told.keys()

    @callback
    def async_missed(self, what: str) -> None:
        """Notifications did not tell what polling saw: poll normally, raise the issue."""
        if not self.enabled or self._failing:
            return
        self._failing = True
        LOGGER.warning(
            "Thor's notifications are not arriving for %s (no notification for %s); "
            "polling at the normal pace again",
            self.entry.title,
            what,
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id(self.entry.entry_id, ISSUE_PUSH_NOT_ARRIVING),
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_PUSH_NOT_ARRIVING,
            translation_placeholders={"title": self.entry.title},
        )
        if self._runtime is not None:
            self.hass.async_create_task(
                self._runtime().coordinator.async_request_refresh()
            )

    @callback
    def _async_clear_issue(self) -> None:
        ir.async_delete_issue(
            self.hass, DOMAIN, issue_id(self.entry.entry_id, ISSUE_PUSH_NOT_ARRIVING)
        )
