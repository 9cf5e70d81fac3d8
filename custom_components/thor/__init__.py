"""The Thor integration: EV chargers managed by the Thor cloud (thor.tools).

One config entry per Thor account (its API key); each chargebox is a subentry with its
own device. Entries of version 1 (one per chargebox) are folded into account entries
when the integration starts, keeping every id.
"""

from types import MappingProxyType

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryError
from homeassistant.helpers import (
    config_validation as cv,
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.typing import ConfigType

from .blueprint_install import async_install_blueprints
from .const import (
    CONF_CHARGEBOX_ID,
    DOMAIN,
    LOGGER,
    SUBENTRY_TYPE_CHARGEBOX,
    account_title,
)
from .coordinator import ThorDataUpdateCoordinator
from .energy import ThorEnergyTracker, async_remove_energy
from .entries import (
    account_identity,
    async_client,
    async_forget_account,
    async_get_account,
    async_get_backoff,
    chargebox_subentries,
)
from .errors import ISSUE_KEYS
from .issues import async_delete_issues, issue_id
from .push import ThorPush, async_delete_cloudhook, push_enabled
from .runtime import ThorConfigEntry, ThorRuntimeData
from .services import async_setup_services
from .store import ThorChargeStore
from .thor_api import (
    ThorInvalidApiKeyError,
    ThorInvalidBaseUrlError,
)

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.EVENT,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Fold entries of the one-entry-per-chargebox layout; register the actions.

    Also install the solar-surplus blueprint, so it is offered without an import.
    """
    await async_migrate_entries(hass)
    async_setup_services(hass)
    await async_install_blueprints(hass)
    return True


async def async_migrate_entries(hass: HomeAssistant) -> None:
    """Turn every version-1 entry into a chargebox of the account entry of its key.

    The first entry of an account (enabled ones first) becomes the account entry; the
    devices, entities and stored id_tags of the others move to it, with the same ids,
    before those entries are removed.
    """
    entries = sorted(
        hass.config_entries.async_entries(DOMAIN),
        key=lambda entry: (entry.version == 1, entry.disabled_by is not None),
    )
    if not any(entry.version == 1 for entry in entries):
        return
    device_registry = dr.async_get(hass)
    entity_registry = er.async_get(hass)
    accounts: dict[tuple[str, str], ConfigEntry] = {}
    for entry in entries:
        account = account_identity(entry.data)
        if entry.version != 1:
            accounts.setdefault(account, entry)
            continue
        parent = accounts.setdefault(account, entry)
        all_disabled = all(
            other.disabled_by is not None
            for other in entries
            if account_identity(other.data) == account
        )
        chargebox_id: str = entry.data[CONF_CHARGEBOX_ID]
        subentry = chargebox_subentries(parent).get(chargebox_id)
        if subentry is None:
            subentry = ConfigSubentry(
                data=MappingProxyType({CONF_CHARGEBOX_ID: chargebox_id}),
                subentry_type=SUBENTRY_TYPE_CHARGEBOX,
                title=entry.title,
                unique_id=chargebox_id,
            )
            hass.config_entries.async_add_subentry(parent, subentry)
        _move_registry_entries(
            device_registry,
            entity_registry,
            entry,
            parent,
            subentry,
            keep_disabled=all_disabled,
        )
        # Repairs are keyed by entry; the next poll raises them again if still true.
        for key in ISSUE_KEYS:
            ir.async_delete_issue(hass, DOMAIN, issue_id(entry.entry_id, key))
        if parent is entry:
            data = {
                key: value
                for key, value in entry.data.items()
                if key != CONF_CHARGEBOX_ID
            }
            hass.config_entries.async_update_entry(
                entry, data=data, title=account_title(data), version=2, unique_id=None
            )
            continue
        # The id_tags of charges started before the upgrade must still stop them.
        store = ThorChargeStore(hass, parent.entry_id)
        await store.async_load()
        moved = ThorChargeStore(hass, entry.entry_id)
        await moved.async_load()
        store.adopt(moved)
        await store.async_save()
        await moved.async_remove()
        await hass.config_entries.async_remove(entry.entry_id)
    LOGGER.info("Thor entries moved to one entry per Thor account")


def _move_registry_entries(
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    entry: ConfigEntry,
    parent: ConfigEntry,
    subentry: ConfigSubentry,
    *,
    keep_disabled: bool,
) -> None:
    """Move a version-1 entry's device and entities to a chargebox subentry."""
    device = device_registry.async_get_device_by_identifier(
        (DOMAIN, entry.data[CONF_CHARGEBOX_ID]), entry.entry_id
    )
    for entity in er.async_entries_for_config_entry(entity_registry, entry.entry_id):
        disabled_by = entity.disabled_by
        if disabled_by is er.RegistryEntryDisabler.CONFIG_ENTRY and not keep_disabled:
            # The registries keep "disabled with its entry" when an entity changes
            # entry: the account entry is enabled, so say who disabled it instead.
            disabled_by = (
                er.RegistryEntryDisabler.DEVICE
                if device is not None
                else er.RegistryEntryDisabler.USER
            )
        entity_registry.async_update_entity(
            entity.entity_id,
            config_entry_id=parent.entry_id,
            config_subentry_id=subentry.subentry_id,
            disabled_by=disabled_by,
        )
    if device is None:
        return
    device_disabled_by = device.disabled_by
    if device_disabled_by is dr.DeviceEntryDisabler.CONFIG_ENTRY and not keep_disabled:
        device_disabled_by = dr.DeviceEntryDisabler.USER
    device_registry.async_update_device(
        device.id,
        disabled_by=device_disabled_by,
        new_config_entry_id=parent.entry_id,
        new_config_subentry_id=subentry.subentry_id,
    )


async def async_setup_entry(hass: HomeAssistant, entry: ThorConfigEntry) -> bool:
    """Set up a Thor account and its chargeboxes."""
    try:
        client = async_client(
            hass, entry.data, backoff=async_get_backoff(hass, entry.entry_id)
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
    chargeboxes = chargebox_subentries(entry)
    account = await async_get_account(hass, entry.entry_id)
    store = account.store
    # A deleted chargebox subentry takes its stored id_tags with it.
    if store.forget(store.chargeboxes - chargeboxes.keys()):
        await store.async_save()
    coordinator = ThorDataUpdateCoordinator(
        hass,
        entry,
        client,
        {
            chargebox_id: subentry.title
            for chargebox_id, subentry in chargeboxes.items()
        },
        push=push_enabled(entry),
    )
    controllers = account.async_controllers(hass, set(chargeboxes))
    for controller in controllers.values():
        # Before the first poll: stored id_tags make it read the running charges.
        controller.attach(entry, coordinator, client)
    energy = ThorEnergyTracker(hass, entry, coordinator=coordinator, client=client)
    await energy.async_load()
    # Before the entities: the meters count a reading before the sensors show it.
    energy.async_setup()
    await coordinator.async_config_entry_first_refresh()
    energy.async_start()
    push = ThorPush(hass, entry, coordinator.async_apply_notification)
    entry.runtime_data = ThorRuntimeData(
        client=client,
        coordinator=coordinator,
        store=store,
        energy=energy,
        push=push,
        controllers={
            subentry.subentry_id: controllers[chargebox_id]
            for chargebox_id, subentry in chargeboxes.items()
        },
        settings=dict(entry.data),
        options=dict(entry.options),
    )
    push.async_setup()
    entry.async_on_unload(entry.add_update_listener(_async_update_listener))
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    # A chargebox added or removed while this setup ran (a quick series of "Add
    # chargebox") had no listener to hear it: reload for it now.
    await _async_update_listener(hass, entry)
    return True


async def _async_update_listener(hass: HomeAssistant, entry: ThorConfigEntry) -> None:
    """Reload the entry when its settings or its chargeboxes changed (not its title)."""
    runtime = entry.runtime_data
    configured = {
        controller.chargebox_id for controller in runtime.controllers.values()
    }
    if (
        runtime.settings != entry.data
        or runtime.options != entry.options
        or configured != chargebox_subentries(entry).keys()
    ):
        hass.config_entries.async_schedule_reload(entry.entry_id)


async def async_unload_entry(hass: HomeAssistant, entry: ThorConfigEntry) -> bool:
    """Unload a config entry."""
    if unloaded := await hass.config_entries.async_unload_platforms(entry, PLATFORMS):
        # Nobody polls the account any more, so nothing would clear them; this
        # also removes those of a chargebox whose subentry was just deleted.
        async_delete_issues(
            hass, entry.entry_id, entry.runtime_data.coordinator.chargeboxes
        )
    return unloaded


async def async_remove_entry(hass: HomeAssistant, entry: ThorConfigEntry) -> None:
    """Remove the repair issues and the stored id_tags of a deleted config entry."""
    async_delete_issues(hass, entry.entry_id, chargebox_subentries(entry))
    async_forget_account(hass, entry.entry_id)
    await ThorChargeStore(hass, entry.entry_id).async_remove()
    await async_remove_energy(hass, entry.entry_id)
    await async_delete_cloudhook(hass, entry)
