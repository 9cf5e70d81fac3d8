"""The Thor integration: EV chargers managed by the Thor cloud (thor.tools)."""

from homeassistant.const import CONF_API_KEY, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.typing import ConfigType

from .charge_control import ThorChargeController, async_remove_storage
from .const import DOMAIN, base_url_from
from .coordinator import (
    ThorConfigEntry,
    ThorDataUpdateCoordinator,
    ThorRuntimeData,
    async_delete_issues,
)
from .services import async_setup_services
from .thor_api import ThorClient

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the start and stop actions."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: ThorConfigEntry) -> bool:
    """Set up a Thor chargebox from a config entry."""
    client = ThorClient(
        session=async_get_clientsession(hass),
        api_key=entry.data[CONF_API_KEY],
        base_url=base_url_from(entry.data),
    )
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
    await async_remove_storage(hass, entry.entry_id)
