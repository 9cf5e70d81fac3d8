"""Constants of the Thor integration."""

from collections.abc import Mapping
from datetime import timedelta
import logging
from typing import Any, Final
from urllib.parse import urlsplit

from .thor_api import DEVELOPMENT_BASE_URL, PRODUCTION_BASE_URL

DOMAIN: Final = "thor"
LOGGER = logging.getLogger(__package__)

CONF_CHARGEBOX_ID: Final = "chargebox_id"
"""Chargebox id in a chargebox subentry's data (and, before version 2, an entry's)."""
CONF_CHARGEBOX_IDS: Final = "chargebox_ids"
"""The chargeboxes picked in the config flow's multi-select."""
SUBENTRY_TYPE_CHARGEBOX: Final = "chargebox"
"""Each chargebox of an account entry is a config subentry of this type."""
CONF_PUSH: Final = "push"
"""Option: receive Thor's notifications through a webhook."""
CONF_ENVIRONMENT: Final = "environment"
CONF_BASE_URL: Final = "base_url"
"""Custom API base URL (advanced); when set it wins over the environment."""

ENVIRONMENT_PRODUCTION: Final = "production"
ENVIRONMENT_DEVELOPMENT: Final = "development"
ENVIRONMENTS: Final = {
    ENVIRONMENT_PRODUCTION: PRODUCTION_BASE_URL,
    ENVIRONMENT_DEVELOPMENT: DEVELOPMENT_BASE_URL,
}

THOR_URL: Final = "https://thor.tools"
"""Thor's site, each device's configuration URL: the address of the operators'
dashboard itself is not documented (develop.thor.tools only names it)."""
DASHBOARD_HELP_URL: Final = (
    "https://develop.thor.tools/api/getting-started/dashboard-configuration"
)
"""Thor's page on the dashboard settings the repair issues ask to change."""

SCAN_INTERVAL_IDLE: Final = timedelta(seconds=60)
SCAN_INTERVAL_CHARGING: Final = timedelta(seconds=30)


def base_url_from(data: Mapping[str, Any]) -> str:
    """Return the API base URL of a config entry's data.

    A custom URL wins over the environment; an unknown environment means production.
    """
    if base_url := data.get(CONF_BASE_URL):
        return str(base_url)
    return ENVIRONMENTS.get(
        data.get(CONF_ENVIRONMENT, ENVIRONMENT_PRODUCTION),
        ENVIRONMENTS[ENVIRONMENT_PRODUCTION],
    )


def account_title(data: Mapping[str, Any]) -> str:
    """Return the automatic title of an account entry: "Thor", plus where it is."""
    if base_url := data.get(CONF_BASE_URL):
        return f"Thor ({urlsplit(str(base_url)).hostname or base_url})"
    if data.get(CONF_ENVIRONMENT) == ENVIRONMENT_DEVELOPMENT:
        return "Thor (development)"
    return "Thor"
