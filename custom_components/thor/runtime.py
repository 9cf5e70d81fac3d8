"""What a loaded Thor account entry holds.

Kept apart from the coordinator so that the coordinator depends on nothing that
sends commands.
"""

from dataclasses import dataclass, field
from typing import Any

from homeassistant.config_entries import ConfigEntry

from .charge_control import ThorChargeController
from .coordinator import ThorDataUpdateCoordinator
from .energy import ThorEnergyTracker
from .push import ThorPush
from .store import ThorChargeStore
from .thor_api import ThorClient


@dataclass(kw_only=True)
class ThorRuntimeData:
    """The client, the poller and the chargeboxes of one Thor account."""

    client: ThorClient
    coordinator: ThorDataUpdateCoordinator
    store: ThorChargeStore
    energy: ThorEnergyTracker
    push: ThorPush
    controllers: dict[str, ThorChargeController]
    """The command controller of each configured chargebox, by subentry id."""
    settings: dict[str, Any]
    """The entry data it was set up with: a change needs a reload."""
    options: dict[str, Any]
    """The entry options it was set up with (push): a change needs a reload."""

    by_chargebox: dict[str, ThorChargeController] = field(init=False)
    """The same controllers, by chargebox id."""

    def __post_init__(self) -> None:
        """Index the controllers by chargebox."""
        self.by_chargebox = {
            controller.chargebox_id: controller
            for controller in self.controllers.values()
        }

    def controller_of(self, chargebox_id: str) -> ThorChargeController | None:
        """Return the controller of a chargebox, None if it is not configured."""
        return self.by_chargebox.get(chargebox_id)


type ThorConfigEntry = ConfigEntry[ThorRuntimeData]
