"""The Thor integration: EV chargers managed by the Thor cloud (thor.tools)."""

from typing import Final

from homeassistant.const import CONF_API_KEY, Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType
from homeassistant.util.hass_dict import HassKey

from .charge_control import ThorChargeController, async_remove_storage
from .const import DOMAIN, base_url_from
from .coordinator import (
    ThorConfigEntry,
    ThorDataUpdateCoordinator,
    ThorRuntimeData,
    async_delete_issues,
)
from .services import async_setup_services
from .thor_api import (
    ThorBackoff,
    ThorClient,
    ThorInvalidApiKeyError,
    ThorInvalidBaseUrlError,
)

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)

BACKOFFS: Final[HassKey[dict[str, ThorBackoff]]] = HassKey(f"{DOMAIN}_backoffs")
"""Each entry's rate-limit back-off; it outlives setup retries and reloads."""


@callback
def async_get_backoff(hass: HomeAssistant, entry_id: str) -> ThorBackoff:
    """Return the back-off shared by everything a config entry sends to Thor."""
    return hass.data.setdefault(BACKOFFS, {}).setdefault(entry_id, ThorBackoff())


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the start and stop actions."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: ThorConfigEntry) -> bool:
    """Set up a Thor chargebox from a config entry."""
    try:
        client = ThorClient(
            session=async_get_clientsession(hass),
            api_key=entry.data[CONF_API_KEY],
            base_url=base_url_from(entry.data),
            backoff=async_get_backoff(hass, entry.entry_id),
        )
    except ThorInvalidApiKeyError as err:
        # Stored before the key was checked as it is today: ask for a valid one.
        raise ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="invalid_api_key"
        ) from err
    except ThorInvalidBaseUrlError as err:
        raise ConfigEntryError(
            translation_domain=DOMAIN, translation_key="invalid_base_url"
        ) from err
    coordinator = ThorDataUpdateCoordinator(hass, entry, client)
    await coordinator.async_config_entry_first_refresh()
    charge_control = ThorChargeController(hass, entry, coordinator)
    await charge_control.async_setup()
    entry.runtime_data = ThorRuntimeData(
        client=client, coordinator=coordinator, charge_control=charge_control
    )
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: ThorConfigEntry) -> bool:
    """Unload a config entry."""
    if unloaded := await hass.config_entries.async_unload_platforms(entry, PLATFORMS):
        # Nobody polls the chargebox any more, so nothing would clear them.
        async_delete_issues(hass, entry.entry_id)
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: ThorConfigEntry) -> None:
    """Remove the repair issues and the stored id_tags of a deleted config entry."""
    async_delete_issues(hass, entry.entry_id)
    hass.data.get(BACKOFFS, {}).pop(entry.entry_id, None)
    await async_remove_storage(hass, entry.entry_id)
