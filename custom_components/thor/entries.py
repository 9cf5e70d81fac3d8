"""What an account entry holds beyond one setup: its chargeboxes and its back-off.

An account entry (one Thor API key and base URL) has its chargeboxes as config
subentries: `chargebox_subentries` is the one way to list them. What must outlive a
reload or a setup retry (the rate-limit back-off Thor imposed) is kept here too.
"""

from typing import Final

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import HomeAssistant, callback
from homeassistant.util.hass_dict import HassKey

from .const import CONF_CHARGEBOX_ID, DOMAIN, SUBENTRY_TYPE_CHARGEBOX
from .thor_api import ThorBackoff

BACKOFFS: Final[HassKey[dict[str, ThorBackoff]]] = HassKey(f"{DOMAIN}_backoffs")
"""Each entry's rate-limit back-off; it outlives setup retries and reloads."""


@callback
def async_get_backoff(hass: HomeAssistant, entry_id: str) -> ThorBackoff:
    """Return the back-off shared by everything an account entry sends to Thor."""
    return hass.data.setdefault(BACKOFFS, {}).setdefault(entry_id, ThorBackoff())


@callback
def async_forget_backoff(hass: HomeAssistant, entry_id: str) -> None:
    """Drop the back-off of a removed entry."""
    hass.data.get(BACKOFFS, {}).pop(entry_id, None)


def chargebox_subentries(entry: ConfigEntry) -> dict[str, ConfigSubentry]:
    """Return the chargebox subentries of an account entry, by chargebox id."""
    return {
        subentry.data[CONF_CHARGEBOX_ID]: subentry
        for subentry in entry.get_subentries_of_type(SUBENTRY_TYPE_CHARGEBOX)
    }
