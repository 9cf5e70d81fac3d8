"""Config flow of the Thor integration: API key, environment, chargebox."""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, override

from homeassistant.config_entries import ConfigFlow, ConfigFlowResult
from homeassistant.const import CONF_API_KEY
from homeassistant.data_entry_flow import section
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TextSelector,
    TextSelectorConfig,
    TextSelectorType,
)

from .const import (
    CONF_BASE_URL,
    CONF_CHARGEBOX_ID,
    CONF_ENVIRONMENT,
    DOMAIN,
    ENVIRONMENT_PRODUCTION,
    ENVIRONMENTS,
    LOGGER,
    base_url_from,
)
from .errors import FailureKind, ThorFailure, classify
from .thor_api import (
    Chargebox,
    ThorClient,
    ThorError,
    ThorInsecureBaseUrlError,
    ThorInvalidApiKeyError,
    ThorInvalidBaseUrlError,
    check_api_key,
    normalize_base_url,
)

if TYPE_CHECKING:
    # Home Assistant 2026.10 aliases voluptuous to probatio; type-check against it.
    import probatio as vol
else:
    import voluptuous as vol

SECTION_ADVANCED: Final = "advanced"

# How the form shows each kind of failure; the others show the failure's own key.
_FORM_ERRORS: Final = {
    FailureKind.AUTH: "invalid_auth",
    # The user can only try again later.
    FailureKind.TRANSIENT: "cannot_connect",
    FailureKind.RATE_LIMIT: "cannot_connect",
}
# Failures that make the chargebox list useless; after others the id is asked for.
_ACCOUNT_KINDS: Final = frozenset(
    {FailureKind.AUTH, FailureKind.TRANSIENT, FailureKind.RATE_LIMIT}
)
_ACCOUNT_KEYS: Final = frozenset({"rest_api_disabled", "source_ip_refused"})

_API_KEY_SELECTOR: Final = TextSelector(
    TextSelectorConfig(type=TextSelectorType.PASSWORD, autocomplete="off")
)
_ENVIRONMENT_SELECTOR: Final = SelectSelector(
    SelectSelectorConfig(
        options=list(ENVIRONMENTS),
        mode=SelectSelectorMode.LIST,
        translation_key=CONF_ENVIRONMENT,
    )
)
_BASE_URL_SELECTOR: Final = TextSelector(
    TextSelectorConfig(type=TextSelectorType.URL, autocomplete="off")
)


def _chargebox_label(chargebox: Chargebox) -> str:
    """Return the dropdown label of a chargebox: "Alias (id)", or the id alone."""
    if chargebox.alias and chargebox.alias != chargebox.id:
        return f"{chargebox.alias} ({chargebox.id})"
    return chargebox.id


def _form_error(failure: ThorFailure) -> str:
    """Return the form error that shows a failure."""
    if (key := _FORM_ERRORS.get(failure.kind)) is not None:
        return key
    if failure.kind is FailureKind.REFUSAL and failure.key != "access_denied":
        # The form only reads: a refusal meant for a command is just a refusal here.
        return "request_failed"
    return failure.key


def _api_key_from(value: str, errors: dict[str, str]) -> str:
    """Return the typed API key, or add why it cannot be sent to `errors`."""
    try:
        return check_api_key(value)
    except ThorInvalidApiKeyError:
        # Checked before any request: aiohttp refuses line breaks in a header.
        errors[CONF_API_KEY] = "empty" if not value.strip() else "invalid_api_key"
        return value


def _settings_schema(*, collapsed: bool = True) -> vol.Schema:
    """Return the schema of the API key, the environment and the advanced section."""
    return vol.Schema(
        {
            vol.Required(CONF_API_KEY): _API_KEY_SELECTOR,
            vol.Required(
                CONF_ENVIRONMENT, default=ENVIRONMENT_PRODUCTION
            ): _ENVIRONMENT_SELECTOR,
            vol.Required(SECTION_ADVANCED): section(
                vol.Schema({vol.Optional(CONF_BASE_URL): _BASE_URL_SELECTOR}),
                {"collapsed": collapsed},
            ),
        }
    )


