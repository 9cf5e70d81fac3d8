"""What an account entry holds beyond one setup, and its chargeboxes.

An account entry (one Thor API key and base URL) has its chargeboxes as config
subentries: `chargebox_subentries` is the one way to list them. What must outlive a
reload or a setup retry is kept here, by entry id, until the entry is removed: the
rate-limit back-off Thor imposed, the stored id_tags (loaded once, so that a start
answered during a reload is kept), and each chargebox's command controller (so that
commands awaiting confirmation carry over; a removed chargebox's controller is
dropped, its timers stopped).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.const import CONF_API_KEY
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util.hass_dict import HassKey

from .charge_control import ThorChargeController
from .const import CONF_CHARGEBOX_ID, DOMAIN, SUBENTRY_TYPE_CHARGEBOX, base_url_from
from .store import ThorChargeStore
from .thor_api import ThorBackoff, ThorClient

BACKOFFS: Final[HassKey[dict[str, ThorBackoff]]] = HassKey(f"{DOMAIN}_backoffs")
"""Each entry's rate-limit back-off; it outlives setup retries and reloads."""


def account_identity(data: Mapping[str, Any]) -> tuple[str, str]:
    """Return what tells Thor accounts apart: the API key and the base URL."""
    return (data[CONF_API_KEY], base_url_from(data))


@callback
def async_client(
    hass: HomeAssistant,
    settings: Mapping[str, Any],
    *,
    backoff: ThorBackoff | None = None,
) -> ThorClient:
    """Return a client for an account's settings on Home Assistant's shared session.

    Without `backoff` the client has its own (no entry yet, or new settings).
    Raises the client's `ThorInvalidApiKeyError` or `ThorInvalidBaseUrlError`.
    """
    extra: dict[str, Any] = {} if backoff is None else {"backoff": backoff}
    return ThorClient(
        session=async_get_clientsession(hass),
        api_key=settings[CONF_API_KEY],
        base_url=base_url_from(settings),
        **extra,
    )


@callback
def async_get_backoff(hass: HomeAssistant, entry_id: str) -> ThorBackoff:
    """Return the back-off shared by everything an account entry sends to Thor."""
    return hass.data.setdefault(BACKOFFS, {}).setdefault(entry_id, ThorBackoff())


def chargebox_subentries(entry: ConfigEntry) -> dict[str, ConfigSubentry]:
    """Return the chargebox subentries of an account entry, by chargebox id."""
    return {
        subentry.data[CONF_CHARGEBOX_ID]: subentry
        for subentry in entry.get_subentries_of_type(SUBENTRY_TYPE_CHARGEBOX)
    }


@dataclass(kw_only=True)
class ThorAccount:
    """What an account entry keeps from one setup to the next."""

    store: ThorChargeStore
    controllers: dict[str, ThorChargeController] = field(default_factory=dict)
    """By chargebox id."""

    @callback
    def async_controllers(
        self, hass: HomeAssistant, chargebox_ids: set[str]
    ) -> dict[str, ThorChargeController]:
        """Return the controllers of the configured chargeboxes, new ones included.

        The controllers of chargeboxes no longer configured are detached and dropped
        (their id_tags go with their subentry, in `async_setup_entry`).
        """
        for chargebox_id in self.controllers.keys() - chargebox_ids:
            self.controllers.pop(chargebox_id).detach()
        for chargebox_id in chargebox_ids - self.controllers.keys():
            self.controllers[chargebox_id] = ThorChargeController(
                hass, store=self.store, chargebox_id=chargebox_id
            )
        return dict(self.controllers)


ACCOUNTS: Final[HassKey[dict[str, ThorAccount]]] = HassKey(f"{DOMAIN}_accounts")


async def async_get_account(hass: HomeAssistant, entry_id: str) -> ThorAccount:
    """Return what an account entry keeps across reloads (loaded the first time)."""
    accounts = hass.data.setdefault(ACCOUNTS, {})
    if (account := accounts.get(entry_id)) is None:
        store = ThorChargeStore(hass, entry_id)
        await store.async_load()
        # Another setup of the entry may have loaded it meanwhile.
        account = accounts.setdefault(entry_id, ThorAccount(store=store))
    return account


@callback
def async_forget_account(hass: HomeAssistant, entry_id: str) -> None:
    """Drop what a removed entry kept: its back-off and its controllers."""
    hass.data.get(BACKOFFS, {}).pop(entry_id, None)
    if (account := hass.data.get(ACCOUNTS, {}).pop(entry_id, None)) is not None:
        for controller in account.controllers.values():
            controller.detach()
