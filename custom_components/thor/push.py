"""Push: the webhook that receives Thor's start, stop and meter-value notifications.

Thor POSTs a notification to the address the operator enters in the Thor dashboard
(Development page: Start charge, Stop charge, Meter Values). Each account entry with
push switched on (its options) has a webhook with a random id kept in the entry; its
address is a Home Assistant Cloud cloudhook when Cloud is logged in, else the
instance's external URL.

The contract of this module: it receives requests, direct or through Cloud, and
hands each well-formed notification to one callback (the coordinator's
`async_apply_notification`), which decides what it means. It knows nothing of
entities, commands or energy. It answers 200 for a notification, 400 for a body it
cannot use, 405 for any method but POST, and never raises. The webhook id is the only
secret a notification carries (Thor documents no signature): it is never logged at
INFO or above (Home Assistant's webhook component logs the id of an unregistered or
wrongly called webhook, so the webhook stays registered, quietly, while push is off
and the id is kept), nor is a body; diagnostics redact it.
"""

from collections.abc import Callable
import contextlib
from http import HTTPStatus
from typing import Any

from aiohttp import web
from homeassistant.components import webhook
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_WEBHOOK_ID
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.network import NoURLAvailableError

from .const import CONF_PUSH, DOMAIN, LOGGER
from .thor_api import (
    MAX_NOTIFICATION_BYTES,
    Notification,
    ThorNotificationError,
    parse_notification,
)

_ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT")
"""Every method Home Assistant's webhook view routes: we answer them ourselves, so
that Home Assistant does not log the webhook id for the wrong one."""


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
    """Receives an account's notifications and hands them to `apply`."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        apply: Callable[[Notification], bool],
    ) -> None:
        """Prepare the receiver of an entry (registered by `async_setup`).

        `apply` takes a parsed notification and returns False when it concerns no
        chargebox of the entry.
        """
        self.hass = hass
        self.entry = entry
        self.enabled = push_enabled(entry)
        self.rejected = 0
        """Requests refused: not a notification, or for no chargebox here."""
        self._apply = apply

    @callback
    def async_setup(self) -> None:
        """Register the webhook: to receive (push on), or to stay quiet (push off)."""
        webhook_id: str | None = self.entry.options.get(CONF_WEBHOOK_ID)
        if not webhook_id:
            return
        webhook.async_register(
            self.hass,
            DOMAIN,
            f"Thor {self.entry.title}",
            webhook_id,
            self._async_handle_webhook if self.enabled else _async_quiet,
            allowed_methods=_ALLOWED_METHODS,
        )
        self.entry.async_on_unload(
            lambda: webhook.async_unregister(self.hass, webhook_id)
        )
        if not self.enabled:
            return
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

    async def _async_handle_webhook(
        self, hass: HomeAssistant, webhook_id: str, request: Any
    ) -> web.Response:
        """Answer Thor quickly; never raise (Home Assistant would log the id).

        `request` is aiohttp's request, or Home Assistant Cloud's `MockRequest` for a
        cloudhook: only `method` and `content.read` are common to both.
        """
        try:
            if request.method != "POST":
                return web.Response(status=HTTPStatus.METHOD_NOT_ALLOWED)
            body = await _read_body(request)
            if len(body) > MAX_NOTIFICATION_BYTES:
                self.rejected += 1
                return web.Response(status=HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            notification = parse_notification(body)
            if not self._apply(notification):
                self.rejected += 1
        except ThorNotificationError as err:
            self.rejected += 1
            # Never the body: it may hold id_tags.
            LOGGER.debug(
                "Ignoring an invalid notification for %s: %s", self.entry.title, err
            )
            return web.Response(status=HTTPStatus.BAD_REQUEST)
        except Exception as err:  # noqa: BLE001 - whatever happens, Thor gets an answer
            self.rejected += 1
            LOGGER.debug(
                "Could not process a notification for %s: %s",
                self.entry.title,
                type(err).__name__,
            )
            return web.Response(status=HTTPStatus.BAD_REQUEST)
        return web.Response(status=HTTPStatus.OK)


async def _read_body(request: Any) -> bytes:
    """Return the body, read up to one byte past the largest notification."""
    # Read from one reader: Cloud's request makes a new one at each `content`.
    content = request.content
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_NOTIFICATION_BYTES:
        chunk: bytes = await content.read(MAX_NOTIFICATION_BYTES + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


async def _async_quiet(
    hass: HomeAssistant, webhook_id: str, request: Any
) -> web.Response:
    """Answer a post to the kept webhook of an entry with push off: nothing to do."""
    LOGGER.debug("Ignoring a request to a Thor webhook while push is off")
    return web.Response(status=HTTPStatus.OK)