def _settings_from_input(
    user_input: Mapping[str, Any],
) -> tuple[dict[str, str], dict[str, str]]:
    """Return the entry data typed in the settings form, and the form errors."""
    errors: dict[str, str] = {}
    data = {
        CONF_API_KEY: _api_key_from(user_input[CONF_API_KEY], errors),
        CONF_ENVIRONMENT: user_input[CONF_ENVIRONMENT],
    }
    base_url = user_input.get(SECTION_ADVANCED, {}).get(CONF_BASE_URL, "").strip()
    if base_url:
        try:
            data[CONF_BASE_URL] = normalize_base_url(base_url)
        except ThorInvalidBaseUrlError as err:
            # Shown above the section: the frontend has no per-field errors inside it.
            errors[SECTION_ADVANCED] = (
                "insecure_url"
                if isinstance(err, ThorInsecureBaseUrlError)
                else "invalid_url"
            )
    return data, errors


def _entry_settings(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return the settings form's values for entry data, without the API key."""
    # Never send the stored API key back to the browser.
    return {
        CONF_ENVIRONMENT: data[CONF_ENVIRONMENT],
        SECTION_ADVANCED: {CONF_BASE_URL: data.get(CONF_BASE_URL, "")},
    }


class ThorConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a Thor chargebox: account settings first, then the chargebox."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with no account settings."""
        self._settings: dict[str, str] = {}
        self._chargeboxes: list[Chargebox] = []

    def _client(self, settings: Mapping[str, Any]) -> ThorClient:
        """Return a client on Home Assistant's shared session."""
        return ThorClient(
            session=async_get_clientsession(self.hass),
            api_key=settings[CONF_API_KEY],
            base_url=base_url_from(settings),
        )

    async def _read_chargebox(
        self,
        settings: Mapping[str, Any],
        chargebox_id: str,
        *,
        not_found: str = "chargebox_not_found",
    ) -> tuple[Chargebox | None, dict[str, str]]:
        """Read one chargebox; return it, or the form errors."""
        try:
            chargebox = await self._client(settings).get_chargebox(chargebox_id)
        except ThorError as err:
            key = _form_error(classify(err))
            LOGGER.debug("Reading Thor chargebox failed: %s", err)
            return None, {"base": not_found if key == "chargebox_not_found" else key}
        except Exception:  # noqa: BLE001 - shown as "unknown", and logged
            LOGGER.exception("Unexpected error reading the Thor chargebox")
            return None, {"base": "unknown"}
        return chargebox, {}

    @override
    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the API key and the environment; list the account's chargeboxes."""
        errors: dict[str, str] = {}
        if user_input is not None:
            settings, errors = _settings_from_input(user_input)
            if not errors:
                errors = await self._list_chargeboxes(settings)
            if not errors:
                self._settings = settings
                if self._chargeboxes:
                    return await self.async_step_chargebox()
                return await self.async_step_chargebox_manual()
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(
                _settings_schema(), user_input
            ),
            errors=errors,
        )

    async def _list_chargeboxes(self, settings: Mapping[str, Any]) -> dict[str, str]:
        """Check the settings by listing the chargeboxes; return the form errors.

        A list that cannot be read for another reason than the account's is left
        empty: the next step then asks for the chargebox id.
        """
        self._chargeboxes = []
        try:
            self._chargeboxes = await self._client(settings).list_chargeboxes()
        except ThorError as err:
            failure = classify(err)
            if failure.kind in _ACCOUNT_KINDS or failure.key in _ACCOUNT_KEYS:
                return {"base": _form_error(failure)}
            LOGGER.debug("Chargebox list not available, asking for the id: %s", err)
        except Exception:  # noqa: BLE001 - shown as "unknown", and logged
            LOGGER.exception("Unexpected error listing the Thor chargeboxes")
            return {"base": "unknown"}
        return {}

    async def async_step_chargebox(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Pick the chargebox from the account's list."""
        errors: dict[str, str] = {}
        if user_input is not None:
            result, errors = await self._create_entry(user_input[CONF_CHARGEBOX_ID])
            if result is not None:
                return result
        options = [
            SelectOptionDict(value=chargebox.id, label=_chargebox_label(chargebox))
            for chargebox in self._chargeboxes
        ]
        return self.async_show_form(
            step_id="chargebox",
            data_schema=vol.Schema(
                {
                    vol.Required(
                        CONF_CHARGEBOX_ID, default=self._chargeboxes[0].id
                    ): SelectSelector(
                        SelectSelectorConfig(
                            options=options, mode=SelectSelectorMode.DROPDOWN
                        )
                    )
                }
            ),
            errors=errors,
        )

    async def async_step_chargebox_manual(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the chargebox id when the account's list is empty or unreadable."""
        errors: dict[str, str] = {}
        if user_input is not None:
            result, errors = await self._create_entry(user_input[CONF_CHARGEBOX_ID])
            if result is not None:
                return result
        return self.async_show_form(
            step_id="chargebox_manual",
            data_schema=self.add_suggested_values_to_schema(
                vol.Schema(
                    {
                        vol.Required(CONF_CHARGEBOX_ID): TextSelector(
                            TextSelectorConfig(autocomplete="off")
                        )
                    }
                ),
                user_input,
            ),
            errors=errors,
        )

    async def _create_entry(
        self, chargebox_id: str
    ) -> tuple[ConfigFlowResult | None, dict[str, str]]:
        """Read the chosen chargebox and create its entry; else return the errors."""
        if not (chargebox_id := chargebox_id.strip()):
            return None, {CONF_CHARGEBOX_ID: "empty"}
        chargebox, errors = await self._read_chargebox(self._settings, chargebox_id)
        if chargebox is None:
            return None, errors
        await self.async_set_unique_id(chargebox.id)
        self._abort_if_unique_id_configured()
        return (
            self.async_create_entry(
                title=chargebox.name,
                data={**self._settings, CONF_CHARGEBOX_ID: chargebox.id},
            ),
            {},
        )

    async def async_step_reauth(
        self, entry_data: Mapping[str, Any]
    ) -> ConfigFlowResult:
        """Thor refused the API key: ask for the new one."""
        return await self.async_step_reauth_confirm()

    async def async_step_reauth_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Check that the new API key reads the same chargebox, then reload."""
        entry = self._get_reauth_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            settings = {
                **entry.data,
                CONF_API_KEY: _api_key_from(user_input[CONF_API_KEY], errors),
            }
            if not errors:
                errors = await self._check_same_chargebox(
                    settings, entry.data[CONF_CHARGEBOX_ID]
                )
            if not errors:
                return self.async_update_reload_and_abort(entry, data=settings)
        return self.async_show_form(
            step_id="reauth_confirm",
            data_schema=vol.Schema({vol.Required(CONF_API_KEY): _API_KEY_SELECTOR}),
            description_placeholders={
                "name": entry.title,
                "chargebox_id": entry.data[CONF_CHARGEBOX_ID],
            },
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the API key, the environment or the custom base URL."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            settings, errors = _settings_from_input(user_input)
            if not errors:
                errors = await self._check_same_chargebox(
                    settings, entry.data[CONF_CHARGEBOX_ID]
                )
            if not errors:
                return self.async_update_reload_and_abort(
                    entry,
                    data={**settings, CONF_CHARGEBOX_ID: entry.data[CONF_CHARGEBOX_ID]},
                )
        suggested = user_input or _entry_settings(entry.data)
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                _settings_schema(collapsed=CONF_BASE_URL not in entry.data), suggested
            ),
            description_placeholders={
                "name": entry.title,
                "chargebox_id": entry.data[CONF_CHARGEBOX_ID],
            },
            errors=errors,
        )

    async def _check_same_chargebox(
        self, settings: Mapping[str, Any], chargebox_id: str
    ) -> dict[str, str]:
        """Check that the settings read the entry's chargebox; return the errors.

        A key of another account does not find the chargebox: that would point the
        entry at something else, so it is refused.
        """
        chargebox, errors = await self._read_chargebox(
            settings, chargebox_id, not_found="wrong_chargebox"
        )
        if chargebox is not None:
            await self.async_set_unique_id(chargebox.id, raise_on_progress=False)
            self._abort_if_unique_id_mismatch(reason="wrong_chargebox")
        return errors
