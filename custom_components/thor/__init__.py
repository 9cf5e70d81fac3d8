"""The Thor integration: EV chargers managed by the Thor cloud (thor.tools)."""

from homeassistant.const import CONF_API_KEY, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .const import base_url_from
from .coordinator import (
    ThorConfigEntry,
    ThorDataUpdateCoordinator,
    ThorRuntimeData,
    async_delete_issues,
)
from .thor_api import ThorClient

PLATFORMS: list[Platform] = [Platform.BINARY_SENSOR, Platform.SENSOR]


async def async_setup_entry(hass: HomeAssistant, entry: ThorConfigEntry) -> bool:
    """Set up a Thor chargebox from a config entry."""
    client = ThorClient(
        session=async_get_clientsession(hass),
        api_key=entry.data[CONF_API_KEY],
        base_url=base_url_from(entry.data),
    )
    coordinator = ThorDataUpdateCoordinator(hass, entry, client)
    await coordinator.async_config_entry_first_refresh()
    entry.runtime_data = ThorRuntimeData(client=client, coordinator=coordinator)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_entry(hass: HomeAssistant, entry: ThorConfigEntry) -> bool:
    """Unload a config entry."""
    if unloaded := await hass.config_entries.async_unload_platforms(entry, PLATFORMS):
        # Nobody polls the chargebox any more, so nothing would clear them.
        async_delete_issues(hass, entry.entry_id)
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: ThorConfigEntry) -> None:
    """Remove the repair issues of a deleted config entry."""
    async_delete_issues(hass, entry.entry_id)
