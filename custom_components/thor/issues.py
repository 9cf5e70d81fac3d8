"""The repair issues of an account entry.

What only the Thor dashboard can fix, and notifications that stopped arriving.
"""

from collections.abc import Callable, Collection
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import DASHBOARD_HELP_URL, DOMAIN
from .errors import ACCOUNT_ISSUE_KEYS, CHARGEBOX_ISSUE_KEYS

ISSUE_PUSH_NOT_ARRIVING: Final = "push_not_arriving"


def issue_id(entry_id: str, key: str, chargebox_id: str | None = None) -> str:
    """Return the id of a repair issue of an account entry or of one of its boxes."""
    if chargebox_id is None:
        return f"{key}_{entry_id}"
    return f"{key}_{entry_id}_{chargebox_id}"


@callback
def async_delete_issues(
    hass: HomeAssistant, entry_id: str, chargebox_ids: Collection[str] = ()
) -> None:
    """Remove the repair issues of an account entry and of the given chargeboxes."""
    for key in (*ACCOUNT_ISSUE_KEYS, ISSUE_PUSH_NOT_ARRIVING):
        ir.async_delete_issue(hass, DOMAIN, issue_id(entry_id, key))
    for chargebox_id in chargebox_ids:
        for key in CHARGEBOX_ISSUE_KEYS:
            ir.async_delete_issue(hass, DOMAIN, issue_id(entry_id, key, chargebox_id))


class ThorIssues:
    """Shows at most one dashboard repair issue for the account and for each box."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        chargebox_ids: Collection[str],
        name_of: Callable[[str], str],
    ) -> None:
        """Prepare the issues of an entry; `name_of` names a chargebox."""
        self._hass = hass
        self._entry = entry
        self._name_of = name_of
        # Not keys: the first poll clears issues left by an earlier setup attempt.
        self._shown: dict[str | None, str | None] = dict.fromkeys(
            [None, *chargebox_ids], ""
        )

    @callback
    def async_set(self, chargebox_id: str | None, key: str | None) -> None:
        """Show the repair issue `key` (None for none) of the account or of a box."""
        if key == self._shown.get(chargebox_id):
            return
        self._shown[chargebox_id] = key
        entry_id = self._entry.entry_id
        keys = ACCOUNT_ISSUE_KEYS if chargebox_id is None else CHARGEBOX_ISSUE_KEYS
        for other in keys:
            if other != key:
                ir.async_delete_issue(
                    self._hass, DOMAIN, issue_id(entry_id, other, chargebox_id)
                )
        if key is None:
            return
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            issue_id(entry_id, key, chargebox_id),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key=key,
            translation_placeholders={
                "title": self._entry.title
                if chargebox_id is None
                else self._name_of(chargebox_id),
                "chargebox_id": chargebox_id or "",
            },
            learn_more_url=DASHBOARD_HELP_URL,
        )

    @callback
    def async_set_push_failing(self, failing: bool) -> None:
        """Show or clear the issue saying Thor's notifications do not arrive."""
        push_issue = issue_id(self._entry.entry_id, ISSUE_PUSH_NOT_ARRIVING)
        if not failing:
            ir.async_delete_issue(self._hass, DOMAIN, push_issue)
            return
        ir.async_create_issue(
            self._hass,
            DOMAIN,
            push_issue,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key=ISSUE_PUSH_NOT_ARRIVING,
            translation_placeholders={"title": self._entry.title},
        )
