"""Actions of the Thor integration: start and stop a charge."""

import math
from typing import TYPE_CHECKING, Any, Final

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import ATTR_CONFIG_ENTRY_ID, ATTR_DEVICE_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr

from .charge_control import ThorChargeController
from .const import DOMAIN, SUBENTRY_TYPE_CHARGEBOX
from .runtime import ThorConfigEntry

if TYPE_CHECKING:
    # Home Assistant 2026.10 aliases voluptuous to probatio; type-check against it.
    import probatio as vol
else:
    import voluptuous as vol

ATTR_CONNECTOR: Final = "connector"

SERVICE_START_CHARGE: Final = "start_charge"
SERVICE_STOP_CHARGE: Final = "stop_charge"

SERVICE_SCHEMA: Final = vol.Schema(
    {
        vol.Optional(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_DEVICE_ID): cv.string,
        # Checked by `_connector` so that a wrong value gets a translated message.
        vol.Optional(ATTR_CONNECTOR, default=1): cv.match_all,
    }
)


def _error(key: str, **placeholders: str) -> ServiceValidationError:
    """Build a translated error about the target of an action."""
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=key,
        translation_placeholders=placeholders,
    )


def _connector(value: Any) -> int:
    """Return the connector number of an action, refusing anything but a whole number.

    1, "1" and 2.0 are accepted; 1.5, "1.5", true and "one" are not (they used to be
    read as connector 1).
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    number: float | None = None
    if isinstance(value, float):
        number = value
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number) or not number.is_integer():
        raise _error("invalid_connector_value", value=str(value)[:50])
    return int(number)


def _loaded(entry: ThorConfigEntry) -> ThorConfigEntry:
    """Return the entry if it is loaded, else refuse the action."""
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
            if any(
                subentry.unique_id == chargebox_id
                for subentry in entry.get_subentries_of_type(SUBENTRY_TYPE_CHARGEBOX)
            )
        ),
        None,
    )


@callback
def _async_get_controller(call: ServiceCall) -> ThorChargeController:
    """Return the controller of the chargebox the action names."""
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
        return controller
    found: ThorConfigEntry | None = hass.config_entries.async_get_entry(str(entry_id))
    if found is None or found.domain != DOMAIN:
        raise _error("service_entry_not_found", entry_id=str(entry_id))
    controllers = list(_loaded(found).runtime_data.controllers.values())
    if len(controllers) != 1:
        # An account with several chargeboxes: the entry alone does not say which.
        raise _error(
            "service_entry_ambiguous", entry=found.title, count=str(len(controllers))
        )
    return controllers[0]


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the start and stop actions."""

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

    hass.services.async_register(
        DOMAIN,
        SERVICE_START_CHARGE,
        _async_start_charge,
        schema=SERVICE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_STOP_CHARGE,
        _async_stop_charge,
        schema=SERVICE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
