"""Data update coordinator of the Thor integration."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Final, override

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .charge_control import ThorChargeController
from .const import (
    CONF_CHARGEBOX_ID,
    DOMAIN,
    LOGGER,
    SCAN_INTERVAL_CHARGING,
    SCAN_INTERVAL_IDLE,
)
from .errors import ISSUE_KEYS, FailureKind, classify
from .thor_api import (
    Chargebox,
    Connector,
    RunningCharge,
    ThorClient,
    ThorError,
)

DASHBOARD_HELP_URL: Final = (
    "https://develop.thor.tools/api/getting-started/dashboard-configuration"
)


@dataclass(kw_only=True)
class ThorRuntimeData:
    """What a loaded config entry holds."""

    client: ThorClient
    coordinator: ThorDataUpdateCoordinator
    charge_control: ThorChargeController


type ThorConfigEntry = ConfigEntry[ThorRuntimeData]


@dataclass(frozen=True, kw_only=True)
class ThorData:
    """One poll of a chargebox: the box and its running charges by connector."""

    chargebox: Chargebox
    charges: dict[int, RunningCharge]

    def connector(self, number: int) -> Connector | None:
        """Return the connector with that number, None if the box has none such."""
        return next(
            (
                connector
                for connector in self.chargebox.connectors
                if connector.number == number
            ),
            None,
        )

    def is_occupied(self, number: int) -> bool:
        """Return whether a transaction runs on the connector."""
        return number in self.chargebox.occupied_connectors or number in self.charges

    @property
    def any_occupied(self) -> bool:
        """Return whether a transaction runs on any connector."""
        return bool(self.chargebox.occupied_connectors or self.charges)


def issue_id(entry_id: str, key: str) -> str:
    """Return the id of a repair issue of a config entry."""
    return f"{key}_{entry_id}"


@callback
def async_delete_issues(hass: HomeAssistant, entry_id: str) -> None:
    """Remove every repair issue of a config entry."""
    for key in ISSUE_KEYS:
        ir.async_delete_issue(hass, DOMAIN, issue_id(entry_id, key))


class ThorDataUpdateCoordinator(DataUpdateCoordinator[ThorData]):
    """Polls one chargebox and its running charges."""

    config_entry: ThorConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: ThorConfigEntry, client: ThorClient
    ) -> None:
        """Initialize the coordinator."""
        self.client = client
        self.chargebox_id: str = entry.data[CONF_CHARGEBOX_ID]
        # Not a key: the first poll clears issues left by an earlier setup attempt.
        self._issue: str | None = ""
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"Thor {self.chargebox_id}",
            update_interval=SCAN_INTERVAL_IDLE,
            # Listeners hear of every reading: the charge controller counts readings
            # before it forgets an id_tag. Entities write only what changed.
            always_update=True,
        )

    @override
    async def _async_update_data(self) -> ThorData:
        """Read the chargebox and its running charges."""
        if (
            (wait := self.client.backoff.remaining()) > 0
            and self.data is not None
            and self.last_update_success
        ):
            # A throttled command asked Thor for silence, not a poll: keep showing
            # the last reading and read again once the wait is over.
            self.update_interval = timedelta(seconds=wait)
            return self.data
        try:
            chargebox = await self.client.get_chargebox(self.chargebox_id)
            charges = await self.client.running_charges(self.chargebox_id)
        except ThorError as err:
            raise self._failure(err) from err

        data = ThorData(
            chargebox=chargebox,
            charges={
                charge.connector: charge
                for charge in charges
                if charge.chargebox == self.chargebox_id
            },
        )
        # Thor may still answer for a box switched off in the dashboard; starting a
        # charge on it would fail, so the repair shows up all the same.
        self._async_set_issue(
            "chargebox_not_active" if chargebox.active is False else None
        )
        self.update_interval = self._interval_for(data)
        return data

    def _interval_for(self, data: ThorData) -> timedelta:
        """Return how long to wait before the next poll."""
        return SCAN_INTERVAL_CHARGING if data.any_occupied else SCAN_INTERVAL_IDLE

    def _failure(self, err: ThorError) -> Exception:
        """Return the Home Assistant exception for a failed poll."""
        failure = classify(err)
        self._async_set_issue(failure.issue)
        placeholders = {
            "chargebox": self.chargebox_name,
            "chargebox_id": self.chargebox_id,
            **failure.placeholders,
        }
        if failure.kind is FailureKind.AUTH:
            return ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key=failure.key,
                translation_placeholders=placeholders,
            )
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key=failure.key,
            translation_placeholders=placeholders,
            retry_after=failure.retry_after,
        )

    @property
    def chargebox_name(self) -> str:
        """Return the chargebox's name as last read, else the entry's title."""
        # None until the first poll succeeded, whatever the type says.
        data: ThorData | None = self.data
        return self.config_entry.title if data is None else data.chargebox.name

    @callback
    def _async_set_issue(self, key: str | None) -> None:
        """Show the repair issue `key` (None for none) and remove the others."""
        if key == self._issue:
            return
        self._issue = key
        entry_id = self.config_entry.entry_id
        for other in ISSUE_KEYS:
            if other != key:
                ir.async_delete_issue(self.hass, DOMAIN, issue_id(entry_id, other))
        if key is None:
            return
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            issue_id(entry_id, key),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=key,
            translation_placeholders={
                "title": self.config_entry.title,
                "chargebox_id": self.chargebox_id,
            },
            learn_more_url=DASHBOARD_HELP_URL,
        )
